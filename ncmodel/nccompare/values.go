package nccompare

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/subsetd/subsetd/ncmodel"
)

// Values decodes a numeric or Char array to float64, in C order. Int64 and
// UInt64 values beyond 2^53 lose precision; String arrays give nil.
func Values(a *ncmodel.Array) []float64 {
	if a == nil || a.Type == ncmodel.String || !a.Type.Valid() {
		return nil
	}
	n := len(a.Data) / a.Type.Size()
	out := make([]float64, n)
	for i := range out {
		out[i] = At(a, i)
	}
	return out
}

// At decodes the i-th value of a numeric or Char array; NaN for String.
func At(a *ncmodel.Array, i int) float64 {
	sz := a.Type.Size()
	b := a.Data[i*sz:]
	switch a.Type {
	case ncmodel.Byte:
		return float64(int8(b[0]))
	case ncmodel.Char, ncmodel.UByte:
		return float64(b[0])
	case ncmodel.Short:
		return float64(int16(binary.NativeEndian.Uint16(b)))
	case ncmodel.UShort:
		return float64(binary.NativeEndian.Uint16(b))
	case ncmodel.Int:
		return float64(int32(binary.NativeEndian.Uint32(b)))
	case ncmodel.UInt:
		return float64(binary.NativeEndian.Uint32(b))
	case ncmodel.Float:
		return float64(math.Float32frombits(binary.NativeEndian.Uint32(b)))
	case ncmodel.Double:
		return math.Float64frombits(binary.NativeEndian.Uint64(b))
	case ncmodel.Int64:
		return float64(int64(binary.NativeEndian.Uint64(b)))
	case ncmodel.UInt64:
		return float64(binary.NativeEndian.Uint64(b))
	}
	return math.NaN()
}

// Format renders the i-th value of a exactly, as ncdump would: integers in
// full (no float64 rounding for 64-bit ones), floats with the shortest
// representation of their own width, characters and strings quoted.
func Format(a *ncmodel.Array, i int) string {
	if a.Type == ncmodel.String {
		return strconv.Quote(a.Strings[i])
	}
	sz := a.Type.Size()
	b := a.Data[i*sz:]
	switch a.Type {
	case ncmodel.Char:
		return strconv.QuoteRune(rune(b[0]))
	case ncmodel.Float:
		return strconv.FormatFloat(float64(math.Float32frombits(binary.NativeEndian.Uint32(b))), 'g', -1, 32)
	case ncmodel.Double:
		return strconv.FormatFloat(math.Float64frombits(binary.NativeEndian.Uint64(b)), 'g', -1, 64)
	case ncmodel.Int64:
		return strconv.FormatInt(int64(binary.NativeEndian.Uint64(b)), 10)
	case ncmodel.UInt64:
		return strconv.FormatUint(binary.NativeEndian.Uint64(b), 10)
	}
	return strconv.FormatFloat(At(a, i), 'g', -1, 64)
}

// same reports whether value i of x equals value j of y: the same bits, or
// both NaN, since readers and writers do not preserve NaN payloads.
func same(x *ncmodel.Array, i int, y *ncmodel.Array, j int) bool {
	if x.Type == ncmodel.String {
		return x.Strings[i] == y.Strings[j]
	}
	sz := x.Type.Size()
	a, b := x.Data[i*sz:(i+1)*sz], y.Data[j*sz:(j+1)*sz]
	if bytes.Equal(a, b) {
		return true
	}
	switch x.Type {
	case ncmodel.Float:
		return isNaN32(a) && isNaN32(b)
	case ncmodel.Double:
		return isNaN64(a) && isNaN64(b)
	}
	return false
}

func isNaN32(b []byte) bool {
	f := math.Float32frombits(binary.NativeEndian.Uint32(b))
	return f != f
}

func isNaN64(b []byte) bool { return math.IsNaN(math.Float64frombits(binary.NativeEndian.Uint64(b))) }

// maxShown bounds the differing indices a message lists.
const maxShown = 5

// diffs compares two well-formed arrays of the same type and length value
// by value; index turns a position in them into the index shown (that of
// the whole variable when the arrays are slabs). It returns the number of
// differing values and up to maxShown "[i j k] x vs y" items.
func diffs(x, y *ncmodel.Array, index func(k int) []int) (int, []string) {
	if x.Type == ncmodel.String {
		if slices.Equal(x.Strings, y.Strings) {
			return 0, nil
		}
	} else if bytes.Equal(x.Data, y.Data) {
		return 0, nil
	}
	n := x.Len()
	var count int
	var shown []string
	for k := range n {
		if same(x, k, y, k) {
			continue
		}
		count++
		if len(shown) < maxShown {
			shown = append(shown, fmt.Sprintf("%v %s vs %s", index(k), Format(x, k), Format(y, k)))
		}
	}
	return count, shown
}

// unravel turns a C-order position into an index of the shape.
func unravel(k int, shape []int) []int {
	idx := make([]int, len(shape))
	for d := len(shape) - 1; d >= 0; d-- {
		if shape[d] > 0 {
			idx[d] = k % shape[d]
			k /= shape[d]
		}
	}
	return idx
}

// EqualArrays reports whether two arrays hold the same type, shape and
// values (raw bits, NaN equal to NaN) and, if not, what differs.
func EqualArrays(x, y *ncmodel.Array) (bool, string) {
	switch {
	case x == nil || y == nil:
		if x == y {
			return true, ""
		}
		return false, fmt.Sprintf("array %s vs %s", arrayString(x), arrayString(y))
	case x.Type != y.Type:
		return false, fmt.Sprintf("type %s vs %s", x.Type, y.Type)
	case !slices.Equal(x.Shape, y.Shape):
		return false, fmt.Sprintf("shape %v vs %v", x.Shape, y.Shape)
	}
	if err := wellFormed(x); err != nil {
		return false, "first array: " + err.Error()
	}
	if err := wellFormed(y); err != nil {
		return false, "second array: " + err.Error()
	}
	n, shown := diffs(x, y, func(k int) []int { return unravel(k, x.Shape) })
	if n == 0 {
		return true, ""
	}
	return false, fmt.Sprintf("%d of %d values differ: %s", n, x.Len(), strings.Join(shown, ", "))
}

func arrayString(a *ncmodel.Array) string {
	if a == nil {
		return "nil"
	}
	return fmt.Sprintf("%s%v", a.Type, a.Shape)
}

// wellFormed guards value comparisons against slices that do not match
// the shape, which would otherwise panic deep inside a test.
func wellFormed(a *ncmodel.Array) error {
	if !a.Type.Valid() {
		return fmt.Errorf("invalid type %d", int(a.Type))
	}
	if a.Type == ncmodel.String {
		if len(a.Strings) != a.Len() {
			return fmt.Errorf("%d strings for shape %v", len(a.Strings), a.Shape)
		}
		return nil
	}
	if len(a.Data) != a.Len()*a.Type.Size() {
		return fmt.Errorf("%d bytes for %s%v", len(a.Data), a.Type, a.Shape)
	}
	return nil
}

// EqualAttrs reports whether two attributes have the same name, type and
// value. NaN equals NaN, and trailing NULs of Char values are ignored:
// some writers store C strings with their terminator, and CF readers
// ignore it.
func EqualAttrs(x, y ncmodel.Attr) (bool, string) {
	if x.Name != y.Name {
		return false, fmt.Sprintf("name %q vs %q", x.Name, y.Name)
	}
	if x.Type != y.Type {
		return false, fmt.Sprintf("type %s vs %s (%s vs %s)", x.Type, y.Type, attrValue(x), attrValue(y))
	}
	switch xv := x.Value.(type) {
	case string:
		yv, ok := y.Value.(string)
		if ok && strings.TrimRight(xv, "\x00") == strings.TrimRight(yv, "\x00") {
			return true, ""
		}
	case []string:
		if yv, ok := y.Value.([]string); ok && slices.Equal(xv, yv) {
			return true, ""
		}
	default:
		xa, ya := attrArray(x), attrArray(y)
		if xa != nil && ya != nil {
			if ok, _ := EqualArrays(xa, ya); ok {
				return true, ""
			}
		}
	}
	return false, fmt.Sprintf("%s vs %s", attrValue(x), attrValue(y))
}

// attrArray views a numeric attribute as an Array so the value rules are
// the same for attributes and variables; nil when Value does not match
// Type.
func attrArray(a ncmodel.Attr) *ncmodel.Array {
	var n int
	var want ncmodel.Type
	var put func(b []byte, i int)
	switch v := a.Value.(type) {
	case []int8:
		want = ncmodel.Byte
		n, put = len(v), func(b []byte, i int) { b[0] = byte(v[i]) }
	case []uint8:
		want = ncmodel.UByte
		n, put = len(v), func(b []byte, i int) { b[0] = v[i] }
	case []int16:
		want = ncmodel.Short
		n, put = len(v), func(b []byte, i int) { binary.NativeEndian.PutUint16(b, uint16(v[i])) }
	case []uint16:
		want = ncmodel.UShort
		n, put = len(v), func(b []byte, i int) { binary.NativeEndian.PutUint16(b, v[i]) }
	case []int32:
		want = ncmodel.Int
		n, put = len(v), func(b []byte, i int) { binary.NativeEndian.PutUint32(b, uint32(v[i])) }
	case []uint32:
		want = ncmodel.UInt
		n, put = len(v), func(b []byte, i int) { binary.NativeEndian.PutUint32(b, v[i]) }
	case []float32:
		want = ncmodel.Float
		n, put = len(v), func(b []byte, i int) { binary.NativeEndian.PutUint32(b, math.Float32bits(v[i])) }
	case []float64:
		want = ncmodel.Double
		n, put = len(v), func(b []byte, i int) { binary.NativeEndian.PutUint64(b, math.Float64bits(v[i])) }
	case []int64:
		want = ncmodel.Int64
		n, put = len(v), func(b []byte, i int) { binary.NativeEndian.PutUint64(b, uint64(v[i])) }
	case []uint64:
		want = ncmodel.UInt64
		n, put = len(v), func(b []byte, i int) { binary.NativeEndian.PutUint64(b, v[i]) }
	default:
		return nil
	}
	t := a.Type
	if t != want {
		return nil
	}
	arr := ncmodel.NewArray(t, []int{n})
	for i := range n {
		put(arr.Data[i*t.Size():], i)
	}
	return arr
}

func attrValue(a ncmodel.Attr) string {
	switch v := a.Value.(type) {
	case string:
		return strconv.Quote(v)
	case []string:
		q := make([]string, len(v))
		for i, s := range v {
			q[i] = strconv.Quote(s)
		}
		return "[" + strings.Join(q, ", ") + "]"
	}
	if arr := attrArray(a); arr != nil {
		parts := make([]string, arr.Len())
		for i := range parts {
			parts[i] = Format(arr, i)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprintf("%v", a.Value)
}
