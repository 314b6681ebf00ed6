package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/subsetd/subsetd/api"
	"github.com/subsetd/subsetd/internal/testutil/fixtures"
	"github.com/subsetd/subsetd/internal/testutil/openapitest"
	"github.com/subsetd/subsetd/internal/testutil/pgtest"
)

var (
	binary  string // the subsetd binary under test
	global  string // testdata/grids/global2deg.cdl built with ncgen
	apiDoc  *openapitest.Doc
	workDir string
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		fmt.Println("e2e: skipped in -short mode")
		os.Exit(0)
	}
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e setup:", err)
		code = 1
	}
	os.RemoveAll(workDir)
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	for _, tool := range []string{"ncgen", "ncks", "ncdump"} {
		if _, err := exec.LookPath(tool); err != nil {
			return 1, fmt.Errorf("%s is needed (apt-get install netcdf-bin nco): %w", tool, err)
		}
	}
	var err error
	workDir, err = os.MkdirTemp("", "subsetd-e2e-")
	if err != nil {
		return 1, err
	}
	binary = filepath.Join(workDir, "subsetd")
	build := exec.Command("go", "build", "-o", binary, "github.com/subsetd/subsetd/cmd/subsetd")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return 1, fmt.Errorf("go build: %w", err)
	}
	global = filepath.Join(workDir, "global2deg.nc")
	if out, err := exec.Command("ncgen", "-k", "nc4", "-o", global, "../testdata/grids/global2deg.cdl").CombinedOutput(); err != nil {
		return 1, fmt.Errorf("ncgen: %v: %s", err, out)
	}
	if apiDoc, err = openapitest.Load(api.OpenAPI()); err != nil {
		return 1, err
	}
	return pgtest.Main(m), nil
}

// server is a running subsetd serve.
type server struct {
	t     *testing.T
	cmd   *exec.Cmd
	url   string
	state string
	data  string
	log   string
	done  chan error
	// client sends the requests: http.DefaultClient, or one trusting the
	// certificate of a server started with --tls-cert.
	client *http.Client
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// dataDir makes a data directory holding global.nc.
func dataDir(t *testing.T) string {
	d := t.TempDir()
	copyFile(t, global, filepath.Join(d, "global.nc"))
	return d
}

func copyFile(t *testing.T, from, to string) { fixtures.CopyTo(t, from, to) }

// start starts subsetd serve on data and state with extra flags; env
// entries are added to its environment (and so its workers').
func start(t *testing.T, data, state string, env []string, flags ...string) *server {
	t.Helper()
	return launch(t, nil, true, data, state, env, flags...)
}

// launch is start with the server's command line after prefix (nil:
// none), waiting until /readyz answers 200 with the first scan of the data
// directory over ("indexed"), or, with ready unset, until it answers at
// all.
func launch(t *testing.T, prefix []string, ready bool, data, state string, env []string, flags ...string) *server {
	t.Helper()
	addr := freePort(t)
	if i := slices.Index(flags, "--addr"); i >= 0 && i+1 < len(flags) {
		addr = flags[i+1]
	}
	logf := filepath.Join(t.TempDir(), "serve.log")
	lf, err := os.Create(logf)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"serve", "--data", data, "--state", state, "--addr", addr, "--workers", "2"}
	if !slices.Contains(flags, "--auth") {
		args = append(args, "--auth", "none") // the tests of multi-user serving say --auth keys
	}
	args = append(args, flags...)
	argv := append(append(slices.Clone(prefix), binary), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, cmd: cmd, url: "http://" + strings.Replace(addr, "0.0.0.0:", "127.0.0.1:", 1), state: state, data: data, log: logf, done: make(chan error, 1),
		client: http.DefaultClient}
	if i := slices.Index(flags, "--tls-cert"); i >= 0 && i+1 < len(flags) {
		s.url = "https" + strings.TrimPrefix(s.url, "http")
		s.client = tlsClient(t, flags[i+1])
	}
	go func() { s.done <- cmd.Wait(); lf.Close() }()
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			b, _ := os.ReadFile(logf)
			t.Logf("server log:\n%s", tail(string(b), 6000))
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := s.client.Get(s.url + "/readyz")
		if err == nil {
			// Ready, and the first scan of the data directory over:
			// every dataset is served.
			var h struct{ Indexed bool }
			json.NewDecoder(resp.Body).Decode(&h)
			resp.Body.Close()
			if resp.StatusCode == 200 && h.Indexed || !ready {
				return s
			}
		}
		select {
		case err := <-s.done:
			b, _ := os.ReadFile(logf)
			t.Fatalf("server exited: %v\n%s", err, b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("server not ready after 20s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func (s *server) kill() {
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Signal(syscall.SIGKILL)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
		}
	}
}

// resp is a checked response.
type resp struct {
	*http.Response
	body []byte
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// do sends a request and checks the response against the OpenAPI document.
func (s *server) do(method, path, body string, hdr ...string) resp {
	s.t.Helper()
	r, err := s.send(method, path, body, hdr...)
	if err != nil {
		s.t.Fatal(err)
	}
	return r
}

// send is do for any goroutine: a failed request is an error, a response
// the OpenAPI document does not describe is reported with t.Errorf. A
// body is sent as application/json unless hdr says otherwise.
func (s *server) send(method, path, body string, hdr ...string) (resp, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		return resp{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	r, err := s.client.Do(req)
	if err != nil {
		return resp{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return resp{}, fmt.Errorf("%s %s: read the body: %w", method, path, err)
	}
	if _, _, ok := apiDoc.Match(req.URL.Path); ok || r.StatusCode != 404 {
		if err := apiDoc.CheckResponse(method, req.URL.Path, r, b); err != nil {
			s.t.Errorf("OpenAPI: %v\n%s", err, tail(string(b), 2000))
		}
	}
	return resp{r, b}, nil
}

type job = api.JobDoc

func (s *server) submit(body string, hdr ...string) job {
	s.t.Helper()
	r := s.do("POST", "/v1/jobs", body, hdr...)
	if r.StatusCode != 201 {
		s.t.Fatalf("submit: %d %s", r.StatusCode, r.body)
	}
	var j job
	r.json(s.t, &j)
	// A path, or the URL under --public-url.
	if loc := r.Header.Get("Location"); loc != "/v1/jobs/"+j.ID && !strings.HasSuffix(loc, "/v1/jobs/"+j.ID) {
		s.t.Fatalf("Location %q", r.Header.Get("Location"))
	}
	return j
}

func (s *server) job(id string) job {
	s.t.Helper()
	r := s.do("GET", "/v1/jobs/"+id, "")
	if r.StatusCode != 200 {
		s.t.Fatalf("get job: %d %s", r.StatusCode, r.body)
	}
	var j job
	r.json(s.t, &j)
	return j
}

// wait polls a job until ok, recording every status seen, within limit.
func (s *server) wait(id string, limit time.Duration, ok func(job) bool) (job, []string) {
	s.t.Helper()
	var seen []string
	deadline := time.Now().Add(limit)
	for {
		j := s.job(id)
		if len(seen) == 0 || seen[len(seen)-1] != string(j.Status) {
			seen = append(seen, string(j.Status))
		}
		if ok(j) {
			return j, seen
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("job %s: condition not met after %s; statuses %v; last %+v", id, limit, seen, j)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func final(j job) bool { return j.Status != "accepted" && j.Status != "running" }

func (s *server) download(href string) []byte {
	s.t.Helper()
	r := s.do("GET", href, "")
	if r.StatusCode != 200 {
		s.t.Fatalf("download %s: %d %s", href, r.StatusCode, r.body)
	}
	return r.body
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// workers lists the pids of running worker processes of the binary under test.
func workers(t *testing.T) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || exe != binary {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if bytes.Contains(cmdline, []byte("\x00worker")) && !bytes.Contains(stat, []byte(") Z ")) {
			out = append(out, pid)
		}
	}
	return out
}

// waitNoWorkers fails unless every worker process is gone within limit.
func waitNoWorkers(t *testing.T, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ws := workers(t)
		if len(ws) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker processes still running: %v", ws)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ncdumpData is the data section of `ncdump -v vars file`.
func ncdumpData(t *testing.T, file, vars string) string {
	t.Helper()
	out, err := exec.Command("ncdump", "-v", vars, file).CombinedOutput()
	if err != nil {
		t.Fatalf("ncdump %s: %v: %s", file, err, out)
	}
	_, data, ok := strings.Cut(string(out), "\ndata:\n")
	if !ok {
		t.Fatalf("ncdump %s: no data section", file)
	}
	return data
}

// ncksCut is `ncks -d lat,j0,j1 -d lon,i0,i1` of the global grid.
func ncksCut(t *testing.T, j0, j1, i0, i1 int) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), fmt.Sprintf("ncks_%d_%d_%d_%d.nc", j0, j1, i0, i1))
	cmd := exec.Command("ncks", "-O", "-d", fmt.Sprintf("lat,%d,%d", j0, j1), "-d", fmt.Sprintf("lon,%d,%d", i0, i1), global, out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ncks: %v: %s", err, b)
	}
	return out
}

// tmpFiles lists temporary files and directories left in a state dir.
func tmpFiles(state string) []string {
	var out []string
	filepath.WalkDir(filepath.Join(state, "jobs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && (d.Name() == ".tmp" || strings.HasSuffix(d.Name(), ".tmp")) {
			out = append(out, p)
		}
		return nil
	})
	return out
}
