package oracle

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/testutil/fixtures"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/ncmodel/nccompare"
	"github.com/subsetd/subsetd/readers/open"
	"github.com/subsetd/subsetd/regions"
)

// ignoredGlobals are the global attributes a subset rewrites on purpose.
var ignoredGlobals = map[string]bool{
	"history": true, "NCO": true, "history_of_appended_files": true, "_NCProperties": true,
	"geospatial_lat_min": true, "geospatial_lat_max": true, "geospatial_lon_min": true, "geospatial_lon_max": true,
	"time_coverage_start": true, "time_coverage_end": true, "time_coverage_duration": true, "geospatial_bounds": true,
	"subsetd_request": true, "subsetd_version": true, "subsetd_source": true, "start_time": true, "stop_time": true,
}

func needNCO(t *testing.T) {
	t.Helper()
	fixtures.NeedTool(t, "ncks", "ncrcat")
}

// cut runs the engine with the real readers.
func cut(t *testing.T, in string, req *engine.Request) (string, *engine.Result) {
	t.Helper()
	out := t.TempDir()
	res, err := engine.Run(context.Background(), []string{in}, req, engine.Options{
		OutDir: out, Open: open.Source, Create: open.Sink, Version: "test",
	})
	if err != nil {
		t.Fatalf("subset %s: %v", filepath.Base(in), err)
	}
	return out, res
}

// ncks runs ncks with -d options and returns the output path.
func ncks(t *testing.T, in string, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "ncks.nc")
	cmd := exec.Command("ncks", append(append([]string{"-O"}, args...), in, out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ncks %v: %v\n%s", args, err, b)
	}
	return out
}

func openT(t *testing.T, path string) ncmodel.Source {
	t.Helper()
	s, err := open.Source(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func compare(t *testing.T, ours, want string, opt nccompare.Options) {
	t.Helper()
	if opt.IgnoreGlobalAttrs == nil {
		opt.IgnoreGlobalAttrs = ignoredGlobals
	}
	if diffs := nccompare.Compare(openT(t, ours), openT(t, want), opt); len(diffs) > 0 {
		if len(diffs) > 15 {
			diffs = append(diffs[:15], "...")
		}
		t.Errorf("%s differs from ncks %s:\n  %s", filepath.Base(ours), filepath.Base(want), strings.Join(diffs, "\n  "))
	}
}

// coordValues reads a 1-D variable as float64, unpacked, independently of
// the engine's own coordinate code.
func coordValues(t *testing.T, src ncmodel.Source, name string) (*ncmodel.Var, []float64) {
	t.Helper()
	v := src.File().FindVar(name)
	if v == nil {
		t.Fatalf("no variable %s", name)
	}
	a, err := src.Read(v, []int{0}, v.Shape(), nil)
	if err != nil {
		t.Fatal(err)
	}
	vals := a.Float64s()
	scale, offset := 1.0, 0.0
	if x, ok := v.Attr("scale_factor"); ok {
		scale = x.Float64s()[0]
	}
	if x, ok := v.Attr("add_offset"); ok {
		offset = x.Float64s()[0]
	}
	for i := range vals {
		vals[i] = vals[i]*scale + offset
	}
	return v, vals
}

// span is an inclusive index range.
type span struct{ lo, hi int }

// expectLat returns the indices whose centre is in [s, n], by brute force.
func expectLat(vals []float64, s, n float64) (span, bool) {
	r := span{-1, -1}
	for i, v := range vals {
		if v >= s-1e-5 && v <= n+1e-5 {
			if r.lo < 0 {
				r.lo = i
			}
			r.hi = i
		}
	}
	return r, r.lo >= 0
}

// midEdges returns the edges of 1-D cells half-way between centres (the
// first and last cells as wide as their neighbours), longitudes unwrapped
// next to their centre.
func midEdges(vals []float64, isLon bool) (lo, hi []float64) {
	d := func(a, b float64) float64 {
		if isLon {
			return math.Remainder(b-a, 360)
		}
		return b - a
	}
	n := len(vals)
	for i, c := range vals {
		var l, r float64
		switch {
		case i == 0:
			l, r = c-d(c, vals[1])/2, c+d(c, vals[1])/2
		case i == n-1:
			l, r = c-d(vals[n-2], c)/2, c+d(vals[n-2], c)/2
		default:
			l, r = c+d(c, vals[i-1])/2, c+d(c, vals[i+1])/2
		}
		lo, hi = append(lo, math.Min(l, r)), append(hi, math.Max(l, r))
	}
	return lo, hi
}

// expectThinLat returns the rows a latitude range holding no centre takes:
// those its range meets, when it is thinner than each of them.
func expectThinLat(vals []float64, s, n float64) (span, bool) {
	lo, hi := midEdges(vals, false)
	r := span{-1, -1}
	for i := range vals {
		meets := s == n && s >= lo[i] && s <= hi[i] || s < n && hi[i] > s && lo[i] < n
		if meets && n-s < hi[i]-lo[i] {
			if r.lo < 0 {
				r.lo = i
			}
			r.hi = i
		}
	}
	return r, r.lo >= 0
}

// expectThinLon is expectThinLat for longitudes, modulo 360.
func expectThinLon(vals []float64, w, e float64) []span {
	lo, hi := midEdges(vals, true)
	width := math.Mod(e-w+720, 360)
	var runs []span
	for i := range vals {
		meets := false
		for k := -2.0; k <= 2; k++ {
			a, b := lo[i]+360*k, hi[i]+360*k
			meets = meets || width == 0 && w >= a && w <= b || width > 0 && b > w && a < w+width
		}
		if meets && width < hi[i]-lo[i] {
			if n := len(runs); n > 0 && runs[n-1].hi == i-1 {
				runs[n-1].hi = i
			} else {
				runs = append(runs, span{i, i})
			}
		}
	}
	return runs
}

// expectLon returns the index runs whose centre is in [w, e] modulo 360,
// in output order: the run reaching the end of the row first.
func expectLon(vals []float64, w, e float64) []span {
	width := e - w
	for width < 0 {
		width += 360
	}
	in := func(v float64) bool {
		if e-w >= 360 {
			return true
		}
		d := v - w
		for d < -1e-5 {
			d += 360
		}
		for d >= 360-1e-5 {
			d -= 360
		}
		return d <= width+1e-5
	}
	var runs []span
	for i, v := range vals {
		if !in(v) {
			continue
		}
		if n := len(runs); n > 0 && runs[n-1].hi == i-1 {
			runs[n-1].hi = i
		} else {
			runs = append(runs, span{i, i})
		}
	}
	if len(runs) == 2 && runs[0].lo == 0 && runs[1].hi == len(vals)-1 && e-w < 360 {
		runs[0], runs[1] = runs[1], runs[0]
	}
	return runs
}

// grid names the coordinates of a test file.
type grid struct {
	lat, lon       string // coordinate variables (paths)
	latDim, lonDim string
	extra          []string // further ncks -d options (time, vertical...)
}

// checkRegion cuts one region and compares the output with ncks: one ncks
// call for a contiguous cut, two halves for a cut across the data's seam.
func checkRegion(t *testing.T, in string, g grid, req *engine.Request) {
	t.Helper()
	needNCO(t)
	r := req.Regions[0]
	src := openT(t, in)
	_, lat := coordValues(t, src, g.lat)
	_, lon := coordValues(t, src, g.lon)
	_, res := cut(t, in, req)
	rr := res.Regions[0]
	latSpan, ok := expectLat(lat, r.BBox[1], r.BBox[3])
	if !ok {
		latSpan, ok = expectThinLat(lat, r.BBox[1], r.BBox[3])
	}
	lonRuns := expectLon(lon, r.BBox[0], r.BBox[2])
	if len(lonRuns) == 0 {
		lonRuns = expectThinLon(lon, r.BBox[0], r.BBox[2])
	}
	if !ok || len(lonRuns) == 0 {
		if rr.Status != engine.StatusEmpty {
			t.Fatalf("region %s: status %s (%s), want empty", r.Name, rr.Status, rr.Message)
		}
		return
	}
	if rr.Status != engine.StatusSuccessful || len(rr.Files) != 1 {
		t.Fatalf("region %s: status %s (%s)", r.Name, rr.Status, rr.Message)
	}
	ours := rr.Files[0].Path
	dlat := fmt.Sprintf("%s,%d,%d", g.latDim, latSpan.lo, latSpan.hi)
	stride := ""
	if s := req.Stride["lat"]; s > 1 {
		dlat += fmt.Sprintf(",%d", s)
	}
	if s := req.Stride["lon"]; s > 1 {
		stride = fmt.Sprintf(",%d", s)
	}
	base := append([]string{"-d", dlat}, g.extra...)
	if len(lonRuns) == 1 {
		want := ncks(t, in, append(base, "-d", fmt.Sprintf("%s,%d,%d%s", g.lonDim, lonRuns[0].lo, lonRuns[0].hi, stride))...)
		compare(t, ours, want, nccompare.Options{})
		return
	}
	// Two halves: compare each half of our file with ncks of that half;
	// longitudes are compared separately (shifted by a multiple of 360).
	skip := map[string]bool{"/" + strings.TrimPrefix(g.lon, "/"): true}
	if lb := src.File().FindVar(g.lon).AttrString("bounds"); lb != "" {
		skip["/"+lb] = true
	}
	at := 0
	var ourLon []float64
	lonStride := max(req.Stride["lon"], 1)
	for i, run := range lonRuns {
		n := (run.hi - run.lo + lonStride) / lonStride
		want := ncks(t, in, append(base, "-d", fmt.Sprintf("%s,%d,%d%s", g.lonDim, run.lo, run.hi, stride))...)
		half := ncks(t, ours, "-d", fmt.Sprintf("%s,%d,%d", g.lonDim, at, at+n-1))
		at += n
		compare(t, half, want, nccompare.Options{SkipValues: skip})
		_, hv := coordValues(t, openT(t, half), g.lon)
		_, wv := coordValues(t, openT(t, want), g.lon)
		shift := hv[0] - wv[0]
		if math.Abs(math.Mod(shift, 360)) > 1e-3 {
			t.Errorf("half %d: longitude shift %v is not a multiple of 360", i, shift)
		}
		for j := range hv {
			if math.Abs(hv[j]-wv[j]-shift) > 1e-3 {
				t.Errorf("half %d: lon[%d] = %v, ncks %v (shift %v)", i, j, hv[j], wv[j], shift)
				break
			}
		}
		ourLon = append(ourLon, hv...)
	}
	for j := 1; j < len(ourLon); j++ {
		if (ourLon[j]-ourLon[j-1])*(lon[1]-lon[0]) <= 0 {
			t.Errorf("output longitudes not monotonic: %v", ourLon)
			break
		}
	}
	if w := r.BBox[0]; ourLon[0] < w-360 || ourLon[0] > w+360 {
		t.Errorf("output longitudes %v..%v far from the request's west %v", ourLon[0], ourLon[len(ourLon)-1], w)
	}
}

func bboxReq(name string, b ...float64) *engine.Request {
	return &engine.Request{Regions: []regions.Fixed{{Name: name, BBox: b}}}
}

var realdata = fixtures.RealDataDir()

func realFile(t *testing.T, name string) string { t.Helper(); return fixtures.RealData(t, name) }

func TestRealDataAgainstNCKS(t *testing.T) {
	tas := "Ouranosinc+xclim-testdata__tas_Amon_CanESM2_rcp85_r1i1p1_200701-200712.nc"
	co2 := "SciTools+iris-test-data__SMALL_total_column_co2.nc"
	gpm := "nasa+harmony-opendap-subsetter__GPM_3IMERGHH_bounds.nc4"
	tests := []struct {
		file string
		g    grid
		box  []float64
	}{
		{tas, grid{lat: "lat", lon: "lon", latDim: "lat", lonDim: "lon"}, []float64{8, -35, 20, -15}},
		{tas, grid{lat: "lat", lon: "lon", latDim: "lat", lonDim: "lon"}, []float64{-10, -10, 10, 10}},
		{tas, grid{lat: "lat", lon: "lon", latDim: "lat", lonDim: "lon"}, []float64{350, 40, 375, 60}},
		{tas, grid{lat: "lat", lon: "lon", latDim: "lat", lonDim: "lon"}, []float64{-180, -90, 180, 90}},
		{co2, grid{lat: "latitude", lon: "longitude", latDim: "latitude", lonDim: "longitude"}, []float64{-20, -10, 20, 30}},
		{co2, grid{lat: "latitude", lon: "longitude", latDim: "latitude", lonDim: "longitude"}, []float64{100, 10, 120, 20}},
		{gpm, grid{lat: "/Grid/lat", lon: "/Grid/lon", latDim: "lat", lonDim: "lon"}, []float64{-25, 35, -20, 40}},
	}
	for i, tc := range tests {
		t.Run(fmt.Sprintf("%d_%s", i, strings.SplitN(tc.file, "__", 2)[1]), func(t *testing.T) {
			checkRegion(t, realFile(t, tc.file), tc.g, bboxReq("r", tc.box...))
		})
	}
}

var openSource, openSink = open.Source, open.Sink

// TestRealDataEveryFile: every third-party file can be described, has a
// horizontal grid, and a whole-globe cut of it succeeds.
func TestRealDataEveryFile(t *testing.T) {
	entries, err := os.ReadDir(fixtures.RealDataFolder(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !(strings.HasSuffix(name, ".nc") || strings.HasSuffix(name, ".nc4") || strings.HasSuffix(name, ".h5")) {
			continue
		}
		t.Run(strings.SplitN(name, "__", 2)[1], func(t *testing.T) {
			path := filepath.Join(realdata, name)
			src := openT(t, path)
			d, err := engine.Describe(src)
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Grids) == 0 {
				t.Errorf("no horizontal grid found: %+v", d.Axes)
			}
			req := bboxReq("r", -180, -90, 180, 90)
			res, err := engine.Run(t.Context(), []string{path}, req, engine.Options{OutDir: t.TempDir(), Open: open.Source, Create: open.Sink})
			switch {
			case err != nil:
				t.Errorf("cut failed: %v", err)
			case res.Regions[0].Status != engine.StatusSuccessful:
				t.Errorf("whole-globe cut: %+v", res.Regions[0])
			}
		})
	}
}

// TestNCOEdgeFilesIdentity: a whole-globe cut of NCO's own edge-case files
// (404 variables of every type; 24 nested groups) equals the input.
func TestNCOEdgeFilesIdentity(t *testing.T) {
	for _, tc := range []struct{ cdl, kind string }{{"nco+nco__in.cdl", "classic"}, {"nco+nco__in_grp.cdl", "nc4"}} {
		t.Run(tc.cdl, func(t *testing.T) {
			cdl := realFile(t, tc.cdl)
			in := filepath.Join(t.TempDir(), "in.nc")
			if b, err := exec.Command("ncgen", "-k", tc.kind, "-o", in, cdl).CombinedOutput(); err != nil {
				t.Fatalf("ncgen: %v %s", err, b)
			}
			_, res := cut(t, in, bboxReq("g", -180, -90, 180, 90))
			if res.Regions[0].Status != engine.StatusSuccessful {
				t.Fatalf("%+v", res.Regions[0])
			}
			compare(t, res.Regions[0].Files[0].Path, in, nccompare.Options{})
		})
	}
}
