package netcdf

// #include <stdlib.h>
// #include <netcdf.h>
import "C"

import (
	"errors"
	"fmt"
	"io"
	"os"
	"unsafe"

	gonc "github.com/fhs/go-netcdf/netcdf"
	"github.com/subsetd/subsetd/ncmodel"
)

// Reader is an open NetCDF file.
type Reader struct {
	ncid   C.int
	closed bool
	file   *ncmodel.File
	ids    map[*ncmodel.Var][2]C.int // group id, var id
	chunks chunkIO
}

var _ ncmodel.Source = (*Reader)(nil)

// Open opens a file read-only and reads its whole description. Errors say
// what is wrong with the file in words (not a NetCDF file, a truncated or
// corrupt one, and where), with netCDF-C's own message in parentheses; the
// caller names the file.
func Open(path string) (*Reader, error) {
	st, err := os.Stat(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, err
	}
	if st.IsDir() {
		return nil, errors.New("is a directory")
	}
	classic := isClassic(path)
	if classic {
		// Before netCDF-C, which trusts the header's counts.
		if err := checkClassicHeader(path); err != nil {
			if errors.Is(err, errTruncated) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", ErrCorruptClassic, err)
		}
	}
	lock()
	defer unlock()
	before := h5Files()
	ds, err := gonc.OpenFile(path, gonc.NOWRITE)
	if err != nil {
		var e gonc.Error
		switch {
		case errors.As(err, &e) && C.int(e) == C.NC_ENOTNC:
			return nil, fmt.Errorf("%w (%v)", ErrNotNetCDF, err)
		case classic:
			return nil, fmt.Errorf("%w (%v)", ErrCorruptClassic, libError(err))
		case errors.As(err, &e) && (C.int(e) == C.NC_EHDFERR || C.int(e) < 0):
			return nil, fmt.Errorf("%w (%v)", ErrCorrupt, libError(err))
		}
		return nil, fmt.Errorf("cannot open it: %v", libError(err))
	}
	r := &Reader{ncid: C.int(ds), ids: map[*ncmodel.Var][2]C.int{}, chunks: newChunkIO(newH5File(before, path))}
	f, err := r.describe(path)
	if err != nil {
		r.chunks.close()
		C.nc_close(r.ncid)
		if classic || f != nil && f.Format.IsNetCDF3() {
			return nil, fmt.Errorf("%w: %v", ErrCorruptClassic, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	r.file = f
	return r, nil
}

// isClassic reports whether the file starts with a netCDF-3 signature.
func isClassic(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [4]byte
	if _, err := io.ReadFull(f, b[:]); err != nil {
		return false
	}
	return string(b[:3]) == "CDF" && (b[3] == 1 || b[3] == 2 || b[3] == 5)
}

// File describes the file.
func (r *Reader) File() *ncmodel.File { return r.file }

// Close closes the file.
func (r *Reader) Close() error {
	lock()
	defer unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	r.chunks.close()
	return ncErr(C.nc_close(r.ncid))
}

func (r *Reader) describe(path string) (*ncmodel.File, error) {
	var kind C.int
	if err := ncErr(C.nc_inq_format(r.ncid, &kind)); err != nil {
		return nil, err
	}
	f := &ncmodel.File{Path: path}
	switch kind {
	case C.NC_FORMAT_CLASSIC:
		f.Format = ncmodel.FormatClassic
	case C.NC_FORMAT_64BIT_OFFSET:
		f.Format = ncmodel.Format64BitOffset
	case C.NC_FORMAT_64BIT_DATA:
		f.Format = ncmodel.Format64BitData
	case C.NC_FORMAT_NETCDF4:
		f.Format = ncmodel.FormatNetCDF4
	case C.NC_FORMAT_NETCDF4_CLASSIC:
		f.Format = ncmodel.FormatNetCDF4Classic
	default:
		return nil, fmt.Errorf("unsupported format %d", int(kind))
	}
	dims := map[C.int]*ncmodel.Dim{}
	root, err := r.describeGroup(r.ncid, nil, "", dims, f.Format.IsNetCDF3())
	if err != nil {
		return f, err
	}
	f.Root = root
	// Variables refer to dimensions by id, possibly defined in groups
	// described after them (netCDF-4 allows a child's dims to be used
	// only below, so parents first suffices; resolve late anyway).
	var resolve func(g *ncmodel.Group) error
	resolve = func(g *ncmodel.Group) error {
		for _, v := range g.Vars {
			for i, d := range v.Dims {
				if d.Group == nil { // placeholder holding the id in Len
					real := dims[C.int(d.Len)]
					if real == nil {
						return fmt.Errorf("variable %q: dimension id %d not found", v.Path(), d.Len)
					}
					v.Dims[i] = real
				}
			}
		}
		for _, c := range g.Groups {
			if err := resolve(c); err != nil {
				return err
			}
		}
		return nil
	}
	if err := resolve(root); err != nil {
		return f, err
	}
	return f, nil
}

func (r *Reader) describeGroup(gid C.int, parent *ncmodel.Group, name string, dims map[C.int]*ncmodel.Dim, nc3 bool) (*ncmodel.Group, error) {
	g := &ncmodel.Group{Name: name, Parent: parent}
	// Messages name the group, but for the root: "variable "sst": ...".
	in := func(err error) error {
		if parent == nil {
			return err
		}
		return fmt.Errorf("group %s: %w", g.Path(), err)
	}
	fail := func(what string, err error) (*ncmodel.Group, error) {
		return nil, in(fmt.Errorf("%s: %w", what, err))
	}
	// Dimensions defined in this group.
	var ndims C.int
	if err := ncErr(C.nc_inq_dimids(gid, &ndims, nil, 0)); err != nil {
		return fail("dimensions", err)
	}
	unlim := map[C.int]bool{}
	if nc3 {
		var u C.int
		if err := ncErr(C.nc_inq_unlimdim(gid, &u)); err != nil {
			return fail("unlimited dimension", err)
		}
		if u >= 0 {
			unlim[u] = true
		}
	} else {
		var nu C.int
		if err := ncErr(C.nc_inq_unlimdims(gid, &nu, nil)); err != nil {
			return fail("unlimited dimensions", err)
		}
		if nu > 0 {
			ids := make([]C.int, nu)
			if err := ncErr(C.nc_inq_unlimdims(gid, &nu, &ids[0])); err != nil {
				return fail("unlimited dimensions", err)
			}
			for _, id := range ids {
				unlim[id] = true
			}
		}
	}
	if ndims > 0 {
		ids := make([]C.int, ndims)
		if err := ncErr(C.nc_inq_dimids(gid, &ndims, &ids[0], 0)); err != nil {
			return fail("dimensions", err)
		}
		for _, id := range ids {
			nb := nameBuf()
			var n C.size_t
			if err := ncErr(C.nc_inq_dim(gid, id, &nb[0], &n)); err != nil {
				return fail(fmt.Sprintf("dimension %d", id), err)
			}
			d := &ncmodel.Dim{Name: goName(nb), Len: int(n), Unlimited: unlim[id], Group: g}
			dims[id] = d
			g.Dims = append(g.Dims, d)
		}
	}
	// Global / group attributes.
	var natts C.int
	if err := ncErr(C.nc_inq_natts(gid, &natts)); err != nil {
		return fail("attributes", err)
	}
	attrs, err := readAttrs(gid, C.NC_GLOBAL, int(natts))
	if err != nil {
		return nil, in(fmt.Errorf("global %w", err))
	}
	g.Attrs = attrs
	// Variables.
	var nvars C.int
	if err := ncErr(C.nc_inq_varids(gid, &nvars, nil)); err != nil {
		return fail("variables", err)
	}
	if nvars > 0 {
		ids := make([]C.int, nvars)
		if err := ncErr(C.nc_inq_varids(gid, &nvars, &ids[0])); err != nil {
			return fail("variables", err)
		}
		for _, id := range ids {
			v, err := r.describeVar(gid, id, g, nc3)
			if err != nil {
				return nil, in(err)
			}
			if v != nil {
				g.Vars = append(g.Vars, v)
			}
		}
	}
	if nc3 {
		return g, nil
	}
	var ngrps C.int
	if err := ncErr(C.nc_inq_grps(gid, &ngrps, nil)); err != nil {
		return fail("groups", err)
	}
	if ngrps > 0 {
		ids := make([]C.int, ngrps)
		if err := ncErr(C.nc_inq_grps(gid, &ngrps, &ids[0])); err != nil {
			return fail("groups", err)
		}
		for _, id := range ids {
			nb := nameBuf()
			if err := ncErr(C.nc_inq_grpname(id, &nb[0])); err != nil {
				return fail("group name", err)
			}
			c, err := r.describeGroup(id, g, goName(nb), dims, nc3)
			if err != nil {
				return nil, err
			}
			g.Groups = append(g.Groups, c)
		}
	}
	return g, nil
}

func (r *Reader) describeVar(gid, id C.int, g *ncmodel.Group, nc3 bool) (*ncmodel.Var, error) {
	nb := nameBuf()
	var xtype C.nc_type
	var ndims, natts C.int
	// nc_inq_var writes as many dimension ids as the variable has: ask
	// how many first (a corrupt header can claim thousands).
	if err := ncErr(C.nc_inq_varndims(gid, id, &ndims)); err != nil {
		return nil, fmt.Errorf("variable %d: %w", id, err)
	}
	if ndims < 0 || ndims > C.NC_MAX_VAR_DIMS {
		return nil, fmt.Errorf("variable %d has %d dimensions, more than netCDF allows (%d)", id, ndims, C.NC_MAX_VAR_DIMS)
	}
	dimids := make([]C.int, ndims+1)
	if err := ncErr(C.nc_inq_var(gid, id, &nb[0], &xtype, &ndims, &dimids[0], &natts)); err != nil {
		return nil, fmt.Errorf("variable %d: %w", id, err)
	}
	t := ncmodel.Type(xtype)
	if !t.Valid() {
		return nil, nil // compound, vlen, enum, opaque: not carried
	}
	v := &ncmodel.Var{Name: goName(nb), Type: t, Group: g}
	for _, did := range dimids[:ndims] {
		v.Dims = append(v.Dims, &ncmodel.Dim{Len: int(did)}) // resolved after the walk
	}
	attrs, err := readAttrs(gid, id, int(natts))
	if err != nil {
		return nil, fmt.Errorf("variable %q: %w", v.Name, err)
	}
	v.Attrs = attrs
	if !nc3 && ndims > 0 {
		var storage C.int
		sizes := make([]C.size_t, ndims)
		if err := ncErr(C.nc_inq_var_chunking(gid, id, &storage, &sizes[0])); err == nil && storage == C.NC_CHUNKED {
			v.Chunks = make([]int, ndims)
			for i, s := range sizes {
				v.Chunks[i] = int(s)
			}
		}
		var shuffle, deflate, level C.int
		if err := ncErr(C.nc_inq_var_deflate(gid, id, &shuffle, &deflate, &level)); err == nil {
			v.Shuffle = shuffle != 0
			if deflate != 0 {
				v.Deflate = int(level)
			}
		}
	}
	r.ids[v] = [2]C.int{gid, id}
	return v, nil
}

// Read reads a hyperslab raw, in the variable's type. A hyperslab inside
// one chunk of a variable read directly (chunks.go) is cut from that chunk:
// libdeflate decodes it several times faster than netCDF-C would.
func (r *Reader) Read(v *ncmodel.Var, start, count, stride []int) (*ncmodel.Array, error) {
	if at := oneChunk(v, start, count, stride); at != nil && r.ReadsChunks(v) {
		c, err := r.ReadChunk(v, at)
		if err != nil {
			return nil, err
		}
		a := ncmodel.NewArray(v.Type, count)
		ncmodel.CopyOverlap(a, start, c, at)
		return a, nil
	}
	return r.read(v, start, count, stride)
}

// read reads through netCDF-C.
func (r *Reader) read(v *ncmodel.Var, start, count, stride []int) (*ncmodel.Array, error) {
	lock()
	defer unlock()
	if r.closed {
		return nil, fmt.Errorf("read %s: file is closed", v.Path())
	}
	id, ok := r.ids[v]
	if !ok {
		return nil, fmt.Errorf("read %s: variable does not belong to this file", v.Path())
	}
	if err := ncmodel.CheckSlab(v, start, count, stride); err != nil {
		return nil, fmt.Errorf("read %s: %w", v.Path(), err)
	}
	if stride == nil {
		stride = make([]int, len(start))
		for i := range stride {
			stride[i] = 1
		}
	}
	a := ncmodel.NewArray(v.Type, count)
	n := a.Len()
	if n == 0 {
		return a, nil
	}
	cs, cc, cst := cSizes(start), cSizes(count), cDiffs(stride)
	if v.Type == ncmodel.String {
		ptrs := make([]*C.char, n)
		if err := ncErr(C.nc_get_vars(id[0], id[1], &cs[0], &cc[0], &cst[0], unsafe.Pointer(&ptrs[0]))); err != nil {
			return nil, fmt.Errorf("read %s: %w", v.Path(), err)
		}
		for i, p := range ptrs {
			if p != nil {
				a.Strings[i] = C.GoString(p)
			}
		}
		C.nc_free_string(C.size_t(n), &ptrs[0])
		return a, nil
	}
	if err := ncErr(C.nc_get_vars(id[0], id[1], &cs[0], &cc[0], &cst[0], unsafe.Pointer(&a.Data[0]))); err != nil {
		return nil, fmt.Errorf("read %s: %w", v.Path(), err)
	}
	return a, nil
}
