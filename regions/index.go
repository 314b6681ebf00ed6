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

// LonRuns returns the runs of a 1-D longitude axis inside the box's
// longitude span, in the order they go into the output: one run when the
// selected cells are contiguous in the data, two when the box crosses the
// data's seam (the antimeridian on -180..180 data, 0° on 0..360 data): the
// cells from the west edge to the end of the row, then those from the start
// of the row to the east edge. In that case each run's Shift (a multiple of
// 360) makes the output axis monotonic, and the output values lie in the
// request's own convention: [-10, 10] on 0..360 data gives -10..10, [350, 10]
// gives 350..370, [170, -170] on -180..180 data gives 170..190.
// A box spanning 360° or more selects the whole row in data order.
func LonRuns(vals []float64, b BBox, tol float64) []Run {
	width := b.LonWidth()
	if b.East-b.West >= 360 || width >= 360 {
		return []Run{{Start: 0, Count: len(vals)}}
	}
	var runs []Run
	for i, v := range vals {
		if !InLon(v, b.West, width, tol) {
			continue
		}
		if n := len(runs); n > 0 && runs[n-1].Start+runs[n-1].Count == i {
			runs[n-1].Count++
		} else {
			runs = append(runs, Run{Start: i, Count: 1})
		}
	}
	switch {
	case len(runs) == 0:
		return nil
	case len(runs) == 2 && runs[0].Start == 0 && runs[1].Start+runs[1].Count == len(vals):
		// Wrapped: the part at the end of the row comes first.
		return ShiftRuns(vals, []Run{runs[1], runs[0]}, b.West, tol)
	case len(runs) == 1:
		return runs
	}
	// Several separate runs (a non-monotonic axis): take them all.
	first, last := runs[0], runs[len(runs)-1]
	return []Run{{Start: first.Start, Count: last.Start + last.Count - first.Start}}
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
		out[i].Shift = shiftInto(vals[out[i].Start], west, tol)
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
// values are skipped.
func IsPeriodic(lons []float64) bool {
	var valid []float64
	for _, v := range lons {
		if !math.IsNaN(v) {
			valid = append(valid, v)
		}
	}
	if len(valid) < 3 || len(valid) < len(lons)*9/10 {
		return false
	}
	wrap := func(d float64) float64 { return math.Remainder(d, 360) }
	sum, abs := 0.0, 0.0
	for i := 1; i < len(valid); i++ {
		d := wrap(valid[i] - valid[i-1])
		sum, abs = sum+d, abs+math.Abs(d)
	}
	// One more step like those at the ends closes the circle.
	step := math.Max(math.Abs(wrap(valid[1]-valid[0])), math.Abs(wrap(valid[len(valid)-1]-valid[len(valid)-2])))
	cover := math.Abs(sum) + step
	const eps = 1e-6
	return abs <= math.Abs(sum)*(1+eps)+eps && cover >= 360-eps*360 && cover <= 360+3*step+eps
}

// shiftInto returns the multiple of 360 that brings v into [west, west+360).
func shiftInto(v, west, tol float64) float64 {
	k := math.Floor((v - west + tol) / 360)
	if k == 0 {
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
