package sqlmigrate

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Dialect is a SQL dialect; its name is the folder of a Set's files
// written in it.
type Dialect string

// The dialects.
const (
	SQLite   Dialect = "sqlite"   // SQLite databases (modernc.org/sqlite)
	Postgres Dialect = "postgres" // PostgreSQL through pgx, queries with ? placeholders rebound (internal/pgsql)
)

// Dialects are the dialects every Set has a folder of migrations for.
var Dialects = []Dialect{SQLite, Postgres}

// Set is the migrations of one store.
type Set struct {
	// Table is the store's version table, created by Migrate: one row per
	// applied migration (version, name, applied_ms).
	Table string
	// FS holds one folder per dialect of files named NNNN_name.sql,
	// numbered from 0001 without gaps.
	FS fs.FS
	// Baseline is the migration whose schema the store wrote before it had
	// a version table, 0 when there is no such schema to adopt.
	Baseline int
}

// ErrNewer is the cause of the error Migrate returns on a database that a
// newer program migrated beyond the migrations it knows.
var ErrNewer = errors.New("the database schema is newer than this program")

type migration struct {
	version int
	name    string // the file name without .sql
	sql     string
}

// dialect is what differs between dialects besides the files.
type dialect struct {
	// versionTable creates the version table (%s) when it does not exist.
	versionTable string
	// lock is the first statement of every migration's transaction (%s:
	// the version table): it takes a lock held until the transaction ends,
	// so that processes migrating one database at once apply each
	// migration once. (PostgreSQL: pg_advisory_xact_lock.)
	lock string
	// record inserts (version, name, applied_ms) into the version table (%s).
	record string
	// lockFirst: the lock statement does not need the version table, and
	// the table is created under it (PostgreSQL's CREATE TABLE IF NOT
	// EXISTS is not safe against a concurrent one).
	lockFirst bool
	// adopt recognises, in tx, a database written before the version table
	// and adds to it what the schema of base lacks; it reports whether the
	// database was one. nil: the dialect has no such databases.
	adopt func(ctx context.Context, drv driver.Driver, tx *sql.Tx, base []migration) (bool, error)
}

var dialects = map[Dialect]*dialect{
	SQLite: {
		versionTable: `CREATE TABLE IF NOT EXISTS %s (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_ms INTEGER NOT NULL
		)`,
		// Deletes nothing (versions start at 1) but, being a write, takes
		// the database's write lock before the version is read: a second
		// process waits (busy_timeout) until the first commits.
		lock:   `DELETE FROM %s WHERE version < 1`,
		record: `INSERT INTO %s (version, name, applied_ms) VALUES (?, ?, ?)`,
		adopt:  adoptSQLite,
	},
	Postgres: {
		versionTable: `CREATE TABLE IF NOT EXISTS %s (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_ms BIGINT NOT NULL
		)`,
		// A transaction-scoped advisory lock keyed by the table's name:
		// nodes starting at once take turns, the first applies.
		lock:      `SELECT pg_advisory_xact_lock(hashtext('subsetd_migrate:%s'))`,
		record:    `INSERT INTO %s (version, name, applied_ms) VALUES (?, ?, ?)`,
		lockFirst: true,
	},
}

var (
	fileName  = regexp.MustCompile(`^([0-9]{4})_([a-z0-9_]+)\.sql$`)
	tableName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
)

// Migrate applies to db, in order, the migrations of set written in d that
// it lacks, each in its own transaction with the row that records it.
func Migrate(ctx context.Context, db *sql.DB, d Dialect, set Set) error {
	dl, ok := dialects[d]
	if !ok {
		return fmt.Errorf("migrate: unknown SQL dialect %q", d)
	}
	if !tableName.MatchString(set.Table) {
		return fmt.Errorf("migrate: bad version table name %q", set.Table)
	}
	ms, err := load(set.FS, d)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if set.Baseline < 0 || set.Baseline > len(ms) {
		return fmt.Errorf("migrate: baseline %d is not one of the %d migrations", set.Baseline, len(ms))
	}
	if err := createVersionTable(ctx, db, dl, set.Table); err != nil {
		return fmt.Errorf("migrate: create %s: %w", set.Table, err)
	}
	for {
		done, err := step(ctx, db, dl, set, ms)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if done {
			return nil
		}
	}
}

func createVersionTable(ctx context.Context, db *sql.DB, dl *dialect, table string) error {
	if !dl.lockFirst {
		_, err := db.ExecContext(ctx, fmt.Sprintf(dl.versionTable, table))
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(dl.lock, table)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(dl.versionTable, table)); err != nil {
		return err
	}
	return tx.Commit()
}

// Check reports an error when a dialect's folder lacks a migration the
// others have, or names it differently: every version exists for every
// dialect of Dialects, under the same name.
func Check(fsys fs.FS) error {
	var first []migration
	for i, d := range Dialects {
		ms, err := load(fsys, d)
		if err != nil {
			return err
		}
		if i == 0 {
			first = ms
			continue
		}
		for v := range max(len(ms), len(first)) {
			switch {
			case v >= len(ms):
				return fmt.Errorf("%s has no migration %s (%s has)", d, first[v].name, Dialects[0])
			case v >= len(first):
				return fmt.Errorf("%s has no migration %s (%s has)", Dialects[0], ms[v].name, d)
			case ms[v].name != first[v].name:
				return fmt.Errorf("migration %04d is %s in %s and %s in %s", v+1, first[v].name, Dialects[0], ms[v].name, d)
			}
		}
	}
	return nil
}

// step applies, in one transaction, the migration after the database's
// version (or adopts a database written before the version table). done:
// the database is at the newest version.
func step(ctx context.Context, db *sql.DB, dl *dialect, set Set, ms []migration) (done bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(dl.lock, set.Table)); err != nil {
		return false, fmt.Errorf("lock %s: %w", set.Table, err)
	}
	var v int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+set.Table).Scan(&v); err != nil {
		return false, fmt.Errorf("read %s: %w", set.Table, err)
	}
	if v > len(ms) {
		return false, fmt.Errorf("%w: %s is at version %d, the newest this program knows is %d", ErrNewer, set.Table, v, len(ms))
	}
	if v == len(ms) {
		return true, nil
	}
	run, record := ms[v:v+1], ms[v:v+1]
	if v == 0 && set.Baseline > 0 && dl.adopt != nil {
		adopted, err := dl.adopt(ctx, db.Driver(), tx, ms[:set.Baseline])
		if err != nil {
			return false, fmt.Errorf("database without %s: %w", set.Table, err)
		}
		if adopted {
			run, record = nil, ms[:set.Baseline]
		}
	}
	for _, m := range run {
		if strings.TrimSpace(m.sql) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return false, fmt.Errorf("%s.sql: %w", m.name, err)
		}
	}
	now := time.Now().UnixMilli()
	for _, m := range record {
		if _, err := tx.ExecContext(ctx, fmt.Sprintf(dl.record, set.Table), m.version, m.name, now); err != nil {
			return false, fmt.Errorf("record %s: %w", m.name, err)
		}
	}
	return false, tx.Commit()
}

// load reads the migrations of dialect d, checking their numbering.
func load(fsys fs.FS, d Dialect) ([]migration, error) {
	if fsys == nil {
		return nil, errors.New("no migration files")
	}
	entries, err := fs.ReadDir(fsys, string(d))
	if err != nil {
		return nil, fmt.Errorf("no %s migrations: %w", d, err)
	}
	var ms []migration
	for _, e := range entries { // sorted by name
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			return nil, fmt.Errorf("%s/%s: not a migration (NNNN_name.sql)", d, e.Name())
		}
		n, _ := strconv.Atoi(m[1])
		if n != len(ms)+1 {
			return nil, fmt.Errorf("%s/%s: numbered %04d where %04d was expected (numbers start at 0001, without gaps or repeats)", d, e.Name(), n, len(ms)+1)
		}
		b, err := fs.ReadFile(fsys, path.Join(string(d), e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: n, name: strings.TrimSuffix(e.Name(), ".sql"), sql: string(b)})
	}
	if len(ms) == 0 {
		return nil, fmt.Errorf("no %s migrations", d)
	}
	return ms, nil
}
