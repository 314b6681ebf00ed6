package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/readers/open"
)

// faultEnv makes the C readers hang on files named *hang* and fault on
// files named *crash* (open.TestFaultEnv); in workers only, on *whang* and
// *wcrash*.
var faultEnv = open.TestFaultEnv + "=hang:/hang,segv:/crash,worker/hang:/whang,worker/segv:/wcrash"

// runCLI runs the real binary and returns its exit status and output.
func runCLI(t *testing.T, env []string, args ...string) (int, string, string, time.Duration) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	t0 := time.Now()
	err := cmd.Run()
	d := time.Since(t0)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		if !ee.Exited() {
			t.Fatalf("%v: ended by a signal: %v\n%s", args, err, errb.String())
		}
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String(), d
}

// The command line on a file a C library hangs or crashes on: exit status
// 1 with one line naming the file, within the bound, and the other files
// of the run cut.
func TestCLIFileFaults(t *testing.T) {
	dir := t.TempDir()
	good, hang, crash := filepath.Join(dir, "good.nc"), filepath.Join(dir, "hang.nc"), filepath.Join(dir, "crash.nc")
	for _, p := range []string{good, hang, crash} {
		copyFile(t, global, p)
	}
	env := []string{faultEnv}
	code, _, stderr, d := runCLI(t, env, "inspect", "--file-timeout", "1s", hang)
	if want := "subsetd inspect: file " + hang + ": the C library did not answer within 1 s\n"; code != 1 || stderr != want || d > 10*time.Second {
		t.Errorf("inspect hang: %d in %v, %q\nwant %q", code, d, stderr, want)
	}
	code, _, stderr, _ = runCLI(t, env, "inspect", crash)
	if want := "subsetd inspect: file " + crash + ": the C library crashed (SIGSEGV) reading it\n"; code != 1 || stderr != want {
		t.Errorf("inspect crash: %d %q\nwant %q", code, stderr, want)
	}
	code, stdout, _, _ := runCLI(t, env, "inspect", "--json", good)
	if code != 0 || !strings.Contains(stdout, `"format"`) {
		t.Errorf("inspect good: %d %q", code, stdout)
	}
	out := filepath.Join(dir, "out")
	code, _, stderr, _ = runCLI(t, env, "subset", "--region", "a=0,0,10,10", "--out", out, crash)
	if want := "subsetd subset: file " + crash + ": the C library crashed (SIGSEGV) reading it\n"; code != 1 || stderr != want {
		t.Errorf("subset crash: %d %q\nwant %q", code, stderr, want)
	}
	code, stdout, stderr, d = runCLI(t, env, "subset", "--file-timeout", "1s", "--region", "a=0,0,10,10", "--out", out, hang, good, crash)
	if code != 0 || !strings.Contains(stdout, filepath.Join(out, "a", "good.nc")) || d > 20*time.Second ||
		!strings.Contains(stderr, "note: region a: 2 of 3 files failed: file "+hang+": the C library did not answer within 1 s; file "+crash+": the C library crashed (SIGSEGV) reading it") {
		t.Errorf("subset of 3: %d in %v\n%s\n%s", code, d, stdout, stderr)
	}
	ents, _ := filepath.Glob(filepath.Join(out, "*", ".subsetd-tmp-*"))
	top, _ := filepath.Glob(filepath.Join(out, ".subsetd-tmp-*"))
	if len(ents)+len(top) > 0 {
		t.Errorf("temporary files left: %v %v", top, ents)
	}
}

// The server: a file the index found hanging or crashing the C libraries
// is refused at submission, naming it and why; a file that hangs or
// crashes a worker fails with the same words, and the other files of the
// job are cut.
func TestServerFileFaults(t *testing.T) {
	data := t.TempDir()
	copyFile(t, global, filepath.Join(data, "hang.nc"))
	copyFile(t, global, filepath.Join(data, "crash.nc"))
	copyFile(t, global, filepath.Join(data, "whang.nc"))
	for _, f := range []string{"good.nc", "whang.nc", "wcrash.nc"} {
		copyFile(t, global, filepath.Join(data, "g", f))
	}
	conf := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(conf, []byte(`{"datasets": {"g": {"kind": "granules"}}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	s := start(t, data, t.TempDir(), []string{faultEnv}, "--config", conf, "--file-timeout", "1s", "--index-workers", "1")
	deadline := time.Now().Add(30 * time.Second)
	for _, c := range []struct{ dataset, want string }{
		{"hang", `file hang.nc of dataset "hang" cannot be read: the C library did not answer within 1 s (found when it was indexed at `},
		{"crash", `file crash.nc of dataset "crash" cannot be read: the C library crashed (SIGSEGV) reading it (found when it was indexed at `},
	} {
		for {
			r := s.do("POST", "/v1/jobs", `{"dataset": "`+c.dataset+`", "regions": [{"name": "a", "bbox": [0, 0, 10, 10]}]}`)
			if r.StatusCode == 503 && time.Now().Before(deadline) {
				if r.Header.Get("Retry-After") == "" {
					t.Errorf("503 without Retry-After: %s", r.body)
				}
				time.Sleep(100 * time.Millisecond)
				continue
			}
			var p struct{ Detail, Field string }
			r.json(t, &p)
			if r.StatusCode != 400 || p.Field != "dataset" || !strings.HasPrefix(p.Detail, c.want) {
				t.Errorf("%s: %d %s\nwant 400 %s...", c.dataset, r.StatusCode, r.body, c.want)
			}
			break
		}
	}
	// Readable to the index, hanging in the worker.
	var j job
	for {
		r := s.do("POST", "/v1/jobs", `{"dataset": "whang", "regions": [{"name": "a", "bbox": [0, 0, 10, 10]}]}`)
		if r.StatusCode == 503 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if r.StatusCode != 201 {
			t.Fatalf("whang: %d %s", r.StatusCode, r.body)
		}
		r.json(t, &j)
		break
	}
	j, _ = s.wait(j.ID, 30*time.Second, final)
	if want := "file whang.nc: the C library did not answer within 1 s"; j.Status != "failed" || len(j.Regions) != 1 || j.Regions[0].Message != want {
		t.Errorf("whang: %s %+v\nwant the region's message %q", j.Status, j.Regions, want)
	}
	for {
		r := s.do("POST", "/v1/jobs", `{"dataset": "g", "regions": [{"name": "a", "bbox": [0, 0, 10, 10]}]}`)
		if r.StatusCode == 503 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		if r.StatusCode != 201 {
			t.Fatalf("g: %d %s", r.StatusCode, r.body)
		}
		r.json(t, &j)
		break
	}
	j, _ = s.wait(j.ID, 30*time.Second, final)
	// Granules: the files a C library fails on are left out.
	want := "2 of 3 files failed: file g/wcrash.nc: the C library crashed (SIGSEGV) reading it; file g/whang.nc: the C library did not answer within 1 s"
	if j.Status != "successful" || len(j.Regions) != 1 || len(j.Regions[0].Files) != 1 || j.Regions[0].Message != want {
		t.Errorf("g: %s %+v\nwant the region's message %q", j.Status, j.Regions, want)
	}
}

// Readiness is not hostage to one dataset: while the first scan is stuck
// on a file of one dataset, the server is ready, serves a dataset already
// indexed and answers 503 with Retry-After for the one being indexed.
func TestReadyWhileIndexing(t *testing.T) {
	data := dataDir(t) // global.nc
	copyFile(t, global, filepath.Join(data, "zhang", "a.nc"))
	s := launch(t, nil, false, data, t.TempDir(), []string{open.TestFaultEnv + "=hang:/zhang/"}, "--file-timeout", "4s", "--index-workers", "1")
	t0 := time.Now()
	var h struct {
		Status  string
		Indexed bool
	}
	for {
		r, err := s.send("GET", "/readyz", "")
		if err == nil && r.StatusCode == 200 {
			r.json(t, &h)
			break
		}
		if time.Since(t0) > 10*time.Second {
			t.Fatal("not ready after 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if h.Indexed {
		t.Fatalf("indexed already: the scan should be stuck on zhang/a.nc")
	}
	body := func(ds string) string {
		return `{"dataset": "` + ds + `", "regions": [{"name": "a", "bbox": [0, 0, 10, 10]}]}`
	}
	for {
		r := s.do("POST", "/v1/jobs", body("global"))
		if r.StatusCode == 201 {
			break
		}
		if r.StatusCode != 503 || time.Since(t0) > 3*time.Second {
			t.Fatalf("global: %d %s", r.StatusCode, r.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	r := s.do("POST", "/v1/jobs", body("zhang"))
	if r.StatusCode != 503 || r.Header.Get("Retry-After") == "" || !strings.Contains(string(r.body), `dataset \"zhang\" is being indexed`) {
		t.Errorf("zhang while indexed: %d %q %s", r.StatusCode, r.Header.Get("Retry-After"), r.body)
	}
	if time.Since(t0) > 4*time.Second {
		t.Errorf("checks took %v: past the file timeout, the scan may be over", time.Since(t0))
	}
}
