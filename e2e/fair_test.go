package e2e

import (
	"testing"
	"time"
)

// Fair shares through the binary: key A has 50 tasks waiting for the one
// worker; key B's one-region job starts within the time of 2 of A's tasks.
func TestFairShares(t *testing.T) {
	const delay = 300 * time.Millisecond
	state := t.TempDir()
	alice, bob := createKey(t, state, "alice"), createKey(t, state, "bob")
	s := start(t, dataDir(t), state, []string{"SUBSETD_TEST_TASK_DELAY=" + delay.String()}, "--auth", "keys",
		"--workers", "1", "--warm-workers", "1", "--regions-per-task", "1")
	var boxes []box
	for len(boxes) < 51 {
		boxes = append(boxes, fourteen()...)
	}
	a := s.submit(jobBody("global", names("a", 51), boxes[:51], ""), auth(alice)...)
	done := func(j job) int {
		n := 0
		for _, r := range j.Regions {
			if r.Status != "accepted" && r.Status != "running" {
				n++
			}
		}
		return n
	}
	a, _ = s.waitAs(alice, a.ID, 60*time.Second, func(j job) bool { return done(j) >= 1 })
	before := done(a)
	t0 := time.Now()
	b := s.submit(jobBody("global", names("b", 1), fourteen()[:1], ""), auth(bob)...)
	b, _ = s.waitAs(bob, b.ID, 60*time.Second, func(j job) bool { return j.Status != "accepted" })
	waited := time.Since(t0)
	a = s.job2(alice, a.ID)
	passed := done(a) - before
	t.Logf("bob's job started %s after its submission; %d of alice's tasks (of %s each) ended meanwhile, %d of 51 wait", waited.Round(time.Millisecond), passed, delay, 51-done(a))
	if passed > 2 || waited > 2*delay+2*time.Second {
		t.Fatalf("bob's one-region job waited %s, for %d of alice's tasks", waited, passed)
	}
	if done(a) > 45 {
		t.Fatalf("alice's job was nearly done first: %d of 51", done(a))
	}
	s.do("DELETE", "/v1/jobs/"+a.ID, "", auth(alice)...)
}

// job2 is job with a key.
func (s *server) job2(key, id string) job {
	s.t.Helper()
	var j job
	r := s.do("GET", "/v1/jobs/"+id, "", auth(key)...)
	if r.StatusCode != 200 {
		s.t.Fatalf("get job: %d %s", r.StatusCode, r.body)
	}
	r.json(s.t, &j)
	return j
}
