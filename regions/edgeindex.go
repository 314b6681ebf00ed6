package regions

import (
	"math"
	"slices"
	"sort"
	"sync/atomic"

	"github.com/paulmach/orb"
)

// The index a polygon is prepared with: O(V log V) time and O(V) memory
// for V vertices, whatever the shape (a ring of long edges each spanning
// most latitudes costs what a compact one does), and queries that look at
// the edges near a point or a cell rather than all of them.

// rect is an axis-aligned box.
type rect struct{ x0, y0, x1, y1 float64 }

func (r rect) meets(q rect) bool { return r.x0 <= q.x1 && r.x1 >= q.x0 && r.y0 <= q.y1 && r.y1 >= q.y0 }

// grow returns the box widened by d on every side.
func (r rect) grow(d float64) rect { return rect{r.x0 - d, r.y0 - d, r.x1 + d, r.y1 + d} }

// boxTree is a static R-tree of boxes packed by sort-tile-recursive: items
// are sorted into vertical slices by their centres' x, each slice by y,
// and cut into leaves of fanout boxes; each upper level groups fanout
// consecutive nodes of the level below. Its size is about 1 + 1/fanout
// times the number of items.
type boxTree struct {
	ids    []int32 // level 0: the items in packed order
	boxes  []rect  // every level, level 0 first: the item boxes, then node boxes
	starts []int   // where each level begins in boxes; the last level is the root's
}

const fanout = 16

func newBoxTree(items []rect) boxTree {
	n := len(items)
	t := boxTree{ids: make([]int32, n)}
	for i := range t.ids {
		t.ids[i] = int32(i)
	}
	if n == 0 {
		return t
	}
	cx := func(i int32) float64 { return items[i].x0/2 + items[i].x1/2 }
	cy := func(i int32) float64 { return items[i].y0/2 + items[i].y1/2 }
	slices.SortFunc(t.ids, func(a, b int32) int { return cmpFloat(cx(a), cx(b)) })
	leaves := (n + fanout - 1) / fanout
	perSlice := int(math.Ceil(math.Sqrt(float64(leaves)))) * fanout
	for s := 0; s < n; s += perSlice {
		sl := t.ids[s:min(s+perSlice, n)]
		slices.SortFunc(sl, func(a, b int32) int { return cmpFloat(cy(a), cy(b)) })
	}
	t.boxes = make([]rect, 0, n+n/(fanout-1)+1)
	for _, id := range t.ids {
		t.boxes = append(t.boxes, items[id])
	}
	t.starts = []int{0}
	for lo, hi := 0, n; hi-lo > 1; {
		t.starts = append(t.starts, hi)
		for c := lo; c < hi; c += fanout {
			b := t.boxes[c]
			for _, q := range t.boxes[c+1 : min(c+fanout, hi)] {
				b = rect{math.Min(b.x0, q.x0), math.Min(b.y0, q.y0), math.Max(b.x1, q.x1), math.Max(b.y1, q.y1)}
			}
			t.boxes = append(t.boxes, b)
		}
		lo, hi = hi, len(t.boxes)
	}
	return t
}

// cmpFloat orders numbers, NaN (not found in a checked ring) first.
func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// search calls fn with the id of every item whose box meets q, until fn
// returns false; it reports whether it went through to the end.
func (t *boxTree) search(q rect, fn func(id int32) bool) bool {
	if len(t.ids) == 0 {
		return true
	}
	top := len(t.starts) - 1
	return t.visit(top, t.starts[top], q, fn)
}

// visit searches node i of level l (its index in boxes).
func (t *boxTree) visit(l, i int, q rect, fn func(id int32) bool) bool {
	if !t.boxes[i].meets(q) {
		return true
	}
	if l == 0 {
		return fn(t.ids[i])
	}
	below, end := t.starts[l-1], t.starts[l]
	first := below + (i-t.starts[l])*fanout
	for c := first; c < min(first+fanout, end); c++ {
		if !t.visit(l-1, c, q, fn) {
			return false
		}
	}
	return true
}

// edgeIndex holds the edges of one or more rings: a box tree of the edges
// and their extents sorted, to count how many edges a horizontal or a
// vertical line meets.
type edgeIndex struct {
	edges      []edge
	tree       boxTree
	ylo, yhi   []float64 // sorted
	xlo, xhi   []float64 // sorted
	minX, maxX float64
	minY, maxY float64
	rows       *rowCache
}

type edge struct{ x1, y1, x2, y2 float64 }

func (e edge) box() rect {
	return rect{math.Min(e.x1, e.x2), math.Min(e.y1, e.y2), math.Max(e.x1, e.x2), math.Max(e.y1, e.y2)}
}

// newEdgeIndex indexes the edges of rings (closing edges implied).
func newEdgeIndex(rings ...[]orb.Point) *edgeIndex {
	n := 0
	for _, r := range rings {
		n += len(r)
	}
	ix := &edgeIndex{edges: make([]edge, 0, n), rows: &rowCache{}}
	for _, r := range rings {
		for i := range r {
			a, b := r[i], r[(i+1)%len(r)]
			ix.edges = append(ix.edges, edge{a[0], a[1], b[0], b[1]})
		}
	}
	boxes := make([]rect, len(ix.edges))
	ix.ylo, ix.yhi = make([]float64, len(boxes)), make([]float64, len(boxes))
	ix.xlo, ix.xhi = make([]float64, len(boxes)), make([]float64, len(boxes))
	ix.minX, ix.minY, ix.maxX, ix.maxY = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for i, e := range ix.edges {
		b := e.box()
		boxes[i] = b
		ix.xlo[i], ix.ylo[i], ix.xhi[i], ix.yhi[i] = b.x0, b.y0, b.x1, b.y1
		ix.minX, ix.minY = math.Min(ix.minX, b.x0), math.Min(ix.minY, b.y0)
		ix.maxX, ix.maxY = math.Max(ix.maxX, b.x1), math.Max(ix.maxY, b.y1)
	}
	ix.tree = newBoxTree(boxes)
	for _, s := range [][]float64{ix.ylo, ix.yhi, ix.xlo, ix.xhi} {
		sort.Float64s(s)
	}
	return ix
}

// stabs counts the intervals [lo[i], hi[i]] holding v.
func stabs(lo, hi []float64, v float64) int {
	return sort.Search(len(lo), func(i int) bool { return lo[i] > v }) - sort.Search(len(hi), func(i int) bool { return hi[i] >= v })
}

// near calls fn with every edge whose box lies within d of (x, y), until
// fn returns true; it reports whether one did.
func (ix *edgeIndex) near(x, y, d float64, fn func(e edge) bool) bool {
	return !ix.tree.search(rect{x - d, y - d, x + d, y + d}, func(id int32) bool { return !fn(ix.edges[id]) })
}

// within calls fn with every edge whose box meets q, until fn returns true;
// it reports whether one did.
func (ix *edgeIndex) within(q rect, fn func(e edge) bool) bool {
	return !ix.tree.search(q, func(id int32) bool { return !fn(ix.edges[id]) })
}

// odd reports whether a ray from (x, y) crosses the edges an odd number
// of times: the even-odd rule, for a point on none of them. The ray goes
// east or north, whichever line meets fewer edges (for a point off the
// rings the parity is the same either way).
func (ix *edgeIndex) odd(x, y float64) bool {
	in := false
	if stabs(ix.xlo, ix.xhi, x) < stabs(ix.ylo, ix.yhi, y) {
		ix.tree.search(rect{x, y, x, math.Inf(1)}, func(id int32) bool {
			e := ix.edges[id]
			if (e.x1 > x) != (e.x2 > x) && e.y1+(x-e.x1)*(e.y2-e.y1)/(e.x2-e.x1) > y {
				in = !in
			}
			return true
		})
		return in
	}
	ix.tree.search(rect{x, y, math.Inf(1), y}, func(id int32) bool {
		e := ix.edges[id]
		if (e.y1 > y) != (e.y2 > y) && e.x1+(y-e.y1)*(e.x2-e.x1)/(e.y2-e.y1) > x {
			in = !in
		}
		return true
	})
	return in
}

// side tells where (x, y) lies with respect to the indexed rings, as
// ringSide does for one ring: 1 inside, -1 outside, 0 on the boundary.
func (ix *edgeIndex) side(x, y float64) int {
	p := orb.Point{x, y}
	if ix.near(x, y, 2*eps, func(e edge) bool { return onSeg(p, orb.Point{e.x1, e.y1}, orb.Point{e.x2, e.y2}) }) {
		return 0
	}
	if ix.odd(x, y) {
		return 1
	}
	return -1
}

// A grid's cells are tested row after row: many points of one latitude.
// After enough consecutive points at one latitude (3, or a 32nd of the
// edges the row meets, so that preparing it costs less than the tests
// it saves), the index prepares that row: where the rings cross it
// (sorted), and the edges near it. Each point of the row then costs a
// binary search and the few edges within 2e-9° of it. The cache is safe
// for concurrent use; a goroutine testing other latitudes meanwhile only
// costs the other a rebuild.
type rowCache struct {
	lastY atomic.Uint64 // math.Float64bits of the latitude last tested
	run   atomic.Int64  // consecutive tests at lastY
	need  atomic.Int64  // the run at which lastY's row is prepared
	row   atomic.Pointer[row]
}

type row struct {
	y     float64
	xs    []float64 // crossings of the rings with the row, sorted
	near  []edge    // edges whose box lies within 2e-9 of the row, by x of their boxes' west
	west  []float64 // their boxes' west - 2e-9, sorted
	reach []float64 // the largest east + 2e-9 of near[:i+1]
}

// rowAt returns the prepared row of latitude y, or nil when y was not the
// latitude of the previous test.
func (ix *edgeIndex) rowAt(y float64) *row {
	if r := ix.rows.row.Load(); r != nil && r.y == y {
		return r
	}
	c := ix.rows
	bits := math.Float64bits(y)
	if c.lastY.Swap(bits) != bits {
		c.run.Store(1)
		return nil
	}
	n := c.run.Add(1)
	if n == 3 {
		c.need.Store(max(3, int64(stabs(ix.ylo, ix.yhi, y)/32)))
	}
	if n < 3 || n < c.need.Load() || len(ix.edges) < 8 {
		return nil
	}
	r := &row{y: y}
	ix.tree.search(rect{math.Inf(-1), y - 2*eps, math.Inf(1), y + 2*eps}, func(id int32) bool {
		e := ix.edges[id]
		if (e.y1 > y) != (e.y2 > y) {
			r.xs = append(r.xs, e.x1+(y-e.y1)*(e.x2-e.x1)/(e.y2-e.y1))
		}
		r.near = append(r.near, e)
		return true
	})
	slices.Sort(r.xs)
	slices.SortFunc(r.near, func(a, b edge) int { return cmpFloat(math.Min(a.x1, a.x2), math.Min(b.x1, b.x2)) })
	r.west, r.reach = make([]float64, len(r.near)), make([]float64, len(r.near))
	reach := math.Inf(-1)
	for i, e := range r.near {
		r.west[i] = math.Min(e.x1, e.x2) - 2*eps
		reach = math.Max(reach, math.Max(e.x1, e.x2)+2*eps)
		r.reach[i] = reach
	}
	c.row.Store(r)
	c.need.Store(math.MaxInt64)
	return r
}

// nearRow calls fn with every edge of the row whose box lies within 2e-9
// of x, and maybe others, until fn returns true; it reports whether one
// did.
func (r *row) nearRow(x float64, fn func(e edge) bool) bool {
	for i := sort.SearchFloat64s(r.west, math.Nextafter(x, math.Inf(1))) - 1; i >= 0 && r.reach[i] >= x; i-- {
		if fn(r.near[i]) {
			return true
		}
	}
	return false
}

// oddRow is odd for a point of the row: the crossings east of x.
func (r *row) oddRow(x float64) bool {
	n := len(r.xs) - sort.Search(len(r.xs), func(i int) bool { return r.xs[i] > x })
	return n%2 == 1
}
