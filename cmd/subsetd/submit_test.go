package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/subsetd/subsetd/engine"
)

// TestSubmitWaitPolls: against a server without event streams, submit
// --wait polls the job as often as its Retry-After says; the key goes in
// the Authorization header, the request as the flags say.
func TestSubmitWaitPolls(t *testing.T) {
	var mu sync.Mutex
	var polls []time.Time
	var body map[string]any
	var auth, idem []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		auth = append(auth, r.Header.Get("Authorization"))
		doc := map[string]any{"id": "j1", "dataset": "sst", "status": "accepted", "progress": 0,
			"regions": []map[string]any{{"name": "a", "status": "accepted", "files": []any{}}},
			"links":   []map[string]string{{"rel": "self", "href": "/v1/jobs/j1"}}}
		switch {
		case r.Method == "POST" && r.URL.Path == "/v1/jobs":
			idem = append(idem, r.Header.Get("Idempotency-Key"))
			json.NewDecoder(r.Body).Decode(&body)
			w.WriteHeader(201)
		case r.URL.Path == "/v1/jobs/j1/events":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(404)
			w.Write([]byte(`{"status": 404, "code": "not_found", "detail": "no such route"}`))
			return
		case r.URL.Path == "/v1/jobs/j1":
			polls = append(polls, time.Now())
			if len(polls) < 3 {
				doc["status"] = "running"
				w.Header().Set("Retry-After", "1")
			} else {
				doc["status"], doc["progress"] = "successful", 100
				doc["regions"] = []map[string]any{{"name": "a", "status": "successful", "files": []map[string]any{{"name": "a.nc", "size": 2048, "sha256": strings.Repeat("0", 64), "md5": "", "href": "/v1/jobs/j1/files/a.nc"}}}}
			}
		default:
			w.WriteHeader(500)
			return
		}
		json.NewEncoder(w).Encode(doc)
	}))
	defer srv.Close()
	t0 := time.Now()
	code, stdout, stderr := runCLI("submit", "--server", srv.URL, "--key", "k1", "--wait",
		"--region", "a=8,-35,20,-15", "--vars", "sst", "--time", "2020-01-03/2020-01-10", "--deflate", "4", "sst")
	if code != 0 || stdout != "j1\n" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, stdout, stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(polls) != 3 || polls[2].Sub(polls[1]) < 900*time.Millisecond || time.Since(t0) < 1800*time.Millisecond {
		t.Errorf("polls at %v after %v", polls, t0)
	}
	for _, a := range auth {
		if a != "Bearer k1" {
			t.Errorf("Authorization %q", a)
		}
	}
	if len(idem) != 1 || !strings.HasPrefix(idem[0], "cli-") {
		t.Errorf("Idempotency-Key %q", idem)
	}
	b, _ := json.Marshal(body)
	want := `{"dataset":"sst","output":{"deflate":4,"format":"netcdf4"},"regions":[{"bbox":[8,-35,20,-15],"name":"a"}],"time":{"end":"2020-01-10","start":"2020-01-03"},"variables":["sst"]}`
	if string(b) != want {
		t.Errorf("request %s\nwant    %s", b, want)
	}
	if !strings.Contains(stderr, "a       successful  1      2.0 KiB") {
		t.Errorf("results:\n%s", stderr)
	}
}

func TestHumanBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 28_100: "27.4 KiB", 5 << 20: "5.0 MiB", 150 << 20: "150 MiB", 3 << 40: "3.0 TiB"} {
		if got := humanBytes(n); got != want {
			t.Errorf("humanBytes(%d) = %q, want %q", n, got, want)
		}
	}
	for d, want := range map[time.Duration]string{4 * time.Second: "4s", 65 * time.Second: "1m05s", 2*time.Hour + 3*time.Minute: "2h03m"} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestProgressLine: on a terminal the line is redrawn in place and erased
// at the end; elsewhere nothing is written.
func TestProgressLine(t *testing.T) {
	var buf strings.Builder
	c := &cutProgress{line: &progressLine{w: &buf, on: true}, meter: newMeter(), cuts: 2}
	c.add(engine.Progress{Read: 2048, Done: 1})
	c.add(engine.Progress{Written: 100, Done: 1})
	c.line.done()
	want := "\rregions 1/2 · read 2.0 KiB · written 0 B" + "\rregions 2/2 · read 2.0 KiB · written 100 B" + "\r" + strings.Repeat(" ", 42) + "\r"
	if buf.String() != want {
		t.Errorf("drawn %q\nwant  %q", buf.String(), want)
	}
	buf.Reset()
	off := newCutProgress(&buf, false, 2) // a strings.Builder is no terminal
	off.add(engine.Progress{Read: 1, Done: 1})
	off.line.done()
	if buf.Len() != 0 {
		t.Errorf("not a terminal, yet drawn %q", buf.String())
	}
}

// TestSubsetTable: the summary's columns are aligned, sizes for people;
// nothing on standard error when it is not a terminal.
func TestSubsetTable(t *testing.T) {
	in := smallFile(t)
	out := t.TempDir()
	code, stdout, stderr := runCLI("subset", "--out", out, "--region", "east=20,-40,160,0", "--region", "none=0,60,10,70", in)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	lines := strings.Split(stdout, "\n")
	col := strings.Index(lines[0], "SIZE")
	if !strings.HasPrefix(lines[0], "REGION  STATUS      FILE") || col < 0 || !regexp.MustCompile(`^\d+\.\d KiB  [0-9a-f]{64}$`).MatchString(lines[1][col:]) ||
		!strings.HasPrefix(lines[2][col:], "-         region none [0, 60, 10, 70] does not intersect") || !strings.HasPrefix(lines[3], "read ") {
		t.Errorf("table:\n%s", stdout)
	}
}
