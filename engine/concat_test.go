package engine

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/regions"
)

// day is one file of a daily series: time in hours since its own day of
// January 2020 (or in units), with bounds; sst = 1000*day + 100*k + 10*j + i
// for its step k; a fill time reads as missing.
type day struct {
	name  string
	day   int
	hours []float64
	units string
}

const dayFill = -1

func (d day) nc() *nc {
	units := d.units
	if units == "" {
		units = fmt.Sprintf("hours since 2020-01-%02d 00:00:00", d.day)
	}
	return newNC("/series/"+d.name, ncmodel.FormatNetCDF4).
		dim("time", -len(d.hours)).dim("lat", 3).dim("lon", 4).dim("nv", 2).
		v("time", ncmodel.Double, "time", func(i []int) float64 { return d.hours[i[0]] },
			txt("units", units), txt("standard_name", "time"), txt("bounds", "time_bnds"), num("_FillValue", ncmodel.Double, dayFill)).
		v("time_bnds", ncmodel.Double, "time nv", func(i []int) float64 { return d.hours[i[0]] + 6*float64(2*i[1]-1) }).
		v("lat", ncmodel.Float, "lat", func(i []int) float64 { return float64(i[0]) }, txt("units", "degrees_north")).
		v("lon", ncmodel.Float, "lon", func(i []int) float64 { return 10 + float64(i[0]) }, txt("units", "degrees_east")).
		v("sst", ncmodel.Float, "time lat lon", func(i []int) float64 { return float64(1000*d.day + 100*i[0] + 10*i[1] + i[2]) }).
		attr(txt("title", fmt.Sprintf("day %d", d.day)))
}

func (e *env) series(days ...day) []string {
	var paths []string
	for _, d := range days {
		paths = append(paths, e.put("/series/"+d.name, d.nc().build()))
	}
	return paths
}

// at is the instant of an hour of a day of January 2020.
func at(day int, hours float64) time.Time {
	return time.Date(2020, 1, day, 0, 0, 0, 0, time.UTC).Add(time.Duration(hours * float64(time.Hour)))
}

// step is one expected output time step: which file's day and step.
type wantStep struct{ day, k int }

// checkSeries checks a joined output: times in hours since the first
// day's start, their bounds, and sst at each step from its file's formula.
func checkSeries(t *testing.T, e *env, r RegionResult, first int, steps []wantStep, days map[int]day, lats, lons []int) {
	t.Helper()
	out := e.out(t, r)
	if u := out.File().FindVar("time").AttrString("units"); u != fmt.Sprintf("hours since 2020-01-%02d 00:00:00", first) {
		t.Errorf("time units %q: the earliest file's", u)
	}
	times, bnds, sst := values(t, out, "time"), values(t, out, "time_bnds"), values(t, out, "sst")
	if len(times) != len(steps) {
		t.Fatalf("times %v, want %d steps", times, len(steps))
	}
	origin := at(first, 0)
	for n, s := range steps {
		want := at(s.day, days[s.day].hours[s.k]).Sub(origin).Hours()
		if times[n] != want || bnds[2*n] != want-6 || bnds[2*n+1] != want+6 {
			t.Errorf("step %d: time %v bounds %v %v, want %v (day %d step %d)", n, times[n], bnds[2*n], bnds[2*n+1], want, s.day, s.k)
		}
		for jj, j := range lats {
			for ii, i := range lons {
				if got, want := sst[(n*len(lats)+jj)*len(lons)+ii], float64(1000*s.day+100*s.k+10*j+i); got != want {
					t.Fatalf("sst step %d cell (%d, %d) = %v, want %v", n, j, i, got, want)
				}
			}
		}
	}
}

func TestConcatJoinsInTimeOrder(t *testing.T) {
	t.Parallel()
	days := map[int]day{1: {"d1.nc", 1, []float64{0, 12}, ""}, 2: {"d2.nc", 2, []float64{0, 12}, ""}, 3: {"d3.nc", 3, []float64{0, 12}, ""}}
	e := newEnv(t)
	e.opt.Concat = true
	files := e.series(days[3], days[1], days[2]) // out of order
	all := []wantStep{{1, 0}, {1, 1}, {2, 0}, {2, 1}, {3, 0}, {3, 1}}
	tests := []struct {
		name  string
		req   Request
		steps []wantStep
		lats  []int
		lons  []int
	}{
		{"whole", Request{Regions: []regions.Fixed{bbox("r", -180, -90, 180, 90)}}, all, seq(0, 2), seq(0, 3)},
		{"cut", Request{Regions: []regions.Fixed{bbox("r", 10.5, 0.5, 13, 2)}}, all, seq(1, 2), seq(1, 3)},
		{"time range", Request{Regions: []regions.Fixed{bbox("r", 0, -90, 40, 90)}, Time: &TimeRange{Start: "2020-01-01T12:00:00", End: "2020-01-03T00:00:00"}},
			all[1:5], seq(0, 2), seq(0, 3)},
		{"time range of later files", Request{Regions: []regions.Fixed{bbox("r", 0, -90, 40, 90)}, Time: &TimeRange{Start: "2020-01-02", End: "2020-01-03T00:00:00"}},
			all[2:5], seq(0, 2), seq(0, 3)},
		{"time stride", Request{Regions: []regions.Fixed{bbox("r", 0, -90, 40, 90)}, Stride: map[string]int{"time": 3}},
			[]wantStep{{1, 0}, {2, 1}}, seq(0, 2), seq(0, 3)},
		{"polygon", Request{Regions: []regions.Fixed{polygon("r", [2]float64{9, -1}, [2]float64{14, -1}, [2]float64{14, 3}, [2]float64{9, 3}, [2]float64{9, -1})}},
			all, seq(0, 2), seq(0, 3)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.run(t, &tc.req, files...)
			r := res.Regions[0]
			if len(r.Files) != 1 || r.Files[0].Name != "r.nc" || res.FilesOpened != 3 {
				t.Fatalf("%+v, %d files opened", r, res.FilesOpened)
			}
			checkSeries(t, e, r, 1, tc.steps, days, tc.lats, tc.lons)
			out := e.out(t, r)
			if got := globalText(out, "title"); got != "day 1" {
				t.Errorf("title %q: the earliest file's", got)
			}
			// Both name the files the steps come from, in time order.
			var want []string
			for _, st := range tc.steps {
				if f := days[st.day].name; !slices.Contains(want, f) {
					want = append(want, f)
				}
			}
			if got := globalText(out, "subsetd_source"); got != strings.Join(want, ", ") || r.Files[0].Source != got {
				t.Errorf("subsetd_source %q, source %q, want %q", got, r.Files[0].Source, strings.Join(want, ", "))
			}
			if len(res.Notes) != 0 {
				t.Errorf("notes %q", res.Notes)
			}
		})
	}
}

func TestConcatOverlapsAndGaps(t *testing.T) {
	t.Parallel()
	// Day 1 at 00 and 12 h; a file with day 1 12 h again and day 2 00 h (in
	// day 1's units); day 4 without day 3 and in days; a missing time.
	days := map[int]day{
		1: {"a.nc", 1, []float64{0, 12}, ""},
		2: {"b.nc", 1, []float64{12, 24}, ""},
		4: {"c.nc", 4, []float64{0, 0.5, dayFill}, "days since 2020-01-04"},
	}
	e := newEnv(t)
	e.opt.Concat = true
	files := e.series(days[1], days[2], days[4])
	res := e.run(t, &Request{Regions: []regions.Fixed{bbox("r", 0, -90, 40, 90)}}, files...)
	out := e.out(t, res.Regions[0])
	// In hours since day 1: 0, 12, 24 then day 4's 72 and 84.
	if got := values(t, out, "time"); fmt.Sprint(got) != "[0 12 24 72 84]" {
		t.Errorf("times %v", got)
	}
	sst := values(t, out, "sst")
	for n, want := range []float64{1000, 1100, 1100, 4000, 4100} { // step 1 of b.nc is day 2 00h; b's sst uses day 1
		if sst[n*12] != want {
			t.Errorf("step %d sst %v, want %v", n, sst[n*12], want)
		}
	}
	// The typical step is 12 h: 48 h between day 2 and day 4 miss 3 steps.
	wantNotes := []string{
		"b.nc: 1 time step(s) already in an earlier file (or without a time) were taken once",
		"c.nc: 1 time step(s) already in an earlier file (or without a time) were taken once",
		"gap in time between 2020-01-02T00:00:00Z and 2020-01-04T00:00:00Z (3 missing step(s))",
	}
	if !slices.Equal(res.Notes, wantNotes) {
		t.Errorf("notes\n%q\nwant\n%q", res.Notes, wantNotes)
	}
}

func TestConcatRefusesFilesThatAreNotOneSeries(t *testing.T) {
	t.Parallel()
	base := day{"a.nc", 1, []float64{0, 12}, ""}
	other := day{"b.nc", 2, []float64{0, 12}, ""}
	noTime := newNC("/series/notime.nc", ncmodel.FormatNetCDF4).dim("lat", 3).dim("lon", 4).
		v("lat", ncmodel.Float, "lat", nil, txt("units", "degrees_north")).
		v("lon", ncmodel.Float, "lon", nil, txt("units", "degrees_east"))
	tests := []struct {
		name   string
		change func(first, second *nc) // change the descriptions
		want   string
	}{
		{"other grid", func(_, b *nc) { b.f.Root.Dims[2].Len = 5 }, "variable /lon: dimension lon is 4 in a.nc but lon 5 in b.nc: the files do not share one grid"},
		{"missing variable", func(_, b *nc) { b.f.Root.Vars = b.f.Root.Vars[:4] }, "b.nc has no variable /sst that a.nc has: the files do not form one time series"},
		{"other type", func(_, b *nc) { b.f.Root.Vars[4].Type = ncmodel.Double }, "variable /sst differs between a.nc and b.nc (type or dimensions)"},
		{"bad units first", func(a, _ *nc) { a.f.Root.Vars[0].Attrs[0] = txt("units", "hours") }, "a.nc: cannot decode time /time"},
		{"bad units second", func(_, b *nc) { b.f.Root.Vars[0].Attrs[0] = txt("units", "hours since never") }, "b.nc: cannot decode time"},
		{"no time", nil, "notime.nc has no time coordinate: its files cannot be joined along time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.opt.Concat = true
			a, b := base.nc(), other.nc()
			if tc.change != nil {
				tc.change(a, b)
			} else {
				a = noTime
			}
			files := []string{e.put(a.f.Path, a.build()), e.put(b.f.Path, b.build())}
			_, err := Run(t.Context(), files, &Request{Regions: lonBoxes[:1]}, e.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
	e := newEnv(t)
	e.opt.Concat = true
	files := e.series(base)
	if _, err := Run(t.Context(), append(files, "/series/missing.nc"), &Request{Regions: lonBoxes[:1]}, e.opt); err == nil || !strings.Contains(err.Error(), "cannot read missing.nc") {
		t.Errorf("missing file: %v", err)
	}
}

func TestConcatOfOneFileIsAPlainCut(t *testing.T) {
	t.Parallel()
	days := map[int]day{5: {"d5.nc", 5, []float64{0, 6, 12}, ""}}
	e := newEnv(t)
	e.opt.Concat = true
	res := e.run(t, &Request{Regions: []regions.Fixed{bbox("r", 11, -90, 12, 90)}}, e.series(days[5])...)
	checkSeries(t, e, res.Regions[0], 5, []wantStep{{5, 0}, {5, 1}, {5, 2}}, days, seq(0, 2), seq(1, 2))
	if src := res.Regions[0].Files[0].Source; src != "d5.nc" {
		t.Errorf("source %s", src)
	}
}
