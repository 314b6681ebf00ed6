package engine

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/regions"
)

// The selection rules: time on the cells of tracks and swaths, each
// variable on its own grid and time axis, grids sharing dimensions,
// smallest boxes, periodic columns, polygon rings, points and thin boxes.
// Every expectation is computed here from the input's formulas.

// alt20 is a track of 1-Hz records k (time k s, lat -20 + k, lon 355 +
// 0.5k) with 20-Hz measurements (k, m) at k + f, f = (m - 9.5)/20, on
// time x meas_ind: swh(k) = 100 + k, rng(k, m) = 1000k + m.
func alt20() *nc {
	f := func(i []int) float64 { return (float64(i[1]) - 9.5) / 20 }
	return newNC("/data/alt.nc", ncmodel.FormatNetCDF4).dim("time", 40).dim("meas_ind", 20).
		v("time", ncmodel.Double, "time", func(i []int) float64 { return float64(i[0]) }, txt("units", "seconds since 2020-01-01"), txt("standard_name", "time")).
		v("latitude", ncmodel.Double, "time", func(i []int) float64 { return -20 + float64(i[0]) }, txt("units", "degrees_north")).
		v("longitude", ncmodel.Double, "time", func(i []int) float64 { return math.Mod(355+0.5*float64(i[0]), 360) }, txt("units", "degrees_east")).
		v("swh", ncmodel.Float, "time", func(i []int) float64 { return float64(100 + i[0]) }, txt("coordinates", "longitude latitude"), num("_FillValue", ncmodel.Float, -9)).
		v("time_20hz", ncmodel.Double, "time meas_ind", func(i []int) float64 { return float64(i[0]) + f(i) }, txt("units", "seconds since 2020-01-01")).
		v("lat_20hz", ncmodel.Double, "time meas_ind", func(i []int) float64 { return -20 + float64(i[0]) + f(i) }, txt("units", "degrees_north")).
		v("lon_20hz", ncmodel.Double, "time meas_ind", func(i []int) float64 { return math.Mod(355+0.5*(float64(i[0])+f(i)), 360) }, txt("units", "degrees_east")).
		v("rng", ncmodel.Int, "time meas_ind", func(i []int) float64 { return float64(1000*i[0] + i[1]) }, txt("coordinates", "lon_20hz lat_20hz"), num("_FillValue", ncmodel.Int, -1))
}

// checkAlt20 checks a cut of alt20 against the predicates deciding which
// 1-Hz records and 20-Hz measurements are in.
func checkAlt20(t *testing.T, out interface {
	Data(string) *ncmodel.Array
}, in1 func(k int) bool, in20 func(k, m int) bool) {
	t.Helper()
	lo, hi := 99, -1
	for k := 0; k < 40; k++ {
		kept := in1(k)
		for m := 0; m < 20; m++ {
			kept = kept || in20(k, m)
		}
		if kept {
			lo, hi = min(lo, k), max(hi, k)
		}
	}
	times := out.Data("time").Float64s()
	if len(times) != hi-lo+1 || times[0] != float64(lo) {
		t.Fatalf("time = %v, want records %d..%d", times, lo, hi)
	}
	swh, rng := out.Data("swh").Float64s(), out.Data("rng").Float64s()
	for n := range times {
		k := lo + n
		want := float64(100 + k)
		if !in1(k) {
			want = -9
		}
		if swh[n] != want {
			t.Errorf("swh[%d] = %v, want %v", k, swh[n], want)
		}
		for m := 0; m < 20; m++ {
			want := float64(1000*k + m)
			if !in20(k, m) {
				want = -1
			}
			if got := rng[n*20+m]; got != want {
				t.Errorf("rng[%d, %d] = %v, want %v", k, m, got, want)
			}
		}
	}
}

func TestRunTimeAlongTracks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	in := e.put("/data/alt.nc", alt20().build())
	// Seconds 10 to 20, both included: 1-Hz records 10..20, 20-Hz
	// measurements whose own time is in the range.
	req := &Request{Regions: []regions.Fixed{bbox("all", -180, -90, 180, 90)}, Time: &TimeRange{Start: "2020-01-01T00:00:10", End: "2020-01-01T00:00:20"}}
	res := e.run(t, req, in)
	out := e.out(t, res.Regions[0])
	inT := func(x float64) bool { return x >= 10 && x <= 20 }
	checkAlt20(t, out, func(k int) bool { return inT(float64(k)) }, func(k, m int) bool { return inT(float64(k) + (float64(m)-9.5)/20) })
	if got := globalText(out, "time_coverage_start") + " " + globalText(out, "time_coverage_end"); got != "2020-01-01T00:00:10Z 2020-01-01T00:00:20Z" {
		t.Errorf("time coverage %s", got)
	}

	// Time and space together, as one mask: north of -7.5 and seconds
	// 10..20.
	req.Regions = []regions.Fixed{bbox("north", -180, -7.5, 180, 90)}
	res = e.run(t, req, in)
	out = e.out(t, res.Regions[0])
	checkAlt20(t, out, func(k int) bool { return inT(float64(k)) && -20+float64(k) >= -7.5 },
		func(k, m int) bool {
			f := (float64(m) - 9.5) / 20
			return inT(float64(k)+f) && -20+float64(k)+f >= -7.5
		})

	// Outside every cell's time: an error naming the coverage.
	req.Time = &TimeRange{Start: "2021-01-01", End: "2021-01-02"}
	if _, err := Run(t.Context(), []string{in}, req, e.opt); err == nil || !strings.Contains(err.Error(), "is outside the data of alt.nc (time coverage cells of /latitude 2020-01-01T00:00:00Z..2020-01-01T00:00:39Z; cells of /lat_20hz") {
		t.Errorf("time outside: %v", err)
	}
}

func TestRunGridsSharingADimension(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	in := e.put("/data/alt.nc", alt20().build())
	// 1-Hz positions at lat -20 + k: records 15..24 lie in the box; 20-Hz
	// positions reach record 25 (lat 5 - 0.475 ...). The output holds
	// records 15..25 and each grid's variables are masked by its own
	// positions: swh at record 25 is outside.
	s, n := -5.2, 4.8
	res := e.run(t, &Request{Regions: []regions.Fixed{bbox("band", -180, s, 180, n)}}, in)
	out := e.out(t, res.Regions[0])
	in1 := func(k int) bool { y := -20 + float64(k); return y >= s && y <= n }
	in20 := func(k, m int) bool { y := -20 + float64(k) + (float64(m)-9.5)/20; return y >= s && y <= n }
	if !in20(25, 0) || in1(25) {
		t.Fatal("the case does not hold a record inside on one grid only")
	}
	checkAlt20(t, out, in1, in20)
	// A box inside the track's extent, away from the track: not "does not
	// intersect".
	for _, rule := range []string{SelectCentre, SelectOverlap} {
		res = e.run(t, &Request{Regions: []regions.Fixed{bbox("off", 5, -10, 8, -8)}, Select: rule}, in)
		if r := res.Regions[0]; r.Status != StatusEmpty || !strings.Contains(r.Message, "lies inside the data of alt.nc but meets none of its cells") {
			t.Errorf("%s: %+v", rule, r)
		}
	}
	// Only the 1-Hz variables asked: the 20-Hz grid plays no part.
	res = e.run(t, &Request{Regions: []regions.Fixed{bbox("band", -180, s, 180, n)}, Variables: []string{"swh"}}, in)
	out = e.out(t, res.Regions[0])
	if got := fmt.Sprint(varNames(out.File()), shape(t, out, "swh")); got != "[time latitude longitude swh] [10]" {
		t.Errorf("swh alone: %s", got)
	}
}

// scat is a scatterometer swath whose time is 2-D: time(r, c) = 5r +
// 0.1c s, lat = -10 + 0.5r + 0.05c, lon = 20 + 0.5c - 0.1r, ws = 100r + c.
func scat() *nc {
	return newNC("/data/scat.nc", ncmodel.FormatNetCDF4).dim("NUMROWS", 30).dim("NUMCELLS", 12).
		v("time", ncmodel.Double, "NUMROWS NUMCELLS", func(i []int) float64 { return 5*float64(i[0]) + 0.1*float64(i[1]) }, txt("units", "seconds since 1990-01-01")).
		v("lat", ncmodel.Float, "NUMROWS NUMCELLS", func(i []int) float64 { return -10 + 0.5*float64(i[0]) + 0.05*float64(i[1]) }, txt("units", "degrees_north")).
		v("lon", ncmodel.Float, "NUMROWS NUMCELLS", func(i []int) float64 { return 20 + 0.5*float64(i[1]) - 0.1*float64(i[0]) }, txt("units", "degrees_east")).
		v("ws", ncmodel.Float, "NUMROWS NUMCELLS", func(i []int) float64 { return float64(100*i[0] + i[1]) }, txt("coordinates", "lat lon time"), num("_FillValue", ncmodel.Float, -9))
}

// l2p is a GHRSST L2P swath: time(1) = 1000 s plus sst_dtime(j, i) = 10j +
// i s; lat = 30 + 0.5j + 0.1i, lon = -40 + 0.5i + 0.05j; sst = 100j + i.
func l2p() *nc {
	return newNC("/data/l2p.nc", ncmodel.FormatNetCDF4).dim("time", 1).dim("nj", 30).dim("ni", 10).
		v("time", ncmodel.Int, "time", func(i []int) float64 { return 1000 }, txt("units", "seconds since 1981-01-01"), txt("standard_name", "time")).
		v("lat", ncmodel.Float, "nj ni", func(i []int) float64 { return 30 + 0.5*float64(i[0]) + 0.1*float64(i[1]) }, txt("units", "degrees_north")).
		v("lon", ncmodel.Float, "nj ni", func(i []int) float64 { return -40 + 0.5*float64(i[1]) + 0.05*float64(i[0]) }, txt("units", "degrees_east")).
		v("sst_dtime", ncmodel.Short, "time nj ni", func(i []int) float64 { return float64(10*i[1] + i[2]) }, txt("units", "second"), txt("long_name", "time difference from reference time"), txt("coordinates", "lon lat")).
		v("sst", ncmodel.Short, "time nj ni", func(i []int) float64 { return float64(100*i[1] + i[2]) }, txt("coordinates", "lon lat"), num("_FillValue", ncmodel.Short, -32768))
}

// checkSwathTime checks a 2-D cut: rows and columns from the first to the
// last cell in, cells out masked.
func checkSwathTime(t *testing.T, out interface {
	Data(string) *ncmodel.Array
}, v string, ny, nx int, in func(y, x int) bool, value func(y, x int) float64, fill float64) {
	t.Helper()
	y0, y1, x0, x1 := 99, -1, 99, -1
	for y := 0; y < ny; y++ {
		for x := 0; x < nx; x++ {
			if in(y, x) {
				y0, y1, x0, x1 = min(y0, y), max(y1, y), min(x0, x), max(x1, x)
			}
		}
	}
	a := out.Data(v)
	if want := fmt.Sprint([]int{y1 - y0 + 1, x1 - x0 + 1}); fmt.Sprint(a.Shape[len(a.Shape)-2:]) != want {
		t.Fatalf("%s shape %v, want %s", v, a.Shape, want)
	}
	got := a.Float64s()
	masked := 0
	for y := y0; y <= y1; y++ {
		for x := x0; x <= x1; x++ {
			want := value(y, x)
			if !in(y, x) {
				want = fill
				masked++
			}
			if g := got[(y-y0)*(x1-x0+1)+x-x0]; g != want {
				t.Fatalf("%s(%d, %d) = %v, want %v", v, y, x, g, want)
			}
		}
	}
	if masked == 0 {
		t.Error("no cell of the box is out: the mask is not tested")
	}
}

func TestRunTimeOnSwaths(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	scatIn := e.put("/data/scat.nc", scat().build())
	// 50.5 s to 95 s: rows 10..19, cells of row 10 from 0.5 s on.
	req := &Request{Regions: []regions.Fixed{bbox("all", -180, -90, 180, 90)}, Time: &TimeRange{Start: "1990-01-01T00:00:50.5", End: "1990-01-01T00:01:35"}}
	res := e.run(t, req, scatIn)
	checkSwathTime(t, e.out(t, res.Regions[0]), "ws", 30, 12, func(r, c int) bool {
		x := 5*float64(r) + 0.1*float64(c)
		return x >= 50.5-1e-6 && x <= 95+1e-6
	}, func(r, c int) float64 { return float64(100*r + c) }, -9)

	// L2P: the reference time (1000 s) is before the range, the pixels'
	// times (1000 + 10j + i) are in it from row 10 to row 20.
	l2pIn := e.put("/data/l2p.nc", l2p().build())
	req = &Request{Regions: []regions.Fixed{bbox("all", -180, -90, 180, 90)}, Time: &TimeRange{Start: "1981-01-01T00:18:25", End: "1981-01-01T00:20:00"}}
	res = e.run(t, req, l2pIn)
	out := e.out(t, res.Regions[0])
	inT := func(j, i int) bool { x := 1000 + 10*j + i; return x >= 1105 && x <= 1200 }
	checkSwathTime(t, out, "sst", 30, 10, inT, func(j, i int) float64 { return float64(100*j + i) }, -32768)
	if got := values(t, out, "time"); len(got) != 1 || got[0] != 1000 {
		t.Errorf("the reference time is kept: %v", got)
	}
	// The offsets themselves are data on the grid: masked as well.
	checkSwathTime(t, out, "sst_dtime", 30, 10, inT, func(j, i int) float64 { return float64(10*j + i) }, -32767)
}

// ownAxes is NCO in.cdl's trap: time (days 1..10 since 1964-03-12 in the
// gregorian calendar) beside lat_cal (days 1..10 since 1964-02-28 in
// 360_day), a rectilinear lat/lon grid and an unrelated 2-D pair on its
// dimensions; three = 100t + 10j + i, irr = 10j + i, cal = 2c.
func ownAxes() *nc {
	lat2 := []float64{-90, -30, -30, 0, 0, 30, 30, 90}
	lon2 := []float64{0, 0, 180, 0, 180, 0, 180, 0}
	return newNC("/data/own.nc", ncmodel.FormatClassic).dim("time", -10).dim("lat", 2).dim("lon", 4).dim("lat_cal", 10).
		v("time", ncmodel.Double, "time", func(i []int) float64 { return float64(i[0] + 1) }, txt("units", "days since 1964-03-12 12:09:00 -9:00"), txt("calendar", "gregorian")).
		v("lat", ncmodel.Float, "lat", func(i []int) float64 { return []float64{-45, 45}[i[0]] }, txt("units", "degrees_north")).
		v("lon", ncmodel.Float, "lon", func(i []int) float64 { return 90 * float64(i[0]) }, txt("units", "degrees_east")).
		v("lat_cal", ncmodel.Double, "lat_cal", func(i []int) float64 { return float64(i[0] + 1) }, txt("units", "days since 1964-2-28"), txt("calendar", "360_day")).
		v("lat_2d", ncmodel.Float, "lat lon", func(i []int) float64 { return lat2[i[0]*4+i[1]] }, txt("units", "degrees_north")).
		v("lon_2d", ncmodel.Float, "lat lon", func(i []int) float64 { return lon2[i[0]*4+i[1]] }, txt("units", "degrees_east")).
		v("three", ncmodel.Double, "time lat lon", func(i []int) float64 { return float64(100*i[0] + 10*i[1] + i[2]) }, num("_FillValue", ncmodel.Double, -99)).
		v("irr", ncmodel.Float, "lat lon", func(i []int) float64 { return float64(10*i[0] + i[1]) }, txt("coordinates", "lat_2d lon_2d"), num("_FillValue", ncmodel.Float, -99)).
		v("cal", ncmodel.Double, "lat_cal", func(i []int) float64 { return float64(2 * i[0]) })
}

func TestRunTimeAxesOfTheirOwn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	in := e.put("/data/own.nc", ownAxes().build())
	// In 360_day, lat_cal 1..10 are 1964-02-29, 02-30, 03-01 ... 03-08:
	// 03-01..03-03 are lat_cal 3..5. time (1964-03-13 on) has no step
	// there: its variables are left out, with a note.
	res := e.run(t, &Request{Regions: []regions.Fixed{bbox("all", -180, -90, 180, 90)}, Time: &TimeRange{Start: "1964-03-01", End: "1964-03-03"}}, in)
	out := e.out(t, res.Regions[0])
	if got := values(t, out, "lat_cal"); fmt.Sprint(got) != "[3 4 5]" {
		t.Errorf("lat_cal %v", got)
	}
	if got := values(t, out, "cal"); fmt.Sprint(got) != "[4 6 8]" {
		t.Errorf("cal %v", got)
	}
	if out.File().FindVar("three") != nil || out.File().FindVar("time") != nil {
		t.Errorf("variables on time are kept: %v", varNames(out.File()))
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "holds no step of /time (1964-03-13T21:09:00Z..1964-03-22T21:09:00Z): its 2 variables are left out") {
		t.Errorf("notes %q", res.Notes)
	}
	if got := globalText(out, "time_coverage_start") + " " + globalText(out, "time_coverage_end"); got != "1964-03-01T00:00:00Z 1964-03-03T00:00:00Z" {
		t.Errorf("time coverage %s: from the variables kept", got)
	}
	// The other way round: time steps 2..4 (1964-03-14..16), lat_cal none.
	res = e.run(t, &Request{Regions: []regions.Fixed{bbox("all", -180, -90, 180, 90)}, Time: &TimeRange{Start: "1964-03-14", End: "1964-03-16"}}, in)
	out = e.out(t, res.Regions[0])
	if got := values(t, out, "time"); fmt.Sprint(got) != "[2 3 4]" || out.File().FindVar("cal") != nil {
		t.Errorf("time %v, vars %v", got, varNames(out.File()))
	}
	// The file's time axis is time, not lat_cal.
	src, err := e.st.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Describe(src)
	if err != nil || d.Time == nil || d.Time.Calendar != "gregorian" || d.Time.Steps != 10 {
		t.Errorf("Describe: %+v %v", d.Time, err)
	}
}

func TestRunOwnCoordinates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	in := e.put("/data/own.nc", ownAxes().build())
	// three(time, lat, lon) lies on lat/lon: the line lon = 0 takes its
	// column 0, whatever lat_2d/lon_2d say (ncks -d lon,0.,0.).
	res := e.run(t, &Request{Regions: []regions.Fixed{bbox("n", 0, -90, 0, 90)}, Variables: []string{"three"}}, in)
	out := e.out(t, res.Regions[0])
	if got := fmt.Sprint(shape(t, out, "three"), values(t, out, "lon")); got != "[10 2 1] [0]" {
		t.Errorf("three %s", got)
	}
	for k, x := range values(t, out, "three") {
		if want := float64(100*(k/2) + 10*(k%2)); x != want {
			t.Errorf("three[%d] = %v, want %v", k, x, want)
		}
	}
	// With irr too, irr's own positions (lon_2d 0 at (0,0), (0,1), (0,3),
	// (1,1), (1,3)) widen lon to 0..3; three stays masked off column 0 and
	// irr off its own cells.
	res = e.run(t, &Request{Regions: []regions.Fixed{bbox("n", 0, -90, 0, 90)}}, in)
	out = e.out(t, res.Regions[0])
	lon2 := []float64{0, 0, 180, 0, 180, 0, 180, 0}
	if got := fmt.Sprint(shape(t, out, "three")); got != "[10 2 4]" {
		t.Fatalf("three %s", got)
	}
	three, irr := values(t, out, "three"), values(t, out, "irr")
	for k, x := range three {
		tt, j, i := k/8, k/4%2, k%4
		want := float64(100*tt + 10*j + i)
		if i != 0 {
			want = -99
		}
		if x != want {
			t.Errorf("three[%d,%d,%d] = %v, want %v", tt, j, i, x, want)
		}
	}
	for k, x := range irr {
		want := float64(10*(k/4) + k%4)
		if lon2[k] != 0 {
			want = -99
		}
		if x != want {
			t.Errorf("irr[%d] = %v, want %v", k, x, want)
		}
	}
}

func TestRunPolygonSmallestBox(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	in := e.put("/data/m.nc", maskFile("/data/m.nc").build())
	// A triangle whose west vertex pokes into a column holding no inside
	// centre: the polygon's bounds start at lon -2, the first inside
	// centre is at lon 5.
	ring := [][2]float64{{-2, 20}, {60, -10}, {60, 50}, {-2, 20}}
	r := polygon("tri", ring...)
	res := e.run(t, &Request{Regions: []regions.Fixed{r}}, in)
	out := e.out(t, res.Regions[0])
	rs, err := regions.ResolveFixed("r", []regions.Fixed{r})
	if err != nil {
		t.Fatal(err)
	}
	var lats, lons []float64
	for j := 0; j < maskGrid.nlat; j++ {
		for i := 0; i < maskGrid.nlon; i++ {
			if rs[0].Area.Contains(maskGrid.lon(i), maskGrid.lat(j)) {
				lats, lons = append(lats, maskGrid.lat(j)), append(lons, maskGrid.lon(i))
			}
		}
	}
	la0, la1 := minMax(lats)
	lo0, lo1 := minMax(lons)
	gl, gn := values(t, out, "lat"), values(t, out, "lon")
	if gl[0] != la0 || gl[len(gl)-1] != la1 || gn[0] != lo0 || gn[len(gn)-1] != lo1 {
		t.Errorf("box lat %v..%v lon %v..%v, the inside cells lat %v..%v lon %v..%v", gl[0], gl[len(gl)-1], gn[0], gn[len(gn)-1], la0, la1, lo0, lo1)
	}
	if rs[0].Area.Bounds().West >= lo0-10 {
		t.Fatal("the polygon's bounds do not reach a column without inside cells: the test shows nothing")
	}
}

// ocean is a global grid periodic in i: lat = -85 + 10j + 0.05i, lon =
// -275 + 10i + 0.2j (a -280..80 convention), sic = 100j + i.
func ocean() *nc {
	return newNC("/data/ocean.nc", ncmodel.FormatNetCDF4).dim("j", 18).dim("i", 36).
		v("latitude", ncmodel.Float, "j i", func(i []int) float64 { return -85 + 10*float64(i[0]) + 0.05*float64(i[1]) }, txt("units", "degrees_north")).
		v("longitude", ncmodel.Float, "j i", func(i []int) float64 { return -275 + 10*float64(i[1]) + 0.2*float64(i[0]) }, txt("units", "degrees_east")).
		v("sic", ncmodel.Float, "j i", func(i []int) float64 { return float64(100*i[0] + i[1]) }, txt("coordinates", "latitude longitude"), num("_FillValue", ncmodel.Float, 1e20))
}

func TestRunPeriodicColumns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	in := e.put("/data/ocean.nc", ocean().build())
	// 60..110 crosses the grid's own seam at 80/-280: columns 34, 35 (lon
	// 65, 75) then 0, 1, 2 (lon 85, 95, 105 written -275, -265, -255).
	b := bbox("seam", 60, -20, 110, 20)
	res := e.run(t, &Request{Regions: []regions.Fixed{b}}, in)
	out := e.out(t, res.Regions[0])
	inside := func(j, i int) bool {
		y := -85 + 10*float64(j) + 0.05*float64(i)
		x := -275 + 10*float64(i) + 0.2*float64(j)
		return y >= -20 && y <= 20 && inLon(x, 60, 110)
	}
	var cols, rows []int
	for i := 0; i < 36; i++ {
		for j := 0; j < 18; j++ {
			if inside(j, i) {
				cols = append(cols, i)
				break
			}
		}
	}
	for j := 0; j < 18; j++ {
		for i := 0; i < 36; i++ {
			if inside(j, i) {
				rows = append(rows, j)
				break
			}
		}
	}
	// Going round: the columns at the end of the row first.
	order := append(append([]int{}, cols[len(cols)-2:]...), cols[:len(cols)-2]...)
	if fmt.Sprint(order) != "[34 35 0 1 2]" {
		t.Fatalf("the case's columns are %v", cols)
	}
	if got := fmt.Sprint(shape(t, out, "sic")); got != fmt.Sprint([]int{rows[len(rows)-1] - rows[0] + 1, 5}) {
		t.Fatalf("sic shape %s: one contiguous strip of 5 columns", got)
	}
	sic, lon := values(t, out, "sic"), values(t, out, "longitude")
	for jj := 0; jj <= rows[len(rows)-1]-rows[0]; jj++ {
		for ii, i := range order {
			j := rows[0] + jj
			n := jj*5 + ii
			want := float64(100*j + i)
			if !inside(j, i) {
				want = 1e20
			}
			if sic[n] != want || lon[n] != float64(float32(-275+10*float64(i)+0.2*float64(j))) {
				t.Fatalf("(%d, %d): sic %v lon %v, want %v and the input's longitude", j, i, sic[n], lon[n], want)
			}
		}
	}
}

func TestRunPolygonRings(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	in := e.put("/data/m.nc", maskFile("/data/m.nc").build())
	// Two areas written as one polygon's rings, the second outside the
	// first: both are the region, in the box and in the mask.
	geom := `{"type":"Polygon","coordinates":[[[0,0],[30,0],[30,20],[0,20],[0,0]],[[-40,20],[10,20],[10,40],[-40,40],[-40,20]]]}`
	res := e.run(t, &Request{Regions: []regions.Fixed{{Name: "two", Geometry: json.RawMessage(geom)}}}, in)
	out := e.out(t, res.Regions[0])
	inside := func(x, y float64) bool {
		return x > 0 && x < 30 && y > 0 && y < 20 || x > -40 && x < 10 && y > 20 && y < 40
	}
	lats, lons, sst := values(t, out, "lat"), values(t, out, "lon"), values(t, out, "sst")
	if lats[0] != 5 || lats[len(lats)-1] != 35 || lons[0] != -35 || lons[len(lons)-1] != 25 {
		t.Errorf("box lat %v lon %v: it must hold both areas", lats, lons)
	}
	for jj, y := range lats {
		for ii, x := range lons {
			j, i := indexOf(maskGrid.nlat, maskGrid.lat, y, false), indexOf(maskGrid.nlon, maskGrid.lon, x, true)
			want := sstAt(0, j, i)
			if !inside(x, y) {
				want = -999
			}
			if got := sst[jj*len(lons)+ii]; got != want {
				t.Errorf("sst at (%v, %v) = %v, want %v", x, y, got, want)
			}
		}
	}
	// A hole crossing its exterior is refused, naming the ring.
	bad := `{"type":"Polygon","coordinates":[[[0,0],[30,0],[30,20],[0,20],[0,0]],[[20,10],[40,10],[40,15],[20,15],[20,10]]]}`
	_, err := Run(t.Context(), []string{in}, &Request{Regions: []regions.Fixed{{Name: "bad", Geometry: json.RawMessage(bad)}}}, e.opt)
	if err == nil || !strings.Contains(err.Error(), "regions[0].geometry: polygon 0 ring 1 crosses its exterior ring 0") {
		t.Errorf("crossing hole: %v", err)
	}
}

func TestRunPointsAndThinBoxes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	in := e.put("/data/m.nc", maskFile("/data/m.nc").build())
	// maskGrid: 10° cells centred on ±5, ±15...; cell j spans -90 + 10j
	// .. -80 + 10j in latitude, cell i -180 + 10i .. -170 + 10i in longitude.
	cellsOf := func(lo, hi float64, origin float64) []float64 {
		var out []float64
		for c := origin + 5; c < origin+360; c += 10 {
			if lo == hi && lo >= c-5 && lo <= c+5 || lo < hi && c+5 > lo && c-5 < hi {
				out = append(out, c)
			}
		}
		return out
	}
	point := `{"type":"Point","coordinates":[12.5,-33.3]}`
	multi := `{"type":"MultiPoint","coordinates":[[12.5,-33.3],[31,-12]]}`
	for _, tc := range []struct {
		name     string
		r        regions.Fixed
		rule     string
		lat, lon []float64 // the output's
		inside   [][2]float64
	}{
		{"point box", bbox("p", 12.5, -33.3, 12.5, -33.3), "", []float64{-35}, []float64{15}, nil},
		{"point geometry", regions.Fixed{Name: "p", Geometry: json.RawMessage(point)}, SelectOverlap, []float64{-35}, []float64{15}, nil},
		{"point on an edge", bbox("p", 10, -33.3, 10, -33.3), "", []float64{-35}, []float64{5, 15}, nil},
		{"line", bbox("l", 0, -31, 40, -31), "", []float64{-35}, []float64{5, 15, 25, 35}, nil},
		{"between centres", bbox("b", 6, -34, 9, -32), "", []float64{-35}, []float64{5}, nil},
		{"straddling an edge", bbox("b", 8, -34, 12, -32), "", []float64{-35}, []float64{5, 15}, nil},
		{"overlap", bbox("o", 1, 1, 21, 21), SelectOverlap, cellsOf(1, 21, -90), cellsOf(1, 21, -180), nil},
		{"centre", bbox("c", 1, 1, 21, 21), SelectCentre, []float64{5, 15}, []float64{5, 15}, nil},
		{"overlap, edges touching", bbox("t", 0, 0, 20, 20), SelectOverlap, []float64{5, 15}, []float64{5, 15}, nil},
		{"multipoint", regions.Fixed{Name: "m", Geometry: json.RawMessage(multi)}, "", []float64{-35, -25, -15}, []float64{15, 25, 35}, [][2]float64{{15, -35}, {35, -15}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.run(t, &Request{Regions: []regions.Fixed{tc.r}, Select: tc.rule}, in)
			out := e.out(t, res.Regions[0])
			if got, want := fmt.Sprint(values(t, out, "lat"), values(t, out, "lon")), fmt.Sprint(tc.lat, tc.lon); got != want {
				t.Fatalf("lat, lon %s, want %s", got, want)
			}
			sst := values(t, out, "sst")
			for jj, y := range tc.lat {
				for ii, x := range tc.lon {
					j, i := indexOf(maskGrid.nlat, maskGrid.lat, y, false), indexOf(maskGrid.nlon, maskGrid.lon, x, true)
					want := sstAt(0, j, i)
					if tc.inside != nil {
						in := false
						for _, c := range tc.inside {
							in = in || c == [2]float64{x, y}
						}
						if !in {
							want = -999
						}
					}
					if got := sst[jj*len(tc.lon)+ii]; got != want {
						t.Errorf("sst at (%v, %v) = %v, want %v", x, y, got, want)
					}
				}
			}
		})
	}
	if _, err := Run(t.Context(), []string{in}, &Request{Regions: []regions.Fixed{bbox("p", 1, 1, 2, 2)}, Select: "nearest"}, e.opt); err == nil || !strings.Contains(err.Error(), `select: unknown selection rule "nearest"`) {
		t.Errorf("bad rule: %v", err)
	}
}

func TestRunPointsOnTwoDGrids(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	in := e.put("/data/c.nc", curvi("/data/c.nc", 20).build())
	// curvi is linear: lat = 10 + 2y + x/2, lon = 20 + 3x - y. Its cells
	// (from the mid-points) are the parallelograms around each centre, so
	// the cell holding a point is the nearest integer (y, x) of the
	// inverse map.
	for _, p := range [][2]float64{{29.1, 18.45}, {21.1, 22.75}, {42.1, 15.85}} {
		lon, lat := p[0], p[1]
		// lat - 10 = 2y + x/2 and lon - 20 = 3x - y, solved for y and x.
		det := 2*3 - (0.5)*(-1)
		yy := ((lat-10)*3 - 0.5*(lon-20)) / det
		xx := (2*(lon-20) + (lat - 10)) / det
		y0, x0 := int(math.Round(yy)), int(math.Round(xx))
		geom := fmt.Sprintf(`{"type":"Point","coordinates":[%v,%v]}`, lon, lat)
		res := e.run(t, &Request{Regions: []regions.Fixed{{Name: "p", Geometry: json.RawMessage(geom)}}}, in)
		out := e.out(t, res.Regions[0])
		bt := values(t, out, "bt")
		if got := fmt.Sprint(shape(t, out, "bt")); got != "[2 1 1]" || bt[0] != float64(10*y0+x0) {
			t.Errorf("point %v: bt %s %v, want the cell (%d, %d): %d", p, got, bt, y0, x0, 10*y0+x0)
		}
	}
}

func TestRunPointsOnTracks(t *testing.T) {
	t.Parallel()
	// A track passing twice near a station: samples k at lat 0.5k, lon
	// 0.3k for k < 20, then back down for k >= 20.
	lat := func(k int) float64 {
		if k < 20 {
			return 0.5 * float64(k)
		}
		return 0.5 * float64(39-k)
	}
	lon := func(k int) float64 {
		if k < 20 {
			return 0.3 * float64(k)
		}
		return 0.3*float64(39-k) + 0.1
	}
	b := newNC("/data/tr.nc", ncmodel.FormatNetCDF4).dim("obs", 40).
		v("time", ncmodel.Double, "obs", func(i []int) float64 { return float64(i[0]) }, txt("units", "seconds since 2020-01-01")).
		v("lat", ncmodel.Double, "obs", func(i []int) float64 { return lat(i[0]) }, txt("units", "degrees_north")).
		v("lon", ncmodel.Double, "obs", func(i []int) float64 { return lon(i[0]) }, txt("units", "degrees_east")).
		v("sla", ncmodel.Float, "obs", func(i []int) float64 { return float64(i[0]) }, txt("coordinates", "lat lon"), num("_FillValue", ncmodel.Float, -9))
	e := newEnv(t)
	in := e.put("/data/tr.nc", b.build())
	// The station (2.2, 3.6) is nearest to sample 7 (2.1, 3.5) on the way
	// up and to sample 32 (2.2, 3.5) on the way down.
	q := [2]float64{2.2, 3.6}
	dist := func(k int) float64 {
		return math.Hypot(lat(k)-q[1], (lon(k)-q[0])*math.Cos((lat(k)+q[1])/2*math.Pi/180))
	}
	best := func(a, b int) int {
		k0 := a
		for k := a; k < b; k++ {
			if dist(k) < dist(k0) {
				k0 = k
			}
		}
		return k0
	}
	up, down := best(0, 20), best(20, 40)
	geom := fmt.Sprintf(`{"type":"Point","coordinates":[%v,%v]}`, q[0], q[1])
	res := e.run(t, &Request{Regions: []regions.Fixed{{Name: "st", Geometry: json.RawMessage(geom)}}}, in)
	out := e.out(t, res.Regions[0])
	sla := values(t, out, "sla")
	if len(sla) != down-up+1 || sla[0] != float64(up) || sla[len(sla)-1] != float64(down) {
		t.Fatalf("sla %v, want samples %d and %d", sla, up, down)
	}
	for n, x := range sla {
		if k := up + n; k != up && k != down && x != -9 {
			t.Errorf("sample %d kept: %v", k, x)
		}
	}
	// A station far from the track (more than one spacing): empty.
	res = e.run(t, &Request{Regions: []regions.Fixed{{Name: "far", Geometry: json.RawMessage(`{"type":"Point","coordinates":[8,3]}`)}}}, in)
	if r := res.Regions[0]; r.Status != StatusEmpty || !strings.Contains(r.Message, "no sample of the track /lat lies within one sample spacing of the points") {
		t.Errorf("%+v", r)
	}
	// A line across the track between two samples takes the samples next
	// to the crossing.
	res = e.run(t, &Request{Regions: []regions.Fixed{bbox("line", -10, 3.2, 20, 3.2)}}, in)
	out = e.out(t, res.Regions[0])
	if got := values(t, out, "sla"); len(got) < 2 || got[0] != 6 || got[len(got)-1] != 33 {
		t.Errorf("line: sla %v, want samples 6 or 7 and 32 or 33 at the crossings", got)
	}
}
