package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/catalog"
	"github.com/subsetd/subsetd/internal/testutil/fakeworker"
	"github.com/subsetd/subsetd/internal/testutil/pgtest"
)

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == fakeworker.InspectArg {
		fakeworker.InspectMain()
	}
	if os.Getenv(fakeworker.EnvVar) == "1" {
		fakeworker.Main()
	}
	os.Exit(pgtest.Main(m))
}

func TestConfigFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.json")
	os.WriteFile(p, []byte(`{"data": "/d", "workers": 3, "task_timeout": "90s", "retention": "48h", "job_deadline": 0}`), 0o644)
	c := Default()
	if err := c.LoadFile(p); err != nil {
		t.Fatal(err)
	}
	if c.Data != "/d" || c.Workers != 3 || time.Duration(c.TaskTimeout) != 90*time.Second || time.Duration(c.Retention) != 48*time.Hour ||
		c.JobDeadline != 0 || c.Addr != "127.0.0.1:8080" {
		t.Fatalf("%+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(p, []byte(`{"data": "/d", "wokers": 3}`), 0o644)
	if err := c.LoadFile(p); err == nil || !strings.Contains(err.Error(), "wokers") {
		t.Fatalf("unknown key: %v", err)
	}
	bad := Default()
	bad.Workers, bad.LogLevel = 0, "loud"
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "data") || !strings.Contains(err.Error(), "workers") || !strings.Contains(err.Error(), "log_level") {
		t.Fatalf("validate: %v", err)
	}
	// Index settings and datasets.
	os.WriteFile(p, []byte(`{"data": "/d", "index_interval": "1h", "index_workers": 4,
		"datasets": {"sst": {"kind": "granules", "title": "SST swaths", "license": "CC-BY-4.0"}}}`), 0o644)
	c = Default()
	if err := c.LoadFile(p); err != nil {
		t.Fatal(err)
	}
	if time.Duration(c.IndexInterval) != time.Hour || c.IndexWorkers != 4 || c.Datasets["sst"].Kind != "granules" || c.Datasets["sst"].License != "CC-BY-4.0" {
		t.Fatalf("%+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if d := Default(); time.Duration(d.IndexInterval) != 10*time.Minute || d.IndexWorkers < 1 {
		t.Fatalf("defaults %+v", d)
	}
	os.WriteFile(p, []byte(`{"data": "/d", "index_interval": "-1s", "index_workers": 0, "datasets": {"a": {"kind": "cube"}, "../x": {}},
		"public_url": "example.org/x?y=1"}`), 0o644)
	c = Default()
	if err := c.LoadFile(p); err != nil {
		t.Fatal(err)
	}
	err := c.Validate()
	for _, want := range []string{"index_interval", "index_workers", `datasets.a.kind: "cube"`, `"../x" cannot be a dataset id`,
		`public_url: "example.org/x?y=1" is not an absolute http or https URL`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validate: %v, want %q", err, want)
		}
	}
}

// --auth none only on a loopback address, unless explicitly insecure.
func TestAuthNoneOnLoopback(t *testing.T) {
	for addr, loop := range map[string]bool{"127.0.0.1:8080": true, "[::1]:80": true, "localhost:1": true, "127.9.9.9:0": true,
		"0.0.0.0:8080": false, ":8080": false, "10.1.2.3:80": false, "[::]:80": false, "example.org:80": false, "nonsense": false} {
		if Loopback(addr) != loop {
			t.Errorf("Loopback(%q) = %v", addr, !loop)
		}
		c := Default()
		c.Data, c.Addr, c.Auth = "/d", addr, "none"
		if err := c.Validate(); (err == nil) != loop {
			t.Errorf("auth none on %q: %v", addr, err)
		}
		c.InsecureNoAuth = true
		if err := c.Validate(); err != nil && strings.Contains(err.Error(), "auth") {
			t.Errorf("auth none with insecure_no_auth on %q: %v", addr, err)
		}
	}
	c := Default()
	c.Data, c.Auth, c.TrustedProxies, c.Quota.Burst = "/d", "basic", []string{"10.0.0.0/8", "nope"}, -1
	err := c.Validate()
	for _, want := range []string{`auth: "basic"`, `trusted proxy "nope"`, "quota values"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validate: %v, want %q", err, want)
		}
	}
	for origins, ok := range map[string]bool{"https://maps.example.org": true, "http://localhost:3000,https://a.example/": true, "*": true,
		"*,https://a.example": false, "maps.example.org": false, "https://a.example/page": false, "ftp://a.example": false, "https://u@a.example": false} {
		c := Default()
		c.Data, c.CORSOrigins = "/d", strings.Split(origins, ",")
		if err := c.Validate(); (err == nil) != ok {
			t.Errorf("cors_origins %q: %v", origins, err)
		}
	}
}

// waitIndexed waits until the server at base is ready ("indexed" too: its
// first scan of the data directory ended; a job on a dataset not yet
// scanned is a 503).
func waitIndexed(t *testing.T, base string) {
	t.Helper()
	for i := 0; ; i++ {
		r, err := http.Get(base + "/readyz")
		if err == nil {
			var h struct{ Indexed bool }
			json.NewDecoder(r.Body).Decode(&h)
			r.Body.Close()
			if r.StatusCode == 200 && h.Indexed {
				return
			}
		}
		if i > 1000 {
			t.Fatalf("%s not ready: %v", base, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRunServesAndStops(t *testing.T) {
	data, state := t.TempDir(), t.TempDir()
	if err := fakeworker.WriteGrid(filepath.Join(data, "sst.nc"), fakeworker.Grid{}); err != nil {
		t.Fatal(err)
	}
	os.Setenv(fakeworker.EnvVar, "1") // inherited by the worker processes
	defer os.Unsetenv(fakeworker.EnvVar)
	cfg := Default()
	cfg.Data, cfg.State, cfg.Addr, cfg.Workers, cfg.Auth = data, state, "127.0.0.1:0", 1, "none"
	cfg.ReadTimeout = Duration(time.Second)
	cfg.WorkerCommand = []string{os.Args[0]}
	cfg.InspectorCommand = []string{os.Args[0], fakeworker.InspectArg}
	cfg.Datasets = map[string]catalog.Meta{"sst": {Title: "Sea surface temperature", License: "CC0-1.0"}}
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, zerolog.Nop(), func(a string) { addr <- a }) }()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a
	case err := <-done:
		t.Fatal(err)
	}
	// A second server on the same state directory is refused.
	if err := Run(context.Background(), cfg, zerolog.Nop(), nil); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("second server: %v", err)
	}
	waitIndexed(t, base)
	r, err := http.Get(base + "/v1/datasets/sst")
	if err != nil {
		t.Fatal(err)
	}
	var ds struct {
		Kind, Title, License string
		FileCount            int `json:"file_count"`
	}
	json.NewDecoder(r.Body).Decode(&ds)
	r.Body.Close()
	if r.StatusCode != 200 || ds.Kind != "file" || ds.Title != "Sea surface temperature" || ds.License != "CC0-1.0" || ds.FileCount != 1 {
		t.Fatalf("dataset: %d %+v", r.StatusCode, ds)
	}
	if _, err := os.Stat(filepath.Join(state, "index.db")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(base+"/v1/jobs", "application/json", strings.NewReader(`{"dataset": "sst", "regions": [{"name": "a", "bbox": [0, 0, 1, 1]}]}`))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("submit: %v %v", err, resp)
	}
	var j struct{ ID, Status string }
	json.NewDecoder(resp.Body).Decode(&j)
	resp.Body.Close()
	// A body that never ends is cut at the read timeout, headers or not.
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"dataset\": ")
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	slow, err := io.ReadAll(conn)
	conn.Close()
	if !strings.HasPrefix(string(slow), "HTTP/1.1 400") || !strings.Contains(string(slow), "read timeout") {
		t.Fatalf("a body that never ends: %q %v", slow, err)
	}
	for i := 0; j.Status != "successful"; i++ {
		if i > 500 {
			t.Fatalf("job %+v", j)
		}
		time.Sleep(10 * time.Millisecond)
		r, _ := http.Get(base + "/v1/jobs/" + j.ID)
		json.NewDecoder(r.Body).Decode(&j)
		r.Body.Close()
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return")
	}
}
