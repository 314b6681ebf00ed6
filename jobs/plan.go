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
// contiguous groups of nearly equal size: max(workers, ceil(n/maxPerTask))
// groups, at most one per region. Each group lists region indexes in request
// order. Regions without a valid box sort last (validation rejects them
// earlier; this only keeps Plan total).
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
		idx int
		key uint64
	}
	items := make([]item, n)
	for i, r := range rs {
		items[i] = item{i, zkey(r)}
	}
	sort.SliceStable(items, func(a, b int) bool { return items[a].key < items[b].key })

	out := make([][]int, 0, groups)
	start := 0
	for g := range groups {
		end := start + (n-start)/(groups-g)
		if (n-start)%(groups-g) != 0 {
			end++
		}
		var idx []int
		for _, it := range items[start:end] {
			idx = append(idx, it.idx)
		}
		sort.Ints(idx)
		out = append(out, idx)
		start = end
	}
	return out
}

// zkey interleaves the bits of the quantised centre of the region's box.
func zkey(r regions.Fixed) uint64 {
	res, err := r.Resolve("")
	if err != nil {
		return math.MaxUint64
	}
	b := res.Area.Bounds()
	lon := b.West + b.LonWidth()/2
	lon = math.Mod(lon+180, 360)
	if lon < 0 {
		lon += 360
	}
	lat := (b.South+b.North)/2 + 90
	x := uint64(lon / 360 * 65535)
	y := uint64(lat / 180 * 65535)
	var k uint64
	for i := range 16 {
		k |= (x>>i&1)<<(2*i) | (y>>i&1)<<(2*i+1)
	}
	return k
}
