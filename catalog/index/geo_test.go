package index

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/planar"

	"github.com/subsetd/subsetd/regions"
)

func TestLonRange(t *testing.T) {
	seq := func(a, b, step float64) []float64 {
		var out []float64
		for x := a; x <= b+1e-9; x += step {
			out = append(out, x)
		}
		return out
	}
	cases := []struct {
		name string
		lons []float64
		w, e float64
	}{
		{"plain", []float64{10, 20, 15}, 10, 20},
		{"negative", []float64{-30, -10}, -30, -10},
		{"crossing -180..180", []float64{170, 175, -175, -170}, 170, -170},
		{"crossing 0..360", []float64{170, 185, 190}, 170, -170},
		{"0..360 east half", []float64{200, 250}, -160, -110},
		{"global 0..360", seq(0, 359, 1), -180, 179},
		{"global -180..180", seq(-180, 179, 1), -180, 179},
		{"up to 180", []float64{170, 180}, 170, 180},
		{"beyond 360", []float64{350, 370}, -10, 10},
		{"point", []float64{42}, 42, 42},
	}
	for _, c := range cases {
		var r lonRange
		for _, x := range c.lons {
			r.add(x)
		}
		w, e, ok := r.box()
		if !ok || math.Abs(w-c.w) > 1e-9 || math.Abs(e-c.e) > 1e-9 {
			t.Errorf("%s: got %v..%v, want %v..%v", c.name, w, e, c.w, c.e)
		}
	}
	var r lonRange
	if _, _, ok := r.box(); ok {
		t.Error("empty range has a box")
	}
}

// grid2D makes a curvilinear grid: f maps (row, column) to (lon, lat).
func grid2D(ny, nx int, f func(i, j int) (float64, float64)) GridCoords {
	g := GridCoords{Kind: "curvilinear", Shape: []int{ny, nx}, Lat: make([]float64, ny*nx), Lon: make([]float64, ny*nx)}
	for i := 0; i < ny; i++ {
		for j := 0; j < nx; j++ {
			g.Lon[i*nx+j], g.Lat[i*nx+j] = f(i, j)
		}
	}
	return g
}

// checkCovered asserts that every valid cell centre lies in the footprint
// or within its tolerance.
func checkCovered(t *testing.T, g GridCoords, geo *Geo) {
	t.Helper()
	sh := newShape(geo.Footprint, geo.Tolerance)
	for k := range g.Lat {
		if !validLat(g.Lat[k]) || !validLon(g.Lon[k]) {
			continue
		}
		q := querySpans(regions.BBox{West: g.Lon[k], South: g.Lat[k], East: g.Lon[k], North: g.Lat[k]})
		if !sh.intersects(q, g.Lat[k], g.Lat[k]) {
			t.Fatalf("cell centre (%v, %v) is outside the footprint %v (tolerance %v)", g.Lon[k], g.Lat[k], geo.Footprint, geo.Tolerance)
		}
	}
}

func TestFootprintOrder(t *testing.T) {
	// 3 rows x 4 columns, lon = 10*j, lat = -i: the outline is the first
	// row, the last column, the last row reversed, the first column up.
	g := grid2D(3, 4, func(i, j int) (float64, float64) { return float64(10 * j), float64(-i) })
	geo := GeoOf([]GridCoords{g})
	want := [][2]float64{{0, 0}, {10, 0}, {20, 0}, {30, 0}, {30, -1}, {30, -2}, {20, -2}, {10, -2}, {0, -2}, {0, -1}}
	if len(geo.Footprint) != 1 || !reflect.DeepEqual(geo.Footprint[0], want) {
		t.Fatalf("ring %v, want %v", geo.Footprint, want)
	}
	if !reflect.DeepEqual(geo.BBox, []float64{0, -2, 30, 0}) || geo.Tolerance != 0 {
		t.Errorf("bbox %v tolerance %v", geo.BBox, geo.Tolerance)
	}
}

func TestFootprintSubsampled(t *testing.T) {
	// A curved swath: 200 x 120 points whose edges bow outwards, so that a
	// subsampled outline cuts corners: the tolerance must cover them.
	g := grid2D(200, 120, func(i, j int) (float64, float64) {
		u, v := float64(j)/119-0.5, float64(i)/199
		return 20 + 30*u + 8*math.Sin(math.Pi*v), -40 + 50*v + 3*math.Cos(math.Pi*u)
	})
	geo := GeoOf([]GridCoords{g})
	if geo == nil || len(geo.Footprint) != 1 {
		t.Fatalf("no footprint: %+v", geo)
	}
	if n := len(geo.Footprint[0]); n > maxRing+4 || n < 50 {
		t.Errorf("ring of %d points", n)
	}
	if geo.Tolerance <= 0 || geo.Tolerance > 0.5 {
		t.Errorf("tolerance %v", geo.Tolerance)
	}
	checkCovered(t, g, geo)
	// A box well outside the swath but inside its bbox is not hit.
	sh := newShape(geo.Footprint, geo.Tolerance)
	if sh.intersects(querySpans(regions.BBox{West: 41, South: -39, East: 42, North: -38}), -39, -38) {
		t.Error("a box in the bbox corner, away from the swath, intersects the footprint")
	}
}

func TestFootprintAntimeridian(t *testing.T) {
	// Longitudes wrap from 180 to -180 inside the grid (as -180..180 data
	// does): the ring is unwrapped, the box crosses.
	g := grid2D(30, 40, func(i, j int) (float64, float64) {
		return norm180(160 + float64(j) + 0.3*float64(i)), 10 + float64(i)*0.5
	})
	geo := GeoOf([]GridCoords{g})
	if geo.BBox[0] < geo.BBox[2] || math.Abs(geo.BBox[0]-160) > 1e-9 {
		t.Errorf("bbox %v, want one crossing the antimeridian from 160", geo.BBox)
	}
	ring := geo.Footprint[0]
	for i := range ring {
		if d := math.Abs(ring[i][0] - ring[(i+1)%len(ring)][0]); d > 180 {
			t.Fatalf("ring jumps by %v at %d: %v", d, i, ring)
		}
	}
	checkCovered(t, g, geo)
	sh := newShape(geo.Footprint, geo.Tolerance)
	if !sh.intersects(querySpans(regions.BBox{West: -175, South: 12, East: -174, North: 13}), 12, 13) {
		t.Error("box east of the antimeridian misses")
	}
	if !sh.intersects(querySpans(regions.BBox{West: 185, South: 12, East: 186, North: 13}), 12, 13) {
		t.Error("same box in 0..360 misses")
	}
}

func TestFootprintPolar(t *testing.T) {
	// A polar stereographic grid centred on the north pole: its outline
	// goes once around the pole and is closed along it.
	g := grid2D(41, 41, func(i, j int) (float64, float64) {
		x, y := float64(j-20)/20, float64(i-20)/20
		return math.Atan2(y, x) * 180 / math.Pi, 90 - 25*math.Hypot(x, y)
	})
	geo := GeoOf([]GridCoords{g})
	if w := (regions.BBox{West: geo.BBox[0], East: geo.BBox[2]}).LonWidth(); w < 355 || geo.BBox[3] != 90 {
		t.Errorf("bbox %v, want (almost) every longitude up to the pole", geo.BBox)
	}
	ring := geo.Footprint[0]
	if last := ring[len(ring)-1]; last[1] != 90 {
		t.Errorf("ring not closed along the pole: %v", ring)
	}
	checkCovered(t, g, geo)
	sh := newShape(geo.Footprint, geo.Tolerance)
	for _, b := range []regions.BBox{{West: 100, South: 89, East: 101, North: 90}, {West: -60, South: 70, East: -59, North: 71}, {West: 170, South: 66, East: -170, North: 67}} {
		if !sh.intersects(querySpans(b), b.South, b.North) {
			t.Errorf("%v misses the polar footprint %v", b, ring)
		}
	}
	// The corners of the square reach 90-25*sqrt(2) ≈ 54.6 at ±45°, ±135°;
	// between them (at 0°) the edge is at 65.
	if sh.intersects(querySpans(regions.BBox{West: -1, South: 58, East: 1, North: 60}), 58, 60) {
		t.Error("box beyond the edge of the square intersects")
	}

	// A band all around the pole whose columns do not close (0..355): the
	// outline goes there and back and needs no closing.
	band := grid2D(10, 72, func(i, j int) (float64, float64) { return float64(5 * j), 70 + 2*float64(i) })
	geo = GeoOf([]GridCoords{band})
	if r := geo.Footprint[0]; r[len(r)-1][1] == 90 {
		t.Errorf("band closed along the pole: %v", r)
	}
	checkCovered(t, band, geo)
}

func TestFootprintMissing(t *testing.T) {
	// Fill along the edges (first two rows, last column, a corner): the
	// outline follows the valid points.
	g := grid2D(20, 30, func(i, j int) (float64, float64) {
		if i < 2 || j == 29 || (i > 15 && j < 4) {
			return math.NaN(), math.NaN()
		}
		return float64(j) + 0.2*float64(i), float64(i)
	})
	geo := GeoOf([]GridCoords{g})
	for _, p := range geo.Footprint[0] {
		if math.IsNaN(p[0]) || math.IsNaN(p[1]) {
			t.Fatalf("NaN in ring %v", geo.Footprint[0])
		}
	}
	if geo.BBox[1] != 2 {
		t.Errorf("bbox %v: rows 0 and 1 are missing", geo.BBox)
	}
	checkCovered(t, g, geo)
	// All missing: no geo.
	nan := grid2D(3, 3, func(i, j int) (float64, float64) { return math.NaN(), math.NaN() })
	if GeoOf([]GridCoords{nan}) != nil {
		t.Error("geo for a grid of fill values")
	}
}

func TestGeoKinds(t *testing.T) {
	rect := GridCoords{Kind: "rectilinear", Lat: []float64{-10, 0, 10}, Lon: []float64{350, 355, 0, 5}}
	geo := GeoOf([]GridCoords{rect})
	if !reflect.DeepEqual(geo.BBox, []float64{-10, -10, 5, 10}) || geo.Footprint != nil {
		t.Errorf("rectilinear: %+v", geo)
	}
	track := GridCoords{Kind: "track", Lat: []float64{1, 2, math.NaN(), 4}, Lon: []float64{179, -179, 0, -178}}
	geo = GeoOf([]GridCoords{track})
	if !reflect.DeepEqual(geo.BBox, []float64{179, 1, -178, 4}) || geo.Footprint != nil {
		t.Errorf("track: %+v", geo)
	}
	// A 2-D grid with a 1-D one: a box, no footprint.
	curv := grid2D(2, 2, func(i, j int) (float64, float64) { return float64(j), float64(i) })
	geo = GeoOf([]GridCoords{curv, rect})
	if geo.Footprint != nil || !reflect.DeepEqual(geo.BBox, []float64{-10, -10, 5, 10}) {
		t.Errorf("mixed: %+v", geo)
	}
	if GeoOf(nil) != nil {
		t.Error("geo without grids")
	}
}

func TestQuerySpans(t *testing.T) {
	cases := []struct {
		b    regions.BBox
		want []span
	}{
		{regions.BBox{West: 10, East: 20}, []span{{10, 20}}},
		{regions.BBox{West: 170, East: -170}, []span{{170, 180}, {-180, -170}}},
		{regions.BBox{West: 170, East: 190}, []span{{170, 180}, {-180, -170}}},
		{regions.BBox{West: 0, East: 360}, []span{{-180, 180}}},
		{regions.BBox{West: -180, East: 180}, []span{{-180, 180}}},
		{regions.BBox{West: 200, East: 250}, []span{{-160, -110}}},
		{regions.BBox{West: 170, East: 180}, []span{{170, 180}, {-180, -180}}},
		{regions.BBox{West: -180, East: -170}, []span{{-180, -170}, {180, 180}}},
		{regions.BBox{West: 5, East: 5}, []span{{5, 5}}},
	}
	for _, c := range cases {
		if got := querySpans(c.b); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v: %v, want %v", c.b, got, c.want)
		}
	}
}

// TestRingRectOracle compares the polygon-box test with orb's clipper on
// random star-shaped polygons and boxes.
func TestRingRectOracle(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	hits := 0
	for n := 0; n < 20000; n++ {
		cx, cy := rng.Float64()*10-5, rng.Float64()*10-5
		k := 3 + rng.IntN(12)
		var ring [][2]float64
		var op orb.Ring
		for i := 0; i < k; i++ {
			a := 2 * math.Pi * (float64(i) + rng.Float64()*0.8) / float64(k)
			r := 1 + rng.Float64()*8
			p := [2]float64{cx + r*math.Cos(a), cy + r*math.Sin(a)}
			ring = append(ring, p)
			op = append(op, orb.Point(p))
		}
		op = append(op, op[0])
		x0, y0 := rng.Float64()*40-25, rng.Float64()*40-25
		r := rect{x0, y0, x0 + rng.Float64()*15, y0 + rng.Float64()*15}
		if n%10 == 0 { // some degenerate boxes: points and lines
			r.x1 = r.x0
		}
		got := ringIntersectsRect(ring, r)
		// Sutherland–Hodgman leaves zero-area slivers along the box for
		// polygons that miss it: intersecting means a positive area
		// (touching has probability 0 with random coordinates).
		want := planar.Area(clip.Polygon(orb.Bound{Min: orb.Point{r.x0, r.y0}, Max: orb.Point{r.x1, r.y1}}, orb.Polygon{op})) > 1e-12
		if r.x0 == r.x1 {
			// The clipper drops zero-area results: check a point box by
			// containment and segments instead.
			want = got
			if inRing(ring, r.x0, (r.y0+r.y1)/2) && !got {
				t.Fatalf("vertical line %v inside %v missed", r, ring)
			}
		}
		if got != want {
			t.Fatalf("ring %v rect %v: got %v, clipper says %v", ring, r, got, want)
		}
		if got {
			hits++
		}
	}
	if hits < 2000 || hits > 18000 {
		t.Errorf("only %d intersections of 20000: the test is not testing", hits)
	}
}

func TestSegRect(t *testing.T) {
	r := rect{0, 0, 10, 10}
	cases := []struct {
		x1, y1, x2, y2 float64
		want           bool
	}{
		{-5, 5, 15, 5, true},     // through
		{2, 2, 3, 3, true},       // inside
		{-5, -5, -1, 20, false},  // left of it
		{-5, 0, 0, 5, true},      // ends on the left edge
		{-1, 10, 1, 12, false},   // passes above the corner (0, 10)
		{-1, 9, 1, 11, true},     // cuts the corner
		{10, 10, 20, 20, true},   // starts at the corner
		{11, -1, 20, 5, false},   // right of it
		{-10, 21, 21, -10, true}, // diagonal through
		{3, 3, 3, 3, true},       // a point inside
		{3, 11, 3, 11, false},    // a point outside
	}
	for i, c := range cases {
		if got := segRect(c.x1, c.y1, c.x2, c.y2, r); got != c.want {
			t.Errorf("segment %d %v: got %v", i, c, got)
		}
		if got := segRect(c.x2, c.y2, c.x1, c.y1, r); got != c.want {
			t.Errorf("segment %d reversed %v: got %v", i, c, got)
		}
	}
}
