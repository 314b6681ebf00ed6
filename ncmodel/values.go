package ncmodel

import (
	"encoding/binary"
	"fmt"
	"math"
)

var ne = binary.NativeEndian

// DecodeValues turns raw native-order bytes of type t into the typed Go
// slice used for attribute values (see Attr). Char gives a string.
func DecodeValues(t Type, raw []byte) any {
	n := 0
	if s := t.Size(); s > 0 {
		n = len(raw) / s
	}
	switch t {
	case Byte:
		out := make([]int8, n)
		for i := range out {
			out[i] = int8(raw[i])
		}
		return out
	case Char:
		return string(raw)
	case UByte:
		return append([]uint8{}, raw...)
	case Short:
		out := make([]int16, n)
		for i := range out {
			out[i] = int16(ne.Uint16(raw[2*i:]))
		}
		return out
	case UShort:
		out := make([]uint16, n)
		for i := range out {
			out[i] = ne.Uint16(raw[2*i:])
		}
		return out
	case Int:
		out := make([]int32, n)
		for i := range out {
			out[i] = int32(ne.Uint32(raw[4*i:]))
		}
		return out
	case UInt:
		out := make([]uint32, n)
		for i := range out {
			out[i] = ne.Uint32(raw[4*i:])
		}
		return out
	case Float:
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(ne.Uint32(raw[4*i:]))
		}
		return out
	case Int64:
		out := make([]int64, n)
		for i := range out {
			out[i] = int64(ne.Uint64(raw[8*i:]))
		}
		return out
	case UInt64:
		out := make([]uint64, n)
		for i := range out {
			out[i] = ne.Uint64(raw[8*i:])
		}
		return out
	case Double:
		out := make([]float64, n)
		for i := range out {
			out[i] = math.Float64frombits(ne.Uint64(raw[8*i:]))
		}
		return out
	}
	return nil
}

// EncodeValues is the inverse of DecodeValues for numeric types: it returns
// the raw bytes and the number of values. The Go type must match t.
func EncodeValues(t Type, v any) ([]byte, int, error) {
	var raw []byte
	var n int
	switch x := v.(type) {
	case []int8:
		if t != Byte {
			break
		}
		n = len(x)
		raw = make([]byte, n)
		for i, e := range x {
			raw[i] = byte(e)
		}
		return raw, n, nil
	case []uint8:
		if t != UByte {
			break
		}
		return append([]byte{}, x...), len(x), nil
	case []int16:
		if t != Short {
			break
		}
		n = len(x)
		raw = make([]byte, 2*n)
		for i, e := range x {
			ne.PutUint16(raw[2*i:], uint16(e))
		}
		return raw, n, nil
	case []uint16:
		if t != UShort {
			break
		}
		n = len(x)
		raw = make([]byte, 2*n)
		for i, e := range x {
			ne.PutUint16(raw[2*i:], e)
		}
		return raw, n, nil
	case []int32:
		if t != Int {
			break
		}
		n = len(x)
		raw = make([]byte, 4*n)
		for i, e := range x {
			ne.PutUint32(raw[4*i:], uint32(e))
		}
		return raw, n, nil
	case []uint32:
		if t != UInt {
			break
		}
		n = len(x)
		raw = make([]byte, 4*n)
		for i, e := range x {
			ne.PutUint32(raw[4*i:], e)
		}
		return raw, n, nil
	case []float32:
		if t != Float {
			break
		}
		n = len(x)
		raw = make([]byte, 4*n)
		for i, e := range x {
			ne.PutUint32(raw[4*i:], math.Float32bits(e))
		}
		return raw, n, nil
	case []int64:
		if t != Int64 {
			break
		}
		n = len(x)
		raw = make([]byte, 8*n)
		for i, e := range x {
			ne.PutUint64(raw[8*i:], uint64(e))
		}
		return raw, n, nil
	case []uint64:
		if t != UInt64 {
			break
		}
		n = len(x)
		raw = make([]byte, 8*n)
		for i, e := range x {
			ne.PutUint64(raw[8*i:], e)
		}
		return raw, n, nil
	case []float64:
		if t != Double {
			break
		}
		n = len(x)
		raw = make([]byte, 8*n)
		for i, e := range x {
			ne.PutUint64(raw[8*i:], math.Float64bits(e))
		}
		return raw, n, nil
	}
	return nil, 0, fmt.Errorf("value of Go type %T does not match NetCDF type %s", v, t)
}

// Float64 returns value i of a numeric array as float64 (no unpacking).
func (a *Array) Float64(i int) float64 {
	d := a.Data
	switch a.Type {
	case Byte:
		return float64(int8(d[i]))
	case UByte, Char:
		return float64(d[i])
	case Short:
		return float64(int16(ne.Uint16(d[2*i:])))
	case UShort:
		return float64(ne.Uint16(d[2*i:]))
	case Int:
		return float64(int32(ne.Uint32(d[4*i:])))
	case UInt:
		return float64(ne.Uint32(d[4*i:]))
	case Float:
		return float64(math.Float32frombits(ne.Uint32(d[4*i:])))
	case Int64:
		return float64(int64(ne.Uint64(d[8*i:])))
	case UInt64:
		return float64(ne.Uint64(d[8*i:]))
	case Double:
		return math.Float64frombits(ne.Uint64(d[8*i:]))
	}
	return math.NaN()
}

// SetFloat64 stores x at value i of a numeric array, converting to its type
// (integers are rounded to nearest).
func (a *Array) SetFloat64(i int, x float64) {
	d := a.Data
	switch a.Type {
	case Byte:
		d[i] = byte(int8(math.Round(x)))
	case UByte, Char:
		d[i] = byte(math.Round(x))
	case Short:
		ne.PutUint16(d[2*i:], uint16(int16(math.Round(x))))
	case UShort:
		ne.PutUint16(d[2*i:], uint16(math.Round(x)))
	case Int:
		ne.PutUint32(d[4*i:], uint32(int32(math.Round(x))))
	case UInt:
		ne.PutUint32(d[4*i:], uint32(math.Round(x)))
	case Float:
		ne.PutUint32(d[4*i:], math.Float32bits(float32(x)))
	case Int64:
		ne.PutUint64(d[8*i:], uint64(int64(math.Round(x))))
	case UInt64:
		ne.PutUint64(d[8*i:], uint64(math.Round(x)))
	case Double:
		ne.PutUint64(d[8*i:], math.Float64bits(x))
	}
}

// Float64s decodes a whole numeric array.
func (a *Array) Float64s() []float64 {
	out := make([]float64, a.Len())
	for i := range out {
		out[i] = a.Float64(i)
	}
	return out
}

// DefaultFill returns netCDF's default fill value for t, raw (NC_FILL_*).
func DefaultFill(t Type) []byte {
	a := NewArray(t, []int{1})
	switch t {
	case Byte:
		a.SetFloat64(0, -127)
	case Short:
		a.SetFloat64(0, -32767)
	case Int:
		a.SetFloat64(0, -2147483647)
	case Float:
		ne.PutUint32(a.Data, math.Float32bits(9.9692099683868690e+36))
	case Double:
		ne.PutUint64(a.Data, math.Float64bits(9.9692099683868690e+36))
	case UByte:
		a.Data[0] = 255
	case UShort:
		ne.PutUint16(a.Data, 65535)
	case UInt:
		ne.PutUint32(a.Data, 4294967295)
	case Int64:
		ne.PutUint64(a.Data, uint64(0x8000000000000002)) // -9223372036854775806
	case UInt64:
		ne.PutUint64(a.Data, 18446744073709551614)
	}
	return a.Data
}

// CopyOverlap copies the part of src (whose first element is at index
// srcAt) that lies inside dst (first element at dstAt) into dst. Both are dense,
// of the same type and rank; concurrent calls writing disjoint parts of
// dst are safe.
func CopyOverlap(dst *Array, dstAt []int, src *Array, srcAt []int) {
	rank := len(dst.Shape)
	lo := make([]int, rank) // the overlap, in absolute indices
	n := make([]int, rank)
	for i := range rank {
		lo[i] = max(dstAt[i], srcAt[i])
		hi := min(dstAt[i]+dst.Shape[i], srcAt[i]+src.Shape[i])
		if hi <= lo[i] {
			return
		}
		n[i] = hi - lo[i]
	}
	es := dst.Type.Size()
	dstStride := make([]int, rank)
	srcStride := make([]int, rank)
	ds, ss := es, es
	for i := rank - 1; i >= 0; i-- {
		dstStride[i], srcStride[i] = ds, ss
		ds *= dst.Shape[i]
		ss *= src.Shape[i]
	}
	row := n[rank-1] * es
	idx := make([]int, rank) // position inside the overlap, last dimension 0
	for {
		d, s := 0, 0
		for i := range rank {
			d += (lo[i] - dstAt[i] + idx[i]) * dstStride[i]
			s += (lo[i] - srcAt[i] + idx[i]) * srcStride[i]
		}
		copy(dst.Data[d:d+row], src.Data[s:s+row])
		i := rank - 2
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < n[i] {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return
		}
	}
}
