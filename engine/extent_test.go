package engine

import (
	"math"
	"testing"

	"github.com/subsetd/subsetd/cftime"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/regions"
)

// TestRunExtentOfKeptCells: ACDD's geospatial_* of an output are the
// extent of the cells kept, longitudes in -180..180 with min > max only
// when those cells cross 180 — on 2-D grids and tracks whose longitudes are
// 0..360 too (they are written unshifted).
func TestRunExtentOfKeptCells(t *testing.T) {
	t.Parallel()
	// lon(y, x) = (lon0 + 3x - y) mod 360 in 0..360, lat(y, x) = 60 + y + x/4.
	lonAt := func(lon0 float64, y, x int) float64 { return mod360(lon0 + 3*float64(x) - float64(y)) }
	latAt := func(y, x int) float64 { return 60 + float64(y) + float64(x)/4 }
	grid2d := func(lon0 float64) *nc {
		return newNC("/data/ocean.nc", ncmodel.FormatNetCDF4).dim("y", 12).dim("x", 20).
			v("latitude", ncmodel.Double, "y x", func(i []int) float64 { return latAt(i[0], i[1]) }, txt("units", "degrees_north")).
			v("longitude", ncmodel.Double, "y x", func(i []int) float64 { return lonAt(lon0, i[0], i[1]) }, txt("units", "degrees_east")).
			v("sic", ncmodel.Float, "y x", func(i []int) float64 { return float64(i[0]*100 + i[1]) }, txt("coordinates", "latitude longitude"))
	}
	track := func(lon0 float64) *nc {
		return newNC("/data/track.nc", ncmodel.FormatNetCDF4).dim("time", 40).
			v("time", ncmodel.Double, "time", func(i []int) float64 { return float64(i[0]) }, txt("units", "seconds since 2021-04-03")).
			v("latitude", ncmodel.Double, "time", func(i []int) float64 { return latAt(i[0]%12, i[0]/3) }, txt("units", "degrees_north")).
			v("longitude", ncmodel.Double, "time", func(i []int) float64 { return lonAt(lon0, 0, i[0]) }, txt("units", "degrees_east")).
			v("sla", ncmodel.Float, "time", func(i []int) float64 { return float64(i[0]) }, txt("coordinates", "latitude longitude"))
	}
	for _, tc := range []struct {
		name string
		b    *nc
		box  []float64
	}{
		{"2-D across 0", grid2d(-25), []float64{-10, 60, 10, 75}},
		{"2-D across 180", grid2d(160), []float64{170, 60, -170, 75}},
		{"2-D east of 0", grid2d(20), []float64{30, 60, 60, 75}},
		{"track across 0", track(-40), []float64{-10, 60, 10, 75}},
		{"track across 180", track(150), []float64{170, 60, 190, 75}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			m := tc.b.build()
			f := m.File()
			in := e.put(f.Path, m)
			res := e.run(t, &Request{Regions: []regions.Fixed{bbox("r", tc.box[0], tc.box[1], tc.box[2], tc.box[3])}}, in)
			out := e.out(t, res.Regions[0])
			// The kept cells, by brute force over the input.
			lat := m.Data("/latitude").Float64s()
			lon := m.Data("/longitude").Float64s()
			south, north := math.Inf(1), math.Inf(-1)
			east0, west0 := math.Inf(-1), math.Inf(1) // over cells at >= 0 and < 0 in -180..180
			westNeg, eastNeg := math.Inf(1), math.Inf(-1)
			for k := range lat {
				if !inLon(lon[k], tc.box[0], tc.box[2]) || lat[k] < tc.box[1] || lat[k] > tc.box[3] {
					continue
				}
				south, north = math.Min(south, lat[k]), math.Max(north, lat[k])
				x := regions.Normalize180(lon[k])
				if x >= 0 {
					west0, east0 = math.Min(west0, x), math.Max(east0, x)
				} else {
					westNeg, eastNeg = math.Min(westNeg, x), math.Max(eastNeg, x)
				}
			}
			var west, east float64
			switch {
			case math.IsInf(west0, 1): // all west of 0
				west, east = westNeg, eastNeg
			case math.IsInf(westNeg, 1):
				west, east = west0, east0
			case west0-eastNeg < 180: // across 0: from the negative side to the positive one
				west, east = westNeg, east0
			default: // across 180
				west, east = west0, eastNeg
			}
			for name, want := range map[string]float64{"geospatial_lat_min": south, "geospatial_lat_max": north, "geospatial_lon_min": west, "geospatial_lon_max": east} {
				if got := globalNum(t, out, name); math.Abs(got-want) > 1e-9 {
					t.Errorf("%s = %v, want %v", name, got, want)
				}
			}
		})
	}
}

func TestISODuration(t *testing.T) {
	t.Parallel()
	for sec, want := range map[float64]string{0: "PT0S", 59: "PT59S", 60: "PT1M", 3600: "PT1H", 86400: "P1D", 90061.5: "P1DT1H1M1.5S", 30 * 86400: "P30D", -1: "PT0S"} {
		if got := isoDuration(sec); got != want {
			t.Errorf("isoDuration(%v) = %s, want %s", sec, got, want)
		}
	}
}

func TestFormatLike(t *testing.T) {
	t.Parallel()
	d := cftime.Date{Year: 2021, Month: 4, Day: 3, Hour: 0, Minute: 40, Second: 56.789}
	for model, want := range map[string]string{
		"20190821T174811Z":          "20210403T004056Z",
		"20190821T174811":           "20210403T004056",
		"2019-08-21T17:48:11Z":      "2021-04-03T00:40:56Z",
		"2019-08-21 17:48:11":       "2021-04-03 00:40:56",
		"2019-08-21T17:48:11.000Z":  "2021-04-03T00:40:56.789Z",
		"20190821T174811.5Z":        "20210403T004056.7Z",
		" 2019-08-21T17:48:11Z ":    "2021-04-03T00:40:56Z",
		"2019-08-21T174811Z":        d.String(), // mixed forms
		"August 21, 2019":           d.String(),
		"2019-08-21T17:48:11+02:00": d.String(),
	} {
		if got := formatLike(model, d); got != want {
			t.Errorf("formatLike(%q) = %q, want %q", model, got, want)
		}
	}
	if got := formatLike("20190821T174811Z", cftime.Date{Year: 2021, Month: 1, Day: 1, Second: 59.9999999}); got != "20210101T000059Z" {
		t.Errorf("seconds are cut, not rounded: %s", got)
	}
	if got := formatLike("20190821T174811.999Z", cftime.Date{Year: 2021, Month: 1, Day: 1, Second: 59.9999999}); got != "20210101T000059.999Z" {
		t.Errorf("fractions are cut, not rounded: %s", got)
	}
}

func TestBoundsWKT(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		m    regionMeta
		want string
	}{
		{regionMeta{latMin: -10, latMax: 5, lonWest: -20.5, lonEast: 30}, "POLYGON ((-20.5 -10, 30 -10, 30 5, -20.5 5, -20.5 -10))"},
		{regionMeta{latMin: 0, latMax: 1, lonWest: 170, lonEast: -175}, "MULTIPOLYGON (((170 0, 180 0, 180 1, 170 1, 170 0)), ((-180 0, -175 0, -175 1, -180 1, -180 0)))"},
		{regionMeta{latMin: 45.125, latMax: 45.125, lonWest: -29.875, lonEast: -29.875}, "POINT (-29.875 45.125)"},
	} {
		if got := boundsWKT(tc.m); got != tc.want {
			t.Errorf("%+v: %s, want %s", tc.m, got, tc.want)
		}
	}
}

// TestRunRecomputesStaleExtents: geospatial_bounds and
// time_coverage_duration describe the output, not the input; an input
// without them gets none.
func TestRunRecomputesStaleExtents(t *testing.T) {
	t.Parallel()
	g := grid{lat0: -85, dlat: 10, nlat: 18, lon0: 5, dlon: 10, nlon: 36, ntime: 10, dt: 0.25} // steps of 6 hours
	e := newEnv(t)
	with := e.put("/data/with.nc", g.nc("/data/with.nc").attr(txt("geospatial_bounds", "POLYGON ((5 -85, 355 -85, 355 85, 5 85, 5 -85))"),
		txt("time_coverage_duration", "P2DT6H")).build())
	without := e.put("/data/without.nc", g.file("/data/without.nc"))
	req := &Request{Regions: []regions.Fixed{bbox("r", 170, -20, -170, 20)}, Time: &TimeRange{Start: "2000-01-01T06:00", End: "2000-01-02T00:00"}}
	res := e.run(t, req, with)
	out := e.out(t, res.Regions[0])
	// Steps 1..4 (06:00 to 24:00): 18 hours; cells lat -15..15, lon 175..185.
	if got := globalText(out, "time_coverage_duration"); got != "PT18H" {
		t.Errorf("time_coverage_duration %s", got)
	}
	if got := globalText(out, "geospatial_bounds"); got != "MULTIPOLYGON (((175 -15, 180 -15, 180 15, 175 15, 175 -15)), ((-180 -15, -175 -15, -175 15, -180 15, -180 -15)))" {
		t.Errorf("geospatial_bounds %s", got)
	}
	res = e.run(t, req, without)
	out = e.out(t, res.Regions[0])
	for _, name := range []string{"geospatial_bounds", "time_coverage_duration"} {
		if got := globalText(out, name); got != "<absent>" {
			t.Errorf("%s added: %s", name, got)
		}
	}
}

// TestRunPixelTimesGiveTheCoverage: a swath whose cells carry their own
// time (time(row, cell), as scatterometer files have) has the coverage of
// the cells kept, masked cells left out.
func TestRunPixelTimesGiveTheCoverage(t *testing.T) {
	t.Parallel()
	// lat = row, lon = cell, time = 600*row + cell seconds since 2020-01-01.
	b := newNC("/data/scat.nc", ncmodel.FormatNetCDF4).dim("row", 20).dim("cell", 10).
		v("lat", ncmodel.Float, "row cell", func(i []int) float64 { return float64(i[0]) }, txt("units", "degrees_north")).
		v("lon", ncmodel.Float, "row cell", func(i []int) float64 { return float64(i[1]) }, txt("units", "degrees_east")).
		v("time", ncmodel.Double, "row cell", func(i []int) float64 { return float64(600*i[0] + i[1]) }, txt("units", "seconds since 2020-01-01")).
		v("wind", ncmodel.Float, "row cell", func(i []int) float64 { return 1 }, txt("coordinates", "lat lon time"))
	e := newEnv(t)
	in := e.put("/data/scat.nc", b.build())
	// The triangle (0,2)-(9,2)-(0,11) holds row+cell <= 11 from row 2: its
	// first cell is (2, 0) at 1200 s, its last (11, 0) at 6600 s.
	tri := polygon("tri", [2]float64{0, 2}, [2]float64{9, 2}, [2]float64{0, 11}, [2]float64{0, 2})
	res := e.run(t, &Request{Regions: []regions.Fixed{tri}}, in)
	out := e.out(t, res.Regions[0])
	if got := globalText(out, "time_coverage_start") + " " + globalText(out, "time_coverage_end"); got != "2020-01-01T00:20:00Z 2020-01-01T01:50:00Z" {
		t.Errorf("coverage %s", got)
	}
	// GHRSST GDS 2's start_time and stop_time say the same, in their own
	// format; absent from the input, they are not added.
	for _, name := range []string{"start_time", "stop_time"} {
		if got := globalText(out, name); got != "<absent>" {
			t.Errorf("%s added: %s", name, got)
		}
	}
	in = e.put("/data/scat_gds.nc", b.attr(txt("start_time", "20200101T000000Z"), txt("stop_time", "20200101T014000Z")).build())
	out = e.out(t, e.run(t, &Request{Regions: []regions.Fixed{tri}}, in).Regions[0])
	if got := globalText(out, "start_time") + " " + globalText(out, "stop_time"); got != "20200101T002000Z 20200101T015000Z" {
		t.Errorf("start_time, stop_time %s", got)
	}
	// A time per scan line (row): rows 2..11 are kept, at 600 s each.
	b = newNC("/data/scan.nc", ncmodel.FormatNetCDF4).dim("row", 20).dim("cell", 10).
		v("lat", ncmodel.Float, "row cell", func(i []int) float64 { return float64(i[0]) }, txt("units", "degrees_north")).
		v("lon", ncmodel.Float, "row cell", func(i []int) float64 { return float64(i[1]) }, txt("units", "degrees_east")).
		v("scan_time", ncmodel.Double, "row", func(i []int) float64 { return float64(600 * i[0]) }, txt("units", "seconds since 2020-01-01")).
		v("wind", ncmodel.Float, "row cell", func(i []int) float64 { return 1 }, txt("coordinates", "lat lon"))
	in = e.put("/data/scan.nc", b.build())
	res = e.run(t, &Request{Regions: []regions.Fixed{tri}}, in)
	out = e.out(t, res.Regions[0])
	if got := globalText(out, "time_coverage_start") + " " + globalText(out, "time_coverage_end"); got != "2020-01-01T00:20:00Z 2020-01-01T01:50:00Z" {
		t.Errorf("per-row coverage %s", got)
	}
}
