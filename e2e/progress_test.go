package e2e

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// multiSlab makes a data directory holding mid.nc: 24 steps of 360 x 720
// (testdata/gensample), which a worker with 4 MiB reads in dozens of
// slabs.
func multiSlab(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	gen := filepath.Join(t.TempDir(), "gensample")
	if out, err := exec.Command("go", "build", "-o", gen, "github.com/subsetd/subsetd/testdata/gensample").CombinedOutput(); err != nil {
		t.Fatalf("build gensample: %v: %s", err, out)
	}
	if out, err := exec.Command(gen, "-out", filepath.Join(dir, "mid.nc"), "-nt", "24", "-nlat", "360", "-nlon", "720", "-chunks", "1,90,180").CombinedOutput(); err != nil {
		t.Fatalf("gensample: %v: %s", err, out)
	}
	return dir
}

// TestProgressByBytes: a job's progress, polled as it runs, only grows and
// takes at least 10 values before 100 (the worker reports every slab);
// bytes_done and bytes_total come with it, Retry-After on every poll of
// the unfinished job, queue_position while it waits, estimated_finish
// while it runs; a job dismissed part-way keeps its progress, below 100.
func TestProgressByBytes(t *testing.T) {
	s := start(t, multiSlab(t), t.TempDir(), nil, "--workers", "1", "--memory-budget", "4194304")
	body := `{"dataset": "mid", "regions": [{"name": "a", "bbox": [-170, -80, 170, 80]}]}`
	first := s.submit(body)
	second := s.submit(body)
	if j := s.job(second.ID); j.Status == "accepted" && j.QueuePosition < 1 {
		t.Errorf("an accepted job without a queue position: %+v", j)
	}
	var seen []int
	finish := false
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := s.do("GET", "/v1/jobs/"+first.ID, "")
		var j job
		r.json(t, &j)
		if !final(j) && r.Header.Get("Retry-After") == "" {
			t.Fatalf("no Retry-After on %s", j.Status)
		}
		if n := len(seen); n > 0 && j.Progress < seen[n-1] {
			t.Fatalf("progress went back: %v then %d", seen, j.Progress)
		}
		if n := len(seen); n == 0 || j.Progress != seen[n-1] {
			seen = append(seen, j.Progress)
		}
		if j.BytesDone > j.BytesTotal || j.BytesDone < 0 {
			t.Fatalf("%d of %d bytes", j.BytesDone, j.BytesTotal)
		}
		finish = finish || j.EstimatedFinish != nil
		if final(j) {
			if j.Status != "successful" || j.Progress != 100 || j.RegionsDone != 1 || j.BytesTotal == 0 {
				t.Fatalf("final %+v", j)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not finished: %v", seen)
		}
	}
	if len(seen) < 11 {
		t.Errorf("progress took %d values: %v", len(seen), seen)
	}
	if !finish {
		t.Errorf("a running job without estimated_finish")
	}
	t.Logf("progress seen: %v", seen)

	// The second job is dismissed half-way: it keeps its progress.
	var at int
	for j := s.job(second.ID); ; j = s.job(second.ID) {
		if j.Progress >= 20 {
			break
		}
		if final(j) {
			t.Fatalf("the second job ended before it was dismissed: %+v", j)
		}
		time.Sleep(5 * time.Millisecond)
	}
	r := s.do("DELETE", "/v1/jobs/"+second.ID, "")
	var d job
	r.json(t, &d)
	at = d.Progress
	j, _ := s.wait(second.ID, 20*time.Second, final)
	if j.Status != "dismissed" || j.Progress < 20 || j.Progress >= 100 || j.Progress < at {
		t.Fatalf("dismissed at %d%%: %s %d%%", at, j.Status, j.Progress)
	}
}
