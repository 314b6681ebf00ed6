package netcdf

// #cgo pkg-config: netcdf hdf5
// #include <stdlib.h>
// #include <netcdf.h>
// #include <hdf5.h>
// static void silence_hdf5(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"syscall"
	"unsafe"

	gonc "github.com/fhs/go-netcdf/netcdf"
	"github.com/subsetd/subsetd/ncmodel"
)

// mu serialises every netCDF-C call in the process (the library keeps
// global state without locks).
var mu sync.Mutex

// lock takes mu and pins the goroutine to its thread for the C calls that
// follow: HDF5 (under netCDF-4) keeps its "print error stacks" switch per
// thread, and netCDF-C probes for optional attributes in ways that would
// print HDF5 diagnostics on stderr. Errors still come back as status codes.
func lock() {
	mu.Lock()
	runtime.LockOSThread()
	C.silence_hdf5()
}

func unlock() {
	runtime.UnlockOSThread()
	mu.Unlock()
}

// ncErr turns a status code into an error once; nil for NC_NOERR. netCDF-C
// returns its own codes as negative numbers and system errors (errno) as
// positive ones: those become syscall.Errno, so that errors.Is works on
// them (ENOSPC) and their message is the system's.
func ncErr(status C.int) error {
	switch {
	case status == C.NC_NOERR:
		return nil
	case status > 0:
		return syscall.Errno(status)
	}
	return gonc.Error(status)
}

// libError is err, from netCDF-C, as a message for a user: a system error
// on a file being read says so ("argument list too long" alone reads as a
// command-line problem).
func libError(err error) string {
	var en syscall.Errno
	var e gonc.Error
	switch {
	case errors.As(err, &en):
		return "netCDF-C: " + en.Error()
	case errors.As(err, &e) && e > 0:
		return "netCDF-C: " + syscall.Errno(e).Error()
	}
	return err.Error()
}

// Error codes callers may want to tell apart.
var (
	ErrNotNetCDF = errors.New("not a NetCDF or HDF5 file")
	// ErrCorrupt is an HDF5-level failure to open: a truncated or damaged
	// file, or a plain HDF5 file netCDF-C cannot map (the HDF5 reader may).
	ErrCorrupt = errors.New("corrupt or truncated NetCDF-4/HDF5 file")
	// ErrCorruptClassic is a netCDF-3 file whose header is inconsistent
	// or which netCDF-C cannot read.
	ErrCorruptClassic = errors.New("corrupt netCDF-3 file")
)

func cSizes(xs []int) []C.size_t {
	out := make([]C.size_t, len(xs)+1) // +1: never pass a nil pointer for scalars
	for i, x := range xs {
		out[i] = C.size_t(x)
	}
	return out
}

func cDiffs(xs []int) []C.ptrdiff_t {
	out := make([]C.ptrdiff_t, len(xs)+1)
	for i, x := range xs {
		out[i] = C.ptrdiff_t(x)
	}
	return out
}

func goName(buf []C.char) string { return C.GoString(&buf[0]) }

func nameBuf() []C.char { return make([]C.char, C.NC_MAX_NAME+1) }

// readAttrs reads every attribute of variable varid (C.NC_GLOBAL for the group).
func readAttrs(ncid, varid C.int, natts int) ([]ncmodel.Attr, error) {
	var out []ncmodel.Attr
	for i := 0; i < natts; i++ {
		nb := nameBuf()
		if err := ncErr(C.nc_inq_attname(ncid, varid, C.int(i), &nb[0])); err != nil {
			return nil, fmt.Errorf("attribute %d: %w", i, err)
		}
		name := goName(nb)
		var xtype C.nc_type
		var n C.size_t
		if err := ncErr(C.nc_inq_att(ncid, varid, &nb[0], &xtype, &n)); err != nil {
			return nil, fmt.Errorf("attribute %q: %w", name, err)
		}
		t := ncmodel.Type(xtype)
		if !t.Valid() {
			continue // user-defined types: not carried
		}
		a := ncmodel.Attr{Name: name, Type: t}
		switch t {
		case ncmodel.Char:
			buf := make([]byte, int(n)+1)
			if err := ncErr(C.nc_get_att_text(ncid, varid, &nb[0], (*C.char)(unsafe.Pointer(&buf[0])))); err != nil {
				return nil, fmt.Errorf("attribute %q: %w", name, err)
			}
			a.Value = string(buf[:n])
		case ncmodel.String:
			ptrs := make([]*C.char, int(n)+1)
			if err := ncErr(C.nc_get_att_string(ncid, varid, &nb[0], &ptrs[0])); err != nil {
				return nil, fmt.Errorf("attribute %q: %w", name, err)
			}
			ss := make([]string, n)
			for j := range ss {
				if ptrs[j] != nil {
					ss[j] = C.GoString(ptrs[j])
				}
			}
			if n > 0 {
				C.nc_free_string(n, &ptrs[0])
			}
			a.Value = ss
		default:
			buf := make([]byte, int(n)*t.Size()+8)
			if err := ncErr(C.nc_get_att(ncid, varid, &nb[0], unsafe.Pointer(&buf[0]))); err != nil {
				return nil, fmt.Errorf("attribute %q: %w", name, err)
			}
			a.Value = ncmodel.DecodeValues(t, buf[:int(n)*t.Size()])
		}
		out = append(out, a)
	}
	return out, nil
}

// writeAttrs writes attributes to variable varid (C.NC_GLOBAL for the group).
func writeAttrs(ncid, varid C.int, attrs []ncmodel.Attr, classic bool) error {
	for _, a := range attrs {
		if err := writeAttr(ncid, varid, a, classic); err != nil {
			return fmt.Errorf("attribute %q: %w", a.Name, err)
		}
	}
	return nil
}

func writeAttr(ncid, varid C.int, a ncmodel.Attr, classic bool) error {
	cname := C.CString(a.Name)
	defer C.free(unsafe.Pointer(cname))
	switch a.Type {
	case ncmodel.Char:
		s, _ := a.Value.(string)
		cs := C.CString(s)
		defer C.free(unsafe.Pointer(cs))
		return ncErr(C.nc_put_att_text(ncid, varid, cname, C.size_t(len(s)), cs))
	case ncmodel.String:
		ss, _ := a.Value.([]string)
		if classic {
			if len(ss) > 1 {
				return fmt.Errorf("netCDF-3 cannot hold an attribute of %d strings", len(ss))
			}
			s := ""
			if len(ss) == 1 {
				s = ss[0]
			}
			return writeAttr(ncid, varid, ncmodel.Attr{Name: a.Name, Type: ncmodel.Char, Value: s}, classic)
		}
		ptrs := make([]*C.char, len(ss)+1)
		for i, s := range ss {
			ptrs[i] = C.CString(s)
		}
		defer func() {
			for _, p := range ptrs {
				C.free(unsafe.Pointer(p))
			}
		}()
		return ncErr(C.nc_put_att_string(ncid, varid, cname, C.size_t(len(ss)), (**C.char)(unsafe.Pointer(&ptrs[0]))))
	default:
		raw, n, err := ncmodel.EncodeValues(a.Type, a.Value)
		if err != nil {
			return err
		}
		raw = append(raw, make([]byte, 8)...) // never a zero-length buffer
		return ncErr(C.nc_put_att(ncid, varid, cname, C.nc_type(a.Type), C.size_t(n), unsafe.Pointer(&raw[0])))
	}
}
