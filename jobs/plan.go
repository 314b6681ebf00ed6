package jobs

import (
	"math"
	"sort"

	"github.com/subsetd/subsetd/regions"
)

// Plan groups the regions of a job into tasks so that each worker process
// reads the union of nearby regions once, while still giving every worker
// something to do. Regions are ordered along a Z-order curve of their
// centres, which keeps neighbours together, and the order is cut into
// max(workers, ceil(n/maxPerTask)) contiguous groups (at most one per
// region, at most maxPerTask regions each) of nearly equal cost, a region's
// cost being the area of its box: on a grid, the cells it reads and writes.
// The job ends with its slowest task, so balanced costs rather than counts
// is what lets its tasks end together. Each group lists region indexes in
// request order. Regions without a valid box sort last (validation rejects
// them earlier; this only keeps Plan total).
func Plan(rs []regions.Fixed, workers, maxPerTask int) [][]int {
	n := len(rs)
	if n == 0 {
		return nil
	}
	if workers < 1 {
		workers = 1
	}
	if maxPerTask < 1 {
		maxPerTask = 1
	}
	groups := max(workers, (n+maxPerTask-1)/maxPerTask)
	groups = min(groups, n)

	type item struct {
		idx  int
		key  uint64
		cost float64
	}
	items := make([]item, n)
	total := 0.0
	for i, r := range rs {
		k, c := placeAndCost(r)
		items[i] = item{i, k, c}
		total += c
	}
	// Each region costs something (its file, its task's bookkeeping) even
	// when its box is a line or a point.
	floor := total/float64(n)/20 + 1e-9
	total = 0
	for i := range items {
		items[i].cost += floor
		total += items[i].cost
	}
	sort.SliceStable(items, func(a, b int) bool { return items[a].key < items[b].key })

	out := make([][]int, 0, groups)
	start := 0
	for g := range groups {
		left := groups - g // groups still to fill, this one included
		target := total / float64(left)
		// Extend the group while that brings its cost nearer the target,
		// leaving a region for each later group and no more for them than
		// they may hold.
		end, cost := start+1, items[start].cost
		for end < n-(left-1) && end-start < maxPerTask {
			next := cost + items[end].cost
			if n-end > (left-1)*maxPerTask || math.Abs(next-target) < math.Abs(cost-target) {
				cost, end = next, end+1
				continue
			}
			break
		}
		var idx []int
		for _, it := range items[start:end] {
			idx = append(idx, it.idx)
		}
		sort.Ints(idx)
		out = append(out, idx)
		total -= cost
		start = end
	}
	return out
}

// placeAndCost are the Z-order key of the centre of the region's box and
// the box's area in square degrees.
func placeAndCost(r regions.Fixed) (uint64, float64) {
	res, err := r.Resolve("")
	if err != nil {
		return math.MaxUint64, 0
	}
	b := res.Area.Bounds()
	return zkey(b.West+b.LonWidth()/2, (b.South+b.North)/2), b.LonWidth() * (b.North - b.South)
}

// zkey interleaves the bits of the quantised centre of a region's box.
func zkey(lon, lat float64) uint64 {
	lon = math.Mod(lon+180, 360)
	if lon < 0 {
		lon += 360
	}
	lat += 90
	x := uint64(lon / 360 * 65535)
	y := uint64(lat / 180 * 65535)
	var k uint64
	for i := range 16 {
		k |= (x>>i&1)<<(2*i) | (y>>i&1)<<(2*i+1)
	}
	return k
}
