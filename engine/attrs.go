package engine

import (
	"fmt"
	"math"
	"slices"

	"github.com/subsetd/subsetd/ncmodel"
)

// The attributes of a variable's output are the input's, except those that
// would be wrong about the output or that the output format refuses (the
// README's table "Attributes" lists them): one rule each, here.

// outputVarAttrs returns the attributes of v's output variable ov (whose
// type, dimensions and chunks are set) and the notes the output's history
// records about what was changed.
func outputVarAttrs(v, ov *ncmodel.Var, sh *lonShift) (attrs []ncmodel.Attr, notes []string) {
	for _, a := range v.Attrs {
		switch a.Name {
		case "valid_min", "valid_max", "valid_range", "actual_range":
			// The values of a longitude shifted by ±360 must stay valid.
			if sh != nil {
				a = sh.shifted(v, a)
			}
		case "_FillValue":
			// netCDF-3 lets a fill value have another type than its
			// variable (a double NaN on a float); NetCDF-4 refuses it.
			if a.Type == v.Type {
				break
			}
			c, ok := convertAttr(a, v.Type)
			if !ok {
				notes = append(notes, fmt.Sprintf("%s: _FillValue %s (%s) left out: a %s variable cannot hold it", v.Path(), attrValue(a), a.Type, v.Type))
				continue
			}
			a = c
		case "_ChunkSizes":
			// Written by netCDF-Java: the chunks the input had.
			if !slices.Equal(attrInts(a), ov.Chunks) {
				continue
			}
		}
		attrs = append(attrs, a)
	}
	return attrs, notes
}

// convertAttr gives a numeric attribute the type t when every value is
// exactly representable in it (NaN is exact in float and double).
func convertAttr(a ncmodel.Attr, t ncmodel.Type) (ncmodel.Attr, bool) {
	if !numeric(a.Type) || !numeric(t) {
		return a, false
	}
	vals := a.Float64s()
	arr := ncmodel.NewArray(t, []int{len(vals)})
	for i, x := range vals {
		if math.IsNaN(x) && t != ncmodel.Float && t != ncmodel.Double {
			return a, false
		}
		arr.SetFloat64(i, x)
		if y := arr.Float64(i); y != x && !(math.IsNaN(x) && math.IsNaN(y)) {
			return a, false
		}
	}
	return ncmodel.Attr{Name: a.Name, Type: t, Value: ncmodel.DecodeValues(t, arr.Data)}, true
}

func numeric(t ncmodel.Type) bool {
	return t != ncmodel.Char && t != ncmodel.String && t.Size() > 0
}

func attrInts(a ncmodel.Attr) []int {
	var out []int
	for _, x := range a.Float64s() {
		out = append(out, int(x))
	}
	return out
}

func attrValue(a ncmodel.Attr) string {
	vals := a.Float64s()
	if len(vals) == 1 {
		return fmt.Sprint(vals[0])
	}
	return fmt.Sprint(vals)
}

// fillValue returns the raw value masked cells of v get, in v's own type,
// from the output attributes attrs: _FillValue, else missing_value when it
// converts exactly, else netCDF's default fill (declared=false: the output
// must declare it).
func fillValue(t ncmodel.Type, attrs []ncmodel.Attr) (raw []byte, declared bool) {
	for _, name := range []string{"_FillValue", "missing_value"} {
		for _, a := range attrs {
			if a.Name != name {
				continue
			}
			if a.Type != t {
				var ok bool
				if a, ok = convertAttr(a, t); !ok {
					continue
				}
			}
			if b, n, err := ncmodel.EncodeValues(t, a.Value); err == nil && n >= 1 {
				return b[:t.Size()], true
			}
		}
	}
	return ncmodel.DefaultFill(t), false
}

// isFlags reports whether v holds flags (CF flag_values or flag_masks).
func isFlags(v *ncmodel.Var) bool {
	_, values := v.Attr("flag_values")
	_, masks := v.Attr("flag_masks")
	return values || masks
}

// hasFill reports whether v declares a value for missing data.
func hasFill(v *ncmodel.Var) bool {
	_, fill := v.Attr("_FillValue")
	_, missing := v.Attr("missing_value")
	return fill || missing
}

// lonShift is what a seam-crossing cut does to a longitude variable: the
// smallest and largest shifts (degrees) its parts get, and the range of its
// output values.
type lonShift struct {
	lo, hi   float64
	min, max float64 // output values, unpacked; NaN when unknown
}

// lonShift returns the shifts of longitude variable v in region rp, nil
// when it keeps its values.
func (p *filePlan) lonShift(rp *regionPlan, v *ncmodel.Var) *lonShift {
	d, ok := p.lonVars[v]
	if !ok {
		return nil
	}
	s := p.selFor(rp, d)
	if s == nil {
		return nil
	}
	sh := &lonShift{lo: math.Inf(1), hi: math.Inf(-1), min: math.NaN(), max: math.NaN()}
	moved := false
	for _, r := range s.runs {
		sh.lo, sh.hi = math.Min(sh.lo, r.Shift), math.Max(sh.hi, r.Shift)
		moved = moved || r.Shift != 0
	}
	if !moved {
		return nil
	}
	if _, ok := v.Attr("actual_range"); ok && len(v.Dims) > 0 && v.Dims[0] == d {
		if vals, err := CoordValues(p.src, v); err == nil {
			per := len(vals) / max(d.Len, 1) // values per step of d (2 for bounds)
			var out []float64
			for _, r := range s.runs {
				for i := r.Start; i < r.Start+r.Count; i += s.stride {
					for _, x := range vals[i*per : (i+1)*per] {
						out = append(out, x+r.Shift)
					}
				}
			}
			sh.min, sh.max = minMax(out)
		}
	}
	return sh
}

// shifted returns a valid_* or actual_range attribute of v after the
// shift: valid bounds widen by the smallest and largest shift, actual_range
// is the output's. Bounds are in v's packed units unless they have the
// type of its scale_factor (then they are unpacked, as CF allows).
func (sh *lonShift) shifted(v *ncmodel.Var, a ncmodel.Attr) ncmodel.Attr {
	vals := a.Float64s()
	if len(vals) == 0 || !numeric(a.Type) {
		return a
	}
	scale, offset := 1.0, 0.0
	packedUnits := true
	if s, ok := v.Attr("scale_factor"); ok && len(s.Float64s()) == 1 && s.Float64s()[0] != 0 {
		scale = s.Float64s()[0]
		packedUnits = a.Type == v.Type || a.Type != s.Type
	}
	if o, ok := v.Attr("add_offset"); ok && len(o.Float64s()) == 1 {
		offset = o.Float64s()[0]
	}
	if !packedUnits {
		scale, offset = 1, 0
	}
	lo, hi := sh.lo/scale, sh.hi/scale
	switch a.Name {
	case "valid_min":
		vals[0] += lo
	case "valid_max":
		vals[0] += hi
	case "valid_range":
		if len(vals) == 2 {
			vals[0], vals[1] = vals[0]+lo, vals[1]+hi
		}
	case "actual_range":
		if len(vals) != 2 || math.IsNaN(sh.min) {
			return a
		}
		vals[0], vals[1] = (sh.min-offset)/scale, (sh.max-offset)/scale
	}
	arr := ncmodel.NewArray(a.Type, []int{len(vals)})
	for i, x := range vals {
		arr.SetFloat64(i, x)
	}
	return ncmodel.Attr{Name: a.Name, Type: a.Type, Value: ncmodel.DecodeValues(a.Type, arr.Data)}
}
