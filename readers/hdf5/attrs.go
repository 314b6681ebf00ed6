package hdf5

// #include "h5shim.h"
import "C"

import (
	"fmt"
	"unsafe"

	"github.com/subsetd/subsetd/ncmodel"
)

// internalAttrs are the HDF5 dimension-scale and netCDF-4 bookkeeping
// attributes, never shown. CLASS and NAME are dropped on dimension scales
// only (see dropScaleAttrs).
var internalAttrs = map[string]bool{
	"DIMENSION_LIST":      true,
	"REFERENCE_LIST":      true,
	"_Netcdf4Dimid":       true,
	"_Netcdf4Coordinates": true,
	"_nc3_strict":         true,
	"_NCProperties":       true,
}

// readAttrs reads the attributes of a group or dataset, in creation order
// when the object tracks it and in name order otherwise (the index-based
// equivalent of H5Aiterate, without a Go callback). Attributes of types
// ncmodel cannot hold (compound, enum, reference, vlen of numbers...) are
// skipped.
func readAttrs(obj C.hid_t, lim limits) ([]ncmodel.Attr, error) {
	var oi C.H5O_info_t
	if C.H5Oget_info2(obj, &oi, C.H5O_INFO_NUM_ATTRS) < 0 {
		return nil, fmt.Errorf("listing attributes: %v", h5err("H5Oget_info failed"))
	}
	// An attribute takes more than 8 bytes of the file (a name, a type, a
	// dataspace).
	if !lim.fits(uint64(oi.num_attrs), 8) {
		return nil, fmt.Errorf("the object claims %d attributes, more than a file of %d bytes holds", uint64(oi.num_attrs), lim.size)
	}
	order := C.sd_attr_order(obj)
	var out []ncmodel.Attr
	for i := C.hsize_t(0); i < oi.num_attrs; i++ {
		name, ok := goStringFree(C.sd_attr_name(obj, order, i))
		if !ok {
			return nil, fmt.Errorf("attribute #%d: %v", i, h5err("cannot get its name"))
		}
		if internalAttrs[name] {
			continue
		}
		a, ok, err := readAttr(obj, C.H5_index_t(order), i, lim)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, err)
		}
		if ok {
			a.Name = name
			out = append(out, a)
		}
	}
	return out, nil
}

// readAttr reads attribute idx of obj; ok is false for unsupported types.
// A string attribute of zero or one element is a Char attribute with a Go
// string value; one of several elements is a String attribute.
func readAttr(obj C.hid_t, order C.H5_index_t, idx C.hsize_t, lim limits) (a ncmodel.Attr, ok bool, err error) {
	dot := C.CString(".")
	defer C.free(unsafe.Pointer(dot))
	aid := C.H5Aopen_by_idx(obj, dot, order, C.H5_ITER_INC, idx, C.H5P_DEFAULT, C.H5P_DEFAULT)
	if aid < 0 {
		return a, false, h5err("cannot open")
	}
	defer closeAttr(aid)
	tid := C.H5Aget_type(aid)
	if tid < 0 {
		return a, false, h5err("cannot get its type")
	}
	defer closeType(tid)
	sid := C.H5Aget_space(aid)
	if sid < 0 {
		return a, false, h5err("cannot get its dataspace")
	}
	defer closeSpace(sid)
	n := 0
	switch C.H5Sget_simple_extent_type(sid) {
	case C.H5S_NULL:
	case C.H5S_SCALAR, C.H5S_SIMPLE:
		np := C.H5Sget_simple_extent_npoints(sid)
		if np < 0 {
			return a, false, h5err("cannot get its size")
		}
		n = int(np)
	default:
		return a, false, h5err("bad dataspace")
	}

	ti := inspectType(tid)
	// An attribute's values are stored in the file (a variable-length
	// string as a 16-byte heap reference): more than the file holds is a
	// corrupt dataspace or type, and would be allocated here.
	stored := uint64(ti.size)
	switch ti.kind {
	case kindNumeric:
		stored = uint64(ti.nc.Size())
	case kindVlenStr:
		stored = 16
	}
	if ti.kind != kindNone && !lim.fits(uint64(n), stored) {
		return a, false, fmt.Errorf("%d values of %d bytes, more than a file of %d bytes holds", n, stored, lim.size)
	}
	var strs []string
	switch ti.kind {
	case kindNone:
		return a, false, nil
	case kindNumeric:
		v, p := numericSlice(ti.nc, n)
		if n > 0 && C.H5Aread(aid, C.sd_native(C.int(ti.nc)), p) < 0 {
			return a, false, h5err("read failed")
		}
		return ncmodel.Attr{Type: ti.nc, Value: v}, true, nil
	case kindChar, kindFixedStr:
		buf := make([]byte, n*ti.size)
		if n > 0 && C.H5Aread(aid, tid, unsafe.Pointer(&buf[0])) < 0 {
			return a, false, h5err("read failed")
		}
		strs = splitFixed(buf, n, ti.size, ti.pad)
	case kindVlenStr:
		if n > 0 {
			strs, err = readVlenAttr(aid, sid, ti.cset, n)
			if err != nil {
				return a, false, err
			}
		}
	}
	if len(strs) <= 1 {
		s := ""
		if len(strs) == 1 {
			s = strs[0]
		}
		return ncmodel.Attr{Type: ncmodel.Char, Value: s}, true, nil
	}
	return ncmodel.Attr{Type: ncmodel.String, Value: strs}, true, nil
}

// readVlenAttr reads n variable-length strings and frees HDF5's copies.
func readVlenAttr(aid, sid C.hid_t, cset C.H5T_cset_t, n int) ([]string, error) {
	mem := C.sd_vlen_str(cset)
	if mem < 0 {
		return nil, h5err("cannot make a string type")
	}
	defer closeType(mem)
	buf := C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof((*C.char)(nil))))
	if buf == nil {
		return nil, fmt.Errorf("out of memory")
	}
	defer C.free(buf)
	if C.H5Aread(aid, mem, buf) < 0 {
		return nil, h5err("read failed")
	}
	out := vlenStrings(buf, n)
	C.H5Dvlen_reclaim(mem, sid, C.H5P_DEFAULT, buf)
	return out, nil
}

// attrText returns the value of a text attribute, or "".
func attrText(as []ncmodel.Attr, name string) (string, bool) {
	for _, a := range as {
		if a.Name == name {
			return a.Text(), a.Type == ncmodel.Char || a.Type == ncmodel.String
		}
	}
	return "", false
}

// dropScaleAttrs removes the CLASS="DIMENSION_SCALE" attribute and, on a
// dimension scale, its NAME attribute.
func dropScaleAttrs(as []ncmodel.Attr) (out []ncmodel.Attr, isScale bool) {
	if c, _ := attrText(as, "CLASS"); c == "DIMENSION_SCALE" {
		isScale = true
	}
	for _, a := range as {
		if isScale && (a.Name == "CLASS" || a.Name == "NAME") {
			continue
		}
		out = append(out, a)
	}
	return out, isScale
}
