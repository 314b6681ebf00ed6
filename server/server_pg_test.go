package server

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/internal/testutil/fakeworker"
	"github.com/subsetd/subsetd/internal/testutil/pgtest"
)

func TestDatabaseSetting(t *testing.T) {
	for db, want := range map[string]string{
		"":                         "",
		"postgres://u@h/db":        "",
		"postgresql://u@h:5433/db": "",
		"mysql://u@h/db":           "only postgres://",
		"/var/lib/subsetd/jobs.db": "not a postgres:// URL",
	} {
		c := Default()
		c.Data, c.Database = "/d", db
		err := c.Validate()
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("database %q: %v, want %q", db, err, want)
		}
	}
	c := Default()
	c.Data, c.Database, c.RiverPool = "/d", "postgres://u@h/db", 1
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "river_pool") {
		t.Errorf("river_pool 1: %v", err)
	}
}

// Two nodes on one PostgreSQL database and one state directory: both
// start (no lock on the directory), a job submitted to one is seen and
// downloaded from the other, and the keys are shared.
func TestTwoNodesOnPostgres(t *testing.T) {
	data, state := t.TempDir(), t.TempDir()
	if err := fakeworker.WriteGrid(filepath.Join(data, "sst.nc"), fakeworker.Grid{}); err != nil {
		t.Fatal(err)
	}
	os.Setenv(fakeworker.EnvVar, "1")
	defer os.Unsetenv(fakeworker.EnvVar)
	url := pgtest.Database(t)
	base := make([]string, 2)
	done := make([]chan error, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := range base {
		cfg := Default()
		cfg.Data, cfg.State, cfg.Addr, cfg.Workers, cfg.Auth, cfg.Database = data, state, "127.0.0.1:0", 1, "none", url
		cfg.WorkerCommand = []string{os.Args[0]}
		cfg.InspectorCommand = []string{os.Args[0], fakeworker.InspectArg}
		addr := make(chan string, 1)
		done[i] = make(chan error, 1)
		go func() { done[i] <- Run(ctx, cfg, zerolog.Nop(), func(a string) { addr <- a }) }()
		select {
		case a := <-addr:
			base[i] = "http://" + a
		case err := <-done[i]:
			t.Fatalf("node %d: %v", i, err)
		}
	}
	waitIndexed(t, base[0])
	waitIndexed(t, base[1])
	resp, err := http.Post(base[0]+"/v1/jobs", "application/json", strings.NewReader(`{"dataset": "sst", "regions": [{"name": "a", "bbox": [0, 0, 1, 1]}]}`))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("submit: %v %v", err, resp)
	}
	var j struct {
		ID, Status string
		Regions    []struct{ Files []struct{ Name string } }
	}
	json.NewDecoder(resp.Body).Decode(&j)
	resp.Body.Close()
	id := j.ID
	for i := 0; j.Status != "successful"; i++ {
		if i > 1000 {
			t.Fatalf("job %+v", j)
		}
		time.Sleep(10 * time.Millisecond)
		r, err := http.Get(base[1] + "/v1/jobs/" + id)
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(r.Body).Decode(&j)
		r.Body.Close()
	}
	if len(j.Regions) != 1 || len(j.Regions[0].Files) != 1 {
		t.Fatalf("job from the other node: %+v", j)
	}
	r, err := http.Get(base[1] + "/v1/jobs/" + id + "/files/" + j.Regions[0].Files[0].Name)
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("download from the other node: %v %v", err, r)
	}
	r.Body.Close()
	store, db, err := OpenStoreURL(context.Background(), state, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	nodes, err := store.Nodes(context.Background())
	if err != nil || len(nodes) != 2 {
		t.Fatalf("nodes: %+v %v", nodes, err)
	}
	cancel()
	for i := range done {
		select {
		case err := <-done[i]:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("Run did not return")
		}
	}
	// Each left: no node is listed once both stopped cleanly.
	if nodes, err := store.Nodes(context.Background()); err != nil || len(nodes) != 0 {
		t.Fatalf("nodes after stopping: %+v %v", nodes, err)
	}
}
