package engine

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/ncmodel/memfile"
	"github.com/subsetd/subsetd/regions"
)

func txt(n, v string) ncmodel.Attr { return ncmodel.Attr{Name: n, Type: ncmodel.Char, Value: v} }

// testFile builds a small grid file in memory: time(3) x lat(4) x lon(8),
// with bounds, a grid mapping and an ancillary variable.
func testFile() *memfile.File {
	root := &ncmodel.Group{}
	dt := &ncmodel.Dim{Name: "time", Len: 3, Unlimited: true, Group: root}
	dy := &ncmodel.Dim{Name: "lat", Len: 4, Group: root}
	dx := &ncmodel.Dim{Name: "lon", Len: 8, Group: root}
	nv := &ncmodel.Dim{Name: "nv", Len: 2, Group: root}
	root.Dims = []*ncmodel.Dim{dt, dy, dx, nv}
	add := func(name string, t ncmodel.Type, dims []*ncmodel.Dim, attrs ...ncmodel.Attr) {
		root.Vars = append(root.Vars, &ncmodel.Var{Name: name, Type: t, Dims: dims, Attrs: attrs, Group: root})
	}
	add("time", ncmodel.Double, []*ncmodel.Dim{dt}, txt("units", "days since 2000-01-01"), txt("calendar", "360_day"))
	add("lat", ncmodel.Float, []*ncmodel.Dim{dy}, txt("units", "degrees_north"))
	add("lon", ncmodel.Float, []*ncmodel.Dim{dx}, txt("units", "degrees_east"), txt("bounds", "lon_bnds"))
	add("lon_bnds", ncmodel.Float, []*ncmodel.Dim{dx, nv})
	add("crs", ncmodel.Int, nil, txt("grid_mapping_name", "latitude_longitude"))
	add("sst", ncmodel.Float, []*ncmodel.Dim{dt, dy, dx}, txt("grid_mapping", "crs"), txt("ancillary_variables", "sst_err"))
	add("sst_err", ncmodel.Float, []*ncmodel.Dim{dt, dy, dx})
	add("wind", ncmodel.Float, []*ncmodel.Dim{dt, dy, dx})
	f := memfile.New(&ncmodel.File{Path: "/data/test.nc", Format: ncmodel.FormatNetCDF4, Root: root})
	f.SetData("/time", memfile.ArrayOf(ncmodel.Double, []int{3}, []float64{0, 30, 60}))
	f.SetData("/lat", memfile.ArrayOf(ncmodel.Float, []int{4}, []float32{-30, -10, 10, 30}))
	f.SetData("/lon", memfile.ArrayOf(ncmodel.Float, []int{8}, []float32{22.5, 67.5, 112.5, 157.5, 202.5, 247.5, 292.5, 337.5}))
	return f
}

func names(vs []*ncmodel.Var) string {
	var s []string
	for _, v := range vs {
		s = append(s, v.Name)
	}
	return strings.Join(s, ",")
}

func TestSelectVars(t *testing.T) {
	f := testFile().File()
	vs, err := selectVars(f, []string{"sst"})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(vs); got != "time,lat,lon,lon_bnds,crs,sst,sst_err" {
		t.Errorf("sst brings %s", got)
	}
	if _, err := selectVars(f, []string{"wind", "salt"}); err == nil || !strings.Contains(err.Error(), `variables[1]: unknown variable "salt" in test.nc; it has: time, lat, lon`) {
		t.Errorf("unknown variable: %v", err)
	}
	all, _ := selectVars(f, nil)
	if len(all) != 8 {
		t.Errorf("default keeps %d variables", len(all))
	}
}

func resolve(t *testing.T, req *Request) []regions.Resolved {
	t.Helper()
	rs, err := regions.ResolveFixed("regions", req.Regions)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestPlanSelections(t *testing.T) {
	f := testFile()
	req := &Request{
		Regions: []regions.Fixed{{Name: "wrap", BBox: []float64{-50, -20, 30, 40}}, {Name: "none", BBox: []float64{0, 80, 10, 85}}},
		Time:    &TimeRange{Start: "2000-01-30", End: "2000-02"},
		Stride:  map[string]int{"lat": 2},
	}
	p, err := plan(f, req, resolve(t, req))
	if err != nil {
		t.Fatal(err)
	}
	d := p.file.Root.Dims
	rp := p.regions[0]
	// 360_day: 2000-01-30 is day 29, February ends before day 60: only step 1 (day 30).
	if s := p.selFor(rp, d[0]); fmt.Sprint(s.runs) != "[{1 1 0}]" {
		t.Errorf("time runs %v", s.runs)
	}
	if s := p.selFor(rp, d[1]); fmt.Sprint(s.runs) != "[{1 3 0}]" || s.stride != 2 || s.outLen() != 2 {
		t.Errorf("lat runs %v stride %d", s.runs, s.stride)
	}
	// lon 337.5 (shifted to -22.5) then 22.5.
	if s := p.selFor(rp, d[2]); fmt.Sprint(s.runs) != "[{7 1 -360} {0 1 0}]" {
		t.Errorf("lon runs %v", s.runs)
	}
	if p.regions[1].empty == "" {
		t.Error("region north of the data is not empty")
	}
	bs := p.boxes(p.file.FindVar("lon_bnds"), rp)
	if len(bs) != 2 || bs[0].shift != -360 || bs[1].shift != 0 || !reflect.DeepEqual(bs[1].out, []int{1, 0}) {
		t.Errorf("lon_bnds boxes %+v", bs)
	}
}

func TestPlanErrors(t *testing.T) {
	f := testFile()
	rs := []regions.Fixed{{Name: "a", BBox: []float64{0, 0, 10, 10}}}
	tests := []struct {
		req  Request
		want string
	}{
		{Request{Regions: rs, Time: &TimeRange{Start: "2001-01-01", End: "2001-02-01"}}, "time range 2001-01-01/2001-02-01 is outside the data of test.nc (time coverage 2000-01-01T00:00:00Z..2000-03-01T00:00:00Z)"},
		{Request{Regions: rs, Time: &TimeRange{Start: "2000-02-31"}}, "2000-02-31 does not exist"},
		{Request{Regions: rs, Vertical: &VerticalRange{Min: new(float64)}}, "vertical: test.nc has no vertical axis: leave out the vertical range"},
		{Request{Regions: rs, Stride: map[string]int{"depth": 2}}, `stride.depth: test.nc has no dimension "depth": use time, lat, lon, vertical or one of its dimensions (time, lat, lon, nv)`},
	}
	for _, tc := range tests {
		_, err := plan(f, &tc.req, resolve(t, &tc.req))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

func TestGather(t *testing.T) {
	a := memfile.ArrayFunc(ncmodel.Int, []int{3, 5}, func(i []int) float64 { return float64(10*i[0] + i[1]) })
	got := gather(a, []int{1, 0}, []int{2, 3}, []int{1, 2}).Float64s()
	if fmt.Sprint(got) != "[10 12 14 20 22 24]" {
		t.Errorf("gather = %v", got)
	}
}

func TestChunkShape(t *testing.T) {
	root := &ncmodel.Group{}
	v := &ncmodel.Var{Type: ncmodel.Float, Dims: []*ncmodel.Dim{{Len: 100, Unlimited: true}, {Len: 1800}, {Len: 3600}}, Group: root}
	c := chunkShape(v, 1<<20)
	if c[0] != 1 || ncmodel.Product(c)*4 > 1<<20 || ncmodel.Product(c)*4 < 1<<18 {
		t.Errorf("chunks %v", c)
	}
	small := &ncmodel.Var{Type: ncmodel.Double, Dims: []*ncmodel.Dim{{Len: 3}, {Len: 4}}, Group: root}
	if c := chunkShape(small, 1<<20); !reflect.DeepEqual(c, []int{3, 4}) {
		t.Errorf("small chunks %v", c)
	}
}

func TestRequestValidate(t *testing.T) {
	rs := []regions.Fixed{{Name: "a", BBox: []float64{0, 0, 1, 1}}}
	nine, ten := 9, 10
	lo, hi := 10.0, 5.0
	tests := []struct {
		req  Request
		want string
	}{
		{Request{Regions: rs}, ""},
		{Request{Regions: rs, Output: Output{Deflate: &nine}}, ""},
		{Request{Regions: rs, Output: Output{Deflate: &ten}}, "output.deflate: deflate level must be 0..9"},
		{Request{Regions: rs, Output: Output{Format: "netcdf3", Deflate: &nine}}, "netcdf3 output cannot be compressed"},
		{Request{Regions: rs, Variables: []string{"a", "a"}}, `variables[1]: variable "a" is listed twice`},
		{Request{Regions: rs, Vertical: &VerticalRange{Min: &lo, Max: &hi}}, "vertical: min (10) is greater than max (5)"},
		{Request{Regions: rs, Stride: map[string]int{"time": 0}}, "stride.time: stride must be a positive integer"},
		{Request{Regions: rs, Time: &TimeRange{}}, "time: give a start, an end or both"},
		{Request{}, "regions: at least one region is needed"},
	}
	for _, tc := range tests {
		err := tc.req.Validate()
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: %v, want %q", tc.req, err, tc.want)
		}
	}
}
