package jobs

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// The running tasks of a node not seen since the cutoff go back to the
// queue, once, with their regions; a live node's tasks stay; only the
// newest attempt finishes a task.
func TestRescueStoppedNode(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	now := time.UnixMilli(1767225600000)
	s.Now = func() time.Time { return now }
	insertJob(t, s, "j1", 2, 1)
	if err := s.Heartbeat(ctx, "dead", "h1", 11, now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	s.Node = "dead"
	if _, _, err := s.StartTask(ctx, "j1", 0); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Minute)
	if err := s.Heartbeat(ctx, "alive", "h2", 12, now); err != nil {
		t.Fatal(err)
	}
	s.Node = "alive"
	if _, _, err := s.StartTask(ctx, "j1", 1); err != nil {
		t.Fatal(err)
	}
	var also []Task
	ts, err := s.Rescue(ctx, now.Add(-30*time.Second), "node stopped", func(tx *sql.Tx, ts []Task) error { also = ts; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 1 || ts[0].JobID != "j1" || ts[0].ID != 0 || ts[0].RiverID != 100 || ts[0].Attempts != 1 || len(also) != 1 {
		t.Fatalf("rescued %+v (also %+v), want task 0 of j1 at attempt 1", ts, also)
	}
	again, err := s.Rescue(ctx, now.Add(-30*time.Second), "node stopped", nil)
	if err != nil || len(again) != 0 {
		t.Fatalf("second rescue: %+v %v", again, err)
	}
	j := mustGet(t, s, "j1")
	if j.Regions[0].Status != Accepted || j.Regions[1].Status != Running {
		t.Fatalf("regions after rescue: %+v", j.Regions)
	}
	run, err := s.RunningAttempts(ctx)
	if err != nil || len(run) != 1 || run["j1/1"] != 1 {
		t.Fatalf("running attempts %v %v", run, err)
	}
	// Taken over: attempt 2. The first attempt cannot finish it.
	_, task, err := s.StartTask(ctx, "j1", 0)
	if err != nil || task.Attempts != 2 {
		t.Fatalf("restart: %+v %v", task, err)
	}
	if a, _ := s.CurrentAttempt(ctx, "j1", 0); a != 2 {
		t.Fatalf("current attempt %d", a)
	}
	out := []RegionOutcome{{Index: 0, Status: Empty}}
	if err := s.FinishTask(ctx, "j1", 0, out, TaskStats{Attempt: 1}); err == nil {
		t.Fatal("an attempt that was taken over finished the task")
	}
	if err := s.FinishTask(ctx, "j1", 0, out, TaskStats{Attempt: 2}); err != nil {
		t.Fatal(err)
	}
	ns, err := s.Nodes(ctx)
	if err != nil || len(ns) != 2 || ns[0].ID != "alive" || !ns[0].Seen.Equal(now) {
		t.Fatalf("nodes %+v %v", ns, err)
	}
	if err := s.LeaveNode(ctx, "dead"); err != nil {
		t.Fatal(err)
	}
	if ns, _ := s.Nodes(ctx); len(ns) != 1 {
		t.Fatalf("after leaving: %+v", ns)
	}
}
