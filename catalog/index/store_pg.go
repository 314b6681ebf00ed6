package index

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"strings"

	"github.com/subsetd/subsetd/internal/sqlmigrate"
)

// The index on PostgreSQL (several nodes share it) keeps the tables of
// SQLite's index, and instead of the R*Tree a table files_box of PostGIS
// boxes: one row per part of a file's box (the same parts, padding and ids
// as the R*Tree's: a box crossing the antimeridian is two parts within
// [-180, 180], so a planar EPSG:4326 box test is exact and
// antimeridian-safe; files without a box sit at latitude noGeoLat), with
// its time range as a numrange, under one GiST index over both. Searches
// take candidates from it and re-check them against the exact values, in
// the same code as on SQLite: the same answers (TestSearchOracle runs on
// both).

// OpenPostgres opens the index on a PostgreSQL database opened with
// internal/pgsql, migrating it under an advisory lock.
func OpenPostgres(ctx context.Context, db *sql.DB) (*Store, error) {
	s := &Store{db: db, path: "postgres", pg: true, scan: make(chan struct{}, 1), shapes: map[int64]cachedShape{}}
	if err := s.migrate(ctx); err != nil {
		return nil, fmt.Errorf("index database: %w", err)
	}
	return s, nil
}

// dialect is the SQL dialect of the index's database.
func (s *Store) dialect() sqlmigrate.Dialect {
	if s.pg {
		return sqlmigrate.Postgres
	}
	return sqlmigrate.SQLite
}

// CheckMigrations reports a migration of the index that exists for one
// dialect and not for the other.
func CheckMigrations() error {
	files, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	return sqlmigrate.Check(files)
}

// boxSQL is what differs between the dialects in the box index: the
// statements that remove a part, insert one (id, dataset, west, east,
// south, north, t0, t1, file id), and the candidate ids of a query part.
func (s *Store) unindexSQL() string {
	if s.pg {
		return "DELETE FROM files_box WHERE id = ?"
	}
	return "DELETE FROM files_rtree WHERE id = ?"
}

func (s *Store) indexSQL() string {
	if s.pg {
		return "INSERT INTO files_box (id, dataset_id, box, trange, file_id) VALUES (?, ?, ST_MakeEnvelope(?, ?, ?, ?, 4326), numrange(?::numeric, ?::numeric, '[]'), ?)"
	}
	return "INSERT INTO files_rtree (id, ds0, ds1, lon0, lon1, lat0, lat1, t0, t1, file_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
}

func (s *Store) indexArgs(rid, ds int64, w, e, south, north, t0, t1 float64, file int64) []any {
	if s.pg {
		return []any{rid, ds, w, south, e, north, t0, t1, file}
	}
	return []any{rid, float64(ds) - 0.25, float64(ds) + 0.25, w, e, south, north, t0, t1, file}
}

// candidateSQL appends to b the query of the candidate file ids of one
// part of a search (ds < 0: any dataset; sp nil: anywhere; start, end nil:
// any time), and its arguments to args.
func (s *Store) candidateSQL(b *strings.Builder, args []any, ds int64, sp *span, south, north float64, start, end *float64) []any {
	if s.pg {
		b.WriteString("SELECT file_id FROM files_box WHERE true")
		if ds >= 0 {
			b.WriteString(" AND dataset_id = ?")
			args = append(args, ds)
		}
		if sp != nil {
			b.WriteString(" AND box && ST_MakeEnvelope(?, ?, ?, ?, 4326)")
			args = append(args, sp.w, south, sp.e, north)
		}
		if start != nil || end != nil {
			b.WriteString(" AND trange && numrange(?::numeric, ?::numeric, '[]')")
			args = append(args, start, end)
		}
		return args
	}
	b.WriteString("SELECT id >> 1 FROM files_rtree WHERE 1")
	if ds >= 0 {
		b.WriteString(" AND ds0 <= ? AND ds1 >= ?")
		args = append(args, ds, ds)
	}
	if sp != nil {
		b.WriteString(" AND lon0 <= ? AND lon1 >= ? AND lat0 <= ? AND lat1 >= ?")
		args = append(args, sp.e, sp.w, north, south)
	}
	if end != nil {
		b.WriteString(" AND t0 <= ?")
		args = append(args, *end)
	}
	if start != nil {
		b.WriteString(" AND t1 >= ?")
		args = append(args, *start)
	}
	return args
}

// noLimit is the LIMIT of a page without one.
func (s *Store) noLimit() string {
	if s.pg {
		return " LIMIT ALL"
	}
	return " LIMIT -1"
}
