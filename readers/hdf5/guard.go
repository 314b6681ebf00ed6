package hdf5

// #include "h5shim.h"
import "C"

import (
	"os"
	"unsafe"
)

// vetStrings is how many values of a variable-length dataset Vet reads:
// string variables that small (names, flags, a CRS text) are read whole;
// larger ones are rare and would make every open slow.
const vetStrings = 1 << 16

// Vet reads, through the guard driver, every variable-length value of an
// HDF5 file that netCDF-C reads when it opens and describes it (attributes,
// dimension lists, fill values) and the values of small variable-length
// datasets, so that a damaged global heap is refused here before netCDF-C,
// which opens files with HDF5's own driver, loops forever on it. It returns
// a *CorruptError naming the structure (not the file: the caller does), or
// nil: files that are not HDF5, or fail in other ways, are left to the
// readers to report.
func Vet(path string) error {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	defer cgoOp()()
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	if C.H5Fis_hdf5(cpath) <= 0 {
		C.H5Eclear2(C.H5E_DEFAULT)
		return nil
	}
	if C.sd_vet(cpath, C.haddr_t(fi.Size()), vetStrings) == 0 {
		return nil
	}
	return guardRefusal()
}
