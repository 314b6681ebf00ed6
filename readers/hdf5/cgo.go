package hdf5

// #cgo pkg-config: hdf5
// #include "h5shim.h"
import "C"

import (
	"errors"
	"runtime"
	"unsafe"
)

// cgoOp prepares the current goroutine for a sequence of HDF5 calls and
// returns the function that ends it: it locks the goroutine to its OS thread
// (HDF5's error stack and the "print errors" setting are per thread in a
// thread-safe build) and turns off the printing of error stacks. Use it as
// `defer cgoOp()()` at the top of every exported operation.
func cgoOp() func() {
	runtime.LockOSThread()
	C.sd_silence()
	return runtime.UnlockOSThread
}

// h5err returns the most specific message of this thread's HDF5 error stack
// (clearing it), or what when the stack is empty. It must be called on the
// thread of the failed call, i.e. inside a cgoOp.
func h5err(what string) error {
	var buf [512]C.char
	C.sd_last_error(&buf[0], C.size_t(len(buf)))
	if msg := C.GoString(&buf[0]); msg != "" {
		return errors.New(msg)
	}
	return errors.New(what)
}

// h5msg is h5err's message as a string.
func h5msg(what string) string { return h5err(what).Error() }

// goStringFree converts a malloc'ed C string and frees it; "" and false for
// NULL.
func goStringFree(s *C.char) (string, bool) {
	if s == nil {
		return "", false
	}
	defer C.free(unsafe.Pointer(s))
	return C.GoString(s), true
}

// The HDF5 close functions, named for defer. Errors on close of a read-only
// object are not actionable and are ignored.
func closeDataset(id C.hid_t) { C.H5Dclose(id) }
func closeGroup(id C.hid_t)   { C.H5Gclose(id) }
func closeSpace(id C.hid_t)   { C.H5Sclose(id) }
func closeType(id C.hid_t)    { C.H5Tclose(id) }
func closeAttr(id C.hid_t)    { C.H5Aclose(id) }
func closePlist(id C.hid_t)   { C.H5Pclose(id) }

// idCounts returns how many HDF5 files, groups, datasets and attributes are
// open in the process. Tests compare it before and after to find leaks.
// (HDF5 1.10 has no public way to count transient datatypes and
// dataspaces: H5Inmembers refuses library types.)
func idCounts() [4]int {
	defer cgoOp()()
	var out [4]int
	for i, t := range []C.uint{C.H5F_OBJ_FILE, C.H5F_OBJ_GROUP, C.H5F_OBJ_DATASET, C.H5F_OBJ_ATTR} {
		if n := C.H5Fget_obj_count(C.H5F_OBJ_ALL, t); n >= 0 {
			out[i] = int(n)
		}
	}
	return out
}
