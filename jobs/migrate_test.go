package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/internal/sqlmigrate"
)

// openFixture returns a database holding testdata/name ("": an empty one).
func openFixture(t *testing.T, name string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if name != "" {
		text, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(string(text)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	return db
}

// tableSchema describes the store's tables: columns (name, type, NOT
// NULL, default, key) and indexes (explicit, UNIQUE and primary keys).
func tableSchema(t *testing.T, db *sql.DB) []string {
	t.Helper()
	var out []string
	for _, q := range []string{
		`SELECT m.name || ': ' || p.name || ' ' || p.type || ' ' || p."notnull" || ' ' || COALESCE(p.dflt_value, 'NULL') || ' ' || p.pk
			FROM sqlite_master m JOIN pragma_table_info(m.name) p
			WHERE m.type = 'table' AND m.name LIKE 'subsetd\_%' ESCAPE '\' ORDER BY m.name, p.cid`,
		`SELECT m.name || ' index ' || l.name || ' unique ' || l."unique" || ' ' || l.origin || ' on ' || group_concat(i.name)
			FROM sqlite_master m JOIN pragma_index_list(m.name) l JOIN pragma_index_info(l.name) i
			WHERE m.type = 'table' AND m.name LIKE 'subsetd\_%' ESCAPE '\' GROUP BY m.name, l.name ORDER BY m.name, l.name`,
	} {
		rows, err := db.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return out
}

func migrationRows(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT version, name, applied_ms FROM subsetd_job_migration ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v, at int64
		var name string
		if err := rows.Scan(&v, &name, &at); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d %s %d", v, name, at))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// newestMigration is the number of the store's last migration file.
func newestMigration(t *testing.T) int {
	t.Helper()
	es, err := fs.ReadDir(migrationFiles, "migrations/sqlite")
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

func migrate(t *testing.T, db *sql.DB) *Store {
	t.Helper()
	s := NewStore(db)
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// A database that the releases before numbered migrations wrote is adopted
// as it is: the same schema as a new one, its jobs readable and running on.
func TestMigrateAdoptsRelease(t *testing.T) {
	ctx := context.Background()
	fresh := tableSchema(t, migrate(t, openFixture(t, "")).db)
	db := openFixture(t, "unversioned.sql")
	s := migrate(t, db)
	if got := tableSchema(t, db); !reflect.DeepEqual(got, fresh) {
		t.Fatalf("adopted schema\n%s\nnew schema\n%s", strings.Join(got, "\n"), strings.Join(fresh, "\n"))
	}
	vs := migrationRows(t, db)
	if len(vs) != newestMigration(t) || !strings.HasPrefix(vs[0], "1 0001_init ") {
		t.Fatalf("versions %v", vs)
	}
	migrate(t, db)
	if again := migrationRows(t, db); !reflect.DeepEqual(again, vs) {
		t.Fatalf("migrating again: versions %v, were %v", again, vs)
	}

	j, err := s.Get(ctx, "01JA0000000000000000000001")
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if j.Status != Successful || j.Message != "" || j.Kind != "file" || j.Tasks != 1 || !j.Created.Equal(created) || !j.Finished.Equal(created) ||
		!reflect.DeepEqual(j.Notes, []string{"a note"}) || j.FilesOpened != 2 || len(j.Spec.Regions) != 3 || j.Spec.Regions[2].Name != "far" {
		t.Fatalf("job 1: %+v", j)
	}
	want := []Region{
		{Index: 0, Name: "north", Task: 0, Status: Successful, Files: []File{{Name: "north.nc", Size: 1234,
			Sha256: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Md5: "098f6bcd4621d373cade4e832627b4f6"}}},
		{Index: 1, Name: "south", Task: 0, Status: Empty, Message: "outside the grid", Files: []File{}},
		{Index: 2, Name: "far", Task: -1, Status: Empty, Message: "no input file meets the region", Files: []File{}},
	}
	if !reflect.DeepEqual(j.Regions, want) {
		t.Fatalf("regions of job 1:\n%+v\nwant\n%+v", j.Regions, want)
	}
	ts, err := s.Tasks(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts) != 1 || ts[0].Status != Successful || !reflect.DeepEqual(ts[0].Regions, []int{0, 1}) || ts[0].Attempts != 1 || ts[0].RiverID != 7 ||
		!reflect.DeepEqual(ts[0].Files, []string{"sst/a.nc", "sst/b.nc"}) || !reflect.DeepEqual(ts[0].RegionFiles, [][]int{{0}, {0, 1}}) || !ts[0].Concat {
		t.Fatalf("tasks of job 1: %+v", ts)
	}
	if id, hash, err := s.ByIdempotencyKey(ctx, db, "", "key-1"); err != nil || id != j.ID || hash != "hash-1" {
		t.Fatalf("idempotency key: %q %q %v", id, hash, err)
	}

	// The waiting job runs to its end; new jobs are stored beside.
	if _, _, err := s.StartTask(ctx, "01JA0000000000000000000002", 0); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishTask(ctx, "01JA0000000000000000000002", 0, []RegionOutcome{{Index: 0, Status: Successful, Files: []File{{Name: "n.nc", Size: 1}}}},
		TaskStats{Notes: []string{"n"}, FilesOpened: 1}); err != nil {
		t.Fatal(err)
	}
	if j2 := mustGet(t, s, "01JA0000000000000000000002"); j2.Status != Successful || j2.FilesOpened != 1 || len(j2.Regions) != 1 {
		t.Fatalf("job 2: %+v", j2)
	}
	insertJob(t, s, "01JA0000000000000000000003", 2, 1)
	if counts, queued, err := s.Counts(ctx); err != nil || counts[Successful] != 2 || counts[Accepted] != 1 || queued != 2 {
		t.Fatalf("counts %v, queued %d, %v", counts, queued, err)
	}
}

// A database of the first server (before the catalog) gets the columns
// added since, with their defaults.
func TestMigrateAdoptsBeforeCatalog(t *testing.T) {
	ctx := context.Background()
	fresh := tableSchema(t, migrate(t, openFixture(t, "")).db)
	db := openFixture(t, "before-catalog.sql")
	s := migrate(t, db)
	got := tableSchema(t, db)
	// The added columns come last in their tables: compare in any order.
	if !sameSet(got, fresh) {
		t.Fatalf("adopted schema\n%s\nnew schema\n%s", strings.Join(got, "\n"), strings.Join(fresh, "\n"))
	}
	const id = "01H00000000000000000000001"
	ts, err := s.Tasks(ctx, id)
	if err != nil || len(ts) != 1 || ts[0].Files != nil || ts[0].RegionFiles != nil || ts[0].Concat || ts[0].RiverID != 3 {
		t.Fatalf("old task: %+v %v", ts, err)
	}
	if _, _, err := s.StartTask(ctx, id, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishTask(ctx, id, 0, []RegionOutcome{{Index: 0, Status: Empty}}, TaskStats{Notes: []string{"old"}, FilesOpened: 3}); err != nil {
		t.Fatal(err)
	}
	j := mustGet(t, s, id)
	if j.Status != Successful || j.Kind != "" || !reflect.DeepEqual(j.Notes, []string{"old"}) || j.FilesOpened != 3 || j.Regions[0].Name != "north" {
		t.Fatalf("old job: %+v", j)
	}
}

func sameSet(a, b []string) bool {
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

// A database migrated by a newer subsetd is refused with both versions.
func TestMigrateRefusesNewer(t *testing.T) {
	db := openFixture(t, "")
	migrate(t, db)
	newest := newestMigration(t)
	if _, err := db.Exec(`INSERT INTO subsetd_job_migration (version, name, applied_ms) VALUES (?, 'from_the_future', 0)`, newest+1); err != nil {
		t.Fatal(err)
	}
	err := NewStore(db).Migrate(context.Background())
	if !errors.Is(err, sqlmigrate.ErrNewer) {
		t.Fatalf("got %v, want ErrNewer", err)
	}
	if msg := err.Error(); !strings.Contains(msg, fmt.Sprintf("version %d", newest+1)) || !strings.Contains(msg, fmt.Sprintf("knows is %d", newest)) {
		t.Fatalf("the error does not name both versions: %v", err)
	}
}
