package oracle

import (
	"fmt"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/testutil/fixtures"
	"github.com/subsetd/subsetd/ncmodel/nccompare"
	"github.com/subsetd/subsetd/regions"
)

// fixture is the NetCDF file of testdata/grids/<name>.cdl.
func fixture(t *testing.T, name string) string { return fixtures.Build(t, name) }

var latlon = grid{lat: "lat", lon: "lon", latDim: "lat", lonDim: "lon"}

// TestFixturesAgainstNCKS cuts each generated edge case and compares the
// result with ncks of the same index box (two halves across a seam).
func TestFixturesAgainstNCKS(t *testing.T) {
	type cse struct {
		fixture string
		g       grid
		box     []float64
		mod     func(*engine.Request)
	}
	stride := func(m map[string]int) func(*engine.Request) { return func(r *engine.Request) { r.Stride = m } }
	nc3 := func(r *engine.Request) { r.Output.Format = engine.FormatNetCDF3 }
	deflate9 := func(r *engine.Request) { nine := 9; r.Output.Deflate = &nine }
	cases := []cse{
		{"lon180", latlon, []float64{-30, -20, 30, 20}, nil},
		{"lon180", latlon, []float64{160, -30, -160, 30}, nil},
		{"lon180", latlon, []float64{-180, -5, -175, 5}, nil},
		{"lon180", latlon, []float64{170, -10, 190, 10}, nil},
		{"lon180", latlon, []float64{-180, -90, 180, 90}, nil},
		{"lon180", latlon, []float64{-50, -60, 50, 60}, stride(map[string]int{"lat": 2, "lon": 3})},
		{"lon180", latlon, []float64{150, -60, -150, 60}, stride(map[string]int{"lon": 2, "time": 2})},
		{"lon360", latlon, []float64{-10, -20, 10, 20}, nil},
		{"lon360", latlon, []float64{350, -20, 10, 20}, nil},
		{"lon360", latlon, []float64{100, 0, 200, 40}, nil},
		{"lon360", latlon, []float64{-120, -40, -100, 40}, nc3},
		{"lon360", latlon, []float64{0, -82.5, 0, 82.5}, deflate9},
		{"lon_m280", latlon, []float64{60, -40, 100, 40}, nil},
		{"lon_m280", latlon, []float64{-200, -40, -150, 40}, nil},
		{"lon_m280", latlon, []float64{170, -40, -170, 40}, nil},
		{"lat_desc", latlon, []float64{-50, -30, 50, 30}, nil},
		{"lat_desc", latlon, []float64{150, 40, -150, 90}, nil},
		{"packed", latlon, []float64{-60, -20, 60, 20}, nil},
		{"fills", latlon, []float64{-60, -20, 60, 20}, nil},
		{"bounds", latlon, []float64{-60, -20, 60, 20}, nil},
		{"bounds", latlon, []float64{150, -20, -150, 20}, nil},
		{"unlimited", latlon, []float64{-60, -20, 60, 20}, nil},
		{"unlimited", latlon, []float64{-60, -20, 60, 20}, nc3},
		{"onecell", latlon, []float64{21, 11, 21, 11}, nil},
		{"onecell", latlon, []float64{20.2, 10.2, 20.8, 10.8}, nil},
		{"onecell", latlon, []float64{100, 10, 110, 12}, nil},
		{"global2deg", latlon, []float64{-180, -90, 180, 90}, nil},
		{"global2deg", latlon, []float64{175, -10, -175, 10}, nil},
		{"groups", latlon, []float64{-60, -20, 60, 20}, nil},
		{"groups", latlon, []float64{150, -20, -150, 20}, nil},
		{"vertical", latlon, []float64{-60, -20, 60, 20}, nil},
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("%02d_%s_%v", i, c.fixture, c.box), func(t *testing.T) {
			req := bboxReq("r", c.box...)
			if c.mod != nil {
				c.mod(req)
			}
			g := c.g
			if s := req.Stride["time"]; s > 1 {
				g.extra = append(g.extra, "-d", fmt.Sprintf("time,0,,%d", s))
			}
			checkRegion(t, fixture(t, c.fixture), g, req)
		})
	}
}

// TestVerticalRange selects levels by depth value.
func TestVerticalRange(t *testing.T) {
	lo, hi := 10.0, 60.0
	req := bboxReq("r", -60, -20, 60, 20)
	req.Vertical = &engine.VerticalRange{Min: &lo, Max: &hi}
	g := latlon
	g.extra = []string{"-d", "depth,1,2"} // 15 and 50 m
	checkRegion(t, fixture(t, "vertical"), g, req)
}

// TestVerticalCoordinatesOfCF selects levels on the vertical coordinates
// CF identifies without axis = "Z" (a standard name of Appendix D alone,
// units of pressure alone, positive with units of length), each by its own
// values, compared with ncks of the levels found here from the values; a
// length without positive (height) is no vertical axis.
func TestVerticalCoordinatesOfCF(t *testing.T) {
	in := fixture(t, "vertical_cf")
	src := openT(t, in)
	d, err := engine.Describe(src)
	if err != nil {
		t.Fatal(err)
	}
	var vertical []string
	for _, a := range d.Axes {
		if a.Axis == string(engine.AxisVertical) {
			vertical = append(vertical, a.Variable)
		}
	}
	if got := strings.Join(vertical, " "); got != "lev plev s_rho zlev" {
		t.Errorf("vertical axes %q, want lev plev s_rho zlev", got)
	}
	for _, tc := range []struct {
		dim    string
		lo, hi float64
	}{{"s_rho", -0.6, -0.2}, {"lev", 0.3, 0.7}, {"plev", 60000, 90000}, {"zlev", 5, 40}} {
		t.Run(tc.dim, func(t *testing.T) {
			_, vals := coordValues(t, src, tc.dim)
			k0, k1 := -1, -1
			for k, z := range vals {
				if z >= tc.lo && z <= tc.hi {
					if k0 < 0 {
						k0 = k
					}
					k1 = k
				}
			}
			if k0 < 0 || k1-k0+1 == len(vals) {
				t.Fatalf("%v..%v takes levels %d..%d of %v: the test shows nothing", tc.lo, tc.hi, k0, k1, vals)
			}
			req := bboxReq("r", -20, -10, 20, 10)
			req.Vertical = &engine.VerticalRange{Min: &tc.lo, Max: &tc.hi}
			g := latlon
			g.extra = []string{"-d", fmt.Sprintf("%s,%d,%d", tc.dim, k0, k1)}
			checkRegion(t, in, g, req)
		})
	}
}

// TestVariableSubset keeps the asked variables and what they reference, as
// ncks -v does with its associated coordinates.
func TestVariableSubset(t *testing.T) {
	in := fixture(t, "bounds")
	for _, tc := range []struct{ vars, want string }{
		// grid_mapping, ancillary_variables and bounds come along.
		{"sst", "time time_bnds lat lat_bnds lon lon_bnds crs sst sst_error"},
		// coordinates = "height" brings the scalar height; grid_mapping crs.
		{"tas", "time time_bnds lat lat_bnds lon lon_bnds crs height tas"},
	} {
		req := bboxReq("r", -60, -20, 60, 20)
		req.Variables = []string{tc.vars}
		_, res := cut(t, in, req)
		if res.Regions[0].Status != engine.StatusSuccessful {
			t.Fatal(res.Regions[0].Message)
		}
		src := openT(t, res.Regions[0].Files[0].Path)
		var got []string
		for _, v := range src.File().Vars() {
			got = append(got, v.Name)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("--vars %s gives %v, want %s", tc.vars, got, tc.want)
		}
		// Values equal ncks -v of the same variables.
		want := ncks(t, in, "-v", strings.Join(got, ","), "-d", "lat,2,6", "-d", "lon,4,7")
		compare(t, res.Regions[0].Files[0].Path, want, nccompare.Options{})
	}
}

// TestCalendarFixtures selects a time range on each calendar fixture and
// checks the steps against python's cftime and the values against ncks.
func TestCalendarFixtures(t *testing.T) {
	needNCO(t)
	for _, cal := range []string{"standard", "gregorian", "proleptic_gregorian", "julian", "noleap", "365_day", "all_leap", "366_day", "360_day"} {
		t.Run(cal, func(t *testing.T) {
			in := fixture(t, "cal_"+cal)
			src := openT(t, in)
			tv, vals := coordValues(t, src, "time")
			calAttr := ""
			if a, ok := tv.Attr("calendar"); ok {
				calAttr = strings.ToLower(a.Text())
			}
			units := tv.AttrString("units")
			days := pythonDays(t, vals, units, calAttr)
			// From the day of the second step to the day of the fourth, whole days.
			start, end := days[1], days[3]
			want := pythonSelect(t, vals, units, calAttr, start+"T00:00:00", pythonNextDay(t, end, calAttr)+"T00:00:00")
			req := &engine.Request{Regions: []regions.Fixed{{Name: "all", BBox: []float64{-180, -90, 180, 90}}}, Time: &engine.TimeRange{Start: start, End: end}}
			_, res := cut(t, in, req)
			r := res.Regions[0]
			if r.Status != engine.StatusSuccessful {
				t.Fatalf("%s %s", r.Status, r.Message)
			}
			if got := r.Files[0].Shape["time"]; got != len(want) || len(want) < 3 {
				t.Fatalf("%s..%s: %d steps, cftime selects %v", start, end, got, want)
			}
			compare(t, r.Files[0].Path, ncks(t, in, "-d", fmt.Sprintf("time,%d,%d", want[0], want[len(want)-1])), nccompare.Options{})
		})
	}
}
