package e2e

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// multiSlab makes a data directory holding mid.nc: 24 steps of 360 x 720
// (testdata/gensample, made once for the tests), which a worker with 4 MiB
// reads in dozens of slabs.
func multiSlab(t *testing.T) string {
	t.Helper()
	midOnce.Do(func() {
		gen := filepath.Join(workDir, "gensample")
		mid = filepath.Join(workDir, "mid.nc")
		if out, err := exec.Command("go", "build", "-o", gen, "github.com/subsetd/subsetd/testdata/gensample").CombinedOutput(); err != nil {
			midErr = fmt.Errorf("build gensample: %v: %s", err, out)
			return
		}
		if out, err := exec.Command(gen, "-out", mid, "-nt", "24", "-nlat", "360", "-nlon", "720", "-chunks", "1,90,180").CombinedOutput(); err != nil {
			midErr = fmt.Errorf("gensample: %v: %s", err, out)
		}
	})
	if midErr != nil {
		t.Fatal(midErr)
	}
	dir := t.TempDir()
	copyFile(t, mid, filepath.Join(dir, "mid.nc"))
	return dir
}

var (
	midOnce sync.Once
	mid     string
	midErr  error
)

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

// TestRegionFilesWhileRunning: the files of a region are downloadable as
// soon as its task has ended, while the job's other tasks still run (a
// region is final, and listed, once the task that cut it has placed its
// files; regions of one task become final together).
func TestRegionFilesWhileRunning(t *testing.T) {
	s := start(t, multiSlab(t), t.TempDir(), nil, "--workers", "1", "--regions-per-task", "1", "--memory-budget", "4194304")
	j := s.submit(`{"dataset": "mid", "regions": [{"name": "west", "bbox": [-170, -80, -10, 80]}, {"name": "east", "bbox": [10, -80, 170, 80]}]}`)
	var got job
	deadline := time.Now().Add(60 * time.Second)
	for {
		got = s.job(j.ID)
		if got.Regions[0].Status == "successful" || got.Regions[1].Status == "successful" || final(got) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no region finished: %+v", got)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if final(got) {
		t.Fatalf("the job ended before a region was seen finished: %+v", got)
	}
	for _, r := range got.Regions {
		if r.Status != "successful" {
			if len(r.Files) != 0 {
				t.Errorf("region %s (%s) lists files", r.Name, r.Status)
			}
			continue
		}
		f := r.Files[0]
		if b := s.download(f.Href); sha(b) != f.Sha256 || int64(len(b)) != f.Size {
			t.Errorf("%s: %d bytes, sha256 %s; listed %d, %s", f.Name, len(b), sha(b), f.Size, f.Sha256)
		}
		if j := s.job(j.ID); final(j) {
			t.Logf("the job ended while %s was downloaded", f.Name)
		}
	}
	if j, _ := s.wait(j.ID, 60*time.Second, final); j.Status != "successful" {
		t.Fatalf("%+v", j)
	}
}
