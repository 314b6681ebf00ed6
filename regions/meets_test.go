package regions

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/subsetd/subsetd/internal/testutil/fixtures"
)

func area(t *testing.T, js string) Area {
	t.Helper()
	a, err := ParseGeometry("g", json.RawMessage(js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return a
}

// HOSS's multipolygon example: one polygon whose second ring (Wyoming)
// lies outside its first (Colorado), sharing part of an edge.
const coloradoWyoming = `{"type":"MultiPolygon","coordinates":[[[[-109.05,41.0],[-109.05,37.0],[-102.05,37.0],[-102.05,41.0],[-109.05,41.0]],[[-111.05,45.0],[-111.05,41.0],[-104.05,41.0],[-104.05,45.0],[-111.05,45.0]]]]}`

func TestRingOutsideItsExteriorIsAnotherArea(t *testing.T) {
	a := area(t, coloradoWyoming)
	if b := a.Bounds(); b != (BBox{-111.05, 37, -102.05, 45}) {
		t.Errorf("bounds %v: the box must hold both areas", b)
	}
	for _, tc := range []struct {
		x, y float64
		want bool
	}{
		{-105, 39, true},   // Colorado
		{-108, 43, true},   // Wyoming
		{-110.5, 44, true}, // Wyoming, west of Colorado's columns
		{-103, 43, false},  // east of Wyoming, north of Colorado
		{-110, 38, false},  // west of Colorado, south of Wyoming
		{-106, 41, true},   // on the shared edge
	} {
		if got := a.Contains(tc.x, tc.y); got != tc.want {
			t.Errorf("contains (%v, %v) = %v, want %v", tc.x, tc.y, got, tc.want)
		}
	}
	// The same as the two areas written as two polygons.
	two := area(t, `{"type":"MultiPolygon","coordinates":[[[[-109.05,41.0],[-109.05,37.0],[-102.05,37.0],[-102.05,41.0],[-109.05,41.0]]],[[[-111.05,45.0],[-111.05,41.0],[-104.05,41.0],[-104.05,45.0],[-111.05,45.0]]]]}`)
	rng := rand.New(rand.NewSource(3))
	for k := 0; k < 2000; k++ {
		x, y := -112+11*rng.Float64(), 36+10*rng.Float64()
		if a.Contains(x, y) != two.Contains(x, y) {
			t.Fatalf("(%v, %v): one polygon %v, two polygons %v", x, y, a.Contains(x, y), two.Contains(x, y))
		}
	}
	// The shared file, when present, says the same.
	b, err := os.ReadFile(fixtures.RealData(t, filepath.Join("polygons", "nasa+harmony-opendap-subsetter__multipolygon.geo.json")))
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Features []struct {
			Geometry json.RawMessage `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b, &fc); err != nil || len(fc.Features) != 1 {
		t.Fatalf("multipolygon.geo.json: %v", err)
	}
	if got := area(t, string(fc.Features[0].Geometry)); got.Bounds() != a.Bounds() || !got.Contains(-110.5, 44) {
		t.Errorf("HOSS's file: bounds %v", got.Bounds())
	}
}

func TestInvalidHolesAreRefused(t *testing.T) {
	outer := `[[0,0],[10,0],[10,10],[0,10],[0,0]]`
	for _, tc := range []struct{ hole, want string }{
		{`[[5,5],[15,5],[15,8],[5,8],[5,5]]`, "g: polygon 0 ring 1 crosses its exterior ring 0"},
		{`[[-5,-5],[20,-5],[20,20],[-5,20],[-5,-5]]`, "g: polygon 0 ring 1 encloses its exterior ring 0"},
	} {
		_, err := ParseGeometry("g", json.RawMessage(`{"type":"Polygon","coordinates":[`+outer+`,`+tc.hole+`]}`))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("hole %s: %v, want %q", tc.hole, err, tc.want)
		}
	}
	// A hole touching its exterior from inside stays a hole.
	p := area(t, `{"type":"Polygon","coordinates":[`+outer+`,[[0,4],[5,4],[5,6],[0,6],[0,4]]]}`)
	if p.Contains(2, 5) || !p.Contains(2, 8) {
		t.Error("a hole touching its exterior is not a hole")
	}
}

func TestPoints(t *testing.T) {
	p := area(t, `{"type":"MultiPoint","coordinates":[[170,10],[-175,-5],[179,2]]}`)
	if _, ok := p.(*Points); !ok {
		t.Fatalf("%T", p)
	}
	// The shortest arc holding the points crosses the antimeridian.
	if b := p.Bounds(); b != (BBox{170, -5, -175, 10}) {
		t.Errorf("bounds %v", b)
	}
	if !p.Contains(530, 10) || p.Contains(170, 10.5) {
		t.Error("contains")
	}
	one := area(t, `{"type":"Feature","geometry":{"type":"Point","coordinates":[-29.99,45.01]}}`)
	if b := one.Bounds(); b != (BBox{-29.99, 45.01, -29.99, 45.01}) {
		t.Errorf("point bounds %v", b)
	}
	if pts := PointsOf(one); len(pts) != 1 || pts[0] != (orb.Point{-29.99, 45.01}) {
		t.Errorf("PointsOf %v", pts)
	}
	if pts := PointsOf(BBox{3, 4, 3, 4}); len(pts) != 1 {
		t.Error("a box whose corners coincide is a point")
	}
	if PointsOf(BBox{3, 4, 3, 5}) != nil {
		t.Error("a line is not a point")
	}
	// The cell holding the point, on 0..360 longitudes.
	cell := []orb.Point{{330, 45}, {330.25, 45}, {330.25, 45.25}, {330, 45.25}}
	if !one.Meets(cell) {
		t.Error("the cell holding the point does not meet it")
	}
	if one.Meets([]orb.Point{{330.25, 45}, {330.5, 45}, {330.5, 45.25}, {330.25, 45.25}}) {
		t.Error("the next cell meets the point")
	}
}

// rectOverlap is the analytic answer for a box and an axis-aligned cell:
// their latitude and longitude intervals (modulo 360) share a point.
func rectOverlap(b BBox, x0, x1, y0, y1 float64) bool {
	if y1 < b.South || y0 > b.North {
		return false
	}
	w, width := b.West, b.LonWidth()
	for k := -2.0; k <= 2; k++ {
		if x1+360*k >= w && x0+360*k <= w+width {
			return true
		}
	}
	return false
}

func TestBoxMeetsCells(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for k := 0; k < 5000; k++ {
		w := math.Round(rng.Float64()*720-360) / 2
		width := math.Round(rng.Float64() * 60)
		s := math.Round(rng.Float64()*80-40) / 2
		b := BBox{West: w, South: s, East: w + width, North: s + math.Round(rng.Float64()*20)}
		if b.East > 180 {
			b.East -= 360
		}
		x0 := math.Round(rng.Float64()*720-360) / 2
		y0 := math.Round(rng.Float64()*80-40) / 2
		x1, y1 := x0+math.Round(rng.Float64()*8)/2, y0+math.Round(rng.Float64()*8)/2
		cell := []orb.Point{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}
		want := rectOverlap(b, x0, x1, y0, y1)
		if got := b.Meets(cell); got != want {
			t.Fatalf("box %v meets cell [%v..%v]x[%v..%v] = %v, want %v", b, x0, x1, y0, y1, got, want)
		}
		// The same box as a polygon (a ring of its corners) says the same.
		if width > 0 && width < 180 && b.North > b.South {
			ring := fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%v,%v],[%v,%v],[%v,%v],[%v,%v],[%v,%v]]]}`,
				w, b.South, w+width, b.South, w+width, b.North, w, b.North, w, b.South)
			if got := area(t, ring).Meets(cell); got != want {
				t.Fatalf("polygon %v meets cell [%v..%v]x[%v..%v] = %v, want %v", b, x0, x1, y0, y1, got, want)
			}
		}
	}
}

func TestPolygonMeetsCells(t *testing.T) {
	tri := area(t, `{"type":"Polygon","coordinates":[[[170,0],[200,0],[170,30],[170,0]]]}`)
	for _, tc := range []struct {
		cell []orb.Point
		want bool
	}{
		{[]orb.Point{{175, 5}, {176, 5}, {176, 6}, {175, 6}}, true},                         // inside
		{[]orb.Point{{-175, 20}, {-170, 20}, {-170, 25}, {-175, 25}}, false},                // beyond the hypotenuse
		{[]orb.Point{{-172, 8}, {-168, 8}, {-168, 12}, {-172, 12}}, true},                   // across the hypotenuse, east of 180
		{[]orb.Point{{160, -10}, {210, -10}, {210, 40}, {160, 40}}, true},                   // the triangle inside the cell
		{[]orb.Point{{165, 10}, {170, 10}, {170, 12}, {165, 12}}, true},                     // touching its west edge
		{[]orb.Point{{100, 10}, {101, 10}, {101, 12}, {100, 12}}, false},                    // far
		{[]orb.Point{{168, -5}, {172, 5}}, true},                                            // a track segment crossing in
		{[]orb.Point{{165, -5}, {168, 5}}, false},                                           // a segment outside
		{[]orb.Point{{175 + 360, 5}, {176 + 360, 5}, {176 + 360, 6}, {175 + 360, 6}}, true}, // another convention
	} {
		if got := tri.Meets(tc.cell); got != tc.want {
			t.Errorf("triangle meets %v = %v, want %v", tc.cell, got, tc.want)
		}
	}
}

func TestCoverRuns(t *testing.T) {
	mark := func(n int, idx ...int) []bool {
		m := make([]bool, n)
		for _, i := range idx {
			m[i] = true
		}
		return m
	}
	for _, tc := range []struct {
		marked   []bool
		periodic bool
		want     string
	}{
		{mark(10), false, "[]"},
		{mark(10, 3, 5), false, "[{3 3 0}]"},
		{mark(10, 0, 9), false, "[{0 10 0}]"},
		{mark(10, 0, 9), true, "[{9 1 0} {0 1 0}]"},
		{mark(10, 0, 1, 8, 9), true, "[{8 2 0} {0 2 0}]"},
		{mark(10, 2, 3, 5), true, "[{2 4 0}]"},
		{mark(10, 0, 4, 8), true, "[{4 6 0} {0 1 0}]"}, // of two equal gaps, the first
		{mark(4, 0, 1, 2, 3), true, "[{0 4 0}]"},
	} {
		if got := fmt.Sprint(CoverRuns(tc.marked, tc.periodic)); got != tc.want && !(got == "[]" && tc.want == "[]") {
			t.Errorf("CoverRuns(%v, %v) = %s, want %s", tc.marked, tc.periodic, got, tc.want)
		}
	}
}

func TestIsPeriodic(t *testing.T) {
	for _, tc := range []struct {
		lons []float64
		want bool
	}{
		{axis(0.125, 0.25, 1440), true},
		{axis(-275, 10, 36), true},
		{axis(175, -10, 36), true},                              // descending
		{axis(-30, 1, 61), false},                               // regional
		{axis(0, 1, 359), false},                                // one cell short of the globe
		{append(axis(73, 1, 300), axis(13, 1, 60)...), true},    // a row already rolled
		{axis(-1, 1, 362), true},                                // two halo columns (NEMO ORCA)
		{axis(0, 1, 370), false},                                // more than once round
		{axis(0, 0.9, 380), false},                              // a full-orbit track short of the globe plus a drift
		{append(axis(0, 1, 180), axis(179, -1, 180)...), false}, // there and back
		{withNaN(axis(0, 1, 360), 0), true},                     // a fill at either end
		{withNaN(axis(0, 1, 360), 359), true},                   //
		{withNaN(axis(0, 1, 360), 0, 1, 180, 358, 359), true},   //
		{withNaN(axis(0, 1, 359), 358), false},                  // still one cell short
		{withNaN(axis(0, 1, 360), 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36), false}, // more than a tenth missing
	} {
		if got := IsPeriodic(tc.lons); got != tc.want {
			t.Errorf("IsPeriodic(%v..%v, %d values) = %v, want %v", tc.lons[0], tc.lons[len(tc.lons)-1], len(tc.lons), got, tc.want)
		}
	}
}
