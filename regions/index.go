package regions

import "math"

// Run is a range of indices [Start, Start+Count) along one dimension. Shift
// is added to longitude values of the run in the output (a multiple of 360,
// 0 for others) so that an axis cut across the data's seam stays monotonic.
type Run struct {
	Start, Count int
	Shift        float64
}

// Tolerance returns how far outside a box edge a coordinate value may lie
// and still count as on the edge: the rounding of the stored type.
func Tolerance(float32Storage bool) float64 {
	if float32Storage {
		return 1e-5
	}
	return 1e-9
}

// LatRange returns the index range of the values inside [south, north]
// (edges inclusive, within tol). Values that are NaN are never inside. When
// the selected indices are not contiguous (a non-monotonic axis), the range
// from the first to the last selected index is returned.
func LatRange(vals []float64, south, north, tol float64) (Run, bool) {
	first, last := -1, -1
	for i, v := range vals {
		if v >= south-tol && v <= north+tol {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return Run{}, false
	}
	return Run{Start: first, Count: last - first + 1}, true
}

// ValueRange is LatRange for any 1-D axis (vertical levels).
func ValueRange(vals []float64, lo, hi, tol float64) (Run, bool) {
	return LatRange(vals, lo, hi, tol)
}

// InLon reports whether longitude v lies in the eastward span from west to
// west+width (degrees, any convention), edges inclusive within tol.
func InLon(v, west, width, tol float64) bool {
	if math.IsNaN(v) {
		return false
	}
	if width >= 360 {
		return true
	}
	d := math.Mod(v-west, 360)
	if d < 0 {
		d += 360
	}
	return d <= width+tol || d >= 360-tol
}

// ShiftRuns sets the Shift of each run of a longitude axis cut across its
// seam (two runs, the end of the row first) so that the output values are
// monotonic and in the convention of west: each run's values are brought
// into [west, west+360). One run, or two whose values need the same shift,
// keep the data's values.
func ShiftRuns(vals []float64, runs []Run, west, tol float64) []Run {
	out := append([]Run(nil), runs...)
	for i := range out {
		out[i].Shift = 0
	}
	if len(out) != 2 {
		return out
	}
	for i := range out {
		out[i].Shift = shiftInto(firstValid(vals, out[i]), west, tol)
	}
	if out[0].Shift == out[1].Shift {
		out[0].Shift, out[1].Shift = 0, 0
	}
	return out
}

// CoverRuns returns the runs of indices holding every marked index: the
// hull from the first to the last, or, along a periodic axis (the columns
// of a global grid), the shortest arc around it: one run, or two when the
// arc wraps (the part at the end of the row first). Nil when nothing is
// marked.
func CoverRuns(marked []bool, periodic bool) []Run {
	first, last := -1, -1
	for i, m := range marked {
		if m {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return nil
	}
	hull := []Run{{Start: first, Count: last - first + 1}}
	if !periodic {
		return hull
	}
	// The largest gap between marked indices, going round: the arc is the
	// rest. The gap between the last and the first is the hull's.
	n := len(marked)
	gapStart, gapLen := last+1, n-1-last+first
	prev := first
	for i := first + 1; i <= last; i++ {
		if !marked[i] {
			continue
		}
		if g := i - prev - 1; g > gapLen {
			gapStart, gapLen = prev+1, g
		}
		prev = i
	}
	if gapStart == last+1 || gapStart >= n {
		return hull
	}
	// The arc runs from the end of the gap to the end of the row, then from
	// the start of the row to the gap.
	end := gapStart + gapLen // first marked index after the gap
	return []Run{{Start: end, Count: n - end}, {Start: 0, Count: gapStart}}
}

// IsPeriodic reports whether a line of longitudes (one row of a grid, in
// index order) goes once around the globe, always the same way, its last
// value one step before its first or a few steps past it (the duplicated
// halo columns of some ocean model grids): the index along it is then
// periodic, as the columns of global ocean and atmosphere grids are. NaN
// values (fill cells: at most a tenth of the line) are skipped, each
// counted as one step like its neighbours', so that a fill at either end
// of a global row leaves it global.
func IsPeriodic(lons []float64) bool {
	var valid []int
	for i, v := range lons {
		if !math.IsNaN(v) {
			valid = append(valid, i)
		}
	}
	if len(valid) < 3 || len(valid) < len(lons)*9/10 {
		return false
	}
	wrap := func(d float64) float64 { return math.Remainder(d, 360) }
	sum, abs := 0.0, 0.0
	for k := 1; k < len(valid); k++ {
		d := wrap(lons[valid[k]] - lons[valid[k-1]])
		sum, abs = sum+d, abs+math.Abs(d)
	}
	// Steps per index at the ends: one more such step closes the circle,
	// plus one for each missing value beyond the first and last valid ones.
	perIndex := func(a, b int) float64 { return math.Abs(wrap(lons[b]-lons[a])) / float64(b-a) }
	n := len(valid)
	step := math.Max(perIndex(valid[0], valid[1]), perIndex(valid[n-2], valid[n-1]))
	beyond := valid[0] + len(lons) - 1 - valid[n-1]
	cover := math.Abs(sum) + step*float64(1+beyond)
	const eps = 1e-6
	return abs <= math.Abs(sum)*(1+eps)+eps && cover >= 360-eps*360 && cover <= 360+3*step+eps
}

// firstValid returns the first value of run r that is not NaN (a fill
// cell of a damaged coordinate), NaN when there is none.
func firstValid(vals []float64, r Run) float64 {
	for i := r.Start; i < r.Start+r.Count; i++ {
		if !math.IsNaN(vals[i]) {
			return vals[i]
		}
	}
	return math.NaN()
}

// shiftInto returns the multiple of 360 that brings v into [west, west+360).
func shiftInto(v, west, tol float64) float64 {
	k := math.Floor((v - west + tol) / 360)
	if k == 0 || math.IsNaN(k) {
		return 0 // not -0
	}
	return -k * 360
}

// Normalize180 maps a longitude to [-180, 180).
func Normalize180(v float64) float64 {
	v = math.Mod(v+180, 360)
	if v < 0 {
		v += 360
	}
	return v - 180
}
