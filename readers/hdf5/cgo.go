package hdf5

// #cgo pkg-config: hdf5
// #include "h5shim.h"
import "C"

import (
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strconv"
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
// (clearing it), or what when the stack is empty. A structure the guard
// driver refused is more specific still: HDF5 only says that a read failed.
// It must be called on the thread of the failed call, i.e. inside a cgoOp.
func h5err(what string) error {
	var buf [512]C.char
	C.sd_guard_refusal(&buf[0], C.size_t(len(buf)))
	if msg := C.GoString(&buf[0]); msg != "" {
		C.H5Eclear2(C.H5E_DEFAULT)
		return &CorruptError{Detail: msg}
	}
	C.sd_last_error(&buf[0], C.size_t(len(buf)))
	if msg := C.GoString(&buf[0]); msg != "" {
		return errors.New(plainWords(msg))
	}
	return errors.New(what)
}

// hdf5Truncated is HDF5's message for a file shorter than its superblock
// says, in the library's terms.
var hdf5Truncated = regexp.MustCompile(`^truncated file: eof = (\d+), sblock->base_addr = (\d+), stored_eof = (\d+)$`)

// plainWords rephrases the HDF5 messages a user meets on a damaged file
// that speak of the library's internals.
func plainWords(msg string) string {
	if m := hdf5Truncated.FindStringSubmatch(msg); m != nil {
		eof, _ := strconv.ParseUint(m[1], 10, 64)
		base, _ := strconv.ParseUint(m[2], 10, 64)
		return fmt.Sprintf("truncated file: %d bytes, but its superblock says %s", eof+base, m[3])
	}
	return msg
}

// guardRefusal returns the guard driver's refusal since the operation
// began, as a CorruptError, or nil. For C helpers that clear HDF5's error
// stack themselves.
func guardRefusal() error {
	var buf [512]C.char
	C.sd_guard_refusal(&buf[0], C.size_t(len(buf)))
	if msg := C.GoString(&buf[0]); msg != "" {
		return &CorruptError{Detail: msg}
	}
	return nil
}

// CorruptError is a structure of the file that the reader refuses to hand
// to HDF5 because HDF5 would loop forever or read outside its buffers on it
// (see the package documentation). No other reader should try the file.
type CorruptError struct {
	Detail string // what and where, e.g. "a global heap object of size 0 ... at byte 4998"
}

func (e *CorruptError) Error() string { return e.Detail }

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
