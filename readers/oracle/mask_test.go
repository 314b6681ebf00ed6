package oracle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/ncmodel/nccompare"
	"github.com/subsetd/subsetd/regions"
)

// pip is an independent point-in-polygon test (even-odd, boundary inside)
// on a ring whose longitudes are written without jumps; the point's
// longitude is tried modulo 360.
func pip(ring [][2]float64, lon, lat float64) bool {
	if math.IsNaN(lon) || math.IsNaN(lat) {
		return false
	}
	for k := -2.0; k <= 2; k++ {
		x := lon + 360*k
		in := false
		for i := range ring {
			a, b := ring[i], ring[(i+1)%len(ring)]
			// on the edge
			cross := (b[0]-a[0])*(lat-a[1]) - (b[1]-a[1])*(x-a[0])
			if math.Abs(cross) < 1e-9 && x >= math.Min(a[0], b[0])-1e-9 && x <= math.Max(a[0], b[0])+1e-9 && lat >= math.Min(a[1], b[1])-1e-9 && lat <= math.Max(a[1], b[1])+1e-9 {
				return true
			}
			if (a[1] > lat) != (b[1] > lat) && a[0]+(lat-a[1])*(b[0]-a[0])/(b[1]-a[1]) > x {
				in = !in
			}
		}
		if in {
			return true
		}
	}
	return false
}

func ringJSON(ring [][2]float64) json.RawMessage {
	var pts []string
	for _, p := range ring {
		pts = append(pts, fmt.Sprintf("[%g,%g]", p[0], p[1]))
	}
	pts = append(pts, pts[0])
	return json.RawMessage(`{"type":"Polygon","coordinates":[[` + strings.Join(pts, ",") + `]]}`)
}

// values reads a whole variable, unpacked, fill as NaN, any rank.
func allValues(t *testing.T, src ncmodel.Source, v *ncmodel.Var) []float64 {
	t.Helper()
	a, err := src.Read(v, make([]int, len(v.Dims)), v.Shape(), nil)
	if err != nil {
		t.Fatal(err)
	}
	vals := a.Float64s()
	engine.Unpack(v, vals)
	return vals
}

// maskCase checks a masked cut: the output box is the smallest index box
// holding every inside cell (by the independent test), values inside equal
// the ncks cut of that box, values outside are the variable's fill, and
// coordinates keep their values.
type maskCase struct {
	in       string
	lat, lon string // coordinate variables
	region   regions.Fixed
	inside   func(lon, lat float64) bool
	masked   []string // data variables that must be masked
	noNCKS   bool     // ncks cannot read the input (plain HDF5): read the box directly
}

func checkMask(t *testing.T, c maskCase) {
	t.Helper()
	src := openT(t, c.in)
	f := src.File()
	latV, lonV := f.FindVar(c.lat), f.FindVar(c.lon)
	lat, lon := allValues(t, src, latV), allValues(t, src, lonV)
	if c.masked == nil {
		c.masked = gridDataVars(f, latV)
	}
	shape := latV.Shape()
	lo := make([]int, len(shape))
	hi := make([]int, len(shape))
	for i := range lo {
		lo[i], hi[i] = shape[i], -1
	}
	inside := make([]bool, len(lat))
	for k := range lat {
		if !c.inside(lon[k], lat[k]) {
			continue
		}
		inside[k] = true
		idx := k
		for d := len(shape) - 1; d >= 0; d-- {
			lo[d], hi[d] = min(lo[d], idx%shape[d]), max(hi[d], idx%shape[d])
			idx /= shape[d]
		}
	}
	_, res := cut(t, c.in, &engine.Request{Regions: []regions.Fixed{c.region}})
	r := res.Regions[0]
	if hi[0] < 0 {
		if r.Status != engine.StatusEmpty {
			t.Fatalf("nothing inside, but status %s %s", r.Status, r.Message)
		}
		return
	}
	if r.Status != engine.StatusSuccessful {
		t.Fatalf("%s: %s", r.Status, r.Message)
	}
	ours := openT(t, r.Files[0].Path)
	var want ncmodel.Source
	if !c.noNCKS {
		var args []string
		for d, dim := range latV.Dims {
			args = append(args, "-d", fmt.Sprintf("%s,%d,%d", dim.Name, lo[d], hi[d]))
		}
		skip := map[string]bool{}
		for _, m := range c.masked {
			skip[f.FindVar(m).Path()] = true
		}
		path := ncks(t, c.in, args...)
		want = openT(t, path)
		if diffs := nccompare.Compare(ours, want, nccompare.Options{SkipValues: skip, IgnoreGlobalAttrs: ignoredGlobals,
			IgnoreVarAttrs: map[string]bool{"_FillValue": true, "_ChunkSizes": true}}); len(diffs) > 0 {
			t.Errorf("differs from ncks (unmasked parts):\n  %s", strings.Join(diffs, "\n  "))
		}
	}
	// Masked variables, cell by cell.
	for _, name := range c.masked {
		in := f.FindVar(name)
		ov := ours.File().FindVar(in.Path())
		if ov == nil {
			t.Fatalf("output lacks %s", name)
		}
		got, err := ours.Read(ov, make([]int, len(ov.Dims)), ov.Shape(), nil)
		if err != nil {
			t.Fatal(err)
		}
		// The input box, read directly: start lo on grid dims, whole elsewhere.
		start := make([]int, len(in.Dims))
		count := in.Shape()
		gridPos := make([]int, len(latV.Dims))
		for gi, gd := range latV.Dims {
			for j, d := range in.Dims {
				if d == gd {
					start[j], count[j], gridPos[gi] = lo[gi], hi[gi]-lo[gi]+1, j
				}
			}
		}
		wantA, err := src.Read(in, start, count, nil)
		if err != nil {
			t.Fatal(err)
		}
		fill := fillOf(ov)
		es := in.Type.Size()
		idx := make([]int, len(count))
		bad := 0
		for k := 0; k < wantA.Len(); k++ {
			gk := 0
			for gi := range latV.Dims {
				gk = gk*shape[gi] + lo[gi] + idx[gridPos[gi]]
			}
			g, w := got.Data[k*es:(k+1)*es], wantA.Data[k*es:(k+1)*es]
			if inside[gk] && !bytes.Equal(g, w) || !inside[gk] && !bytes.Equal(g, fill) {
				if bad++; bad < 5 {
					t.Errorf("%s at %v (inside %v): got %v, input %v, fill %v", name, idx, inside[gk], got.Float64(k), wantA.Float64(k), fill)
				}
			}
			for d := len(idx) - 1; d >= 0; d-- {
				if idx[d]++; idx[d] < count[d] {
					break
				}
				idx[d] = 0
			}
		}
	}
}

// gridDataVars lists the variables spanning every dimension of the grid's
// latitude that are not coordinates or cell measures: those a region masks.
func gridDataVars(f *ncmodel.File, lat *ncmodel.Var) []string {
	aux := map[string]bool{}
	for _, v := range f.Vars() {
		for _, n := range strings.Fields(v.AttrString("coordinates") + " " + v.AttrString("cell_measures") + " " + v.AttrString("bounds")) {
			aux[strings.TrimPrefix(n, "/")] = true
			aux[n[strings.LastIndex(n, "/")+1:]] = true
		}
	}
	var out []string
vars:
	for _, v := range f.Vars() {
		if v.IsCoordinate() || aux[v.Name] || v.Type == ncmodel.Char || v.Type == ncmodel.String || strings.Contains(v.Name, "lat") && len(v.Dims) == len(lat.Dims) {
			continue
		}
		if flagsWithoutFill(v) { // never masked: they keep ncks's values
			continue
		}
		for _, d := range lat.Dims {
			found := false
			for _, x := range v.Dims {
				found = found || x == d
			}
			if !found {
				continue vars
			}
		}
		out = append(out, v.Path())
	}
	return out
}

func fillOf(v *ncmodel.Var) []byte {
	if a, ok := v.Attr("_FillValue"); ok {
		b, _, _ := ncmodel.EncodeValues(v.Type, a.Value)
		return b
	}
	if a, ok := v.Attr("missing_value"); ok {
		b, _, _ := ncmodel.EncodeValues(v.Type, a.Value)
		return b[:v.Type.Size()]
	}
	return ncmodel.DefaultFill(v.Type)
}

func polyCase(ring [][2]float64) (regions.Fixed, func(lon, lat float64) bool) {
	return regions.Fixed{Name: "p", Geometry: ringJSON(ring)}, func(lon, lat float64) bool { return pip(ring, lon, lat) }
}

func boxCase(b []float64) (regions.Fixed, func(lon, lat float64) bool) {
	return regions.Fixed{Name: "b", BBox: b}, func(lon, lat float64) bool {
		if math.IsNaN(lat) || lat < b[1] || lat > b[3] {
			return false
		}
		return len(expectLon([]float64{lon}, b[0], b[2])) == 1
	}
}

func TestPolygonOnRectilinear(t *testing.T) {
	triangle := [][2]float64{{-60, -40}, {60, -40}, {0, 50}}
	across := [][2]float64{{150, -30}, {200, -20}, {190, 40}, {160, 30}} // past 180
	for i, tc := range []struct {
		fixture string
		ring    [][2]float64
		masked  []string
	}{
		{"lon180", triangle, []string{"/sst"}},
		{"lon180", across, []string{"/sst"}},
		{"lon360", triangle, []string{"/sst"}},
		{"lat_desc", triangle, nil},
		{"packed", triangle, nil},
		{"fills", triangle, nil},
	} {
		t.Run(fmt.Sprintf("%d_%s", i, tc.fixture), func(t *testing.T) {
			in := fixture(t, tc.fixture)
			region, inside := polyCase(tc.ring)
			masked := tc.masked
			if masked == nil {
				masked = dataVars(t, in, "lat", "lon")
			}
			checkMask1D(t, in, region, inside, masked)
		})
	}
}

// dataVars lists the variables on both lat and lon that are not coordinates.
func dataVars(t *testing.T, in, lat, lon string) []string {
	src := openT(t, in)
	var out []string
	for _, v := range src.File().Vars() {
		var hasLat, hasLon bool
		for _, d := range v.Dims {
			hasLat, hasLon = hasLat || d.Name == lat, hasLon || d.Name == lon
		}
		if hasLat && hasLon && !v.IsCoordinate() && v.Type != ncmodel.Char {
			out = append(out, v.Path())
		}
	}
	return out
}

// insideBox returns the bbox whose centre-rule cut is the smallest index
// box holding every cell whose centre is inside (rows from the first to the
// last such row; columns along the shortest arc round the globe holding
// every such column, the axes being global).
func insideBox(t *testing.T, lat, lon []float64, inside func(lon, lat float64) bool) []float64 {
	t.Helper()
	rows, cols := map[int]bool{}, map[int]bool{}
	for j, y := range lat {
		for i, x := range lon {
			if inside(x, y) {
				rows[j], cols[i] = true, true
			}
		}
	}
	if len(rows) == 0 {
		t.Fatal("no cell inside")
	}
	s, n := math.Inf(1), math.Inf(-1)
	for j := range rows {
		s, n = math.Min(s, lat[j]), math.Max(n, lat[j])
	}
	// The largest gap between selected columns, going round: the box is
	// the rest.
	var idx []int
	for i := range lon {
		if cols[i] {
			idx = append(idx, i)
		}
	}
	best, start := -1, 0
	for k := range idx {
		next := idx[(k+1)%len(idx)]
		gap := next - idx[k] - 1
		if k == len(idx)-1 {
			gap += len(lon)
		}
		if gap > best {
			best, start = gap, (k+1)%len(idx)
		}
	}
	first, last := idx[start], idx[(start+len(idx)-1)%len(idx)]
	return []float64{lon[first], s, lon[last], n}
}

// checkMask1D: on 1-D lat/lon the output is the smallest index box holding
// every inside cell (a polygon across the seam gives a contiguous strip);
// cells outside are masked.
func checkMask1D(t *testing.T, in string, region regions.Fixed, inside func(lon, lat float64) bool, masked []string) {
	t.Helper()
	src := openT(t, in)
	_, lat := coordValues(t, src, "lat")
	_, lon := coordValues(t, src, "lon")
	res, err := region.Resolve("r")
	if err != nil {
		t.Fatal(err)
	}
	// The same cells written in the polygon's own longitudes, which the
	// output's longitudes follow.
	b := insideBox(t, lat, lon, inside)
	width := math.Mod(b[2]-b[0]+720, 360)
	west := res.Area.Bounds().West
	b[0] = west + math.Mod(math.Mod(b[0]-west, 360)+360, 360)
	b[2] = b[0] + width
	box := bboxReq("p", b...)
	_, boxRes := cut(t, in, box)
	_, polyRes := cut(t, in, &engine.Request{Regions: []regions.Fixed{region}})
	if boxRes.Regions[0].Status != engine.StatusSuccessful || polyRes.Regions[0].Status != engine.StatusSuccessful {
		t.Fatalf("box %+v polygon %+v", boxRes.Regions[0], polyRes.Regions[0])
	}
	boxSrc, polySrc := openT(t, boxRes.Regions[0].Files[0].Path), openT(t, polyRes.Regions[0].Files[0].Path)
	skip := map[string]bool{}
	for _, m := range masked {
		skip[m] = true
	}
	// Everything but the masked variables equals the bbox cut (itself
	// checked against ncks elsewhere).
	if diffs := nccompare.Compare(polySrc, boxSrc, nccompare.Options{SkipValues: skip, IgnoreGlobalAttrs: ignoredGlobals, IgnoreVarAttrs: map[string]bool{"_FillValue": true}}); len(diffs) > 0 {
		t.Errorf("polygon cut differs from its bbox cut:\n  %s", strings.Join(diffs, "\n  "))
	}
	_, olat := coordValues(t, polySrc, "lat")
	_, olon := coordValues(t, polySrc, "lon")
	nin := 0
	for _, m := range masked {
		pv, bv := polySrc.File().FindVar(m), boxSrc.File().FindVar(m)
		pa, _ := polySrc.Read(pv, make([]int, len(pv.Dims)), pv.Shape(), nil)
		ba, _ := boxSrc.Read(bv, make([]int, len(bv.Dims)), bv.Shape(), nil)
		fill := fillOf(pv)
		es := pv.Type.Size()
		latPos, lonPos := -1, -1
		for i, d := range pv.Dims {
			switch d.Name {
			case "lat":
				latPos = i
			case "lon":
				lonPos = i
			}
		}
		idx := make([]int, len(pv.Dims))
		for k := 0; k < pa.Len(); k++ {
			in := inside(olon[idx[lonPos]], olat[idx[latPos]])
			g, w := pa.Data[k*es:(k+1)*es], ba.Data[k*es:(k+1)*es]
			if in {
				nin++
			}
			if in && !bytes.Equal(g, w) || !in && !bytes.Equal(g, fill) {
				t.Fatalf("%s at %v (lon %v lat %v inside %v): got %v want %v / fill %v", m, idx, olon[idx[lonPos]], olat[idx[latPos]], in, pa.Float64(k), ba.Float64(k), fill)
			}
			for d := len(idx) - 1; d >= 0; d-- {
				if idx[d]++; idx[d] < pv.Shape()[d] {
					break
				}
				idx[d] = 0
			}
		}
	}
	if nin == 0 {
		t.Error("no cell inside: the test shows nothing")
	}
}

func TestMaskFalseKeepsBox(t *testing.T) {
	in := fixture(t, "lon180")
	region, inside := polyCase([][2]float64{{-60, -40}, {60, -40}, {0, 50}})
	f := false
	region.Mask = &f
	_, res := cut(t, in, &engine.Request{Regions: []regions.Fixed{region}})
	src := openT(t, in)
	_, lat := coordValues(t, src, "lat")
	_, lon := coordValues(t, src, "lon")
	_, box := cut(t, in, bboxReq("p", insideBox(t, lat, lon, inside)...))
	compare(t, res.Regions[0].Files[0].Path, box.Regions[0].Files[0].Path, nccompare.Options{})
}

func TestCurvilinearAndSwaths(t *testing.T) {
	sic := "Ouranosinc+xclim-testdata__sic_SImon_CCCma-CanESM5_ssp245_r13i1p2f1_2020.nc"
	rot := "SciTools+iris-test-data__small_rotPole_precipitation.nc"
	above := "nasa+harmony-opendap-subsetter__ABoVE_TVPRM_bbox.nc4"
	amsr := "podaac+l2ss-py__SS_AMSR2-L2B_v08_r38622-v02.0-fv01.0.nc"
	s6 := "podaac+concise__S6A_P4_2__HR_RED__NR_014_191_20210403T004056_20210403T005056_F00.nc"
	ring := [][2]float64{{-40, 50}, {10, 45}, {20, 70}, {-30, 75}}
	cases := []struct {
		name, file, lat, lon string
		box                  []float64
		ring                 [][2]float64
		masked               []string
	}{
		{"curvilinear ocean grid, box across 0/360", sic, "latitude", "longitude", []float64{-30, 40, 20, 70}, nil, []string{"siconc"}},
		{"curvilinear ocean grid, polygon", sic, "latitude", "longitude", nil, ring, []string{"siconc"}},
		{"rotated pole", rot, "lat", "lon", []float64{-10, 45, 10, 60}, nil, []string{"pr"}},
		{"projected Albers grid", above, "lat", "lon", []float64{-155, 67, -148, 70}, nil, []string{"NEE"}},
		{"swath with packed int8 data", amsr, "lat", "lon", []float64{-60, -60, -40, -40}, nil, nil},
		{"along-track altimetry across 0/360 in groups", s6, "/data_01/latitude", "/data_01/longitude", []float64{-20, -70, 20, 70}, nil, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := realFile(t, c.file)
			var region regions.Fixed
			var inside func(lon, lat float64) bool
			if c.ring != nil {
				region, inside = polyCase(c.ring)
			} else {
				region, inside = boxCase(c.box)
			}
			checkMask(t, maskCase{in: in, lat: c.lat, lon: c.lon, region: region, inside: inside, masked: c.masked})
		})
	}
}

func TestPlainHDF5Track(t *testing.T) {
	in := realFile(t, "nasa+harmony-trajectory-subsetter__ATL03_gt1l.h5")
	region, inside := boxCase([]float64{90, 87.2975, 100, 87.3})
	checkMask(t, maskCase{in: in, lat: "/gt1l/heights/lat_ph", lon: "/gt1l/heights/lon_ph", region: region, inside: inside,
		noNCKS: true})
	// The output is NetCDF-4 with the input's groups, readable by ncdump.
	_, res := cut(t, in, &engine.Request{Regions: []regions.Fixed{region}})
	if res.Regions[0].Status != engine.StatusSuccessful {
		t.Fatalf("%+v", res.Regions[0])
	}
	out := res.Regions[0].Files[0].Path
	if b, err := exec.Command("ncdump", "-h", out).CombinedOutput(); err != nil || !strings.Contains(string(b), "group: gt1l") {
		t.Errorf("ncdump -h %s: %v\n%.2000s", filepath.Base(out), err, b)
	}
}

// TestGeneratedGrids: the grid kinds on files the project generates, so
// they run without the third-party files.
func TestGeneratedGrids(t *testing.T) {
	triangle := [][2]float64{{165, -5}, {190, 0}, {175, 15}} // across the antimeridian
	greenwich := [][2]float64{{-8, -20}, {12, -25}, {10, 5}, {-5, 0}}
	cases := []struct {
		name, fixture, lat, lon string
		box                     []float64
		ring                    [][2]float64
	}{
		{"curvilinear box across the antimeridian", "curvilinear", "lat", "lon", []float64{170, -5, -170, 10}, nil},
		{"curvilinear polygon across the antimeridian", "curvilinear", "lat", "lon", nil, triangle},
		{"swath with packed, filled lat/lon across Greenwich", "swath", "lat", "lon", []float64{-5, -25, 5, 0}, nil},
		{"swath polygon", "swath", "lat", "lon", nil, greenwich},
		{"track in groups across 0/360", "track", "/data_01/latitude", "/data_01/longitude", []float64{-10, -30, 10, 0}, nil},
		{"track polygon", "track", "/data_01/latitude", "/data_01/longitude", nil, greenwich},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var region regions.Fixed
			var inside func(lon, lat float64) bool
			if c.ring != nil {
				region, inside = polyCase(c.ring)
			} else {
				region, inside = boxCase(c.box)
			}
			checkMask(t, maskCase{in: fixture(t, c.fixture), lat: c.lat, lon: c.lon, region: region, inside: inside})
		})
	}
	// A region the track leaves and re-enters: two boxes of a MultiPolygon.
	t.Run("track leaving and re-entering", func(t *testing.T) {
		a := [][2]float64{{-30, -35}, {30, -35}, {30, -20}, {-30, -20}}
		b := [][2]float64{{-30, 10}, {30, 10}, {30, 20}, {-30, 20}}
		ring := func(r [][2]float64) string {
			var pts []string
			for _, p := range append(r, r[0]) {
				pts = append(pts, fmt.Sprintf("[%g,%g]", p[0], p[1]))
			}
			return "[[" + strings.Join(pts, ",") + "]]"
		}
		geom := json.RawMessage(`{"type":"MultiPolygon","coordinates":[` + ring(a) + "," + ring(b) + `]}`)
		checkMask(t, maskCase{in: fixture(t, "track"), lat: "/data_01/latitude", lon: "/data_01/longitude",
			region: regions.Fixed{Name: "twice", Geometry: geom},
			inside: func(lon, lat float64) bool { return pip(a, lon, lat) || pip(b, lon, lat) }})
	})
}

func flagsWithoutFill(v *ncmodel.Var) bool {
	_, values := v.Attr("flag_values")
	_, masks := v.Attr("flag_masks")
	_, fill := v.Attr("_FillValue")
	_, missing := v.Attr("missing_value")
	return (values || masks) && !fill && !missing
}

// TestDefaultFillDeclared: a masked variable without _FillValue gets
// netCDF's default fill, declared in the output; flags without a fill are
// not masked and get none.
func TestDefaultFillDeclared(t *testing.T) {
	in := fixture(t, "fills")
	region, _ := polyCase([][2]float64{{-60, -20}, {60, -20}, {-60, 20}})
	_, res := cut(t, in, &engine.Request{Regions: []regions.Fixed{region}})
	src := openT(t, res.Regions[0].Files[0].Path)
	a, ok := src.File().FindVar("no_fill").Attr("_FillValue")
	if !ok || a.Type != ncmodel.Float || a.Float64s()[0] != float64(float32(9.969209968386869e36)) {
		t.Errorf("no_fill _FillValue: %+v %v", a, ok)
	}
	if _, ok := openT(t, in).File().FindVar("no_fill").Attr("_FillValue"); ok {
		t.Fatal("the input already declares a fill: the test shows nothing")
	}
	swath := fixture(t, "swath")
	region, _ = boxCase([]float64{-5, -25, 5, 0})
	_, res = cut(t, swath, &engine.Request{Regions: []regions.Fixed{region}})
	if !flagsWithoutFill(openT(t, swath).File().FindVar("flags")) {
		t.Fatal("swath's flags have a fill: the test shows nothing")
	}
	if a, ok := openT(t, res.Regions[0].Files[0].Path).File().FindVar("flags").Attr("_FillValue"); ok {
		t.Errorf("flags without a fill got _FillValue %v", a)
	}
}
