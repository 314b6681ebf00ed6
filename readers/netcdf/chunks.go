package netcdf

// #include <stdlib.h>
// #include "chunks.h"
import "C"

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"unsafe"

	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/readers/codec"
)

// Direct chunk I/O. netCDF-C inflates and unshuffles every chunk itself,
// on one thread, under the lock that serialises the whole library: on
// deflated NetCDF-4 that is most of a cut's time. Here the HDF5 dataset
// behind a netCDF-4 variable is read and written chunk by chunk
// (H5Dread_chunk / H5Dwrite_chunk) under the lock, and the chunks are
// decoded and encoded (readers/codec) in the calling goroutines, outside
// it. netCDF-C does not expose its HDF5 ids, so the HDF5 file is the one
// that appeared among the process's open HDF5 files during nc_open or
// nc_create (found under the lock, named after the same path); datasets
// are opened on it and closed before the netCDF file is.

// h5Files lists the HDF5 files open in the process. Called under lock.
func h5Files() map[C.hid_t]bool {
	ids := make([]C.hid_t, 64)
	for {
		n := int(C.sd_open_files(&ids[0], C.int(len(ids))))
		if n < 0 {
			return nil
		}
		if n < len(ids) {
			out := make(map[C.hid_t]bool, n)
			for _, id := range ids[:n] {
				out[id] = true
			}
			return out
		}
		ids = make([]C.hid_t, 2*len(ids))
	}
}

// newH5File returns the HDF5 file opened for path since before was taken,
// or -1. Called under lock.
func newH5File(before map[C.hid_t]bool, path string) C.hid_t {
	var fresh []C.hid_t
	for id := range h5Files() {
		if !before[id] {
			fresh = append(fresh, id)
		}
	}
	buf := make([]C.char, 4096)
	for _, id := range fresh {
		if C.sd_file_name(id, &buf[0], C.size_t(len(buf))) == 0 && C.GoString(&buf[0]) == path {
			return id
		}
	}
	return -1
}

// dataset is the HDF5 dataset of a variable, when direct chunk I/O can
// handle it.
type dataset struct {
	did     C.hid_t
	filters []codec.Filter
	elem    int
}

// chunkIO holds the datasets opened for direct chunk I/O on one file.
type chunkIO struct {
	fid  C.hid_t             // -1: none (netCDF-3, or the file was not found)
	sets map[string]*dataset // by variable path; nil entry: not handled
}

func newChunkIO(fid C.hid_t) chunkIO {
	return chunkIO{fid: fid, sets: map[string]*dataset{}}
}

// nativeLittle: stored chunks are little-endian and used as is only on a
// little-endian machine.
var nativeLittle = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// dataset opens and checks the dataset of v once. Called under lock.
func (c *chunkIO) dataset(v *ncmodel.Var, growable bool) *dataset {
	if c.fid < 0 || v.Chunks == nil || len(v.Dims) == 0 || v.Type == ncmodel.String || v.Type == ncmodel.Char || !nativeLittle {
		return nil
	}
	if d, seen := c.sets[v.Path()]; seen {
		return d
	}
	c.sets[v.Path()] = nil
	var info C.sd_chunking
	did := C.hid_t(-1)
	// netCDF-4 stores a variable named like a dimension it does not
	// have as its first under a prefixed name.
	for _, name := range []string{v.Name, "_nc4_non_coord_" + v.Name} {
		path := v.Group.Path()
		if path != "/" {
			path += "/"
		}
		cpath := C.CString(path + name)
		did = C.sd_open_chunked(c.fid, cpath, &info)
		C.free(unsafe.Pointer(cpath))
		if did >= 0 {
			break
		}
	}
	if did < 0 {
		return nil
	}
	d := &dataset{did: did, elem: v.Type.Size()}
	ok := int(info.rank) == len(v.Dims) && int(info.type_size) == d.elem && info.little_endian != 0 &&
		(info.type_class == C.H5T_INTEGER || info.type_class == C.H5T_FLOAT)
	for i := 0; ok && i < len(v.Dims); i++ {
		n := int(info.dims[i])
		ok = int(info.chunk[i]) == v.Chunks[i] && (n == v.Dims[i].Len || (v.Dims[i].Unlimited && (growable || n <= v.Dims[i].Len)))
	}
	for i := 0; ok && i < int(info.nfilters); i++ {
		d.filters = append(d.filters, codec.Filter{ID: int(info.filter[i]), Level: int(info.level[i])})
	}
	if !ok || !codec.Supported(d.filters) {
		C.H5Dclose(did)
		return nil
	}
	c.sets[v.Path()] = d
	return d
}

// close closes the datasets; called under lock before the netCDF file is.
func (c *chunkIO) close() {
	for _, d := range c.sets {
		if d != nil {
			C.H5Dclose(d.did)
		}
	}
	c.sets = nil
	c.fid = -1
}

func hOffset(at []int) []C.hsize_t {
	out := make([]C.hsize_t, len(at)+1)
	for i, x := range at {
		out[i] = C.hsize_t(x)
	}
	return out
}

var storedBufs = sync.Pool{New: func() any { return new([]byte) }}

var _ ncmodel.ChunkSource = (*Reader)(nil)

// ReadsChunks reports whether ReadChunk reads v directly: a chunked
// netCDF-4 variable of a numeric type stored with shuffle and deflate only.
func (r *Reader) ReadsChunks(v *ncmodel.Var) bool {
	lock()
	defer unlock()
	if r.closed {
		return false
	}
	if _, mine := r.ids[v]; !mine {
		return false
	}
	return r.chunks.dataset(v, false) != nil
}

var _ ncmodel.ChunkSizer = (*Reader)(nil)

// StoredChunkSize is the stored size of a chunk of a variable ReadChunk
// reads directly (H5Dget_chunk_storage_size, under the library lock).
func (r *Reader) StoredChunkSize(v *ncmodel.Var, at []int) (int64, bool) {
	if ncmodel.CheckChunk(v, at) != nil {
		return 0, false
	}
	lock()
	defer unlock()
	if r.closed {
		return 0, false
	}
	if _, mine := r.ids[v]; !mine {
		return 0, false
	}
	d := r.chunks.dataset(v, false)
	if d == nil {
		return 0, false
	}
	off := hOffset(at)
	var size C.hsize_t
	if C.sd_chunk_size(d.did, &off[0], &size) != 0 {
		return 0, false
	}
	return int64(size), true
}

// ReadChunk reads one chunk of v: the stored bytes under the library
// lock, decoded outside it. A chunk never written reads through Read (as
// fill values).
func (r *Reader) ReadChunk(v *ncmodel.Var, at []int) (*ncmodel.Array, error) {
	if err := ncmodel.CheckChunk(v, at); err != nil {
		return nil, fmt.Errorf("read chunk of %s: %w", v.Path(), err)
	}
	count := ncmodel.ChunkCount(v, at)
	lock()
	if r.closed {
		unlock()
		return nil, fmt.Errorf("read %s: file is closed", v.Path())
	}
	if _, mine := r.ids[v]; !mine {
		unlock()
		return nil, fmt.Errorf("read %s: variable does not belong to this file", v.Path())
	}
	d := r.chunks.dataset(v, false)
	if d == nil {
		unlock()
		return nil, fmt.Errorf("read chunk of %s: not stored in a way read directly", v.Path())
	}
	off := hOffset(at)
	var size C.hsize_t
	if C.sd_chunk_size(d.did, &off[0], &size) != 0 || size == 0 {
		unlock()
		return r.read(v, at, count, nil)
	}
	bp := storedBufs.Get().(*[]byte)
	defer storedBufs.Put(bp)
	if cap(*bp) < int(size) {
		*bp = make([]byte, size)
	}
	stored := (*bp)[:size]
	var mask C.uint32_t
	status := C.sd_read_chunk(d.did, &off[0], &mask, unsafe.Pointer(&stored[0]))
	unlock()
	if status != 0 {
		return nil, fmt.Errorf("read chunk %v of %s: HDF5 error", at, v.Path())
	}
	full := ncmodel.NewArray(v.Type, v.Chunks)
	if err := codec.Decode(d.filters, uint32(mask), stored, full.Data, d.elem); err != nil {
		return nil, fmt.Errorf("read chunk %v of %s: %w", at, v.Path(), err)
	}
	if slices.Equal(count, v.Chunks) {
		return full, nil
	}
	return clip(full, count), nil
}

// oneChunk is the first index of the chunk holding the whole hyperslab
// start/count (stride 1, values to read), or nil.
func oneChunk(v *ncmodel.Var, start, count, stride []int) []int {
	if v.Chunks == nil || len(v.Chunks) != len(v.Dims) || len(start) != len(v.Dims) || len(count) != len(v.Dims) || stride != nil && len(stride) != len(v.Dims) {
		return nil
	}
	at := make([]int, len(start))
	for i := range start {
		if stride != nil && stride[i] != 1 || count[i] < 1 || start[i] < 0 || start[i]+count[i] > v.Dims[i].Len {
			return nil
		}
		ch := v.Chunks[i]
		at[i] = start[i] / ch * ch
		if (start[i]+count[i]-1)/ch*ch != at[i] {
			return nil
		}
	}
	return at
}

// clip copies the leading count of each dimension of a out (an edge chunk).
func clip(a *ncmodel.Array, count []int) *ncmodel.Array {
	out := ncmodel.NewArray(a.Type, count)
	zero := make([]int, len(count))
	ncmodel.CopyOverlap(out, zero, a, zero)
	return out
}

// definedVar copies what direct chunk writes need of a variable as Define
// sees it: the caller may change its description afterwards.
func definedVar(v *ncmodel.Var) *ncmodel.Var {
	c := &ncmodel.Var{Name: v.Name, Type: v.Type, Group: v.Group, Chunks: slices.Clone(v.Chunks), Deflate: v.Deflate, Shuffle: v.Shuffle}
	for _, d := range v.Dims {
		c.Dims = append(c.Dims, &ncmodel.Dim{Name: d.Name, Len: d.Len, Unlimited: d.Unlimited, Group: d.Group})
	}
	return c
}

var _ ncmodel.ChunkSink = (*Writer)(nil)

// WritesChunks reports whether WriteChunk writes the variable directly: a
// chunked numeric variable of a NetCDF-4 file defined with shuffle and
// deflate only.
func (w *Writer) WritesChunks(varPath string) bool {
	lock()
	defer unlock()
	wv, ok := w.vars[varPath]
	return ok && w.defined && !w.closed && w.chunks.dataset(wv.def, true) != nil
}

// WriteChunk encodes one chunk with the variable's filters in the calling
// goroutine and stores it with H5Dwrite_chunk under the library lock,
// growing unlimited dimensions as needed.
func (w *Writer) WriteChunk(varPath string, at []int, a *ncmodel.Array) error {
	lock()
	wv, ok := w.vars[varPath]
	var d *dataset
	if ok && w.defined && !w.closed {
		d = w.chunks.dataset(wv.def, true)
	}
	unlock()
	if d == nil {
		return fmt.Errorf("write chunk of %s to %q: not a variable written directly", varPath, w.path)
	}
	v := wv.def
	if err := ncmodel.CheckChunk(v, at); err != nil {
		return fmt.Errorf("write chunk to %q: %w", w.path, err)
	}
	count := ncmodel.ChunkCount(v, at)
	if a == nil || a.Type != v.Type || !slices.Equal(a.Shape, count) || len(a.Data) != ncmodel.Product(count)*d.elem {
		return fmt.Errorf("write chunk of %s at %v: want %s values of shape %v", varPath, at, v.Type, count)
	}
	raw := a.Data
	if !slices.Equal(count, v.Chunks) { // an edge chunk is stored whole
		full := ncmodel.NewArray(v.Type, v.Chunks)
		zero := make([]int, len(at))
		ncmodel.CopyOverlap(full, zero, a, zero)
		raw = full.Data
	}
	bp := storedBufs.Get().(*[]byte)
	defer storedBufs.Put(bp)
	stored, err := codec.Encode(d.filters, *bp, raw, d.elem)
	if err != nil {
		return fmt.Errorf("write chunk of %s: %w", varPath, err)
	}
	*bp = stored
	end := make([]int, len(at))
	for i := range at {
		end[i] = at[i] + count[i]
	}
	off, ends := hOffset(at), hOffset(end)
	lock()
	defer unlock()
	if w.closed {
		return fmt.Errorf("write chunk of %s to %q: file closed", varPath, w.path)
	}
	if C.sd_extend(d.did, C.int(len(at)), &ends[0]) != 0 {
		return fmt.Errorf("write chunk of %s at %v to %q: cannot extend the dataset", varPath, at, w.path)
	}
	if C.sd_write_chunk(d.did, &off[0], 0, unsafe.Pointer(&stored[0]), C.size_t(len(stored))) != 0 {
		return fmt.Errorf("write chunk of %s at %v to %q: HDF5 error", varPath, at, w.path)
	}
	return nil
}
