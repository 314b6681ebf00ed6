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
		out := []Run{runs[1], runs[0]}
		for i := range out {
			v := vals[out[i].Start]
			out[i].Shift = shiftInto(v, b.West, tol)
		}
		if out[0].Shift == out[1].Shift {
			// Same convention on both sides: nothing to straighten.
			out[0].Shift, out[1].Shift = 0, 0
		}
		return out
	case len(runs) == 1:
		return runs
	}
	// Several separate runs (a non-monotonic axis): take them all.
	first, last := runs[0], runs[len(runs)-1]
	return []Run{{Start: first.Start, Count: last.Start + last.Count - first.Start}}
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
