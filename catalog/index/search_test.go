package index

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/planar"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/regions"
)

func openTemp(t testing.TB) *Store {
	t.Helper()
	if onPostgres {
		return openPostgres(t)
	}
	s, err := OpenFile(context.Background(), filepath.Join(t.TempDir(), FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// describe makes a description like Describe's: a time axis when start is
// set, variables on (time, lat, lon).
func describe(vars []string, nlat, nlon int, start *time.Time, steps int, stepDur time.Duration) *engine.Description {
	d := &engine.Description{Format: "netcdf4",
		Dimensions: []engine.DimInfo{{Name: "lat", Length: nlat}, {Name: "lon", Length: nlon}},
		Grids:      []engine.GridInfo{{Kind: "rectilinear", Lat: "lat", Lon: "lon"}}}
	d.Variables = []engine.VarInfo{{Name: "lat", Type: "float", Dimensions: []string{"lat"}, Shape: []int{nlat}},
		{Name: "lon", Type: "float", Dimensions: []string{"lon"}, Shape: []int{nlon}}}
	dims := []string{"lat", "lon"}
	if start != nil {
		d.Dimensions = append(d.Dimensions, engine.DimInfo{Name: "time", Length: steps, Unlimited: true})
		d.Axes = []engine.AxisInfo{{Axis: "time", Variable: "time", Dimension: "time", Length: steps}}
		d.Variables = append(d.Variables, engine.VarInfo{Name: "time", Type: "double", Dimensions: []string{"time"}, Shape: []int{steps}})
		end := start.Add(time.Duration(steps-1) * stepDur)
		d.Time = &engine.TimeCoverage{Start: start.UTC().Format(time.RFC3339), End: end.UTC().Format(time.RFC3339), Steps: steps, Units: "days since 2000-01-01", Calendar: "standard"}
		dims = []string{"time", "lat", "lon"}
	}
	for _, v := range vars {
		d.Variables = append(d.Variables, engine.VarInfo{Name: v, Type: "float", Dimensions: dims})
	}
	return d
}

// synthetic is a file of the search test with what the oracle needs.
type synthetic struct {
	entry   Entry
	centres [][2]float64 // lon, lat in the file's own convention
	ring    [][2]float64 // footprint, or nil
	t0, t1  *time.Time   // coverage
	geo     bool         // has a lat/lon grid
	track   bool         // found by the box of its points
	failed  bool
}

func day(n int) time.Time { return time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n) }

// makeSynthetic builds files of every kind the search must handle:
// rectilinear grids in -180..180, 0..360 and beyond, crossing the
// antimeridian; rotated curvilinear grids (footprints); files without time,
// without lat/lon, and failed ones.
func makeSynthetic(rng *rand.Rand, dataset string, n int) []synthetic {
	var out []synthetic
	for i := 0; i < n; i++ {
		s := synthetic{geo: true}
		path := fmt.Sprintf("%s/f%04d.nc", dataset, i)
		var grid GridCoords
		switch k := rng.IntN(20); {
		case k < 11: // rectilinear, integer lattice, any convention
			w := -180 + rng.IntN(540) // up to 360: 0..360 data and past it
			nx, ny := 1+rng.IntN(30), 1+rng.IntN(20)
			s0 := -90 + rng.IntN(181-ny)
			grid = GridCoords{Kind: "rectilinear"}
			for j := 0; j < nx; j++ {
				grid.Lon = append(grid.Lon, float64(w+j))
			}
			for j := 0; j < ny; j++ {
				grid.Lat = append(grid.Lat, float64(s0+j))
			}
			for _, la := range grid.Lat {
				for _, lo := range grid.Lon {
					s.centres = append(s.centres, [2]float64{lo, la})
				}
			}
		case k < 17: // rotated small grid: a convex footprint
			cx, cy := rng.Float64()*360, rng.Float64()*120-60
			a := rng.Float64() * math.Pi
			ny, nx := 3+rng.IntN(8), 3+rng.IntN(8)
			step := 0.5 + rng.Float64()*2
			g := grid2D(ny, nx, func(i, j int) (float64, float64) {
				u, v := (float64(j)-float64(nx-1)/2)*step, (float64(i)-float64(ny-1)/2)*step
				lon := cx + u*math.Cos(a) - v*math.Sin(a)
				return norm180(lon), cy + u*math.Sin(a) + v*math.Cos(a)
			})
			grid = g
			for k := range g.Lat {
				s.centres = append(s.centres, [2]float64{g.Lon[k], g.Lat[k]})
			}
		case k < 18: // no lat/lon
			s.geo = false
		case k < 19: // a track across the antimeridian in 0..360
			grid = GridCoords{Kind: "track"}
			s.track = true
			lo, la := 160+rng.Float64()*30, -60+rng.Float64()*100
			for j := 0; j < 20; j++ {
				grid.Lon = append(grid.Lon, lo+float64(j))
				grid.Lat = append(grid.Lat, la+float64(j)*0.5)
				s.centres = append(s.centres, [2]float64{lo + float64(j), la + float64(j)*0.5})
			}
		default:
			s.failed = true
		}
		var start *time.Time
		steps := 1 + rng.IntN(5)
		if rng.IntN(10) > 0 {
			t := day(rng.IntN(366)).Add(time.Duration(rng.IntN(24)) * time.Hour)
			start = &t
			end := t.Add(time.Duration(steps-1) * 6 * time.Hour)
			s.t0, s.t1 = &t, &end
		}
		rec := Record{Path: "/data/" + path}
		if s.failed {
			rec.Error = "NetCDF: HDF error"
		} else {
			rec.Description = describe([]string{"sst"}, 1, 1, start, steps, 6*time.Hour)
			if s.geo {
				rec.Geo = GeoOf([]GridCoords{grid})
				if rec.Geo != nil && len(rec.Geo.Footprint) == 1 {
					s.ring = rec.Geo.Footprint[0]
				}
			}
		}
		s.entry = Entry{Dataset: dataset, Path: path, Size: int64(1000 + i), ModTime: day(0), Record: rec}
		out = append(out, s)
	}
	return out
}

// oracle decides a synthetic file by brute force: any cell centre in the
// box (regions.BBox.Contains: longitudes modulo 360); for footprints, the
// clipped polygon (orb) has an area. Time: the coverages overlap.
func oracle(s synthetic, b *regions.BBox, start, end *time.Time) bool {
	if s.failed {
		return false
	}
	if s.t0 != nil && ((end != nil && s.t0.After(*end)) || (start != nil && s.t1.Before(*start))) {
		return false
	}
	if b == nil {
		return true
	}
	if !s.geo {
		return false
	}
	if s.track {
		// Two arcs of longitude meet when one's west end is in the other.
		g := s.entry.Record.Geo.BBox
		fb := regions.BBox{West: g[0], South: g[1], East: g[2], North: g[3]}
		return g[1] <= b.North && g[3] >= b.South &&
			(fb.Contains(b.West, g[1]) || b.Contains(fb.West, b.South))
	}
	if s.ring != nil {
		var r orb.Ring
		for _, p := range s.ring {
			r = append(r, orb.Point(p))
		}
		r = append(r, r[0])
		// A line or point box is widened a hair: the clipper measures areas.
		const hair = 1e-7
		w, e := b.West-hair, b.West+b.LonWidth()+hair
		for k := -3.0; k <= 3; k++ {
			bound := orb.Bound{Min: orb.Point{w + 360*k, b.South - hair}, Max: orb.Point{e + 360*k, b.North + hair}}
			if planar.Area(clip.Polygon(bound, orb.Polygon{r})) > 1e-9 {
				return true
			}
		}
		return false
	}
	for _, c := range s.centres {
		if b.Contains(c[0], c[1]) {
			return true
		}
	}
	return false
}

func paths(files []File) []string {
	out := []string{}
	for _, f := range files {
		out = append(out, f.Path)
	}
	return out
}

func TestSearchOracle(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	rng := rand.New(rand.NewPCG(7, 11))
	all := map[string][]synthetic{}
	for _, ds := range []string{"alpha", "beta"} {
		all[ds] = makeSynthetic(rng, ds, 300)
		var es []Entry
		for _, x := range all[ds] {
			es = append(es, x.entry)
		}
		if err := s.Put(ctx, es); err != nil {
			t.Fatal(err)
		}
	}
	// Box edges are integers: the lattice oracle is then exact for
	// rectilinear files.
	boxes := []*regions.BBox{nil,
		{West: -180, South: -90, East: 180, North: 90},
		{West: 0, South: -90, East: 360, North: 90},
		{West: 170, South: -30, East: -170, North: 30},
		{West: 170, South: -30, East: 190, North: 30},
		{West: 350, South: 0, East: 370, North: 10},
		{West: -10, South: 0, East: 10, North: 10},
		{West: 180, South: -90, East: 180, North: 90},
		{West: -180, South: 0, East: -179, North: 5},
	}
	for i := 0; i < 80; i++ {
		w := -180 + rng.IntN(540)
		s0 := -90 + rng.IntN(170)
		boxes = append(boxes, &regions.BBox{West: float64(w), South: float64(s0), East: float64(w + 1 + rng.IntN(30)), North: float64(min(90, s0+1+rng.IntN(20)))})
		if i%5 == 0 { // crossing, written west > east
			boxes = append(boxes, &regions.BBox{West: float64(150 + rng.IntN(30)), South: float64(s0), East: float64(-180 + rng.IntN(30)), North: float64(min(90, s0+20))})
		}
	}
	times := [][2]*time.Time{{nil, nil}}
	for i := 0; i < 6; i++ {
		a := day(rng.IntN(360))
		b := a.Add(time.Duration(rng.IntN(30*24)) * time.Hour)
		times = append(times, [2]*time.Time{&a, &b}, [2]*time.Time{&a, nil}, [2]*time.Time{nil, &b})
	}
	checked, nonEmpty := 0, 0
	for _, b := range boxes {
		// No time range, and two of the others.
		for _, tr := range [][2]*time.Time{times[0], times[1+rng.IntN(len(times)-1)], times[1+rng.IntN(len(times)-1)]} {
			for _, ds := range []string{"alpha", ""} {
				got, total, err := s.Search(ctx, ds, b, tr[0], tr[1], 0, 0)
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				for name, files := range all {
					if ds != "" && name != ds {
						continue
					}
					for _, x := range files {
						if oracle(x, b, tr[0], tr[1]) {
							want = append(want, x.entry.Path)
						}
					}
				}
				gotPaths := paths(got)
				sort.Strings(want)
				sortedGot := append([]string(nil), gotPaths...)
				sort.Strings(sortedGot)
				if total != len(got) || !reflect.DeepEqual(orEmpty(sortedGot), orEmpty(want)) {
					t.Fatalf("dataset %q box %v time %v..%v: got %d (total %d)\n%v\nwant %d\n%v\nmissing %v\nextra %v",
						ds, b, tr[0], tr[1], len(got), total, sortedGot, len(want), want, minus(want, sortedGot), minus(sortedGot, want))
				}
				// Order: start time (files without one last), then path.
				for i := 1; i < len(got); i++ {
					a, c := got[i-1], got[i]
					if less(c, a) {
						t.Fatalf("order: %s before %s", a.Path, c.Path)
					}
				}
				checked++
				if len(want) > 0 {
					nonEmpty++
				}
			}
		}
	}
	if nonEmpty < checked/4 || nonEmpty == checked {
		t.Errorf("%d of %d searches found something: the cases are not discriminating", nonEmpty, checked)
	}
	t.Logf("%d searches, %d non-empty", checked, nonEmpty)
}

func less(a, b File) bool {
	switch {
	case a.TimeStart == nil && b.TimeStart == nil:
		return a.Path < b.Path
	case a.TimeStart == nil:
		return false
	case b.TimeStart == nil:
		return true
	case !a.TimeStart.Equal(*b.TimeStart):
		return a.TimeStart.Before(*b.TimeStart)
	}
	return a.Path < b.Path
}

func minus(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}

// TestSearchFootprintNoFalseNegative: a file with a cell centre in the box
// is found, for boxes of any size (including points and lines), on
// subsampled footprints too.
func TestSearchFootprintNoFalseNegative(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	rng := rand.New(rand.NewPCG(3, 4))
	var grids []GridCoords
	var es []Entry
	for i := 0; i < 40; i++ {
		cx, cy := rng.Float64()*360, rng.Float64()*100-50
		a, bow := rng.Float64()*math.Pi, rng.Float64()*5
		g := grid2D(60+rng.IntN(60), 40+rng.IntN(40), func(i, j int) (float64, float64) {
			u, v := float64(j)*0.2, float64(i)*0.2
			lon := cx + u*math.Cos(a) - v*math.Sin(a) + bow*math.Sin(v/4)
			return lon, math.Max(-90, math.Min(90, cy+u*math.Sin(a)+v*math.Cos(a)))
		})
		grids = append(grids, g)
		d := describe([]string{"sst"}, 1, 1, nil, 0, 0)
		es = append(es, Entry{Dataset: "swaths", Path: fmt.Sprintf("swaths/s%02d.nc", i), Size: 1, ModTime: day(0),
			Record: Record{Description: d, Geo: GeoOf([]GridCoords{g})}})
	}
	if err := s.Put(ctx, es); err != nil {
		t.Fatal(err)
	}
	for n := 0; n < 400; n++ {
		// A box around a random cell centre of a random file.
		i := rng.IntN(len(grids))
		g := grids[i]
		k := rng.IntN(len(g.Lat))
		lon, lat := g.Lon[k], g.Lat[k]
		wd, ht := rng.Float64()*0.3*float64(n%3), rng.Float64()*0.3*float64(n%2)
		b := regions.BBox{West: lon - wd*rng.Float64(), South: math.Max(-90, lat-ht*rng.Float64()), North: math.Min(90, lat+ht)}
		b.East = b.West + wd
		if n%4 == 0 {
			b.West, b.East = b.West+360, b.East+360
		}
		got, _, err := s.Search(ctx, "swaths", &b, nil, nil, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, f := range got {
			found = found || f.Path == es[i].Path
		}
		if !found {
			t.Fatalf("box %v around centre (%v, %v) of %s: not found (got %v)", b, lon, lat, es[i].Path, paths(got))
		}
	}
}

func TestSearchPagesAndErrors(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	rng := rand.New(rand.NewPCG(5, 6))
	syn := makeSynthetic(rng, "pages", 200)
	var es []Entry
	for _, x := range syn {
		es = append(es, x.entry)
	}
	if err := s.Put(ctx, es); err != nil {
		t.Fatal(err)
	}
	b := &regions.BBox{West: -100, South: -60, East: 100, North: 60}
	t0, t1 := day(30), day(200)
	for _, q := range []struct {
		b      *regions.BBox
		t0, t1 *time.Time
	}{{b, &t0, &t1}, {nil, &t0, nil}, {nil, nil, nil}} {
		whole, total, err := s.Search(ctx, "pages", q.b, q.t0, q.t1, 0, 0)
		if err != nil || total != len(whole) || total < 20 {
			t.Fatalf("whole: %d of %d, %v", len(whole), total, err)
		}
		var pieces []File
		for off := 0; off < total+10; off += 17 {
			page, n, err := s.Search(ctx, "pages", q.b, q.t0, q.t1, 17, off)
			if err != nil || n != total || len(page) > 17 {
				t.Fatalf("page at %d: %d files, total %d, %v", off, len(page), n, err)
			}
			pieces = append(pieces, page...)
		}
		if !reflect.DeepEqual(paths(pieces), paths(whole)) {
			t.Fatalf("pages differ from the whole list")
		}
	}
	if _, _, err := s.Search(ctx, "nope", nil, nil, nil, 0, 0); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("unknown dataset: %v", err)
	}
	if _, _, err := s.Search(ctx, "pages", nil, &t1, &t0, 0, 0); errs.CodeOf(err) != errs.Invalid {
		t.Errorf("reversed time range: %v", err)
	}
	fails, err := s.Errors(ctx, "pages")
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, x := range syn {
		if x.failed {
			want++
		}
	}
	if len(fails) != want || want == 0 || fails[0].Error != "NetCDF: HDF error" {
		t.Errorf("errors: %d, want %d: %+v", len(fails), want, fails)
	}
	// A failed file is never listed.
	all, _, _ := s.Search(ctx, "pages", nil, nil, nil, 0, 0)
	for _, f := range all {
		if f.Error != "" {
			t.Errorf("failed file listed: %+v", f)
		}
	}
}

func TestDatasetKind(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	grid := GridCoords{Kind: "rectilinear", Lat: []float64{-10, 0, 10}, Lon: []float64{170, 180, 190}}
	var es []Entry
	for i := 0; i < 5; i++ {
		t0 := day(i)
		d := describe([]string{"sst", "ice"}, 3, 3, &t0, 4, 6*time.Hour)
		// The time dimension's length differs: still one series.
		if i == 2 {
			d = describe([]string{"sst", "ice"}, 3, 3, &t0, 2, 6*time.Hour)
		}
		es = append(es, Entry{Dataset: "daily", Path: fmt.Sprintf("daily/d%d.nc", i), Size: 10, ModTime: day(0),
			Record: Record{Description: d, Geo: GeoOf([]GridCoords{grid})}})
	}
	es = append(es, Entry{Dataset: "daily", Path: "daily/broken.nc", Size: 3, ModTime: day(0), Record: Record{Error: "truncated"}})
	if err := s.Put(ctx, es); err != nil {
		t.Fatal(err)
	}
	sum, err := s.Dataset(ctx, "daily", "")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Kind != TimeSeries || sum.Detected != TimeSeries || sum.Files != 5 || sum.Errors != 1 || sum.GridSignatures != 1 {
		t.Errorf("summary %+v", sum)
	}
	if !reflect.DeepEqual(sum.Extent, []float64{170, -10, -170, 10}) {
		t.Errorf("extent %v", sum.Extent)
	}
	if sum.TimeStart == nil || !sum.TimeStart.Equal(day(0)) || !sum.TimeEnd.Equal(day(4).Add(18*time.Hour)) || sum.TimeEndISO != "2020-01-05T18:00:00Z" {
		t.Errorf("time %v %v %q", sum.TimeStart, sum.TimeEnd, sum.TimeEndISO)
	}
	var names []string
	for _, v := range sum.Variables {
		names = append(names, v.Name)
	}
	if !reflect.DeepEqual(names, []string{"ice", "lat", "lon", "sst", "time"}) {
		t.Errorf("variables %v", names)
	}
	if sum, _ := s.Dataset(ctx, "daily", Granules); sum.Kind != Granules || sum.Detected != TimeSeries {
		t.Errorf("override: %+v", sum)
	}

	// Each change of grid makes granules: a variable more, a dimension
	// longer, a box elsewhere, a file without time among several.
	t0 := day(9)
	other := GridCoords{Kind: "rectilinear", Lat: []float64{-10, 0, 10}, Lon: []float64{0, 10, 20}}
	for name, r := range map[string]Record{
		"var":    {Description: describe([]string{"sst", "ice", "wind"}, 3, 3, &t0, 4, time.Hour), Geo: GeoOf([]GridCoords{grid})},
		"dim":    {Description: describe([]string{"sst", "ice"}, 3, 4, &t0, 4, time.Hour), Geo: GeoOf([]GridCoords{grid})},
		"box":    {Description: describe([]string{"sst", "ice"}, 3, 3, &t0, 4, time.Hour), Geo: GeoOf([]GridCoords{other})},
		"notime": {Description: describe([]string{"sst", "ice"}, 3, 3, nil, 0, 0), Geo: GeoOf([]GridCoords{grid})},
	} {
		e := Entry{Dataset: "daily", Path: "daily/odd.nc", Size: 1, ModTime: day(0), Record: r}
		if err := s.Put(ctx, []Entry{e}); err != nil {
			t.Fatal(err)
		}
		sum, err := s.Dataset(ctx, "daily", "")
		if err != nil {
			t.Fatal(err)
		}
		if sum.Detected != Granules || sum.GridSignatures != 2 {
			t.Errorf("%s: %s with %d signatures", name, sum.Detected, sum.GridSignatures)
		}
	}
	// One file alone, without time: a (trivial) series.
	if err := s.Put(ctx, []Entry{{Dataset: "one", Path: "one.nc", Size: 1, ModTime: day(0),
		Record: Record{Description: describe([]string{"x"}, 1, 1, nil, 0, 0)}}}); err != nil {
		t.Fatal(err)
	}
	if sum, err := s.Dataset(ctx, "one", ""); err != nil || sum.Detected != TimeSeries || sum.Extent != nil || sum.TimeStart != nil {
		t.Errorf("one: %+v %v", sum, err)
	}
	if _, err := s.Dataset(ctx, "nope", ""); errs.CodeOf(err) != errs.NotFound {
		t.Errorf("unknown dataset: %v", err)
	}
	if ids, err := s.Datasets(ctx); err != nil || !reflect.DeepEqual(ids, []string{"daily", "one"}) {
		t.Errorf("datasets %v %v", ids, err)
	}
}

func TestUnionLon(t *testing.T) {
	cases := []struct {
		spans []span
		w, e  float64
	}{
		{[]span{{10, 20}, {30, 40}}, 10, 40},
		{[]span{{170, 180}, {-180, -170}}, 170, -170},
		{[]span{{-180, 180}}, -180, 180},
		{[]span{{-180, -100}, {-90, 170}}, -90, -100},
		{[]span{{5, 5}}, 5, 5},
	}
	for _, c := range cases {
		if w, e := unionLon(append([]span(nil), c.spans...)); w != c.w || e != c.e {
			t.Errorf("%v: %v..%v, want %v..%v", c.spans, w, e, c.w, c.e)
		}
	}
}

func TestTimeOfCalendars(t *testing.T) {
	cases := []struct {
		iso  string
		up   bool
		want string
	}{
		{"2020-01-31T12:00:00Z", false, "2020-01-31T12:00:00Z"},
		{"2001-02-30T00:00:00Z", false, "2001-03-02T00:00:00Z"}, // 360_day
		{"2020-01-01T00:00:00.5Z", false, "2020-01-01T00:00:00Z"},
		{"2020-01-01T00:00:00.5Z", true, "2020-01-01T00:00:01Z"},
		{"1850-01-01T00:00:00Z", false, "1850-01-01T00:00:00Z"},
	}
	for _, c := range cases {
		got, err := unixOf(c.iso, c.up)
		if err != nil || time.Unix(got, 0).UTC().Format(time.RFC3339) != c.want {
			t.Errorf("%s: %v %v", c.iso, time.Unix(got, 0).UTC(), err)
		}
	}
}

func TestReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, []Entry{{Dataset: "a", Path: "a.nc", Size: 1, ModTime: day(0), Record: Record{Description: describe(nil, 1, 1, nil, 0, 0)}}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, n, err := s.Search(ctx, "a", nil, nil, nil, 0, 0); n != 1 || err != nil {
		t.Errorf("after reopening: %d files, %v", n, err)
	}
}

// TestSearchExactEdges: the R*Tree stores 32-bit floats rounded outwards;
// the answers are exact to the second and to the last bit of a degree.
func TestSearchExactEdges(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	t0 := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	d := describe([]string{"sst"}, 2, 2, &t0, 2, 90*time.Minute+13*time.Second)
	grid := GridCoords{Kind: "rectilinear", Lat: []float64{-10.1, 10.1}, Lon: []float64{0.3, 20.3}}
	if err := s.Put(ctx, []Entry{{Dataset: "e", Path: "e/f.nc", Size: 1, ModTime: day(0), Record: Record{Description: d, Geo: GeoOf([]GridCoords{grid})}}}); err != nil {
		t.Fatal(err)
	}
	t1 := t0.Add(90*time.Minute + 13*time.Second)
	sec := time.Second
	at := func(x time.Time) *time.Time { return &x }
	const ulp = 1e-9
	cases := []struct {
		b          *regions.BBox
		start, end *time.Time
		want       bool
	}{
		{&regions.BBox{West: 20.3, South: 10.1, East: 30, North: 20}, nil, nil, true},
		{&regions.BBox{West: 20.3 + ulp, South: 0, East: 30, North: 20}, nil, nil, false},
		{&regions.BBox{West: 0, South: 10.1 + ulp, East: 30, North: 20}, nil, nil, false},
		{&regions.BBox{West: -5, South: -20, East: 0.3 - ulp, North: 0}, nil, nil, false},
		{&regions.BBox{West: -5, South: -20, East: 5, North: -10.1 - ulp}, nil, nil, false},
		{&regions.BBox{West: -5, South: -20, East: 0.3, North: -10.1}, nil, nil, true},
		{nil, at(t1), nil, true},
		{nil, at(t1.Add(sec)), nil, false},
		{nil, nil, at(t0), true},
		{nil, nil, at(t0.Add(-sec)), false},
		{nil, at(t0.Add(-time.Hour)), at(t0.Add(-sec)), false},
		{&regions.BBox{West: 0, South: 0, East: 1, North: 1}, at(t1.Add(sec)), nil, false},
		{&regions.BBox{West: 0, South: 0, East: 1, North: 1}, at(t1), nil, true},
	}
	for i, c := range cases {
		_, n, err := s.Search(ctx, "e", c.b, c.start, c.end, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if (n == 1) != c.want {
			t.Errorf("case %d %v %v..%v: found %d", i, c.b, c.start, c.end, n)
		}
	}
}
