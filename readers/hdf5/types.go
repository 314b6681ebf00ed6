package hdf5

// #include "h5shim.h"
import "C"

import (
	"bytes"
	"unsafe"

	"github.com/subsetd/subsetd/ncmodel"
)

// kind is how the values of a dataset or attribute are read.
type kind int

const (
	kindNone     kind = iota // unsupported: compound, enum, reference...
	kindNumeric              // integers and floats, read as native types
	kindChar                 // fixed-length strings of one byte: raw bytes
	kindFixedStr             // fixed-length strings
	kindVlenStr              // variable-length strings
)

// typeInfo is what the reader keeps of an HDF5 datatype.
type typeInfo struct {
	kind kind
	nc   ncmodel.Type
	size int         // fixed-length strings: bytes per value
	pad  C.H5T_str_t // fixed-length strings: padding
	cset C.H5T_cset_t
}

// inspectType classifies an HDF5 datatype. Integers of 1, 2, 4 and 8 bytes
// and floats of 4 and 8 bytes, of either byte order, are numeric; strings
// are Char (fixed, one byte) or String; everything else is kindNone.
func inspectType(tid C.hid_t) typeInfo {
	switch C.H5Tget_class(tid) {
	case C.H5T_INTEGER:
		signed := C.H5Tget_sign(tid) == C.H5T_SGN_2
		var t ncmodel.Type
		switch C.H5Tget_size(tid) {
		case 1:
			t = pick(signed, ncmodel.Byte, ncmodel.UByte)
		case 2:
			t = pick(signed, ncmodel.Short, ncmodel.UShort)
		case 4:
			t = pick(signed, ncmodel.Int, ncmodel.UInt)
		case 8:
			t = pick(signed, ncmodel.Int64, ncmodel.UInt64)
		default:
			return typeInfo{}
		}
		return typeInfo{kind: kindNumeric, nc: t}
	case C.H5T_FLOAT:
		switch C.H5Tget_size(tid) {
		case 4:
			return typeInfo{kind: kindNumeric, nc: ncmodel.Float}
		case 8:
			return typeInfo{kind: kindNumeric, nc: ncmodel.Double}
		}
		return typeInfo{}
	case C.H5T_STRING:
		cset := C.H5Tget_cset(tid)
		if cset < 0 {
			return typeInfo{}
		}
		switch C.H5Tis_variable_str(tid) {
		case 1:
			return typeInfo{kind: kindVlenStr, nc: ncmodel.String, cset: cset}
		case 0:
			size := int(C.H5Tget_size(tid))
			pad := C.H5Tget_strpad(tid)
			if size < 1 || pad < 0 {
				return typeInfo{}
			}
			if size == 1 {
				return typeInfo{kind: kindChar, nc: ncmodel.Char, size: 1, pad: pad, cset: cset}
			}
			return typeInfo{kind: kindFixedStr, nc: ncmodel.String, size: size, pad: pad, cset: cset}
		}
	}
	return typeInfo{}
}

func pick(signed bool, s, u ncmodel.Type) ncmodel.Type {
	if signed {
		return s
	}
	return u
}

// trimFixed turns one fixed-length string value into a Go string: up to the
// terminating NUL for null-terminated strings, without the padding for
// null- or space-padded ones.
func trimFixed(b []byte, pad C.H5T_str_t) string {
	switch pad {
	case C.H5T_STR_NULLTERM:
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
	case C.H5T_STR_SPACEPAD:
		b = bytes.TrimRight(b, " \x00")
	default:
		b = bytes.TrimRight(b, "\x00")
	}
	return string(b)
}

// splitFixed cuts a buffer of n fixed-length strings of size bytes each.
func splitFixed(buf []byte, n, size int, pad C.H5T_str_t) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = trimFixed(buf[i*size:(i+1)*size], pad)
	}
	return out
}

// vlenStrings converts n C strings from a buffer filled by H5Dread/H5Aread
// with a variable-length string memory type; NULL pointers read as "".
func vlenStrings(buf unsafe.Pointer, n int) []string {
	ptrs := unsafe.Slice((**C.char)(buf), n)
	out := make([]string, n)
	for i, p := range ptrs {
		if p != nil {
			out[i] = C.GoString(p)
		}
	}
	return out
}

// numericSlice allocates a Go slice of n values of type t, the type of
// ncmodel.Attr values, and returns it with a pointer to its first element
// (nil when n is 0) for H5Aread.
func numericSlice(t ncmodel.Type, n int) (any, unsafe.Pointer) {
	switch t {
	case ncmodel.Byte:
		return typed[int8](n)
	case ncmodel.UByte:
		return typed[uint8](n)
	case ncmodel.Short:
		return typed[int16](n)
	case ncmodel.UShort:
		return typed[uint16](n)
	case ncmodel.Int:
		return typed[int32](n)
	case ncmodel.UInt:
		return typed[uint32](n)
	case ncmodel.Int64:
		return typed[int64](n)
	case ncmodel.UInt64:
		return typed[uint64](n)
	case ncmodel.Float:
		return typed[float32](n)
	case ncmodel.Double:
		return typed[float64](n)
	}
	return nil, nil
}

func typed[T any](n int) (any, unsafe.Pointer) {
	s := make([]T, n)
	if n == 0 {
		return s, nil
	}
	return s, unsafe.Pointer(&s[0])
}
