package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/api"
)

// The disk-full tests meet a real ENOSPC: the server (or the command line)
// runs in a mount namespace of its own (unshare, as root or in a user
// namespace) where a tmpfs of a few hundred KiB is mounted over the folder
// its outputs go to, so that the C libraries' writes fail as on a full
// disk. Nothing is faked: the errno is the kernel's.

// inSmallFS is the command prefix that runs a command with dir on a fresh
// tmpfs of size (a mount size, "160k") seen by that command alone.
func inSmallFS(t *testing.T, dir, size string) []string {
	t.Helper()
	if out, err := exec.Command("unshare", "-Urm", "true").CombinedOutput(); err != nil {
		t.Skipf("no mount namespace for a small tmpfs (unshare -Urm: %v %s)", err, out)
	}
	script := `mkdir -p "$0" && mount -t tmpfs -o size=` + size + ` tmpfs "$0" && exec "$@"`
	return []string{"unshare", "-Urm", "sh", "-c", script, dir}
}

// globeJob is a job of whole-globe regions of global.nc, written without
// compression (94 KB each).
func globeJob(names ...string) string {
	var rs []string
	for _, n := range names {
		rs = append(rs, fmt.Sprintf(`{"name": %q, "bbox": [-180, -90, 180, 90]}`, n))
	}
	return `{"dataset": "global", "regions": [` + strings.Join(rs, ", ") + `], "output": {"format": "netcdf4", "deflate": 0}}`
}

// listFiles lists the regular files below dir, '/'-separated, sorted.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func manifestNames(t *testing.T, s *server, id string) []string {
	t.Helper()
	r := s.do("GET", "/v1/jobs/"+id+"/manifest.json", "")
	if r.StatusCode != 200 {
		t.Fatalf("manifest: %d %s", r.StatusCode, r.body)
	}
	var m struct {
		Files []struct{ Name, Sha256 string }
	}
	r.json(t, &m)
	var out []string
	for _, f := range m.Files {
		out = append(out, f.Name)
	}
	sort.Strings(out)
	return out
}

// waitLog waits until the server's log has a line holding every one of
// parts.
func waitLog(t *testing.T, s *server, limit time.Duration, parts ...string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		b, _ := os.ReadFile(s.log)
	lines:
		for _, l := range strings.Split(string(b), "\n") {
			for _, p := range parts {
				if !strings.Contains(l, p) {
					continue lines
				}
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no log line with %q after %s", parts, limit)
}

func TestDiskFull(t *testing.T) {
	data := dataDir(t)
	state := t.TempDir()
	// Job files on 160 KiB: one output fits, two do not.
	s := launch(t, inSmallFS(t, filepath.Join(state, "jobs"), "160k"), true, data, state, nil,
		"--min-free-space", "0", "--disk-full-delay", "1s", "--max-attempts", "3", "--workers", "1")
	// The tmpfs as the server sees it.
	jobsDir := fmt.Sprintf("/proc/%d/root%s", s.cmd.Process.Pid, filepath.Join(state, "jobs"))
	if _, err := os.Stat(jobsDir); err != nil {
		t.Fatalf("the server's job folder: %v", err)
	}

	t.Run("full at every attempt", func(t *testing.T) {
		t0 := time.Now()
		j, _ := s.wait(s.submit(globeJob("a", "b", "c")).ID, 60*time.Second, final)
		if j.Status != "failed" {
			t.Fatalf("status %s, want failed: %+v", j.Status, j)
		}
		for _, r := range j.Regions {
			if r.Status != "failed" || !strings.HasPrefix(r.Message, "no space left on device") ||
				!strings.Contains(r.Message, "3 attempts") || strings.Contains(r.Message, "HDF") {
				t.Errorf("region %s: %s %q", r.Name, r.Status, r.Message)
			}
		}
		// Attempts 1 s and 2 s apart.
		if d := time.Since(t0); d < 3*time.Second {
			t.Errorf("failed after %s: the retries did not wait", d)
		}
		if got := listFiles(t, filepath.Join(jobsDir, j.ID, "files")); len(got) != 0 {
			t.Errorf("files left at their final paths of a failed job: %v", got)
		}
		if m := manifestNames(t, s, j.ID); len(m) != 0 {
			t.Errorf("manifest lists %v", m)
		}
		t.Logf("region message: %s", j.Regions[0].Message)
	})

	t.Run("space comes back", func(t *testing.T) {
		// 100 KiB taken: the 94 KB output does not fit until it is freed.
		filler := filepath.Join(jobsDir, "filler")
		if err := os.WriteFile(filler, make([]byte, 100<<10), 0o644); err != nil {
			t.Fatal(err)
		}
		id := s.submit(globeJob("d")).ID
		waitLog(t, s, 30*time.Second, id, "no space left on device: task will be retried")
		if j := s.job(id); j.Status == "failed" {
			t.Fatalf("failed at the first full disk: %+v", j)
		} else if r := j.Regions[0]; r.Status == "accepted" && !strings.HasPrefix(r.Message, "no space left on device: waiting 1s for space (attempt 1 of 3)") {
			t.Errorf("a region waiting for space says %q", r.Message)
		}
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
		j, _ := s.wait(id, 30*time.Second, final)
		if j.Status != "successful" || len(j.Regions[0].Files) != 1 {
			t.Fatalf("after space came back: %s %+v", j.Status, j.Regions)
		}
		f := j.Regions[0].Files[0]
		if got := sha(s.download(f.Href)); got != f.Sha256 {
			t.Errorf("download sha256 %s, manifest %s", got, f.Sha256)
		}
		got, want := listFiles(t, filepath.Join(jobsDir, id, "files")), manifestNames(t, s, id)
		if strings.Join(got, ",") != strings.Join(want, ",") || len(got) != 1 {
			t.Errorf("files at final paths %v, manifest %v", got, want)
		}
	})
}

// TestLowDiskSpace: below --min-free-space the server refuses jobs with
// 507 and /readyz says why (the file system's real free space, against a
// reserve no disk has).
func TestLowDiskSpace(t *testing.T) {
	s := launch(t, nil, false, dataDir(t), t.TempDir(), nil, "--min-free-space", "1000000TiB")
	deadline := time.Now().Add(20 * time.Second)
	var r resp
	for {
		r = s.do("GET", "/readyz", "")
		if r.StatusCode == 503 && strings.Contains(string(r.body), "disk space") || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var p api.Problem
	r.json(t, &p)
	if r.StatusCode != 503 || !strings.Contains(p.Detail, "low on disk space") || !strings.Contains(p.Detail, "short") || !strings.Contains(p.Detail, "507") {
		t.Errorf("/readyz: %d %s", r.StatusCode, r.body)
	}
	r = s.do("POST", "/v1/jobs", globeJob("a"))
	p = api.Problem{}
	r.json(t, &p)
	if r.StatusCode != 507 || p.Code != "no_space" || r.Header.Get("Retry-After") != "60" ||
		r.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(p.Detail, "below the 1000000 TiB it keeps free") {
		t.Errorf("POST: %d %v %s", r.StatusCode, r.Header, r.body)
	}
	t.Logf("readyz and POST: %s", p.Detail)
}

// TestDiskFullCommandLine: the command line says "no space left on
// device", not the C library's "NetCDF: HDF error".
func TestDiskFullCommandLine(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	argv := append(inSmallFS(t, out, "40k"), binary, "subset", "--region", "a=-180,-90,180,90", "--deflate", "0", "--out", out, global)
	b, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("exit %v, want 1: %s", err, b)
	}
	if !strings.Contains(string(b), "no space left on device writing") || strings.Contains(string(b), "HDF error") {
		t.Errorf("output:\n%s", b)
	}
	t.Logf("%s", b)
}
