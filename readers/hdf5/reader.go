package hdf5

// #include "h5shim.h"
import "C"

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"unsafe"

	"github.com/subsetd/subsetd/ncmodel"
)

// Reader is an HDF5 file opened read-only. Its methods may be called from
// several goroutines; HDF5 itself runs one call at a time (thread-safe build,
// one global lock).
type Reader struct {
	mu     sync.RWMutex // Close excludes Read
	fid    C.hid_t
	closed bool
	file   *ncmodel.File
	vars   map[*ncmodel.Var]*dataset
}

var _ ncmodel.Source = (*Reader)(nil)

// Open opens an HDF5 file read-only and describes it.
func Open(path string) (*Reader, error) {
	fi, err := os.Stat(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("open %q: %w", path, err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("open %q: is a directory", path)
	}

	defer cgoOp()()
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	switch is := C.H5Fis_hdf5(cpath); {
	case is == 0:
		return nil, fmt.Errorf("open %q: not an HDF5 file", path)
	case is < 0:
		return nil, fmt.Errorf("open %q: cannot read the file: %v", path, h5err("H5Fis_hdf5 failed"))
	}
	fid := C.sd_open_rdonly(cpath)
	if fid < 0 {
		return nil, &corruptFile{path, h5err("H5Fopen failed")}
	}
	r := &Reader{fid: fid}
	if err := r.build(path, fi.Size()); err != nil {
		C.H5Fclose(fid)
		return nil, &corruptFile{path, err}
	}
	return r, nil
}

// ErrCorrupt is what Open's error is (errors.Is) for a file with the HDF5
// signature that cannot be read: truncated or damaged.
var ErrCorrupt = errors.New("corrupt or truncated HDF5 file")

// corruptFile is Open's error for such a file; it unwraps to what is wrong.
type corruptFile struct {
	path string
	err  error
}

func (e *corruptFile) Error() string {
	return fmt.Sprintf("open %q: %v: %v", e.path, ErrCorrupt, e.err)
}
func (e *corruptFile) Is(target error) bool { return target == ErrCorrupt }
func (e *corruptFile) Unwrap() error        { return e.err }

// File describes the file; the same value on every call.
func (r *Reader) File() *ncmodel.File { return r.file }

// Close closes the file. Closing twice is not an error.
func (r *Reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	defer cgoOp()()
	if C.H5Fclose(r.fid) < 0 {
		return fmt.Errorf("close %q: %v", r.file.Path, h5err("H5Fclose failed"))
	}
	return nil
}

// Read reads the hyperslab start/count/stride of v (stride nil means 1) in
// the variable's own type: numbers as raw bytes in the machine's byte order
// (big-endian files are converted), Char as bytes, String in Strings. A
// scalar takes empty start and count.
func (r *Reader) Read(v *ncmodel.Var, start, count, stride []int) (*ncmodel.Array, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if v == nil {
		return nil, errors.New("read: nil variable")
	}
	if r.closed {
		return nil, fmt.Errorf("read %q: file is closed", v.Path())
	}
	ds := r.vars[v]
	if ds == nil {
		return nil, fmt.Errorf("read %q: variable is not from %q", v.Path(), r.file.Path)
	}
	if err := checkSlab(v, v.Shape(), start, count, stride); err != nil {
		return nil, fmt.Errorf("read %q: %w", v.Path(), err)
	}
	if n, ok := slabBytes(v.Type, count); !ok {
		return nil, fmt.Errorf("read %q: a hyperslab of %v values is too large (over %d bytes)", v.Path(), count, n)
	}
	if stride == nil {
		stride = make([]int, len(start))
		for i := range stride {
			stride[i] = 1
		}
	}
	a := ncmodel.NewArray(v.Type, count)
	if a.Len() == 0 {
		return a, nil
	}
	// Along an unlimited dimension a dataset may be shorter than the
	// dimension: read the part it has, fill the rest.
	inside, whole := clip(ds.shape, start, count, stride)
	if whole {
		if err := r.readSlab(ds, start, count, stride, a); err != nil {
			return nil, fmt.Errorf("read %q: %w", v.Path(), err)
		}
		return a, nil
	}
	for i := 0; i+len(ds.fill) <= len(a.Data) && len(ds.fill) > 0; i += len(ds.fill) {
		copy(a.Data[i:], ds.fill)
	}
	part := ncmodel.NewArray(v.Type, inside)
	if part.Len() == 0 {
		return a, nil
	}
	if err := r.readSlab(ds, start, inside, stride, part); err != nil {
		return nil, fmt.Errorf("read %q: %w", v.Path(), err)
	}
	scatter(part, a)
	return a, nil
}

// clip returns the counts of the hyperslab that fall inside the dataset's
// own shape (a prefix along each dimension) and whether that is all of it.
func clip(shape, start, count, stride []int) (inside []int, whole bool) {
	inside = make([]int, len(count))
	whole = true
	for i, c := range count {
		n := 0
		if start[i] < shape[i] {
			n = min(c, (shape[i]-start[i]+stride[i]-1)/stride[i])
		}
		inside[i] = n
		whole = whole && n == c
	}
	return inside, whole
}

// scatter copies part, whose shape is a prefix box of dst's, into dst.
func scatter(part, dst *ncmodel.Array) {
	rank := len(dst.Shape)
	rows := ncmodel.Product(part.Shape[:rank-1])
	rowLen := part.Shape[rank-1]
	size := dst.Type.Size()
	idx := make([]int, rank-1)
	for r := range rows {
		// Offset of row idx in dst, in values.
		off := 0
		for i := range rank - 1 {
			off = off*dst.Shape[i] + idx[i]
		}
		off *= dst.Shape[rank-1]
		src := r * rowLen
		if dst.Type == ncmodel.String {
			copy(dst.Strings[off:off+rowLen], part.Strings[src:src+rowLen])
		} else {
			copy(dst.Data[off*size:(off+rowLen)*size], part.Data[src*size:(src+rowLen)*size])
		}
		for i := rank - 2; i >= 0; i-- {
			if idx[i]++; idx[i] < part.Shape[i] {
				break
			}
			idx[i] = 0
		}
	}
}

// checkSlab validates hyperslab arguments against the dataset's shape.
func checkSlab(v *ncmodel.Var, shape, start, count, stride []int) error {
	rank := len(shape)
	if len(start) != rank || len(count) != rank || (stride != nil && len(stride) != rank) {
		return fmt.Errorf("the variable has %d dimensions but start, count, stride have %d, %d, %d values",
			rank, len(start), len(count), len(stride))
	}
	for i := range rank {
		st := 1
		if stride != nil {
			st = stride[i]
		}
		name := ""
		if i < len(v.Dims) && v.Dims[i] != nil {
			name = v.Dims[i].Name
		}
		switch {
		case start[i] < 0 || count[i] < 0:
			return fmt.Errorf("dimension %d (%s): negative start %d or count %d", i, name, start[i], count[i])
		case st < 1:
			return fmt.Errorf("dimension %d (%s): stride %d is not positive", i, name, st)
		case count[i] == 0 && start[i] > shape[i]:
			return fmt.Errorf("dimension %d (%s): start %d is beyond the length %d", i, name, start[i], shape[i])
		case count[i] > 0 && (start[i] >= shape[i] || (count[i]-1) > (shape[i]-1-start[i])/st):
			return fmt.Errorf("dimension %d (%s): start %d, count %d, stride %d go beyond the length %d",
				i, name, start[i], count[i], st, shape[i])
		}
	}
	return nil
}

// readSlab reads a non-empty, validated hyperslab into a.
func (r *Reader) readSlab(ds *dataset, start, count, stride []int, a *ncmodel.Array) error {
	defer cgoOp()()
	cpath := C.CString(ds.path)
	defer C.free(unsafe.Pointer(cpath))
	did := C.H5Dopen2(r.fid, cpath, C.H5P_DEFAULT)
	if did < 0 {
		return h5err("cannot open the dataset")
	}
	defer closeDataset(did)
	fsp := C.H5Dget_space(did)
	if fsp < 0 {
		return h5err("cannot get the dataspace")
	}
	defer closeSpace(fsp)
	rank := len(start)
	var msp C.hid_t
	if rank == 0 {
		msp = C.H5Screate(C.H5S_SCALAR)
	} else {
		cstart, ccount, cstride := hsizes(start), hsizes(count), hsizes(stride)
		if C.H5Sselect_hyperslab(fsp, C.H5S_SELECT_SET, &cstart[0], &cstride[0], &ccount[0], nil) < 0 {
			return h5err("cannot select the hyperslab")
		}
		msp = C.H5Screate_simple(C.int(rank), &ccount[0], nil)
	}
	if msp < 0 {
		return h5err("cannot make the memory dataspace")
	}
	defer closeSpace(msp)

	n := a.Len()
	switch ds.typ.kind {
	case kindNumeric:
		if C.H5Dread(did, C.sd_native(C.int(ds.typ.nc)), msp, fsp, C.H5P_DEFAULT, unsafe.Pointer(&a.Data[0])) < 0 {
			return h5err("H5Dread failed")
		}
	case kindChar, kindFixedStr:
		tid := C.H5Dget_type(did) // a copy of the file type: strings have no byte order
		if tid < 0 {
			return h5err("cannot get the datatype")
		}
		defer closeType(tid)
		buf := a.Data
		if ds.typ.kind == kindFixedStr {
			buf = make([]byte, n*ds.typ.size)
		}
		if C.H5Dread(did, tid, msp, fsp, C.H5P_DEFAULT, unsafe.Pointer(&buf[0])) < 0 {
			return h5err("H5Dread failed")
		}
		if ds.typ.kind == kindFixedStr {
			a.Strings = splitFixed(buf, n, ds.typ.size, ds.typ.pad)
		}
	case kindVlenStr:
		mem := C.sd_vlen_str(ds.typ.cset)
		if mem < 0 {
			return h5err("cannot make a string type")
		}
		defer closeType(mem)
		buf := C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof((*C.char)(nil))))
		if buf == nil {
			return errors.New("out of memory")
		}
		defer C.free(buf)
		if C.H5Dread(did, mem, msp, fsp, C.H5P_DEFAULT, buf) < 0 {
			return h5err("H5Dread failed")
		}
		a.Strings = vlenStrings(buf, n)
		C.H5Dvlen_reclaim(mem, msp, C.H5P_DEFAULT, buf)
	default:
		return fmt.Errorf("unsupported type")
	}
	return nil
}

// maxReadBytes bounds one Read: beyond it a request is a mistake (or comes
// from a corrupt file), and would fail the allocation with a panic.
const maxReadBytes = 1 << 40

// slabBytes reports whether count values of type t fit in maxReadBytes.
func slabBytes(t ncmodel.Type, count []int) (int, bool) {
	size := t.Size()
	if size == 0 {
		size = 1
	}
	n := size
	for _, c := range count {
		if c != 0 && n > maxReadBytes/c {
			return maxReadBytes, false
		}
		n *= c
	}
	return n, n <= maxReadBytes
}

func hsizes(v []int) []C.hsize_t {
	out := make([]C.hsize_t, len(v))
	for i, x := range v {
		out[i] = C.hsize_t(x)
	}
	return out
}
