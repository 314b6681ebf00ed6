package regions

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/subsetd/subsetd/internal/errs"
)

// Planar geometry in degrees, the plane in which regions are drawn: the
// tests an area makes against a cell's extent (the "overlap" rule) and a
// point makes against a cell (the cell containing a station).

const eps = 1e-9

// orient is the sign of the turn a -> b -> c: 1 left, -1 right, 0 straight.
func orient(a, b, c orb.Point) int {
	d := (b[0]-a[0])*(c[1]-a[1]) - (b[1]-a[1])*(c[0]-a[0])
	l := math.Max(math.Hypot(b[0]-a[0], b[1]-a[1]), 1)
	switch {
	case d > eps*l:
		return 1
	case d < -eps*l:
		return -1
	}
	return 0
}

// properCross reports whether segments ab and cd cross at one point inside
// both (touching and overlapping along a line do not count).
func properCross(a, b, c, d orb.Point) bool {
	return orient(a, b, c)*orient(a, b, d) < 0 && orient(c, d, a)*orient(c, d, b) < 0
}

// onSeg reports whether p lies on segment ab (ends included).
func onSeg(p, a, b orb.Point) bool {
	return orient(a, b, p) == 0 &&
		p[0] >= math.Min(a[0], b[0])-eps && p[0] <= math.Max(a[0], b[0])+eps &&
		p[1] >= math.Min(a[1], b[1])-eps && p[1] <= math.Max(a[1], b[1])+eps
}

// segsMeet reports whether segments ab and cd share a point.
func segsMeet(a, b, c, d orb.Point) bool {
	o1, o2, o3, o4 := orient(a, b, c), orient(a, b, d), orient(c, d, a), orient(c, d, b)
	if o1*o2 < 0 && o3*o4 < 0 {
		return true
	}
	return onSeg(c, a, b) || onSeg(d, a, b) || onSeg(a, c, d) || onSeg(b, c, d)
}

// ringSide tells where (x, y) lies with respect to a ring (even-odd rule,
// closing edge implied): 1 inside, -1 outside, 0 on the boundary.
func ringSide(ring []orb.Point, x, y float64) int {
	p := orb.Point{x, y}
	in := false
	for i := range ring {
		a, b := ring[i], ring[(i+1)%len(ring)]
		if onSeg(p, a, b) {
			return 0
		}
		if (a[1] > y) != (b[1] > y) && a[0]+(y-a[1])*(b[0]-a[0])/(b[1]-a[1]) > x {
			in = !in
		}
	}
	if in {
		return 1
	}
	return -1
}

// cellHolds reports whether a cell (ring, segment or position, as Area.Meets
// takes it) holds the point, boundary included; the point's longitude is
// tried modulo 360 near the cell's.
func cellHolds(cell []orb.Point, x, y float64) bool {
	if len(cell) == 0 {
		return false
	}
	lo, hi := xRange(cell)
	for k := math.Ceil((lo - x - eps) / 360); x+k*360 <= hi+eps; k++ {
		q := orb.Point{x + k*360, y}
		switch len(cell) {
		case 1:
			if math.Abs(q[0]-cell[0][0]) <= eps && math.Abs(q[1]-cell[0][1]) <= eps {
				return true
			}
		case 2:
			if onSeg(q, cell[0], cell[1]) {
				return true
			}
		default:
			if ringSide(cell, q[0], q[1]) >= 0 {
				return true
			}
		}
	}
	return false
}

// cellEdges lists the edges of a cell: its ring's, or its one segment.
func cellEdges(cell []orb.Point) [][2]orb.Point {
	switch len(cell) {
	case 0, 1:
		return nil
	case 2:
		return [][2]orb.Point{{cell[0], cell[1]}}
	}
	out := make([][2]orb.Point, len(cell))
	for i := range cell {
		out[i] = [2]orb.Point{cell[i], cell[(i+1)%len(cell)]}
	}
	return out
}

// shifted returns the cell moved east by k*360 degrees.
func shifted(cell []orb.Point, k float64) []orb.Point {
	out := make([]orb.Point, len(cell))
	for i, q := range cell {
		out[i] = orb.Point{q[0] + k*360, q[1]}
	}
	return out
}

// vertexIn reports whether a vertex of the cell lies in the area, and
// returns the cell's longitude and latitude ranges.
func vertexIn(a Area, cell []orb.Point) (in bool, lo, hi, ylo, yhi float64) {
	lo, hi = xRange(cell)
	ylo, yhi = math.Inf(1), math.Inf(-1)
	for _, q := range cell {
		ylo, yhi = math.Min(ylo, q[1]), math.Max(yhi, q[1])
		in = in || a.Contains(q[0], q[1])
	}
	return in, lo, hi, ylo, yhi
}

// Meets reports whether the box and the cell share a point (edges
// included), longitudes modulo 360.
func (b BBox) Meets(cell []orb.Point) bool {
	in, lo, hi, ylo, yhi := vertexIn(b, cell)
	if in || len(cell) == 0 {
		return in
	}
	if yhi < b.South-eps || ylo > b.North+eps {
		return false
	}
	w, e := b.West, b.West+b.LonWidth()
	rect := [][2]orb.Point{
		{{w, b.South}, {e, b.South}}, {{e, b.South}, {e, b.North}},
		{{e, b.North}, {w, b.North}}, {{w, b.North}, {w, b.South}},
	}
	// The cell moved next to the box: at most two placements overlap it.
	for k := math.Floor((w - hi) / 360); lo+k*360 <= e+eps; k++ {
		c := shifted(cell, k)
		if len(c) >= 3 && ringSide(c, w, b.South) >= 0 {
			return true // the box lies in the cell
		}
		for _, ce := range cellEdges(c) {
			for _, re := range rect {
				if segsMeet(ce[0], ce[1], re[0], re[1]) {
					return true
				}
			}
		}
	}
	return false
}

// Meets reports whether the polygon and the cell share a point (boundaries
// included), longitudes modulo 360.
func (p *Polygon) Meets(cell []orb.Point) bool {
	in, lo, hi, ylo, yhi := vertexIn(p, cell)
	if in || len(cell) == 0 {
		return in
	}
	return !p.tree.search(rect{0, ylo - 2*eps, 0, yhi + 2*eps}, func(id int32) bool {
		pt := &p.parts[id]
		if yhi < pt.minY-eps || ylo > pt.maxY+eps {
			return true
		}
		for k := math.Floor((pt.minX - hi) / 360); lo+k*360 <= pt.maxX+eps; k++ {
			if pt.meets(shifted(cell, k)) {
				return false
			}
		}
		return true
	})
}

// meets reports whether a cell (in the part's longitudes) holds a ring of
// the part or an edge of the cell meets one of the part's.
func (pt *part) meets(c []orb.Point) bool {
	lo, hi := xRange(c)
	ylo, yhi := math.Inf(1), math.Inf(-1)
	for _, q := range c {
		ylo, yhi = math.Min(ylo, q[1]), math.Max(yhi, q[1])
	}
	around := rect{lo, ylo, hi, yhi}.grow(2 * eps)
	// A ring wholly inside the cell.
	if len(c) >= 3 && !pt.firsts.search(around, func(id int32) bool {
		r := pt.rings[id]
		return ringSide(c, r[0][0], r[0][1]) < 0
	}) {
		return true
	}
	ces := cellEdges(c)
	return pt.edges.within(around, func(e edge) bool {
		for _, ce := range ces {
			if segsMeet(ce[0], ce[1], orb.Point{e.x1, e.y1}, orb.Point{e.x2, e.y2}) {
				return true
			}
		}
		return false
	})
}

// Points is a Point or MultiPoint region: stations, tide gauges. A cut
// takes the cell containing each point (the nearest samples on tracks).
type Points struct {
	pts    []orb.Point
	bounds BBox
}

// NewPoints validates positions [lon, lat] into a point region.
func NewPoints(field string, pos [][]float64) (*Points, error) {
	if len(pos) == 0 {
		return nil, errs.F(errs.Invalid, field, "a MultiPoint needs at least one position")
	}
	p := &Points{}
	var spans [][2]float64
	s, n := math.Inf(1), math.Inf(-1)
	for i, c := range pos {
		if len(c) < 2 {
			return nil, errs.F(errs.Invalid, field, "position %d needs [lon, lat]", i)
		}
		x, y := c[0], c[1]
		if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) {
			return nil, errs.F(errs.Invalid, field, "position %d is not finite", i)
		}
		if y < -90 || y > 90 {
			return nil, errs.F(errs.Invalid, field, "position %d: latitude %v outside [-90, 90]", i, y)
		}
		if math.Abs(x) > 720 {
			return nil, errs.F(errs.Invalid, field, "position %d: longitude %v outside [-720, 720]", i, x)
		}
		p.pts = append(p.pts, orb.Point{x, y})
		s, n = math.Min(s, y), math.Max(n, y)
		k := math.Floor((x + 180) / 360)
		spans = append(spans, [2]float64{x - k*360, x - k*360})
	}
	west, east, _ := CoverArc(spans)
	if east > 180 {
		east -= 360 * math.Ceil((east-180)/360)
	}
	if len(p.pts) == 1 {
		west, east = p.pts[0][0], p.pts[0][0]
	}
	p.bounds = BBox{West: west, South: s, East: east, North: n}
	return p, nil
}

// Bounds is the smallest box holding the points.
func (p *Points) Bounds() BBox { return p.bounds }

// IsBox is false: cells between the points are masked.
func (p *Points) IsBox() bool { return false }

// Contains reports whether (lon, lat) is one of the points.
func (p *Points) Contains(lon, lat float64) bool {
	for _, q := range p.pts {
		if math.Abs(lat-q[1]) <= eps && math.Abs(math.Remainder(lon-q[0], 360)) <= eps {
			return true
		}
	}
	return false
}

// Meets reports whether the cell holds one of the points.
func (p *Points) Meets(cell []orb.Point) bool {
	for _, q := range p.pts {
		if cellHolds(cell, q[0], q[1]) {
			return true
		}
	}
	return false
}

// Positions lists the points.
func (p *Points) Positions() []orb.Point { return p.pts }
