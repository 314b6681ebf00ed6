package codec

// #cgo pkg-config: zlib
// #include <zlib.h>
import "C"

import (
	"fmt"
	"unsafe"
)

// inflateZlib decodes with zlib itself, as HDF5's deflate filter does: the
// reference the tests and benchmarks hold libdeflate against.
func inflateZlib(dst, src []byte) error {
	n := C.uLongf(len(dst))
	if r := C.uncompress((*C.Bytef)(unsafe.Pointer(&dst[0])), &n, (*C.Bytef)(unsafe.Pointer(&src[0])), C.uLong(len(src))); r != C.Z_OK || int(n) != len(dst) {
		return fmt.Errorf("%w (zlib status %d)", ErrCorrupt, int(r))
	}
	return nil
}

// deflateZlib encodes with zlib's compress2 at level, as HDF5 does.
func deflateZlib(src []byte, level int) []byte {
	n := C.compressBound(C.uLong(len(src)))
	dst := make([]byte, int(n))
	if r := C.compress2((*C.Bytef)(unsafe.Pointer(&dst[0])), &n, (*C.Bytef)(unsafe.Pointer(&src[0])), C.uLong(len(src)), C.int(level)); r != C.Z_OK {
		panic(fmt.Sprintf("zlib compress2: status %d", int(r)))
	}
	return dst[:n]
}
