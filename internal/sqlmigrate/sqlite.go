package sqlmigrate

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
)

// adoptSQLite recognises a database written before the version table: one
// that holds a table the baseline creates. It builds the baseline's schema
// in a scratch in-memory database and gives the database what it lacks:
// tables, indexes, triggers and views by their CREATE statements, columns
// by ALTER TABLE ADD COLUMN with their type, NOT NULL and default (the only
// way the old schemas grew). A baseline column that the database has with
// another type or nullability makes the schema an unknown one: an error.
func adoptSQLite(ctx context.Context, drv driver.Driver, tx *sql.Tx, base []migration) (bool, error) {
	scratch := sql.OpenDB(connector{drv, ":memory:"})
	defer scratch.Close()
	scratch.SetMaxOpenConns(1) // every connection to :memory: is a database of its own
	for _, m := range base {
		if _, err := scratch.ExecContext(ctx, m.sql); err != nil {
			return false, fmt.Errorf("%s.sql on a scratch database: %w", m.name, err)
		}
	}
	want, err := sqliteObjects(ctx, scratch)
	if err != nil {
		return false, err
	}
	have, err := sqliteObjects(ctx, tx)
	if err != nil {
		return false, err
	}
	found := false
	for _, o := range want {
		found = found || (o.typ == "table" && have.get(o.name) != nil)
	}
	if !found {
		return false, nil
	}
	for _, o := range want {
		h := have.get(o.name)
		switch {
		case h == nil:
			if _, err := tx.ExecContext(ctx, o.sql); err != nil {
				return false, fmt.Errorf("create %s %s: %w", o.typ, o.name, err)
			}
			// A virtual table brings its shadow tables.
			if have, err = sqliteObjects(ctx, tx); err != nil {
				return false, err
			}
		case h.typ != o.typ:
			return false, fmt.Errorf("%s is a %s where version %d has a %s", o.name, h.typ, base[len(base)-1].version, o.typ)
		case o.typ == "table":
			if err := addColumns(ctx, scratch, tx, o, base[len(base)-1].version); err != nil {
				return false, err
			}
		}
	}
	return true, nil
}

// addColumns adds to table o of the database the columns of the baseline
// it lacks.
func addColumns(ctx context.Context, scratch *sql.DB, tx *sql.Tx, o *sqliteObject, version int) error {
	want, err := sqliteColumns(ctx, scratch, o.name)
	if err != nil {
		return err
	}
	got, err := sqliteColumns(ctx, tx, o.name)
	if err != nil {
		return err
	}
	have := map[string]column{}
	for _, c := range got {
		have[strings.ToLower(c.name)] = c
	}
	for _, c := range want {
		h, ok := have[strings.ToLower(c.name)]
		if ok {
			if !strings.EqualFold(h.typ, c.typ) || h.notNull != c.notNull {
				return fmt.Errorf("column %s.%s is %s where version %d has %s", o.name, c.name, h, version, c)
			}
			continue
		}
		if strings.HasPrefix(strings.ToUpper(o.sql), "CREATE VIRTUAL") || c.pk > 0 {
			return fmt.Errorf("table %s lacks column %s of version %d, which cannot be added to it", o.name, c.name, version)
		}
		def := quote(c.name) + " " + c.typ
		if c.notNull {
			def += " NOT NULL"
		}
		if c.dflt.Valid {
			def += " DEFAULT " + c.dflt.String
		}
		if _, err := tx.ExecContext(ctx, `ALTER TABLE `+quote(o.name)+` ADD COLUMN `+def); err != nil {
			return fmt.Errorf("add column %s.%s: %w", o.name, c.name, err)
		}
	}
	return nil
}

type sqliteObject struct {
	typ, name, sql string
}

type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// sqliteObjects lists the tables, indexes, triggers and views of a
// database but SQLite's own, in the order they were made.
func sqliteObjects(ctx context.Context, q queryer) (objects, error) {
	rows, err := q.QueryContext(ctx, `SELECT type, name, COALESCE(sql, '') FROM sqlite_master
		WHERE substr(name, 1, 7) <> 'sqlite_' ORDER BY rowid`)
	if err != nil {
		return nil, fmt.Errorf("read the schema: %w", err)
	}
	defer rows.Close()
	var out objects
	for rows.Next() {
		var o sqliteObject
		if err := rows.Scan(&o.typ, &o.name, &o.sql); err != nil {
			return nil, err
		}
		out = append(out, &o)
	}
	return out, rows.Err()
}

type objects []*sqliteObject

// get returns the object named name, or nil.
func (os objects) get(name string) *sqliteObject {
	for _, o := range os {
		if strings.EqualFold(o.name, name) {
			return o
		}
	}
	return nil
}

type column struct {
	name, typ string
	notNull   bool
	dflt      sql.NullString // the default's SQL text
	pk        int
}

func (c column) String() string {
	s := c.typ
	if c.notNull {
		s += " NOT NULL"
	}
	return s
}

func sqliteColumns(ctx context.Context, q queryer, table string) ([]column, error) {
	rows, err := q.QueryContext(ctx, `SELECT name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	defer rows.Close()
	var out []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.name, &c.typ, &c.notNull, &c.dflt, &c.pk); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

func quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// connector opens a database with the driver of another: database/sql has
// no exported way to do that from a *sql.DB.
type connector struct {
	drv driver.Driver
	dsn string
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.drv }
