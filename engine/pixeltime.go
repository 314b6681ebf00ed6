package engine

import (
	"math"
	"slices"
	"strings"

	"github.com/subsetd/subsetd/cftime"
	"github.com/subsetd/subsetd/ncmodel"
)

// pixelTime is a variable giving each cell of a grid its own time: an
// absolute time (units "<unit> since <date>", as scatterometer swaths'
// time(NUMROWS, NUMCELLS)) or an offset from a reference time coordinate
// (GHRSST L2P's sst_dtime, "time difference from reference time", seconds
// to add to time).
type pixelTime struct {
	v     *ncmodel.Var
	units cftime.Units // of the absolute time: v's own, or the reference's
	ref   *ncmodel.Var // the reference time coordinate of an offset; nil for absolute times
	scale float64      // seconds per unit of an offset
}

// pixelTimes gives the time of a grid's cells (a 2-D grid or a track) as
// the selection finds it (gridTime): the variable whose values are the
// cells' times, or the per-pixel offset with its reference time. None for
// rectilinear grids and grids whose cells have no time of their own.
func (p *filePlan) pixelTimes(g Grid) []pixelTime {
	gi := slices.IndexFunc(p.coords.Grids, func(x Grid) bool { return x.Lat == g.Lat && x.Lon == g.Lon })
	ct := gridTime(p.file, p.coords, g, p.varGrid, gi)
	if ct == nil {
		return nil
	}
	u, err := TimeAxis(ct.v)
	if err != nil || u.Scale <= 0 {
		return nil
	}
	if ct.offset == nil {
		return []pixelTime{{v: ct.v, units: u}}
	}
	return []pixelTime{{v: ct.offset, units: u, ref: ct.v, scale: ct.scale * u.Scale}}
}

// isTimeOffset recognises GHRSST's per-pixel time difference (sst_dtime,
// standard name "dtime") and variables described like it.
func isTimeOffset(v *ncmodel.Var) bool {
	name := strings.ToLower(v.Name)
	return strings.EqualFold(v.AttrString("standard_name"), "dtime") || name == "dtime" || strings.HasSuffix(name, "_dtime") ||
		strings.Contains(strings.ToLower(v.AttrString("long_name")), "time difference from reference time")
}

// spans reports whether v has every dimension of dims.
func spans(v *ncmodel.Var, dims []*ncmodel.Dim) bool {
	for _, d := range dims {
		found := false
		for _, x := range v.Dims {
			found = found || x == d
		}
		if !found {
			return false
		}
	}
	return true
}

// pixelCoverage returns the first and last times of the cells of pt a region
// keeps (inside its masks), in pt.units; ok is false when none is valid.
func (p *filePlan) pixelCoverage(rp *regionPlan, pt pixelTime) (lo, hi float64, ok bool, err error) {
	var ref []float64
	refDim := -1
	if pt.ref != nil {
		if ref, err = CoordValues(p.src, pt.ref); err != nil {
			return 0, 0, false, err
		}
		for i, d := range pt.v.Dims {
			if d == pt.ref.Dims[0] {
				refDim = i
			}
		}
	}
	lo, hi = math.Inf(1), math.Inf(-1)
	nan := ncmodel.NewArray(ncmodel.Double, []int{1})
	nan.SetFloat64(0, math.NaN())
	for _, b := range p.boxes(pt.v, rp) {
		a, err := p.src.Read(pt.v, b.start, b.count, b.stride)
		if err != nil {
			return 0, 0, false, err
		}
		vals := a.Float64s()
		Unpack(pt.v, vals)
		arr := ncmodel.NewArray(ncmodel.Double, a.Shape)
		for k, x := range vals {
			arr.SetFloat64(k, x)
		}
		for _, m := range rp.masks {
			m.apply(pt.v, b.out, arr, nan.Data)
		}
		idx := make([]int, len(a.Shape))
		for k := 0; k < arr.Len(); k++ {
			x := arr.Float64(k)
			if pt.ref != nil {
				r := ref[0]
				if refDim >= 0 {
					r = ref[b.start[refDim]+idx[refDim]*b.stride[refDim]]
				}
				x = r + x*pt.scale/pt.units.Scale
			}
			if !math.IsNaN(x) {
				lo, hi = math.Min(lo, x), math.Max(hi, x)
			}
			for d := len(idx) - 1; d >= 0; d-- {
				if idx[d]++; idx[d] < a.Shape[d] {
					break
				}
				idx[d] = 0
			}
		}
	}
	return lo, hi, lo <= hi, nil
}
