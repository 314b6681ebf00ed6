package netcdf

// #include <stdlib.h>
// #include <netcdf.h>
import "C"

import (
	"fmt"
	"os"
	"unsafe"

	gonc "github.com/fhs/go-netcdf/netcdf"
	"github.com/subsetd/subsetd/ncmodel"
)

// Writer is a NetCDF file being written.
type Writer struct {
	path    string
	format  ncmodel.Format
	ncid    C.int
	defined bool
	closed  bool
	vars    map[string]writerVar
	chunks  chunkIO
}

type writerVar struct {
	gid, varid C.int
	v          *ncmodel.Var
	def        *ncmodel.Var // the shape and storage as defined, kept from later changes to v
}

var _ ncmodel.Sink = (*Writer)(nil)

// Create creates (or truncates) a file. Formats: netcdf4, netcdf4_classic,
// 64bit_offset, classic, 64bit_data.
func Create(path string, format ncmodel.Format) (*Writer, error) {
	mode := gonc.CLOBBER
	switch format {
	case ncmodel.FormatNetCDF4:
		mode |= gonc.NETCDF4
	case ncmodel.FormatNetCDF4Classic:
		mode |= gonc.NETCDF4 | gonc.CLASSIC_MODEL
	case ncmodel.Format64BitOffset:
		mode |= gonc.OFFSET_64BIT
	case ncmodel.Format64BitData:
		mode |= gonc.FileMode(C.NC_64BIT_DATA)
	case ncmodel.FormatClassic:
	default:
		return nil, fmt.Errorf("create %q: cannot write format %q", path, format)
	}
	lock()
	defer unlock()
	before := h5Files()
	ds, err := gonc.CreateFile(path, mode)
	if err != nil {
		return nil, fmt.Errorf("create %q: %w", path, err)
	}
	w := &Writer{path: path, format: format, ncid: C.int(ds), vars: map[string]writerVar{}, chunks: newChunkIO(-1)}
	if !format.IsNetCDF3() {
		w.chunks = newChunkIO(newH5File(before, path))
	}
	var old C.int
	// Every value is written by the caller: pre-filling would write twice.
	if err := ncErr(C.nc_set_fill(w.ncid, C.NC_NOFILL, &old)); err != nil {
		C.nc_close(w.ncid)
		return nil, fmt.Errorf("create %q: %w", path, err)
	}
	return w, nil
}

// Define creates groups, dimensions, variables and attributes.
func (w *Writer) Define(f *ncmodel.File) error {
	lock()
	defer unlock()
	if w.defined || w.closed {
		return fmt.Errorf("define %q: already defined", w.path)
	}
	w.defined = true
	classic := w.format.IsNetCDF3() || w.format == ncmodel.FormatNetCDF4Classic
	dimids := map[*ncmodel.Dim]C.int{}
	if err := w.defineGroup(w.ncid, f.Root, dimids, classic); err != nil {
		return fmt.Errorf("define %q: %w", w.path, err)
	}
	if err := ncErr(C.nc_enddef(w.ncid)); err != nil {
		return fmt.Errorf("define %q: %w", w.path, err)
	}
	return nil
}

func (w *Writer) defineGroup(gid C.int, g *ncmodel.Group, dimids map[*ncmodel.Dim]C.int, classic bool) error {
	nc3 := w.format.IsNetCDF3()
	if nc3 {
		unlimited := 0
		for _, d := range g.Dims {
			if d.Unlimited {
				unlimited++
			}
		}
		if unlimited > 1 {
			return fmt.Errorf("netCDF-3 can hold only one unlimited dimension, not %d", unlimited)
		}
	}
	for _, d := range g.Dims {
		n := C.size_t(d.Len)
		if d.Unlimited {
			n = C.NC_UNLIMITED
		}
		cname := C.CString(d.Name)
		var id C.int
		err := ncErr(C.nc_def_dim(gid, cname, n, &id))
		C.free(unsafe.Pointer(cname))
		if err != nil {
			return fmt.Errorf("dimension %q: %w", d.Name, err)
		}
		dimids[d] = id
	}
	if err := writeAttrs(gid, C.NC_GLOBAL, g.Attrs, nc3); err != nil {
		return fmt.Errorf("group %q: %w", g.Path(), err)
	}
	for _, v := range g.Vars {
		if err := w.defineVar(gid, v, dimids, classic); err != nil {
			return fmt.Errorf("variable %q: %w", v.Path(), err)
		}
	}
	if len(g.Groups) > 0 && classic {
		return fmt.Errorf("format %s cannot hold groups (%s has %d); write netcdf4", w.format, g.Path(), len(g.Groups))
	}
	for _, c := range g.Groups {
		cname := C.CString(c.Name)
		var id C.int
		err := ncErr(C.nc_def_grp(gid, cname, &id))
		C.free(unsafe.Pointer(cname))
		if err != nil {
			return fmt.Errorf("group %q: %w", c.Path(), err)
		}
		if err := w.defineGroup(id, c, dimids, classic); err != nil {
			return err
		}
	}
	return nil
}

func (w *Writer) defineVar(gid C.int, v *ncmodel.Var, dimids map[*ncmodel.Dim]C.int, classic bool) error {
	if !w.typeOK(v.Type) {
		return fmt.Errorf("format %s cannot hold type %s; write netcdf4", w.format, v.Type)
	}
	ids := make([]C.int, len(v.Dims)+1)
	for i, d := range v.Dims {
		id, ok := dimids[d]
		if !ok {
			return fmt.Errorf("dimension %q is not defined in an enclosing group", d.Name)
		}
		ids[i] = id
	}
	cname := C.CString(v.Name)
	defer C.free(unsafe.Pointer(cname))
	var varid C.int
	if err := ncErr(C.nc_def_var(gid, cname, C.nc_type(v.Type), C.int(len(v.Dims)), &ids[0], &varid)); err != nil {
		return err
	}
	if !w.format.IsNetCDF3() && len(v.Dims) > 0 {
		if v.Chunks != nil {
			cs := cSizes(v.Chunks)
			if err := ncErr(C.nc_def_var_chunking(gid, varid, C.NC_CHUNKED, &cs[0])); err != nil {
				return fmt.Errorf("chunking %v: %w", v.Chunks, err)
			}
		}
		if (v.Deflate > 0 || v.Shuffle) && v.Type != ncmodel.String {
			deflate := C.int(0)
			if v.Deflate > 0 {
				deflate = 1
			}
			shuffle := C.int(0)
			if v.Shuffle {
				shuffle = 1
			}
			if err := ncErr(C.nc_def_var_deflate(gid, varid, shuffle, deflate, C.int(v.Deflate))); err != nil {
				return fmt.Errorf("deflate: %w", err)
			}
		}
	}
	if err := writeAttrs(gid, varid, v.Attrs, w.format.IsNetCDF3()); err != nil {
		return err
	}
	w.vars[v.Path()] = writerVar{gid: gid, varid: varid, v: v, def: definedVar(v)}
	return nil
}

// typeOK reports whether the format holds values of type t: CDF-5 adds the
// unsigned and 64-bit integers to the classic types; only NetCDF-4 has strings.
func (w *Writer) typeOK(t ncmodel.Type) bool {
	switch w.format {
	case ncmodel.FormatNetCDF4:
		return true
	case ncmodel.Format64BitData:
		return t != ncmodel.String
	}
	return t.Classic()
}

// Write writes a hyperslab at start.
func (w *Writer) Write(varPath string, start []int, a *ncmodel.Array) error {
	lock()
	defer unlock()
	if !w.defined || w.closed {
		return fmt.Errorf("write %s to %q: file not defined or already closed", varPath, w.path)
	}
	wv, ok := w.vars[varPath]
	if !ok {
		return fmt.Errorf("write %s to %q: no such variable", varPath, w.path)
	}
	if a.Type != wv.v.Type {
		return fmt.Errorf("write %s: values of type %s into a variable of type %s", varPath, a.Type, wv.v.Type)
	}
	if len(start) != len(wv.v.Dims) || len(a.Shape) != len(start) {
		return fmt.Errorf("write %s: rank mismatch", varPath)
	}
	n := a.Len()
	if n == 0 {
		return nil
	}
	cs, cc := cSizes(start), cSizes(a.Shape)
	var err error
	if a.Type == ncmodel.String {
		ptrs := make([]*C.char, n)
		for i, s := range a.Strings {
			ptrs[i] = C.CString(s)
		}
		err = ncErr(C.nc_put_vara(wv.gid, wv.varid, &cs[0], &cc[0], unsafe.Pointer(&ptrs[0])))
		for _, p := range ptrs {
			C.free(unsafe.Pointer(p))
		}
	} else {
		if len(a.Data) < n*a.Type.Size() {
			return fmt.Errorf("write %s: %d bytes for %d values", varPath, len(a.Data), n)
		}
		err = ncErr(C.nc_put_vara(wv.gid, wv.varid, &cs[0], &cc[0], unsafe.Pointer(&a.Data[0])))
	}
	if err != nil {
		return fmt.Errorf("write %s at %v count %v to %q: %w", varPath, start, a.Shape, w.path, err)
	}
	return nil
}

// Close finishes the file and flushes it to stable storage.
func (w *Writer) Close() error {
	lock()
	if w.closed {
		unlock()
		return nil
	}
	w.closed = true
	w.chunks.close()
	err := ncErr(C.nc_close(w.ncid))
	unlock()
	if err != nil {
		return fmt.Errorf("close %q: %w", w.path, err)
	}
	f, err := os.OpenFile(w.path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("sync %q: %w", w.path, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %q: %w", w.path, err)
	}
	return nil
}

// Abort closes the file without caring about errors; the caller removes it.
func (w *Writer) Abort() {
	lock()
	defer unlock()
	if !w.closed {
		w.closed = true
		w.chunks.close()
		C.nc_close(w.ncid)
	}
}
