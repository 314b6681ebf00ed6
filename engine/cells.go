package engine

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/regions"
)

// The extent of cells, for the "overlap" rule and for regions thinner than
// a cell: from the coordinates' bounds variables when the file has them
// (CF cell boundaries), otherwise half-way between neighbouring centres.

// axisEdges returns the lower and upper edge of each cell of a 1-D
// coordinate. Longitude edges are unwrapped next to their centre.
func axisEdges(src ncmodel.Source, v *ncmodel.Var, centres []float64, isLon bool) (lo, hi []float64) {
	n := len(centres)
	lo, hi = make([]float64, n), make([]float64, n)
	diff := stepFunc(isLon)
	if b := boundsVar(src.File(), v); b != nil && len(b.Dims) == 2 && b.Dims[0] == v.Dims[0] && b.Dims[1].Len == 2 {
		if vals, err := CoordValues(src, b); err == nil && len(vals) == 2*n {
			for i, c := range centres {
				a, z := c+diff(c, vals[2*i]), c+diff(c, vals[2*i+1])
				lo[i], hi[i] = math.Min(a, z), math.Max(a, z)
			}
			return lo, hi
		}
	}
	return centreEdges(centres, isLon)
}

// stepFunc returns the step from a to b along an axis: b - a, modulo 360
// (the shorter way) along longitudes.
func stepFunc(isLon bool) func(a, b float64) float64 {
	return func(a, b float64) float64 {
		if isLon {
			return math.Remainder(b-a, 360)
		}
		return b - a
	}
}

// centreEdges returns the edges of 1-D cells half-way to the neighbouring
// centres, the first and last cells as wide as their neighbours (a single
// cell has no width). Half-way is taken to the nearest valid centre on
// each side, as a step per index: a missing centre (NaN, a fill cell of a
// damaged coordinate) has no extent and leaves its neighbours the width of
// their other steps. Longitude edges are unwrapped next to their centre.
func centreEdges(centres []float64, isLon bool) (lo, hi []float64) {
	n := len(centres)
	lo, hi = make([]float64, n), make([]float64, n)
	diff := stepFunc(isLon)
	prev, next := make([]int, n), make([]int, n)
	last := -1
	for i, c := range centres {
		prev[i] = last
		if !math.IsNaN(c) {
			last = i
		}
	}
	last = -1
	for i := n - 1; i >= 0; i-- {
		next[i] = last
		if !math.IsNaN(centres[i]) {
			last = i
		}
	}
	for i, c := range centres {
		if math.IsNaN(c) {
			lo[i], hi[i] = math.NaN(), math.NaN()
			continue
		}
		var left, right float64 // half steps towards the previous and the next cell
		hasL, hasR := prev[i] >= 0, next[i] >= 0
		if hasL {
			left = diff(c, centres[prev[i]]) / float64(2*(i-prev[i]))
		}
		if hasR {
			right = diff(c, centres[next[i]]) / float64(2*(next[i]-i))
		}
		switch {
		case !hasL && !hasR:
		case !hasL:
			left = -right // the first cell as wide as its neighbour
		case !hasR:
			right = -left
		}
		lo[i], hi[i] = math.Min(c+left, c+right), math.Max(c+left, c+right)
	}
	return lo, hi
}

// cellGeom gives the extent of each cell of a 2-D or along-track grid.
type cellGeom struct {
	shape    []int
	lat, lon []float64
	// corners of 2-D cells from a bounds variable (lat_bnds(j, i, nv)),
	// nv per cell; nil when computed from the centres.
	bLat, bLon []float64
	nv         int
}

func newCellGeom(src ncmodel.Source, g Grid, lat, lon []float64) *cellGeom {
	c := &cellGeom{shape: g.Lat.Shape(), lat: lat, lon: lon}
	if g.Kind != Curvilinear {
		return c
	}
	bl, bo := boundsVar(src.File(), g.Lat), boundsVar(src.File(), g.Lon)
	if bl == nil || bo == nil || len(bl.Dims) != 3 || len(bo.Dims) != 3 || bl.Dims[2].Len < 3 {
		return c
	}
	la, err1 := CoordValues(src, bl)
	lo, err2 := CoordValues(src, bo)
	if err1 != nil || err2 != nil || len(la) != len(lat)*bl.Dims[2].Len || len(lo) != len(la) {
		return c
	}
	c.bLat, c.bLon, c.nv = la, lo, bl.Dims[2].Len
	return c
}

// at returns the centre of cell (y, x), clamped to the grid.
func (c *cellGeom) at(y, x int) (lon, lat float64) {
	y = min(max(y, 0), c.shape[0]-1)
	x = min(max(x, 0), c.shape[1]-1)
	k := y*c.shape[1] + x
	return c.lon[k], c.lat[k]
}

// cell returns the extent of cell k: the quadrilateral of its corners on a
// 2-D grid; along a track the path from the mid-point to the previous
// sample through the sample to the mid-point to the next. Longitudes are
// unwrapped next to the cell's centre. Nil when the centre is missing.
func (c *cellGeom) cell(k int) []orb.Point {
	x0, y0 := c.lon[k], c.lat[k]
	if math.IsNaN(x0) || math.IsNaN(y0) {
		return nil
	}
	unwrap := func(x float64) float64 { return x0 + math.Remainder(x-x0, 360) }
	if len(c.shape) == 1 {
		n := c.shape[0]
		var out []orb.Point
		for _, nb := range []int{k - 1, k + 1} {
			if nb == k+1 {
				out = append(out, orb.Point{x0, y0})
			}
			j := nb
			if j < 0 || j >= n || math.IsNaN(c.lat[j]) || math.IsNaN(c.lon[j]) {
				j = 2*k - nb // extrapolate from the other neighbour
			}
			if j < 0 || j >= n || math.IsNaN(c.lat[j]) || math.IsNaN(c.lon[j]) {
				out = append(out, orb.Point{x0, y0})
				continue
			}
			x, y := unwrap(c.lon[j]), c.lat[j]
			if j != nb {
				x, y = 2*x0-x, 2*y0-y
			}
			out = append(out, orb.Point{(x0 + x) / 2, (y0 + y) / 2})
		}
		return out
	}
	if c.bLat != nil {
		out := make([]orb.Point, 0, c.nv)
		for v := 0; v < c.nv; v++ {
			la, lo := c.bLat[k*c.nv+v], c.bLon[k*c.nv+v]
			if math.IsNaN(la) || math.IsNaN(lo) {
				return nil
			}
			out = append(out, orb.Point{unwrap(lo), la})
		}
		return out
	}
	// Corners: the mean of the four centres around each, with the centres
	// beyond the grid's edge mirrored through the edge cell.
	y, x := k/c.shape[1], k%c.shape[1]
	centre := func(yy, xx int) (float64, float64, bool) {
		cy, cx := min(max(yy, 0), c.shape[0]-1), min(max(xx, 0), c.shape[1]-1)
		lo, la := c.at(cy, cx)
		if math.IsNaN(lo) || math.IsNaN(la) {
			return 0, 0, false
		}
		lo = unwrap(lo)
		if cy != yy || cx != xx { // mirrored
			mx, my := c.at(2*cy-yy, 2*cx-xx)
			if math.IsNaN(mx) || math.IsNaN(my) {
				return 0, 0, false
			}
			mx = unwrap(mx)
			// The centre beyond the edge: edge cell + (edge cell - inner cell).
			lo, la = 2*lo-mx, 2*la-my
		}
		return lo, la, true
	}
	out := make([]orb.Point, 0, 4)
	for _, d := range [][2]int{{-1, -1}, {-1, 1}, {1, 1}, {1, -1}} {
		sx, sy := 0.0, 0.0
		for _, e := range [][2]int{{0, 0}, {d[0], 0}, {0, d[1]}, {d[0], d[1]}} {
			lo, la, ok := centre(y+e[0], x+e[1])
			if !ok {
				return []orb.Point{{x0, y0}}
			}
			sx, sy = sx+lo, sy+la
		}
		out = append(out, orb.Point{sx / 4, sy / 4})
	}
	return out
}

// meets reports whether area a meets cell k. Cells of 2-D grids are first
// shrunk by tol so that a cell that only touches the area does not count,
// unless the area itself has no extent (points, lines).
func (c *cellGeom) meets(a regions.Area, k int, tol float64, flat bool) bool {
	cell := c.cell(k)
	if len(cell) == 0 {
		return false
	}
	if len(c.shape) == 1 {
		return a.Meets(cell[:2]) || a.Meets(cell[1:])
	}
	if !flat {
		cell = shrink(cell, tol)
	}
	return a.Meets(cell)
}

// shrink moves a cell's vertices towards its centre by tol degrees at
// most, so that cells that only touch a region do not meet it.
func shrink(cell []orb.Point, tol float64) []orb.Point {
	if len(cell) < 3 {
		return cell
	}
	cx, cy := 0.0, 0.0
	for _, q := range cell {
		cx, cy = cx+q[0], cy+q[1]
	}
	cx, cy = cx/float64(len(cell)), cy/float64(len(cell))
	out := make([]orb.Point, len(cell))
	for i, q := range cell {
		d := math.Hypot(q[0]-cx, q[1]-cy)
		f := 0.0
		if d > 0 {
			f = math.Min(tol/d, 0.5)
		}
		out[i] = orb.Point{q[0] + (cx-q[0])*f, q[1] + (cy-q[1])*f}
	}
	return out
}

// span returns the latitude and longitude extent of a cell.
func span(cell []orb.Point) (dlat, dlon float64) {
	if len(cell) == 0 {
		return 0, 0
	}
	x0, x1, y0, y1 := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, q := range cell {
		x0, x1, y0, y1 = math.Min(x0, q[0]), math.Max(x1, q[0]), math.Min(y0, q[1]), math.Max(y1, q[1])
	}
	return y1 - y0, x1 - x0
}
