package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/jobs"
)

// The client commands (submit, status, fetch, cancel) through the real
// binary against a real server.

// cli runs the binary with extra environment entries; it returns the exit
// status, standard output and standard error.
func cli(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(cleanEnv(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return code, out.String(), errb.String()
}

// cleanEnv is the environment without the client's variables.
func cleanEnv() []string {
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "SUBSETD_SERVER=") && !strings.HasPrefix(e, "SUBSETD_KEY=") {
			env = append(env, e)
		}
	}
	return env
}

// tree lists the files under dir, '/'-separated and relative to it.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(out)
	return out
}

// dataSection is the data part of ncdump -v vars of a file: the values,
// without the header (whose history and request attributes differ).
func dataSection(t *testing.T, path, vars string) string {
	t.Helper()
	b, err := exec.Command("ncdump", "-v", vars, path).Output()
	if err != nil {
		t.Fatalf("ncdump %s: %v", path, err)
	}
	_, data, ok := strings.Cut(string(b), "\ndata:\n")
	if !ok {
		t.Fatalf("ncdump %s: no data section", path)
	}
	return data
}

func (s *server) manifest(id string, hdr ...string) jobs.Manifest {
	s.t.Helper()
	r := s.do("GET", "/v1/jobs/"+id+"/manifest.json", "", hdr...)
	var m jobs.Manifest
	r.json(s.t, &m)
	return m
}

// TestCLIClient: submit --wait follows the job through its event stream;
// status prints it; fetch downloads every file, laid out as subset lays
// out its outputs, each the server's bytes (checked against the manifest),
// resuming a partial download with a Range request; values equal a local
// cut of the same flags.
func TestCLIClient(t *testing.T) {
	state := t.TempDir()
	key := createKey(t, state, "cli")
	data := dataDir(t)
	s := start(t, data, state, nil, "--auth", "keys")
	env := []string{"SUBSETD_SERVER=" + s.url, "SUBSETD_KEY=" + key}
	flags := []string{"--region", "a=0,0,20,20", "--region", "africa/benguela_current", "--vars", "sst", "--stats", "mean,count"}

	code, stdout, stderr := cli(t, env, append(append([]string{"submit", "--wait"}, flags...), "global")...)
	id := strings.TrimSpace(stdout)
	if code != 0 || !regexp.MustCompile(`^[0-9a-f-]{36}$`).MatchString(id) {
		t.Fatalf("submit --wait: exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
	// The results on stderr, aligned, sizes for people.
	if !regexp.MustCompile(`(?m)^benguela_current +successful +1 +\d+\.\d KiB`).MatchString(stderr) {
		t.Errorf("submit --wait: results\n%s", stderr)
	}
	log, _ := os.ReadFile(s.log)
	if !bytes.Contains(log, []byte(`"path":"/v1/jobs/`+id+`/events"`)) {
		t.Errorf("submit --wait did not follow the job's events")
	}

	// status, with the key as a flag this time.
	code, stdout, stderr = cli(t, []string{"SUBSETD_SERVER=" + s.url}, "status", "--key", key, id)
	if code != 0 || !strings.Contains(stdout, "job "+id+"  successful  100%") || !regexp.MustCompile(`(?m)^a +successful +1 `).MatchString(stdout) {
		t.Errorf("status: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = cli(t, env, "status", "--json", id)
	var doc job
	if code != 0 || json.Unmarshal([]byte(stdout), &doc) != nil || doc.ID != id || doc.Status != "successful" || len(doc.Regions) != 2 {
		t.Errorf("status --json: exit %d %s", code, stdout)
	}

	out := filepath.Join(t.TempDir(), "cuts")
	code, stdout, stderr = cli(t, env, "fetch", "--out", out, id)
	if code != 0 {
		t.Fatalf("fetch: exit %d: %s", code, stderr)
	}
	m := s.manifest(id, auth(key)...)
	var want []string
	for _, e := range m.Files {
		want = append(want, filepath.Join(out, e.Name))
		local, err := os.ReadFile(filepath.Join(out, e.Name))
		if err != nil {
			t.Fatal(err)
		}
		served, err := os.ReadFile(filepath.Join(state, "jobs", id, "files", e.Name))
		if err != nil {
			t.Fatal(err)
		}
		if sha(local) != e.Sha256 || !bytes.Equal(local, served) {
			t.Errorf("%s: sha256 %s, the manifest says %s; equal to the server's file: %v", e.Name, sha(local), e.Sha256, bytes.Equal(local, served))
		}
	}
	if got := strings.Fields(stdout); !slices.Equal(got, want) {
		t.Errorf("fetch printed %q, want %q", got, want)
	}

	// The same flags cut here: the same layout and values.
	local := t.TempDir()
	if code, _, stderr := cli(t, nil, append(append([]string{"subset", "--out", local}, flags...), global)...); code != 0 {
		t.Fatalf("subset: %s", stderr)
	}
	if a, b := tree(t, out), tree(t, local); !slices.Equal(a, b) {
		t.Errorf("fetch laid out %v, subset %v", a, b)
	}
	for _, name := range []string{"a.nc", "benguela_current.nc"} {
		if a, b := dataSection(t, filepath.Join(out, name), "sst"), dataSection(t, filepath.Join(local, name), "sst"); a != b {
			t.Errorf("%s: values differ from the local cut", name)
		}
	}
	// The job's sha256sums names the files as fetch lays them out.
	sums := s.do("GET", "/v1/jobs/"+id+"/sha256sums", "", auth(key)...)
	sumsPath := filepath.Join(t.TempDir(), "SHA256SUMS")
	os.WriteFile(sumsPath, sums.body, 0o644)
	check := exec.Command("sha256sum", "-c", sumsPath)
	check.Dir = out
	if res, err := check.CombinedOutput(); err != nil || strings.Count(string(res), ": OK") != len(m.Files) {
		t.Errorf("sha256sum -c of the job's sha256sums in the fetched folder: %v\n%s", err, res)
	}
	a, _ := os.ReadFile(filepath.Join(local, "stats.csv"))
	b, _ := os.ReadFile(filepath.Join(out, "stats.csv"))
	if !bytes.Equal(a, b) {
		t.Errorf("stats.csv differs:\n%s\n%s", a, b)
	}

	// Resumed: half of a.nc in its .part file, the file gone.
	entry := m.Files[0]
	dest := filepath.Join(out, entry.Name)
	whole, _ := os.ReadFile(dest)
	os.Remove(dest)
	part := dest + "." + entry.Sha256[:12] + ".part"
	os.WriteFile(part, whole[:len(whole)/2], 0o644)
	code, _, stderr = cli(t, env, "fetch", "--out", out, id)
	got, _ := os.ReadFile(dest)
	if code != 0 || !bytes.Equal(got, whole) || !strings.Contains(stderr, "(3 already there)") {
		t.Errorf("resumed fetch: exit %d, same bytes %v: %s", code, bytes.Equal(got, whole), stderr)
	}
	if _, err := os.Stat(part); !os.IsNotExist(err) {
		t.Errorf("the .part file is left: %v", err)
	}
	log, _ = os.ReadFile(s.log)
	if !regexp.MustCompile(`"path":"/v1/jobs/` + id + `/files/` + regexp.QuoteMeta(entry.Name) + `","client":"[^"]*","status":206,"bytes":` + strconv.Itoa(len(whole)-len(whole)/2)).Match(log) {
		t.Errorf("no Range request for the second half of %s in the log", entry.Name)
	}
	// A .part of wrong bytes: fetched again whole.
	os.Remove(dest)
	os.WriteFile(part, bytes.Repeat([]byte{0xff}, len(whole)/2), 0o644)
	code, _, stderr = cli(t, env, "fetch", "--out", out, id)
	got, _ = os.ReadFile(dest)
	if code != 0 || !bytes.Equal(got, whole) {
		t.Errorf("fetch over a bad part: exit %d, same bytes %v: %s", code, bytes.Equal(got, whole), stderr)
	}

	// Errors: a flag's name for the field the server names; no server;
	// a wrong key; an unknown job.
	for _, tc := range []struct {
		env  []string
		args []string
		code int
		want string
	}{
		{env, []string{"submit", "--region", "a=0,0,10,10", "--vars", "sst,chl", "global"}, 2, `subsetd submit: --vars: dataset "global" has no variable "chl"`},
		{env, []string{"submit", "--region", "a=0,10,10,0", "global"}, 2, "subsetd submit: --region a: south (10) is greater than north (0) (a box is W,S,E,N"},
		{env, []string{"submit", "--region", "a=0,0,10,10", "nope"}, 2, `subsetd submit: DATASET: unknown dataset "nope"`},
		{nil, []string{"submit", "--region", "a=0,0,10,10", "global"}, 2, "give the server's URL with --server or $SUBSETD_SERVER"},
		{[]string{"SUBSETD_SERVER=" + s.url, "SUBSETD_KEY=wrong"}, []string{"status", id}, 1, "subsetd status: "},
		{env, []string{"status", "01a2343a-0000-7000-8000-000000000000"}, 1, "subsetd status: "},
		{env, []string{"cancel", id}, 1, "job " + id + " has already ended successful: nothing to cancel"},
	} {
		code, stdout, stderr := cli(t, tc.env, tc.args...)
		if code != tc.code || stdout != "" || !strings.Contains(stderr, tc.want) || strings.Count(stderr, "\n") > 2 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d and %q", tc.args, code, stdout, stderr, tc.code, tc.want)
		}
	}
	var after job
	s.do("GET", "/v1/jobs/"+id, "", auth(key)...).json(t, &after)
	if after.Status != "successful" {
		t.Errorf("the job after a refused cancel: %s", after.Status)
	}
}

// TestCLIGranules: fetch lays out a granules job's files as subset lays
// out several input files: <region>/<file stem>.nc.
func TestCLIGranules(t *testing.T) {
	data := t.TempDir()
	cdl, err := os.ReadFile("../testdata/grids/global2deg.cdl")
	if err != nil {
		t.Fatal(err)
	}
	plain := t.TempDir()
	var files []string
	for day := range 2 {
		text := regexp.MustCompile(`(\n time =\s*)0 ;`).ReplaceAllString(string(cdl), "${1}"+strconv.Itoa(day)+" ;")
		src := filepath.Join(plain, "day"+strconv.Itoa(day)+".cdl")
		os.WriteFile(src, []byte(text), 0o644)
		nc := filepath.Join(plain, "day"+strconv.Itoa(day)+".nc")
		if b, err := exec.Command("ncgen", "-k", "nc4", "-o", nc, src).CombinedOutput(); err != nil {
			t.Fatalf("ncgen: %v %s", err, b)
		}
		copyFile(t, nc, filepath.Join(data, "passes", filepath.Base(nc)))
		files = append(files, nc)
	}
	config := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(config, []byte(`{"datasets": {"passes": {"kind": "granules"}}}`), 0o644)
	s := start(t, data, t.TempDir(), nil, "--config", config)
	flags := []string{"--region", "a=0,0,20,20", "--region", "b=-40,-20,-10,10"}
	code, stdout, stderr := cli(t, nil, append(append([]string{"submit", "--server", s.url, "--wait", "--quiet"}, flags...), "passes")...)
	id := strings.TrimSpace(stdout)
	if code != 0 || stderr != "" {
		t.Fatalf("submit: exit %d, %q %s", code, stdout, stderr)
	}
	out := t.TempDir()
	if code, _, stderr := cli(t, nil, "fetch", "--server", s.url, "--quiet", "--out", out, id); code != 0 || stderr != "" {
		t.Fatalf("fetch: exit %d %q", code, stderr)
	}
	local := t.TempDir()
	if code, _, stderr := cli(t, nil, append(append([]string{"subset", "--out", local}, flags...), files...)...); code != 0 {
		t.Fatalf("subset: %s", stderr)
	}
	want := []string{"a/day0.nc", "a/day1.nc", "b/day0.nc", "b/day1.nc"}
	if a, b := tree(t, out), tree(t, local); !slices.Equal(a, want) || !slices.Equal(b, want) {
		t.Errorf("fetch laid out %v, subset %v; want %v", a, b, want)
	}
	for _, name := range want {
		if a, b := dataSection(t, filepath.Join(out, name), "sst"), dataSection(t, filepath.Join(local, name), "sst"); a != b {
			t.Errorf("%s: values differ from the local cut", name)
		}
	}
}

// TestCLICancel: cancel dismisses a running job; submit --wait following
// it ends with exit status 1.
func TestCLICancel(t *testing.T) {
	s := start(t, dataDir(t), t.TempDir(), []string{"SUBSETD_TEST_TASK_DELAY=30s"}, "--workers", "1")
	env := []string{"SUBSETD_SERVER=" + s.url}
	cmd := exec.Command(binary, "submit", "--wait", "--region", "a=0,0,10,10", "global")
	cmd.Env = append(cleanEnv(), env...)
	pipe, _ := cmd.StdoutPipe()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(pipe).ReadString('\n')
	if err != nil {
		t.Fatalf("submit --wait printed no id: %v %s", err, stderr.Bytes())
	}
	id := strings.TrimSpace(line)
	s.wait(id, 10*time.Second, func(j job) bool { return j.Status == "running" })
	code, stdout, errs := cli(t, env, "cancel", id)
	if code != 0 || stdout != id+" dismissed\n" {
		t.Errorf("cancel: exit %d %q %s", code, stdout, errs)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "job "+id+" dismissed") {
			t.Errorf("submit --wait of a cancelled job: %v\n%s", err, stderr.Bytes())
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("submit --wait still waiting after the cancel")
	}
	if j := s.job(id); j.Status != "dismissed" {
		t.Errorf("after cancel: %s", j.Status)
	}
}

// TestSubsetProgressOnTerminal: subset draws its progress line when
// standard error is a terminal (a pseudo-terminal made by script(1)), and
// not with --quiet.
func TestSubsetProgressOnTerminal(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Fatalf("script (util-linux) is needed: %v", err)
	}
	for _, quiet := range []bool{false, true} {
		line := binary + " subset --out " + t.TempDir() + " --region a=0,0,20,20 --region b=100,-20,140,20 " + global
		if quiet {
			line += " --quiet"
		}
		b, err := exec.Command("script", "-qec", line, "/dev/null").CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", line, err, b)
		}
		drawn := regexp.MustCompile(`\rregions 2/2 · read \d+\.\d KiB · written \d+\.\d KiB`).Match(b)
		if drawn == quiet || !bytes.Contains(b, []byte("REGION")) {
			t.Errorf("quiet %v: progress drawn %v:\n%q", quiet, drawn, b)
		}
	}
}

// TestCLISubmitDryRun: submit --dry-run prints the server's plan and runs
// nothing; its boxes and shapes are those subset --dry-run gives locally.
func TestCLISubmitDryRun(t *testing.T) {
	s := start(t, dataDir(t), t.TempDir(), nil)
	flags := []string{"--region", "a=0,0,20,20", "--region", "africa/benguela_current", "--vars", "sst"}
	code, stdout, stderr := cli(t, nil, append(append([]string{"submit", "--server", s.url, "--dry-run"}, flags...), "global")...)
	if code != 0 || !regexp.MustCompile(`(?m)^a +successful +a\.nc +time=0:0 lat=45:54 lon=90:99 +lat=10 lon=10 time=1 `).MatchString(stdout) ||
		!regexp.MustCompile(`(?m)^total +2 files `).MatchString(stdout) {
		t.Errorf("submit --dry-run: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = cli(t, nil, append(append([]string{"submit", "--server", s.url, "--dry-run", "--json"}, flags...), "global")...)
	var remote struct {
		Regions []struct {
			Name  string
			Files []struct {
				Shape map[string]int
				Box   []map[string]any
			}
		}
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &remote) != nil || len(remote.Regions) != 2 {
		t.Fatalf("submit --dry-run --json: exit %d %s %s", code, stdout, stderr)
	}
	code, stdout, stderr = cli(t, nil, append(append([]string{"subset", "--dry-run", "--json"}, flags...), global)...)
	var local struct {
		Regions []struct {
			Name  string
			Files []struct {
				Shape    map[string]int
				Estimate struct{ Box []map[string]any }
			}
		}
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &local) != nil || len(local.Regions) != 2 {
		t.Fatalf("subset --dry-run --json: exit %d %s %s", code, stdout, stderr)
	}
	for i, r := range remote.Regions {
		l := local.Regions[i]
		if r.Name != l.Name || len(r.Files) != 1 || len(l.Files) != 1 || fmt.Sprint(r.Files[0].Shape) != fmt.Sprint(l.Files[0].Shape) ||
			fmt.Sprint(r.Files[0].Box) != fmt.Sprint(l.Files[0].Estimate.Box) || len(r.Files[0].Box) != 3 {
			t.Errorf("region %d: server %+v, local %+v", i, r, l)
		}
	}
	var list struct{ Jobs []job }
	s.do("GET", "/v1/jobs", "").json(t, &list)
	if len(list.Jobs) != 0 {
		t.Errorf("a dry run made %d jobs", len(list.Jobs))
	}
	if code, _, stderr := cli(t, nil, "submit", "--server", s.url, "--dry-run", "--wait", "--region", "a=0,0,1,1", "global"); code != 2 || !strings.Contains(stderr, "--dry-run runs nothing to --wait for") {
		t.Errorf("--dry-run --wait: exit %d %s", code, stderr)
	}
}
