package engine

import (
	"math"
	"testing"

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
