package oracle

import (
	"math"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/engine"
)

// ncoFile builds one of NCO's CDL edge-case files of the real-data folder.
func ncoFile(t *testing.T, cdl, kind string) string {
	t.Helper()
	src := realFile(t, cdl)
	in := filepath.Join(t.TempDir(), "in.nc")
	if b, err := exec.Command("ncgen", "-k", kind, "-o", in, src).CombinedOutput(); err != nil {
		t.Fatalf("ncgen %s: %v %s", cdl, err, b)
	}
	return in
}

// TestNCOEdgeCasesDoNotPanic: regions of NCO's in.cdl that crashed the
// engine (a nil pointer on a grid the region misses; an index out of range
// when two grids stored as 1-D arrays share one dimension) cut cleanly.
func TestNCOEdgeCasesDoNotPanic(t *testing.T) {
	in := ncoFile(t, "nco+nco__in.cdl", "classic")
	for _, tc := range []struct {
		box  []float64
		vars []string
		dim  string
		want int
	}{
		// The line lon = 90 holds no centre: it takes the cells containing
		// it, column 1 of lat/lon and the cells of the 2-D pair
		// lat_2D_rrg/lon_2D_rrg (on lat, lon too) whose extent reaches 90.
		{[]float64{90, -90, 90, 90}, nil, "lon", 4},
		{[]float64{90, -90, 90, 90}, []string{"three_dmn_var_dbl"}, "lon", 1},
		{[]float64{0, -90, 0, 90}, []string{"var_1D_rct"}, "lat_times_lon", 8},
		{[]float64{0, -90, 0, 90}, nil, "lat_times_lon", 8},
	} {
		req := bboxReq("n", tc.box...)
		req.Variables = tc.vars
		_, res := cut(t, in, req)
		r := res.Regions[0]
		if r.Status != engine.StatusSuccessful || r.Files[0].Shape[tc.dim] != tc.want {
			t.Errorf("%v %v: %+v, want %s = %d", tc.box, tc.vars, r, tc.dim, tc.want)
		}
	}
}

// TestRealDataExtentAcrossZero: ACDD extents of 2-D and along-track cuts
// across 0 on 0..360 data are those of the cells kept (CanESM5's ocean
// grid gave lon_min 0.0498 / lon_max -0.0548 for -9.94..9.99).
func TestRealDataExtentAcrossZero(t *testing.T) {
	for _, tc := range []struct {
		file, lat, lon string
		box            []float64
	}{
		{"Ouranosinc+xclim-testdata__sic_SImon_CCCma-CanESM5_ssp245_r13i1p2f1_2020.nc", "latitude", "longitude", []float64{-10, 60, 10, 75}},
		{"podaac+concise__S6A_P4_2__HR_RED__NR_014_191_20210403T004056_20210403T005056_F00.nc", "/data_01/latitude", "/data_01/longitude", []float64{-20, -70, 20, 70}},
	} {
		t.Run(tc.lon, func(t *testing.T) {
			checkExtentAcrossZero(t, realFile(t, tc.file), tc.lat, tc.lon, tc.box)
		})
	}
}

// checkExtentAcrossZero cuts box (inside -180..180, across 0) and checks
// the ACDD extent against the kept cells, found by brute force.
func checkExtentAcrossZero(t *testing.T, in, latName, lonName string, box []float64) {
	t.Helper()
	src := openT(t, in)
	lat := allValues(t, src, src.File().FindVar(latName))
	lon := allValues(t, src, src.File().FindVar(lonName))
	want := map[string]float64{"geospatial_lat_min": math.Inf(1), "geospatial_lat_max": math.Inf(-1), "geospatial_lon_min": math.Inf(1), "geospatial_lon_max": math.Inf(-1)}
	for k := range lat {
		x := math.Mod(lon[k]+540, 360) - 180 // the box is inside -180..180
		if lat[k] < box[1] || lat[k] > box[3] || x < box[0] || x > box[2] {
			continue
		}
		want["geospatial_lat_min"] = math.Min(want["geospatial_lat_min"], lat[k])
		want["geospatial_lat_max"] = math.Max(want["geospatial_lat_max"], lat[k])
		want["geospatial_lon_min"] = math.Min(want["geospatial_lon_min"], x)
		want["geospatial_lon_max"] = math.Max(want["geospatial_lon_max"], x)
	}
	if want["geospatial_lon_min"] > -1 || want["geospatial_lon_max"] < 1 {
		t.Fatalf("the cells kept do not cross 0: %v", want)
	}
	_, res := cut(t, in, bboxReq("r", box...))
	if res.Regions[0].Status != engine.StatusSuccessful {
		t.Fatalf("%+v", res.Regions[0])
	}
	root := openT(t, res.Regions[0].Files[0].Path).File().Root
	for name, w := range want {
		a, _ := root.Attr(name)
		if got := a.Float64s(); len(got) != 1 || math.Abs(got[0]-w) > 1e-5 {
			t.Errorf("%s = %v, want %v", name, got, w)
		}
	}
}

// TestRealDataTimeBetweenSteps: CanESM2's monthly steps (365_day): a
// range between two of them names them.
func TestRealDataTimeBetweenSteps(t *testing.T) {
	in := realFile(t, "Ouranosinc+xclim-testdata__tas_Amon_CanESM2_rcp85_r1i1p1_200701-200712.nc")
	req := bboxReq("r", 0, 0, 10, 10)
	req.Time = &engine.TimeRange{Start: "2007-03-20", End: "2007-03-25"}
	_, err := engine.Run(t.Context(), []string{in}, req, engine.Options{OutDir: t.TempDir(), Open: openSource, Create: openSink})
	want := "time: no time step of " + filepath.Base(in) + " between 2007-03-20 and 2007-03-25 (nearest: 2007-03-16T12:00:00Z before, 2007-04-16T00:00:00Z after)"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

// TestGeneratedEdgeCasesDoNotPanic: the generated cases of the crashes:
// two grids stored as 1-D arrays on one dimension, and a box holding a
// 1-Hz point and no 20-Hz point on time x meas_ind.
func TestGeneratedEdgeCasesDoNotPanic(t *testing.T) {
	// two_tracks: lon 0 is at n = 0, 4 on the rectangular grid and at 0,
	// 1, 3, 5, 7 on the irregular one: the output holds n = 0..7.
	_, res := cut(t, fixture(t, "two_tracks"), bboxReq("n", 0, -90, 0, 90))
	if r := res.Regions[0]; r.Status != engine.StatusSuccessful || r.Files[0].Shape["n"] != 8 {
		t.Errorf("two_tracks: %+v", r)
	}
	// altimetry_20hz: the box holds 1-Hz point 3 at (3, 3); the 20-Hz
	// longitudes are their latitudes + 0.5, so no 20-Hz point is inside.
	_, res = cut(t, fixture(t, "altimetry_20hz"), bboxReq("a", 2.9, 2.9, 3.1, 3.1))
	r := res.Regions[0]
	if r.Status != engine.StatusSuccessful {
		t.Fatalf("altimetry_20hz: %+v", r)
	}
	src := openT(t, r.Files[0].Path)
	if _, sla := coordValues(t, src, "sla"); len(sla) != 1 || sla[0] != 3 {
		t.Errorf("sla = %v, want [3]", sla)
	}
	for _, v := range src.File().Vars() {
		if strings.HasSuffix(v.Name, "_20") {
			t.Errorf("20-Hz variable %s kept", v.Name)
		}
	}
}

// TestGeneratedExtentAcrossGreenwich: the generated swath and track (0..360
// longitudes across Greenwich) give the extent of the cells kept.
func TestGeneratedExtentAcrossGreenwich(t *testing.T) {
	for _, tc := range []struct {
		fixture, lat, lon string
		box               []float64
	}{
		{"swath", "lat", "lon", []float64{-5, -25, 5, 0}},
		{"track", "/data_01/latitude", "/data_01/longitude", []float64{-10, -30, 10, 0}},
	} {
		checkExtentAcrossZero(t, fixture(t, tc.fixture), tc.lat, tc.lon, tc.box)
	}
}

// TestGeneratedTimeBetweenSteps: fills.cdl's daily steps.
func TestGeneratedTimeBetweenSteps(t *testing.T) {
	in := fixture(t, "fills")
	req := bboxReq("r", -60, -20, 60, 20)
	req.Time = &engine.TimeRange{Start: "2000-01-01T06:00", End: "2000-01-01T18:00"}
	_, err := engine.Run(t.Context(), []string{in}, req, engine.Options{OutDir: t.TempDir(), Open: openSource, Create: openSink})
	want := "time: no time step of fills.nc between 2000-01-01T06:00 and 2000-01-01T18:00 (nearest: 2000-01-01T00:00:00Z before, 2000-01-02T00:00:00Z after)"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}
