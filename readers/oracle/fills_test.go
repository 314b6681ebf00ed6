package oracle

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/ncmodel/nccompare"
	"github.com/subsetd/subsetd/regions"
)

// fillTypesValue is fill_types.cdl's formula (its header), raw.
func fillTypesValue(name string, t, j, i int) float64 {
	b := float64(t*1000 + j*100 + i)
	at := func(cells ...[3]int) bool {
		for _, c := range cells {
			if c == [3]int{t, j, i} {
				return true
			}
		}
		return false
	}
	switch name {
	case "nan_dbl":
		if at([3]int{0, 2, 3}, [3]int{1, 4, 6}) {
			return math.NaN()
		}
	case "dbl_fill":
		if at([3]int{0, 1, 1}, [3]int{1, 3, 2}) {
			return -999
		}
	case "flag_fill":
		if at([3]int{0, 0, 0}, [3]int{1, 5, 7}) {
			return 127
		}
		return float64((j + i) % 5)
	case "flags_nofill":
		return float64((t + j + i) % 16)
	}
	return b
}

// TestFillValueTypes: a _FillValue of another type than its variable
// (netCDF-3 allows it, NetCDF-4 refuses it) is written in the variable's
// type when exact and left out otherwise, with a line in the history; the
// values are ncks's, and masks use each variable's own fill in its own type.
func TestFillValueTypes(t *testing.T) {
	needNCO(t)
	in := fixture(t, "fill_types")
	// The fixture does hold the mismatches (ncatted wrote them).
	for name, typ := range map[string]ncmodel.Type{"nan_dbl": ncmodel.Double, "dbl_fill": ncmodel.Double, "flag_fill": ncmodel.Short} {
		if a, _ := openT(t, in).File().FindVar(name).Attr("_FillValue"); a.Type != typ {
			t.Fatalf("fixture: %s:_FillValue is %s, want %s", name, a.Type, typ)
		}
	}
	wantFill := map[string]string{ // type and value of the output's _FillValue
		"nan_dbl": "float NaN", "dbl_fill": "short -999", "nan_on_short": "", "big_fill": "", "flag_fill": "byte 127", "flags_nofill": "",
	}
	for _, format := range []string{engine.FormatNetCDF4, engine.FormatNetCDF3} {
		t.Run(format, func(t *testing.T) {
			req := bboxReq("r", 20, -10, 60, 20) // lat -5..15 (j 2..4), lon 25..55 (i 2..5)
			req.Output.Format = format
			out, res := cut(t, in, req)
			r := res.Regions[0]
			if r.Status != engine.StatusSuccessful {
				t.Fatalf("%+v", r)
			}
			ours := openT(t, r.Files[0].Path)
			for name, want := range wantFill {
				got := ""
				if a, ok := ours.File().FindVar(name).Attr("_FillValue"); ok {
					got = fmt.Sprintf("%s %v", a.Type, a.Float64s()[0])
				}
				if got != want {
					t.Errorf("%s:_FillValue = %q, want %q", name, got, want)
				}
			}
			hist, _ := ours.File().Root.Attr("history")
			for _, want := range []string{"/nan_on_short: _FillValue NaN (double) left out: a short variable cannot hold it", "/big_fill: _FillValue 1e+20 (double) left out"} {
				if !strings.Contains(hist.Text(), want) {
					t.Errorf("history %q lacks %q", hist.Text(), want)
				}
			}
			ncksFormat := "-4"
			if format == engine.FormatNetCDF3 {
				ncksFormat = "-6"
			}
			want := ncks(t, in, ncksFormat, "-d", "lat,2,4", "-d", "lon,2,5")
			compare(t, r.Files[0].Path, want, nccompare.Options{IgnoreVarAttrs: map[string]bool{"_FillValue": true}})
			_ = out
		})
	}

	// A triangle masks the cells above its hypotenuse.
	ring := [][2]float64{{0, -30}, {80, -30}, {0, 32}}
	inside := func(lon, lat float64) bool { return pip(ring, lon, lat) }
	req := &engine.Request{Regions: []regions.Fixed{{Name: "tri", Geometry: ringJSON(ring)}}}
	_, res := cut(t, in, req)
	r := res.Regions[0]
	if r.Status != engine.StatusSuccessful {
		t.Fatalf("%+v", r)
	}
	ours := openT(t, r.Files[0].Path)
	f := ours.File()
	if got := fmt.Sprint(f.FindVar("nan_on_short").Attr("_FillValue")); !strings.Contains(got, "short") {
		t.Errorf("nan_on_short:_FillValue %s, want netCDF's short default declared", got)
	}
	fillOf := map[string]float64{"nan_dbl": math.NaN(), "dbl_fill": -999, "nan_on_short": -32767, "big_fill": -32767, "flag_fill": 127}
	// The output is the smallest box holding the inside cells: its
	// coordinates say which input cells it holds (lat = -25 + 10j, lon = 5 + 10i).
	_, olat := coordValues(t, ours, "lat")
	_, olon := coordValues(t, ours, "lon")
	masked := 0
	for _, name := range []string{"nan_dbl", "dbl_fill", "nan_on_short", "big_fill", "flag_fill", "flags_nofill"} {
		v := f.FindVar(name)
		if in := openT(t, in).File().FindVar(name); v.Type != in.Type {
			t.Errorf("%s is %s, was %s", name, v.Type, in.Type)
		}
		a, err := ours.Read(v, []int{0, 0, 0}, v.Shape(), nil)
		if err != nil {
			t.Fatal(err)
		}
		ny, nx := len(olat), len(olon)
		for k := 0; k < a.Len(); k++ {
			ti, jj, ii := k/(ny*nx), k/nx%ny, k%nx
			j, i := int(math.Round((olat[jj]+25)/10)), int(math.Round((olon[ii]-5)/10))
			want := fillTypesValue(name, ti, j, i)
			fill, isMasked := fillOf[name]
			if isMasked && !inside(float64(5+10*i), float64(-25+10*j)) {
				want = fill
				masked++
			}
			if got := a.Float64(k); got != want && !(math.IsNaN(got) && math.IsNaN(want)) {
				t.Errorf("%s[%d,%d,%d] = %v, want %v", name, ti, j, i, got, want)
			}
		}
	}
	if masked == 0 {
		t.Error("no cell is outside the triangle: the test checks nothing")
	}
}
