package engine

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/ncmodel/memfile"
)

func TestDescribe(t *testing.T) {
	t.Parallel()
	g := grid{lat0: -60, dlat: 30, nlat: 5, lon0: 0, dlon: 45, nlon: 8, ntime: 3, dt: 1, units: "days since 2004-02-27", calendar: "noleap"}
	b := g.nc("/data/d.nc").
		dim("depth", 2).
		v("depth", ncmodel.Float, "depth", func(i []int) float64 { return 10 * float64(i[0]+1) }, txt("units", "m"), txt("positive", "down"), txt("long_name", "depth")).
		attr(num("version", ncmodel.Int, 3), num("range", ncmodel.Double, 1, 2)).
		group("meta").dim("n", 4).v("flags", ncmodel.Byte, "n", nil, txt("standard_name", "status_flag"))
	d, err := Describe(b.build())
	if err != nil {
		t.Fatal(err)
	}
	if d.Path != "/data/d.nc" || d.Format != "netcdf4" || !reflect.DeepEqual(d.Groups, []string{"/meta"}) {
		t.Errorf("path %s format %s groups %v", d.Path, d.Format, d.Groups)
	}
	wantDims := []DimInfo{{"time", 3, true, "time"}, {"lat", 5, false, "lat"}, {"lon", 8, false, "lon"}, {"depth", 2, false, "vertical"}, {"/meta/n", 4, false, ""}}
	if !reflect.DeepEqual(d.Dimensions, wantDims) {
		t.Errorf("dimensions %+v", d.Dimensions)
	}
	wantVars := []VarInfo{
		{Name: "time", Type: "double", Dimensions: []string{"time"}, Shape: []int{3}, Units: "days since 2004-02-27", StandardName: "time", Coordinate: true},
		{Name: "lat", Type: "float", Dimensions: []string{"lat"}, Shape: []int{5}, Units: "degrees_north", Coordinate: true},
		{Name: "lon", Type: "float", Dimensions: []string{"lon"}, Shape: []int{8}, Units: "degrees_east", Coordinate: true},
		{Name: "sst", Type: "float", Dimensions: []string{"time", "lat", "lon"}, Shape: []int{3, 5, 8}, Units: "K"},
		{Name: "depth", Type: "float", Dimensions: []string{"depth"}, Shape: []int{2}, Units: "m", LongName: "depth", Coordinate: true},
		{Name: "/meta/flags", Type: "byte", Dimensions: []string{"n"}, Shape: []int{4}, StandardName: "status_flag"},
	}
	if !reflect.DeepEqual(d.Variables, wantVars) {
		t.Errorf("variables\n%+v\nwant\n%+v", d.Variables, wantVars)
	}
	if want := []GridInfo{{"rectilinear", "lat", "lon"}}; !reflect.DeepEqual(d.Grids, want) {
		t.Errorf("grids %+v", d.Grids)
	}
	wantAxes := []AxisInfo{{"lat", "lat", "lat", 5}, {"lon", "lon", "lon", 8}, {"time", "time", "time", 3}, {"vertical", "depth", "depth", 2}}
	if !reflect.DeepEqual(d.Axes, wantAxes) {
		t.Errorf("axes %+v", d.Axes)
	}
	if want := (Extent{LatMin: g.lat(0), LatMax: g.lat(4), LonMin: g.lon(0), LonMax: g.lon(7)}); d.Extent == nil || *d.Extent != want {
		t.Errorf("extent %+v, want %+v", d.Extent, want)
	}
	// noleap: two days after 2004-02-27 is March 1st (no Feb 29).
	if want := (TimeCoverage{Start: "2004-02-27T00:00:00Z", End: "2004-03-01T00:00:00Z", Steps: 3, Units: "days since 2004-02-27", Calendar: "noleap"}); d.Time == nil || *d.Time != want {
		t.Errorf("time %+v, want %+v", d.Time, want)
	}
	wantAttrs := map[string]any{"title": "test grid", "version": 3.0, "range": []float64{1, 2}}
	if !reflect.DeepEqual(d.Attributes, wantAttrs) {
		t.Errorf("attributes %#v", d.Attributes)
	}
}

func TestDescribeTimeProblems(t *testing.T) {
	t.Parallel()
	base := grid{lat0: 0, dlat: 1, nlat: 2, lon0: 0, dlon: 1, nlon: 2, ntime: 2, dt: 1}
	bad := base
	bad.units = "days since the beginning"
	none := base
	none.calendar = "none"
	allFill := base.nc("/data/fill.nc")
	allFill.f.Root.Vars[0].Attrs = append(allFill.f.Root.Vars[0].Attrs, num("_FillValue", ncmodel.Double, 0), num("valid_max", ncmodel.Double, -1))
	for name, tc := range map[string]struct {
		f    *memfile.File
		want TimeCoverage
	}{
		"standard by default": {base.file("/data/a.nc"), TimeCoverage{Start: "2000-01-01T00:00:00Z", End: "2000-01-02T00:00:00Z", Steps: 2, Units: "days since 2000-01-01", Calendar: "standard"}},
		"bad units":           {bad.file("/data/b.nc"), TimeCoverage{Steps: 2, Units: "days since the beginning", Calendar: "standard", Error: errText(TimeAxis(bad.file("").File().FindVar("time")))}},
		"no valid time":       {allFill.build(), TimeCoverage{Steps: 2, Units: "days since 2000-01-01", Calendar: "standard"}},
	} {
		d, err := Describe(tc.f)
		if err != nil {
			t.Fatal(err)
		}
		if tc.want.Error == "" && name == "bad units" {
			t.Fatal("the units should not parse")
		}
		if d.Time == nil || *d.Time != tc.want {
			t.Errorf("%s: %+v, want %+v", name, d.Time, tc.want)
		}
	}
	// No grid, no time: no extent, no coverage.
	d, err := Describe(newNC("/x.nc", ncmodel.FormatClassic).dim("n", 2).v("x", ncmodel.Int, "n", nil).build())
	if err != nil || d.Extent != nil || d.Time != nil || len(d.Grids) != 0 || d.Format != "classic" {
		t.Errorf("%+v %v", d, err)
	}
}

func errText[T any](_ T, err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestAxisOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		attrs []ncmodel.Attr
		coord bool
		want  Axis
	}{
		{"y", []ncmodel.Attr{txt("standard_name", "latitude")}, false, AxisLat},
		{"y", []ncmodel.Attr{txt("units", "degree_N")}, false, AxisLat},
		{"x", []ncmodel.Attr{txt("units", "degreesE")}, false, AxisLon},
		{"x", []ncmodel.Attr{txt("standard_name", "longitude")}, false, AxisLon},
		{"t", []ncmodel.Attr{txt("axis", "T")}, false, AxisTime},
		{"t", []ncmodel.Attr{txt("units", "seconds since 1970-01-01")}, false, AxisTime},
		{"z", []ncmodel.Attr{txt("axis", "Z")}, false, AxisVertical},
		{"z", []ncmodel.Attr{txt("positive", "up")}, false, AxisVertical},
		{"z", []ncmodel.Attr{txt("standard_name", "atmosphere_sigma_coordinate")}, false, AxisVertical},
		{"z", []ncmodel.Attr{txt("standard_name", "ocean_sigma_coordinate")}, false, AxisVertical},
		{"z", []ncmodel.Attr{txt("standard_name", "altitude")}, false, AxisVertical},
		{"z", []ncmodel.Attr{txt("standard_name", "sea_floor_depth_below_sea_surface")}, false, ""},
		{"yy", []ncmodel.Attr{txt("axis", "Y")}, false, AxisLat},
		{"yy", []ncmodel.Attr{txt("axis", "Y"), txt("standard_name", "projection_y_coordinate"), txt("units", "m")}, false, ""},
		{"xx", []ncmodel.Attr{txt("axis", "X"), txt("units", "degrees")}, false, AxisLon},
		{"xx", []ncmodel.Attr{txt("axis", "X"), txt("standard_name", "grid_longitude")}, false, ""},
		{"nav_lat", nil, false, AxisLat},
		{"Longitude", []ncmodel.Attr{txt("units", "degrees")}, false, AxisLon},
		{"lat", []ncmodel.Attr{txt("units", "km")}, false, ""},
		{"plev", []ncmodel.Attr{txt("units", "hPa")}, true, AxisVertical},
		{"plev", []ncmodel.Attr{txt("units", "hPa")}, false, ""},
		{"Time", nil, true, AxisTime},
		// CF 4.3: units of pressure alone, positive up or down with any
		// units, COARDS' level units; a length alone is not enough.
		{"p", []ncmodel.Attr{txt("units", "Pa")}, true, AxisVertical},
		{"p", []ncmodel.Attr{txt("units", "millibars")}, true, AxisVertical},
		{"p", []ncmodel.Attr{txt("units", "decibar")}, true, AxisVertical},
		{"p", []ncmodel.Attr{txt("units", "atm")}, true, AxisVertical},
		{"p", []ncmodel.Attr{txt("units", "bar")}, true, AxisVertical},
		{"z", []ncmodel.Attr{txt("units", "m"), txt("positive", "Down")}, true, AxisVertical},
		{"z", []ncmodel.Attr{txt("units", "km"), txt("positive", " up")}, true, AxisVertical},
		{"rho", []ncmodel.Attr{txt("units", "kg m-3"), txt("positive", "down")}, true, AxisVertical}, // isopycnal levels
		{"theta", []ncmodel.Attr{txt("units", "K"), txt("positive", "up")}, true, AxisVertical},      // isentropic levels
		{"z", []ncmodel.Attr{txt("units", "m")}, true, ""},
		{"z", []ncmodel.Attr{txt("units", "m"), txt("positive", "sideways")}, true, ""},
		{"k", []ncmodel.Attr{txt("units", "level")}, true, AxisVertical},
		{"k", []ncmodel.Attr{txt("units", "sigma_level")}, true, AxisVertical},
		{"sst", []ncmodel.Attr{txt("units", "K")}, true, ""},
	}
	// Every parametric vertical coordinate of CF's Appendix D, by its
	// standard name alone.
	for _, std := range []string{"atmosphere_ln_pressure_coordinate", "atmosphere_sigma_coordinate",
		"atmosphere_hybrid_sigma_pressure_coordinate", "atmosphere_hybrid_height_coordinate", "atmosphere_sleve_coordinate",
		"ocean_sigma_coordinate", "ocean_s_coordinate", "ocean_s_coordinate_g1", "ocean_s_coordinate_g2",
		"ocean_sigma_z_coordinate", "ocean_double_sigma_coordinate"} {
		tests = append(tests, struct {
			name  string
			attrs []ncmodel.Attr
			coord bool
			want  Axis
		}{"lev", []ncmodel.Attr{txt("standard_name", std)}, true, AxisVertical})
	}
	for _, tc := range tests {
		root := &ncmodel.Group{}
		dim := &ncmodel.Dim{Name: "n", Len: 1, Group: root}
		if tc.coord {
			dim.Name = tc.name
		}
		v := &ncmodel.Var{Name: tc.name, Type: ncmodel.Double, Dims: []*ncmodel.Dim{dim}, Attrs: tc.attrs, Group: root}
		if got := AxisOf(v); got != tc.want {
			t.Errorf("%s %v (coordinate %v): %q, want %q", tc.name, tc.attrs, tc.coord, got, tc.want)
		}
	}
}

func TestCoordValuesUnpack(t *testing.T) {
	t.Parallel()
	raw := []float64{-32768, 100, 200, 9000, 300, -1}
	b := newNC("/u.nc", ncmodel.FormatNetCDF4).dim("n", len(raw))
	for name, attrs := range map[string][]ncmodel.Attr{
		"fill":    {num("_FillValue", ncmodel.Short, -32768), num("missing_value", ncmodel.Short, -1), num("scale_factor", ncmodel.Double, 0.5), num("add_offset", ncmodel.Double, 10)},
		"range":   {num("valid_range", ncmodel.Short, 0, 1000)},
		"minmax":  {num("valid_min", ncmodel.Short, 100), num("valid_max", ncmodel.Short, 300)},
		"default": nil,
	} {
		b.v(name, ncmodel.Short, "n", func(i []int) float64 { return raw[i[0]] }, attrs...)
	}
	f := b.build()
	nan := math.NaN()
	for name, want := range map[string][]float64{
		"fill":    {nan, 60, 110, 4510, 160, nan},
		"range":   {nan, 100, 200, nan, 300, nan},
		"minmax":  {nan, 100, 200, nan, 300, nan},
		"default": raw,
	} {
		got, err := CoordValues(f, f.File().FindVar(name))
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if got[i] != want[i] && !(math.IsNaN(got[i]) && math.IsNaN(want[i])) {
				t.Errorf("%s: %v, want %v", name, got, want)
				break
			}
		}
	}
}

func TestParseTimeFlag(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"2020-01-01/2020-01-31": "2020-01-01/2020-01-31",
		"2020-01/":              "2020-01/",
		"../2020":               "../2020",
	} {
		tr, err := ParseTimeFlag(in)
		if err != nil || tr.String() != want {
			t.Errorf("%s: %v %v", in, tr, err)
		}
	}
	for in, want := range map[string]string{
		"2020-01-01":            `--time: "2020-01-01" must be START/END in ISO 8601`,
		"2020-02-01/2020-01-01": "time: start 2020-02-01 is after end 2020-01-01",
		"/":                     "time: give a start, an end or both",
		"2020-13-01/":           "time.start: ",
	} {
		if _, err := ParseTimeFlag(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", in, err, want)
		}
	}
}
