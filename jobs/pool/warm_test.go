package pool

import (
	"context"
	"errors"
	"testing"
	"time"
)

// warmPIDs lists the processes waiting in the warm list, putting them back.
func warmPIDs(p *Pool) []int {
	var pids []int
	var all []*warmProc
	for {
		select {
		case wp := <-p.warm:
			all = append(all, wp)
			pids = append(pids, wp.pr.PID)
			continue
		default:
		}
		break
	}
	for _, wp := range all {
		p.warm <- wp
	}
	return pids
}

func TestWarmProcessesTakeTasksOnceEach(t *testing.T) {
	p := newPool(2)
	p.Warm(2)
	defer p.KillAll()
	before := warmPIDs(p)
	if len(before) != 2 {
		t.Fatalf("%d warm processes, want 2", len(before))
	}
	seen := map[int]bool{}
	for i := range 4 {
		var r reply
		st, err := p.Run(context.Background(), task{Value: i}, &r)
		if err != nil {
			t.Fatal(err)
		}
		if r.Value != 2*i || r.PID != st.PID {
			t.Fatalf("task %d: reply %+v stats %+v", i, r, st)
		}
		if seen[st.PID] {
			t.Fatalf("process %d ran two tasks", st.PID)
		}
		seen[st.PID] = true
		if i == 0 && st.PID != before[0] {
			t.Errorf("the first task ran in %d, not in the warm process %d", st.PID, before[0])
		}
	}
	// The list is refilled behind the tasks.
	deadline := time.Now().Add(10 * time.Second)
	for len(warmPIDs(p)) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(warmPIDs(p)); n != 2 {
		t.Errorf("%d warm processes after the tasks, want 2", n)
	}
}

func TestWarmProcessKilledWhileWaitingIsNotUsed(t *testing.T) {
	p := newPool(1)
	p.Warm(1)
	defer p.KillAll()
	wp := <-p.warm
	wp.pr.Kill()
	<-wp.pr.Done()
	p.warm <- wp
	var r reply
	st, err := p.Run(context.Background(), task{Value: 5}, &r)
	if err != nil || r.Value != 10 {
		t.Fatalf("run after a dead warm process: %+v %v", r, err)
	}
	if st.PID == wp.pr.PID {
		t.Errorf("the task went to the dead process")
	}
}

func TestKillAllEndsWarmProcesses(t *testing.T) {
	p := newPool(1)
	p.Warm(2)
	pids := warmPIDs(p)
	var procs []*warmProc
	for range pids {
		procs = append(procs, <-p.warm)
	}
	for _, wp := range procs {
		p.warm <- wp
	}
	p.KillAll()
	for _, wp := range procs {
		select {
		case <-wp.pr.Done():
			var ee interface{ Error() string }
			if err := wp.pr.Err(); !errors.As(err, &ee) {
				t.Errorf("warm process %d ended with %v", wp.pr.PID, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("warm process %d still alive after KillAll", wp.pr.PID)
		}
	}
	p.startWarm()
	if n := len(warmPIDs(p)); n != 0 {
		t.Errorf("%d warm processes started after KillAll", n)
	}
	// Tasks still run, in processes of their own.
	var r reply
	if _, err := p.Run(context.Background(), task{Value: 1}, &r); err != nil || r.Value != 2 {
		t.Errorf("run after KillAll: %+v %v", r, err)
	}
}
