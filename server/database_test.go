package server

import (
	"context"
	"database/sql"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/jobs"
	"github.com/subsetd/subsetd/regions"
)

// The store of a SQLite state directory reads through read-only
// connections that see each committed write at once.
func TestReadConnections(t *testing.T) {
	ctx := context.Background()
	d, err := openDatabases(ctx, Default(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.rdb == nil || d.rdb == d.db {
		t.Fatal("no pool of read connections")
	}
	if _, err := d.rdb.ExecContext(ctx, `DELETE FROM subsetd_job`); err == nil || !strings.Contains(err.Error(), "readonly") {
		t.Fatalf("a write through the read pool: %v", err)
	}
	// Readers side by side while the write connection is held.
	conns := make([]*sql.Conn, readConns-1) // one left for the store
	for i := range conns {
		if conns[i], err = d.rdb.Conn(ctx); err != nil {
			t.Fatal(err)
		}
		defer conns[i].Close()
	}
	s := d.store
	for i := range 3 {
		j := &jobs.Job{ID: "job" + string(rune('a'+i)), Owner: "k", Dataset: "sst",
			Spec: jobs.Spec{Dataset: "sst", Regions: []regions.Fixed{{Name: "r", BBox: []float64{0, 0, 1, 1}}}}, Created: s.Now()}
		if err := s.InTx(ctx, func(tx *sql.Tx) error { return s.Insert(ctx, tx, j, []jobs.Task{{ID: 0, Regions: []int{0}}}, "", "") }); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := conns[i%len(conns)].QueryRowContext(ctx, `SELECT count(*) FROM subsetd_job`).Scan(&n); err != nil || n != i+1 {
			t.Fatalf("a reader after %d commits sees %d jobs (%v)", i+1, n, err)
		}
		got, err := s.Get(ctx, j.ID)
		if err != nil || got.ID != j.ID || len(got.Regions) != 1 {
			t.Fatalf("get after commit: %+v, %v", got, err)
		}
	}
	for _, c := range conns {
		c.Close()
	}
	list, err := s.List(ctx, jobs.ListParams{Owner: "k", Limit: 10})
	if err != nil || len(list) != 3 || list[0].ID != "jobc" {
		t.Fatalf("list: %v, %v", list, err)
	}
}
