package sqlmigrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	_ "modernc.org/sqlite"
)

const (
	create1 = `CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE INDEX t_name ON t (name);`
	create2 = `ALTER TABLE t ADD COLUMN size INTEGER NOT NULL DEFAULT 7;
CREATE TABLE u (t_id INTEGER NOT NULL REFERENCES t (id), note TEXT NOT NULL DEFAULT '');`
)

func files(sqls ...string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for i, s := range sqls {
		fsys[fmt.Sprintf("sqlite/%04d_step%d.sql", i+1, i+1)] = &fstest.MapFile{Data: []byte(s)}
	}
	return fsys
}

func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(20000)")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func newDB(t *testing.T) *sql.DB {
	return openDB(t, filepath.Join(t.TempDir(), "db.sqlite"))
}

func exec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

type applied struct {
	Version int
	Name    string
	At      int64
}

func versions(t *testing.T, db *sql.DB, table string) []applied {
	t.Helper()
	rows, err := db.Query(`SELECT version, name, applied_ms FROM ` + table + ` ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []applied
	for rows.Next() {
		var a applied
		if err := rows.Scan(&a.Version, &a.Name, &a.At); err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func names(as []applied) []string {
	var out []string
	for _, a := range as {
		out = append(out, fmt.Sprintf("%d %s", a.Version, a.Name))
	}
	return out
}

// schema describes every table's columns and every index of db, in a form
// where two databases with the same schema compare equal however their
// tables were made (CREATE or ALTER).
func schema(t *testing.T, db *sql.DB, except ...string) map[string]string {
	t.Helper()
	ctx := context.Background()
	objs, err := sqliteObjects(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, o := range objs {
		if contains(except, o.name) {
			continue
		}
		if o.typ != "table" {
			out[o.name] = o.typ + " " + strings.Join(strings.Fields(o.sql), " ")
			continue
		}
		cols, err := sqliteColumns(ctx, db, o.name)
		if err != nil {
			t.Fatal(err)
		}
		desc := "table"
		for _, c := range cols {
			desc += fmt.Sprintf(" (%s %s notnull=%v default=%q pk=%d)", c.name, c.typ, c.notNull, c.dflt.String, c.pk)
		}
		out[o.name] = desc
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

func TestMigrateFromEmpty(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	set := Set{Table: "test_migration", FS: files(create1, create2)}
	if err := Migrate(ctx, db, SQLite, set); err != nil {
		t.Fatal(err)
	}
	if got := names(versions(t, db, "test_migration")); !reflect.DeepEqual(got, []string{"1 0001_step1", "2 0002_step2"}) {
		t.Fatalf("versions %v", got)
	}
	exec(t, db, `INSERT INTO t (id, name) VALUES (1, 'a')`)
	exec(t, db, `INSERT INTO u (t_id) VALUES (1)`)
	var size int
	if err := db.QueryRow(`SELECT size FROM t WHERE id = 1`).Scan(&size); err != nil || size != 7 {
		t.Fatalf("size %d, %v", size, err)
	}
}

// Running the migrations again changes nothing: no statement runs, no row
// is recorded.
func TestMigrateTwiceIsNoop(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	set := Set{Table: "test_migration", FS: files(create1, create2)}
	if err := Migrate(ctx, db, SQLite, set); err != nil {
		t.Fatal(err)
	}
	exec(t, db, `INSERT INTO t (id, name) VALUES (1, 'a')`)
	before, vs := schema(t, db), versions(t, db, "test_migration")
	for range 2 {
		if err := Migrate(ctx, db, SQLite, set); err != nil {
			t.Fatal(err)
		}
	}
	if after := schema(t, db); !reflect.DeepEqual(before, after) {
		t.Fatalf("schema changed:\n%v\n%v", before, after)
	}
	if got := versions(t, db, "test_migration"); !reflect.DeepEqual(got, vs) {
		t.Fatalf("versions %v, were %v", got, vs)
	}
}

// A database at version 1 gets only migration 2, and keeps its rows.
func TestMigrateAppliesOnlyNew(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	if err := Migrate(ctx, db, SQLite, Set{Table: "test_migration", FS: files(create1)}); err != nil {
		t.Fatal(err)
	}
	exec(t, db, `INSERT INTO t (id, name) VALUES (1, 'a')`)
	if err := Migrate(ctx, db, SQLite, Set{Table: "test_migration", FS: files(create1, create2)}); err != nil {
		t.Fatal(err)
	}
	var name string
	var size int
	if err := db.QueryRow(`SELECT name, size FROM t WHERE id = 1`).Scan(&name, &size); err != nil || name != "a" || size != 7 {
		t.Fatalf("row: %q %d %v", name, size, err)
	}
	if n := len(versions(t, db, "test_migration")); n != 2 {
		t.Fatalf("%d versions", n)
	}
}

func TestMigrateRefusesNewer(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	if err := Migrate(ctx, db, SQLite, Set{Table: "test_migration", FS: files(create1, create2)}); err != nil {
		t.Fatal(err)
	}
	before := schema(t, db)
	err := Migrate(ctx, db, SQLite, Set{Table: "test_migration", FS: files(create1)})
	if !errors.Is(err, ErrNewer) {
		t.Fatalf("got %v, want ErrNewer", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "version 2") || !strings.Contains(msg, "knows is 1") {
		t.Fatalf("the error does not name both versions: %v", err)
	}
	if after := schema(t, db); !reflect.DeepEqual(before, after) {
		t.Fatal("a refused database was changed")
	}
}

// A migration that fails leaves nothing of itself; those before it stay.
func TestMigrateFailureRollsBack(t *testing.T) {
	ctx := context.Background()
	db := newDB(t)
	bad := `CREATE TABLE v (x INTEGER); INSERT INTO missing VALUES (1);`
	err := Migrate(ctx, db, SQLite, Set{Table: "test_migration", FS: files(create1, bad)})
	if err == nil || !strings.Contains(err.Error(), "0002_step2.sql") || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("got %v, want an error naming 0002_step2.sql and its cause", err)
	}
	if got := names(versions(t, db, "test_migration")); !reflect.DeepEqual(got, []string{"1 0001_step1"}) {
		t.Fatalf("versions %v", got)
	}
	if _, ok := schema(t, db)["v"]; ok {
		t.Fatal("the failed migration's table is left")
	}
	if err := Migrate(ctx, db, SQLite, Set{Table: "test_migration", FS: files(create1, create2)}); err != nil {
		t.Fatal(err)
	}
}

func TestMigrateChecksFiles(t *testing.T) {
	ctx := context.Background()
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	for _, c := range []struct {
		name string
		d    Dialect
		set  Set
		want string
	}{
		{"gap", SQLite, Set{Table: "m", FS: fstest.MapFS{"sqlite/0001_a.sql": file(create1), "sqlite/0003_c.sql": file(create2)}}, "0003_c.sql: numbered 0003 where 0002 was expected"},
		{"repeat", SQLite, Set{Table: "m", FS: fstest.MapFS{"sqlite/0001_a.sql": file(create1), "sqlite/0001_b.sql": file(create2)}}, "0001_b.sql: numbered 0001 where 0002 was expected"},
		{"from zero", SQLite, Set{Table: "m", FS: fstest.MapFS{"sqlite/0000_a.sql": file(create1)}}, "numbered 0000 where 0001 was expected"},
		{"name", SQLite, Set{Table: "m", FS: fstest.MapFS{"sqlite/1_init.sql": file(create1)}}, "1_init.sql: not a migration"},
		{"no folder", SQLite, Set{Table: "m", FS: fstest.MapFS{"postgres/0001_a.sql": file(create1)}}, "no sqlite migrations"},
		{"empty folder", SQLite, Set{Table: "m", FS: fstest.MapFS{"sqlite": &fstest.MapFile{Mode: 0o755 | 1<<31}}}, "no sqlite migrations"},
		{"dialect", Dialect("oracle"), Set{Table: "m", FS: files(create1)}, `unknown SQL dialect "oracle"`},
		{"table", SQLite, Set{Table: "m; DROP TABLE t", FS: files(create1)}, "bad version table name"},
		{"baseline", SQLite, Set{Table: "m", FS: files(create1), Baseline: 2}, "baseline 2 is not one of the 1 migrations"},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := newDB(t)
			err := Migrate(ctx, db, c.d, c.set)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
			if objs, _ := sqliteObjects(ctx, db); len(objs) > 1 {
				t.Fatalf("a refused set changed the database: %v", objs)
			}
		})
	}
}

// A database written before the version table, with an older form of the
// baseline's schema (a column, an index and a table missing), is given
// what it lacks and recorded at the baseline; later migrations then run.
func TestMigrateAdopts(t *testing.T) {
	ctx := context.Background()
	base := `CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, size INTEGER NOT NULL DEFAULT 7, note TEXT);
CREATE INDEX t_name ON t (name);
CREATE TABLE u (t_id INTEGER NOT NULL, tags TEXT NOT NULL DEFAULT '[]');
CREATE VIRTUAL TABLE boxes USING rtree(id, x0, x1);`
	later := `ALTER TABLE u ADD COLUMN more INTEGER NOT NULL DEFAULT 0;`
	set := Set{Table: "test_migration", FS: files(base, later), Baseline: 1}

	fresh := newDB(t)
	if err := Migrate(ctx, fresh, SQLite, set); err != nil {
		t.Fatal(err)
	}

	old := newDB(t)
	exec(t, old, `CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)`)
	exec(t, old, `CREATE VIRTUAL TABLE boxes USING rtree(id, x0, x1)`)
	exec(t, old, `INSERT INTO t VALUES (1, 'a'), (2, 'b')`)
	exec(t, old, `INSERT INTO boxes VALUES (1, 0, 1)`)
	if err := Migrate(ctx, old, SQLite, set); err != nil {
		t.Fatal(err)
	}
	if got, want := schema(t, old, "test_migration"), schema(t, fresh, "test_migration"); !reflect.DeepEqual(got, want) {
		t.Fatalf("adopted schema\n%v\nfresh schema\n%v", got, want)
	}
	if got := names(versions(t, old, "test_migration")); !reflect.DeepEqual(got, []string{"1 0001_step1", "2 0002_step2"}) {
		t.Fatalf("versions %v", got)
	}
	var n, sum, boxes int
	if err := old.QueryRow(`SELECT count(*), sum(size) FROM t WHERE note IS NULL`).Scan(&n, &sum); err != nil || n != 2 || sum != 14 {
		t.Fatalf("rows of t: %d, sum of sizes %d, %v", n, sum, err)
	}
	if err := old.QueryRow(`SELECT count(*) FROM boxes WHERE x0 <= 0.5 AND x1 >= 0.5`).Scan(&boxes); err != nil || boxes != 1 {
		t.Fatalf("boxes: %d, %v", boxes, err)
	}
}

// A table that has a baseline column with another type is not the old
// schema: nothing is changed nor recorded.
func TestMigrateRefusesUnknownSchema(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ name, old, want string }{
		{"type", `CREATE TABLE t (id INTEGER PRIMARY KEY, name BLOB)`, "column t.name is BLOB where version 1 has TEXT NOT NULL"},
		{"kind", `CREATE VIEW t AS SELECT 1 AS id`, "t is a view where version 1 has a table"},
		{"virtual", `CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL); CREATE VIRTUAL TABLE boxes USING rtree(id, x0, x1)`, "table boxes lacks column y0 of version 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := newDB(t)
			exec(t, db, c.old)
			before := schema(t, db)
			set := Set{Table: "test_migration", FS: files(create1 + "\nCREATE VIRTUAL TABLE boxes USING rtree(id, x0, x1, y0, y1);"), Baseline: 1}
			err := Migrate(ctx, db, SQLite, set)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
			if after := schema(t, db, "test_migration"); !reflect.DeepEqual(before, after) {
				t.Fatalf("the database changed:\n%v\n%v", before, after)
			}
			if vs := versions(t, db, "test_migration"); len(vs) != 0 {
				t.Fatalf("recorded %v", vs)
			}
		})
	}
}

// Processes starting at once on one database apply each migration once
// (each would fail on a table that exists if run twice).
func TestMigrateConcurrently(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db.sqlite")
	set := Set{Table: "test_migration", FS: files(create1, create2, `CREATE TABLE w (x INTEGER);`), Baseline: 1}
	const n = 4
	dbs := make([]*sql.DB, n)
	for i := range dbs {
		dbs[i] = openDB(t, path)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, db := range dbs {
		wg.Go(func() { errs[i] = Migrate(ctx, db, SQLite, set) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("migrator %d: %v", i, err)
		}
	}
	if got := len(versions(t, dbs[0], "test_migration")); got != 3 {
		t.Fatalf("%d versions recorded", got)
	}
}
