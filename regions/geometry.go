package regions

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/paulmach/orb"
	"github.com/subsetd/subsetd/internal/errs"
)

// Area is what a region covers: a box, a polygon or points. Bounds is the
// box the cut starts from; Contains decides each cell centre (the "centre"
// rule), Meets each cell's extent (the "overlap" rule).
type Area interface {
	Bounds() BBox
	// Contains reports whether the point (degrees, longitude in any
	// convention) is inside; the boundary counts as inside.
	Contains(lon, lat float64) bool
	// Meets reports whether the area and a cell share at least a point. The
	// cell is given by its vertices (lon, lat; consecutive longitudes less
	// than 180° apart, any convention): a ring of three or more (closing
	// edge implied), a segment of two, or one position.
	Meets(cell []orb.Point) bool
	// IsBox reports whether the area is exactly its bounds.
	IsBox() bool
}

// PointsOf returns the positions of a point region: a Point or MultiPoint
// geometry, or a box whose corners coincide. It is nil for areas.
func PointsOf(a Area) []orb.Point {
	switch x := a.(type) {
	case *Points:
		return x.pts
	case BBox:
		if x.West == x.East && x.South == x.North {
			return []orb.Point{{x.West, x.South}}
		}
	}
	return nil
}

// Bounds returns the box itself.
func (b BBox) Bounds() BBox { return b }

// IsBox is true for a box.
func (b BBox) IsBox() bool { return true }

// Contains reports whether a point is in the box, edges included, longitude
// modulo 360.
func (b BBox) Contains(lon, lat float64) bool {
	if math.IsNaN(lat) || lat < b.South || lat > b.North {
		return false
	}
	return InLon(lon, b.West, b.LonWidth(), 0)
}

// Polygon is a polygon or multipolygon with longitudes unwrapped so that no
// edge jumps by more than 180°, and indexes of its parts and edges
// (edgeindex.go) so that a test looks at the edges near it only.
type Polygon struct {
	parts  []part
	tree   boxTree // the parts by latitude range
	bounds BBox
}

type part struct {
	rings      [][]orb.Point // outer ring then holes, unwrapped
	minX, maxX float64
	minY, maxY float64
	edges      *edgeIndex // every ring's edges
	firsts     boxTree    // the first vertex of each ring
}

// ParseGeometry reads a GeoJSON Polygon, MultiPolygon, Point or MultiPoint
// geometry, or a Feature holding one. Rings may cross the antimeridian
// (consecutive vertices more than 180° apart), use longitudes past 180, or
// be split at ±180 into a MultiPolygon (RFC 7946). Member names are
// case-sensitive, as RFC 7946 has them; each ring is closed (its last
// position is its first), of 4 positions or more, and encloses an area.
func ParseGeometry(field string, raw json.RawMessage) (Area, error) {
	return parseGeometry(field, raw, nil)
}

// budget is what is left of a job's vertices; nil: no limit.
type budget struct {
	left, limit int
	why         string
}

// take counts n positions against the budget.
func (b *budget) take(field string, n int) error {
	if b == nil {
		return nil
	}
	b.left -= n
	if b.left < 0 {
		return errs.F(errs.TooLarge, field, "the job's regions have more than %d vertices, %s: simplify the polygons or split the job", b.limit, b.why)
	}
	return nil
}

// members reads a GeoJSON object's members, names as written.
func members(field string, raw json.RawMessage) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return nil, errs.F(errs.Invalid, field, "not a GeoJSON object")
	}
	return m, nil
}

func parseGeometry(field string, raw json.RawMessage, vb *budget) (Area, error) {
	m, err := members(field, raw)
	if err != nil {
		return nil, err
	}
	var typ string
	if t, ok := m["type"]; ok {
		if err := json.Unmarshal(t, &typ); err != nil {
			return nil, errs.F(errs.Invalid, field, "the GeoJSON type must be a string, got %s", t)
		}
	}
	if typ == "Feature" {
		g := m["geometry"]
		if len(g) == 0 || string(g) == "null" {
			return nil, errs.F(errs.Invalid, field, "the Feature has no geometry")
		}
		return parseGeometry(field, g, vb)
	}
	coords := m["coordinates"]
	if len(coords) == 0 && typ != "" {
		switch typ {
		case "Polygon", "MultiPolygon", "Point", "MultiPoint":
			return nil, errs.F(errs.Invalid, field, "the %s has no coordinates", typ)
		}
	}
	var polys []orb.Polygon
	switch typ {
	case "Polygon":
		var c [][][]float64
		if err := json.Unmarshal(coords, &c); err != nil {
			return nil, errs.F(errs.Invalid, field, "Polygon coordinates must be [[[lon, lat], ...], ...]: %v", err)
		}
		if err := vb.take(field, positions(c)); err != nil {
			return nil, err
		}
		poly, err := toPolygon(field, "", c)
		if err != nil {
			return nil, err
		}
		polys = []orb.Polygon{poly}
	case "MultiPolygon":
		var c [][][][]float64
		if err := json.Unmarshal(coords, &c); err != nil {
			return nil, errs.F(errs.Invalid, field, "MultiPolygon coordinates must be [[[[lon, lat], ...], ...], ...]: %v", err)
		}
		for _, pc := range c {
			if err := vb.take(field, positions(pc)); err != nil {
				return nil, err
			}
		}
		for i, pc := range c {
			poly, err := toPolygon(field, fmt.Sprintf("polygon %d ", i), pc)
			if err != nil {
				return nil, err
			}
			polys = append(polys, poly)
		}
	case "Point":
		var c []float64
		if err := json.Unmarshal(coords, &c); err != nil {
			return nil, errs.F(errs.Invalid, field, "Point coordinates must be [lon, lat]: %v", err)
		}
		if err := vb.take(field, 1); err != nil {
			return nil, err
		}
		return NewPoints(field, [][]float64{c})
	case "MultiPoint":
		var c [][]float64
		if err := json.Unmarshal(coords, &c); err != nil {
			return nil, errs.F(errs.Invalid, field, "MultiPoint coordinates must be [[lon, lat], ...]: %v", err)
		}
		if err := vb.take(field, len(c)); err != nil {
			return nil, err
		}
		return NewPoints(field, c)
	case "LineString", "MultiLineString", "GeometryCollection":
		return nil, errs.F(errs.Invalid, field, "a %s is not a region: give a Polygon, MultiPolygon, Point or MultiPoint (or a bbox)", typ)
	case "FeatureCollection":
		return nil, errs.F(errs.Invalid, field, "a FeatureCollection holds several regions: give one geometry per region")
	case "":
		return nil, errs.F(errs.Invalid, field, "GeoJSON object without a type")
	default:
		return nil, errs.F(errs.Invalid, field, "unknown GeoJSON type %q", typ)
	}
	return NewPolygon(field, polys)
}

// positions counts the positions of a polygon's rings.
func positions(c [][][]float64) int {
	n := 0
	for _, r := range c {
		n += len(r)
	}
	return n
}

// toPolygon checks the rings of a GeoJSON polygon (named "polygon N " in
// a MultiPolygon): closed, of 4 positions or more, each of [lon, lat].
func toPolygon(field, which string, c [][][]float64) (orb.Polygon, error) {
	if len(c) == 0 {
		return nil, errs.F(errs.Invalid, field, "%shas no rings", which)
	}
	var poly orb.Polygon
	for i, ring := range c {
		if len(ring) < 4 {
			return nil, errs.F(errs.Invalid, field, "%sring %d has %d positions: a ring needs at least 4, the last the same as the first", which, i, len(ring))
		}
		r := make(orb.Ring, 0, len(ring))
		for j, pos := range ring {
			if len(pos) < 2 {
				return nil, errs.F(errs.Invalid, field, "%sring %d position %d needs [lon, lat]", which, i, j)
			}
			r = append(r, orb.Point{pos[0], pos[1]})
		}
		if first, last := r[0], r[len(r)-1]; first != last {
			return nil, errs.F(errs.Invalid, field, "%sring %d is not closed: its last position %v is not its first %v", which, i, []float64(ring[len(ring)-1][:2]), []float64(ring[0][:2]))
		}
		poly = append(poly, r)
	}
	return poly, nil
}

// NewPolygon builds a Polygon from orb polygons. Each polygon's first ring
// is its exterior, the others its holes. A "hole" that lies outside its
// exterior (touching it at most) is not a hole: it is read as one more area
// of the region, as the writer of two areas in one polygon meant. A hole
// that crosses its exterior, or encloses it, is refused, naming the ring.
func NewPolygon(field string, polys []orb.Polygon) (*Polygon, error) {
	p := &Polygon{}
	for i, poly := range polys {
		if len(poly) == 0 {
			continue
		}
		outer, err := unwrapRing(field, fmt.Sprintf("polygon %d ring 0", i), poly[0])
		if err != nil {
			return nil, err
		}
		rings := [][]orb.Point{outer}
		var extra [][]orb.Point
		var ox *edgeIndex
		if len(poly) > 1 {
			ox = newEdgeIndex(outer)
		}
		minX, maxX := xRange(outer)
		for j, ring := range poly[1:] {
			r, err := unwrapRing(field, fmt.Sprintf("polygon %d ring %d", i, j+1), ring)
			if err != nil {
				return nil, err
			}
			// Holes are unwrapped next to their outer ring.
			shift := math.Round((minX+maxX)/2/360-meanX(r)/360) * 360
			for k := range r {
				r[k][0] += shift
			}
			switch ringPlace(r, outer, ox) {
			case placeInside:
				rings = append(rings, r)
			case placeOutside:
				extra = append(extra, r)
			case placeEncloses:
				return nil, errs.F(errs.Invalid, field, "polygon %d ring %d encloses its exterior ring 0: a hole must lie inside the exterior (the first ring)", i, j+1)
			default:
				return nil, errs.F(errs.Invalid, field, "polygon %d ring %d crosses its exterior ring 0: a hole must lie inside the exterior (the first ring)", i, j+1)
			}
		}
		p.parts = append(p.parts, newPart(rings))
		for _, r := range extra {
			p.parts = append(p.parts, newPart([][]orb.Point{r}))
		}
	}
	if len(p.parts) == 0 {
		return nil, errs.F(errs.Invalid, field, "polygon has no rings")
	}
	p.bounds = p.computeBounds()
	spans := make([]rect, len(p.parts))
	for i, pt := range p.parts {
		spans[i] = rect{0, pt.minY, 0, pt.maxY}
	}
	p.tree = newBoxTree(spans)
	return p, nil
}

// newPart indexes an exterior ring and its holes.
func newPart(rings [][]orb.Point) part {
	pt := part{rings: rings}
	pt.minX, pt.maxX = xRange(rings[0])
	pt.minY, pt.maxY = math.Inf(1), math.Inf(-1)
	for _, q := range rings[0] {
		pt.minY, pt.maxY = math.Min(pt.minY, q[1]), math.Max(pt.maxY, q[1])
	}
	pt.edges = newEdgeIndex(rings...)
	firsts := make([]rect, len(rings))
	for i, r := range rings {
		firsts[i] = rect{r[0][0], r[0][1], r[0][0], r[0][1]}
	}
	pt.firsts = newBoxTree(firsts)
	return pt
}

func xRange(r []orb.Point) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, q := range r {
		lo, hi = math.Min(lo, q[0]), math.Max(hi, q[0])
	}
	return lo, hi
}

// Where a hole lies with respect to its exterior.
const (
	placeInside = iota
	placeOutside
	placeEncloses
	placeCrosses
)

// ringPlace tells where ring r lies with respect to ring outer (both in
// the same unwrapped longitudes; ox indexes outer's edges): inside
// (touching allowed), outside (touching allowed), enclosing it, or
// crossing it. Vertices and edge mid-points on outer's boundary decide
// nothing.
func ringPlace(r, outer []orb.Point, ox *edgeIndex) int {
	for i := range r {
		a, b := r[i], r[(i+1)%len(r)]
		near := edge{a[0], a[1], b[0], b[1]}.box().grow(2 * eps)
		if ox.within(near, func(e edge) bool { return properCross(a, b, orb.Point{e.x1, e.y1}, orb.Point{e.x2, e.y2}) }) {
			return placeCrosses
		}
	}
	in, out := 0, 0
	for i := range r {
		a, b := r[i], r[(i+1)%len(r)]
		for _, q := range []orb.Point{a, {(a[0] + b[0]) / 2, (a[1] + b[1]) / 2}} {
			switch ox.side(q[0], q[1]) {
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
	// Outside: unless outer lies inside r.
	rx := newEdgeIndex(r)
	for _, q := range outer {
		if rx.side(q[0], q[1]) == 1 {
			return placeEncloses
		}
	}
	return placeOutside
}

func meanX(r []orb.Point) float64 {
	s := 0.0
	for _, q := range r {
		s += q[0]
	}
	return s / float64(len(r))
}

// unwrapRing checks a ring and makes consecutive longitudes at most 180°
// apart. A jump of exactly 360° between -180 and 180 is an edge along the
// antimeridian (whole-earth rings) and is kept.
func unwrapRing(field, which string, ring orb.Ring) ([]orb.Point, error) {
	if len(ring) < 3 {
		return nil, errs.F(errs.Invalid, field, "%s has %d positions: a ring needs at least 4, the last the same as the first", which, len(ring))
	}
	out := make([]orb.Point, len(ring))
	for i, q := range ring {
		if math.IsNaN(q[0]) || math.IsNaN(q[1]) || math.IsInf(q[0], 0) || math.IsInf(q[1], 0) {
			return nil, errs.F(errs.Invalid, field, "%s position %d is not finite", which, i)
		}
		if q[1] < -90 || q[1] > 90 {
			return nil, errs.F(errs.Invalid, field, "%s position %d: latitude %v outside [-90, 90]", which, i, q[1])
		}
		if math.Abs(q[0]) > 720 {
			return nil, errs.F(errs.Invalid, field, "%s position %d: longitude %v outside [-720, 720]", which, i, q[0])
		}
		out[i] = q
		if i == 0 {
			continue
		}
		prev := out[i-1][0]
		d := q[0] - prev
		if math.Abs(math.Abs(ring[i][0]-ring[i-1][0])-360) < 1e-9 && math.Abs(ring[i][0]) == 180 {
			out[i][0] = prev + d // along the antimeridian: keep
			continue
		}
		for d > 180 {
			d -= 360
		}
		for d < -180 {
			d += 360
		}
		out[i][0] = prev + d
	}
	area := 0.0
	for i := range out {
		a, b := out[i], out[(i+1)%len(out)]
		area += (a[0] - b[0]) * (a[1] + b[1])
	}
	if math.Abs(area) < 1e-15 {
		return nil, errs.F(errs.Invalid, field, "%s encloses no area: its positions lie on one line", which)
	}
	return out, nil
}

// contains tests one point in the part's own (unwrapped) longitudes: on
// the boundary of a ring (within 1e-9°) is inside, otherwise the even-odd
// rule over every ring.
func (pt *part) contains(x, y float64) bool {
	if y < pt.minY || y > pt.maxY {
		return false
	}
	const eps = 1e-9
	on := func(e edge) bool { return onSegment(x, y, e, eps) }
	if r := pt.edges.rowAt(y); r != nil {
		return r.nearRow(x, on) || r.oddRow(x)
	}
	if pt.edges.near(x, y, 2*eps, on) {
		return true
	}
	return pt.edges.odd(x, y)
}

func onSegment(x, y float64, e edge, eps float64) bool {
	if x < math.Min(e.x1, e.x2)-eps || x > math.Max(e.x1, e.x2)+eps || y < math.Min(e.y1, e.y2)-eps || y > math.Max(e.y1, e.y2)+eps {
		return false
	}
	cross := (e.x2-e.x1)*(y-e.y1) - (e.y2-e.y1)*(x-e.x1)
	l := math.Hypot(e.x2-e.x1, e.y2-e.y1)
	if l == 0 {
		return math.Abs(x-e.x1) <= eps && math.Abs(y-e.y1) <= eps
	}
	return math.Abs(cross)/l <= eps
}

// Contains reports whether the point is in any part, trying the point's
// longitude modulo 360 against each part's unwrapped range.
func (p *Polygon) Contains(lon, lat float64) bool {
	if math.IsNaN(lon) || math.IsNaN(lat) {
		return false
	}
	return !p.tree.search(rect{0, lat, 0, lat}, func(id int32) bool {
		pt := &p.parts[id]
		k := math.Ceil((pt.minX - lon - 1e-9) / 360)
		for x := lon + k*360; x <= pt.maxX+1e-9; x += 360 {
			if pt.contains(x, lat) {
				return false
			}
		}
		return true
	})
}

// Bounds is the smallest box holding the polygon: the shortest arc of
// longitude covering every part, so that parts split at ±180 give a box
// crossing the antimeridian rather than the whole globe.
func (p *Polygon) Bounds() BBox { return p.bounds }

// IsBox is false: cells of the bounds outside the polygon are masked.
func (p *Polygon) IsBox() bool { return false }

func (p *Polygon) computeBounds() BBox {
	s, n := math.Inf(1), math.Inf(-1)
	type arc struct{ lo, hi float64 }
	var arcs []arc
	whole := false
	for _, pt := range p.parts {
		s, n = math.Min(s, pt.minY), math.Max(n, pt.maxY)
		if pt.maxX-pt.minX >= 360-1e-9 {
			whole = true
			continue
		}
		// Shift by a whole multiple of 360 (exact) into [-180, 180).
		k := math.Floor((pt.minX + 180) / 360)
		arcs = append(arcs, arc{pt.minX - k*360, pt.maxX - k*360})
	}
	if whole || len(arcs) == 0 {
		return BBox{West: -180, South: s, East: 180, North: n}
	}
	spans := make([][2]float64, len(arcs))
	for i, a := range arcs {
		spans[i] = [2]float64{a.lo, a.hi}
	}
	west, east, whole := CoverArc(spans)
	if whole {
		return BBox{West: -180, South: s, East: 180, North: n}
	}
	if east > 180 {
		east -= 360 * math.Ceil((east-180)/360)
	}
	return BBox{West: west, South: s, East: east, North: n}
}

// CoverArc returns the shortest arc of longitude covering every span
// [lo, hi] (lo in [-180, 180), hi >= lo): it runs from the end of the largest
// gap between the merged spans eastwards to the gap's start, so east may
// exceed 180. whole is true when no gap is left.
func CoverArc(spans [][2]float64) (west, east float64, whole bool) {
	if len(spans) == 0 {
		return -180, 180, true
	}
	sorted := append([][2]float64(nil), spans...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i][0] < sorted[j][0] })
	var merged [][2]float64
	for _, a := range sorted {
		if k := len(merged); k > 0 && a[0] <= merged[k-1][1] {
			merged[k-1][1] = math.Max(merged[k-1][1], a[1])
		} else {
			merged = append(merged, a)
		}
	}
	best := -1.0
	for i, a := range merged {
		next := merged[(i+1)%len(merged)]
		gap := next[0] - a[1]
		if i == len(merged)-1 {
			gap += 360
		}
		if gap > best {
			best, west, east = gap, next[0], a[1]
		}
	}
	if best <= 0 {
		return -180, 180, true
	}
	return west, east, false
}

// LonExtent returns the shortest arc of longitude holding every value of
// lons (any convention; NaNs skipped), as ACDD's geospatial_lon_min/max:
// west and east in [-180, 180), west > east when the arc crosses 180. When
// the values leave a gap at 180 at least half as wide as the widest gap
// elsewhere (a grid covering the globe evenly, say), the arc is taken not
// to cross 180. ok is false when no value is a number. It runs in linear
// time (the maximum-gap bucket method), for swaths of millions of pixels.
func LonExtent(lons []float64) (west, east float64, ok bool) {
	lo, hi, n := math.Inf(1), math.Inf(-1), 0
	for _, x := range lons {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		x = Normalize180(x)
		lo, hi, n = math.Min(lo, x), math.Max(hi, x), n+1
	}
	if n == 0 {
		return 0, 0, false
	}
	if n == 1 || hi == lo {
		return lo, hi, true
	}
	// n buckets over [lo, hi]: the widest gap between consecutive values
	// is at least (hi-lo)/(n-1), wider than a bucket, so it never lies
	// inside one.
	nb := n
	bmin := make([]float64, nb)
	bmax := make([]float64, nb)
	for i := range bmin {
		bmin[i], bmax[i] = math.Inf(1), math.Inf(-1)
	}
	width := (hi - lo) / float64(nb)
	for _, x := range lons {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			continue
		}
		x = Normalize180(x)
		b := min(int((x-lo)/width), nb-1)
		bmin[b], bmax[b] = math.Min(bmin[b], x), math.Max(bmax[b], x)
	}
	gap, gapWest, gapEast := 0.0, hi, lo // widest gap inside [lo, hi], from gapEast to gapWest
	prev := bmax[0]
	for b := 1; b < nb; b++ {
		if math.IsInf(bmin[b], 1) {
			continue
		}
		if g := bmin[b] - prev; g > gap {
			gap, gapWest, gapEast = g, bmin[b], prev
		}
		prev = bmax[b]
	}
	if wrap := lo + 360 - hi; wrap >= gap/2 {
		return lo, hi, true
	}
	return gapWest, gapEast, true
}
