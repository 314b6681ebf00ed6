package oracle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/testutil/fixtures"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/ncmodel/nccompare"
	"github.com/subsetd/subsetd/regions"
)

// The selection rules on generated fixtures and third-party files: the
// time range on tracks and swaths, each variable's own grid and time axis,
// grids sharing a dimension, smallest polygon boxes, periodic columns,
// polygon rings, points and the overlap rule. Boxes are compared with ncks
// of the same index ranges; which cells are in is computed here (times by
// python's cftime, positions from the coordinates).

// pythonInRange decodes time values with cftime and reports which lie in
// [start, end] (ISO dates, both included); NaN is never in.
func pythonInRange(t *testing.T, values []float64, units, calendar, start, end string) []bool {
	t.Helper()
	py := fixtures.NeedPython(t, "cftime")
	script := `
import json, sys, math, cftime
vals, units, cal, start, end = json.load(sys.stdin)
c = cal or "standard"
fmt = "%Y-%m-%dT%H:%M:%S.%f"
s = cftime.datetime.strptime(start, fmt, calendar=c)
e = cftime.datetime.strptime(end, fmt, calendar=c)
ok = [v is not None for v in vals]
ds = cftime.num2date([v if v is not None else 0 for v in vals], units, calendar=c, only_use_cftime_datetimes=True)
print(json.dumps([bool(k and s <= d <= e) for k, d in zip(ok, ds)]))
`
	vals := make([]any, len(values))
	for i, v := range values {
		if !math.IsNaN(v) {
			vals[i] = v
		}
	}
	in, _ := json.Marshal([]any{vals, units, calendar, start, end})
	cmd := exec.Command(py, "-c", script)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cftime: %v %.500s", err, out)
	}
	var res []bool
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v: %.500s", err, out)
	}
	return res
}

// spanOf returns the first and last true index.
func spanOf(b []bool) (int, int) {
	lo, hi := -1, -1
	for i, x := range b {
		if x {
			if lo < 0 {
				lo = i
			}
			hi = i
		}
	}
	return lo, hi
}

// checkBox compares the region's output with ncks of the index box (a
// dimension name, in any group, to its first and last index), the masked
// variables aside; each masked variable's values equal the input's where
// inside says the cell (by input index) is in, and its fill elsewhere.
func checkBox(t *testing.T, in string, r engine.RegionResult, box map[string][2]int, masked map[string]func(idx []int) bool, noNCKS bool, extra ...string) {
	t.Helper()
	if r.Status != engine.StatusSuccessful || len(r.Files) != 1 {
		t.Fatalf("%s: %s %s", r.Name, r.Status, r.Message)
	}
	ours := openT(t, r.Files[0].Path)
	src := openT(t, in)
	if !noNCKS {
		needNCO(t)
		var args []string
		for d, b := range box {
			args = append(args, "-d", fmt.Sprintf("%s,%d,%d", d, b[0], b[1]))
		}
		skip := map[string]bool{}
		for v := range masked {
			skip[v] = true
		}
		want := openT(t, ncks(t, in, append(args, extra...)...))
		// _ChunkSizes (netCDF-Java's) no longer tells the truth once cut.
		if diffs := nccompare.Compare(ours, want, nccompare.Options{SkipValues: skip, IgnoreGlobalAttrs: ignoredGlobals, IgnoreVarAttrs: map[string]bool{"_FillValue": true, "_ChunkSizes": true}}); len(diffs) > 0 {
			if len(diffs) > 10 {
				diffs = diffs[:10]
			}
			t.Errorf("differs from ncks %v:\n  %s", args, strings.Join(diffs, "\n  "))
		}
	}
	for name, inside := range masked {
		v := src.File().FindVar(name)
		ov := ours.File().FindVar(name)
		if v == nil || ov == nil {
			t.Fatalf("%s: input %v output %v", name, v != nil, ov != nil)
		}
		start, count := make([]int, len(v.Dims)), v.Shape()
		for i, d := range v.Dims {
			if b, ok := box[d.Name]; ok {
				start[i], count[i] = b[0], b[1]-b[0]+1
			}
		}
		if fmt.Sprint(ov.Shape()) != fmt.Sprint(count) {
			t.Fatalf("%s: shape %v, want %v", name, ov.Shape(), count)
		}
		wantA, err := src.Read(v, start, count, nil)
		if err != nil {
			t.Fatal(err)
		}
		gotA, err := ours.Read(ov, make([]int, len(count)), count, nil)
		if err != nil {
			t.Fatal(err)
		}
		fill := fillOf(ov)
		es := v.Type.Size()
		idx := make([]int, len(count))
		bad, nin, nout := 0, 0, 0
		for k := 0; k < wantA.Len(); k++ {
			at := make([]int, len(idx))
			for i := range idx {
				at[i] = start[i] + idx[i]
			}
			in := inside(at)
			g, w := gotA.Data[k*es:(k+1)*es], wantA.Data[k*es:(k+1)*es]
			if in {
				nin++
			} else {
				nout++
			}
			if in && !bytes.Equal(g, w) || !in && !bytes.Equal(g, fill) {
				if bad++; bad < 5 {
					t.Errorf("%s at %v (inside %v): got %v, input %v", name, at, in, gotA.Float64(k), wantA.Float64(k))
				}
			}
			for d := len(idx) - 1; d >= 0; d-- {
				if idx[d]++; idx[d] < count[d] {
					break
				}
				idx[d] = 0
			}
		}
		if nin == 0 {
			t.Errorf("%s: no cell inside: the test shows nothing", name)
		}
		if nout == 0 && len(masked) > 0 {
			t.Logf("%s: every cell of the box is inside", name)
		}
	}
}

// timeAt reads a variable's values as stored and unpacked, with its units
// and calendar.
func timeAt(t *testing.T, src ncmodel.Source, name string) ([]float64, string, string) {
	t.Helper()
	v := src.File().FindVar(name)
	vals := allValues(t, src, v)
	cal := ""
	if a, ok := v.Attr("calendar"); ok {
		cal = a.Text()
	}
	return vals, v.AttrString("units"), cal
}

func TestTimeOnTrackCells(t *testing.T) {
	in := fixture(t, "track_20hz")
	src := openT(t, in)
	t1, units, cal := timeAt(t, src, "time")
	t20, _, _ := timeAt(t, src, "time_20hz")
	start, end := "2021-03-25T15:06:50", "2021-03-25T15:07:00"
	in1 := pythonInRange(t, t1, units, cal, start+".0", end+".0")
	in20 := pythonInRange(t, t20, units, cal, start+".0", end+".0")
	kept := make([]bool, len(t1))
	for k := range kept {
		kept[k] = in1[k]
		for m := 0; m < 20; m++ {
			kept[k] = kept[k] || in20[k*20+m]
		}
	}
	lo, hi := spanOf(kept)
	if lo < 0 || hi-lo+1 == len(t1) {
		t.Fatalf("the range keeps records %d..%d: the test shows nothing", lo, hi)
	}
	req := &engine.Request{Regions: []regions.Fixed{{Name: "all", BBox: []float64{-180, -90, 180, 90}}}, Time: &engine.TimeRange{Start: start, End: end}}
	_, res := cut(t, in, req)
	checkBox(t, in, res.Regions[0], map[string][2]int{"time": {lo, hi}}, map[string]func([]int) bool{
		"/swh":        func(i []int) bool { return in1[i[0]] },
		"/range_20hz": func(i []int) bool { return in20[i[0]*20+i[1]] },
	}, false)
}

// TestGridsSharingTime: 1-Hz and 20-Hz positions on one time dimension;
// the box holds record 25's 20-Hz positions but not its 1-Hz one.
func TestGridsSharingTime(t *testing.T) {
	in := fixture(t, "track_20hz")
	src := openT(t, in)
	lat1 := allValues(t, src, src.File().FindVar("latitude"))
	lat20 := allValues(t, src, src.File().FindVar("lat_20hz"))
	s, n := -5.2, 4.8
	in1 := func(k int) bool { return lat1[k] >= s && lat1[k] <= n }
	in20 := func(k, m int) bool { y := lat20[k*20+m]; return y >= s && y <= n }
	lo, hi := 99, -1
	for k := range lat1 {
		kept := in1(k)
		for m := 0; m < 20; m++ {
			kept = kept || in20(k, m)
		}
		if kept {
			lo, hi = min(lo, k), max(hi, k)
		}
	}
	if in1(hi) || !in20(hi, 0) {
		t.Fatal("the last record is not inside on one grid only: the test shows nothing")
	}
	_, res := cut(t, in, bboxReq("band", -180, s, 180, n))
	checkBox(t, in, res.Regions[0], map[string][2]int{"time": {lo, hi}}, map[string]func([]int) bool{
		"/swh":        func(i []int) bool { return in1(i[0]) },
		"/range_20hz": func(i []int) bool { return in20(i[0], i[1]) },
	}, false)
}

func TestTimeOnSwathCells(t *testing.T) {
	t.Run("2-D time", func(t *testing.T) {
		in := fixture(t, "swath_time2d")
		src := openT(t, in)
		tt, units, cal := timeAt(t, src, "time")
		start, end := "2018-07-09T16:00:50", "2018-07-09T16:01:35"
		inT := pythonInRange(t, tt, units, cal, start+".0", end+".0")
		lo, hi := -1, -1
		for k, x := range inT {
			if x {
				if lo < 0 {
					lo = k / 12
				}
				hi = k / 12
			}
		}
		if lo < 0 {
			t.Fatal("no cell in the range")
		}
		req := &engine.Request{Regions: []regions.Fixed{{Name: "all", BBox: []float64{-180, -90, 180, 90}}}, Time: &engine.TimeRange{Start: start, End: end}}
		_, res := cut(t, in, req)
		checkBox(t, in, res.Regions[0], map[string][2]int{"NUMROWS": {lo, hi}}, map[string]func([]int) bool{
			"/wind_speed": func(i []int) bool { return inT[i[0]*12+i[1]] },
		}, false)
	})
	t.Run("L2P time plus sst_dtime", func(t *testing.T) {
		in := fixture(t, "swath_l2p_time")
		src := openT(t, in)
		ref, units, cal := timeAt(t, src, "time")
		dt := allValues(t, src, src.File().FindVar("sst_dtime"))
		pix := make([]float64, len(dt))
		for k, d := range dt {
			pix[k] = ref[0] + d
		}
		start, end := "2019-08-22T17:01:45", "2019-08-22T17:03:20"
		inT := pythonInRange(t, pix, units, cal, start+".0", end+".0")
		lo, hi := -1, -1
		for k, x := range inT {
			if x {
				if lo < 0 {
					lo = k / 10
				}
				hi = k / 10
			}
		}
		req := &engine.Request{Regions: []regions.Fixed{{Name: "all", BBox: []float64{-180, -90, 180, 90}}}, Time: &engine.TimeRange{Start: start, End: end}}
		_, res := cut(t, in, req)
		inside := func(i []int) bool { return inT[i[1]*10+i[2]] }
		checkBox(t, in, res.Regions[0], map[string][2]int{"nj": {lo, hi}}, map[string]func([]int) bool{
			"/sea_surface_temperature": inside, "/sst_dtime": inside,
		}, false)
	})
}

// TestRealTracksAndSwathsInTime: Sentinel-6 keeps only the steps in the
// range, ICESat-2 photons likewise in each group, the AMSR2 L2P swath the
// pixels whose reference time plus sst_dtime is in it.
func TestRealTracksAndSwathsInTime(t *testing.T) {
	all := []float64{-180, -90, 180, 90}
	t.Run("Sentinel-6 along track", func(t *testing.T) {
		in := realFile(t, "podaac+concise__S6A_P4_2__HR_RED__NR_014_191_20210403T004056_20210403T005056_F00.nc")
		src := openT(t, in)
		tt, units, cal := timeAt(t, src, "/data_01/time")
		inT := pythonInRange(t, tt, units, cal, "2021-04-03T00:45:00.0", "2021-04-03T00:46:00.0")
		lo, hi := spanOf(inT)
		req := bboxReq("t", all...)
		req.Time = &engine.TimeRange{Start: "2021-04-03T00:45:00", End: "2021-04-03T00:46:00"}
		_, res := cut(t, in, req)
		if got := res.Regions[0].Files[0].Shape["/data_01/time"]; got != hi-lo+1 || got == len(tt) {
			t.Fatalf("%d of %d steps kept, cftime says %d..%d", got, len(tt), lo, hi)
		}
		t.Logf("Sentinel-6: %d of %d steps kept", hi-lo+1, len(tt))
		// Every step of the box is in the range: nothing is masked, the
		// output is ncks's.
		checkBox(t, in, res.Regions[0], map[string][2]int{"time": {lo, hi}}, nil, false)
	})
	t.Run("ICESat-2 photons", func(t *testing.T) {
		in := realFile(t, "nasa+harmony-trajectory-subsetter__ATL03_gt1l.h5")
		src := openT(t, in)
		tt, units, cal := timeAt(t, src, "/gt1l/heights/delta_time")
		start, end := "2018-10-14T00:27:47.6", "2018-10-14T00:27:47.65"
		inT := pythonInRange(t, tt, units, cal, start, end)
		lo, hi := spanOf(inT)
		req := bboxReq("t", all...)
		req.Time = &engine.TimeRange{Start: start, End: end}
		_, res := cut(t, in, req)
		r := res.Regions[0]
		if r.Status != engine.StatusSuccessful {
			t.Fatalf("%+v", r)
		}
		if got := r.Files[0].Shape["/gt1l/heights/delta_time"]; got != hi-lo+1 || got == len(tt) {
			t.Fatalf("%d of %d photons kept, cftime says %d..%d", got, len(tt), lo, hi)
		}
		t.Logf("ATL03 heights: %d of %d photons kept", hi-lo+1, len(tt))
		// The other groups have their own time axes, cut on their own.
		geo, gu, gc := timeAt(t, src, "/gt1l/geolocation/delta_time")
		glo, ghi := spanOf(pythonInRange(t, geo, gu, gc, start, end))
		if got := r.Files[0].Shape["/gt1l/geolocation/delta_time"]; got != ghi-glo+1 {
			t.Errorf("geolocation: %d segments, want %d", got, ghi-glo+1)
		}
		checkBox(t, in, r, map[string][2]int{}, nil, true)
		h := openT(t, r.Files[0].Path)
		_, got := coordValues(t, h, "/gt1l/heights/delta_time")
		if got[0] != tt[lo] || got[len(got)-1] != tt[hi] {
			t.Errorf("delta_time %v..%v, want %v..%v", got[0], got[len(got)-1], tt[lo], tt[hi])
		}
	})
	t.Run("AMSR2 L2P pixels", func(t *testing.T) {
		in := realFile(t, "podaac+l2ss-py__SS_AMSR2-L2B_v08_r38622-v02.0-fv01.0.nc")
		src := openT(t, in)
		ref, units, cal := timeAt(t, src, "time")
		dt := allValues(t, src, src.File().FindVar("sst_dtime"))
		lat := allValues(t, src, src.File().FindVar("lat"))
		lon := allValues(t, src, src.File().FindVar("lon"))
		pix := make([]float64, len(dt))
		for k, d := range dt {
			pix[k] = ref[0] + d
		}
		// The reference time is 17:48:11; the pixels run for about 50
		// minutes after it: ask for 10 of them.
		start, end := "2019-08-21T18:00:00", "2019-08-21T18:10:00"
		inT := pythonInRange(t, pix, units, cal, start+".0", end+".0")
		ni := src.File().FindVar("lat").Shape()[1]
		// Time and space as one mask: the range and a box.
		box := []float64{-50, -80, -20, 0}
		_, inBox := boxCase(box)
		inside := make([]bool, len(pix))
		lo, hi := -1, -1
		for k := range inside {
			inside[k] = inT[k] && inBox(lon[k], lat[k])
			if inside[k] {
				if lo < 0 {
					lo = k / ni
				}
				hi = k / ni
			}
		}
		if lo < 0 {
			t.Fatal("no pixel in the range")
		}
		i0, i1 := ni, -1
		for k, in := range inside {
			if in {
				i0, i1 = min(i0, k%ni), max(i1, k%ni)
			}
		}
		req := bboxReq("t", box...)
		req.Time = &engine.TimeRange{Start: start, End: end}
		_, res := cut(t, in, req)
		t.Logf("AMSR2: rows %d..%d, columns %d..%d of %d x %d", lo, hi, i0, i1, len(pix)/ni, ni)
		masked := map[string]func([]int) bool{}
		for _, v := range gridDataVars(src.File(), src.File().FindVar("lat")) {
			if !flagsWithoutFill(src.File().FindVar(v)) {
				masked[v] = func(i []int) bool { return inside[i[1]*ni+i[2]] }
			}
		}
		checkBox(t, in, res.Regions[0], map[string][2]int{"nj": {lo, hi}, "ni": {i0, i1}}, masked, false)
		// GDS 2's start_time and stop_time: the first and last pixel kept,
		// in the source's format.
		if !strings.HasPrefix(units, "seconds since 1981-01-01") {
			t.Fatalf("time units %q", units)
		}
		first, last := math.Inf(1), math.Inf(-1)
		for k, in := range inside {
			if in {
				first, last = math.Min(first, pix[k]), math.Max(last, pix[k])
			}
		}
		at := func(s float64) string {
			return time.Date(1981, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(math.Floor(s)) * time.Second).Format("20060102T150405Z")
		}
		out := openT(t, res.Regions[0].Files[0].Path).File().Root
		a, _ := out.Attr("start_time")
		b, _ := out.Attr("stop_time")
		if a.Text() != at(first) || b.Text() != at(last) {
			t.Errorf("start_time %q, stop_time %q, want %s, %s", a.Text(), b.Text(), at(first), at(last))
		}
	})
}

// TestOwnCoordinatesAndTimeAxes: NCO's in.cdl (and own_axes, its traps
// generated): a variable is cut by its own lat/lon, not an unrelated 2-D
// pair on the same dimensions (ncks -d lon,0.,0. gives one column); the
// time range applies to each time axis on its own.
func TestOwnCoordinatesAndTimeAxes(t *testing.T) {
	needNCO(t)
	inCDL := filepath.Join(fixtures.RealDataDir(), "nco+nco__in.cdl")
	files := map[string]string{"own_axes": fixture(t, "own_axes")}
	if _, err := os.Stat(inCDL); err != nil {
		t.Log("in.cdl not present: the generated case only")
	} else {
		p := filepath.Join(t.TempDir(), "in.nc")
		if b, err := exec.Command("ncgen", "-k", "classic", "-o", p, inCDL).CombinedOutput(); err != nil {
			t.Fatalf("ncgen: %v %s", err, b)
		}
		files["in.cdl"] = p
	}
	vars := map[string][2]string{"own_axes": {"three", "cal"}, "in.cdl": {"three_dmn_var_dbl", "lat_cal"}}
	for name, in := range files {
		t.Run(name, func(t *testing.T) {
			v := vars[name]
			req := bboxReq("n", 0, -90, 0, 90)
			req.Variables = []string{v[0]}
			_, res := cut(t, in, req)
			r := res.Regions[0]
			if r.Status != engine.StatusSuccessful {
				t.Fatalf("%+v", r)
			}
			want := ncks(t, in, "-v", v[0], "-d", "lon,0.,0.")
			compare(t, r.Files[0].Path, want, nccompare.Options{})
			if got := fmt.Sprint(openT(t, r.Files[0].Path).File().FindVar(v[0]).Shape()); got != "[10 2 1]" {
				t.Errorf("%s shape %s", v[0], got)
			}
			// 1964-03-01..03 holds lat_cal steps (360_day) and no time step.
			req = bboxReq("all", -180, -90, 180, 90)
			req.Time = &engine.TimeRange{Start: "1964-03-01", End: "1964-03-03"}
			req.Variables = []string{v[1]}
			_, res = cut(t, in, req)
			r = res.Regions[0]
			if r.Status != engine.StatusSuccessful {
				t.Fatalf("%+v", r)
			}
			compare(t, r.Files[0].Path, ncks(t, in, "-v", v[1], "-d", "lat_cal,1964-03-01,1964-03-03"), nccompare.Options{})
			req.Variables = nil
			_, res = cut(t, in, req)
			out := openT(t, res.Regions[0].Files[0].Path).File()
			if out.FindVar(v[0]) != nil || out.FindVar("time") != nil {
				t.Errorf("variables on time are kept")
			}
			if len(res.Notes) == 0 || !strings.Contains(res.Notes[0], "holds no step of /time") {
				t.Errorf("notes %q", res.Notes)
			}
			if a, _ := out.Root.Attr("time_coverage_start"); a.Text() != "1964-03-01T00:00:00Z" {
				t.Errorf("time_coverage_start %q: from the variables kept", a.Text())
			}
			d, err := engine.Describe(openT(t, in))
			if err != nil || d.Time == nil || d.Time.Steps != 10 || !strings.EqualFold(d.Time.Calendar, "gregorian") {
				t.Errorf("the file's time axis: %+v %v", d.Time, err)
			}
		})
	}
	if _, ok := files["in.cdl"]; !ok {
		return
	}
	// Two grids stored as 1-D arrays on one dimension, a variable naming
	// neither: kept where either is inside (lon 0 is at 0 and 4 on the
	// rectangular one, at 0, 1, 3, 5 and 7 on the irregular one).
	in := files["in.cdl"]
	req := bboxReq("n", 0, -90, 0, 90)
	req.Variables = []string{"var_1D_rct"}
	_, res := cut(t, in, req)
	src := openT(t, in)
	lr := allValues(t, src, src.File().FindVar("lon_1D_rct"))
	lg := allValues(t, src, src.File().FindVar("lon_1D_rrg"))
	checkBox(t, in, res.Regions[0], map[string][2]int{"lat_times_lon": {0, 7}}, map[string]func([]int) bool{
		"/var_1D_rct": func(i []int) bool { return lr[i[0]] == 0 || lg[i[0]] == 0 },
	}, false, "-v", "var_1D_rct")
}

// eastern canada is clisops' test polygon (tests/data/eastern_canada.json).
var easternCanada = [][2]float64{{-75.9375, 53.12040528310657}, {-87.1875, 45.82879925192134}, {-72.0703125, 38.272688535980976}, {-59.765625, 46.07323062540835}, {-60.46875, 56.17002298293205}}

func TestPolygonSmallestBox(t *testing.T) {
	in := fixture(t, "grid_quarter")
	src := openT(t, in)
	_, lat := coordValues(t, src, "lat")
	_, lon := coordValues(t, src, "lon")
	region, inside := polyCase(easternCanada)
	rows, cols := map[int]bool{}, map[int]bool{}
	for j, y := range lat {
		for i, x := range lon {
			if inside(x, y) {
				rows[j], cols[i] = true, true
			}
		}
	}
	j0, j1, i0, i1 := len(lat), -1, len(lon), -1
	for j := range rows {
		j0, j1 = min(j0, j), max(j1, j)
	}
	for i := range cols {
		i0, i1 = min(i0, i), max(i1, i)
	}
	// The polygon's bounds reach one more column to the west.
	b, _ := region.Resolve("r")
	west := 0
	for i, x := range lon {
		if x-360 >= b.Area.Bounds().West {
			west = i
			break
		}
	}
	if west >= i0 {
		t.Fatalf("the bounds start at column %d, the inside cells at %d: the test shows nothing", west, i0)
	}
	_, res := cut(t, in, &engine.Request{Regions: []regions.Fixed{region}})
	r := res.Regions[0]
	t.Logf("eastern_canada on 0.25°: %d columns (the polygon's bounds: %d), %d rows", i1-i0+1, i1-west+1, j1-j0+1)
	checkBox(t, in, r, map[string][2]int{"lat": {j0, j1}, "lon": {i0, i1}}, nil, false)
}

func TestPeriodicColumns(t *testing.T) {
	check := func(t *testing.T, in string, latV, lonV string, box []float64, masked []string) {
		t.Helper()
		src := openT(t, in)
		lv := src.File().FindVar(latV)
		lat, lon := allValues(t, src, lv), allValues(t, src, src.File().FindVar(lonV))
		ny, nx := lv.Shape()[0], lv.Shape()[1]
		_, in1 := boxCase(box)
		inside := func(j, i int) bool { return in1(lon[j*nx+i], lat[j*nx+i]) }
		cols := make([]bool, nx)
		j0, j1 := ny, -1
		for j := 0; j < ny; j++ {
			for i := 0; i < nx; i++ {
				if inside(j, i) {
					cols[i] = true
					j0, j1 = min(j0, j), max(j1, j)
				}
			}
		}
		// The columns round the seam: from the end of the largest gap
		// between inside columns to the end of the row, then from its start.
		var idx []int
		for i, c := range cols {
			if c {
				idx = append(idx, i)
			}
		}
		best, first := -1, 0
		for k := range idx {
			gap := idx[(k+1)%len(idx)] - idx[k] - 1
			if k == len(idx)-1 {
				gap += nx
			}
			if gap > best {
				best, first = gap, (k+1)%len(idx)
			}
		}
		b, a := idx[first], idx[(first+len(idx)-1)%len(idx)]
		if b <= a {
			t.Fatalf("the box does not cross the grid's seam: columns %d..%d", b, a)
		}
		_, res := cut(t, in, bboxReq("seam", box...))
		r := res.Regions[0]
		if r.Status != engine.StatusSuccessful {
			t.Fatalf("%+v", r)
		}
		if got, want := r.Files[0].Shape[lv.Dims[1].Name], a+1+nx-b; got != want {
			t.Fatalf("%d columns, want %d (%d..%d then 0..%d)", got, want, b, nx-1, a)
		}
		t.Logf("%s: %d of %d columns", filepath.Base(in), a+1+nx-b, nx)
		// Each half equals ncks of its columns.
		jd, id := lv.Dims[0].Name, lv.Dims[1].Name
		for h, part := range [][2]int{{b, nx - 1}, {0, a}} {
			at := 0
			if h == 1 {
				at = nx - b
			}
			half := ncks(t, r.Files[0].Path, "-d", fmt.Sprintf("%s,%d,%d", id, at, at+part[1]-part[0]))
			want := ncks(t, in, "-d", fmt.Sprintf("%s,%d,%d", jd, j0, j1), "-d", fmt.Sprintf("%s,%d,%d", id, part[0], part[1]))
			skip := map[string]bool{}
			for _, m := range masked {
				skip[m] = true
			}
			compare(t, half, want, nccompare.Options{SkipValues: skip, IgnoreVarAttrs: map[string]bool{"_FillValue": true, "_ChunkSizes": true}})
			fake := engine.RegionResult{Name: "half", Status: engine.StatusSuccessful, Files: []engine.OutFile{{Path: half}}}
			ms := map[string]func([]int) bool{}
			for _, m := range masked {
				ms[m] = func(i []int) bool { return inside(i[len(i)-2], i[len(i)-1]) }
			}
			checkBox(t, in, fake, map[string][2]int{jd: {j0, j1}, id: part}, ms, true)
		}
	}
	t.Run("ocean grid -280..80", func(t *testing.T) {
		check(t, fixture(t, "ocean_periodic"), "latitude", "longitude", []float64{60, -20, 110, 20}, []string{"/siconc"})
	})
	t.Run("ocean grid 0..360", func(t *testing.T) {
		lon := make([]float64, 18*36)
		for j := 0; j < 18; j++ {
			for i := 0; i < 36; i++ {
				lon[j*36+i] = 5 + 10*float64(i) + 0.2*float64(j)
			}
		}
		in := fixtures.Variant(t, "ocean_periodic", fixtures.Values{Data: map[string][]float64{"longitude": lon}})
		check(t, in, "latitude", "longitude", []float64{-20, -20, 20, 20}, []string{"/siconc"})
	})
	t.Run("CanESM5 sea ice", func(t *testing.T) {
		in := realFile(t, "Ouranosinc+xclim-testdata__sic_SImon_CCCma-CanESM5_ssp245_r13i1p2f1_2020.nc")
		// Its columns start at 73.5°E: a box from 60°E to 90°E crosses them.
		check(t, in, "latitude", "longitude", []float64{60, 60, 90, 75}, []string{"/siconc"})
	})
}

func TestPolygonRingsOnRealGrid(t *testing.T) {
	in := realFile(t, "Ouranosinc+xclim-testdata__tas_Amon_CanESM2_rcp85_r1i1p1_200701-200712.nc")
	b, err := os.ReadFile(realFile(t, filepath.Join("polygons", "nasa+harmony-opendap-subsetter__multipolygon.geo.json")))
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Features []struct {
			Geometry json.RawMessage `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatal(err)
	}
	colorado := [][2]float64{{-109.05, 41}, {-109.05, 37}, {-102.05, 37}, {-102.05, 41}}
	wyoming := [][2]float64{{-111.05, 45}, {-111.05, 41}, {-104.05, 41}, {-104.05, 45}}
	inside := func(x, y float64) bool { return pip(colorado, x, y) || pip(wyoming, x, y) }
	region := regions.Fixed{Name: "states", Geometry: fc.Features[0].Geometry}
	checkMask1D(t, in, region, inside, []string{"/tas"})
}

// TestPointsAndOverlap: a station selects the cell holding it (HOSS: lat
// index 540, lon index 1320 on a 0.25° grid), under either rule; the
// overlap rule takes the cells whose bounds meet a box.
func TestPointsAndOverlap(t *testing.T) {
	in := fixture(t, "grid_quarter")
	for _, rule := range []string{engine.SelectCentre, engine.SelectOverlap} {
		req := bboxReq("p", -29.99, 45.01, -29.99, 45.01)
		req.Select = rule
		_, res := cut(t, in, req)
		checkBox(t, in, res.Regions[0], map[string][2]int{"lat": {540, 540}, "lon": {1320, 1320}}, nil, false)
		req = &engine.Request{Regions: []regions.Fixed{{Name: "p", Geometry: json.RawMessage(`{"type":"Point","coordinates":[-29.99,45.01]}`)}}, Select: rule}
		_, res = cut(t, in, req)
		checkBox(t, in, res.Regions[0], map[string][2]int{"lat": {540, 540}, "lon": {1320, 1320}}, nil, false)
	}
	// GPM's cells have bounds: the overlap rule takes the cells whose
	// lat_bnds/lon_bnds intervals meet the box, sharing an edge not enough.
	gpm := realFile(t, "nasa+harmony-opendap-subsetter__GPM_3IMERGHH_bounds.nc4")
	src := openT(t, gpm)
	latB := allValues(t, src, src.File().FindVar("/Grid/lat_bnds"))
	lonB := allValues(t, src, src.File().FindVar("/Grid/lon_bnds"))
	meets := func(bnds []float64, lo, hi float64) (int, int) {
		a, b := -1, -1
		for k := 0; k < len(bnds)/2; k++ {
			l, h := math.Min(bnds[2*k], bnds[2*k+1]), math.Max(bnds[2*k], bnds[2*k+1])
			if lo == hi && lo >= l && lo <= h || lo < hi && h > lo+1e-5 && l < hi-1e-5 {
				if a < 0 {
					a = k
				}
				b = k
			}
		}
		return a, b
	}
	for _, box := range [][]float64{{-25.03, 35.02, -24.01, 36.0}, {-20, 40, -20, 40}, {-22.96, 33.36, -22.91, 33.39}} {
		for _, rule := range []string{engine.SelectOverlap, engine.SelectCentre} {
			la, lb := meets(latB, box[1], box[3])
			oa, ob := meets(lonB, box[0], box[2])
			if rule == engine.SelectCentre {
				_, lat := coordValues(t, src, "/Grid/lat")
				_, lon := coordValues(t, src, "/Grid/lon")
				if s, ok := expectLat(lat, box[1], box[3]); ok {
					la, lb = s.lo, s.hi
				}
				if rs := expectLon(lon, box[0], box[2]); len(rs) == 1 {
					oa, ob = rs[0].lo, rs[0].hi
				}
			}
			req := bboxReq("b", box...)
			req.Select = rule
			_, res := cut(t, gpm, req)
			t.Logf("GPM %v %s: lat %d..%d lon %d..%d", box, rule, la, lb, oa, ob)
			checkBox(t, gpm, res.Regions[0], map[string][2]int{"lat": {la, lb}, "lon": {oa, ob}}, nil, false)
		}
	}
}
