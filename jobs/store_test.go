package jobs

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/regions"
	_ "modernc.org/sqlite"
)

// newStore returns an empty migrated store on the backend of the suite's
// run: SQLite, or PostgreSQL inside TestStoreSuiteOnPostgres.
func newStore(t *testing.T) *Store {
	t.Helper()
	if onPostgres {
		return newPostgresStore(t)
	}
	return migrate(t, openFixture(t, ""))
}

// insertJob stores a job of n regions split in tasks of per regions.
func insertJob(t *testing.T, s *Store, id string, n, per int) *Job {
	t.Helper()
	var rs []regions.Fixed
	for i := range n {
		rs = append(rs, regions.Fixed{Name: string(rune('a' + i)), BBox: []float64{0, 0, 1, 1}})
	}
	j := &Job{ID: id, Dataset: "sst", Spec: Spec{Dataset: "sst", Regions: rs}, Created: s.Now()}
	var tasks []Task
	for i := 0; i < n; i += per {
		var idx []int
		for k := i; k < min(n, i+per); k++ {
			idx = append(idx, k)
		}
		tasks = append(tasks, Task{ID: len(tasks), Regions: idx, RiverID: int64(100 + len(tasks))})
	}
	err := s.InTx(context.Background(), func(tx *sql.Tx) error { return s.Insert(context.Background(), tx, j, tasks, "", "") })
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func mustGet(t *testing.T, s *Store, id string) *Job {
	t.Helper()
	j, err := s.get(context.Background(), s.db, id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestLifecycleSuccessful(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	insertJob(t, s, "j1", 3, 2)
	// Each committed transition is told, a refused one is not.
	var told []string
	s.Changed = func(id string) { told = append(told, id) }
	defer func() {
		if strings.Join(told, ",") != "j1,j1,j1,j1" {
			t.Errorf("changes told: %v", told)
		}
	}()
	if j := mustGet(t, s, "j1"); j.Status != Accepted || j.Progress() != 0 || len(j.Regions) != 3 || j.Tasks != 2 {
		t.Fatalf("new job: %+v", j)
	}
	j, task, err := s.StartTask(ctx, "j1", 0)
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != Running || task.Attempts != 1 || j.Started.IsZero() || j.Regions[0].Status != Running || j.Regions[2].Status != Accepted {
		t.Fatalf("after start: %+v %+v", j, task)
	}
	err = s.FinishTask(ctx, "j1", 0, []RegionOutcome{
		{Index: 0, Status: Successful, Files: []File{{Name: "a.nc", Size: 3}}},
		{Index: 1, Status: Empty, Message: "no overlap"},
	}, TaskStats{Notes: []string{"gap", "gap"}, FilesOpened: 2})
	if err != nil {
		t.Fatal(err)
	}
	if j := mustGet(t, s, "j1"); j.Status != Running || j.Progress() != 50 { // one task of two
		t.Fatalf("after task 0: %s %d", j.Status, j.Progress())
	}
	if _, _, err := s.StartTask(ctx, "j1", 1); err != nil {
		t.Fatal(err)
	}
	if err := s.FailTask(ctx, "j1", 1, "boom"); err != nil {
		t.Fatal(err)
	}
	j = mustGet(t, s, "j1")
	if j.Status != Successful || j.Finished.IsZero() || j.Message != "1 of 3 regions failed" {
		t.Fatalf("final: %+v", j)
	}
	if r := j.Regions[0]; r.Status != Successful || len(r.Files) != 1 || r.Files[0].Name != "a.nc" {
		t.Fatalf("region 0: %+v", r)
	}
	if r := j.Regions[2]; r.Status != Failed || r.Message != "boom" {
		t.Fatalf("region 2: %+v", r)
	}
	if len(j.Notes) != 1 || j.Notes[0] != "gap" || j.FilesOpened != 2 {
		t.Fatalf("notes %q, files opened %d", j.Notes, j.FilesOpened)
	}
	// Final: nothing applies any more.
	if _, _, err := s.StartTask(ctx, "j1", 1); !errors.Is(err, ErrNotActive) {
		t.Errorf("start after final: %v", err)
	}
	if _, err := s.DismissJob(ctx, "j1", "x"); errs.CodeOf(err) != errs.Conflict {
		t.Errorf("dismiss final: %v", err)
	}
}

func TestJobFailsWhenNoRegionHasFiles(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	insertJob(t, s, "j", 2, 2)
	s.StartTask(ctx, "j", 0)
	if err := s.FinishTask(ctx, "j", 0, []RegionOutcome{{Index: 0, Status: Failed, Message: "bad"}, {Index: 1, Status: Empty}}, TaskStats{}); err != nil {
		t.Fatal(err)
	}
	if j := mustGet(t, s, "j"); j.Status != Failed || j.Message != "no region produced a file: bad" {
		t.Fatalf("%s %q", j.Status, j.Message)
	}
	insertJob(t, s, "k", 1, 1)
	s.StartTask(ctx, "k", 0)
	s.FinishTask(ctx, "k", 0, []RegionOutcome{{Index: 0, Status: Empty, Message: "outside"}}, TaskStats{})
	if j := mustGet(t, s, "k"); j.Status != Successful || j.Regions[0].Status != Empty {
		t.Fatalf("all empty: %s %+v", j.Status, j.Regions)
	}
}

func TestDismissRacesCompletion(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	insertJob(t, s, "j", 4, 2)
	s.StartTask(ctx, "j", 0)
	ids, err := s.DismissJob(ctx, "j", "dismissed by the user")
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || ids[0] != 100 || ids[1] != 101 {
		t.Fatalf("queue ids %v", ids)
	}
	// The running task finishes after the cancel: its result is refused.
	if err := s.FinishTask(ctx, "j", 0, []RegionOutcome{{Index: 0, Status: Successful}}, TaskStats{}); !errors.Is(err, ErrNotActive) {
		t.Fatalf("finish after dismiss: %v", err)
	}
	if err := s.RequeueTask(ctx, "j", 0, ""); !errors.Is(err, ErrNotActive) {
		t.Fatalf("requeue after dismiss: %v", err)
	}
	j := mustGet(t, s, "j")
	if j.Status != Dismissed || j.Progress() != 0 { // a dismissed job is not done
		t.Fatalf("%+v", j)
	}
	for _, r := range j.Regions {
		if r.Status != Dismissed {
			t.Errorf("region %+v", r)
		}
	}
}

func TestRequeueAndOrphans(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	insertJob(t, s, "j", 2, 1)
	s.StartTask(ctx, "j", 0)
	if err := s.RequeueTask(ctx, "j", 0, "worker killed"); err != nil {
		t.Fatal(err)
	}
	if j := mustGet(t, s, "j"); j.Regions[0].Status != Accepted || j.Status != Running {
		t.Fatalf("%+v", j)
	}
	_, task, _ := s.StartTask(ctx, "j", 0)
	if task.Attempts != 2 {
		t.Fatalf("attempts %d", task.Attempts)
	}
	// Delivered again while recorded running (the server died): a new attempt.
	if _, task, err := s.StartTask(ctx, "j", 0); err != nil || task.Attempts != 3 {
		t.Fatalf("redelivery: %v %+v", err, task)
	}
	s.StartTask(ctx, "j", 1)
	n, err := s.ResetOrphans(ctx)
	if err != nil || n != 2 {
		t.Fatalf("reset %d %v", n, err)
	}
	ts, _ := s.Tasks(ctx, "j")
	for _, task := range ts {
		if task.Status != Accepted {
			t.Errorf("task %+v", task)
		}
	}
}

func TestListPagingAndRetention(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return base }
	for _, id := range []string{"a", "b", "c", "d"} {
		insertJob(t, s, id, 1, 1)
	}
	s.StartTask(ctx, "b", 0)
	s.FinishTask(ctx, "b", 0, []RegionOutcome{{Index: 0, Status: Successful}}, TaskStats{})
	page, err := s.List(ctx, ListParams{Limit: 2})
	if err != nil || len(page) != 2 || page[0].ID != "d" || page[1].ID != "c" {
		t.Fatalf("page 1: %v %v", page, err)
	}
	page, _ = s.List(ctx, ListParams{Limit: 2, Before: "c"})
	if len(page) != 2 || page[0].ID != "b" {
		t.Fatalf("page 2: %v", page)
	}
	// Each limit is a statement of its own: past the ones kept prepared,
	// the rest are prepared at each listing, with the same pages.
	for n := 1; n <= maxStmts+10; n++ {
		page, err := s.List(ctx, ListParams{Limit: n})
		if err != nil || len(page) != min(n, 4) || page[0].ID != "d" {
			t.Fatalf("limit %d: %v %v", n, page, err)
		}
	}
	if got := s.nstmts.Load(); got != maxStmts {
		t.Errorf("%d statements kept, want %d", got, maxStmts)
	}
	for range 2 { // the second time from the cache of final jobs
		page, _ = s.List(ctx, ListParams{Limit: 10, Statuses: []Status{Successful}})
		if len(page) != 1 || page[0].ID != "b" || page[0].Status != Successful || page[0].Finished.IsZero() {
			t.Fatalf("filter: %v", page)
		}
	}
	admit := func(limit int) error {
		return s.InTx(ctx, func(tx *sql.Tx) error { return s.Admit(ctx, tx, Admission{QueueLimit: limit}) })
	}
	if err := admit(4); err != nil {
		t.Fatalf("3 active jobs, room for 4: %v", err)
	}
	var ex *ExceededError
	if err := admit(3); !errors.As(err, &ex) || errs.CodeOf(err) != errs.Busy || ex.Limit.Quota != 3 || !strings.Contains(err.Error(), "at most 3 jobs") {
		t.Fatalf("3 active jobs, room for 3: %v", err)
	}
	counts, queued, err := s.Counts(ctx)
	if err != nil || counts[Accepted] != 3 || counts[Successful] != 1 || queued != 3 {
		t.Fatalf("counts %v %d %v", counts, queued, err)
	}
	old, _ := s.Expired(ctx, base.Add(time.Second))
	if len(old) != 1 || old[0] != "b" {
		t.Fatalf("expired %v", old)
	}
	if j, _ := s.Get(ctx, "b"); j.Status != Successful {
		t.Fatal("get b")
	}
	if err := s.Delete(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "b"); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("deleted job still there (cache?): %v", err)
	}
	// b was listed (and so cached) as final above: the list forgets it too.
	page, _ = s.List(ctx, ListParams{Limit: 10})
	if len(page) != 3 || page[0].ID != "d" || page[2].ID != "a" {
		t.Fatalf("list after delete: %v", page)
	}
	// Active jobs are never deleted.
	s.Delete(ctx, "a")
	if _, err := s.Get(ctx, "a"); err != nil {
		t.Fatalf("active job deleted: %v", err)
	}
}

func TestIdempotencyKeyUnique(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	j := &Job{ID: "x", Dataset: "d", Spec: Spec{Dataset: "d"}, Created: s.Now()}
	ins := func(id string) error {
		j.ID = id
		return s.InTx(ctx, func(tx *sql.Tx) error { return s.Insert(ctx, tx, j, nil, "key1", "h1") })
	}
	if err := ins("x"); err != nil {
		t.Fatal(err)
	}
	if err := ins("y"); err == nil {
		t.Fatal("second insert with the same key succeeded")
	}
	id, h, err := s.ByIdempotencyKey(ctx, s.db, "", "key1")
	if err != nil || id != "x" || h != "h1" {
		t.Fatalf("%q %q %v", id, h, err)
	}
	if id, _, _ := s.ByIdempotencyKey(ctx, s.db, "", "nope"); id != "" {
		t.Fatal("unknown key found")
	}
}

// Tasks keep their inputs; regions decided at submission are final from
// the start, and a job without tasks is final at once.
func TestTaskInputsAndDecidedRegions(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	rs := []regions.Fixed{{Name: "a", BBox: []float64{0, 0, 1, 1}}, {Name: "b", BBox: []float64{5, 5, 6, 6}}, {Name: "c", BBox: []float64{9, 9, 10, 10}}}
	j := &Job{ID: "g", Dataset: "swaths", Kind: "granules", Notes: []string{"x.nc cannot be read"}, Spec: Spec{Dataset: "swaths", Regions: rs},
		Created: s.Now(), Regions: []Region{{}, {Message: "no granule meets b"}, {}}}
	tasks := []Task{{ID: 0, Regions: []int{0, 2}, Files: []string{"swaths/1.nc", "swaths/2.nc"}, RegionFiles: [][]int{{0}, {0, 1}}},
		{ID: 1, Regions: []int{}, Files: []string{"ts/a.nc"}, Concat: true}}
	if err := s.InTx(ctx, func(tx *sql.Tx) error { return s.Insert(ctx, tx, j, tasks, "", "") }); err != nil {
		t.Fatal(err)
	}
	got := mustGet(t, s, "g")
	if got.Kind != "granules" || len(got.Notes) != 1 || got.Regions[1].Status != Empty || got.Regions[1].Message != "no granule meets b" || got.Regions[1].Task != -1 || got.Regions[2].Task != 0 {
		t.Fatalf("job %+v", got)
	}
	ts, err := s.Tasks(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 2 || len(ts[0].Files) != 2 || len(ts[0].RegionFiles) != 2 || ts[0].RegionFiles[1][1] != 1 || ts[0].Concat || !ts[1].Concat || ts[1].RegionFiles != nil {
		t.Fatalf("tasks %+v", ts)
	}
	// Every region decided: no task, final at once.
	e := &Job{ID: "e", Dataset: "swaths", Spec: Spec{Dataset: "swaths", Regions: rs[:1]}, Created: s.Now()}
	if err := s.InTx(ctx, func(tx *sql.Tx) error { return s.Insert(ctx, tx, e, nil, "", "") }); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "e"); got.Status != Successful || got.Regions[0].Status != Empty || got.Message != "no region intersects the data" || got.Progress() != 100 {
		t.Fatalf("all empty: %+v", got)
	}
	// A task with region file lists that do not match its regions is refused.
	bad := &Job{ID: "bad", Dataset: "swaths", Spec: Spec{Dataset: "swaths", Regions: rs[:1]}, Created: s.Now()}
	err = s.InTx(ctx, func(tx *sql.Tx) error {
		return s.Insert(ctx, tx, bad, []Task{{ID: 0, Regions: []int{0}, Files: []string{"a"}, RegionFiles: [][]int{{0}, {0}}}}, "", "")
	})
	if err == nil {
		t.Fatal("mismatched region files accepted")
	}
}

// Progress by bytes: a running task's share only grows (a lower one, as a
// retried task starts again, is ignored), the job adds its tasks up, a
// task not running takes none, and a dismissed job keeps what it had.
func TestTaskProgress(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	insertJob(t, s, "j", 4, 2)
	if j := mustGet(t, s, "j"); j.Progress() != 0 || j.QueuePosition != 1 {
		t.Fatalf("accepted: %d%%, position %d", j.Progress(), j.QueuePosition)
	}
	insertJob(t, s, "k", 1, 1)
	if k := mustGet(t, s, "k"); k.QueuePosition != 2 {
		t.Fatalf("second in the queue at %d", k.QueuePosition)
	}
	s.SetTaskProgress(ctx, "j", 0, TaskProgress{Fraction: 0.5}) // not running: ignored
	s.StartTask(ctx, "j", 0)
	for _, f := range []float64{0.2, 0.6, 0.4} {
		if err := s.SetTaskProgress(ctx, "j", 0, TaskProgress{Fraction: f, BytesDone: int64(f * 1000), BytesTotal: 1000}); err != nil {
			t.Fatal(err)
		}
	}
	j := mustGet(t, s, "j")
	if j.Progress() != 30 || j.BytesDone != 600 || j.BytesTotal != 1000 || j.QueuePosition != 0 {
		t.Fatalf("running: %d%% %d/%d, position %d", j.Progress(), j.BytesDone, j.BytesTotal, j.QueuePosition)
	}
	if _, err := s.DismissJob(ctx, "j", "dismissed"); err != nil {
		t.Fatal(err)
	}
	if j := mustGet(t, s, "j"); j.Status != Dismissed || j.Progress() != 30 {
		t.Fatalf("dismissed: %s %d%%", j.Status, j.Progress())
	}
}
