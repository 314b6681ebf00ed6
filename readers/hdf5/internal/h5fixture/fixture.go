// Package h5fixture writes a small plain-HDF5 file for the tests of
// readers/hdf5: the cases the netCDF and HDF5 command-line tools cannot make
// (see edge.c). Only tests import it.
//
// Layout of the file WriteEdgeCases makes:
//
//	/                 attrs vstr1 (vlen "hello"), vstr3 (vlen x,"",zz),
//	                  fstr2 (NULLPAD size 4: ab, cdef), spacepad ("xy   "),
//	                  nullattr (null dataspace int), be_attr (I32BE 1,-2),
//	                  cmpd_attr (compound: skipped)
//	named_type        committed compound datatype (skipped)
//	cmpd              compound dataset (skipped)
//	noscale           f64 (3,4) = i+0.5, no scales
//	noscale2          i16 (4,3) = -i, no scales
//	square            i8 (3,3) = i, no scales
//	scale_a           f32 (3) {0.5,1.5,2.5}, scale NAME "alpha"
//	uses_a            u32 (3) {7,8,9} -> scale_a
//	notscale_ref      i32 (3) -> /square (not a scale)
//	short_ref         i32 (2) -> scale_a (length 3)
//	half_scaled       i32 (3,2) 1..6 -> scale_a, none
//	time              f64 big-endian (4, unlimited, chunk 2) {0,60,120,180}, scale
//	data_t            f32 (4, unlimited) {1,2,3,4} -> time
//	short_t           f32 big-endian (2 of time's 4) {10,20}, fill -1.5 -> time
//	grid_t            i16 (2 of time's 4, 3) 1..6, fill -7 -> time, none
//	names_t           vlen string (1 of time's 4) {first} -> time
//	empty_unlim       i32 (0, unlimited), chunked, no scale
//	be_f64            f64 big-endian {1.5,-2.25,1e300}
//	be_u16            u16 big-endian {1,258,65535}
//	be_i64            i64 big-endian {-1, 72623859790382856, -9223372036854775807}
//	str_nullpad       fixed 5 NULLPAD {one,three}
//	str_spacepad      fixed 5 SPACEPAD {one,three}
//	str_nullterm      fixed 6 NULLTERM {one (then garbage),three}
//	char1             fixed 1 {a,b}
//	vstr2d            vlen UTF-8 (2,2) {a,été,"",dddd}
//	scalar_str        vlen scalar "scalar string"
//	half_float, enum_like_bitfield, vlen_int, array_t, refs, nullds: skipped
//	grp               attr kind="group attr"
//	grp/inner         i32 (2) {11,12}
//	grp/cross         i32 (3) {21,22,23} -> /scale_a
//	grp/loop          hard link to / (a cycle)
//	soft, dangling    soft links; ext: external link
//	zz_dup            hard link to /grp/inner
//	dangling_ref      i32 (2) -> a deleted scale
package h5fixture

// #cgo pkg-config: hdf5
// #include <stdlib.h>
// #include "edge.h"
import "C"

import (
	"fmt"
	"unsafe"
)

// WriteEdgeCases writes the file described above at path.
func WriteEdgeCases(path string) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	if C.sd_write_edge(cpath) != 0 {
		return fmt.Errorf("h5fixture: cannot write %q", path)
	}
	return nil
}
