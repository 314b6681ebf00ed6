package index

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/subsetd/subsetd/internal/sqlmigrate"
)

// FileName is the name of the index database in the state directory.
const FileName = "index.db"

// The R*Tree has four dimensions: the dataset (its row id ± 0.25), the
// longitude, the latitude and the time (Unix seconds), every extent padded
// a little (padDeg, padTime). Entry ids are
// 2*file_id + part: a box crossing the antimeridian is stored as two
// entries, [west, 180] and [-180, east]. Files without a lat/lon box sit at
// latitude noGeoLat, outside every query box, so that a search by time
// finds them and a search by place does not; files without a time cover
// [-timeInf, timeInf]. Coordinates are 32-bit floats rounded outwards:
// searches re-check every hit against the exact values of the files table.
const (
	noGeoLat = 100.0
	timeInf  = 1e15
	padDeg   = 1e-3 // degrees added around R*Tree boxes
	padTime  = 1800 // seconds added around R*Tree time ranges
)

// Store is the index database.
type Store struct {
	db   *sql.DB
	path string
	pg   bool          // PostgreSQL (store_pg.go)
	scan chan struct{} // held by the running scan

	mu     sync.Mutex
	shapes map[int64]cachedShape // parsed footprints by file id
}

type cachedShape struct {
	version int64 // indexed_at of the row
	shape   *shape
}

// Open opens (creating it if needed) the index in a state directory.
func Open(ctx context.Context, stateDir string) (*Store, error) {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	return OpenFile(ctx, filepath.Join(stateDir, FileName))
}

// OpenFile opens (creating it if needed) the index database at path.
func OpenFile(ctx context.Context, path string) (*Store, error) {
	// WAL lets a `subsetd index` run while the server reads; busy_timeout
	// covers the moments the other process writes.
	db, err := sql.Open("sqlite", path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)&_pragma=cache_size(-65536)")
	if err != nil {
		return nil, fmt.Errorf("index database: %w", err)
	}
	// One connection: SQLite has one writer anyway, and the scan's writer
	// batches its transactions so that searches wait little.
	db.SetMaxOpenConns(1)
	s := &Store{db: db, path: path, scan: make(chan struct{}, 1), shapes: map[int64]cachedShape{}}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("index database %s: %w", path, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Path is the database file.
func (s *Store) Path() string { return s.path }

//go:embed migrations
var migrationFiles embed.FS

// migrate brings the tables to the newest of migrations/ (numbered, one
// folder per SQL dialect). An index written before the version table (it
// kept its version, 1, in PRAGMA user_version) is adopted.
func (s *Store) migrate(ctx context.Context) error {
	files, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	set := sqlmigrate.Set{Table: "index_migration", FS: files, Baseline: 1}
	err = sqlmigrate.Migrate(ctx, s.db, s.dialect(), set)
	if errors.Is(err, sqlmigrate.ErrNewer) {
		return fmt.Errorf("%w (the index is a cache of the files: remove it to rebuild it with this version)", err)
	}
	return err
}

const upsertSQL = `
INSERT INTO files (dataset_id, path, size, mtime_ns, indexed_at, error, format, grid_kind, variables, dimensions,
	west, south, east, north, footprint, footprint_tol, t_start, t_end, t_start_iso, t_end_iso,
	time_steps, time_units, calendar, time_error, sha256, grid_sig)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (path) DO UPDATE SET
	dataset_id = excluded.dataset_id, size = excluded.size, mtime_ns = excluded.mtime_ns,
	indexed_at = excluded.indexed_at, error = excluded.error, format = excluded.format,
	grid_kind = excluded.grid_kind, variables = excluded.variables, dimensions = excluded.dimensions,
	west = excluded.west, south = excluded.south, east = excluded.east, north = excluded.north,
	footprint = excluded.footprint, footprint_tol = excluded.footprint_tol,
	t_start = excluded.t_start, t_end = excluded.t_end, t_start_iso = excluded.t_start_iso,
	t_end_iso = excluded.t_end_iso, time_steps = excluded.time_steps, time_units = excluded.time_units,
	calendar = excluded.calendar, time_error = excluded.time_error, sha256 = excluded.sha256,
	grid_sig = excluded.grid_sig
RETURNING id`

// Put stores files (new or replacing the row of the same path) in one
// transaction. Scans call it; it is exported so that tools and benchmarks
// can fill an index without files.
func (s *Store) Put(ctx context.Context, entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	upsert, err := tx.PrepareContext(ctx, upsertSQL)
	if err != nil {
		return err
	}
	defer upsert.Close()
	unindex, err := tx.PrepareContext(ctx, s.unindexSQL())
	if err != nil {
		return err
	}
	defer unindex.Close()
	index, err := tx.PrepareContext(ctx, s.indexSQL())
	if err != nil {
		return err
	}
	defer index.Close()
	dsIDs := map[string]int64{}
	now := time.Now().UnixNano()
	var ids []int64
	for _, e := range entries {
		if e.Dataset == "" || e.Path == "" {
			return fmt.Errorf("put %q: an entry needs a dataset and a path", e.Path)
		}
		ds, ok := dsIDs[e.Dataset]
		if !ok {
			if ds, err = datasetID(ctx, tx, e.Dataset); err != nil {
				return err
			}
			dsIDs[e.Dataset] = ds
		}
		r := flatten(e)
		vars, _ := json.Marshal(orEmpty(r.vars))
		dims, _ := json.Marshal(orEmpty(r.dims))
		var west, south, east, north, fp any
		if r.bbox != nil {
			west, south, east, north = r.bbox[0], r.bbox[1], r.bbox[2], r.bbox[3]
		}
		if r.footprint != nil {
			fp = geoJSON(r.footprint)
		}
		var t0, t1 any
		if r.tStart != nil {
			t0, t1 = *r.tStart, *r.tEnd
		}
		var id int64
		err := upsert.QueryRowContext(ctx, ds, e.Path, e.Size, e.ModTime.UnixNano(), now, r.errText, r.format, r.gridKind,
			string(vars), string(dims), west, south, east, north, fp, r.tol, t0, t1, r.tStartISO, r.tEndISO,
			r.steps, r.units, r.calendar, r.timeErr, r.sha, r.sig).Scan(&id)
		if err != nil {
			return fmt.Errorf("store %s: %w", e.Path, err)
		}
		ids = append(ids, id)
		for _, rid := range []int64{2 * id, 2*id + 1} {
			if _, err := unindex.ExecContext(ctx, rid); err != nil {
				return err
			}
		}
		if r.errText != "" {
			continue
		}
		tlo, thi := -timeInf, timeInf
		if r.tStart != nil {
			tlo, thi = float64(*r.tStart), float64(*r.tEnd)
		}
		spans := []span{{-180, 180}}
		lat0, lat1 := noGeoLat, noGeoLat
		if r.bbox != nil {
			spans = boxSpans(r.bbox[0], r.bbox[2])
			lat0, lat1 = r.bbox[1], r.bbox[3]
		}
		for k, sp := range spans {
			// Padded: R*-tree insertion picks nodes by volume growth, and
			// a zero extent (one dataset, one time step, one point) makes
			// every volume 0 and the tree a heap. Searches re-check the
			// exact values anyway.
			_, err := index.ExecContext(ctx, s.indexArgs(2*id+int64(k), ds,
				sp.w-padDeg, sp.e+padDeg, lat0-padDeg, lat1+padDeg, tlo-padTime, thi+padTime, id)...)
			if err != nil {
				return fmt.Errorf("index %s: %w", e.Path, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.forget(ids)
	return nil
}

func orEmpty[T any](x []T) []T {
	if x == nil {
		return []T{}
	}
	return x
}

func datasetID(ctx context.Context, tx *sql.Tx, name string) (int64, error) {
	if _, err := tx.ExecContext(ctx, "INSERT INTO datasets (name) VALUES (?) ON CONFLICT (name) DO NOTHING", name); err != nil {
		return 0, err
	}
	var id int64
	err := tx.QueryRowContext(ctx, "SELECT id FROM datasets WHERE name = ?", name).Scan(&id)
	return id, err
}

// deleteFiles drops files by id, and the datasets left without files.
func (s *Store) deleteFiles(ctx context.Context, ids []int64) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, id := range ids {
		for _, rid := range []int64{2 * id, 2*id + 1} {
			if _, err := tx.ExecContext(ctx, s.unindexSQL(), rid); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM files WHERE id = ?", id); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM datasets WHERE id NOT IN (SELECT DISTINCT dataset_id FROM files)"); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	s.forget(ids)
	return nil
}

func (s *Store) forget(ids []int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		delete(s.shapes, id)
	}
}

// geoJSON writes footprint rings as a GeoJSON Polygon (one ring) or
// MultiPolygon, closing each ring.
func geoJSON(rings [][][2]float64) string {
	closed := make([][][2]float64, len(rings))
	for i, r := range rings {
		closed[i] = append(append([][2]float64(nil), r...), r[0])
	}
	var b []byte
	if len(closed) == 1 {
		b, _ = json.Marshal(map[string]any{"type": "Polygon", "coordinates": closed})
	} else {
		polys := make([][][][2]float64, len(closed))
		for i, r := range closed {
			polys[i] = [][][2]float64{r}
		}
		b, _ = json.Marshal(map[string]any{"type": "MultiPolygon", "coordinates": polys})
	}
	return string(b)
}

// parseFootprint reads what geoJSON wrote back into open rings.
func parseFootprint(text string) ([][][2]float64, error) {
	var g struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
	}
	if err := json.Unmarshal([]byte(text), &g); err != nil {
		return nil, err
	}
	var rings [][][2]float64
	switch g.Type {
	case "Polygon":
		if err := json.Unmarshal(g.Coordinates, &rings); err != nil {
			return nil, err
		}
		rings = rings[:min(len(rings), 1)]
	case "MultiPolygon":
		var polys [][][][2]float64
		if err := json.Unmarshal(g.Coordinates, &polys); err != nil {
			return nil, err
		}
		for _, p := range polys {
			if len(p) > 0 {
				rings = append(rings, p[0])
			}
		}
	default:
		return nil, fmt.Errorf("footprint of type %q", g.Type)
	}
	for i, r := range rings {
		if len(r) > 1 && r[0] == r[len(r)-1] {
			rings[i] = r[:len(r)-1]
		}
	}
	if len(rings) == 0 {
		return nil, errors.New("empty footprint")
	}
	return rings, nil
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
