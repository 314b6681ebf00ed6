package engine

import (
	"fmt"
	"math"
	"strings"

	"github.com/subsetd/subsetd/ncmodel"
)

// How the cells of a variable are weighted with weights "area", in the
// order tried: the variable's cell_measures area variable; the spherical
// area of each cell from its latitude/longitude bounds variables, or from
// the midpoints between coordinates on rectilinear grids (the polygon of
// its corners with great-circle edges, as CDO computes it); on 2-D grids
// without bounds or measures cos(latitude); swaths and tracks unweighted.
// Mean and std only depend on the ratios of the weights: areas are on the
// unit sphere.
const (
	weighNone    = iota // every cell weighs 1
	weighMeasure        // the cell_measures area variable
	weighRect           // rectilinear: cell corners from bounds or midpoints
	weighBounds         // 2-D grid: spherical polygons of the 2-D bounds
	weighCosLat         // 2-D grid: cos(latitude) of the centres
)

// weighting is how one variable's cells are weighted.
type weighting struct {
	kind       int
	measure    *ncmodel.Var // weighMeasure
	latB, lonB *ncmodel.Var // bounds of weighRect (either may be nil: midpoints) and weighBounds
	text       string       // said in the outputs (StatsVar.Weighting)
}

// weighingOf decides how variable sv's cells are weighted, noting what a
// user should know.
func (s *statsRun) weighingOf(sv *statsVar) weighting {
	if s.st.WeightRule() == WeightsNone {
		return weighting{kind: weighNone, text: WeightsNone}
	}
	v, g, f := sv.v, s.p.coords.Grids[sv.grid], s.p.file
	name := strings.TrimPrefix(v.Path(), "/")
	if m, ok := measureOf(v); ok {
		mv := resolveVar(v.Group, m)
		switch {
		case mv == nil:
			s.note("statistics of %s: its cell measure %s is not in %s (an external variable?): cell areas computed instead", name, m, baseName(f.Path))
		case !spansExactly(mv, g.Dims(), 0):
			s.note("statistics of %s: its cell measure %s does not span the grid's dimensions: cell areas computed instead", name, m)
		default:
			return weighting{kind: weighMeasure, measure: mv, text: "cell_measures area: " + strings.TrimPrefix(mv.Path(), "/")}
		}
	}
	latB, lonB := boundsVar(f, g.Lat), boundsVar(f, g.Lon)
	switch {
	case g.Kind == Rectilinear:
		if latB != nil && !spansExactly(latB, g.Lat.Dims, 2) {
			latB = nil
		}
		if lonB != nil && !spansExactly(lonB, g.Lon.Dims, 2) {
			lonB = nil
		}
		from := func(b *ncmodel.Var, c *ncmodel.Var) string {
			if b != nil {
				return "bounds " + b.Name
			}
			return "midpoints of " + c.Name
		}
		return weighting{kind: weighRect, latB: latB, lonB: lonB,
			text: fmt.Sprintf("spherical cell area from the %s and %s", from(latB, g.Lat), from(lonB, g.Lon))}
	case g.Kind == Track:
		s.note("statistics of %s: along-track data (%s): cells are not weighted", name, g.Lat.Path())
		return weighting{kind: weighNone, text: "none (along-track data)"}
	case isSwath(f, g):
		s.note("statistics of %s: swath data (%s): cells are not weighted", name, g.Lat.Path())
		return weighting{kind: weighNone, text: "none (swath)"}
	case latB != nil && lonB != nil && spansExactly(latB, g.Lat.Dims, 4) && spansExactly(lonB, g.Lon.Dims, 4):
		return weighting{kind: weighBounds, latB: latB, lonB: lonB,
			text: fmt.Sprintf("spherical cell area from the bounds %s and %s", latB.Name, lonB.Name)}
	}
	s.note("statistics of %s: the 2-D grid %s has neither cell bounds nor cell measures: cells are weighted by cos(latitude)", name, g.Lat.Path())
	return weighting{kind: weighCosLat, text: "cos(latitude)"}
}

// measureOf returns the variable named by "area: NAME" in v's cell_measures.
func measureOf(v *ncmodel.Var) (string, bool) {
	f := strings.Fields(v.AttrString("cell_measures"))
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "area:" {
			return f[i+1], true
		}
	}
	return "", false
}

// spansExactly reports whether v's dimensions are dims (in any order),
// followed by one dimension of length extra when extra > 0.
func spansExactly(v *ncmodel.Var, dims []*ncmodel.Dim, extra int) bool {
	n := len(dims)
	switch {
	case extra > 0 && (len(v.Dims) != n+1 || v.Dims[n].Len != extra):
		return false
	case extra == 0 && len(v.Dims) != n:
		return false
	}
	return spans(&ncmodel.Var{Dims: v.Dims[:n]}, dims)
}

// isSwath tells satellite swaths from model grids among 2-D grids: ACDD's
// cdm_data_type "Swath", or an HDF-EOS swath group.
func isSwath(f *ncmodel.File, g Grid) bool {
	if a, ok := f.Root.Attr("cdm_data_type"); ok && strings.EqualFold(strings.TrimSpace(a.Text()), "swath") {
		return true
	}
	for x := g.Lat.Group; x != nil; x = x.Parent {
		if strings.Contains(strings.ToLower(x.Name), "swath") {
			return true
		}
	}
	return false
}

// cellWeights are the weights of a region's cells on one grid, over the
// output positions of the grid's dimensions (n0 x n1, n1 = 1 for tracks):
// wy[o0]*wx[o1] on rectilinear grids weighted from coordinates, w[o0*n1+o1]
// otherwise, 1 when both are nil; cells outside the region (inside false)
// and cells without a weight (NaN) do not count.
type cellWeights struct {
	n0, n1 int
	wy, wx []float64
	w      []float64
	inside []bool
}

// row fills ws with the weights of the cells (o0+j*d0, o1+j*d1), NaN for
// those that do not count.
func (c *cellWeights) row(o0, o1, d0, d1 int, ws []float64) {
	for j := range ws {
		a, b := o0+j*d0, o1+j*d1
		k := a*c.n1 + b
		w := 1.0
		switch {
		case c.w != nil:
			w = c.w[k]
		case c.wy != nil:
			w = c.wy[a] * c.wx[b]
		}
		if c.inside != nil && !c.inside[k] {
			w = math.NaN()
		}
		ws[j] = w
	}
}

// weightsFor returns the weights of region rp's cells for variable sv.
func (s *statsRun) weightsFor(rp *regionPlan, sv *statsVar) (*cellWeights, error) {
	wt := sv.weighting
	key := weightKey{region: rp.index, grid: sv.grid, kind: wt.kind, measure: wt.measure}
	if c := s.weights[key]; c != nil {
		return c, nil
	}
	g := s.p.coords.Grids[sv.grid]
	dims := g.Dims()
	c := &cellWeights{n0: s.p.selFor(rp, dims[0]).outLen(), n1: 1}
	if len(dims) > 1 {
		c.n1 = s.p.selFor(rp, dims[1]).outLen()
	}
	var err error
	switch wt.kind {
	case weighMeasure:
		c.w, err = s.gridField(wt.measure, rp, dims, 1)
	case weighRect:
		var lat [][2]float64
		var lon []float64
		if lat, lon, err = s.rectEdges(sv.grid, wt); err == nil {
			c.rectAreas(pickAny(lat, s.p.selFor(rp, dims[0])), pickAny(lon, s.p.selFor(rp, dims[1])))
		}
	case weighBounds:
		var la, lo []float64
		if la, err = s.gridField(wt.latB, rp, dims, 4); err == nil {
			lo, err = s.gridField(wt.lonB, rp, dims, 4)
		}
		if err == nil {
			c.w = make([]float64, c.n0*c.n1)
			for k := range c.w {
				c.w[k] = sphericalArea(la[4*k:4*k+4], lo[4*k:4*k+4])
			}
		}
	case weighCosLat:
		if c.w, err = s.gridField(g.Lat, rp, dims, 1); err == nil {
			for k, y := range c.w {
				c.w[k] = math.Cos(y * math.Pi / 180)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	if m := maskOf(rp, sv.v); m != nil {
		c.inside = m.inside
	}
	s.weights[key] = c
	return c, nil
}

// pickAny returns the values of the input indices a selection takes, in
// output order.
func pickAny[T any](vals []T, sel *dimSel) []T {
	var out []T
	for _, r := range sel.runs {
		for i := r.Start; i < r.Start+r.Count; i += sel.stride {
			out = append(out, vals[i])
		}
	}
	return out
}

// rectAreas sets the weights of rectilinear cells from the latitude edges
// of their rows and the widths of their columns (degrees): the area of
// each cell's corners joined by great circles, as CDO computes cell areas
// from bounds. Separable (one area per row) when every column is as wide.
func (c *cellWeights) rectAreas(rows [][2]float64, widths []float64) {
	perRow := map[float64][]float64{}
	areas := func(w float64) []float64 {
		if a, ok := perRow[w]; ok {
			return a
		}
		a := make([]float64, len(rows))
		for i, e := range rows {
			a[i] = sphericalArea([]float64{e[0], e[0], e[1], e[1]}, []float64{0, w, w, 0})
		}
		perRow[w] = a
		return a
	}
	uniform := true
	for _, w := range widths {
		uniform = uniform && w == widths[0]
	}
	if uniform {
		c.wy = areas(widths[0])
		c.wx = make([]float64, len(widths))
		for i := range c.wx {
			c.wx[i] = 1
		}
		return
	}
	c.w = make([]float64, len(rows)*len(widths))
	for j, w := range widths {
		a := areas(w)
		for i := range rows {
			c.w[i*len(widths)+j] = a[i]
		}
	}
}

// rectEdges returns the latitude edges (clamped to [-90, 90]) and the
// longitude widths (degrees) of the cells of a rectilinear grid along its
// whole axes, from the bounds variables or, without them, from the
// midpoints between neighbouring coordinates (the end cells as wide as
// their neighbour), as CDO makes them.
func (s *statsRun) rectEdges(gi int, wt weighting) (lat [][2]float64, lon []float64, err error) {
	if a, ok := s.axes[gi]; ok {
		return a.lat, a.lon, nil
	}
	g := s.p.coords.Grids[gi]
	edges := func(c, b *ncmodel.Var) ([][2]float64, error) {
		if b != nil {
			a, err := s.read(b, []int{0, 0}, b.Shape(), nil)
			if err != nil {
				return nil, err
			}
			vals := a.Float64s()
			unpackingOf(b).apply(vals)
			out := make([][2]float64, len(vals)/2)
			for i := range out {
				out[i] = [2]float64{vals[2*i], vals[2*i+1]}
			}
			return out, nil
		}
		vals := s.p.coordValuesFor()[c]
		if vals == nil {
			return nil, fmt.Errorf("no values of %s", c.Name)
		}
		if len(vals) == 1 {
			return [][2]float64{{vals[0] - 0.5, vals[0] + 0.5}}, nil
		}
		lo, hi := centreEdges(vals, c == g.Lon)
		out := make([][2]float64, len(vals))
		for i := range out {
			out[i] = [2]float64{lo[i], hi[i]}
		}
		return out, nil
	}
	if lat, err = edges(g.Lat, wt.latB); err != nil {
		return nil, nil, err
	}
	oe, err := edges(g.Lon, wt.lonB)
	if err != nil {
		return nil, nil, err
	}
	for i, e := range lat {
		lat[i] = [2]float64{clampLat(e[0]), clampLat(e[1])}
	}
	lon = make([]float64, len(oe))
	for i, e := range oe {
		d := math.Abs(e[1] - e[0])
		if d < 360 {
			d = math.Abs(math.Remainder(e[1]-e[0], 360))
		} else {
			d = 360
		}
		lon[i] = d
	}
	s.axes[gi] = rectAxes{lat, lon}
	return lat, lon, nil
}

// rectAxes are the cell edges of a rectilinear grid (rectEdges).
type rectAxes struct {
	lat [][2]float64
	lon []float64
}

func clampLat(x float64) float64 { return math.Max(-90, math.Min(90, x)) }

// gridField reads variable v (spanning the grid's dimensions, then k values
// per cell when k > 1) over region rp's cells, unpacked, laid out over the
// output positions of dims.
func (s *statsRun) gridField(v *ncmodel.Var, rp *regionPlan, dims []*ncmodel.Dim, k int) ([]float64, error) {
	shape := make([]int, len(dims))
	for i, d := range dims {
		shape[i] = s.p.selFor(rp, d).outLen()
	}
	n1 := 1
	if len(shape) > 1 {
		n1 = shape[1]
	}
	out := make([]float64, ncmodel.Product(shape)*k)
	for i := range out {
		out[i] = math.NaN()
	}
	where := make([]int, len(dims)) // position of each grid dimension in v
	for i, d := range dims {
		for j, x := range v.Dims {
			if x == d {
				where[i] = j
			}
		}
	}
	u := unpackingOf(v)
	rank := len(v.Dims)
	for _, b := range s.p.boxes(v, rp) {
		a, err := s.read(v, b.start, b.count, b.stride)
		if err != nil {
			return nil, err
		}
		vals := a.Float64s()
		u.apply(vals)
		idx := make([]int, rank)
		for _, x := range vals {
			o0 := b.out[where[0]] + idx[where[0]]
			o1 := 0
			if len(dims) > 1 {
				o1 = b.out[where[1]] + idx[where[1]]
			}
			e := 0
			if k > 1 {
				e = idx[rank-1]
			}
			out[(o0*n1+o1)*k+e] = x
			for d := rank - 1; d >= 0; d-- {
				idx[d]++
				if idx[d] < b.count[d] {
					break
				}
				idx[d] = 0
			}
		}
	}
	return out, nil
}

// sphericalArea is the area on the unit sphere of the polygon with the
// given vertices (degrees) and great-circle edges: the spherical excess of
// the triangles fanned from the first vertex (Van Oosterom and Strackee).
func sphericalArea(lat, lon []float64) float64 {
	vec := func(i int) [3]float64 {
		y, x := lat[i]*math.Pi/180, lon[i]*math.Pi/180
		return [3]float64{math.Cos(y) * math.Cos(x), math.Cos(y) * math.Sin(x), math.Sin(y)}
	}
	dot := func(a, b [3]float64) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }
	area := 0.0
	a := vec(0)
	for i := 1; i+1 < len(lat); i++ {
		b, c := vec(i), vec(i+1)
		cross := [3]float64{b[1]*c[2] - b[2]*c[1], b[2]*c[0] - b[0]*c[2], b[0]*c[1] - b[1]*c[0]}
		area += 2 * math.Atan2(math.Abs(dot(a, cross)), 1+dot(a, b)+dot(b, c)+dot(c, a))
	}
	return area
}
