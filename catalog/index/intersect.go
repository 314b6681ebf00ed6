package index

import (
	"math"

	"github.com/subsetd/subsetd/regions"
)

// span is a closed interval of longitude within [-180, 180].
type span struct{ w, e float64 }

func (a span) overlaps(b span) bool { return a.w <= b.e && b.w <= a.e }

// boxSpans splits a stored box (longitudes in [-180, 180], west > east
// crossing the antimeridian) into one or two spans.
func boxSpans(w, e float64) []span {
	if w <= e {
		return []span{{w, e}}
	}
	return []span{{w, 180}, {-180, e}}
}

// querySpans turns a query box (longitudes in any convention) into spans
// within [-180, 180]. 180 and -180 are one meridian: a span ending at one
// gets a zero-width span at the other, so that stored spans, which keep
// their values as normalised, are found from either side.
func querySpans(b regions.BBox) []span {
	var out []span
	if b.LonWidth() >= 360 {
		out = []span{{-180, 180}}
	} else {
		// Both ends move by the same multiple of 360 (west + width would
		// round: -5 + 5.3 is not 0.3).
		k := 360 * math.Floor((b.West+180)/360)
		w, e := b.West-k, b.East-k
		for e < w {
			e += 360
		}
		if e <= 180 {
			out = []span{{w, e}}
		} else {
			out = []span{{w, 180}, {-180, e - 360}}
		}
	}
	hasW, hasE := false, false
	for _, s := range out {
		hasW = hasW || s.w == -180
		hasE = hasE || s.e == 180
	}
	if hasE && !hasW {
		out = append(out, span{-180, -180})
	}
	if hasW && !hasE {
		out = append(out, span{180, 180})
	}
	return out
}

// boxIntersects is the exact test of a stored box against query spans and
// a latitude range.
func boxIntersects(box []float64, q []span, south, north float64) bool {
	if box[1] > north || box[3] < south {
		return false
	}
	for _, a := range boxSpans(box[0], box[2]) {
		for _, b := range q {
			if a.overlaps(b) {
				return true
			}
		}
	}
	return false
}

// boxWithin reports whether a stored box lies inside the query: then a
// footprint cannot exclude it.
func boxWithin(box []float64, q []span, south, north float64) bool {
	if box[1] < south || box[3] > north {
		return false
	}
	for _, a := range boxSpans(box[0], box[2]) {
		in := false
		for _, b := range q {
			if a.w >= b.w && a.e <= b.e {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	return true
}

// shape is a parsed footprint: rings with their longitude ranges.
type shape struct {
	rings [][][2]float64
	minX  []float64
	maxX  []float64
	tol   float64
}

func newShape(rings [][][2]float64, tol float64) *shape {
	s := &shape{rings: rings, tol: tol}
	for _, r := range rings {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, p := range r {
			lo, hi = math.Min(lo, p[0]), math.Max(hi, p[0])
		}
		s.minX, s.maxX = append(s.minX, lo), append(s.maxX, hi)
	}
	return s
}

// rect is a closed axis-aligned rectangle.
type rect struct{ x0, y0, x1, y1 float64 }

// intersects reports whether the footprint, widened by its tolerance,
// meets the query: each span becomes a rectangle, shifted by multiples of
// 360° onto each ring's unwrapped longitudes.
func (s *shape) intersects(q []span, south, north float64) bool {
	for i, ring := range s.rings {
		for _, sp := range q {
			r := rect{sp.w - s.tol, south - s.tol, sp.e + s.tol, north + s.tol}
			k0 := math.Ceil((s.minX[i] - r.x1) / 360)
			k1 := math.Floor((s.maxX[i] - r.x0) / 360)
			for k := k0; k <= k1; k++ {
				if ringIntersectsRect(ring, rect{r.x0 + 360*k, r.y0, r.x1 + 360*k, r.y1}) {
					return true
				}
			}
		}
	}
	return false
}

// ringIntersectsRect: an edge of the ring meets the rectangle (which covers
// a ring inside the rectangle and every crossing), or the rectangle lies
// inside the ring.
func ringIntersectsRect(ring [][2]float64, r rect) bool {
	for i, j := 0, len(ring)-1; i < len(ring); j, i = i, i+1 {
		if segRect(ring[j][0], ring[j][1], ring[i][0], ring[i][1], r) {
			return true
		}
	}
	return inRing(ring, r.x0, r.y0)
}

// segRect reports whether the segment (x1, y1)-(x2, y2) meets the closed
// rectangle (Liang–Barsky clipping).
func segRect(x1, y1, x2, y2 float64, r rect) bool {
	t0, t1 := 0.0, 1.0
	dx, dy := x2-x1, y2-y1
	clip := func(p, q float64) bool {
		if p == 0 {
			return q >= 0
		}
		t := q / p
		if p < 0 {
			if t > t1 {
				return false
			}
			t0 = math.Max(t0, t)
		} else {
			if t < t0 {
				return false
			}
			t1 = math.Min(t1, t)
		}
		return true
	}
	return clip(-dx, x1-r.x0) && clip(dx, r.x1-x1) && clip(-dy, y1-r.y0) && clip(dy, r.y1-y1)
}
