package e2e

import (
	"strings"
	"sync"
	"testing"

	"github.com/subsetd/subsetd/api"
)

// Admission is decided in the transaction that inserts the job: of 100
// submissions at once with room for 10 active jobs, exactly 10 are
// accepted; the others get 429 naming the limit, with Retry-After and the
// RateLimit fields.
func TestExactAdmission(t *testing.T) {
	s := start(t, dataDir(t), t.TempDir(), []string{"SUBSETD_TEST_TASK_DELAY=60s"}, "--workers", "1", "--queue-limit", "10")
	body := jobBody("global", names("a", 1), fourteen()[:1], "")
	const n = 100
	results := make([]resp, n)
	errors := make([]error, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			results[i], errors[i] = s.send("POST", "/v1/jobs", body)
		}()
	}
	close(gate)
	wg.Wait()
	counts := map[int]int{}
	for i, r := range results {
		if errors[i] != nil {
			t.Fatal(errors[i])
		}
		counts[r.StatusCode]++
		if r.StatusCode != 429 {
			continue
		}
		var p api.Problem
		r.json(t, &p)
		if !strings.Contains(p.Detail, "at most 10 jobs") || r.Header.Get("Retry-After") == "" ||
			r.Header.Get("RateLimit-Policy") != `"queue";q=10;qu="concurrent-requests"` || !strings.HasPrefix(r.Header.Get("RateLimit"), `"queue";r=0;t=`) {
			t.Fatalf("429: %v %s", r.Header, r.body)
		}
	}
	t.Logf("100 concurrent submissions, queue limit 10: %v", counts)
	if counts[201] != 10 || counts[429] != 90 {
		t.Fatalf("got %v, want exactly 10 accepted and 90 refused", counts)
	}
	var l api.JobList
	s.do("GET", "/v1/jobs?status=accepted,running&limit=100", "").json(t, &l)
	if len(l.Jobs) != 10 {
		t.Fatalf("%d active jobs, want 10", len(l.Jobs))
	}
}
