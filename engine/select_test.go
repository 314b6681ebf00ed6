package engine

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/regions"
)

func TestRunVertical(t *testing.T) {
	t.Parallel()
	levels := []float64{5, 10, 20, 50, 100}
	b := newNC("/data/ocean.nc", ncmodel.FormatNetCDF4).
		dim("time", 2).dim("depth", len(levels)).dim("lat", 3).dim("lon", 4).
		v("time", ncmodel.Double, "time", func(i []int) float64 { return float64(i[0]) }, txt("units", "days since 2000-01-01")).
		v("depth", ncmodel.Float, "depth", func(i []int) float64 { return levels[i[0]] }, txt("units", "m"), txt("positive", "down")).
		v("lat", ncmodel.Float, "lat", func(i []int) float64 { return float64(i[0]) }, txt("units", "degrees_north")).
		v("lon", ncmodel.Float, "lon", func(i []int) float64 { return float64(i[0]) }, txt("units", "degrees_east")).
		v("temp", ncmodel.Float, "time depth lat lon", func(i []int) float64 { return float64(1000*i[0] + 100*i[1] + 10*i[2] + i[3]) })
	f := func(x float64) *float64 { return &x }
	tests := []struct {
		v      VerticalRange
		stride map[string]int
	}{
		{VerticalRange{Min: f(10), Max: f(50)}, nil},
		{VerticalRange{Min: f(7), Max: f(60)}, nil},
		{VerticalRange{Min: f(20)}, nil},
		{VerticalRange{Max: f(10)}, nil},
		{VerticalRange{Min: f(0), Max: f(1000)}, map[string]int{"vertical": 2}},
		{VerticalRange{Min: f(5), Max: f(100)}, map[string]int{"depth": 3}},
	}
	for _, tc := range tests {
		lo, hi := math.Inf(-1), math.Inf(1)
		if tc.v.Min != nil {
			lo = *tc.v.Min
		}
		if tc.v.Max != nil {
			hi = *tc.v.Max
		}
		t.Run(fmt.Sprintf("%v..%v %v", lo, hi, tc.stride), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			in := e.put("/data/ocean.nc", b.build())
			v := tc.v
			res := e.run(t, &Request{Regions: []regions.Fixed{bbox("a", 1, 1, 2, 2)}, Vertical: &v, Stride: tc.stride}, in)
			out := e.out(t, res.Regions[0])
			s := max(tc.stride["vertical"], tc.stride["depth"], 1)
			var ks []int
			for k, z := range levels {
				if z >= lo && z <= hi {
					ks = append(ks, k)
				}
			}
			var want []int
			for n := 0; n < len(ks); n += s {
				want = append(want, ks[n])
			}
			var wantDepth []float64
			for _, k := range want {
				wantDepth = append(wantDepth, levels[k])
			}
			if got := values(t, out, "depth"); fmt.Sprint(got) != fmt.Sprint(wantDepth) {
				t.Errorf("depth %v, want %v", got, wantDepth)
			}
			temp := values(t, out, "temp")
			n := 0
			for tt := 0; tt < 2; tt++ {
				for _, k := range want {
					for j := 1; j <= 2; j++ {
						for i := 1; i <= 2; i++ {
							if w := float64(1000*tt + 100*k + 10*j + i); temp[n] != w {
								t.Fatalf("temp[%d] = %v, want %v", n, temp[n], w)
							}
							n++
						}
					}
				}
			}
		})
	}
	e := newEnv(t)
	in := e.put("/data/ocean.nc", b.build())
	_, err := Run(t.Context(), []string{in}, &Request{Regions: lonBoxes[:1], Vertical: &VerticalRange{Min: f(200)}}, e.opt)
	if want := "vertical: range 200.. selects no level (depth 5..100 m)"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}

// TestRunParametricVertical: a vertical coordinate CF identifies by its
// standard name alone (ROMS' s_rho, ocean_s_coordinate_g2, without axis or
// positive) selects levels by value and gives the statistics their level
// axis.
func TestRunParametricVertical(t *testing.T) {
	t.Parallel()
	s := []float64{-0.9, -0.7, -0.5, -0.3, -0.1}
	temp := func(i []int) float64 { return float64(1000*i[0] + 100*i[1] + 10*i[2] + i[3]) }
	b := newNC("/data/roms.nc", ncmodel.FormatNetCDF4).
		dim("time", 2).dim("s_rho", len(s)).dim("lat", 3).dim("lon", 4).
		v("time", ncmodel.Double, "time", func(i []int) float64 { return float64(i[0]) }, txt("units", "days since 2000-01-01")).
		v("s_rho", ncmodel.Double, "s_rho", func(i []int) float64 { return s[i[0]] }, txt("standard_name", "ocean_s_coordinate_g2")).
		v("lat", ncmodel.Float, "lat", func(i []int) float64 { return float64(i[0]) }, txt("units", "degrees_north")).
		v("lon", ncmodel.Float, "lon", func(i []int) float64 { return float64(i[0]) }, txt("units", "degrees_east")).
		v("temp", ncmodel.Float, "time s_rho lat lon", temp)
	e := newEnv(t)
	in := e.put("/data/roms.nc", b.build())
	lo, hi := -0.6, -0.2
	res := e.run(t, &Request{Regions: []regions.Fixed{bbox("a", 1, 1, 2, 2)}, Vertical: &VerticalRange{Min: &lo, Max: &hi},
		Statistics: &Statistics{Ops: []string{OpMean}, Weights: WeightsNone}}, in)
	out := e.out(t, res.Regions[0])
	var ks []int
	var want []float64
	for k, z := range s {
		if z >= lo && z <= hi {
			ks, want = append(ks, k), append(want, z)
		}
	}
	if got := values(t, out, "s_rho"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("s_rho %v, want %v", got, want)
	}
	if res.Stats.Level == nil || res.Stats.Level.Name != "s_rho" || fmt.Sprint(res.Stats.Level.Values) != fmt.Sprint(want) {
		t.Fatalf("statistics level axis %+v, want s_rho %v", res.Stats.Level, want)
	}
	ms := res.Stats.Regions[0].Moments[0]
	for tt := 0; tt < 2; tt++ {
		for n, k := range ks {
			sum := 0.0
			for j := 1; j <= 2; j++ {
				for i := 1; i <= 2; i++ {
					sum += temp([]int{tt, k, j, i})
				}
			}
			if got, _ := ms[tt*len(ks)+n].Value(OpMean); got != sum/4 {
				t.Errorf("mean at time %d level %v = %v, want %v", tt, s[k], got, sum/4)
			}
		}
	}
}

func TestRunPackedLongitudeAcrossTheSeam(t *testing.T) {
	t.Parallel()
	// lon packed as short tenths of a degree, 0..360, one cell without a
	// value; lat packed with an offset.
	b := newNC("/data/packed.nc", ncmodel.FormatNetCDF4).
		dim("lat", 4).dim("lon", 36).
		v("lat", ncmodel.Short, "lat", func(i []int) float64 { return float64(i[0]) }, txt("units", "degrees_north"), num("scale_factor", ncmodel.Float, 10), num("add_offset", ncmodel.Float, -15)).
		v("lon", ncmodel.Short, "lon", func(i []int) float64 {
			if i[0] == 20 {
				return -32767
			}
			return float64(50 + 100*i[0])
		}, txt("units", "degrees_east"), num("scale_factor", ncmodel.Double, 0.1), num("_FillValue", ncmodel.Short, -32767)).
		v("sst", ncmodel.Float, "lat lon", func(i []int) float64 { return float64(100*i[0] + i[1]) })
	e := newEnv(t)
	in := e.put("/data/packed.nc", b.build())
	res := e.run(t, &Request{Regions: []regions.Fixed{bbox("a", -30, -10, 20, 10)}}, in)
	out := e.out(t, res.Regions[0])
	// Cells 33..35 (335..355°) shifted by -360° in packed units, then 0, 1
	// (5°, 15°).
	raw := values(t, out, "lon")
	want := []float64{3350 - 3600, 3450 - 3600, 3550 - 3600, 50, 150}
	if fmt.Sprint(raw) != fmt.Sprint(want) {
		t.Errorf("raw lon %v, want %v", raw, want)
	}
	// lat -15, -5, 5, 15: -5 and 5 are in.
	if lat := values(t, out, "lat"); fmt.Sprint(lat) != "[1 2]" {
		t.Errorf("raw lat %v", lat)
	}
	sst := values(t, out, "sst")
	for jj, j := range []int{1, 2} {
		for ii, i := range []int{33, 34, 35, 0, 1} {
			if got := sst[jj*5+ii]; got != float64(100*j+i) {
				t.Errorf("sst(%d, %d) = %v", jj, i, got)
			}
		}
	}
	if got := globalNum(t, out, "geospatial_lon_min"); math.Abs(got+25) > 1e-9 {
		t.Errorf("geospatial_lon_min %v, want -25", got)
	}
}

func TestSelectVarsFollowsReferences(t *testing.T) {
	t.Parallel()
	b := newNC("/data/refs.nc", ncmodel.FormatNetCDF4).
		dim("lat", 2).dim("lon", 2).dim("lev", 2).
		v("lat", ncmodel.Float, "lat", nil, txt("units", "degrees_north")).
		v("lon", ncmodel.Float, "lon", nil, txt("units", "degrees_east")).
		v("lev", ncmodel.Float, "lev", nil, txt("standard_name", "atmosphere_hybrid_sigma_pressure_coordinate"), txt("formula_terms", "a: hyam b: hybm ps: ps p0: /consts/p0")).
		v("hyam", ncmodel.Float, "lev", nil).v("hybm", ncmodel.Float, "lev", nil).v("ps", ncmodel.Float, "lat lon", nil).
		v("crs", ncmodel.Int, "", nil).v("x", ncmodel.Float, "lon", nil).v("y", ncmodel.Float, "lat", nil).
		v("unrelated", ncmodel.Int, "", nil).
		group("consts").v("p0", ncmodel.Float, "", nil).v("clim", ncmodel.Float, "", nil).
		group("/").group("data").v("ta", ncmodel.Float, "lev lat lon", nil,
		txt("grid_mapping", "crs: x y"), txt("climatology", "../consts/clim")).
		v("flag", ncmodel.Int, "lat lon", nil, txt("ancillary_variables", "nowhere ../unrelated_missing"))
	f := b.build().File()
	vs, err := selectVars(f, []string{"/data/ta"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"lat", "lon", "lev", "hyam", "hybm", "ps", "crs", "x", "y", "consts/p0", "consts/clim", "data/ta"}
	var got []string
	for _, v := range vs {
		got = append(got, strings.TrimPrefix(v.Path(), "/"))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ta brings %v, want %v", got, want)
	}
	// Names that resolve to nothing are left alone.
	if vs, err := selectVars(f, []string{"/data/flag"}); err != nil || len(vs) != 3 {
		t.Errorf("flag brings %v, %v", names(vs), err)
	}
}

func TestOSFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	os.WriteFile(a, []byte("netcdf"), 0o644)
	var fs Files = osFiles{}
	if err := fs.Rename(a, b); err != nil {
		t.Fatal(err)
	}
	r, err := fs.Open(b)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if string(got) != "netcdf" {
		t.Errorf("read %q", got)
	}
	if err := fs.Remove(b); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Open(b); !os.IsNotExist(err) {
		t.Errorf("open after remove: %v", err)
	}
}
