package hdf5

// #include "h5shim.h"
import "C"

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unsafe"

	"github.com/subsetd/subsetd/ncmodel"
)

// netCDF-4 conventions recognised so that a netCDF-4 file read by this
// package looks as ncdump shows it.
const (
	// ncDimOnly starts the NAME attribute of a dimension scale that netCDF-4
	// wrote for a dimension without a coordinate variable.
	ncDimOnly = "This is a netCDF dimension but not a netCDF variable"
	// ncNonCoord prefixes the dataset of a variable named like a dimension
	// it is not the coordinate variable of.
	ncNonCoord = "_nc4_non_coord_"
)

// dataset is what the reader learns about one HDF5 dataset while walking
// the file, whether or not it becomes a variable.
type dataset struct {
	group   *ncmodel.Group
	name    string // link name
	path    string // absolute path, for H5Dopen2
	typ     typeInfo
	null    bool  // null dataspace: no values
	shape   []int // nil for a scalar
	unlim   []bool
	attrs   []ncmodel.Attr // without the internal ones
	isScale bool           // CLASS = "DIMENSION_SCALE"
	scale   string         // its NAME attribute
	refs    []C.haddr_t    // per dimension: address of the attached scale, or undef
	chunks  []int
	deflate int
	shuffle bool
	fill    []byte // Numeric and Char: the fill value, native order

	hidden bool         // a netCDF-4 dimension without a variable
	dim    *ncmodel.Dim // the dimension a 1-D scale defines
}

// maxDimLen bounds the lengths read from a dataspace: larger ones come from
// a corrupt file and would overflow int arithmetic.
const maxDimLen = 1 << 53

// maxDepth bounds the nesting of groups. The walk never enters a group
// twice, so it ends anyway; this keeps a corrupt file of nested groups
// from making it deep for nothing.
const maxDepth = 256

// limits holds what counts read from a file are checked against: a file of
// n bytes cannot hold more than n/k things that each take k bytes or more
// of it, and a count beyond that comes from corrupt metadata. Checking it
// before a loop or an allocation keeps both proportional to the file.
type limits struct {
	size int64 // the file's size in bytes
}

// fits reports whether n things of at least unit bytes each can be stored
// in the file.
func (l limits) fits(n, unit uint64) bool {
	return unit == 0 || n <= uint64(l.size)/unit
}

type builder struct {
	limits
	undef    C.haddr_t
	unlim    C.hsize_t
	visited  map[C.haddr_t]bool // objects already listed (hard links, cycles)
	byAddr   map[C.haddr_t]*dataset
	datasets []*dataset // in walk order: depth first, names in order
	dimNames map[*ncmodel.Group]map[string]bool
	phony    map[*ncmodel.Group][]*ncmodel.Dim
	nphony   int
}

// build walks the file (size bytes) and fills r.file and r.vars. It runs
// inside Open's cgoOp.
func (r *Reader) build(path string, size int64) error {
	b := &builder{
		limits:   limits{size: size},
		undef:    C.sd_haddr_undef(),
		unlim:    C.sd_unlimited(),
		visited:  map[C.haddr_t]bool{},
		byAddr:   map[C.haddr_t]*dataset{},
		dimNames: map[*ncmodel.Group]map[string]bool{},
		phony:    map[*ncmodel.Group][]*ncmodel.Dim{},
	}
	slash := C.CString("/")
	defer C.free(unsafe.Pointer(slash))
	gid := C.H5Gopen2(r.fid, slash, C.H5P_DEFAULT)
	if gid < 0 {
		return fmt.Errorf("root group: %v", h5err("cannot open"))
	}
	defer closeGroup(gid)
	var oi C.H5O_info_t
	if C.H5Oget_info2(gid, &oi, C.H5O_INFO_BASIC) < 0 {
		return fmt.Errorf("root group: %v", h5err("cannot inspect"))
	}
	b.visited[oi.addr] = true
	attrs, err := readAttrs(gid, b.limits)
	if err != nil {
		return fmt.Errorf("root group: %w", err)
	}
	root := &ncmodel.Group{Attrs: attrs}
	if err := b.walk(gid, root, "", 0); err != nil {
		return err
	}
	b.makeScaleDims()
	r.vars = b.makeVars()
	root.Walk(tidyGroup)
	// netCDF-4 marks its files with a hidden root attribute; such a file is
	// reported as what it is, so either reader describes it alike.
	format := ncmodel.FormatHDF5
	ncprops := C.CString("_NCProperties")
	defer C.free(unsafe.Pointer(ncprops))
	if C.H5Aexists(gid, ncprops) > 0 {
		format = ncmodel.FormatNetCDF4
	}
	r.file = &ncmodel.File{Path: path, Format: format, Root: root}
	return nil
}

// walk lists the links of group gid (path gpath, "" for the root, depth
// its nesting) in name order. Soft and external links and committed
// datatypes are skipped; an object met before (another hard link to it, or
// a cycle) is skipped too.
func (b *builder) walk(gid C.hid_t, g *ncmodel.Group, gpath string, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%s: groups nested more than %d deep", gpath, maxDepth)
	}
	var gi C.H5G_info_t
	if C.H5Gget_info(gid, &gi) < 0 {
		return fmt.Errorf("%s: %v", orRoot(gpath), h5err("cannot list the group"))
	}
	// A link takes more than 8 bytes of the file (a name and an address).
	if !b.fits(uint64(gi.nlinks), 8) {
		return fmt.Errorf("%s: the group claims %d links, more than a file of %d bytes holds", orRoot(gpath), uint64(gi.nlinks), b.size)
	}
	for i := C.hsize_t(0); i < gi.nlinks; i++ {
		name, ok := goStringFree(C.sd_link_name(gid, i))
		if !ok {
			return fmt.Errorf("%s: link #%d: %v", orRoot(gpath), i, h5err("cannot get its name"))
		}
		p := gpath + "/" + name
		var kind C.int
		var fileno C.ulong
		var addr C.haddr_t
		if C.sd_link_info(gid, i, C.haddr_t(b.size), &kind, &fileno, &addr) < 0 {
			return fmt.Errorf("%s: %v", p, h5err("cannot inspect the link"))
		}
		if kind == C.SD_LINK_BAD {
			return fmt.Errorf("%s: the link points to byte %d, outside the file (%d bytes)", p, uint64(addr), b.size)
		}
		if kind != C.SD_LINK_GROUP && kind != C.SD_LINK_DATASET {
			continue
		}
		if b.visited[addr] {
			continue
		}
		b.visited[addr] = true
		var err error
		if kind == C.SD_LINK_GROUP {
			err = b.group(gid, name, p, g, depth+1)
		} else {
			err = b.dataset(gid, name, p, g, addr)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func orRoot(p string) string {
	if p == "" {
		return "/"
	}
	return p
}

func (b *builder) group(parent C.hid_t, name, p string, g *ncmodel.Group, depth int) error {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	gid := C.H5Gopen2(parent, cname, C.H5P_DEFAULT)
	if gid < 0 {
		return fmt.Errorf("%s: %v", p, h5err("cannot open the group"))
	}
	defer closeGroup(gid)
	attrs, err := readAttrs(gid, b.limits)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	child := &ncmodel.Group{Name: name, Parent: g, Attrs: attrs}
	g.Groups = append(g.Groups, child)
	return b.walk(gid, child, p, depth)
}

func (b *builder) dataset(parent C.hid_t, name, p string, g *ncmodel.Group, addr C.haddr_t) error {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	did := C.H5Dopen2(parent, cname, C.H5P_DEFAULT)
	if did < 0 {
		return fmt.Errorf("%s: %v", p, h5err("cannot open the dataset"))
	}
	defer closeDataset(did)
	ds := &dataset{group: g, name: name, path: p}

	tid := C.H5Dget_type(did)
	if tid < 0 {
		return fmt.Errorf("%s: %v", p, h5err("cannot get the datatype"))
	}
	ds.typ = inspectType(tid)
	closeType(tid)

	if err := b.space(did, ds); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	attrs, err := readAttrs(did, b.limits)
	if err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	ds.scale, _ = attrText(attrs, "NAME")
	ds.attrs, ds.isScale = dropScaleAttrs(attrs)
	if err := storage(did, ds); err != nil {
		return fmt.Errorf("%s: %w", p, err)
	}
	if rank := len(ds.shape); rank > 0 && !ds.isScale {
		ds.refs = make([]C.haddr_t, rank)
		// A DIMENSION_LIST that cannot be read leaves every entry undef:
		// phony dimensions, as for a broken reference. The references
		// are object addresses, resolved against the datasets the walk
		// meets (byAddr) once it is over; one that matches none is
		// dangling. A damaged heap the list is stored in is an error.
		if C.sd_dimlist(did, C.int(rank), &ds.refs[0]) < 0 {
			if err := guardRefusal(); err != nil {
				return fmt.Errorf("%s: DIMENSION_LIST: %w", p, err)
			}
		}
	}
	b.datasets = append(b.datasets, ds)
	b.byAddr[addr] = ds
	return nil
}

// space reads the shape and the unlimited dimensions of a dataset.
func (b *builder) space(did C.hid_t, ds *dataset) error {
	sid := C.H5Dget_space(did)
	if sid < 0 {
		return h5err("cannot get the dataspace")
	}
	defer closeSpace(sid)
	switch C.H5Sget_simple_extent_type(sid) {
	case C.H5S_NULL:
		ds.null = true
		return nil
	case C.H5S_SCALAR:
		return nil
	}
	rank := C.H5Sget_simple_extent_ndims(sid)
	if rank < 0 {
		return h5err("cannot get the rank")
	}
	if rank == 0 {
		return nil
	}
	dims := make([]C.hsize_t, rank)
	maxd := make([]C.hsize_t, rank)
	if C.H5Sget_simple_extent_dims(sid, &dims[0], &maxd[0]) < 0 {
		return h5err("cannot get the dimensions")
	}
	ds.shape = make([]int, rank)
	ds.unlim = make([]bool, rank)
	for i := range dims {
		if dims[i] > maxDimLen {
			return fmt.Errorf("dimension %d has an impossible length %d", i, uint64(dims[i]))
		}
		ds.shape[i] = int(dims[i])
		ds.unlim[i] = maxd[i] == b.unlim
	}
	return nil
}

// storage reads the chunking and the deflate and shuffle filters from the
// dataset creation property list (informational).
func storage(did C.hid_t, ds *dataset) error {
	dcpl := C.H5Dget_create_plist(did)
	if dcpl < 0 {
		return h5err("cannot get the creation properties")
	}
	defer closePlist(dcpl)
	if rank := len(ds.shape); rank > 0 && C.H5Pget_layout(dcpl) == C.H5D_CHUNKED {
		chunk := make([]C.hsize_t, rank)
		if C.H5Pget_chunk(dcpl, C.int(rank), &chunk[0]) == C.int(rank) {
			ds.chunks = make([]int, rank)
			for i, c := range chunk {
				ds.chunks[i] = int(c)
			}
		}
	}
	var deflate, shuffle C.int
	if C.sd_filters(dcpl, &deflate, &shuffle) == 0 {
		ds.deflate = int(deflate)
		ds.shuffle = shuffle != 0
	}
	ds.fill = fillValue(did, dcpl, ds.typ)
	return nil
}

// fillValue returns the dataset's fill value for numbers and chars, in
// memory order: what Read returns past the dataset's own extent along an
// unlimited dimension (netCDF-4 sets it to _FillValue or the default fill).
// Zero bytes, HDF5's default, when none is defined or on error.
func fillValue(did, dcpl C.hid_t, ti typeInfo) []byte {
	var mem C.hid_t
	switch ti.kind {
	case kindNumeric:
		mem = C.sd_native(C.int(ti.nc))
	case kindChar:
		mem = C.H5Dget_type(did)
		if mem < 0 {
			C.H5Eclear2(C.H5E_DEFAULT)
			return []byte{0}
		}
		defer closeType(mem)
	default:
		return nil
	}
	fill := make([]byte, ti.nc.Size())
	var st C.H5D_fill_value_t
	if C.H5Pfill_value_defined(dcpl, &st) < 0 || st == C.H5D_FILL_VALUE_UNDEFINED ||
		C.H5Pget_fill_value(dcpl, mem, unsafe.Pointer(&fill[0])) < 0 {
		C.H5Eclear2(C.H5E_DEFAULT)
		clear(fill)
	}
	return fill
}

// makeScaleDims defines a dimension for every 1-D dimension scale, in the
// scale's group, named after its NAME attribute when that is usable (not
// empty, no '/', not taken) and after the dataset otherwise.
//
// The length of an unlimited scale's dimension is the largest length of the
// scale and of the datasets attached to it along it: netCDF-4 does not
// extend the scale of a dimension without a coordinate variable, nor a
// variable it writes no record to, and netCDF-C takes the maximum too.
func (b *builder) makeScaleDims() {
	longest := map[*dataset]int{}
	for _, ds := range b.datasets {
		for i, ref := range ds.refs {
			if sc := b.byAddr[ref]; ref != b.undef && sc != nil && sc.isScale && len(sc.shape) == 1 && sc.unlim[0] {
				longest[sc] = max(longest[sc], ds.shape[i])
			}
		}
	}
	for _, ds := range b.datasets {
		if !ds.isScale || len(ds.shape) != 1 {
			continue
		}
		name := ds.scale
		if strings.HasPrefix(name, ncDimOnly) {
			ds.hidden = true
			name = ds.name
		}
		if name == "" || strings.Contains(name, "/") || b.dimTaken(ds.group, name) {
			name = ds.name
		}
		for k := 2; b.dimTaken(ds.group, name); k++ {
			name = ds.name + "_" + strconv.Itoa(k)
		}
		ds.dim = b.addDim(ds.group, name, max(ds.shape[0], longest[ds]), ds.unlim[0])
	}
}

func (b *builder) dimTaken(g *ncmodel.Group, name string) bool { return b.dimNames[g][name] }

func (b *builder) addDim(g *ncmodel.Group, name string, n int, unlim bool) *ncmodel.Dim {
	d := &ncmodel.Dim{Name: name, Len: n, Unlimited: unlim, Group: g}
	g.Dims = append(g.Dims, d)
	if b.dimNames[g] == nil {
		b.dimNames[g] = map[string]bool{}
	}
	b.dimNames[g][name] = true
	return d
}

// makeVars makes a variable of every dataset of a supported type and
// resolves its dimensions.
func (b *builder) makeVars() map[*ncmodel.Var]*dataset {
	vars := map[*ncmodel.Var]*dataset{}
	for _, ds := range b.datasets {
		if ds.hidden || ds.null || ds.typ.kind == kindNone {
			continue
		}
		v := &ncmodel.Var{
			Name: ds.name, Type: ds.typ.nc, Attrs: ds.attrs, Group: ds.group,
			Chunks: ds.chunks, Deflate: ds.deflate, Shuffle: ds.shuffle,
		}
		if ds.dim != nil {
			v.Dims = []*ncmodel.Dim{ds.dim}
		} else {
			for i, n := range ds.shape {
				v.Dims = append(v.Dims, b.resolveDim(ds, i, n, v.Dims))
			}
		}
		ds.group.Vars = append(ds.group.Vars, v)
		vars[v] = ds
	}
	return vars
}

// resolveDim returns the dimension i (length n) of ds: its attached 1-D
// scale's dimension when the lengths agree (or the dimension is unlimited
// and at least as long: Read fills the rest), else a phony dimension of the
// dataset's group with the same length and unlimitedness that this dataset
// does not use yet (earlier is its dimensions 0..i-1), created when none
// exists.
func (b *builder) resolveDim(ds *dataset, i, n int, earlier []*ncmodel.Dim) *ncmodel.Dim {
	if ds.refs != nil && ds.refs[i] != b.undef {
		if sc := b.byAddr[ds.refs[i]]; sc != nil && sc.dim != nil && (sc.dim.Len == n || sc.dim.Unlimited && sc.dim.Len > n) {
			return sc.dim
		}
	}
	g := ds.group
	unlim := ds.unlim[i]
next:
	for _, d := range b.phony[g] {
		if d.Len != n || d.Unlimited != unlim {
			continue
		}
		for _, e := range earlier {
			if e == d {
				continue next
			}
		}
		return d
	}
	name := ""
	for {
		name = "phony_dim_" + strconv.Itoa(b.nphony)
		b.nphony++
		if !b.dimTaken(g, name) {
			break
		}
	}
	d := b.addDim(g, name, n, unlim)
	b.phony[g] = append(b.phony[g], d)
	return d
}

// tidyGroup removes netCDF-4's "_nc4_non_coord_" prefixes where that leaves
// names unique and sorts the group's members by name.
func tidyGroup(g *ncmodel.Group) {
	for _, v := range g.Vars {
		if s := strings.TrimPrefix(v.Name, ncNonCoord); s != v.Name && s != "" && g.Var(s) == nil {
			v.Name = s
		}
	}
	sort.SliceStable(g.Vars, func(i, j int) bool { return g.Vars[i].Name < g.Vars[j].Name })
	sort.SliceStable(g.Dims, func(i, j int) bool { return g.Dims[i].Name < g.Dims[j].Name })
	sort.SliceStable(g.Groups, func(i, j int) bool { return g.Groups[i].Name < g.Groups[j].Name })
}
