package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/subsetd/subsetd/internal/testutil/corrupt"
)

// CorpusReportEnv names a file the corpus test appends its counts to (make
// test prints it at the end).
const CorpusReportEnv = "SUBSETD_CORPUS_REPORT"

// corpusCounts gives 75 files per source (4 sources) besides the extras.
var corpusCounts = corrupt.Counts{Flips: 45, Truncations: 12, Zeroes: 9, Swaps: 9}

// A corpus of damaged files (mutated classic and NetCDF-4 fixtures with a
// fixed seed, empty, tiny, truncated and random files), through the real
// binary: the command line answers each within 20 s with exit status 0 or
// 1 and one clear line; a server on the folder is ready within 30 s and a
// job on each file ends within 30 s of its submission (or is refused at
// once) with a clear message.
func TestCorruptCorpus(t *testing.T) {
	files := append(corrupt.Generate(1, corrupt.Sources(t), corpusCounts), corrupt.Extras(1)...)
	if len(files) < 300 {
		t.Fatalf("corpus of %d files, want at least 300", len(files))
	}
	data := t.TempDir()
	if err := corrupt.Write(data, files); err != nil {
		t.Fatal(err)
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = filepath.Join(data, f.Name)
	}
	cliLine := corpusCLI(t, paths)
	serverLine := corpusServer(t, data, files)
	report := fmt.Sprintf("corrupt corpus (seed 1, %d files): CLI %s; server %s\n", len(files), cliLine, serverLine)
	t.Log(report)
	if p := os.Getenv(CorpusReportEnv); p != "" {
		if f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
			f.WriteString(report)
			f.Close()
		}
	}
}

// corpusCLI runs `subsetd subset` on each file (its own output folder) and
// returns the counts.
func corpusCLI(t *testing.T, paths []string) string {
	out := t.TempDir()
	cmd := func(path string) ([]string, []string) {
		dir := filepath.Join(out, filepath.Base(path))
		return []string{binary, "subset", "--file-timeout", "5s", "--region", "a=-180,-90,180,90", "--out", dir, path}, nil
	}
	results := corrupt.Classify(context.Background(), paths, corrupt.Config{Command: cmd, Timeout: 20 * time.Second, Parallel: 2})
	var n struct{ ok, clean, hung, crashed int }
	for _, r := range results {
		switch r.Outcome {
		case corrupt.Opened:
			n.ok++
			continue
		case corrupt.Failed:
		default:
			t.Errorf("CLI on %s: %s %s: %s", filepath.Base(r.Path), r.Outcome, r.Signal, r.Message)
			continue
		}
		msg := r.Message
		switch {
		case strings.Contains(msg, "the C library did not answer within"):
			n.hung++
		case strings.Contains(msg, "the C library crashed"):
			n.crashed++
		default:
			n.clean++
		}
		if bad := unclear(msg); bad != "" {
			t.Errorf("CLI on %s: %s: %q", filepath.Base(r.Path), bad, msg)
		}
	}
	return fmt.Sprintf("(subsetd subset, exit 0 or 1 within 20 s each): %d successes, %d clean errors, %d hangs stopped at --file-timeout, %d crashes caught, %d other outcomes",
		n.ok, n.clean, n.hung, n.crashed, len(paths)-n.ok-n.clean-n.hung-n.crashed)
}

// unclear says what is wrong with a message for a user, or "".
func unclear(msg string) string {
	switch {
	case msg == "":
		return "no message"
	case strings.Count(strings.TrimSpace(msg), "\n") > 1:
		return "more than a line or two"
	case strings.Contains(msg, "internal error"):
		return "internal error"
	case strings.Contains(msg, "worker process"), strings.Contains(msg, "goroutine "), strings.Contains(msg, "PC="):
		return "process noise"
	}
	return ""
}

// corpusServer serves the folder (each file a dataset), submits a job on
// every file and returns the counts.
func corpusServer(t *testing.T, data string, files []corrupt.File) string {
	t0 := time.Now()
	s := launch(t, nil, false, data, t.TempDir(), nil, "--file-timeout", "5s")
	for {
		r, err := s.send("GET", "/readyz", "")
		if err == nil && r.StatusCode == 200 {
			break
		}
		if time.Since(t0) > 30*time.Second {
			t.Fatalf("server not ready after 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	ready := time.Since(t0)
	type sub struct {
		name, id string
		at       time.Time
	}
	var (
		mu       sync.Mutex
		n        struct{ ok, empty, refused, failed, hung, crashed int }
		accepted []sub
	)
	ids := make(chan string)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for name := range ids {
				id := strings.TrimSuffix(name, filepath.Ext(name))
				body := `{"dataset": "` + id + `", "regions": [{"name": "a", "bbox": [-180, -90, 180, 90]}]}`
				deadline := time.Now().Add(60 * time.Second)
				for {
					r, err := s.send("POST", "/v1/jobs", body)
					if err != nil {
						t.Errorf("%s: %v", name, err)
						break
					}
					if r.StatusCode == 503 && time.Now().Before(deadline) { // being indexed
						time.Sleep(200 * time.Millisecond)
						continue
					}
					if r.StatusCode == 201 {
						var j job
						r.json(t, &j)
						mu.Lock()
						accepted = append(accepted, sub{name, j.ID, time.Now()})
						mu.Unlock()
						break
					}
					var p struct{ Detail string }
					r.json(t, &p)
					if r.StatusCode != 400 && r.StatusCode != 422 || unclear(p.Detail) != "" || !strings.Contains(p.Detail, id) {
						t.Errorf("%s: %d %s", name, r.StatusCode, r.body)
					}
					mu.Lock()
					n.refused++
					mu.Unlock()
					break
				}
			}
		}()
	}
	for _, f := range files {
		ids <- f.Name
	}
	close(ids)
	wg.Wait()
	sort.Slice(accepted, func(i, j int) bool { return accepted[i].at.Before(accepted[j].at) })
	for _, a := range accepted {
		var j job
		for {
			j = s.job(a.id)
			if final(j) {
				break
			}
			if time.Since(a.at) > 30*time.Second {
				t.Errorf("%s: job %s not final 30 s after its submission: %+v", a.name, a.id, j)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if !final(j) {
			n.hung++
			continue
		}
		msg := j.Message
		for _, r := range j.Regions {
			if r.Message != "" {
				msg = r.Message
			}
		}
		switch {
		case j.Status == "successful" && len(j.Regions) == 1 && j.Regions[0].Status == "empty":
			n.empty++
		case j.Status == "successful":
			n.ok++
		case strings.Contains(msg, "the C library did not answer within"):
			n.hung++
		case strings.Contains(msg, "the C library crashed"):
			n.crashed++
		default:
			n.failed++
		}
		if j.Status != "successful" {
			if bad := unclear(msg); bad != "" {
				t.Errorf("%s: job %s: %s: %q", a.name, j.Status, bad, msg)
			}
		}
	}
	return fmt.Sprintf("(ready in %v, a job per file, each final within 30 s): %d successes, %d empty, %d refused at submission (recorded unreadable), %d failed with a clean message, %d hangs stopped at --file-timeout, %d crashes caught",
		ready.Round(10*time.Millisecond), n.ok, n.empty, n.refused, n.failed, n.hung, n.crashed)
}
