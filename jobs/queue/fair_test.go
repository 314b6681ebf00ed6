package queue

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/subsetd/subsetd/jobs"
)

func TestTaskPriority(t *testing.T) {
	for _, c := range []struct{ rank, workers, want int }{{0, 1, 1}, {1, 1, 2}, {2, 1, 3}, {3, 1, 4}, {999, 1, 4}, {1, 2, 1}, {2, 2, 2}, {5, 2, 3}, {6, 2, 4}, {0, 0, 1}} {
		if got := taskPriority(c.rank, c.workers); got != c.want {
			t.Errorf("taskPriority(%d, %d) = %d, want %d", c.rank, c.workers, got, c.want)
		}
	}
}

// Key A has 60 tasks waiting for the one worker; key B's job of one
// region starts after at most 2 of A's tasks, not after A's job.
func TestFairShares(t *testing.T) {
	const delay = 150 * time.Millisecond
	e := start(t, t.TempDir(), setupData(t), Config{Workers: 1, RegionsPerTask: 1}, fmt.Sprintf("SUBSETD_TEST_TASK_DELAY=%s", delay))
	ctx := context.Background()
	var names []string
	for i := range 60 {
		names = append(names, fmt.Sprintf("a%02d", i))
	}
	a, _, err := e.svc.Submit(ctx, spec("sst", names...), jobs.Submitter{Owner: "alice"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Regions) != 60 {
		t.Fatalf("%d regions", len(a.Regions))
	}
	started := func(id string) int {
		var n int
		if err := e.db.QueryRow(`SELECT count(*) FROM subsetd_task WHERE job_id = ? AND status != ?`, id, string(jobs.Accepted)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	e.wait(t, a.ID, func(j *jobs.Job) bool { return started(a.ID) >= 2 })
	before := started(a.ID)
	t0 := time.Now()
	b, _, err := e.svc.Submit(ctx, spec("sst", "b"), jobs.Submitter{Owner: "bob"}, "")
	if err != nil {
		t.Fatal(err)
	}
	for started(b.ID) == 0 {
		if time.Since(t0) > 20*time.Second {
			t.Fatalf("bob's task has not started after %s; alice's tasks started: %d", time.Since(t0), started(a.ID))
		}
		time.Sleep(2 * time.Millisecond)
	}
	wait, passed := time.Since(t0), started(a.ID)-before
	t.Logf("bob's one-region job started %s after its submission, after %d more of alice's 60 tasks (%s each)", wait, passed, delay)
	if passed > 2 {
		t.Fatalf("bob's job waited for %d of alice's tasks", passed)
	}
	if q := started(a.ID); q >= 60 {
		t.Fatalf("alice's job was done first: %d", q)
	}
	e.svc.Cancel(ctx, a.ID)
}
