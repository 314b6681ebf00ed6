package engine

import (
	"strings"
	"sync"
	"testing"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/regions"
)

// panickingSource panics on reads of one variable that start at or after
// index from along its last dimension, as a bug in a reader or in the
// engine's index arithmetic would.
type panickingSource struct {
	ncmodel.Source
	path string
	from int
}

func (s panickingSource) Read(v *ncmodel.Var, start, count, stride []int) (*ncmodel.Array, error) {
	if v.Path() == s.path && len(start) > 0 && start[len(start)-1] >= s.from {
		var a []int
		_ = a[len(start)+4] // index out of range, as a real bug would
	}
	return s.Source.Read(v, start, count, stride)
}

func TestRunPanicFailsOnlyItsRegions(t *testing.T) {
	t.Parallel()
	// maskGrid's longitudes are -175..175 by 10: region east starts at
	// index 27 (95°), region west ends at index 5 (-125°).
	e := newEnv(t)
	in := e.put("/data/g.nc", maskGrid.file("/data/g.nc"))
	e.opt.Open = func(p string) (ncmodel.Source, error) {
		s, err := e.st.Open(p)
		if err != nil || p != in {
			return s, err
		}
		return panickingSource{s, "/sst", 20}, nil
	}
	var mu sync.Mutex
	var reported []string
	e.opt.Panic = func(what string, value any, stack []byte) {
		mu.Lock()
		defer mu.Unlock()
		if !strings.Contains(string(stack), "panickingSource.Read") {
			t.Errorf("stack does not show where it panicked:\n%s", stack)
		}
		reported = append(reported, what)
	}
	res := e.run(t, &Request{Regions: []regions.Fixed{bbox("west", -180, -30, -125, 30), bbox("east", 95, -30, 150, 30)}}, in)
	if r := res.Regions[0]; r.Status != StatusSuccessful {
		t.Errorf("west: %+v", r)
	}
	r := res.Regions[1]
	if r.Status != StatusFailed || len(r.Files) != 0 ||
		!strings.Contains(r.Message, "internal error cutting region east from g.nc: runtime error: index out of range") {
		t.Errorf("east: %+v", r)
	}
	if len(reported) != 1 || reported[0] != "cutting region east from g.nc" {
		t.Errorf("reported %q", reported)
	}
	e.noTemp(t)
	for _, p := range e.st.Paths() {
		if strings.Contains(p, "east") {
			t.Errorf("file of the failed region left: %s", p)
		}
	}
}

func TestGuard(t *testing.T) {
	t.Parallel()
	err := guard("doing x", func() error {
		var m map[string]*int
		return errs.E(errs.Invalid, "%d", *m["a"])
	})
	if errs.CodeOf(err) != errs.Internal || !strings.Contains(err.Error(), "internal error doing x: runtime error: invalid memory address or nil pointer dereference") {
		t.Errorf("%v", err)
	}
	var got []byte
	report(Options{Panic: func(what string, v any, stack []byte) { got = stack }}, err)
	if !strings.Contains(string(got), "TestGuard") {
		t.Errorf("stack %s", got)
	}
	want := errs.E(errs.Invalid, "plain")
	if err := guard("y", func() error { return want }); err != want {
		t.Errorf("error %v passed through as %v", want, err)
	}
	report(Options{Panic: func(string, any, []byte) { t.Error("reported a plain error") }}, want)
}

// twoTracks is NCO's in.cdl case of two grids stored as 1-D arrays on one
// dimension: a rectangular one (lat_r, lon_r) and an irregular one
// (lat_g, lon_g), both on n; v_r = 10 + n.
func twoTracks() *nc {
	latR := []float64{-90, -90, -90, -90, 90, 90, 90, 90}
	lonR := []float64{0, 90, 180, 270, 0, 90, 180, 270}
	latG := []float64{-90, -30, -30, 0, 0, 30, 30, 90}
	lonG := []float64{0, 0, 180, 0, 180, 0, 180, 0}
	at := func(vals []float64) func(i []int) float64 { return func(i []int) float64 { return vals[i[0]] } }
	return newNC("/data/two_tracks.nc", ncmodel.FormatClassic).dim("n", 8).
		v("lat_r", ncmodel.Float, "n", at(latR), txt("units", "degrees_north")).
		v("lon_r", ncmodel.Float, "n", at(lonR), txt("units", "degrees_east")).
		v("lat_g", ncmodel.Float, "n", at(latG), txt("units", "degrees_north")).
		v("lon_g", ncmodel.Float, "n", at(lonG), txt("units", "degrees_east")).
		v("v_r", ncmodel.Float, "n", func(i []int) float64 { return float64(10 + i[0]) })
}

func TestRunTwoGridsOnOneDimension(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	in := e.put("/data/two_tracks.nc", twoTracks().build())
	for _, vars := range [][]string{{"v_r"}, nil} {
		res := e.run(t, &Request{Regions: []regions.Fixed{bbox("n", 0, -90, 0, 90)}, Variables: vars}, in)
		out := e.out(t, res.Regions[0])
		// lon 0 is at 0 and 4 on the rectangular grid, at 0, 1, 3, 5 and
		// 7 on the irregular one: the output holds both ranges, 0..7;
		// indices 2 and 6 are on lon 180 in both and are masked.
		got := values(t, out, "v_r")
		fill := float32(ncmodel.DecodeValues(ncmodel.Float, ncmodel.DefaultFill(ncmodel.Float)).([]float32)[0])
		if len(got) != 8 || got[0] != 10 || got[2] != float64(fill) || got[6] != float64(fill) {
			t.Errorf("variables %v: v_r = %v, want 8 values, 10 first, fill at 2 and 6", vars, got)
		}
	}
}

// altimetry is a track with 1-Hz positions on time and 20-Hz positions,
// either on their own dimension (shared=false, as in Sentinel-6's data_20
// group) or on time x meas (shared=true, as in Jason's 20-Hz arrays).
// 1-Hz point k is at (k, k); 20-Hz point (k, m) at (k + m/20, k + m/20 + 0.5).
func altimetry(shared bool) *nc {
	b := newNC("/data/alt.nc", ncmodel.FormatNetCDF4).dim("time", 10).
		v("time", ncmodel.Double, "time", func(i []int) float64 { return float64(i[0]) }, txt("units", "seconds since 2020-01-01")).
		v("latitude", ncmodel.Double, "time", func(i []int) float64 { return float64(i[0]) }, txt("units", "degrees_north")).
		v("longitude", ncmodel.Double, "time", func(i []int) float64 { return float64(i[0]) }, txt("units", "degrees_east")).
		v("sla", ncmodel.Float, "time", func(i []int) float64 { return float64(i[0]) }, txt("coordinates", "latitude longitude"))
	lat20 := func(i []int) float64 { return float64(i[0]) + float64(i[1])/20 }
	lon20 := func(i []int) float64 { return lat20(i) + 0.5 }
	if shared {
		return b.dim("meas", 20).
			v("latitude_20", ncmodel.Double, "time meas", lat20, txt("units", "degrees_north")).
			v("longitude_20", ncmodel.Double, "time meas", lon20, txt("units", "degrees_east")).
			v("range_20", ncmodel.Float, "time meas", lat20, txt("coordinates", "latitude_20 longitude_20"))
	}
	flat := func(f func([]int) float64) func([]int) float64 {
		return func(i []int) float64 { return f([]int{i[0] / 20, i[0] % 20}) }
	}
	return b.group("data_20").dim("time_20", 200).
		v("latitude_20", ncmodel.Double, "time_20", flat(lat20), txt("units", "degrees_north")).
		v("longitude_20", ncmodel.Double, "time_20", flat(lon20), txt("units", "degrees_east")).
		v("range_20", ncmodel.Float, "time_20", flat(lat20), txt("coordinates", "latitude_20 longitude_20"))
}

func TestRunOneHzPointWithoutTwentyHz(t *testing.T) {
	t.Parallel()
	for _, shared := range []bool{false, true} {
		e := newEnv(t)
		in := e.put("/data/alt.nc", altimetry(shared).build())
		// Holds the 1-Hz point 3 (3, 3) and no 20-Hz point (their
		// longitudes are their latitudes + 0.5).
		res := e.run(t, &Request{Regions: []regions.Fixed{bbox("a", 2.9, 2.9, 3.1, 3.1)}}, in)
		out := e.out(t, res.Regions[0])
		if got := values(t, out, "sla"); len(got) != 1 || got[0] != 3 {
			t.Errorf("shared %v: sla = %v, want [3]", shared, got)
		}
		if got := values(t, out, "time"); len(got) != 1 || got[0] != 3 {
			t.Errorf("shared %v: time = %v, want [3]", shared, got)
		}
		for _, v := range out.File().Vars() {
			if strings.Contains(v.Name, "_20") {
				t.Errorf("shared %v: 20-Hz variable %s kept though the region holds no 20-Hz point", shared, v.Path())
			}
		}
	}
}

// TestRunPanicWhilePlanning: a bug met while planning a file (here a
// reader that panics on the coordinates) fails every region of the file.
func TestRunPanicWhilePlanning(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	in := e.put("/data/g.nc", maskGrid.file("/data/g.nc"))
	e.opt.Open = func(p string) (ncmodel.Source, error) {
		s, err := e.st.Open(p)
		if err != nil {
			return s, err
		}
		return panickingSource{s, "/lat", 0}, nil
	}
	reported := 0
	e.opt.Panic = func(string, any, []byte) { reported++ }
	res := e.run(t, &Request{Regions: lonBoxes[:2]}, in)
	for _, r := range res.Regions {
		if r.Status != StatusFailed || !strings.Contains(r.Message, "internal error planning the cut of g.nc") {
			t.Errorf("%+v", r)
		}
	}
	if reported != 1 {
		t.Errorf("%d panics reported, want 1", reported)
	}
}
