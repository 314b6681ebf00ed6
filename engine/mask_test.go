package engine

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/regions"
)

// maskGrid is a 10° grid with centres at ±5, ±15...: no centre lies on
// the edges of the polygons below.
var maskGrid = grid{lat0: -85, dlat: 10, nlat: 18, lon0: -175, dlon: 10, nlon: 36, ntime: 2, dt: 1}

// maskFile is maskGrid with three more data variables: count (short, no
// fill: the default fill is declared), flag (int with missing_value) and
// name (strings, never masked).
func maskFile(path string) *nc {
	return maskGrid.nc(path).
		v("count", ncmodel.Short, "time lat lon", func(i []int) float64 { return float64(i[1]*100 + i[2]) }).
		v("flag", ncmodel.Int, "lat lon", func(i []int) float64 { return float64(i[0] + i[1]) }, num("missing_value", ncmodel.Int, -1)).
		v("depth", ncmodel.Float, "lat", func(i []int) float64 { return float64(i[0]) })
}

func TestRunPolygonMasksRectilinearGrid(t *testing.T) {
	t.Parallel()
	// Inside tests written from the shapes' equations.
	tests := []struct {
		r      regions.Fixed
		inside func(lon, lat float64) bool
	}{
		{polygon("triangle", [2]float64{0, 0}, [2]float64{62, 0}, [2]float64{0, 62}, [2]float64{0, 0}),
			func(x, y float64) bool { return x > 0 && y > 0 && x+y < 62 }},
		// Across the antimeridian, longitudes past 180: x unwrapped to 170..200.
		{polygon("dateline", [2]float64{170, -30}, [2]float64{200, -30}, [2]float64{170, 30}, [2]float64{170, -30}),
			func(x, y float64) bool {
				if x < 0 {
					x += 360
				}
				return x > 170 && y > -30 && 2*x+y < 370
			}},
	}
	for _, tc := range tests {
		t.Run(tc.r.Name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			in := e.put("/data/m.nc", maskFile("/data/m.nc").build())
			res := e.run(t, &Request{Regions: []regions.Fixed{tc.r}}, in)
			out := e.out(t, res.Regions[0])
			lats, lons := values(t, out, "lat"), values(t, out, "lon")
			sst, count, flag := values(t, out, "sst"), values(t, out, "count"), values(t, out, "flag")
			nIn, nOut := 0, 0
			for k := 0; k < 2; k++ {
				for jj, y := range lats {
					for ii, x := range lons {
						j, i := indexOf(maskGrid.nlat, maskGrid.lat, y, false), indexOf(maskGrid.nlon, maskGrid.lon, x, true)
						n := (k*len(lats)+jj)*len(lons) + ii
						wantSST, wantCount, wantFlag := sstAt(k, j, i), float64(j*100+i), float64(j+i)
						if !tc.inside(x, y) {
							wantSST, wantCount, wantFlag = -999, -32767, -1
							nOut++
						} else {
							nIn++
						}
						if sst[n] != wantSST || count[n] != wantCount || k == 0 && flag[jj*len(lons)+ii] != wantFlag {
							t.Fatalf("at lon %v lat %v: sst %v count %v flag %v, want %v %v %v", x, y, sst[n], count[n], flag[jj*len(lons)+ii], wantSST, wantCount, wantFlag)
						}
					}
				}
			}
			if nIn == 0 || nOut == 0 {
				t.Fatalf("%d cells inside, %d outside: the test shows nothing", nIn, nOut)
			}
			// Every inside centre of the grid is in the output.
			total := 0
			for j := 0; j < maskGrid.nlat; j++ {
				for i := 0; i < maskGrid.nlon; i++ {
					if tc.inside(maskGrid.lon(i), maskGrid.lat(j)) {
						total++
					}
				}
			}
			if nIn != 2*total {
				t.Errorf("%d inside cells in the output, the grid has %d", nIn/2, total)
			}
			// The fill of count is declared; coordinates stay whole.
			v := out.File().FindVar("count")
			if a, ok := v.Attr("_FillValue"); !ok || a.Type != ncmodel.Short || a.Float64s()[0] != -32767 {
				t.Errorf("count _FillValue %+v", a)
			}
			if _, ok := out.File().FindVar("flag").Attr("_FillValue"); ok {
				t.Error("flag has a missing_value: no _FillValue should be added")
			}
			if d := values(t, out, "depth"); len(d) != len(lats) || math.IsNaN(d[0]) || d[0] != float64(indexOf(maskGrid.nlat, maskGrid.lat, lats[0], false)) {
				t.Errorf("depth(lat) %v: a variable off the grid is not masked", d)
			}
		})
	}
}

func TestRunPolygonWithoutMask(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	in := e.put("/data/m.nc", maskFile("/data/m.nc").build())
	no := false
	tri := polygon("tri", [2]float64{0, 0}, [2]float64{62, 0}, [2]float64{0, 62}, [2]float64{0, 0})
	tri.Mask = &no
	// A square whose cells are all inside needs no mask either.
	square := polygon("square", [2]float64{0, 0}, [2]float64{40, 0}, [2]float64{40, 40}, [2]float64{0, 40}, [2]float64{0, 0})
	res := e.run(t, &Request{Regions: []regions.Fixed{tri, square}}, in)
	for k, want := range []regions.Fixed{bbox("tri", 0, 0, 62, 62), bbox("square", 0, 0, 40, 40)} {
		out := e.out(t, res.Regions[k])
		checkGridCut(t, out, maskGrid, want, []int{0, 1})
		if _, ok := out.File().FindVar("count").Attr("_FillValue"); ok {
			t.Errorf("%s: unmasked output declares a fill", want.Name)
		}
	}
}

func TestRunPolygonBetweenCentresIsEmpty(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	in := e.put("/data/m.nc", maskFile("/data/m.nc").build())
	// The region is inside the data, so the message says it lies between
	// centres, not that it misses the data; select=overlap takes the cells
	// it crosses.
	res := e.run(t, &Request{Regions: []regions.Fixed{sliver("sliver", 0)}}, in)
	got := res.Regions[0]
	if got.Status != StatusEmpty || !strings.Contains(got.Message, "region sliver [0, 4, 20, 26] lies between the cell centres of the data of m.nc (no cell centre of /lat lies inside the region): widen it or use select=overlap") || len(got.Files) != 0 {
		t.Errorf("%+v", got)
	}
	res = e.run(t, &Request{Regions: []regions.Fixed{sliver("sliver", 0)}, Select: SelectOverlap}, in)
	if got := res.Regions[0]; got.Status != StatusSuccessful {
		t.Errorf("overlap: %+v", got)
	}
}

// curvi is a 2-D grid: lat(y, x) = 10 + 2y + x/2, lon(y, x) = wrap(lon0 + 3x - y)
// in -180..180, bt(t, y, x) = 1000t + 10y + x.
func curvi(path string, lon0 float64) *nc {
	wrap := func(x float64) float64 { return regions.Normalize180(x) }
	return newNC(path, ncmodel.FormatNetCDF4).
		dim("time", 2).dim("y", 8).dim("x", 10).
		v("time", ncmodel.Double, "time", func(i []int) float64 { return float64(i[0]) }, txt("units", "hours since 2020-01-01")).
		v("lat", ncmodel.Float, "y x", func(i []int) float64 { return 10 + 2*float64(i[0]) + float64(i[1])/2 }, txt("units", "degrees_north"), txt("standard_name", "latitude")).
		v("lon", ncmodel.Float, "y x", func(i []int) float64 { return wrap(lon0 + 3*float64(i[1]) - float64(i[0])) }, txt("units", "degrees_east"), txt("standard_name", "longitude")).
		v("bt", ncmodel.Float, "time y x", func(i []int) float64 { return float64(1000*i[0] + 10*i[1] + i[2]) }, txt("coordinates", "lat lon"), num("_FillValue", ncmodel.Float, -1))
}

func curviLat(y, x int) float64 { return 10 + 2*float64(y) + float64(x)/2 }
func curviLon(lon0 float64, y, x int) float64 {
	return regions.Normalize180(lon0 + 3*float64(x) - float64(y))
}

func TestRunCurvilinear(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		lon0   float64
		r      regions.Fixed
		stride map[string]int
	}{
		{"box", 20, bbox("a", 25, 14, 40, 24), nil},
		{"across the antimeridian", 170, bbox("a", 175, 14, -170, 24), nil},
		{"strided", 20, bbox("a", 25, 14, 40, 24), map[string]int{"x": 2, "y": 3}},
		{"polygon", 20, polygon("a", [2]float64{22, 12}, [2]float64{42, 12}, [2]float64{22, 30}, [2]float64{22, 12}), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			in := e.put("/data/c.nc", curvi("/data/c.nc", tc.lon0).build())
			rs, err := regions.ResolveFixed("regions", []regions.Fixed{tc.r})
			if err != nil {
				t.Fatal(err)
			}
			area := rs[0].Area
			// The smallest index box holding every inside cell.
			y0, y1, x0, x1 := 99, -1, 99, -1
			for y := 0; y < 8; y++ {
				for x := 0; x < 10; x++ {
					if area.Contains(curviLon(tc.lon0, y, x), curviLat(y, x)) {
						y0, y1, x0, x1 = min(y0, y), max(y1, y), min(x0, x), max(x1, x)
					}
				}
			}
			if y1 < 0 {
				t.Fatal("the test region holds no cell")
			}
			res := e.run(t, &Request{Regions: []regions.Fixed{tc.r}, Stride: tc.stride}, in)
			out := e.out(t, res.Regions[0])
			sy, sx := max(tc.stride["y"], 1), max(tc.stride["x"], 1)
			ny, nx := (y1-y0)/sy+1, (x1-x0)/sx+1
			if got := fmt.Sprint(shape(t, out, "bt")); got != fmt.Sprint([]int{2, ny, nx}) {
				t.Fatalf("bt shape %s, want [2 %d %d] (y %d..%d, x %d..%d)", got, ny, nx, y0, y1, x0, x1)
			}
			bt, lat, lon := values(t, out, "bt"), values(t, out, "lat"), values(t, out, "lon")
			masked := 0
			latMin, latMax := math.Inf(1), math.Inf(-1)
			for k := 0; k < 2; k++ {
				for yy := 0; yy < ny; yy++ {
					for xx := 0; xx < nx; xx++ {
						y, x := y0+yy*sy, x0+xx*sx
						n := yy*nx + xx
						if lat[n] != float64(float32(curviLat(y, x))) || lon[n] != float64(float32(curviLon(tc.lon0, y, x))) {
							t.Fatalf("lat/lon at (%d, %d) = %v, %v: coordinates are never masked", y, x, lat[n], lon[n])
						}
						want := float64(1000*k + 10*y + x)
						if !area.Contains(curviLon(tc.lon0, y, x), curviLat(y, x)) {
							want = -1
							masked++
						} else if k == 0 {
							latMin, latMax = math.Min(latMin, curviLat(y, x)), math.Max(latMax, curviLat(y, x))
						}
						if got := bt[k*ny*nx+n]; got != want {
							t.Fatalf("bt(%d, %d, %d) = %v, want %v", k, y, x, got, want)
						}
					}
				}
			}
			if masked == 0 && tc.stride == nil {
				t.Error("no cell of the index box is outside: the mask is not tested")
			}
			if got := globalNum(t, out, "geospatial_lat_min"); got != float64(float32(latMin)) {
				t.Errorf("geospatial_lat_min %v, want %v", got, latMin)
			}
			if got := globalNum(t, out, "geospatial_lat_max"); got != float64(float32(latMax)) {
				t.Errorf("geospatial_lat_max %v, want %v", got, latMax)
			}
		})
	}
}

func TestRunCurvilinearMiss(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	in := e.put("/data/c.nc", curvi("/data/c.nc", 20).build())
	res := e.run(t, &Request{Regions: []regions.Fixed{bbox("far", -100, -50, -90, -40)}}, in)
	r := res.Regions[0]
	if r.Status != StatusEmpty || !strings.Contains(r.Message, "no cell of the curvilinear grid /lat lies inside") {
		t.Errorf("%+v", r)
	}
}

func TestRunTrack(t *testing.T) {
	t.Parallel()
	// An along-track file over the antimeridian whose latitude jumps
	// between two rows, so that a box holds every other observation.
	lat := func(k int) float64 { return float64(10 * (k % 2)) }
	lon := func(k int) float64 { return regions.Normalize180(170 + 1.5*float64(k)) }
	b := newNC("/data/track.nc", ncmodel.FormatNetCDF4).
		dim("obs", 20).
		v("time", ncmodel.Double, "obs", func(i []int) float64 { return float64(i[0]) }, txt("units", "seconds since 2020-01-01")).
		v("lat", ncmodel.Double, "obs", func(i []int) float64 { return lat(i[0]) }, txt("units", "degrees_north")).
		v("lon", ncmodel.Double, "obs", func(i []int) float64 { return lon(i[0]) }, txt("units", "degrees_east")).
		v("sla", ncmodel.Float, "obs", func(i []int) float64 { return float64(i[0]) }, txt("coordinates", "time lat lon"), num("_FillValue", ncmodel.Float, -9))
	e := newEnv(t)
	in := e.put("/data/track.nc", b.build())
	r := bbox("a", 178, -5, -174, 5)
	res := e.run(t, &Request{Regions: []regions.Fixed{r}}, in)
	out := e.out(t, res.Regions[0])
	first, last := -1, -1
	for k := 0; k < 20; k++ {
		if inLon(lon(k), 178, -174) && lat(k) <= 5 {
			if first < 0 {
				first = k
			}
			last = k
		}
	}
	sla, tm := values(t, out, "sla"), values(t, out, "time")
	if len(sla) != last-first+1 {
		t.Fatalf("sla %v, want observations %d..%d", sla, first, last)
	}
	for n, x := range sla {
		k := first + n
		want := float64(k)
		if lat(k) > 5 {
			want = -9
		}
		if x != want || tm[n] != float64(k) {
			t.Errorf("obs %d: sla %v time %v, want %v %v", k, x, tm[n], want, k)
		}
	}
	if res.Regions[0].Files[0].Shape["obs"] != last-first+1 {
		t.Errorf("shape %v", res.Regions[0].Files[0].Shape)
	}
}

func TestRunTwoGrids(t *testing.T) {
	t.Parallel()
	// A rectilinear grid and a curvilinear one in one file: a region on one
	// grid keeps only that grid's variables.
	b := maskGrid.nc("/data/two.nc").
		dim("y", 8).dim("x", 10).
		v("clat", ncmodel.Float, "y x", func(i []int) float64 { return curviLat(i[0], i[1]) }, txt("units", "degrees_north")).
		v("clon", ncmodel.Float, "y x", func(i []int) float64 { return curviLon(20, i[0], i[1]) }, txt("units", "degrees_east")).
		v("bt", ncmodel.Float, "time y x", func(i []int) float64 { return float64(i[1]*10 + i[2]) }, txt("coordinates", "clat clon"))
	e := newEnv(t)
	in := e.put("/data/two.nc", b.build())
	res := e.run(t, &Request{Regions: []regions.Fixed{bbox("south", 0, -60, 40, -30), bbox("both", 25, 14, 40, 24), sliver("none", -100)}}, in)
	south := e.out(t, res.Regions[0])
	if got := fmt.Sprint(varNames(south.File())); got != "[time lat lon sst]" {
		t.Errorf("south keeps %s", got)
	}
	checkGridCut(t, south, maskGrid, bbox("south", 0, -60, 40, -30), []int{0, 1})
	both := e.out(t, res.Regions[1])
	if got := fmt.Sprint(varNames(both.File())); got != "[time lat lon sst clat clon bt]" {
		t.Errorf("both keeps %s", got)
	}
	if r := res.Regions[2]; r.Status != StatusEmpty || !strings.Contains(r.Message, "lies between the cell centres") || !strings.Contains(r.Message, "no cell centre of /lat lies inside the region") || !strings.Contains(r.Message, "no cell of the curvilinear grid /clat") {
		t.Errorf("%+v", r)
	}
}
