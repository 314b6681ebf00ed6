package engine

import (
	"fmt"
	"math"
	"testing"

	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/regions"
)

func TestConvertAttr(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a    ncmodel.Attr
		to   ncmodel.Type
		want string // "" when not exact
	}{
		{num("f", ncmodel.Double, math.NaN()), ncmodel.Float, "float [NaN]"},
		{num("f", ncmodel.Double, -999), ncmodel.Short, "short [-999]"},
		{num("f", ncmodel.Short, 127), ncmodel.Byte, "byte [127]"},
		{num("f", ncmodel.Double, 1e20), ncmodel.Float, ""},
		{num("f", ncmodel.Double, math.NaN()), ncmodel.Short, ""},
		{num("f", ncmodel.Double, 1e20), ncmodel.Short, ""},
		{num("f", ncmodel.Double, 0.5), ncmodel.Int, ""},
		{num("f", ncmodel.Int, 200), ncmodel.Byte, ""},
		{num("f", ncmodel.Int, -1), ncmodel.UByte, ""},
		{num("f", ncmodel.Double, 0.1), ncmodel.Float, ""},
		{num("f", ncmodel.Double, 0.25, 4), ncmodel.Float, "float [0.25 4]"},
		{txt("f", "x"), ncmodel.Float, ""},
	} {
		got := ""
		if c, ok := convertAttr(tc.a, tc.to); ok {
			got = fmt.Sprintf("%s %v", c.Type, c.Float64s())
		}
		if got != tc.want {
			t.Errorf("%s %v -> %s: %q, want %q", tc.a.Type, tc.a.Value, tc.to, got, tc.want)
		}
	}
}

// TestRunMasksKeepTypesAndFlags: masked cells get each variable's own fill
// in its own type, a fill of another type converted when exact; flags
// without a fill are not masked.
func TestRunMasksKeepTypesAndFlags(t *testing.T) {
	t.Parallel()
	at := func(i []int) float64 { return float64((i[1] + i[2]) % 5) }
	b := maskFile("/data/flags.nc").
		v("flag_fill", ncmodel.Byte, "time lat lon", at, num("flag_values", ncmodel.Byte, 0, 1, 2, 3, 4), num("_FillValue", ncmodel.Short, 127)).
		v("flags", ncmodel.Byte, "time lat lon", at, num("flag_masks", ncmodel.Byte, 1, 2, 4)).
		v("dbl", ncmodel.Float, "time lat lon", at, num("_FillValue", ncmodel.Double, math.NaN()))
	e := newEnv(t)
	in := e.put("/data/flags.nc", b.build())
	tri := polygon("tri", [2]float64{-50, -50}, [2]float64{50, -50}, [2]float64{-50, 50}, [2]float64{-50, -50})
	res := e.run(t, &Request{Regions: []regions.Fixed{tri}}, in)
	out := e.out(t, res.Regions[0])
	for name, want := range map[string]string{"flag_fill": "byte [127]", "dbl": "float [NaN]", "flags": "none"} {
		v := out.File().FindVar(name)
		got := "none"
		if a, ok := v.Attr("_FillValue"); ok {
			got = fmt.Sprintf("%s %v", a.Type, a.Float64s())
		}
		if got != want || v.Type != b.f.FindVar(name).Type {
			t.Errorf("%s (%s): _FillValue %s, want %s", name, v.Type, got, want)
		}
	}
	lat, lon := values(t, out, "lat"), values(t, out, "lon")
	ff, fl, db := values(t, out, "flag_fill"), values(t, out, "flags"), values(t, out, "dbl")
	outside := 0
	for k := range ff {
		j, i := k/len(lon)%len(lat), k%len(lon)
		y, x := lat[j], lon[i]
		jj, ii := indexOf(maskGrid.nlat, maskGrid.lat, y, false), indexOf(maskGrid.nlon, maskGrid.lon, x, true)
		want := at([]int{0, jj, ii})
		if fl[k] != want {
			t.Errorf("flags at %v,%v = %v, want %v (never masked)", x, y, fl[k], want)
		}
		in := x+y <= 0 // the triangle's hypotenuse runs from (50, -50) to (-50, 50)
		if !in {
			outside++
			if ff[k] != 127 || !math.IsNaN(db[k]) {
				t.Errorf("outside at %v,%v: flag_fill %v dbl %v, want 127 and NaN", x, y, ff[k], db[k])
			}
		} else if ff[k] != want || db[k] != want {
			t.Errorf("inside at %v,%v: flag_fill %v dbl %v, want %v", x, y, ff[k], db[k], want)
		}
	}
	if outside == 0 {
		t.Error("no cell outside the triangle")
	}
}
