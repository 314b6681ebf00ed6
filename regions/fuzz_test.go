package regions

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/subsetd/subsetd/internal/errs"
)

// FuzzGeometry feeds GeoJSON through a region's preparation, within a
// job's vertex limit: nothing panics, a refusal is Invalid or TooLarge, and
// preparing takes bounded time (linear-logarithmic in the vertices: a
// millisecond and 20 µs per vertex at most, with room for a loaded
// machine). An accepted polygon answers point and cell tests as the banded
// implementation does, at its vertices, its edges' middles and points
// between.
func FuzzGeometry(f *testing.F) {
	for _, s := range []string{
		`{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[4,4],[6,4],[6,6],[4,6],[4,4]]]}`,
		`{"type":"Polygon","coordinates":[[[170,0],[-170,0],[-170,10],[170,10],[170,0]]]}`,
		`{"type":"MultiPolygon","coordinates":[[[[170,0],[180,0],[180,10],[170,10],[170,0]]],[[[-180,0],[-170,0],[-170,10],[-180,10],[-180,0]]]]}`,
		`{"type":"Polygon","coordinates":[[[-180,-90],[180,-90],[180,90],[-180,90],[-180,-90]]]}`,
		`{"type":"Polygon","coordinates":[[[0,0],[10,10],[10,0],[0,10],[0,0]]]}`,
		`{"type":"Polygon","coordinates":[[[0,0],[9,0],[9,9],[0,9],[0,0]],[[5,5],[15,5],[15,8],[5,8],[5,5]]]}`,
		`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`,
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[20,-30]}}`,
		`{"type":"MultiPoint","coordinates":[[0,0],[359,1]]}`,
		`{"type":"Polygon","coordinates":[[[0,-80],[1,80],[2,-80],[3,80],[4,-80],[4,-85],[0,-85],[0,-80]]]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		vb := &budget{left: 5000, limit: 5000, why: "the fuzz limit"}
		start := time.Now()
		a, err := parseGeometry("g", json.RawMessage(raw), vb)
		took := time.Since(start)
		if err != nil {
			if c := errs.CodeOf(err); c != errs.Invalid && c != errs.TooLarge {
				t.Fatalf("%s: %v (%s)", raw, err, c)
			}
			return
		}
		n := 5000 - vb.left
		// A second of slack: a loaded machine pauses any run; a quadratic
		// preparation of thousands of vertices still shows.
		if limit := time.Millisecond + time.Duration(n)*20*time.Microsecond; took > time.Second+50*limit {
			t.Fatalf("%d vertices prepared in %v", n, took)
		}
		p, ok := a.(*Polygon)
		if !ok {
			return
		}
		bp := bandedPolygon(banded(p))
		var probes []orb.Point
		for _, pt := range p.parts {
			for _, r := range pt.rings {
				for i, q := range r {
					nx := r[(i+1)%len(r)]
					probes = append(probes, q, orb.Point{(q[0] + nx[0]) / 2, (q[1] + nx[1]) / 2}, orb.Point{q[0] + 0.37, q[1] - 0.21})
				}
			}
		}
		if len(probes) > 600 {
			probes = probes[:600]
		}
		for i, q := range probes {
			if got, want := p.Contains(q[0], q[1]), bp.Contains(q[0], q[1]); got != want {
				t.Fatalf("%s: contains %v = %v, banded %v", raw, q, got, want)
			}
			if i%3 == 0 {
				d := 0.5 + math.Mod(math.Abs(q[0]), 3)
				cell := []orb.Point{q, {q[0] + d, q[1]}, {q[0] + d, q[1] + d}, {q[0], q[1] + d}}
				if got, want := p.Meets(cell), bp.Meets(cell); got != want {
					t.Fatalf("%s: meets %v = %v, banded %v", raw, cell, got, want)
				}
			}
		}
	})
}

// FuzzPolygonRings builds polygons from bytes, two per vertex on a coarse
// lattice (so that vertices, edges and test points coincide often: the
// cases where a boundary decides), 0xff ending a ring; every accepted
// polygon must answer as the banded implementation at every lattice point
// and cell around it, and be prepared in bounded time.
func FuzzPolygonRings(f *testing.F) {
	f.Add([]byte{0, 0, 10, 0, 10, 10, 0, 10})
	f.Add([]byte{0, 0, 20, 0, 20, 20, 0, 20, 0xff, 5, 5, 8, 5, 8, 8})
	f.Add([]byte{0, 0, 20, 20, 20, 0, 0, 20})
	f.Add([]byte{0, 0, 3, 30, 6, 0, 9, 30, 12, 0, 12, 2, 0, 2})
	f.Add([]byte{200, 0, 250, 0, 250, 9, 200, 9, 0xff, 0, 0, 4, 0, 4, 4})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4000 {
			return
		}
		var rings [][][]float64
		var cur [][]float64
		flush := func() {
			if len(cur) >= 3 {
				rings = append(rings, append(cur, cur[0]))
			}
			cur = nil
		}
		for i := 0; i+1 < len(data); i += 2 {
			if data[i] == 0xff {
				flush()
				i--
				continue
			}
			// x in [-127.5, 127.5] by halves, y in [-31.75, 31.75] by quarters.
			cur = append(cur, []float64{float64(data[i])/2 - 60, float64(int(data[i+1])-127) / 4})
		}
		flush()
		if len(rings) == 0 {
			return
		}
		b, _ := json.Marshal(map[string]any{"type": "Polygon", "coordinates": rings})
		start := time.Now()
		a, err := ParseGeometry("g", b)
		if took := time.Since(start); took > time.Second+50*(time.Millisecond+time.Duration(len(data))*20*time.Microsecond) {
			t.Fatalf("%d bytes prepared in %v", len(data), took)
		}
		if err != nil {
			return
		}
		p := a.(*Polygon)
		bp := bandedPolygon(banded(p))
		bb := p.Bounds()
		// About 40 x 40 points of the lattice over the bounds, and cells.
		dx := 0.5 * math.Ceil((bb.LonWidth()+2)/0.5/40)
		dy := 0.25 * math.Ceil((bb.North-bb.South+1)/0.25/40)
		for x := bb.West - 1; x <= bb.West+bb.LonWidth()+1; x += dx {
			for y := bb.South - 0.5; y <= bb.North+0.5; y += dy {
				if got, want := p.Contains(x, y), bp.Contains(x, y); got != want {
					t.Fatalf("%s: contains (%v, %v) = %v, banded %v", b, x, y, got, want)
				}
				cell := []orb.Point{{x, y}, {x + 0.5, y}, {x + 0.5, y + 0.25}, {x, y + 0.25}}
				if got, want := p.Meets(cell), bp.Meets(cell); got != want {
					t.Fatalf("%s: meets %v = %v, banded %v", b, cell, got, want)
				}
			}
		}
	})
}
