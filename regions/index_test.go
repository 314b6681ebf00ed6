package regions

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

func axis(start, step float64, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = start + float64(i)*step
	}
	return v
}

func box(t *testing.T, w, s, e, n float64) BBox {
	t.Helper()
	b, err := NewBBox("bbox", w, s, e, n)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lonRuns composes the pieces as the engine does for a box on a 1-D
// longitude axis: the centres inside the span, the smallest (periodic)
// range holding them, the shifts.
func lonRuns(vals []float64, b BBox, tol float64) []Run {
	width := b.LonWidth()
	marked := make([]bool, len(vals))
	for i, v := range vals {
		marked[i] = b.East-b.West >= 360 || width >= 360 || InLon(v, b.West, width, tol)
	}
	return ShiftRuns(vals, CoverRuns(marked, IsPeriodic(vals)), b.West, tol)
}

// withNaN returns vals with NaN at the given indices.
func withNaN(vals []float64, idx ...int) []float64 {
	out := append([]float64(nil), vals...)
	for _, i := range idx {
		out[i] = math.NaN()
	}
	return out
}

// values lists the output longitudes the runs give.
func values(lon []float64, runs []Run) []float64 {
	var out []float64
	for _, r := range runs {
		for i := r.Start; i < r.Start+r.Count; i++ {
			out = append(out, lon[i]+r.Shift)
		}
	}
	return out
}

func TestLonRuns(t *testing.T) {
	lon180 := axis(-175, 10, 36) // -175..175
	lon360 := axis(5, 10, 36)    // 5..355
	lonOdd := axis(-275, 10, 36) // -275..75
	tests := []struct {
		name string
		lon  []float64
		w, e float64
		want string
	}{
		{"inside", lon180, -30, 30, "[-25 -15 -5 5 15 25]"},
		{"edges inclusive", lon180, -25, 25, "[-25 -15 -5 5 15 25]"},
		{"crossing antimeridian on -180..180", lon180, 160, -160, "[165 175 185 195]"},
		{"0..360 data, -180 request", lon360, -30, 30, "[-25 -15 -5 5 15 25]"},
		{"0..360 data, 360 request", lon360, 330, 30, "[335 345 355 365 375 385]"},
		{"0..360 data, box in west", lon360, -100, -80, "[265 275]"},
		{"-280..80 data crossing its seam", lonOdd, 60, 100, "[65 75 85 95]"},
		{"whole globe keeps data order", lon360, -180, 180, fmt.Sprint(lon360)},
		{"one cell", lon180, 4, 6, "[5]"},
		{"box between centres", lon180, 6, 14, "[]"},
		{"past 180 request on -180..180", lon180, 170, 200, "[175 185 195]"},
		// Fill cells of a damaged axis are never selected but do not break
		// the range of the valid cells around them.
		{"fill inside the box", withNaN(lon360, 3), 10, 60, "[15 25 NaN 45 55]"},
		{"fill at the end, box across the seam", withNaN(lon360, 35), 330, 30, "[335 345 NaN 365 375 385]"},
		{"fill at the start, box across the seam", withNaN(lon360, 0), 330, 30, "[335 345 355 NaN 375 385]"},
		{"fills at both ends and inside", withNaN(lon360, 0, 17, 35), -30, 30, "[-25 -15 NaN NaN 15 25]"},
		{"fill at the box's edge", withNaN(lon360, 5), 10, 60, "[15 25 35 45]"},
		{"fill on -180..180 across the antimeridian", withNaN(lon180, 35), 160, -160, "[165 NaN 185 195]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := values(tc.lon, lonRuns(tc.lon, box(t, tc.w, -10, tc.e, 10), 1e-9))
			if fmt.Sprint(got) != tc.want && !(len(got) == 0 && tc.want == "[]") {
				t.Errorf("lonRuns(%v..%v) = %v, want %v", tc.w, tc.e, got, tc.want)
			}
		})
	}
}

func TestLatRange(t *testing.T) {
	asc := axis(-85, 10, 18)
	desc := axis(85, -10, 18)
	if r, ok := LatRange(asc, -20, 20, 1e-9); !ok || r.Start != 7 || r.Count != 4 {
		t.Errorf("ascending: %+v %v", r, ok)
	}
	if r, ok := LatRange(desc, -20, 20, 1e-9); !ok || r.Start != 7 || r.Count != 4 || desc[r.Start] != 15 {
		t.Errorf("descending: %+v %v", r, ok)
	}
	if _, ok := LatRange(asc, 86, 90, 1e-9); ok {
		t.Error("box north of the data selected something")
	}
	if r, ok := LatRange(asc, 5, 5, 1e-9); !ok || r.Count != 1 {
		t.Errorf("edge-inclusive single centre: %+v %v", r, ok)
	}
	if r, ok := LatRange([]float64{4.99999, 5.00001}, 5, 5, 1e-5); !ok || r.Count != 2 {
		t.Errorf("float32 tolerance: %+v %v", r, ok)
	}
}

func TestNewBBoxErrors(t *testing.T) {
	nan := func() float64 { var z float64; return z / z }()
	tests := []struct {
		v    [4]float64
		want string
	}{
		{[4]float64{0, -91, 10, 10}, "latitude outside [-90, 90]"},
		{[4]float64{0, 10, 10, 95}, "latitude outside [-90, 90]"},
		{[4]float64{0, 20, 10, 10}, "south (20) is greater than north (10)"},
		{[4]float64{nan, 0, 10, 10}, "bbox west is NaN"},
		{[4]float64{0, 0, 1e400 * 0, 10}, ""},
		{[4]float64{0, 0, 800, 10}, "longitude outside [-720, 720]"},
	}
	for _, tc := range tests {
		_, err := NewBBox("regions[0].bbox", tc.v[0], tc.v[1], tc.v[2], tc.v[3])
		if tc.want == "" {
			if err != nil {
				t.Errorf("%v: %v", tc.v, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "regions[0].bbox: ") {
			t.Errorf("%v: error %v, want %q", tc.v, err, tc.want)
		}
	}
}

func FuzzParseRegionFlag(f *testing.F) {
	for _, s := range []string{"a=1,2,3,4", "b=-10,-5,10,5", "x=170,0,-170,10", "=1,2,3,4", "a=nan,0,1,1", "a=1,2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRegionFlag(s)
		if err != nil {
			return
		}
		b, err := r.Box("x")
		if err != nil {
			t.Fatalf("parsed %q but its box is invalid: %v", s, err)
		}
		if b.South > b.North {
			t.Fatalf("%q: south > north accepted", s)
		}
		_ = lonRuns(axis(-179, 2, 180), b, 1e-9)
	})
}
