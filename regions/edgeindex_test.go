package regions

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
)

// The polygon tests as they were before the edge index: edges copied into
// every latitude band they cross, each test scanning its band(s). The index
// must give the same answers.

type bandedPart struct {
	rings      [][]orb.Point
	minX, maxX float64
	minY, maxY float64
	bandH      float64
	bands      [][]edge
}

func banded(p *Polygon) []bandedPart {
	var out []bandedPart
	for _, q := range p.parts {
		pt := bandedPart{rings: q.rings, minX: q.minX, maxX: q.maxX, minY: q.minY, maxY: q.maxY}
		n := 0
		for _, r := range pt.rings {
			n += len(r)
		}
		nb := min(max(n/4, 1), 4096)
		h := (pt.maxY - pt.minY) / float64(nb)
		if h <= 0 {
			h, nb = 1, 1
		}
		pt.bandH = h
		pt.bands = make([][]edge, nb)
		for _, r := range pt.rings {
			for i := range r {
				a, b := r[i], r[(i+1)%len(r)]
				e := edge{a[0], a[1], b[0], b[1]}
				lo, hi := pt.band(math.Min(a[1], b[1])), pt.band(math.Max(a[1], b[1]))
				for k := lo; k <= hi; k++ {
					pt.bands[k] = append(pt.bands[k], e)
				}
			}
		}
		out = append(out, pt)
	}
	return out
}

func (pt *bandedPart) band(y float64) int {
	k := int((y - pt.minY) / pt.bandH)
	return min(max(k, 0), len(pt.bands)-1)
}

func (pt *bandedPart) contains(x, y float64) bool {
	if y < pt.minY || y > pt.maxY {
		return false
	}
	const eps = 1e-9
	inside := false
	for _, e := range pt.bands[pt.band(y)] {
		if onSegment(x, y, e, eps) {
			return true
		}
		if (e.y1 > y) != (e.y2 > y) {
			xi := e.x1 + (y-e.y1)*(e.x2-e.x1)/(e.y2-e.y1)
			if xi > x {
				inside = !inside
			}
		}
	}
	return inside
}

type bandedPolygon []bandedPart

func (bp bandedPolygon) Contains(lon, lat float64) bool {
	if math.IsNaN(lon) || math.IsNaN(lat) {
		return false
	}
	for i := range bp {
		pt := &bp[i]
		k := math.Ceil((pt.minX - lon - 1e-9) / 360)
		for x := lon + k*360; x <= pt.maxX+1e-9; x += 360 {
			if pt.contains(x, lat) {
				return true
			}
		}
	}
	return false
}

func (bp bandedPolygon) Bounds() BBox                { return BBox{} }
func (bp bandedPolygon) IsBox() bool                 { return false }
func (bp bandedPolygon) Meets(cell []orb.Point) bool { return bp.meets(cell) }

func (bp bandedPolygon) meets(cell []orb.Point) bool {
	in, lo, hi, ylo, yhi := vertexIn(bp, cell)
	if in || len(cell) == 0 {
		return in
	}
	for i := range bp {
		pt := &bp[i]
		if yhi < pt.minY-eps || ylo > pt.maxY+eps {
			continue
		}
		for k := math.Floor((pt.minX - hi) / 360); lo+k*360 <= pt.maxX+eps; k++ {
			c := shifted(cell, k)
			if len(c) >= 3 {
				for _, r := range pt.rings {
					if ringSide(c, r[0][0], r[0][1]) >= 0 {
						return true
					}
				}
			}
			for b := pt.band(ylo); b <= pt.band(yhi); b++ {
				for _, e := range pt.bands[b] {
					for _, ce := range cellEdges(c) {
						if segsMeet(ce[0], ce[1], orb.Point{e.x1, e.y1}, orb.Point{e.x2, e.y2}) {
							return true
						}
					}
				}
			}
		}
	}
	return false
}

// bruteRingPlace is ringPlace over every pair of edges and every edge.
func bruteRingPlace(r, outer []orb.Point) int {
	for i := range r {
		a, b := r[i], r[(i+1)%len(r)]
		for k := range outer {
			if properCross(a, b, outer[k], outer[(k+1)%len(outer)]) {
				return placeCrosses
			}
		}
	}
	in, out := 0, 0
	for i := range r {
		a, b := r[i], r[(i+1)%len(r)]
		for _, q := range []orb.Point{a, {(a[0] + b[0]) / 2, (a[1] + b[1]) / 2}} {
			switch ringSide(outer, q[0], q[1]) {
			case 1:
				in++
			case -1:
				out++
			}
		}
	}
	switch {
	case in > 0 && out > 0:
		return placeCrosses
	case in > 0 || out == 0:
		return placeInside
	}
	for _, q := range outer {
		if ringSide(r, q[0], q[1]) == 1 {
			return placeEncloses
		}
	}
	return placeOutside
}

// randomRing is a ring around (cx, cy): star-shaped (simple) or, when
// tangled, vertices in random order (self-crossing). Coordinates are
// rounded to halves so that test points and cell corners fall on
// vertices and edges.
func randomRing(rng *rand.Rand, cx, cy, size float64, n int, tangled bool) [][]float64 {
	var ring [][]float64
	for i := 0; i < n; i++ {
		a := 2 * math.Pi * float64(i) / float64(n)
		if tangled {
			a = 2 * math.Pi * rng.Float64()
		}
		r := size * (0.3 + 0.7*rng.Float64())
		x, y := cx+r*math.Cos(a), math.Max(-90, math.Min(90, cy+r*math.Sin(a)))
		if rng.Intn(2) == 0 {
			x, y = math.Round(2*x)/2, math.Round(2*y)/2
		}
		ring = append(ring, []float64{x, y})
	}
	return append(ring, ring[0])
}

func randomGeometry(rng *rand.Rand) string {
	cx, cy := -200+400*rng.Float64(), -60+120*rng.Float64()
	size := 1 + 30*rng.Float64()
	var polys [][][][]float64
	for range 1 + rng.Intn(3) {
		ox, oy := cx+size*(rng.Float64()-0.5), cy+size*(rng.Float64()-0.5)
		n := 3 + rng.Intn(60)
		if rng.Intn(8) == 0 {
			n = 300 + rng.Intn(700)
		}
		poly := [][][]float64{randomRing(rng, ox, oy, size, n, rng.Intn(4) == 0)}
		if rng.Intn(3) == 0 { // a hole, well inside or anywhere
			s := size * 0.25
			if rng.Intn(2) == 0 {
				s = size
			}
			poly = append(poly, randomRing(rng, ox+size*0.1*(rng.Float64()-0.5), oy, s, 3+rng.Intn(30), false))
		}
		polys = append(polys, poly)
	}
	b, _ := json.Marshal(polys)
	return fmt.Sprintf(`{"type":"MultiPolygon","coordinates":%s}`, b)
}

// TestIndexedPolygonsAnswerAsBanded compares every test the index answers
// with the banded implementation and the brute-force ring placement, on
// random polygons (simple and self-crossing, with holes, several parts, any
// longitude convention) at random points, vertices and cells.
func TestIndexedPolygonsAnswerAsBanded(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	polygons, points, cells := 0, 0, 0
	for k := 0; k < 150; k++ {
		js := randomGeometry(rng)
		a, err := ParseGeometry("g", json.RawMessage(js))
		if err != nil {
			continue // a hole crossing its exterior, refused either way (checked below)
		}
		p := a.(*Polygon)
		bp := bandedPolygon(banded(p))
		polygons++
		b := p.Bounds()
		west, width := b.West, b.LonWidth()
		pick := func() (float64, float64) {
			x, y := west-2+(width+4)*rng.Float64(), b.South-2+(b.North-b.South+4)*rng.Float64()
			switch rng.Intn(3) {
			case 0: // on the half-degree lattice of the vertices
				x, y = math.Round(2*x)/2, math.Round(2*y)/2
			case 1: // a vertex, in another convention
				pt := p.parts[rng.Intn(len(p.parts))]
				r := pt.rings[rng.Intn(len(pt.rings))]
				q := r[rng.Intn(len(r))]
				x, y = q[0]+360*float64(rng.Intn(3)-1), q[1]
			}
			return x, y
		}
		for range 400 {
			x, y := pick()
			points++
			if got, want := p.Contains(x, y), bp.Contains(x, y); got != want {
				t.Fatalf("%s\ncontains (%v, %v) = %v, banded %v", js, x, y, got, want)
			}
		}
		for range 200 {
			x, y := pick()
			var cell []orb.Point
			switch rng.Intn(4) {
			case 0:
				cell = []orb.Point{{x, y}}
			case 1:
				cell = []orb.Point{{x, y}, {x + 4*rng.Float64() - 2, y + 4*rng.Float64() - 2}}
			default:
				w, h := 0.5*float64(1+rng.Intn(8)), 0.5*float64(1+rng.Intn(8))
				cell = []orb.Point{{x, y}, {x + w, y}, {x + w, y + h}, {x, y + h}}
			}
			cells++
			if got, want := p.Meets(cell), bp.Meets(cell); got != want {
				t.Fatalf("%s\nmeets %v = %v, banded %v", js, cell, got, want)
			}
		}
	}
	if polygons < 75 {
		t.Fatalf("only %d of 150 random polygons were accepted", polygons)
	}
	// Holes against their exterior: every placement as the brute force.
	places := map[int]int{}
	for k := 0; k < 400; k++ {
		outer := toPoints(randomRing(rng, 0, 0, 20, 3+rng.Intn(80), rng.Intn(5) == 0))
		r := toPoints(randomRing(rng, 20*(rng.Float64()-0.5), 20*(rng.Float64()-0.5), 5+20*rng.Float64(), 3+rng.Intn(40), rng.Intn(5) == 0))
		if rng.Intn(4) == 0 {
			r = outer[:len(outer)-1-rng.Intn(2)] // sharing vertices and edges
		}
		got, want := ringPlace(r, outer, newEdgeIndex(outer)), bruteRingPlace(r, outer)
		if got != want {
			t.Fatalf("ring %v in %v: place %d, brute force %d", r, outer, got, want)
		}
		places[got]++
	}
	if len(places) < 3 {
		t.Errorf("placements seen: %v", places)
	}
	t.Logf("%d polygons, %d points, %d cells, placements %v", polygons, points, cells, places)
}

func toPoints(c [][]float64) []orb.Point {
	out := make([]orb.Point, len(c)-1)
	for i := range out {
		out[i] = orb.Point{c[i][0], c[i][1]}
	}
	return out
}

// zigzag is a Polygon of n vertices whose edges each span 160° of
// latitude: the teeth of a comb across the globe, closed along the south.
func zigzag(n int) string {
	var b strings.Builder
	b.WriteString(`{"type":"Polygon","coordinates":[[`)
	teeth := n - 5
	for i := 0; i < teeth; i++ {
		y := -80.0
		if i%2 == 1 {
			y = 80
		}
		fmt.Fprintf(&b, "[%.6f,%g],", -179+358*float64(i)/float64(teeth-1), y)
	}
	b.WriteString(`[179,-85],[90,-85],[0,-85],[-90,-85],[-179,-85],[-179,-80]]]}`)
	return b.String()
}

// A 60,000-vertex zigzag is prepared in well under a second and a hundred
// MiB, and answers each test from the edges near it.
func TestZigzagPreparationIsBounded(t *testing.T) {
	js := zigzag(60000)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	a, err := ParseGeometry("g", json.RawMessage(js))
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	if took > 2*time.Second || alloc > 100<<20 {
		t.Errorf("60k vertices: %v, %d MiB allocated", took, alloc>>20)
	}
	t.Logf("60k-vertex zigzag: prepared in %v, %.1f MiB allocated", took, float64(alloc)/(1<<20))
	// Between two teeth (at the middle of the comb) and in one, by the
	// even-odd rule over the whole ring.
	p := a.(*Polygon)
	ring := [][2]float64{}
	for _, q := range p.parts[0].rings[0] {
		ring = append(ring, [2]float64{q[0], q[1]})
	}
	rng := rand.New(rand.NewSource(3))
	for range 1000 {
		x, y := -180+360*rng.Float64(), -90+180*rng.Float64()
		if got, want := p.Contains(x, y), naive(ring, x, y); got != want {
			t.Fatalf("(%v, %v): %v, naive %v", x, y, got, want)
		}
	}
	start = time.Now()
	for range 20000 {
		p.Contains(-180+360*rng.Float64(), -90+180*rng.Float64())
	}
	t.Logf("20,000 point tests: %v", time.Since(start))
	start = time.Now()
	// The teeth are 0.006° apart: a cell of 0.25° meets the polygon when
	// it reaches the latitudes and longitudes the comb spans.
	for range 20000 {
		x, y := -180+360*rng.Float64(), -90+180*rng.Float64()
		want := y+0.25 >= -85 && y <= 80 && x+0.25 >= -179 && x <= 179
		if got := p.Meets([]orb.Point{{x, y}, {x + 0.25, y}, {x + 0.25, y + 0.25}, {x, y + 0.25}}); got != want {
			t.Fatalf("cell at (%v, %v): meets %v", x, y, got)
		}
	}
	took = time.Since(start)
	if took > 5*time.Second {
		t.Errorf("20,000 cell tests took %v", took)
	}
	t.Logf("20,000 cell tests: %v", took)
}

// Goroutines testing one polygon at once, each along its own rows, get the
// answers one alone gets (the row cache is shared).
func TestConcurrentContains(t *testing.T) {
	a, err := ParseGeometry("g", json.RawMessage(zigzag(2000)))
	if err != nil {
		t.Fatal(err)
	}
	p := a.(*Polygon)
	ring := [][2]float64{}
	for _, q := range p.parts[0].rings[0] {
		ring = append(ring, [2]float64{q[0], q[1]})
	}
	errc := make(chan error, 4)
	for g := range 4 {
		go func() {
			for i := range 40 {
				y := -88 + float64(4*i+g)*1.1
				for j := range 200 {
					x := -180 + float64(j)*1.8 + 0.01
					if got, want := p.Contains(x, y), naive(ring, x, y); got != want {
						errc <- fmt.Errorf("(%v, %v): %v, naive %v", x, y, got, want)
						return
					}
				}
			}
			errc <- nil
		}()
	}
	for range 4 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}
