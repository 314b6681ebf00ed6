package index

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/regions"
)

// File is a file of the index.
type File struct {
	ID      int64     `json:"-"`
	Dataset string    `json:"dataset"`
	Path    string    `json:"path"` // relative to the data root, '/'-separated
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mtime"`
	// Error says why the file could not be read; the fields below are then
	// empty.
	Error    string `json:"error,omitempty"`
	Format   string `json:"format,omitempty"`
	GridKind string `json:"grid_kind,omitempty"`
	// The elements of Variables and Dimensions are shared between files
	// (those of a product are equal): read them, do not modify them.
	Variables  []engine.VarInfo `json:"variables,omitempty"`
	Dimensions []engine.DimInfo `json:"dimensions,omitempty"`
	// BBox is [west, south, east, north] of the cell centres, longitudes in
	// [-180, 180], west > east crossing the antimeridian; nil when the file
	// has no latitude/longitude.
	BBox []float64 `json:"bbox,omitempty"`
	// Footprint is a GeoJSON Polygon or MultiPolygon (2-D grids only), its
	// longitudes unwrapped (they may pass ±180); a ring around a pole runs
	// along the pole. Cell centres lie within FootprintTolerance degrees.
	Footprint          json.RawMessage `json:"footprint,omitempty"`
	FootprintTolerance float64         `json:"footprint_tolerance,omitempty"`
	// TimeStart and TimeEnd are the first and last time steps in UTC (dates
	// of non-standard calendars placed field by field); the ISO strings are
	// the dates as the file's calendar has them.
	TimeStart    *time.Time `json:"time_start,omitempty"`
	TimeEnd      *time.Time `json:"time_end,omitempty"`
	TimeStartISO string     `json:"time_start_iso,omitempty"`
	TimeEndISO   string     `json:"time_end_iso,omitempty"`
	TimeSteps    int        `json:"time_steps,omitempty"`
	TimeUnits    string     `json:"time_units,omitempty"`
	Calendar     string     `json:"calendar,omitempty"`
	TimeError    string     `json:"time_error,omitempty"`
	Sha256       string     `json:"sha256,omitempty"`
	// GridSignature is equal for files that can be joined along time.
	GridSignature string    `json:"grid_signature,omitempty"`
	IndexedAt     time.Time `json:"indexed_at"`
}

// Box returns the file's box as a regions.BBox.
func (f *File) Box() (regions.BBox, bool) {
	if len(f.BBox) != 4 {
		return regions.BBox{}, false
	}
	return regions.BBox{West: f.BBox[0], South: f.BBox[1], East: f.BBox[2], North: f.BBox[3]}, true
}

const fileCols = `f.id, d.name, f.path, f.size, f.mtime_ns, f.indexed_at, f.error, f.format, f.grid_kind,
	f.variables, f.dimensions, f.west, f.south, f.east, f.north, f.footprint, f.footprint_tol,
	f.t_start, f.t_end, f.t_start_iso, f.t_end_iso, f.time_steps, f.time_units, f.calendar, f.time_error,
	f.sha256, f.grid_sig`

func scanFile(rows interface{ Scan(...any) error }) (File, error) {
	var f File
	var mtime, indexed int64
	var vars, dims string
	var w, s, e, n sql.NullFloat64
	var fp sql.NullString
	var t0, t1 sql.NullInt64
	err := rows.Scan(&f.ID, &f.Dataset, &f.Path, &f.Size, &mtime, &indexed, &f.Error, &f.Format, &f.GridKind,
		&vars, &dims, &w, &s, &e, &n, &fp, &f.FootprintTolerance, &t0, &t1, &f.TimeStartISO, &f.TimeEndISO,
		&f.TimeSteps, &f.TimeUnits, &f.Calendar, &f.TimeError, &f.Sha256, &f.GridSignature)
	if err != nil {
		return f, err
	}
	f.ModTime, f.IndexedAt = time.Unix(0, mtime).UTC(), time.Unix(0, indexed).UTC()
	if err := decodeShared(vars, &f.Variables); err != nil {
		return f, fmt.Errorf("variables of %s: %w", f.Path, err)
	}
	if err := decodeShared(dims, &f.Dimensions); err != nil {
		return f, fmt.Errorf("dimensions of %s: %w", f.Path, err)
	}
	if w.Valid {
		f.BBox = []float64{w.Float64, s.Float64, e.Float64, n.Float64}
	}
	if fp.Valid {
		f.Footprint = json.RawMessage(fp.String)
	}
	if t0.Valid {
		a, b := time.Unix(t0.Int64, 0).UTC(), time.Unix(t1.Int64, 0).UTC()
		f.TimeStart, f.TimeEnd = &a, &b
	}
	return f, nil
}

// decoded keeps the variables and dimensions of recent files by their
// JSON text: the granules of one product all have the same, and decoding
// them is most of the cost of listing files.
var decoded = struct {
	sync.Mutex
	m map[string]any
}{m: map[string]any{}}

// decodeShared decodes text into *out, from decoded when it can. The
// elements are shared between files: callers must not modify them.
func decodeShared[T any](text string, out *[]T) error {
	decoded.Lock()
	v, ok := decoded.m[text].([]T)
	decoded.Unlock()
	if !ok {
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			return err
		}
		decoded.Lock()
		if len(decoded.m) >= 4096 {
			clear(decoded.m)
		}
		decoded.m[text] = v
		decoded.Unlock()
	}
	*out = append([]T(nil), v...) // a slice of its own; elements shared
	return nil
}

// lookupDataset returns a dataset's row id; a NotFound error when the index
// has none of that name.
func (s *Store) lookupDataset(ctx context.Context, name string) (int64, int64, error) {
	var id, scanned int64
	err := s.db.QueryRowContext(ctx, "SELECT id, scanned_at FROM datasets WHERE name = ?", name).Scan(&id, &scanned)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, errs.E(errs.NotFound, "no dataset %q in the index", name)
	}
	return id, scanned, err
}

// Search lists the readable files of a dataset ("": of every dataset) that
// intersect bbox (nil: anywhere; a file without latitude/longitude is never
// found by place) and whose time coverage overlaps [start, end] (nil: open;
// a file without a time coordinate matches every time range), ordered by
// start time then path. It returns the page [offset, offset+limit) (limit
// <= 0: all) and the number of matching files.
//
// Boxes are compared on cell centres, edges included, longitudes modulo
// 360 (west > east crosses the antimeridian); a file with a footprint must
// meet the box with its footprint too.
func (s *Store) Search(ctx context.Context, dataset string, bbox *regions.BBox, start, end *time.Time, limit, offset int) ([]File, int, error) {
	if start != nil && end != nil && end.Before(*start) {
		return nil, 0, errs.F(errs.Invalid, "time", "the end of the time range (%s) is before its start (%s)", end.Format(time.RFC3339), start.Format(time.RFC3339))
	}
	offset = max(offset, 0)
	ds := int64(-1)
	if dataset != "" {
		var err error
		if ds, _, err = s.lookupDataset(ctx, dataset); err != nil {
			return nil, 0, err
		}
	}
	var q []span
	if bbox != nil {
		q = querySpans(*bbox)
	}

	// The candidate ids: from the R*Tree when there is a box or a time,
	// from the files table otherwise.
	var cand strings.Builder
	var args []any
	if bbox == nil && start == nil && end == nil {
		cand.WriteString("SELECT id FROM files WHERE error = ''")
		if ds >= 0 {
			cand.WriteString(" AND dataset_id = ?")
			args = append(args, ds)
		}
	} else {
		parts := q
		if bbox == nil {
			parts = []span{{}}
		}
		var t0, t1 *float64
		if end != nil {
			v := float64(end.Unix())
			t1 = &v
		}
		if start != nil {
			v := float64(start.Unix())
			t0 = &v
		}
		for i, sp := range parts {
			if i > 0 {
				cand.WriteString(" UNION ")
			}
			var part *span
			var south, north float64
			if bbox != nil {
				part, south, north = &sp, bbox.South, bbox.North
			}
			args = s.candidateSQL(&cand, args, ds, part, south, north, t0, t1)
		}
	}
	// Exact time test on the files table (the R*Tree's floats are rounded).
	var where strings.Builder
	where.WriteString("f.id IN (" + cand.String() + ")")
	if start != nil || end != nil {
		where.WriteString(" AND (f.t_start IS NULL OR (1 = 1")
		if end != nil {
			where.WriteString(" AND f.t_start <= ?")
			args = append(args, end.Unix())
		}
		if start != nil {
			where.WriteString(" AND f.t_end >= ?")
			args = append(args, start.Unix())
		}
		where.WriteString("))")
	}
	const order = " ORDER BY f.t_start IS NULL, f.t_start, f.path"

	if bbox == nil {
		// Nothing to refine: SQL counts and pages.
		var total int
		if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM files f WHERE "+where.String(), args...).Scan(&total); err != nil {
			return nil, 0, err
		}
		page := s.noLimit() + " OFFSET ?"
		pargs := append(append([]any(nil), args...), offset)
		if limit > 0 {
			page = " LIMIT ? OFFSET ?"
			pargs = append(append([]any(nil), args...), limit, offset)
		}
		files, err := s.queryFiles(ctx, "SELECT "+fileCols+" FROM files f JOIN datasets d ON d.id = f.dataset_id WHERE "+where.String()+order+page, pargs...)
		return files, total, err
	}

	// With a box: exact box test, then the footprint, in Go.
	rows, err := s.db.QueryContext(ctx, "SELECT f.id, f.indexed_at, f.west, f.south, f.east, f.north, f.footprint IS NOT NULL FROM files f WHERE "+where.String()+order, args...)
	if err != nil {
		return nil, 0, err
	}
	type candidate struct {
		id, version int64
		box         []float64
		footprint   bool
	}
	var cands []candidate
	for rows.Next() {
		var c candidate
		var w, so, e, n sql.NullFloat64
		if err := rows.Scan(&c.id, &c.version, &w, &so, &e, &n, &c.footprint); err != nil {
			rows.Close()
			return nil, 0, err
		}
		if !w.Valid {
			continue
		}
		c.box = []float64{w.Float64, so.Float64, e.Float64, n.Float64}
		if !boxIntersects(c.box, q, bbox.South, bbox.North) {
			continue
		}
		c.footprint = c.footprint && !boxWithin(c.box, q, bbox.South, bbox.North)
		cands = append(cands, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var need []int64
	versions := map[int64]int64{}
	for _, c := range cands {
		if c.footprint {
			need = append(need, c.id)
			versions[c.id] = c.version
		}
	}
	shapes, err := s.shapesOf(ctx, need, versions)
	if err != nil {
		return nil, 0, err
	}
	var ids []int64
	for _, c := range cands {
		if c.footprint {
			if sh := shapes[c.id]; sh != nil && !sh.intersects(q, bbox.South, bbox.North) {
				continue
			}
		}
		ids = append(ids, c.id)
	}
	total := len(ids)
	if offset >= len(ids) {
		return []File{}, total, nil
	}
	ids = ids[offset:]
	if limit > 0 && len(ids) > limit {
		ids = ids[:limit]
	}
	files, err := s.filesByID(ctx, ids)
	return files, total, err
}

func (s *Store) queryFiles(ctx context.Context, query string, args ...any) ([]File, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	files := []File{}
	for rows.Next() {
		f, err := scanFile(rows)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	return files, rows.Err()
}

// filesByID reads files in the order of ids.
func (s *Store) filesByID(ctx context.Context, ids []int64) ([]File, error) {
	byID := map[int64]File{}
	for i := 0; i < len(ids); i += 500 {
		chunk := ids[i:min(i+500, len(ids))]
		args := make([]any, len(chunk))
		for k, id := range chunk {
			args[k] = id
		}
		files, err := s.queryFiles(ctx, "SELECT "+fileCols+" FROM files f JOIN datasets d ON d.id = f.dataset_id WHERE f.id IN ("+placeholders(len(chunk))+")", args...)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			byID[f.ID] = f
		}
	}
	out := make([]File, 0, len(ids))
	for _, id := range ids {
		if f, ok := byID[id]; ok {
			out = append(out, f)
		}
	}
	return out, nil
}

// maxShapes bounds the cache of parsed footprints.
const maxShapes = 100_000

// shapesOf returns the parsed footprints of files, from the cache when the
// row did not change since (another process may have rewritten it).
func (s *Store) shapesOf(ctx context.Context, ids []int64, versions map[int64]int64) (map[int64]*shape, error) {
	out := map[int64]*shape{}
	var missing []int64
	s.mu.Lock()
	for _, id := range ids {
		if c, ok := s.shapes[id]; ok && c.version == versions[id] {
			out[id] = c.shape
		} else {
			missing = append(missing, id)
		}
	}
	s.mu.Unlock()
	for i := 0; i < len(missing); i += 500 {
		chunk := missing[i:min(i+500, len(missing))]
		args := make([]any, len(chunk))
		for k, id := range chunk {
			args[k] = id
		}
		rows, err := s.db.QueryContext(ctx, "SELECT id, indexed_at, footprint, footprint_tol FROM files WHERE id IN ("+placeholders(len(chunk))+")", args...)
		if err != nil {
			return nil, err
		}
		loaded := map[int64]cachedShape{}
		for rows.Next() {
			var id, version int64
			var text sql.NullString
			var tol float64
			if err := rows.Scan(&id, &version, &text, &tol); err != nil {
				rows.Close()
				return nil, err
			}
			if !text.Valid {
				continue
			}
			// An unreadable footprint keeps the file (its box matched).
			rings, err := parseFootprint(text.String)
			if err != nil {
				continue
			}
			loaded[id] = cachedShape{version, newShape(rings, tol)}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		s.mu.Lock()
		if len(s.shapes)+len(loaded) > maxShapes {
			s.shapes = map[int64]cachedShape{}
		}
		for id, c := range loaded {
			s.shapes[id] = c
			out[id] = c.shape
		}
		s.mu.Unlock()
	}
	return out, nil
}

// Kind is how a dataset's files go together.
type Kind string

// The kinds.
const (
	// TimeSeries: the files share one grid and split a time series; a job
	// joins them along time (ncrcat) and cuts once.
	TimeSeries Kind = "timeseries"
	// Granules: independent files (swaths, passes, differing grids); a job
	// cuts each file that intersects.
	Granules Kind = "granules"
)

// DatasetSummary describes a dataset from the index.
type DatasetSummary struct {
	ID string `json:"id"`
	// Kind is the kind passed to Dataset, or the detected one.
	Kind     Kind `json:"kind"`
	Detected Kind `json:"detected_kind"`
	// Files counts the readable files, Errors those that could not be read.
	Files  int   `json:"files"`
	Errors int   `json:"errors"`
	Size   int64 `json:"size"` // bytes, every file
	// GridSignatures counts the distinct grids among the readable files.
	GridSignatures int              `json:"grid_signatures"`
	Variables      []engine.VarInfo `json:"variables"`
	// Extent is [west, south, east, north] of every file's box, west > east
	// crossing the antimeridian; nil when no file has one.
	Extent       []float64  `json:"extent,omitempty"`
	TimeStart    *time.Time `json:"time_start,omitempty"`
	TimeEnd      *time.Time `json:"time_end,omitempty"`
	TimeStartISO string     `json:"time_start_iso,omitempty"`
	TimeEndISO   string     `json:"time_end_iso,omitempty"`
	ScannedAt    time.Time  `json:"scanned_at"`
}

// Dataset summarises a dataset. The kind is detected: a time series when
// every readable file has the same grid signature (same variables, types
// and dimensions, same lengths but along time, same lat/lon box) and, when
// there are several, a time coverage; granules otherwise; "" when no file
// could be read. A non-empty kind (from the configuration) overrides it.
func (s *Store) Dataset(ctx context.Context, id string, kind Kind) (*DatasetSummary, error) {
	ds, scanned, err := s.lookupDataset(ctx, id)
	if err != nil {
		return nil, err
	}
	sum := &DatasetSummary{ID: id, ScannedAt: time.Unix(0, scanned).UTC(), Variables: []engine.VarInfo{}}
	var size, noTime sql.NullInt64
	var south, north sql.NullFloat64
	err = s.db.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE error = ''), count(*) FILTER (WHERE error != ''),
		sum(size), count(DISTINCT CASE WHEN error = '' THEN grid_sig END),
		min(south), max(north), count(*) FILTER (WHERE error = '' AND t_start IS NULL)
		FROM files WHERE dataset_id = ?`, ds).Scan(&sum.Files, &sum.Errors, &size, &sum.GridSignatures, &south, &north, &noTime)
	if err != nil {
		return nil, err
	}
	sum.Size = size.Int64
	switch {
	case sum.Files == 0:
	case sum.GridSignatures == 1 && (sum.Files == 1 || noTime.Int64 == 0):
		sum.Detected = TimeSeries
	default:
		sum.Detected = Granules
	}
	sum.Kind = sum.Detected
	if kind != "" {
		sum.Kind = kind
	}
	var t0, t1 sql.NullInt64
	var iso0, iso1 sql.NullString
	if err := s.db.QueryRowContext(ctx, "SELECT t_start, t_start_iso FROM files WHERE dataset_id = ? AND error = '' AND t_start IS NOT NULL ORDER BY t_start LIMIT 1", ds).Scan(&t0, &iso0); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	if err := s.db.QueryRowContext(ctx, "SELECT t_end, t_end_iso FROM files WHERE dataset_id = ? AND error = '' AND t_end IS NOT NULL ORDER BY t_end DESC LIMIT 1", ds).Scan(&t1, &iso1); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	if t0.Valid && t1.Valid {
		a, b := time.Unix(t0.Int64, 0).UTC(), time.Unix(t1.Int64, 0).UTC()
		sum.TimeStart, sum.TimeEnd, sum.TimeStartISO, sum.TimeEndISO = &a, &b, iso0.String, iso1.String
	}
	if south.Valid {
		rows, err := s.db.QueryContext(ctx, "SELECT DISTINCT west, east FROM files WHERE dataset_id = ? AND error = '' AND west IS NOT NULL", ds)
		if err != nil {
			return nil, err
		}
		var spans []span
		for rows.Next() {
			var w, e float64
			if err := rows.Scan(&w, &e); err != nil {
				rows.Close()
				return nil, err
			}
			spans = append(spans, boxSpans(w, e)...)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		w, e := unionLon(spans)
		sum.Extent = []float64{w, south.Float64, e, north.Float64}
	}
	rows, err := s.db.QueryContext(ctx, "SELECT DISTINCT variables FROM files WHERE dataset_id = ? AND error = ''", ds)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for rows.Next() {
		var text string
		if err := rows.Scan(&text); err != nil {
			rows.Close()
			return nil, err
		}
		var vs []engine.VarInfo
		if err := json.Unmarshal([]byte(text), &vs); err != nil {
			rows.Close()
			return nil, err
		}
		for _, v := range vs {
			if !seen[v.Name] {
				seen[v.Name] = true
				v.Shape = nil // varies along time
				sum.Variables = append(sum.Variables, v)
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	sort.Slice(sum.Variables, func(i, j int) bool { return sum.Variables[i].Name < sum.Variables[j].Name })
	return sum, nil
}

// unionLon is the shortest longitude interval covering spans.
func unionLon(spans []span) (w, e float64) {
	arcs := make([][2]float64, len(spans))
	for i, s := range spans {
		arcs[i] = [2]float64{s.w, s.e}
	}
	w, e, _ = regions.CoverArc(arcs)
	return w, e
}

// Failure is a file that could not be read.
type Failure struct {
	Dataset   string    `json:"dataset"`
	Path      string    `json:"path"`
	Error     string    `json:"error"`
	Size      int64     `json:"size"`
	ModTime   time.Time `json:"mtime"`
	IndexedAt time.Time `json:"indexed_at"`
}

// Errors lists the files of a dataset ("": of every dataset) that could not
// be read, by path. They are not opened again until they change.
func (s *Store) Errors(ctx context.Context, dataset string) ([]Failure, error) {
	q := "SELECT d.name, f.path, f.error, f.size, f.mtime_ns, f.indexed_at FROM files f JOIN datasets d ON d.id = f.dataset_id WHERE f.error != ''"
	var args []any
	if dataset != "" {
		ds, _, err := s.lookupDataset(ctx, dataset)
		if err != nil {
			return nil, err
		}
		q += " AND f.dataset_id = ?"
		args = append(args, ds)
	}
	rows, err := s.db.QueryContext(ctx, q+" ORDER BY f.path", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Failure{}
	for rows.Next() {
		var f Failure
		var mtime, indexed int64
		if err := rows.Scan(&f.Dataset, &f.Path, &f.Error, &f.Size, &mtime, &indexed); err != nil {
			return nil, err
		}
		f.ModTime, f.IndexedAt = time.Unix(0, mtime).UTC(), time.Unix(0, indexed).UTC()
		out = append(out, f)
	}
	return out, rows.Err()
}

// Datasets lists the ids of the datasets in the index.
func (s *Store) Datasets(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT name FROM datasets ORDER BY name")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
