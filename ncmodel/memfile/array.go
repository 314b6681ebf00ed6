package memfile

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"

	"github.com/subsetd/subsetd/ncmodel"
)

// ArrayOf builds an array of type t and the given shape from a Go slice
// following the ncmodel.Attr convention: []int8 for Byte, string or []byte
// for Char, []float32 for Float, ..., []string for String. It panics when
// the slice does not match t or the shape, as a test's setup is wrong then.
func ArrayOf(t ncmodel.Type, shape []int, values any) *ncmodel.Array {
	a := ncmodel.NewArray(t, shape)
	n := a.Len()
	mismatch := func(got int) {
		if got != n {
			panic(fmt.Sprintf("memfile.ArrayOf: %d values for shape %v (%d values)", got, shape, n))
		}
	}
	ok := true
	switch x := values.(type) {
	case []int8:
		ok = t == ncmodel.Byte
		mismatch(len(x))
		for i, v := range x {
			a.Data[i] = byte(v)
		}
	case string:
		ok = t == ncmodel.Char
		mismatch(len(x))
		copy(a.Data, x)
	case []byte:
		ok = t == ncmodel.Char || t == ncmodel.UByte
		mismatch(len(x))
		copy(a.Data, x)
	case []int16:
		ok = t == ncmodel.Short
		mismatch(len(x))
		for i, v := range x {
			binary.NativeEndian.PutUint16(a.Data[2*i:], uint16(v))
		}
	case []uint16:
		ok = t == ncmodel.UShort
		mismatch(len(x))
		for i, v := range x {
			binary.NativeEndian.PutUint16(a.Data[2*i:], v)
		}
	case []int32:
		ok = t == ncmodel.Int
		mismatch(len(x))
		for i, v := range x {
			binary.NativeEndian.PutUint32(a.Data[4*i:], uint32(v))
		}
	case []uint32:
		ok = t == ncmodel.UInt
		mismatch(len(x))
		for i, v := range x {
			binary.NativeEndian.PutUint32(a.Data[4*i:], v)
		}
	case []float32:
		ok = t == ncmodel.Float
		mismatch(len(x))
		for i, v := range x {
			binary.NativeEndian.PutUint32(a.Data[4*i:], math.Float32bits(v))
		}
	case []float64:
		ok = t == ncmodel.Double
		mismatch(len(x))
		for i, v := range x {
			binary.NativeEndian.PutUint64(a.Data[8*i:], math.Float64bits(v))
		}
	case []int64:
		ok = t == ncmodel.Int64
		mismatch(len(x))
		for i, v := range x {
			binary.NativeEndian.PutUint64(a.Data[8*i:], uint64(v))
		}
	case []uint64:
		ok = t == ncmodel.UInt64
		mismatch(len(x))
		for i, v := range x {
			binary.NativeEndian.PutUint64(a.Data[8*i:], v)
		}
	case []string:
		ok = t == ncmodel.String
		mismatch(len(x))
		copy(a.Strings, x)
	default:
		ok = false
	}
	if !ok {
		panic(fmt.Sprintf("memfile.ArrayOf: %T values for type %s", values, t))
	}
	return a
}

// ArrayFunc builds an array of type t whose value at each index is fn(index),
// converted as a Go conversion from float64 would; String values are the
// number formatted with strconv 'g'. The index slice is reused between
// calls.
func ArrayFunc(t ncmodel.Type, shape []int, fn func(index []int) float64) *ncmodel.Array {
	a := ncmodel.NewArray(t, shape)
	idx := make([]int, len(shape))
	for i := 0; i < a.Len(); i++ {
		rem := i
		for d := len(shape) - 1; d >= 0; d-- {
			idx[d] = rem % shape[d]
			rem /= shape[d]
		}
		x := fn(idx)
		if t == ncmodel.String {
			a.Strings[i] = strconv.FormatFloat(x, 'g', -1, 64)
			continue
		}
		putFloat(a.Data[i*t.Size():], t, x)
	}
	return a
}

func putFloat(b []byte, t ncmodel.Type, x float64) {
	switch t {
	case ncmodel.Byte:
		b[0] = byte(int8(x))
	case ncmodel.Char, ncmodel.UByte:
		b[0] = uint8(x)
	case ncmodel.Short:
		binary.NativeEndian.PutUint16(b, uint16(int16(x)))
	case ncmodel.UShort:
		binary.NativeEndian.PutUint16(b, uint16(x))
	case ncmodel.Int:
		binary.NativeEndian.PutUint32(b, uint32(int32(x)))
	case ncmodel.UInt:
		binary.NativeEndian.PutUint32(b, uint32(x))
	case ncmodel.Float:
		binary.NativeEndian.PutUint32(b, math.Float32bits(float32(x)))
	case ncmodel.Double:
		binary.NativeEndian.PutUint64(b, math.Float64bits(x))
	case ncmodel.Int64:
		binary.NativeEndian.PutUint64(b, uint64(int64(x)))
	case ncmodel.UInt64:
		binary.NativeEndian.PutUint64(b, uint64(x))
	}
}

// defaultFill holds netCDF-C's NC_FILL_* values (netcdf.h), which a real
// file returns for cells nobody wrote.
var defaultFill = map[ncmodel.Type]float64{
	ncmodel.Byte:   -127,
	ncmodel.Char:   0,
	ncmodel.Short:  -32767,
	ncmodel.Int:    -2147483647,
	ncmodel.Float:  9.9692099683868690e+36,
	ncmodel.Double: 9.9692099683868690e+36,
	ncmodel.UByte:  255,
	ncmodel.UShort: 65535,
	ncmodel.UInt:   4294967295,
}

// fillOf returns the encoded fill value of v: its _FillValue attribute when
// it has a usable one, else netCDF's default for the type.
func fillOf(v *ncmodel.Var) (raw []byte, str string) {
	if v.Type == ncmodel.String {
		if a, ok := v.Attr("_FillValue"); ok {
			if s, ok := a.Value.([]string); ok && len(s) == 1 {
				return nil, s[0]
			}
		}
		return nil, ""
	}
	raw = make([]byte, v.Type.Size())
	if a, ok := v.Attr("_FillValue"); ok && a.Type == v.Type {
		if b := attrBytes(a); len(b) == len(raw) {
			copy(raw, b)
			return raw, ""
		}
	}
	switch v.Type {
	case ncmodel.Int64:
		fill := int64(-9223372036854775806)
		binary.NativeEndian.PutUint64(raw, uint64(fill))
	case ncmodel.UInt64:
		binary.NativeEndian.PutUint64(raw, uint64(18446744073709551614))
	default:
		putFloat(raw, v.Type, defaultFill[v.Type])
	}
	return raw, ""
}

// attrBytes encodes a numeric or Char attribute value as raw native bytes;
// nil when the value does not match its type.
func attrBytes(a ncmodel.Attr) []byte {
	var n int
	switch x := a.Value.(type) {
	case string:
		if a.Type != ncmodel.Char {
			return nil
		}
		return []byte(x)
	case []int8:
		n = len(x)
	case []int16:
		n = len(x)
	case []int32:
		n = len(x)
	case []float32:
		n = len(x)
	case []float64:
		n = len(x)
	case []uint8:
		n = len(x)
	case []uint16:
		n = len(x)
	case []uint32:
		n = len(x)
	case []int64:
		n = len(x)
	case []uint64:
		n = len(x)
	default:
		return nil
	}
	if !valueMatches(a.Type, a.Value) {
		return nil
	}
	return ArrayOf(a.Type, []int{n}, a.Value).Data
}

// valueMatches reports whether an attribute's Go value is the one its Type
// calls for.
func valueMatches(t ncmodel.Type, v any) bool {
	switch v.(type) {
	case []int8:
		return t == ncmodel.Byte
	case string:
		return t == ncmodel.Char
	case []int16:
		return t == ncmodel.Short
	case []int32:
		return t == ncmodel.Int
	case []float32:
		return t == ncmodel.Float
	case []float64:
		return t == ncmodel.Double
	case []uint8:
		return t == ncmodel.UByte
	case []uint16:
		return t == ncmodel.UShort
	case []uint32:
		return t == ncmodel.UInt
	case []int64:
		return t == ncmodel.Int64
	case []uint64:
		return t == ncmodel.UInt64
	case []string:
		return t == ncmodel.String
	}
	return false
}

// attrLen is the number of values of an attribute (characters for Char).
func attrLen(a ncmodel.Attr) int {
	switch x := a.Value.(type) {
	case string:
		return len(x)
	case []string:
		return len(x)
	}
	if f := a.Float64s(); f != nil {
		return len(f)
	}
	return 0
}

// walk visits the hyperslab start/count/stride (stride nil means 1) of a
// C-order array of the given shape. For each run of n elements contiguous
// in both the whole array and the packed slab, it calls fn with the
// element offset of the run in each. Callers have validated the slab.
func walk(shape, start, count, stride []int, fn func(whole, slab, n int)) {
	r := len(shape)
	if r == 0 {
		fn(0, 0, 1)
		return
	}
	for _, c := range count {
		if c == 0 {
			return
		}
	}
	step := func(i int) int {
		if stride == nil {
			return 1
		}
		return stride[i]
	}
	strides := make([]int, r)
	s := 1
	for i := r - 1; i >= 0; i-- {
		strides[i] = s
		s *= shape[i]
	}
	run := 1
	if step(r-1) == 1 {
		run = count[r-1]
	}
	idx := make([]int, r)
	slab := 0
	for {
		whole := 0
		for i, x := range idx {
			whole += (start[i] + x*step(i)) * strides[i]
		}
		fn(whole, slab, run)
		slab += run
		i := r - 1
		idx[i] += run
		for idx[i] >= count[i] {
			idx[i] = 0
			i--
			if i < 0 {
				return
			}
			idx[i]++
		}
	}
}

// copyOut extracts a hyperslab of whole (shape) into a new packed array.
func copyOut(whole *ncmodel.Array, start, count, stride []int) *ncmodel.Array {
	out := ncmodel.NewArray(whole.Type, count)
	sz := whole.Type.Size()
	walk(whole.Shape, start, count, stride, func(w, s, n int) {
		if whole.Type == ncmodel.String {
			copy(out.Strings[s:s+n], whole.Strings[w:w+n])
			return
		}
		copy(out.Data[s*sz:(s+n)*sz], whole.Data[w*sz:(w+n)*sz])
	})
	return out
}

// copyIn writes the packed array a into whole at start.
func copyIn(whole *ncmodel.Array, start []int, a *ncmodel.Array) {
	sz := whole.Type.Size()
	walk(whole.Shape, start, a.Shape, nil, func(w, s, n int) {
		if whole.Type == ncmodel.String {
			copy(whole.Strings[w:w+n], a.Strings[s:s+n])
			return
		}
		copy(whole.Data[w*sz:(w+n)*sz], a.Data[s*sz:(s+n)*sz])
	})
}

// filled returns an array of the shape with every value set to the fill.
func filled(t ncmodel.Type, shape []int, raw []byte, str string) *ncmodel.Array {
	a := ncmodel.NewArray(t, shape)
	if t == ncmodel.String {
		if str != "" {
			for i := range a.Strings {
				a.Strings[i] = str
			}
		}
		return a
	}
	if allZero(raw) {
		return a
	}
	for i := 0; i < len(a.Data); i += len(raw) {
		copy(a.Data[i:], raw)
	}
	return a
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}
