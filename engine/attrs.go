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
func outputVarAttrs(v, ov *ncmodel.Var) (attrs []ncmodel.Attr, notes []string) {
	for _, a := range v.Attrs {
		switch a.Name {
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
