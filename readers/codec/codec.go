// Package codec encodes and decodes the stored chunks of NetCDF-4/HDF5
// variables for the direct chunk reads and writes of the readers: zlib
// streams (HDF5's deflate filter) through libdeflate, and HDF5's byte
// shuffle in Go. Everything here is safe for concurrent use and takes no
// library lock, so chunks are decoded on every core.
package codec

// #cgo pkg-config: libdeflate
// #include <stdlib.h>
// #include <libdeflate.h>
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"
)

// The HDF5 filter identifiers the direct paths handle.
const (
	FilterDeflate = 1 // H5Z_FILTER_DEFLATE
	FilterShuffle = 2 // H5Z_FILTER_SHUFFLE
)

// ErrCorrupt is a zlib stream that does not decode to the expected size.
var ErrCorrupt = errors.New("corrupt deflate stream")

// A libdeflate (de)compressor holds tables worth tens of kilobytes and is
// not safe for concurrent use: one per goroutine at a time, from pools.
var decompressors = sync.Pool{New: func() any {
	d := C.libdeflate_alloc_decompressor()
	if d == nil {
		panic("libdeflate: out of memory")
	}
	return d
}}

var compressors sync.Map // level -> *sync.Pool of *C.struct_libdeflate_compressor

// Inflate decodes the zlib stream src into dst, which must be exactly the
// size of the decoded data.
func Inflate(dst, src []byte) error {
	if len(dst) == 0 || len(src) == 0 {
		if len(dst) == 0 {
			return nil
		}
		return ErrCorrupt
	}
	d := decompressors.Get().(*C.struct_libdeflate_decompressor)
	defer decompressors.Put(d)
	var n C.size_t
	r := C.libdeflate_zlib_decompress(d, unsafe.Pointer(&src[0]), C.size_t(len(src)), unsafe.Pointer(&dst[0]), C.size_t(len(dst)), &n)
	if r != C.LIBDEFLATE_SUCCESS || int(n) != len(dst) {
		return fmt.Errorf("%w (libdeflate status %d, %d of %d bytes)", ErrCorrupt, int(r), int(n), len(dst))
	}
	return nil
}

// Deflate encodes src as a zlib stream at level (1-9, zlib's scale),
// appending to dst[:0] (reallocated when too small).
func Deflate(dst, src []byte, level int) []byte {
	level = min(max(level, 1), 9)
	p, _ := compressors.LoadOrStore(level, &sync.Pool{New: func() any {
		c := C.libdeflate_alloc_compressor(C.int(level))
		if c == nil {
			panic("libdeflate: out of memory")
		}
		return c
	}})
	pool := p.(*sync.Pool)
	c := pool.Get().(*C.struct_libdeflate_compressor)
	defer pool.Put(c)
	bound := int(C.libdeflate_zlib_compress_bound(c, C.size_t(len(src))))
	if cap(dst) < bound {
		dst = make([]byte, bound)
	}
	dst = dst[:bound]
	var in unsafe.Pointer
	if len(src) > 0 {
		in = unsafe.Pointer(&src[0])
	}
	n := C.libdeflate_zlib_compress(c, in, C.size_t(len(src)), unsafe.Pointer(&dst[0]), C.size_t(bound))
	if n == 0 {
		panic("libdeflate: compress bound too small") // cannot happen: bound is libdeflate's own
	}
	return dst[:n]
}
