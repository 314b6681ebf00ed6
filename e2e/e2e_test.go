package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/subsetd/subsetd/api"
	"github.com/subsetd/subsetd/jobs"
)

type box struct{ j0, j1, i0, i1 int }

// fourteen are index boxes of the 2-degree global grid (lat -89+2j, lon -179+2i).
func fourteen() []box {
	var out []box
	for k := range 14 {
		i0, j0 := 10*k+3, 20+3*k
		out = append(out, box{j0, j0 + 2 + k%4, i0, i0 + 3 + k%3})
	}
	return out
}

// bbox selects exactly the cells of b: edges half a cell outside the centres.
func (b box) bbox() []float64 {
	lat := func(j int) float64 { return float64(-89 + 2*j) }
	lon := func(i int) float64 { return float64(-179 + 2*i) }
	return []float64{lon(b.i0) - 0.5, lat(b.j0) - 0.5, lon(b.i1) + 0.5, lat(b.j1) + 0.5}
}

func jobBody(dataset string, names []string, boxes []box, extra string) string {
	var rs []string
	for k, b := range boxes {
		bb, _ := json.Marshal(b.bbox())
		rs = append(rs, fmt.Sprintf(`{"name": %q, "bbox": %s}`, names[k], bb))
	}
	return fmt.Sprintf(`{"dataset": %q, "regions": [%s]%s}`, dataset, strings.Join(rs, ", "), extra)
}

func names(prefix string, n int) []string {
	var out []string
	for k := range n {
		out = append(out, fmt.Sprintf("%s%02d", prefix, k))
	}
	return out
}

// checkFiles downloads every file of a successful job and compares it with
// the ncks cut of the same index box, and with its checksums.
func checkFiles(t *testing.T, s *server, j job, boxes []box) {
	t.Helper()
	if j.Status != "successful" || len(j.Regions) != len(boxes) {
		t.Fatalf("job %s: %s %q, %d regions", j.ID, j.Status, j.Message, len(j.Regions))
	}
	dir := t.TempDir()
	for k, r := range j.Regions {
		if r.Status != "successful" || len(r.Files) != 1 {
			t.Fatalf("region %s: %s %q %+v", r.Name, r.Status, r.Message, r.Files)
		}
		f := r.Files[0]
		b := s.download(f.Href)
		if sha(b) != f.Sha256 || int64(len(b)) != f.Size {
			t.Fatalf("%s: the download does not match its sha256/size", f.Name)
		}
		p := filepath.Join(dir, f.Name)
		os.WriteFile(p, b, 0o644)
		want := ncksCut(t, boxes[k].j0, boxes[k].j1, boxes[k].i0, boxes[k].i1)
		if got, exp := ncdumpData(t, p, "lat,lon,sst"), ncdumpData(t, want, "lat,lon,sst"); got != exp {
			t.Fatalf("region %s differs from ncks -d lat,%d,%d -d lon,%d,%d:\n%s\n--- ncks:\n%s", r.Name,
				boxes[k].j0, boxes[k].j1, boxes[k].i0, boxes[k].i1, tail(got, 1500), tail(exp, 1500))
		}
	}
}

// The 14-region job: files equal ncks cuts; manifest, Range, idempotency.
func TestFourteenRegionsMatchNcks(t *testing.T) {
	s := start(t, dataDir(t), t.TempDir(), nil)
	boxes := fourteen()
	body := jobBody("global", names("r", 14), boxes, `, "variables": ["sst"]`)
	j := s.submit(body, "Idempotency-Key", "fourteen-1")
	// A warm worker may take the first task before the answer is read.
	if (j.Status != "accepted" && j.Status != "running") || len(j.Regions) != 14 {
		t.Fatalf("%+v", j)
	}
	// The same key and body: the same job, not a new one.
	r := s.do("POST", "/v1/jobs", body, "Idempotency-Key", "fourteen-1")
	var again job
	r.json(t, &again)
	if r.StatusCode != 200 || again.ID != j.ID || r.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay: %d %s", r.StatusCode, r.body)
	}
	r = s.do("POST", "/v1/jobs", jobBody("global", names("x", 1), boxes[:1], ""), "Idempotency-Key", "fourteen-1")
	if r.StatusCode != 409 {
		t.Fatalf("key reuse: %d %s", r.StatusCode, r.body)
	}
	j, _ = s.wait(j.ID, 60*time.Second, final)
	checkFiles(t, s, j, boxes)
	for k, reg := range j.Regions {
		if reg.Name != fmt.Sprintf("r%02d", k) {
			t.Fatalf("regions not in request order: %v", j.Regions)
		}
	}

	// Manifest: every file with the same checksums.
	var m jobs.Manifest
	s.do("GET", "/v1/jobs/"+j.ID+"/manifest.json", "").json(t, &m)
	if len(m.Files) != 14 || m.Files[3].Sha256 != j.Regions[3].Files[0].Sha256 || m.Files[3].Region != "r03" {
		t.Fatalf("manifest %+v", m)
	}
	onDisk, err := os.ReadFile(filepath.Join(s.state, "jobs", j.ID, "manifest.json"))
	if err != nil || !bytes.Contains(onDisk, []byte(m.Files[13].Sha256)) {
		t.Fatalf("manifest.json on disk: %v", err)
	}

	// Range, ETag, Repr-Digest.
	f := j.Regions[0].Files[0]
	full := s.download(f.Href)
	r = s.do("GET", f.Href, "", "Range", "bytes=100-199")
	if r.StatusCode != 206 || !bytes.Equal(r.body, full[100:200]) || r.Header.Get("Content-Range") != fmt.Sprintf("bytes 100-199/%d", len(full)) {
		t.Fatalf("range: %d %v", r.StatusCode, r.Header)
	}
	r = s.do("GET", f.Href, "")
	if r.Header.Get("ETag") != `"`+f.Sha256+`"` || !strings.HasPrefix(r.Header.Get("Repr-Digest"), "sha-256=:") || r.Header.Get("Content-Length") != fmt.Sprint(len(full)) {
		t.Fatalf("headers %v", r.Header)
	}
	if r = s.do("GET", f.Href, "", "If-None-Match", `"`+f.Sha256+`"`); r.StatusCode != 304 {
		t.Fatalf("If-None-Match: %d", r.StatusCode)
	}

	// The list shows it, newest first, filtered.
	var l api.JobList
	s.do("GET", "/v1/jobs?status=successful&limit=5", "").json(t, &l)
	if len(l.Jobs) != 1 || l.Jobs[0].ID != j.ID {
		t.Fatalf("list %+v", l)
	}
	if tmp := tmpFiles(s.state); len(tmp) > 0 {
		t.Fatalf("temporary files left: %v", tmp)
	}
}

// Polling sees accepted, running, successful; DELETE of a running job kills
// its workers and leaves it dismissed; a worker killed with SIGKILL is
// retried and its job succeeds.
func TestStatusesCancelAndWorkerKill(t *testing.T) {
	// No warm workers: the test counts the processes a task leaves.
	s := start(t, dataDir(t), t.TempDir(), []string{"SUBSETD_TEST_TASK_DELAY=2s"}, "--workers", "1", "--warm-workers", "0")
	boxes := fourteen()[:2]

	// accepted -> running -> successful
	j := s.submit(jobBody("global", names("a", 2), boxes, ""))
	j, seen := s.wait(j.ID, 30*time.Second, final)
	if j.Status != "successful" || !slices.Equal(seen[len(seen)-2:], []string{"running", "successful"}) {
		t.Fatalf("statuses %v (%s)", seen, j.Message)
	}
	if j.Started == nil || j.Finished == nil || j.Progress != 100 {
		t.Fatalf("%+v", j)
	}

	// Cancel while running.
	j = s.submit(jobBody("global", names("c", 2), boxes, ""))
	s.wait(j.ID, 10*time.Second, func(j job) bool { return j.Status == "running" })
	t0 := time.Now()
	r := s.do("DELETE", "/v1/jobs/"+j.ID, "")
	var d job
	r.json(t, &d)
	if r.StatusCode != 200 || d.Status != "dismissed" {
		t.Fatalf("cancel: %d %s", r.StatusCode, r.body)
	}
	waitNoWorkers(t, time.Second)
	if time.Since(t0) > 1500*time.Millisecond {
		t.Fatal("the worker was not killed: it ran to its end")
	}
	for _, reg := range s.job(j.ID).Regions {
		if reg.Status != "dismissed" {
			t.Fatalf("region %+v", reg)
		}
	}
	// DELETE of the finished job deletes it and its files.
	if r := s.do("DELETE", "/v1/jobs/"+j.ID, ""); r.StatusCode != 204 {
		t.Fatalf("delete the dismissed job: %d %s", r.StatusCode, r.body)
	}
	if r := s.do("GET", "/v1/jobs/"+j.ID, ""); r.StatusCode != 404 {
		t.Fatalf("deleted job: %d", r.StatusCode)
	}
	if _, err := os.Stat(filepath.Join(s.state, "jobs", j.ID)); !os.IsNotExist(err) {
		t.Fatalf("the deleted job's folder: %v", err)
	}

	// SIGKILL the worker mid-task: retried, successful, files right.
	j = s.submit(jobBody("global", names("k", 2), boxes, ""))
	s.wait(j.ID, 10*time.Second, func(j job) bool { return j.Status == "running" && len(workers(t)) == 1 })
	ws := workers(t)
	if err := syscall.Kill(ws[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	j, _ = s.wait(j.ID, 60*time.Second, final)
	checkFiles(t, s, j, boxes)
	if tmp := tmpFiles(s.state); len(tmp) > 0 {
		t.Fatalf("temporary files left: %v", tmp)
	}
}

// A corrupt file fails its job's regions with a clear message; the server
// keeps answering and other datasets work. In a folder dataset the index
// knows the file is unreadable: jobs leave it out and say so.
func TestCorruptFile(t *testing.T) {
	data := dataDir(t)
	copyFile(t, global, filepath.Join(data, "mixed", "good.nc"))
	os.WriteFile(filepath.Join(data, "mixed", "corrupt.nc"), bytes.Repeat([]byte("not netcdf "), 300), 0o644)
	good, _ := os.ReadFile(global)
	os.WriteFile(filepath.Join(data, "truncated.nc"), good[:len(good)/2], 0o644)
	s := start(t, data, t.TempDir(), nil)

	var ds api.DatasetDoc
	s.do("GET", "/v1/datasets/mixed", "").json(t, &ds)
	if len(ds.Files) != 2 || ds.Files[0].Error == "" || ds.Files[1].Error != "" {
		t.Fatalf("mixed: %+v", ds.Files)
	}
	// The index found the file unreadable: refused at once, saying why.
	r := s.do("POST", "/v1/jobs", jobBody("truncated", names("m", 2), fourteen()[:2], ""))
	var p struct{ Detail, Field string }
	r.json(t, &p)
	if want := `file truncated.nc of dataset "truncated" cannot be read: corrupt or truncated NetCDF-4/HDF5 file: truncated file: `; r.StatusCode != 400 || p.Field != "dataset" || !strings.HasPrefix(p.Detail, want) || strings.Contains(p.Detail, data) {
		t.Fatalf("truncated: %d %s\nwant 400 %s...", r.StatusCode, r.body, want)
	}
	j := s.submit(jobBody("mixed", names("m", 2), fourteen()[:2], ""))
	j, _ = s.wait(j.ID, 30*time.Second, final)
	if j.Status != "successful" || len(j.Notes) != 1 || !strings.Contains(j.Notes[0], "mixed/corrupt.nc (") || strings.Contains(j.Notes[0], data) {
		t.Fatalf("mixed: %s %q %q", j.Status, j.Message, j.Notes)
	}
	checkFiles(t, s, j, fourteen()[:2])
	if r := s.do("GET", "/healthz", ""); r.StatusCode != 200 {
		t.Fatal("server not answering")
	}
	j = s.submit(jobBody("global", names("g", 1), fourteen()[:1], ""))
	j, _ = s.wait(j.ID, 30*time.Second, final)
	checkFiles(t, s, j, fourteen()[:1])
}

// Every bad request gets its 4xx problem naming the field.
func TestBadRequests(t *testing.T) {
	data := dataDir(t)
	outside := t.TempDir()
	copyFile(t, global, filepath.Join(outside, "secret.nc"))
	os.Symlink(filepath.Join(outside, "secret.nc"), filepath.Join(data, "leak.nc"))
	os.Symlink(outside, filepath.Join(data, "leakdir"))
	s := start(t, data, t.TempDir(), []string{"SUBSETD_TEST_TASK_DELAY=5s"}, "--queue-limit", "1", "--max-regions", "20", "--max-body-bytes", "65536")
	one := jobBody("global", names("a", 1), fourteen()[:1], "")
	cases := []struct {
		name, body string
		status     int
		field      string
	}{
		{"unknown dataset", `{"dataset": "nope", "regions": [{"name": "a", "bbox": [0, 0, 1, 1]}]}`, 400, "dataset"},
		{"dataset outside", `{"dataset": "../secret", "regions": [{"name": "a", "bbox": [0, 0, 1, 1]}]}`, 400, "dataset"},
		{"symlink out", `{"dataset": "leak", "regions": [{"name": "a", "bbox": [0, 0, 1, 1]}]}`, 400, "dataset"},
		{"unknown variable", `{"dataset": "global", "regions": [{"name": "a", "bbox": [0, 0, 1, 1]}], "variables": ["chl"]}`, 400, "variables[0]"},
		{"bad bbox", `{"dataset": "global", "regions": [{"name": "a", "bbox": [0, 50, 1, 10]}]}`, 400, "regions[0].bbox"},
		{"bbox size", `{"dataset": "global", "regions": [{"name": "a", "bbox": [0, 1, 2]}]}`, 400, "regions[0].bbox"},
		{"duplicate names", `{"dataset": "global", "regions": [{"name": "a", "bbox": [0, 0, 1, 1]}, {"name": "a", "bbox": [0, 0, 1, 1]}]}`, 400, "regions[1].name"},
		{"empty regions", `{"dataset": "global", "regions": []}`, 400, "regions"},
		{"bad name", `{"dataset": "global", "regions": [{"name": "../../x", "bbox": [0, 0, 1, 1]}]}`, 400, "regions[0].name"},
		{"bad time", `{"dataset": "global", "regions": [{"name": "a", "bbox": [0, 0, 1, 1]}], "time": {"start": "2020-13-45"}}`, 400, "time.start"},
		{"unknown field", `{"dataset": "global", "regions": [{"name": "a", "bbox": [0, 0, 1, 1]}], "colour": 1}`, 400, "colour"},
		{"not json", `{"dataset": `, 400, ""},
		{"too many regions", jobBody("global", names("t", 21), slices.Repeat(fourteen()[:1], 21), ""), 413, "regions"},
		{"body too large", `{"dataset": "global", "regions": [], "variables": ["` + strings.Repeat("x", 70000) + `"]}`, 413, ""},
	}
	for _, c := range cases {
		r := s.do("POST", "/v1/jobs", c.body)
		var p api.Problem
		r.json(t, &p)
		if r.StatusCode != c.status || p.Field != c.field || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s: %d %s", c.name, r.StatusCode, r.body)
		}
	}
	// Queue full: one job accepted (its task waits 5 s), the next refused.
	s.submit(one)
	r := s.do("POST", "/v1/jobs", one)
	if r.StatusCode != 429 || r.Header.Get("Retry-After") == "" {
		t.Errorf("queue full: %d %s", r.StatusCode, r.body)
	}
	for _, p := range []string{"/v1/datasets/leak", "/v1/datasets/leakdir", "/v1/datasets/..%2F..%2Fetc", "/v1/jobs/nope",
		"/v1/jobs/nope/files/x.nc", "/v1/jobs/..%2F..%2Fsubsetd.db", "/v1/jobs/x/files/..%2F..%2F..%2Fsubsetd.db"} {
		if r := s.do("GET", p, ""); r.StatusCode != 404 {
			t.Errorf("%s: %d %s", p, r.StatusCode, r.body)
		}
	}
	var dl api.DatasetList
	s.do("GET", "/v1/datasets", "").json(t, &dl)
	if len(dl.Datasets) != 1 || dl.Datasets[0].ID != "global" {
		t.Errorf("datasets %+v", dl)
	}
	for _, q := range []string{"?limit=0", "?status=done", "?limit=1000"} {
		if r := s.do("GET", "/v1/jobs"+q, ""); r.StatusCode != 400 {
			t.Errorf("%s: %d", q, r.StatusCode)
		}
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/v1/openapi.json"} {
		if r := s.do("GET", p, ""); r.StatusCode != 200 {
			t.Errorf("%s: %d", p, r.StatusCode)
		}
	}
	r = s.do("GET", "/metrics", "")
	active := bytes.Contains(r.body, []byte(`subsetd_jobs{status="accepted"} 1`)) || bytes.Contains(r.body, []byte(`subsetd_jobs{status="running"} 1`))
	if !active || !bytes.Contains(r.body, []byte("subsetd_queue_depth")) || !bytes.Contains(r.body, []byte("subsetd_http_requests_total")) {
		t.Errorf("metrics lack the job gauges:\n%s", tail(string(r.body), 3000))
	}
}

// Warm workers wait for tasks, each takes one, and they die with the server
// (SIGKILL) as running ones do.
func TestWarmWorkers(t *testing.T) {
	s := start(t, dataDir(t), t.TempDir(), nil, "--workers", "2", "--warm-workers", "2")
	deadline := time.Now().Add(10 * time.Second)
	for len(workers(t)) != 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	idle := workers(t)
	if len(idle) != 2 {
		t.Fatalf("%d worker processes waiting, want 2", len(idle))
	}
	boxes := fourteen()[:3]
	j := s.submit(jobBody("global", names("w", 3), boxes, ""))
	got, _ := s.wait(j.ID, 60*time.Second, final)
	checkFiles(t, s, got, boxes)
	// The log says which process ran each task.
	logged, _ := os.ReadFile(s.log)
	used := 0
	for _, pid := range idle {
		if bytes.Contains(logged, []byte(fmt.Sprintf(`"pid":%d,`, pid))) {
			used++
		}
	}
	if used == 0 {
		t.Errorf("no task ran in the waiting processes %v", idle)
	}
	s.kill()
	waitNoWorkers(t, 2*time.Second)
}

// kill -9 of the server mid-job: workers die with it; a new server on the
// same state directory finishes the job with exact files and no leftovers.
func TestKill9AndRestart(t *testing.T) {
	data, state := dataDir(t), t.TempDir()
	s := start(t, data, state, []string{"SUBSETD_TEST_TASK_DELAY=30s"}, "--warm-workers", "0", "--regions-per-task", "2")
	boxes := fourteen()[:4]
	j := s.submit(jobBody("global", names("z", 4), boxes, ""))
	s.wait(j.ID, 10*time.Second, func(j job) bool { return j.Status == "running" && len(workers(t)) == 2 })
	s.kill()
	waitNoWorkers(t, 2*time.Second)

	s2 := start(t, data, state, nil)
	got, _ := s2.wait(j.ID, 60*time.Second, final)
	checkFiles(t, s2, got, boxes)
	if tmp := tmpFiles(state); len(tmp) > 0 {
		t.Fatalf("temporary files left: %v", tmp)
	}
	// SIGTERM: running tasks finish within the grace period, then it exits 0.
	j = s2.submit(jobBody("global", names("y", 1), boxes[:1], ""))
	s2.kill()
	s3 := start(t, data, state, []string{"SUBSETD_TEST_TASK_DELAY=1s"}, "--shutdown-grace", "20s")
	s3.wait(j.ID, 10*time.Second, func(j job) bool { return j.Status == "running" })
	s3.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s3.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
	s4 := start(t, data, state, nil, "--warm-workers", "0")
	if got := s4.job(j.ID); got.Status != "successful" {
		t.Fatalf("after SIGTERM the running task should have finished: %+v", got)
	}
	waitNoWorkers(t, time.Second)
}
