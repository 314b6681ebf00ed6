package engine

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/ncmodel/memfile"
	"github.com/subsetd/subsetd/regions"
)

// The engine's tests run on in-memory files: inputs are built here from
// formulas, outputs are read back from the same memfile.Store, and every
// expectation is computed from the formulas, not from the engine.

// clock is the time the outputs' metadata records.
var clock = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

func num(name string, t ncmodel.Type, vals ...float64) ncmodel.Attr {
	a := memfile.ArrayFunc(t, []int{len(vals)}, func(i []int) float64 { return vals[i[0]] })
	return ncmodel.Attr{Name: name, Type: t, Value: ncmodel.DecodeValues(t, a.Data)}
}

// nc builds an in-memory input file.
type nc struct {
	f     *ncmodel.File
	cur   *ncmodel.Group
	funcs []func(*memfile.File)
}

func newNC(path string, format ncmodel.Format) *nc {
	root := &ncmodel.Group{}
	return &nc{f: &ncmodel.File{Path: path, Format: format, Root: root}, cur: root}
}

// dim adds a dimension to the current group; a negative n is unlimited.
func (b *nc) dim(name string, n int) *nc {
	b.cur.Dims = append(b.cur.Dims, &ncmodel.Dim{Name: name, Len: max(n, -n), Unlimited: n < 0, Group: b.cur})
	return b
}

// group adds a group below the current one and makes it current; "/" goes
// back to the root.
func (b *nc) group(name string) *nc {
	if name == "/" {
		b.cur = b.f.Root
		return b
	}
	g := &ncmodel.Group{Name: name, Parent: b.cur}
	b.cur.Groups = append(b.cur.Groups, g)
	b.cur = g
	return b
}

func (b *nc) findDim(name string) *ncmodel.Dim {
	for g := b.cur; g != nil; g = g.Parent {
		if d := g.Dim(name); d != nil {
			return d
		}
	}
	panic("no dimension " + name)
}

// v adds a variable over the named dimensions (space-separated) whose
// value at each index is fn(index), raw (fn nil: zeros).
func (b *nc) v(name string, t ncmodel.Type, dims string, fn func(i []int) float64, attrs ...ncmodel.Attr) *nc {
	v := &ncmodel.Var{Name: name, Type: t, Group: b.cur, Attrs: attrs}
	for _, d := range strings.Fields(dims) {
		v.Dims = append(v.Dims, b.findDim(d))
	}
	b.cur.Vars = append(b.cur.Vars, v)
	if fn != nil {
		path := v.Path()
		b.funcs = append(b.funcs, func(m *memfile.File) {
			if m.File().FindVar(path) != nil { // not removed since
				m.SetFunc(path, fn)
			}
		})
	}
	return b
}

// attr adds attributes to the current group.
func (b *nc) attr(as ...ncmodel.Attr) *nc {
	b.cur.Attrs = append(b.cur.Attrs, as...)
	return b
}

func (b *nc) build() *memfile.File {
	m := memfile.New(b.f)
	for _, fn := range b.funcs {
		fn(m)
	}
	return m
}

// grid is a rectilinear lat/lon/time grid: lat = lat0 + j*dlat,
// lon = lon0 + i*dlon, time = k*dt in units, sst = sstAt(k, j, i).
type grid struct {
	lat0, dlat float64
	nlat       int
	lon0, dlon float64
	nlon       int
	ntime      int
	dt         float64
	units      string // of time; "days since 2000-01-01" when empty
	calendar   string
}

func sstAt(k, j, i int) float64 { return float64(k*10000 + j*100 + i + 0) }

func (g grid) lat(j int) float64 { return g.lat0 + float64(j)*g.dlat }
func (g grid) lon(i int) float64 { return g.lon0 + float64(i)*g.dlon }

// file builds the grid as time(time) lat(lat) lon(lon) sst(time, lat, lon).
func (g grid) file(path string) *memfile.File { return g.nc(path).build() }

func (g grid) nc(path string) *nc {
	units := g.units
	if units == "" {
		units = "days since 2000-01-01"
	}
	ta := []ncmodel.Attr{txt("units", units), txt("standard_name", "time")}
	if g.calendar != "" {
		ta = append(ta, txt("calendar", g.calendar))
	}
	return newNC(path, ncmodel.FormatNetCDF4).
		dim("time", -g.ntime).dim("lat", g.nlat).dim("lon", g.nlon).
		v("time", ncmodel.Double, "time", func(i []int) float64 { return float64(i[0]) * g.dt }, ta...).
		v("lat", ncmodel.Float, "lat", func(i []int) float64 { return g.lat(i[0]) }, txt("units", "degrees_north")).
		v("lon", ncmodel.Float, "lon", func(i []int) float64 { return g.lon(i[0]) }, txt("units", "degrees_east")).
		v("sst", ncmodel.Float, "time lat lon", func(i []int) float64 { return sstAt(i[0], i[1], i[2]) },
			txt("units", "K"), num("_FillValue", ncmodel.Float, -999)).
		attr(txt("title", "test grid"))
}

// env is a store with its engine options.
type env struct {
	st  *memfile.Store
	opt Options
}

func newEnv(t *testing.T) *env {
	st := &memfile.Store{}
	return &env{st: st, opt: Options{OutDir: t.TempDir(), Open: st.Open, Create: st.Create, Files: st.Files(),
		Version: "1.2.3", Now: func() time.Time { return clock }}}
}

func (e *env) put(path string, f *memfile.File) string {
	e.st.Put(path, f)
	return path
}

// run runs the engine and fails the test on a run error.
func (e *env) run(t *testing.T, req *Request, files ...string) *Result {
	t.Helper()
	res, err := Run(t.Context(), files, req, e.opt)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(res.Regions) != len(req.Regions) {
		t.Fatalf("%d results for %d regions", len(res.Regions), len(req.Regions))
	}
	return res
}

// out returns the single output of a successful region.
func (e *env) out(t *testing.T, r RegionResult) *memfile.File {
	t.Helper()
	if r.Status != StatusSuccessful || len(r.Files) != 1 {
		t.Fatalf("region %s: %s %q, %d files", r.Name, r.Status, r.Message, len(r.Files))
	}
	f := e.st.Get(r.Files[0].Path)
	if f == nil {
		t.Fatalf("region %s: no file at %s (store has %v)", r.Name, r.Files[0].Path, e.st.Paths())
	}
	return f
}

// noTemp fails when a temporary output is left in the store.
func (e *env) noTemp(t *testing.T) {
	t.Helper()
	for _, p := range e.st.Paths() {
		if strings.Contains(p, TempPrefix) {
			t.Errorf("temporary file left behind: %s", p)
		}
	}
}

func bbox(name string, w, s, e, n float64) regions.Fixed {
	return regions.Fixed{Name: name, BBox: []float64{w, s, e, n}}
}

// polygon is a GeoJSON polygon region of one ring of lon, lat pairs.
func polygon(name string, ring ...[2]float64) regions.Fixed {
	var pts []string
	if ring[len(ring)-1] != ring[0] { // GeoJSON rings are closed
		ring = append(ring, ring[0])
	}
	for _, p := range ring {
		pts = append(pts, fmt.Sprintf("[%v,%v]", p[0], p[1]))
	}
	return regions.Fixed{Name: name, Geometry: []byte(`{"type":"Polygon","coordinates":[[` + strings.Join(pts, ",") + `]]}`)}
}

// sliver is a thin band along y = x - x0 + 5, from longitude x0 (a
// multiple of 10) to x0 + 20, on grids of 10° cells centred on ±5, ±15...:
// its bounds hold centres, but every centre has y - x a multiple of 10, so
// it holds none, and it is wider than a cell.
func sliver(name string, x0 float64) regions.Fixed {
	return polygon(name, [2]float64{x0, 4}, [2]float64{x0, 6}, [2]float64{x0 + 20, 26}, [2]float64{x0 + 20, 24}, [2]float64{x0, 4})
}

// values reads a variable of a file whole, raw.
func values(t *testing.T, f *memfile.File, name string) []float64 {
	t.Helper()
	a := f.Data(name)
	if a == nil {
		t.Fatalf("%s has no variable %s", f.File().Path, name)
	}
	return a.Float64s()
}

func shape(t *testing.T, f *memfile.File, name string) []int {
	t.Helper()
	v := f.File().FindVar(name)
	if v == nil {
		t.Fatalf("%s has no variable %s", f.File().Path, name)
	}
	return v.Shape()
}

func varNames(f *ncmodel.File) []string {
	var out []string
	for _, v := range f.Vars() {
		out = append(out, strings.TrimPrefix(v.Path(), "/"))
	}
	return out
}

func globalText(f *memfile.File, name string) string {
	a, ok := f.File().Root.Attr(name)
	if !ok {
		return "<absent>"
	}
	return a.Text()
}

func globalNum(t *testing.T, f *memfile.File, name string) float64 {
	t.Helper()
	a, ok := f.File().Root.Attr(name)
	if !ok || len(a.Float64s()) != 1 {
		t.Fatalf("global attribute %s: %+v", name, a)
	}
	return a.Float64s()[0]
}

func mod360(x float64) float64 {
	x = math.Mod(x, 360)
	if x < 0 {
		x += 360
	}
	return x
}

// inLon says whether a longitude lies in [west, east] going east,
// modulo 360: the definition a bbox has, written once more here.
func inLon(lon, west, east float64) bool {
	if east-west >= 360 {
		return true
	}
	width := mod360(east - west)
	return mod360(lon-west) <= width+1e-9
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-4 }

// indexOf finds the index whose value equals x (modulo 360 if wrap).
func indexOf(n int, at func(int) float64, x float64, wrap bool) int {
	for i := 0; i < n; i++ {
		v := at(i)
		if wrap && near(mod360(v), mod360(x)) || !wrap && near(v, x) {
			return i
		}
	}
	return -1
}

// checkGridCut checks the output of a bbox on a grid g: latitudes in the
// box in data order, longitudes in the box increasing and equal modulo 360
// to their inputs, the time steps want, and each sst the formula's value at
// the input cell the output's coordinates name.
func checkGridCut(t *testing.T, out *memfile.File, g grid, b regions.Fixed, want []int) {
	t.Helper()
	w, s, e, n := b.BBox[0], b.BBox[1], b.BBox[2], b.BBox[3]
	var wantLat []float64
	for j := 0; j < g.nlat; j++ {
		if y := g.lat(j); y >= s-1e-9 && y <= n+1e-9 {
			wantLat = append(wantLat, y)
		}
	}
	if got := values(t, out, "lat"); fmt.Sprint(got) != fmt.Sprint(wantLat) {
		t.Errorf("lat = %v, want %v", got, wantLat)
	}
	var wantLon []float64
	for i := 0; i < g.nlon; i++ {
		if inLon(g.lon(i), w, e) {
			wantLon = append(wantLon, mod360(g.lon(i)))
		}
	}
	lons := values(t, out, "lon")
	var gotMod []float64
	for k, x := range lons {
		gotMod = append(gotMod, mod360(x))
		if k > 0 && x <= lons[k-1] {
			t.Errorf("lon not increasing: %v", lons)
			break
		}
	}
	slices.Sort(gotMod)
	slices.Sort(wantLon)
	if fmt.Sprint(gotMod) != fmt.Sprint(wantLon) {
		t.Errorf("lon = %v (mod 360 %v), want the cells %v", lons, gotMod, wantLon)
	}
	times := values(t, out, "time")
	if len(times) != len(want) {
		t.Fatalf("time = %v, want steps %v", times, want)
	}
	for k, ti := range want {
		if times[k] != float64(ti)*g.dt {
			t.Errorf("time[%d] = %v, want step %d", k, times[k], ti)
		}
	}
	sst := values(t, out, "sst")
	lats := values(t, out, "lat")
	if len(sst) != len(times)*len(lats)*len(lons) {
		t.Fatalf("sst has %d values for %d x %d x %d", len(sst), len(times), len(lats), len(lons))
	}
	for k := range times {
		for jj, y := range lats {
			for ii, x := range lons {
				j, i := indexOf(g.nlat, g.lat, y, false), indexOf(g.nlon, g.lon, x, true)
				if got, want := sst[(k*len(lats)+jj)*len(lons)+ii], sstAt(want[k], j, i); got != want {
					t.Fatalf("sst at time %d lat %v lon %v = %v, want %v", k, y, x, got, want)
				}
			}
		}
	}
}

func seq(a, b int) []int {
	var out []int
	for i := a; i <= b; i++ {
		out = append(out, i)
	}
	return out
}
