package engine

import (
	"bytes"
	"math"

	"github.com/subsetd/subsetd/ncmodel"
)

// AllFillNote is the message of a successful region whose files hold
// nothing but fill in every data variable: the region lies over land in an
// ocean product, say, or over a swath's gap. Its files are written all the
// same (they say where the data has no values); the note keeps a mean of
// NaN from being a surprise.
const AllFillNote = "every selected cell is fill"

// missing is what reads as "no value" in one output variable: its raw fill
// (declared, or netCDF's default), its missing_value values, and NaN for
// floating-point types.
type missing struct {
	raws  [][]byte
	float bool
}

// valueVars returns, for the output variables of region rp (input variable
// -> output variable), the data variables that hold values on a grid
// (neither coordinates, bounds, nor cell measures, nor flags without a fill
// value, nor text) with what reads as missing in each.
func (p *filePlan) valueVars(vars map[*ncmodel.Var]*ncmodel.Var) map[*ncmodel.Var]missing {
	out := map[*ncmodel.Var]missing{}
	for v, ov := range vars {
		if len(p.varGrid[v]) == 0 || p.noMask[v] || v.Type == ncmodel.String || v.Type == ncmodel.Char || isFlags(v) && !hasFill(v) {
			continue
		}
		fill, _ := fillValue(v.Type, ov.Attrs)
		m := missing{raws: [][]byte{fill}, float: v.Type == ncmodel.Float || v.Type == ncmodel.Double}
		for _, a := range ov.Attrs {
			if a.Name != "missing_value" {
				continue
			}
			if a.Type != v.Type {
				var ok bool
				if a, ok = convertAttr(a, v.Type); !ok {
					continue
				}
			}
			if b, n, err := ncmodel.EncodeValues(v.Type, a.Value); err == nil {
				for i := range n {
					m.raws = append(m.raws, b[i*v.Type.Size():(i+1)*v.Type.Size()])
				}
			}
		}
		out[v] = m
	}
	return out
}

// anyValue reports whether a holds an element that is not missing.
func (m missing) anyValue(a *ncmodel.Array) bool {
	es := a.Type.Size()
	for k := range a.Len() {
		el := a.Data[k*es : (k+1)*es]
		if m.float && math.IsNaN(a.Float64(k)) {
			continue
		}
		fill := false
		for _, r := range m.raws {
			fill = fill || bytes.Equal(el, r)
		}
		if !fill {
			return true
		}
	}
	return false
}

// noteAllFill gives a successful region whose every file holds only fill
// the AllFillNote, after what its message says already.
func noteAllFill(r *RegionResult) {
	if r.Status != StatusSuccessful || len(r.Files) == 0 {
		return
	}
	for _, f := range r.Files {
		if !f.AllFill {
			return
		}
	}
	if r.Message == "" {
		r.Message = AllFillNote
	} else {
		r.Message += "; " + AllFillNote
	}
}
