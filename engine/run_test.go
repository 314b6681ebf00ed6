package engine

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/subsetd/subsetd/regions"
)

// boxes cut from every grid below, all in one run.
var lonBoxes = []regions.Fixed{
	bbox("inside", 20, -10, 60, 30),
	bbox("edges", 25, -5, 45, 15), // edges on cell centres: inclusive
	bbox("antimeridian", 170, -20, -170, 20),
	bbox("greenwich", -20, -20, 20, 20),
	bbox("greenwich360", 350, 0, 10, 10),
	bbox("west360", 200, 0, 250, 10),
	bbox("world", -180, -90, 180, 90),
}

func TestRunLongitudeConventions(t *testing.T) {
	t.Parallel()
	grids := map[string]grid{
		"0..360":         {lat0: -85, dlat: 10, nlat: 18, lon0: 5, dlon: 10, nlon: 36, ntime: 2, dt: 1},
		"0..360 from 0":  {lat0: -85, dlat: 10, nlat: 18, lon0: 0, dlon: 10, nlon: 36, ntime: 2, dt: 1},
		"-180..180":      {lat0: -85, dlat: 10, nlat: 18, lon0: -175, dlon: 10, nlon: 36, ntime: 2, dt: 1},
		"-180 included":  {lat0: -85, dlat: 10, nlat: 18, lon0: -180, dlon: 10, nlon: 36, ntime: 2, dt: 1},
		"-280..80":       {lat0: -85, dlat: 10, nlat: 18, lon0: -275, dlon: 10, nlon: 36, ntime: 2, dt: 1},
		"regional 90..1": {lat0: -45, dlat: 5, nlat: 19, lon0: 90, dlon: 5, nlon: 19, ntime: 2, dt: 1},
	}
	for name, g := range grids {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			in := e.put("/data/g.nc", g.file("/data/g.nc"))
			res := e.run(t, &Request{Regions: lonBoxes}, in)
			for k, b := range lonBoxes {
				r := res.Regions[k]
				if r.Name != b.Name {
					t.Fatalf("result %d is %s, want %s", k, r.Name, b.Name)
				}
				var cells []int
				for i := 0; i < g.nlon; i++ {
					if inLon(g.lon(i), b.BBox[0], b.BBox[2]) {
						cells = append(cells, i)
					}
				}
				anyLat := false
				for j := 0; j < g.nlat; j++ {
					anyLat = anyLat || g.lat(j) >= b.BBox[1] && g.lat(j) <= b.BBox[3]
				}
				if len(cells) == 0 || !anyLat {
					if r.Status != StatusEmpty || r.Message == "" || len(r.Files) != 0 {
						t.Errorf("%s misses the grid: %+v", b.Name, r)
					}
					continue
				}
				out := e.out(t, r)
				checkGridCut(t, out, g, b, []int{0, 1})
				if want := fmt.Sprint(map[string]int{"time": 2, "lat": len(values(t, out, "lat")), "lon": len(cells)}); fmt.Sprint(r.Files[0].Shape) != want {
					t.Errorf("%s: shape %v, want %s", b.Name, r.Files[0].Shape, want)
				}
				// Cells from both ends of the row (across the data's seam)
				// come out in the request's own convention.
				if cells[len(cells)-1]-cells[0]+1 != len(cells) {
					for _, x := range values(t, out, "lon") {
						if x < b.BBox[0]-1e-6 || x >= b.BBox[0]+360 {
							t.Errorf("%s: lon %v outside the request's convention from %v", b.Name, x, b.BBox[0])
						}
					}
				} else {
					var want []float64
					for _, i := range cells {
						want = append(want, g.lon(i))
					}
					if got := values(t, out, "lon"); fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("%s: contiguous cells %v came out as %v", b.Name, want, got)
					}
				}
			}
			e.noTemp(t)
		})
	}
}

func TestRunDescendingLatitude(t *testing.T) {
	t.Parallel()
	g := grid{lat0: 85, dlat: -10, nlat: 18, lon0: -175, dlon: 10, nlon: 36, ntime: 1, dt: 1}
	e := newEnv(t)
	in := e.put("/data/desc.nc", g.file("/data/desc.nc"))
	b := bbox("band", -30, -25, 30, 40)
	res := e.run(t, &Request{Regions: []regions.Fixed{b}}, in)
	out := e.out(t, res.Regions[0])
	checkGridCut(t, out, g, b, []int{0})
	if lat := values(t, out, "lat"); lat[0] != 35 || lat[len(lat)-1] != -25 {
		t.Errorf("descending latitude came out as %v", lat)
	}
	if got := globalNum(t, out, "geospatial_lat_min"); got != -25 {
		t.Errorf("geospatial_lat_min = %v", got)
	}
	if got := globalNum(t, out, "geospatial_lat_max"); got != 35 {
		t.Errorf("geospatial_lat_max = %v", got)
	}
}

func TestRunStrides(t *testing.T) {
	t.Parallel()
	g := grid{lat0: -85, dlat: 10, nlat: 18, lon0: 5, dlon: 10, nlon: 36, ntime: 7, dt: 1}
	// every s-th index of the selected cells, from the first selected.
	every := func(idx []int, s int) []int {
		var out []int
		for k := 0; k < len(idx); k += s {
			out = append(out, idx[k])
		}
		return out
	}
	tests := []struct {
		name   string
		b      regions.Fixed
		stride map[string]int
	}{
		{"axes", bbox("a", 20, -40, 120, 40), map[string]int{"lat": 2, "lon": 3, "time": 3}},
		{"dimension names", bbox("a", 20, -40, 120, 40), map[string]int{"lat": 3, "lon": 4, "time": 2}},
		{"stride beyond the selection", bbox("a", 20, -40, 30, 40), map[string]int{"lon": 5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			in := e.put("/data/g.nc", g.file("/data/g.nc"))
			res := e.run(t, &Request{Regions: []regions.Fixed{tc.b}, Stride: tc.stride}, in)
			out := e.out(t, res.Regions[0])
			var js, is []int
			for j := 0; j < g.nlat; j++ {
				if g.lat(j) >= tc.b.BBox[1] && g.lat(j) <= tc.b.BBox[3] {
					js = append(js, j)
				}
			}
			for i := 0; i < g.nlon; i++ {
				if inLon(g.lon(i), tc.b.BBox[0], tc.b.BBox[2]) {
					is = append(is, i)
				}
			}
			stride := func(k string) int { return max(tc.stride[k], 1) }
			js, is = every(js, stride("lat")), every(is, stride("lon"))
			ks := every(seq(0, g.ntime-1), stride("time"))
			sst := values(t, out, "sst")
			if len(sst) != len(ks)*len(js)*len(is) {
				t.Fatalf("sst shape %v, want %d x %d x %d", shape(t, out, "sst"), len(ks), len(js), len(is))
			}
			n := 0
			for _, k := range ks {
				for _, j := range js {
					for _, i := range is {
						if sst[n] != sstAt(k, j, i) {
							t.Fatalf("sst[%d] = %v, want cell (%d, %d, %d)", n, sst[n], k, j, i)
						}
						n++
					}
				}
			}
			var wantLon []float64
			for _, i := range is {
				wantLon = append(wantLon, g.lon(i))
			}
			if got := values(t, out, "lon"); fmt.Sprint(got) != fmt.Sprint(wantLon) {
				t.Errorf("lon %v, want %v", got, wantLon)
			}
		})
	}
}

func TestRunStrideAcrossTheSeam(t *testing.T) {
	t.Parallel()
	g := grid{lat0: -5, dlat: 10, nlat: 2, lon0: 5, dlon: 10, nlon: 36, ntime: 1, dt: 1}
	e := newEnv(t)
	in := e.put("/data/g.nc", g.file("/data/g.nc"))
	// 325..355 then 5..35 (shifted to 365..395): each part strided from its
	// own first cell.
	res := e.run(t, &Request{Regions: []regions.Fixed{bbox("a", 320, -10, 40, 10)}, Stride: map[string]int{"lon": 2}}, in)
	out := e.out(t, res.Regions[0])
	var want []float64
	for _, part := range [][]int{seq(32, 35), seq(0, 3)} {
		for k := 0; k < len(part); k += 2 {
			x := g.lon(part[k])
			if part[k] < 32 {
				x += 360
			}
			want = append(want, x)
		}
	}
	if got := values(t, out, "lon"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("lon %v, want %v", got, want)
	}
}

func TestRunManyRegionsEqualOneByOne(t *testing.T) {
	t.Parallel()
	g := grid{lat0: -85, dlat: 10, nlat: 18, lon0: -175, dlon: 10, nlon: 36, ntime: 3, dt: 1}
	rs := []regions.Fixed{
		bbox("a", 0, 0, 40, 30), bbox("b", 10, 10, 50, 40), bbox("c", 20, -20, 45, 20), // overlapping: read once
		bbox("far", -170, -80, -150, -60),
	}
	together := newEnv(t)
	in := together.put("/data/g.nc", g.file("/data/g.nc"))
	res := together.run(t, &Request{Regions: rs}, in)
	sum := int64(0)
	for k, r := range rs {
		alone := newEnv(t)
		alone.put(in, g.file(in))
		one := alone.run(t, &Request{Regions: []regions.Fixed{r}}, in)
		sum += one.BytesRead
		a, b := together.out(t, res.Regions[k]), alone.out(t, one.Regions[0])
		if string(a.Bytes()) != string(b.Bytes()) {
			t.Errorf("region %s cut with others differs from its cut alone", r.Name)
		}
		checkGridCut(t, a, g, r, []int{0, 1, 2})
		if res.Regions[k].Files[0].Sha256 != one.Regions[0].Files[0].Sha256 {
			t.Errorf("region %s: checksums differ", r.Name)
		}
	}
	if res.BytesRead >= sum {
		t.Errorf("overlapping regions read %d bytes together, %d one by one: the union was not read once", res.BytesRead, sum)
	}
	if res.FilesOpened != 1 {
		t.Errorf("files opened %d", res.FilesOpened)
	}
}

func TestRunMemoryBudgetSplitsReads(t *testing.T) {
	t.Parallel()
	g := grid{lat0: -85, dlat: 10, nlat: 18, lon0: -175, dlon: 10, nlon: 36, ntime: 4, dt: 1}
	rs := []regions.Fixed{bbox("a", -60, -40, 60, 40), bbox("b", -50, -30, 70, 50), bbox("wrap", 150, -10, -150, 10)}
	run := func(budget int64) (*env, *Result) {
		e := newEnv(t)
		e.opt.MemoryBudget = budget
		in := e.put("/data/g.nc", g.file("/data/g.nc"))
		return e, e.run(t, &Request{Regions: rs}, in)
	}
	big, bres := run(0)
	for _, budget := range []int64{1, 64, 1000} {
		small, sres := run(budget)
		for k, r := range rs {
			a, b := big.out(t, bres.Regions[k]), small.out(t, sres.Regions[k])
			if string(a.Bytes()) != string(b.Bytes()) {
				t.Errorf("budget %d: region %s differs from the cut in one read", budget, r.Name)
			}
			checkGridCut(t, b, g, r, seq(0, 3))
		}
	}
}

func TestRunChunkedInputReadsAlignToChunks(t *testing.T) {
	t.Parallel()
	g := grid{lat0: -85, dlat: 10, nlat: 18, lon0: -175, dlon: 10, nlon: 36, ntime: 4, dt: 1}
	e := newEnv(t)
	b := g.nc("/data/g.nc")
	b.f.Root.Vars[3].Chunks = []int{1, 6, 6}
	in := e.put("/data/g.nc", b.build())
	e.opt.MemoryBudget = 4 * 36 * 10 // a few rows of one step
	r := bbox("a", -100, -60, 100, 60)
	res := e.run(t, &Request{Regions: []regions.Fixed{r, bbox("b", -90, -50, 110, 70)}}, in)
	checkGridCut(t, e.out(t, res.Regions[0]), g, r, seq(0, 3))
}

func TestRunTimeSelection(t *testing.T) {
	t.Parallel()
	// Six-hourly steps from 2000-01-01T00 for ten days, standard calendar:
	// step k is at k*6 hours.
	g := grid{lat0: 0, dlat: 1, nlat: 2, lon0: 0, dlon: 1, nlon: 2, ntime: 40, dt: 0.25}
	tests := []struct {
		tr   TimeRange
		want []int
	}{
		{TimeRange{Start: "2000-01-02", End: "2000-01-03"}, seq(4, 11)},                    // whole days
		{TimeRange{Start: "2000-01-02T06:00:00", End: "2000-01-02T18:00:00"}, seq(5, 7)},   // to the second: inclusive
		{TimeRange{Start: "2000-01-09"}, seq(32, 39)},                                      // open end
		{TimeRange{End: "2000-01-01T12:00:00"}, seq(0, 2)},                                 // open start
		{TimeRange{Start: "..", End: "2000-01"}, seq(0, 39)},                               // a month
		{TimeRange{Start: "2000-01-02T05:00:00", End: "2000-01-02T07:00:00"}, seq(5, 5)},   // between steps
		{TimeRange{Start: "1999-12-31T23:00:00", End: "2000-01-01T00:00:00"}, seq(0, 0)},   // first step exactly
		{TimeRange{Start: "2000-01-10T18:00:00", End: "2000-01-20T00:00:00"}, seq(39, 39)}, // last step exactly
	}
	for _, tc := range tests {
		t.Run(tc.tr.String(), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			in := e.put("/data/g.nc", g.file("/data/g.nc"))
			r := bbox("all", -180, -90, 180, 90)
			tr := tc.tr
			res := e.run(t, &Request{Regions: []regions.Fixed{r}, Time: &tr}, in)
			out := e.out(t, res.Regions[0])
			checkGridCut(t, out, g, r, tc.want)
			start := stepTime(tc.want[0])
			end := stepTime(tc.want[len(tc.want)-1])
			if got := globalText(out, "time_coverage_start"); got != start {
				t.Errorf("time_coverage_start %s, want %s", got, start)
			}
			if got := globalText(out, "time_coverage_end"); got != end {
				t.Errorf("time_coverage_end %s, want %s", got, end)
			}
		})
	}
}

// stepTime is the ISO time of six-hourly step k from 2000-01-01.
func stepTime(k int) string {
	return time.Date(2000, 1, 1, 6*k, 0, 0, 0, time.UTC).Format("2006-01-02T15:04:05Z")
}

func TestRunTimeRangeOutsideTheData(t *testing.T) {
	t.Parallel()
	g := grid{lat0: 0, dlat: 1, nlat: 2, lon0: 0, dlon: 1, nlon: 2, ntime: 4, dt: 1}
	e := newEnv(t)
	in := e.put("/data/g.nc", g.file("/data/g.nc"))
	_, err := Run(t.Context(), []string{in}, &Request{Regions: lonBoxes[:1], Time: &TimeRange{Start: "2001-01-01"}}, e.opt)
	want := "time range 2001-01-01/ is outside the data of g.nc (time coverage 2000-01-01T00:00:00Z..2000-01-04T00:00:00Z)"
	if err == nil || !slices.Contains([]string{err.Error()}, "time: "+want) {
		t.Errorf("error %v, want %q", err, want)
	}
}

// TestRunTimeRangeBetweenSteps: a range inside the coverage that holds no
// step names the nearest steps, not the coverage.
func TestRunTimeRangeBetweenSteps(t *testing.T) {
	t.Parallel()
	g := grid{lat0: 0, dlat: 1, nlat: 2, lon0: 0, dlon: 1, nlon: 2, ntime: 4, dt: 1} // daily, 2000-01-01..04
	e := newEnv(t)
	in := e.put("/data/g.nc", g.file("/data/g.nc"))
	for tr, want := range map[TimeRange]string{
		{Start: "2000-01-02T06:00", End: "2000-01-02T18:00"}: "time: no time step of g.nc between 2000-01-02T06:00 and 2000-01-02T18:00 (nearest: 2000-01-02T00:00:00Z before, 2000-01-03T00:00:00Z after)",
		// An end written to the minute covers that minute, up to but not
		// including 2000-01-03T00:00: still no step.
		{Start: "2000-01-02T00:00:01", End: "2000-01-02T23:59"}: "time: no time step of g.nc between 2000-01-02T00:00:01 and 2000-01-02T23:59 (nearest: 2000-01-02T00:00:00Z before, 2000-01-03T00:00:00Z after)",
	} {
		_, err := Run(t.Context(), []string{in}, &Request{Regions: lonBoxes[:1], Time: &tr}, e.opt)
		if err == nil || err.Error() != want {
			t.Errorf("%v: error %v, want %q", tr, err, want)
		}
	}
}

// TestRunSeveralFilesOneOutsideTheTimeRange: without concatenation, a file
// outside the time range gives nothing for the regions and a note; the
// run and the regions with other files' outputs succeed.
func TestRunSeveralFilesOneOutsideTheTimeRange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	g := grid{lat0: 0, dlat: 1, nlat: 2, lon0: 0, dlon: 1, nlon: 2, ntime: 4, dt: 1}
	a := e.put("/data/a.nc", g.file("/data/a.nc"))
	later := g
	later.units = "days since 2001-01-01"
	b := e.put("/data/b.nc", later.file("/data/b.nc"))
	res := e.run(t, &Request{Regions: []regions.Fixed{bbox("r", -1, -1, 2, 2)}, Time: &TimeRange{Start: "2000-01-02", End: "2000-01-03"}}, a, b)
	r := res.Regions[0]
	if r.Status != StatusSuccessful || len(r.Files) != 1 || r.Files[0].Source != "a.nc" {
		t.Fatalf("%+v", r)
	}
	want := "nothing cut from b.nc: time: time range 2000-01-02/2000-01-03 is outside the data of b.nc (time coverage 2001-01-01T00:00:00Z..2001-01-04T00:00:00Z)"
	if !slices.Contains(res.Notes, want) {
		t.Errorf("notes %q, want %q", res.Notes, want)
	}
}
