package queue

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/rs/zerolog"
	_ "modernc.org/sqlite"

	"github.com/subsetd/subsetd/jobs"
	"github.com/subsetd/subsetd/jobs/catalog"
	"github.com/subsetd/subsetd/jobs/errs"
	"github.com/subsetd/subsetd/jobs/fakeworker"
	"github.com/subsetd/subsetd/jobs/pool"
	"github.com/subsetd/subsetd/jobs/subset"
	"github.com/subsetd/subsetd/regions"
)

func TestMain(m *testing.M) {
	if os.Getenv(fakeworker.Env) == "1" {
		fakeworker.Main()
	}
	os.Exit(m.Run())
}

type env struct {
	state, data string
	db          *sql.DB
	store       *jobs.Store
	svc         *Service
	pool        *pool.Pool
}

func setupData(t *testing.T) string {
	data := t.TempDir()
	os.WriteFile(filepath.Join(data, "sst.nc"), []byte("sst"), 0o644)
	os.MkdirAll(filepath.Join(data, "bad"), 0o755)
	os.WriteFile(filepath.Join(data, "bad", "good.nc"), []byte("good"), 0o644)
	os.WriteFile(filepath.Join(data, "bad", "corrupt.nc"), []byte("garbage"), 0o644)
	return data
}

// start runs a service on state and data; extra are environment variables
// of the worker processes.
func start(t *testing.T, state, data string, cfg Config, extra ...string) *env {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("sqlite", filepath.Join(state, "subsetd.db")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	driver := riversqlite.New(db)
	mig, err := rivermigrate.New(driver, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mig.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		t.Fatal(err)
	}
	store := jobs.NewStore(db)
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	penv := append(os.Environ(), fakeworker.Env+"=1", fakeworker.CrashDirEnv+"="+state)
	penv = append(penv, extra...)
	p := pool.New([]string{os.Args[0]}, penv, 2)
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	dp := pool.New([]string{os.Args[0]}, penv, 1)
	describe := func(ctx context.Context, files []string, root string) (*jobs.DatasetInfo, error) {
		var r jobs.WorkerReply
		if _, err := dp.Run(ctx, jobs.WorkerTask{Kind: jobs.KindDescribe, Files: files, Root: root}, &r); err != nil {
			return nil, err
		}
		return r.Description, nil
	}
	cat, err := catalog.New(data, describe, store, log)
	if err != nil {
		t.Fatal(err)
	}
	cfg.StateDir = state
	if cfg.Workers == 0 {
		cfg.Workers = 2
	}
	cfg.RetryDelay = 10 * time.Millisecond
	svc, err := New(driver, store, cat, p, cfg, log, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e := &env{state: state, data: data, db: db, store: store, svc: svc, pool: p}
	t.Cleanup(func() { e.stop() })
	return e
}

func (e *env) stop() {
	if e.svc != nil {
		e.svc.Stop(time.Second)
		e.db.Close()
		e.svc = nil
	}
}

func spec(dataset string, names ...string) *jobs.Spec {
	s := &jobs.Spec{Dataset: dataset}
	for i, n := range names {
		s.Regions = append(s.Regions, regions.Region{Name: n, BBox: []float64{float64(i), 0, float64(i) + 1, 1}})
	}
	return s
}

func (e *env) wait(t *testing.T, id string, ok func(*jobs.Job) bool) *jobs.Job {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		j, err := e.store.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if ok(j) {
			return j
		}
		time.Sleep(20 * time.Millisecond)
	}
	j, _ := e.store.Get(context.Background(), id)
	t.Fatalf("job %s never reached the expected state: %+v", id, j)
	return nil
}

func final(j *jobs.Job) bool { return j.Status.Final() }

func TestJobRunsToCompletion(t *testing.T) {
	e := start(t, t.TempDir(), setupData(t), Config{})
	ctx := context.Background()
	j, created, err := e.svc.Submit(ctx, spec("sst", "a", "empty1", "fail1"), "")
	if err != nil || !created || j.Status != jobs.Accepted || j.Tasks != 2 {
		t.Fatalf("submit: %+v %v %v", j, created, err)
	}
	j = e.wait(t, j.ID, final)
	if j.Status != jobs.Successful || j.Message != "1 of 3 regions failed" {
		t.Fatalf("job %s %q", j.Status, j.Message)
	}
	a := j.Regions[0]
	if a.Status != jobs.Successful || len(a.Files) != 1 || a.Files[0].Name != "a.nc" {
		t.Fatalf("region a: %+v", a)
	}
	if j.Regions[1].Status != jobs.Empty || j.Regions[2].Status != jobs.Failed || j.Regions[2].Message == "" {
		t.Fatalf("regions: %+v", j.Regions)
	}
	p, f, err := e.svc.File(ctx, j.ID, "a.nc")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(p)
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != f.Sha256 || int64(len(data)) != f.Size {
		t.Fatalf("file %s does not match its record %+v", p, f)
	}
	if !strings.HasPrefix(p, filepath.Join(e.state, "jobs", j.ID, "files")) {
		t.Fatalf("file outside the job directory: %s", p)
	}
	for _, bad := range []string{"../a.nc", "/etc/passwd", "b.nc", ".tmp/x", "", "files/../a.nc", "a.nc/"} {
		if _, _, err := e.svc.File(ctx, j.ID, bad); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("File(%q) = %v, want not found", bad, err)
		}
	}
	// The manifest file follows the commit of the final status.
	for i := 0; ; i++ {
		_, err := os.Stat(filepath.Join(e.state, "jobs", j.ID, "manifest.json"))
		if err == nil {
			break
		}
		if i == 200 {
			t.Fatalf("manifest: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ents, _ := os.ReadDir(filepath.Join(e.state, "jobs", j.ID, tmpDir)); len(ents) != 0 {
		t.Fatalf("temporary files left: %v", ents)
	}
}

func TestSubmitValidates(t *testing.T) {
	e := start(t, t.TempDir(), setupData(t), Config{MaxRegions: 3, QueueLimit: 2}, "SUBSETD_TEST_TASK_DELAY=5s")
	ctx := context.Background()
	cases := []struct {
		spec        *jobs.Spec
		code        errs.Code
		field       string
		messagePart string
	}{
		{spec("", "a"), errs.Invalid, "dataset", "needed"},
		{spec("nope", "a"), errs.Invalid, "dataset", "unknown dataset"},
		{spec("../sst", "a"), errs.Invalid, "dataset", "unknown dataset"},
		{spec("sst"), errs.Invalid, "regions", "at least one"},
		{spec("sst", "a", "b", "c", "d"), errs.TooLarge, "regions", "at most 3"},
		{spec("sst", "a", "A"), errs.Invalid, "regions[1].name", "twice"},
		{&jobs.Spec{Dataset: "sst", Request: subset.Request{Regions: []regions.Region{{Name: "a", BBox: []float64{0, 10, 1, 5}}}}}, errs.Invalid, "regions[0].bbox", "south"},
		{&jobs.Spec{Dataset: "sst", Request: subset.Request{Regions: spec("", "a").Regions, Variables: []string{"sst", "chl"}}}, errs.Invalid, "variables[1]", "no variable"},
	}
	for _, c := range cases {
		_, _, err := e.svc.Submit(ctx, c.spec, "")
		if errs.CodeOf(err) != c.code || errs.FieldOf(err) != c.field || !strings.Contains(err.Error(), c.messagePart) {
			t.Errorf("%+v: got %v (%s, %q)", c.spec, err, errs.CodeOf(err), errs.FieldOf(err))
		}
	}
	// Idempotency: same key and request, same job; another request, conflict.
	j1, created, err := e.svc.Submit(ctx, spec("sst", "a"), "k1")
	if err != nil || !created {
		t.Fatal(err)
	}
	j2, created, err := e.svc.Submit(ctx, spec("sst", "a"), "k1")
	if err != nil || created || j2.ID != j1.ID {
		t.Fatalf("replay: %v %v %v", j2, created, err)
	}
	if _, _, err := e.svc.Submit(ctx, spec("sst", "b"), "k1"); errs.CodeOf(err) != errs.Conflict || errs.FieldOf(err) != "Idempotency-Key" {
		t.Fatalf("reuse: %v", err)
	}
	// Queue limit 2.
	if _, _, err := e.svc.Submit(ctx, spec("sst", "b"), ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.Submit(ctx, spec("sst", "c"), ""); errs.CodeOf(err) != errs.Busy {
		t.Fatalf("queue full: %v", err)
	}
	e.svc.Drain()
	if _, _, err := e.svc.Submit(ctx, spec("sst", "d"), ""); errs.CodeOf(err) != errs.Unavailable {
		t.Fatalf("draining: %v", err)
	}
}

func TestCancelKillsWorkers(t *testing.T) {
	e := start(t, t.TempDir(), setupData(t), Config{}, "SUBSETD_TEST_TASK_DELAY=30s")
	ctx := context.Background()
	j, _, err := e.svc.Submit(ctx, spec("sst", "a", "b", "c", "d"), "")
	if err != nil {
		t.Fatal(err)
	}
	e.wait(t, j.ID, func(j *jobs.Job) bool { return j.Status == jobs.Running && e.pool.Busy() == 2 })
	t0 := time.Now()
	j, err = e.svc.Cancel(ctx, j.ID)
	if err != nil || j.Status != jobs.Dismissed {
		t.Fatalf("cancel: %+v %v", j, err)
	}
	for e.pool.Busy() > 0 {
		if time.Since(t0) > 10*time.Second {
			t.Fatal("workers still running after cancel")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, r := range j.Regions {
		if r.Status != jobs.Dismissed {
			t.Errorf("region %+v", r)
		}
	}
	if _, err := e.svc.Cancel(ctx, j.ID); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("second cancel: %v", err)
	}
	if _, err := e.svc.Cancel(ctx, "nope"); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("unknown: %v", err)
	}
}

func TestCrashIsRetriedCorruptIsNot(t *testing.T) {
	e := start(t, t.TempDir(), setupData(t), Config{Workers: 1})
	ctx := context.Background()
	j, _, _ := e.svc.Submit(ctx, spec("sst", "crash1"), "")
	j = e.wait(t, j.ID, final)
	ts, _ := e.store.Tasks(ctx, j.ID)
	if j.Status != jobs.Successful || ts[0].Attempts != 2 {
		t.Fatalf("crash: %s %q attempts %d", j.Status, j.Message, ts[0].Attempts)
	}
	j, _, err := e.svc.Submit(ctx, spec("bad", "a", "b"), "")
	if err != nil {
		t.Fatal(err)
	}
	j = e.wait(t, j.ID, final)
	ts, _ = e.store.Tasks(ctx, j.ID)
	if j.Status != jobs.Failed || !strings.Contains(j.Regions[0].Message, "corrupt.nc: NetCDF: Unknown file format") || ts[0].Attempts != 1 {
		t.Fatalf("corrupt: %s %+v %+v", j.Status, j.Regions, ts)
	}
	if strings.Contains(j.Regions[0].Message, e.data) {
		t.Fatalf("message shows the server's paths: %q", j.Regions[0].Message)
	}
}

func TestDeadline(t *testing.T) {
	e := start(t, t.TempDir(), setupData(t), Config{JobDeadline: 500 * time.Millisecond}, "SUBSETD_TEST_TASK_DELAY=30s")
	j, _, _ := e.svc.Submit(context.Background(), spec("sst", "a"), "")
	j = e.wait(t, j.ID, final)
	if j.Status != jobs.Failed || !strings.Contains(j.Message, "deadline") || e.pool.Busy() != 0 {
		t.Fatalf("%s %q busy %d", j.Status, j.Message, e.pool.Busy())
	}
}

func TestTaskTimeout(t *testing.T) {
	e := start(t, t.TempDir(), setupData(t), Config{TaskTimeout: 300 * time.Millisecond}, "SUBSETD_TEST_TASK_DELAY=30s")
	j, _, _ := e.svc.Submit(context.Background(), spec("sst", "a"), "")
	j = e.wait(t, j.ID, final)
	if j.Status != jobs.Failed || !strings.Contains(j.Regions[0].Message, "timed out") {
		t.Fatalf("%s %+v", j.Status, j.Regions)
	}
}

func TestRestartFinishesJob(t *testing.T) {
	state, data := t.TempDir(), setupData(t)
	e := start(t, state, data, Config{}, "SUBSETD_TEST_TASK_DELAY=30s")
	j, _, _ := e.svc.Submit(context.Background(), spec("sst", "a", "b"), "")
	e.wait(t, j.ID, func(j *jobs.Job) bool { return j.Status == jobs.Running && e.pool.Busy() == 2 })
	// A stale temporary file, as a killed server leaves.
	os.WriteFile(filepath.Join(state, "jobs", j.ID, "manifest.json.tmp"), nil, 0o644)
	e.stop()
	e2 := start(t, state, data, Config{})
	got := e2.wait(t, j.ID, final)
	if got.Status != jobs.Successful || len(got.Regions[1].Files) != 1 {
		t.Fatalf("after restart: %+v", got)
	}
	if _, err := os.Stat(filepath.Join(state, "jobs", j.ID, "manifest.json.tmp")); !os.IsNotExist(err) {
		t.Fatal("stale temporary file kept")
	}
}

func TestRetention(t *testing.T) {
	e := start(t, t.TempDir(), setupData(t), Config{Retention: time.Hour})
	ctx := context.Background()
	j, _, _ := e.svc.Submit(ctx, spec("sst", "a"), "")
	e.wait(t, j.ID, final)
	if err := e.svc.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Get(ctx, j.ID); err != nil {
		t.Fatal("deleted too early")
	}
	if err := e.svc.MaintainAt(ctx, time.Now().Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Get(ctx, j.ID); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("expired job still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(e.state, "jobs", j.ID)); !os.IsNotExist(err) {
		t.Fatal(fmt.Sprint("files of an expired job kept: ", err))
	}
}
