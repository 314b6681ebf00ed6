package memfile

import (
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/subsetd/subsetd/ncmodel"
)

// The messages are netCDF-C's (nc_strerror) so that a test written against
// the fake reads the same as a log line from the real reader.
var (
	errInvalidCoords = errors.New("NetCDF: Index exceeds dimension bound")
	errEdge          = errors.New("NetCDF: Start+count exceeds dimension bound")
	errStride        = errors.New("NetCDF: Illegal stride")
	errNotVar        = errors.New("NetCDF: Variable not found")
	errBadID         = errors.New("NetCDF: Not a valid ID")
	errRank          = errors.New("start, count and stride do not match the variable's rank")
)

// File is an in-memory NetCDF file: a description and the values of its
// variables. It is an ncmodel.Source; Open gives further independent
// handles on it. Safe for concurrent use.
type File struct {
	mu   sync.Mutex
	desc *ncmodel.File
	data map[string]*ncmodel.Array // by variable path; absent = never set
	// fill makes absent values read as fill values, as in a file written
	// through a Sink; a File made by New reads zeros instead.
	fill   bool
	closed bool
}

var _ ncmodel.Source = (*File)(nil)

// New returns a file described by a deep copy of f (later changes to f do
// not show) whose variables all read as zeros until SetData.
func New(f *ncmodel.File) *File {
	c := Clone(f)
	if c == nil {
		c = &ncmodel.File{}
	}
	if c.Root == nil {
		c.Root = &ncmodel.Group{}
	}
	return &File{desc: c, data: make(map[string]*ncmodel.Array)}
}

// File returns the description; the same value on every call. Callers must
// not modify it.
func (f *File) File() *ncmodel.File { return f.desc }

// SetData sets every value of the variable at varPath (a path or a name, as
// ncmodel.File.FindVar takes). The array must have the variable's type and
// shape; it is copied. It panics otherwise: the test's setup is wrong.
func (f *File) SetData(varPath string, a *ncmodel.Array) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := f.desc.FindVar(varPath)
	if v == nil {
		panic(fmt.Sprintf("memfile.SetData: no variable %q", varPath))
	}
	if a == nil || a.Type != v.Type || !slices.Equal(a.Shape, v.Shape()) {
		panic(fmt.Sprintf("memfile.SetData %s: want %s%v, got %s", v.Path(), v.Type, v.Shape(), describe(a)))
	}
	if err := checkArray(a); err != nil {
		panic(fmt.Sprintf("memfile.SetData %s: %v", v.Path(), err))
	}
	c := CloneArray(a)
	c.Shape = v.Shape() // a nil and an empty scalar shape are the same
	f.data[v.Path()] = c
}

// SetFunc sets the value at each index of the variable to fn(index); see
// ArrayFunc for the conversion.
func (f *File) SetFunc(varPath string, fn func(index []int) float64) {
	v := f.desc.FindVar(varPath)
	if v == nil {
		panic(fmt.Sprintf("memfile.SetFunc: no variable %q", varPath))
	}
	f.SetData(varPath, ArrayFunc(v.Type, v.Shape(), fn))
}

// Data returns a copy of every value of the variable at varPath, or nil if
// there is no such variable.
func (f *File) Data(varPath string) *ncmodel.Array {
	f.mu.Lock()
	defer f.mu.Unlock()
	v := f.desc.FindVar(varPath)
	if v == nil {
		return nil
	}
	shape := v.Shape()
	start := make([]int, len(shape))
	return f.readLocked(v, start, shape, nil)
}

// Open returns a new handle on f, closed independently of f and of other
// handles, as opening the same path twice does with netCDF-C.
func (f *File) Open() ncmodel.Source { return &handle{f: f} }

// Read reads a hyperslab of v, which is looked up by its path so a *Var of
// another description of the same file works too.
func (f *File) Read(v *ncmodel.Var, start, count, stride []int) (*ncmodel.Array, error) {
	f.mu.Lock()
	closed := f.closed
	f.mu.Unlock()
	if closed {
		return nil, readErr(v, errBadID)
	}
	return f.read(v, start, count, stride)
}

// Close makes further reads through f fail; handles from Open still work.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return errBadID
	}
	f.closed = true
	return nil
}

func (f *File) read(v *ncmodel.Var, start, count, stride []int) (*ncmodel.Array, error) {
	if v == nil || v.Group == nil {
		return nil, fmt.Errorf("read: %w: a variable without a group", errNotVar)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	own := f.desc.FindVar(v.Path())
	if own == nil {
		return nil, readErr(v, errNotVar)
	}
	start, count, err := checkSlab(own.Shape(), nil, start, count, stride)
	if err != nil {
		return nil, fmt.Errorf("read %s start %v count %v stride %v: %w", own.Path(), start, count, stride, err)
	}
	return f.readLocked(own, start, count, stride), nil
}

func readErr(v *ncmodel.Var, err error) error {
	if v == nil || v.Group == nil {
		return fmt.Errorf("read: %w", err)
	}
	return fmt.Errorf("read %s: %w", v.Path(), err)
}

// readLocked reads a validated slab. Absent data reads as zeros or fill
// without allocating the whole variable, so a test can describe a huge
// variable and read a corner of it.
func (f *File) readLocked(v *ncmodel.Var, start, count, stride []int) *ncmodel.Array {
	whole := f.dataLocked(v, false)
	if whole == nil {
		if !f.fill {
			return ncmodel.NewArray(v.Type, count)
		}
		raw, str := fillOf(v)
		return filled(v.Type, count, raw, str)
	}
	return copyOut(whole, start, count, stride)
}

// dataLocked returns the stored values of v at its current shape, growing
// them with fill values when an unlimited dimension grew since they were
// stored. With create, absent data is allocated; otherwise it stays nil.
func (f *File) dataLocked(v *ncmodel.Var, create bool) *ncmodel.Array {
	path := v.Path()
	a := f.data[path]
	shape := v.Shape()
	if a == nil {
		if !create {
			return nil
		}
		a = f.blank(v, shape)
		f.data[path] = a
		return a
	}
	if slices.Equal(a.Shape, shape) {
		return a
	}
	grown := f.blank(v, shape)
	// Dimensions only grow, so the old values fit at the origin; a shrunk
	// dimension (a test editing the description) keeps what still fits.
	keep := make([]int, len(shape))
	for i := range keep {
		keep[i] = min(a.Shape[i], shape[i])
	}
	if !slices.Equal(keep, a.Shape) {
		a = copyOut(a, make([]int, len(shape)), keep, nil)
	}
	copyIn(grown, make([]int, len(shape)), a)
	f.data[path] = grown
	return grown
}

func (f *File) blank(v *ncmodel.Var, shape []int) *ncmodel.Array {
	if !f.fill {
		return ncmodel.NewArray(v.Type, shape)
	}
	raw, str := fillOf(v)
	return filled(v.Type, shape, raw, str)
}

// checkSlab validates a hyperslab against a shape the way netCDF-C does
// (NC_EINVALCOORDS, NC_EEDGE, NC_ESTRIDE). For a scalar, nil and empty
// slices are both accepted. growable marks dimensions a write may extend
// (unlimited ones). It returns start and count normalised to non-nil.
func checkSlab(shape []int, growable []bool, start, count, stride []int) ([]int, []int, error) {
	r := len(shape)
	if len(start) != r || len(count) != r || (stride != nil && len(stride) != r) {
		return start, count, fmt.Errorf("%w: rank %d, start %d, count %d, stride %d values",
			errRank, r, len(start), len(count), len(stride))
	}
	if r == 0 {
		return []int{}, []int{}, nil
	}
	for i, n := range shape {
		st := 1
		if stride != nil {
			st = stride[i]
		}
		switch {
		case start[i] < 0:
			return start, count, errInvalidCoords
		case count[i] < 0:
			return start, count, errEdge
		case st < 1:
			return start, count, errStride
		}
		if growable != nil && growable[i] {
			continue
		}
		if start[i] > n || (start[i] == n && count[i] > 0) {
			return start, count, errInvalidCoords
		}
		if count[i] > 0 && start[i]+(count[i]-1)*st+1 > n {
			return start, count, errEdge
		}
	}
	return start, count, nil
}

// checkArray checks that an array's storage matches its type and shape, so
// a malformed one is an error rather than a slice panic.
func checkArray(a *ncmodel.Array) error {
	if !a.Type.Valid() {
		return fmt.Errorf("invalid type %d", int(a.Type))
	}
	for _, n := range a.Shape {
		if n < 0 {
			return fmt.Errorf("negative length in shape %v", a.Shape)
		}
	}
	if a.Type == ncmodel.String {
		if len(a.Strings) != a.Len() {
			return fmt.Errorf("%d strings for shape %v", len(a.Strings), a.Shape)
		}
		return nil
	}
	if len(a.Data) != a.Len()*a.Type.Size() {
		return fmt.Errorf("%d bytes of %s for shape %v, want %d", len(a.Data), a.Type, a.Shape, a.Len()*a.Type.Size())
	}
	return nil
}

func describe(a *ncmodel.Array) string {
	if a == nil {
		return "nil"
	}
	return fmt.Sprintf("%s%v", a.Type, a.Shape)
}

// handle is one opening of a File.
type handle struct {
	f      *File
	mu     sync.Mutex
	closed bool
}

func (h *handle) File() *ncmodel.File { return h.f.desc }

func (h *handle) Read(v *ncmodel.Var, start, count, stride []int) (*ncmodel.Array, error) {
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return nil, readErr(v, errBadID)
	}
	return h.f.read(v, start, count, stride)
}

func (h *handle) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return errBadID
	}
	h.closed = true
	return nil
}
