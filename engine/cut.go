package engine

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/regions"
)

// Selection rules: which cells a region takes.
const (
	// SelectCentre takes the cells whose centre lies in the region (edges
	// included). A region thinner than a cell that holds no centre (a
	// point, a line, a box between two centres) takes the cells it meets.
	SelectCentre = "centre"
	// SelectOverlap takes the cells whose extent (from bounds variables,
	// else half-way to the neighbouring centres) meets the region: sharing
	// an edge is not enough.
	SelectOverlap = "overlap"
)

// gridVals are the unpacked coordinates of a grid and what every region's
// cut of it shares.
type gridVals struct {
	g              Grid
	index          int // in Coords.Grids
	dims           []*ncmodel.Dim
	lat, lon       []float64
	periodic       []bool // per dimension: the index goes round the globe
	ct             *cellTime
	inTime         []bool // per cell: its time lies in the time range; nil when the range does not apply to cells
	latTol, lonTol float64
	src            ncmodel.Source

	geom                       *cellGeom // 2-D and track cell extents, made on first use
	latLo, latHi, lonLo, lonHi []float64 // rectilinear cell edges, made on first use
	dLat, dLon                 float64   // 2-D and track: the largest step between neighbouring centres
}

func newGridVals(src ncmodel.Source, c Coords, g Grid, index int, lat, lon []float64, member map[*ncmodel.Var][]int) *gridVals {
	x := &gridVals{g: g, index: index, dims: g.Dims(), lat: lat, lon: lon, src: src,
		latTol: regions.Tolerance(g.Lat.Type == ncmodel.Float), lonTol: regions.Tolerance(g.Lon.Type == ncmodel.Float),
		ct: gridTime(src.File(), c, g, member, index)}
	x.periodic = make([]bool, len(x.dims))
	switch g.Kind {
	case Rectilinear:
		x.periodic[1] = regions.IsPeriodic(lon)
	case Curvilinear:
		shape := g.Lat.Shape()
		for d := 0; d < 2; d++ {
			n, other := shape[d], shape[1-d]
			line := make([]float64, n)
			yes := 0
			for o := 0; o < other; o++ {
				for i := 0; i < n; i++ {
					if d == 1 {
						line[i] = lon[o*n+i]
					} else {
						line[i] = lon[i*other+o]
					}
				}
				if regions.IsPeriodic(line) {
					yes++
				}
			}
			x.periodic[d] = other > 0 && 2*yes >= other
		}
	}
	return x
}

// Why a region takes nothing of a grid.
type missKind int

const (
	missOutside missKind = iota // the region does not meet the grid
	missBetween                 // it meets cells but holds no centre: the overlap rule would take them
	missGap                     // it lies inside the grid's extent, in a gap between its cells
)

// cut selects a region's cells on one grid. It returns nil, why and the
// kind of miss when nothing is selected.
func (p *filePlan) cut(x *gridVals, a regions.Resolved) (c *gridCut, why string, miss missKind) {
	if x.g.Kind == Rectilinear {
		return p.cutRect(x, a)
	}
	return p.cutCells(x, a)
}

// gridCut is one grid's selection for a region: per dimension the runs of
// indices to take (in output order), and which cells are inside.
type gridCut struct {
	x      *gridVals
	runs   [][]regions.Run
	inside func(idx []int) bool // by input index along x.dims
}

func anyTrue(b []bool) bool {
	for _, v := range b {
		if v {
			return true
		}
	}
	return false
}

// edges1D makes the cell edges of a rectilinear grid.
func (x *gridVals) edges1D() {
	if x.latLo == nil {
		x.latLo, x.latHi = axisEdges(x.src, x.g.Lat, x.lat, false)
		x.lonLo, x.lonHi = axisEdges(x.src, x.g.Lon, x.lon, true)
	}
}

// axisSel marks the indices of a 1-D axis a range takes under the rule:
// centre(i) says whether centre i lies in the range, meets(i) whether cell i
// meets it (and how wide cell i is). Under the centre rule a range holding
// no centre but narrower than a cell it meets (a line, a range between two
// centres) takes the cells it meets.
func axisSel(n int, rule string, width float64, centre func(int) bool, meets func(int) (bool, float64)) []bool {
	out := make([]bool, n)
	if rule == SelectCentre {
		found := false
		for i := range out {
			out[i] = centre(i)
			found = found || out[i]
		}
		if found {
			return out
		}
	}
	widest := 0.0
	for i := range out {
		var w float64
		if out[i], w = meets(i); out[i] {
			widest = math.Max(widest, w)
		}
	}
	if rule == SelectCentre && width >= widest {
		return make([]bool, n)
	}
	return out
}

// latSel marks the rows a latitude range takes under the rule (axisSel).
func (x *gridVals) latSel(s, n float64, rule string) []bool {
	tol := x.latTol
	return axisSel(len(x.lat), rule, n-s, func(i int) bool { return x.lat[i] >= s-tol && x.lat[i] <= n+tol }, func(i int) (bool, float64) {
		x.edges1D()
		lo, hi := x.latLo[i], x.latHi[i]
		if s == n {
			return s >= lo-tol && s <= hi+tol, hi - lo
		}
		return hi > s+tol && lo < n-tol, hi - lo
	})
}

// lonSel marks the columns a box's longitude span takes, modulo 360
// (axisSel).
func (x *gridVals) lonSel(b regions.BBox, rule string) []bool {
	width := b.LonWidth()
	if b.East-b.West >= 360 || width >= 360 {
		out := make([]bool, len(x.lon))
		for i := range out {
			out[i] = true
		}
		return out
	}
	tol := x.lonTol
	return axisSel(len(x.lon), rule, width, func(i int) bool { return regions.InLon(x.lon[i], b.West, width, tol) }, func(i int) (bool, float64) {
		x.edges1D()
		lo, hi := x.lonLo[i], x.lonHi[i]
		if math.IsNaN(lo) {
			return false, 0
		}
		if width == 0 {
			return regions.InLon(b.West, lo, hi-lo, tol), hi - lo
		}
		d := math.Mod(lo-b.West, 360)
		if d < 0 {
			d += 360
		}
		return d < width-tol || d+(hi-lo) > 360+tol, hi - lo
	})
}

// rect is the extent of cell (j, i) of a rectilinear grid.
func (x *gridVals) rect(j, i int) []orb.Point {
	x.edges1D()
	return []orb.Point{{x.lonLo[i], x.latLo[j]}, {x.lonHi[i], x.latLo[j]}, {x.lonHi[i], x.latHi[j]}, {x.lonLo[i], x.latHi[j]}}
}

// flat reports whether an area has no extent in latitude or longitude (a
// point, a line): cells touching it count as meeting it.
func flat(a regions.Area) bool {
	b := a.Bounds()
	return b.South == b.North || b.LonWidth() == 0
}

// thinner reports whether an area is narrower, in latitude or in
// longitude, than the widest of the cells (extents) it meets.
func thinner(a regions.Area, cells [][]orb.Point) bool {
	b := a.Bounds()
	dlat, dlon := 0.0, 0.0
	for _, c := range cells {
		y, x := span(c)
		dlat, dlon = math.Max(dlat, y), math.Max(dlon, x)
	}
	return b.North-b.South < dlat || b.LonWidth() < dlon
}

func (p *filePlan) cutRect(x *gridVals, a regions.Resolved) (*gridCut, string, missKind) {
	b := a.Area.Bounds()
	nlat, nlon := len(x.lat), len(x.lon)
	miss := func() string { return fmt.Sprintf("latitude %s, longitude %s", extent(x.lat), extent(x.lon)) }
	var rows, cols []bool
	var inside func(j, i int) bool
	switch pts := regions.PointsOf(a.Area); {
	case pts != nil:
		// The cells containing each point.
		set := map[[2]int]bool{}
		rows, cols = make([]bool, nlat), make([]bool, nlon)
		for _, q := range pts {
			rs := x.latSel(q[1], q[1], SelectOverlap)
			cs := x.lonSel(regions.BBox{West: q[0], South: q[1], East: q[0], North: q[1]}, SelectOverlap)
			for j, r := range rs {
				for i, c := range cs {
					if r && c {
						set[[2]int{j, i}] = true
						rows[j], cols[i] = true, true
					}
				}
			}
		}
		inside = func(j, i int) bool { return set[[2]int{j, i}] }
	case a.Area.IsBox():
		rows, cols = x.latSel(b.South, b.North, p.rule), x.lonSel(b, p.rule)
		inside = func(j, i int) bool { return rows[j] && cols[i] }
	default:
		// Candidates: the cells meeting the bounds; then each cell's own test.
		crows, ccols := x.latSel(b.South, b.North, SelectOverlap), x.lonSel(b, SelectOverlap)
		var rowIdx, colIdx []int
		for j, r := range crows {
			if r {
				rowIdx = append(rowIdx, j)
			}
		}
		for i, c := range ccols {
			if c {
				colIdx = append(colIdx, i)
			}
		}
		if len(rowIdx) == 0 || len(colIdx) == 0 {
			return nil, miss(), missOutside
		}
		rowPos, colPos := make([]int, nlat), make([]int, nlon)
		for j := range rowPos {
			rowPos[j] = -1
		}
		for i := range colPos {
			colPos[i] = -1
		}
		for k, j := range rowIdx {
			rowPos[j] = k
		}
		for k, i := range colIdx {
			colPos[i] = k
		}
		in := make([]bool, len(rowIdx)*len(colIdx))
		fl := flat(a.Area)
		test := func(rule string) bool {
			found := false
			for r, j := range rowIdx {
				for c, i := range colIdx {
					var ok bool
					if rule == SelectCentre {
						ok = a.Area.Contains(x.lon[i], x.lat[j])
					} else {
						cell := x.rect(j, i)
						if !fl {
							cell = shrink(cell, math.Max(x.latTol, x.lonTol))
						}
						ok = a.Area.Contains(x.lon[i], x.lat[j]) || a.Area.Meets(cell)
					}
					in[r*len(colIdx)+c] = ok
					found = found || ok
				}
			}
			return found
		}
		if !test(p.rule) {
			if p.rule != SelectCentre || !test(SelectOverlap) {
				return nil, fmt.Sprintf("no cell of %s meets the region", x.g.Lat.Path()), missOutside
			}
			var met [][]orb.Point
			for r, j := range rowIdx {
				for c, i := range colIdx {
					if in[r*len(colIdx)+c] {
						met = append(met, x.rect(j, i))
					}
				}
			}
			if !thinner(a.Area, met) {
				return nil, fmt.Sprintf("no cell centre of %s lies inside the region", x.g.Lat.Path()), missBetween
			}
		}
		rows, cols = make([]bool, nlat), make([]bool, nlon)
		for r, j := range rowIdx {
			for c, i := range colIdx {
				if in[r*len(colIdx)+c] {
					rows[j], cols[i] = true, true
				}
			}
		}
		inside = func(j, i int) bool {
			r, c := rowPos[j], colPos[i]
			return r >= 0 && c >= 0 && in[r*len(colIdx)+c]
		}
	}
	if !anyTrue(rows) || !anyTrue(cols) {
		return nil, miss(), missOutside
	}
	lonRuns := regions.ShiftRuns(x.lon, regions.CoverRuns(cols, x.periodic[1]), b.West, x.lonTol)
	return &gridCut{x: x, runs: [][]regions.Run{regions.CoverRuns(rows, false), lonRuns},
		inside: func(idx []int) bool { return inside(idx[0], idx[1]) }}, "", missOutside
}

// cutCells selects on a 2-D grid or a track: the cells inside the region
// (and, when the time range applies to cells, inside it), then per
// dimension the smallest range holding them, going round the globe on
// periodic columns.
func (p *filePlan) cutCells(x *gridVals, a regions.Resolved) (*gridCut, string, missKind) {
	n := len(x.lat)
	inside := make([]bool, n)
	if x.geom == nil {
		x.geom = newCellGeom(x.src, x.g, x.lat, x.lon)
		x.dLat, x.dLon = neighbourSteps(x.g.Lat.Shape(), x.lat, x.lon)
	}
	b := a.Area.Bounds()
	// Cells whose centre is far from the region's bounds cannot meet it.
	near := func(k int) bool {
		la, lo := x.lat[k], x.lon[k]
		if math.IsNaN(la) || math.IsNaN(lo) || la < b.South-2*x.dLat || la > b.North+2*x.dLat {
			return false
		}
		return regions.InLon(lo, b.West-2*x.dLon, b.LonWidth()+4*x.dLon, 0)
	}
	tol := math.Max(x.latTol, x.lonTol)
	fl := flat(a.Area)
	overlap := func() bool {
		found := false
		for k := range inside {
			inside[k] = near(k) && (a.Area.Contains(x.lon[k], x.lat[k]) || x.geom.meets(a.Area, k, tol, fl))
			found = found || inside[k]
		}
		return found
	}
	kind := string(x.g.Kind)
	noCell := fmt.Sprintf("no cell of the %s grid %s lies inside (latitude %s, longitude %s)", kind, x.g.Lat.Path(), extent(x.lat), extent(x.lon))
	// A region whose middle lies inside the grid's extent and that meets
	// none of its cells is in a gap (between the passes of a swath, off a
	// track): not outside the data.
	noCellKind := missOutside
	if lo, hi := minMax(x.lat); (b.South+b.North)/2 >= lo && (b.South+b.North)/2 <= hi {
		if w, e, ok := regions.LonExtent(x.lon); ok && regions.InLon(b.West+b.LonWidth()/2, w, math.Mod(e-w+360, 360), 0) {
			noCellKind = missGap
			noCell = fmt.Sprintf("the region lies inside the extent of the %s grid %s (latitude %s, longitude %s) and meets none of its cells", kind, x.g.Lat.Path(), extent(x.lat), extent(x.lon))
		}
	}
	switch pts := regions.PointsOf(a.Area); {
	case pts != nil && x.g.Kind == Track:
		for _, q := range pts {
			for _, k := range nearestSamples(x.lat, x.lon, q) {
				inside[k] = true
			}
		}
		if !anyTrue(inside) {
			return nil, fmt.Sprintf("no sample of the track %s lies within one sample spacing of the points", x.g.Lat.Path()), noCellKind
		}
	case pts != nil || p.rule == SelectOverlap:
		if !overlap() {
			return nil, noCell, noCellKind
		}
	default:
		found := false
		for k := range inside {
			inside[k] = a.Area.Contains(x.lon[k], x.lat[k])
			found = found || inside[k]
		}
		if !found {
			if !overlap() {
				return nil, noCell, noCellKind
			}
			var met [][]orb.Point
			for k, in := range inside {
				if in {
					met = append(met, x.geom.cell(k))
				}
			}
			if !thinner(a.Area, met) {
				return nil, fmt.Sprintf("no cell centre of the %s grid %s lies inside the region", kind, x.g.Lat.Path()), missBetween
			}
		}
	}
	if x.inTime != nil {
		found := false
		for k := range inside {
			inside[k] = inside[k] && x.inTime[k]
			found = found || inside[k]
		}
		if !found {
			return nil, fmt.Sprintf("no cell of the %s grid %s inside the region lies in the time range (%s)", kind, x.g.Lat.Path(), x.timeSpan()), missOutside
		}
	}
	shape := x.g.Lat.Shape()
	marks := make([][]bool, len(shape))
	for d := range marks {
		marks[d] = make([]bool, shape[d])
	}
	for k, in := range inside {
		if !in {
			continue
		}
		rem := k
		for d := len(shape) - 1; d >= 0; d-- {
			marks[d][rem%shape[d]] = true
			rem /= shape[d]
		}
	}
	c := &gridCut{x: x, runs: make([][]regions.Run, len(shape))}
	for d := range shape {
		c.runs[d] = regions.CoverRuns(marks[d], x.periodic[d])
	}
	c.inside = func(idx []int) bool {
		k := 0
		for d := range shape {
			k = k*shape[d] + idx[d]
		}
		return inside[k]
	}
	return c, "", missOutside
}

// timeSpan formats the times of a grid's cells, for messages.
func (x *gridVals) timeSpan() string {
	vals, err := x.ct.values(x.src, x.g)
	if err != nil {
		return err.Error()
	}
	u, err := TimeAxis(x.ct.v)
	if err != nil {
		return err.Error()
	}
	return "times " + timeCoverage(u, vals)
}

// neighbourSteps returns the largest latitude and longitude steps between
// neighbouring centres of a grid (longitudes modulo 360).
func neighbourSteps(shape []int, lat, lon []float64) (dlat, dlon float64) {
	stride := 1
	for d := len(shape) - 1; d >= 0; d-- {
		for k := range lat {
			if (k/stride)%shape[d] == shape[d]-1 {
				continue
			}
			j := k + stride
			if y := math.Abs(lat[j] - lat[k]); y > dlat {
				dlat = y
			}
			if x := math.Abs(math.Remainder(lon[j]-lon[k], 360)); x > dlon {
				dlon = x
			}
		}
		stride *= shape[d]
	}
	return dlat, dlon
}

// nearestSamples returns, for each pass of a track near point q (a run of
// samples within one sample spacing of it), the sample nearest to q.
// Distances are in degrees, longitude scaled by the cosine of latitude.
func nearestSamples(lat, lon []float64, q orb.Point) []int {
	n := len(lat)
	dist := func(la, lo, la2, lo2 float64) float64 {
		c := math.Cos((la + la2) / 2 * math.Pi / 180)
		return math.Hypot(la-la2, math.Remainder(lo-lo2, 360)*c)
	}
	spacing := func(k int) float64 {
		s := math.NaN()
		for _, j := range []int{k - 1, k + 1} {
			if j >= 0 && j < n {
				if d := dist(lat[k], lon[k], lat[j], lon[j]); !math.IsNaN(d) && (math.IsNaN(s) || d > s) {
					s = d
				}
			}
		}
		return s
	}
	var out []int
	best, bestD := -1, math.Inf(1)
	for k := 0; k <= n; k++ {
		within := false
		var d float64
		if k < n {
			d = dist(lat[k], lon[k], q[1], q[0])
			within = d <= spacing(k)+1e-9
		}
		if within {
			if d < bestD {
				best, bestD = k, d
			}
			continue
		}
		if best >= 0 {
			out = append(out, best)
		}
		best, bestD = -1, math.Inf(1)
	}
	return out
}

// maskOf builds the mask of the variables lying on a set of grids (one,
// or several on the same dimensions) over the region's final selection of
// their dimensions, which other grids may have widened: a cell is inside
// when it is inside on any of cs. It returns nil when every cell is inside.
func (p *filePlan) maskOf(rp *regionPlan, cs []*gridCut, set []int) *gridMask {
	dims := cs[0].x.dims
	in := outputIndices(rp, dims)
	m := &gridMask{dims: dims, grids: set, of: p.varGrid}
	for _, l := range in {
		m.shape = append(m.shape, len(l))
	}
	m.inside = make([]bool, ncmodel.Product(m.shape))
	all := true
	idx := make([]int, len(dims))
	for o := range m.inside {
		rem := o
		for d := len(dims) - 1; d >= 0; d-- {
			idx[d] = in[d][rem%m.shape[d]]
			rem /= m.shape[d]
		}
		for _, c := range cs {
			m.inside[o] = m.inside[o] || c.inside(idx)
		}
		all = all && m.inside[o]
	}
	if all {
		return nil
	}
	return m
}

// outputIndices lists, per dimension, the input index at each output
// position of the region's selection.
func outputIndices(rp *regionPlan, dims []*ncmodel.Dim) [][]int {
	in := make([][]int, len(dims))
	for d, dim := range dims {
		s := rp.sel[dim]
		for _, r := range s.runs {
			for i := r.Start; i < r.Start+r.Count; i += s.stride {
				in[d] = append(in[d], i)
			}
		}
	}
	return in
}

// setCutExtent records the region's extent from a grid's cut: the cells
// of the output box on a rectilinear grid, the inside cells on others.
func (p *filePlan) setCutExtent(rp *regionPlan, c *gridCut) {
	dims := c.x.dims
	if c.x.g.Kind == Rectilinear {
		p.setExtent(rp, selected(c.x.lat, rp.sel[dims[0]]), selected(c.x.lon, rp.sel[dims[1]]), nil)
		return
	}
	in := outputIndices(rp, dims)
	shape := make([]int, len(dims))
	for d := range in {
		shape[d] = len(in[d])
	}
	var las, los []float64
	idx := make([]int, len(dims))
	for o := 0; o < ncmodel.Product(shape); o++ {
		rem := o
		for d := len(dims) - 1; d >= 0; d-- {
			idx[d] = in[d][rem%shape[d]]
			rem /= shape[d]
		}
		if !c.inside(idx) {
			continue
		}
		k := 0
		for d, dim := range dims {
			k = k*dim.Len + idx[d]
		}
		las, los = append(las, c.x.lat[k]), append(los, c.x.lon[k])
	}
	p.setExtent(rp, las, los, nil)
}
