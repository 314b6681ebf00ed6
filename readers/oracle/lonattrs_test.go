package oracle

import (
	"fmt"
	"math"
	"testing"

	"github.com/subsetd/subsetd/engine"
)

// TestShiftedLongitudeAttributes: a box across 0 on 0..360 data shifts
// the western part by -360; every longitude of the output (the coordinate,
// its bounds, copies in groups, packed or without units) follows, and
// valid_range / valid_min / valid_max / actual_range follow too, so that
// netCDF4-python masks none of them and xarray decodes them as the source's
// longitudes modulo 360, with the source's times.
func TestShiftedLongitudeAttributes(t *testing.T) {
	in := fixture(t, "lon_attrs")
	_, res := cut(t, in, bboxReq("r", -50, -30, 50, 30))
	r := res.Regions[0]
	if r.Status != engine.StatusSuccessful {
		t.Fatalf("%+v", r)
	}
	out := r.Files[0].Path
	// lon = 15 + 30i: the box holds 315, 345 (shifted to -45, -15), 15, 45.
	wantLon := []float64{-45, -15, 15, 45}
	src := openT(t, out)
	f := src.File()
	for _, tc := range []struct{ v, attr, want string }{
		{"/lon", "valid_range", "[-360 360]"},
		{"/lon", "actual_range", "[-45 45]"},
		{"/lon_bnds", "valid_min", "[-360]"},
		{"/lon_bnds", "valid_max", "[360]"},
		{"/g1/lon", "valid_range", "[-360000 360000]"},
	} {
		a, ok := f.FindVar(tc.v).Attr(tc.attr)
		if got := fmt.Sprint(a.Float64s()); !ok || got != tc.want {
			t.Errorf("%s:%s = %s, want %s", tc.v, tc.attr, got, tc.want)
		}
	}
	dec := decode(t, map[string][]string{out: {"/lon", "/lon_bnds", "/g1/lon", "/g2/lon", "/time"}, in: {"/time"}})
	got, srcTimes := dec[out], dec[in]["xr:/time"]
	for _, name := range []string{"/lon", "/g1/lon", "/g2/lon"} {
		for _, lib := range []string{"nc4:", "xr:"} {
			vals := got[lib+name]
			if len(vals) != len(wantLon) {
				t.Fatalf("%s%s = %v, want %v", lib, name, vals, wantLon)
			}
			for i, v := range vals {
				x, ok := v.(float64)
				if !ok || math.Abs(x-wantLon[i]) > 1e-6 {
					t.Errorf("%s%s[%d] = %v, want %v (masked or unshifted)", lib, name, i, v, wantLon[i])
				}
			}
		}
	}
	for i, v := range got["nc4:/lon_bnds"] {
		want := wantLon[i/2] - 15 + 30*float64(i%2)
		if x, ok := v.(float64); !ok || x != want {
			t.Errorf("lon_bnds[%d] = %v, want %v", i, v, want)
		}
	}
	if fmt.Sprint(got["xr:/time"]) != fmt.Sprint(srcTimes) {
		t.Errorf("times %v, source %v", got["xr:/time"], srcTimes)
	}
}

// TestGroupedLongitudesShift: in NCO's in_grp.cdl, /g1/lon and /g2/lon
// (on the root's lon dimension) follow the root lon across the seam.
func TestGroupedLongitudesShift(t *testing.T) {
	in := ncoFile(t, "nco+nco__in_grp.cdl", "nc4")
	_, res := cut(t, in, bboxReq("r", -100, -90, 10, 90))
	r := res.Regions[0]
	if r.Status != engine.StatusSuccessful {
		t.Fatalf("%+v", r)
	}
	// lon = 0, 90, 180, 270: the box holds 270 (as -90) and 0.
	got := decode(t, map[string][]string{r.Files[0].Path: {"/lon", "/g1/lon", "/g2/lon"}})[r.Files[0].Path]
	for _, name := range []string{"/lon", "/g1/lon", "/g2/lon"} {
		if s := fmt.Sprint(got["xr:"+name]); s != "[-90 0]" {
			t.Errorf("%s = %s, want [-90 0]", name, s)
		}
	}
}

// TestRealDataShiftedDecodes: CanESM2's 0..360 grid cut across 0 decodes in
// xarray to the source's longitudes (modulo 360, west to east) and times.
func TestRealDataShiftedDecodes(t *testing.T) {
	in := realFile(t, "Ouranosinc+xclim-testdata__tas_Amon_CanESM2_rcp85_r1i1p1_200701-200712.nc")
	_, res := cut(t, in, bboxReq("r", -10, -10, 10, 10))
	r := res.Regions[0]
	if r.Status != engine.StatusSuccessful {
		t.Fatalf("%+v", r)
	}
	out := r.Files[0].Path
	dec := decode(t, map[string][]string{in: {"/lon", "/time"}, out: {"/lon", "/time"}})
	var want []float64
	for _, v := range dec[in]["xr:/lon"] { // west of 0 first, shifted by -360
		if x := v.(float64); x >= 350 {
			want = append(want, x-360)
		}
	}
	for _, v := range dec[in]["xr:/lon"] {
		if x := v.(float64); x <= 10 {
			want = append(want, x)
		}
	}
	got := dec[out]["xr:/lon"]
	if len(got) != len(want) || len(want) < 2 {
		t.Fatalf("lon %v, want %v", got, want)
	}
	for i := range want {
		if x, ok := got[i].(float64); !ok || math.Abs(x-want[i]) > 1e-9 {
			t.Errorf("lon[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if fmt.Sprint(dec[out]["xr:/time"]) != fmt.Sprint(dec[in]["xr:/time"]) {
		t.Errorf("times %v, source %v", dec[out]["xr:/time"], dec[in]["xr:/time"])
	}
}
