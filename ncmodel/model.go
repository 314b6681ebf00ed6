// Package ncmodel describes the contents of a NetCDF or HDF5 file in plain Go:
// groups, dimensions, variables, attributes and hyperslabs of raw values.
//
// It is the vocabulary shared by the C readers (readers/netcdf, readers/hdf5),
// the in-memory fake (ncmodel/memfile) and the code that plans subsets. It
// must not import "C": everything outside readers/ builds without cgo.
package ncmodel

import (
	"fmt"
	"strings"
)

// Type is a NetCDF external data type. The numbers are netCDF-C's nc_type
// values so the C readers convert with a plain cast.
type Type int

// The NetCDF types.
const (
	Byte   Type = 1  // int8
	Char   Type = 2  // 8-bit character
	Short  Type = 3  // int16
	Int    Type = 4  // int32
	Float  Type = 5  // float32
	Double Type = 6  // float64
	UByte  Type = 7  // uint8
	UShort Type = 8  // uint16
	UInt   Type = 9  // uint32
	Int64  Type = 10 // int64
	UInt64 Type = 11 // uint64
	String Type = 12 // variable-length string
)

var typeNames = map[Type]string{
	Byte: "byte", Char: "char", Short: "short", Int: "int", Float: "float", Double: "double",
	UByte: "ubyte", UShort: "ushort", UInt: "uint", Int64: "int64", UInt64: "uint64", String: "string",
}

// String returns the CDL name of the type.
func (t Type) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("type(%d)", int(t))
}

// Size is the size in bytes of one value; for String it is the size of a C pointer.
func (t Type) Size() int {
	switch t {
	case Byte, Char, UByte:
		return 1
	case Short, UShort:
		return 2
	case Int, UInt, Float:
		return 4
	case Int64, UInt64, Double, String:
		return 8
	}
	return 0
}

// Classic reports whether the netCDF-3 formats can hold the type.
func (t Type) Classic() bool { return t >= Byte && t <= Double }

// Valid reports whether t is one of the types above.
func (t Type) Valid() bool { return t >= Byte && t <= String }

// Attr is an attribute. Value holds a Go value matching Type:
// Byte []int8, Char string, Short []int16, Int []int32, Float []float32,
// Double []float64, UByte []uint8, UShort []uint16, UInt []uint32,
// Int64 []int64, UInt64 []uint64, String []string.
type Attr struct {
	Name  string
	Type  Type
	Value any
}

// Dim is a dimension. A variable refers to the *Dim of the group that defines
// it, which may be an ancestor of the variable's group; pointer identity is
// dimension identity.
type Dim struct {
	Name      string
	Len       int
	Unlimited bool
	Group     *Group
}

// Var is a variable.
type Var struct {
	Name  string
	Type  Type
	Dims  []*Dim
	Attrs []Attr
	Group *Group

	// Storage of the input, or wanted for the output. Chunks is nil for
	// contiguous storage. Deflate is 0 for none.
	Chunks  []int
	Deflate int
	Shuffle bool
}

// Group is a NetCDF-4 group; netCDF-3 files have only the root group.
type Group struct {
	Name   string // "" for the root
	Parent *Group
	Dims   []*Dim
	Vars   []*Var
	Attrs  []Attr
	Groups []*Group
}

// File is the description of one file.
type File struct {
	Path   string
	Format Format
	Root   *Group
}

// Format is a file format.
type Format string

// The formats a reader reports and a writer accepts.
const (
	FormatClassic        Format = "classic"
	Format64BitOffset    Format = "64bit_offset"
	Format64BitData      Format = "64bit_data"
	FormatNetCDF4        Format = "netcdf4"
	FormatNetCDF4Classic Format = "netcdf4_classic"
	FormatHDF5           Format = "hdf5" // HDF5 not written by netCDF
)

// IsNetCDF3 reports whether the format is one of the netCDF-3 formats.
func (f Format) IsNetCDF3() bool {
	return f == FormatClassic || f == Format64BitOffset || f == Format64BitData
}

// Path is the absolute path of a group: "/" for the root, "/a/b" below it.
func (g *Group) Path() string {
	if g.Parent == nil {
		return "/"
	}
	p := g.Parent.Path()
	if p == "/" {
		return "/" + g.Name
	}
	return p + "/" + g.Name
}

// Path is the full name of a variable: "/sst" or "/Grid/precip".
func (v *Var) Path() string {
	p := v.Group.Path()
	if p == "/" {
		return "/" + v.Name
	}
	return p + "/" + v.Name
}

// Shape returns the lengths of the variable's dimensions.
func (v *Var) Shape() []int {
	s := make([]int, len(v.Dims))
	for i, d := range v.Dims {
		s[i] = d.Len
	}
	return s
}

// Attr returns the named attribute and whether it exists.
func (v *Var) Attr(name string) (Attr, bool) { return findAttr(v.Attrs, name) }

// Attr returns the named attribute of the group and whether it exists.
func (g *Group) Attr(name string) (Attr, bool) { return findAttr(g.Attrs, name) }

func findAttr(as []Attr, name string) (Attr, bool) {
	for _, a := range as {
		if a.Name == name {
			return a, true
		}
	}
	return Attr{}, false
}

// AttrString returns a text attribute (Char or a one-element String), or "".
func (v *Var) AttrString(name string) string {
	a, ok := v.Attr(name)
	if !ok {
		return ""
	}
	return a.Text()
}

// Text returns the value of a Char attribute, or of a String attribute joined
// by newlines; "" for numeric attributes.
func (a Attr) Text() string {
	switch x := a.Value.(type) {
	case string:
		return strings.TrimRight(x, "\x00")
	case []string:
		return strings.Join(x, "\n")
	}
	return ""
}

// Float64s converts a numeric attribute to float64 values; nil for text.
func (a Attr) Float64s() []float64 {
	switch x := a.Value.(type) {
	case []int8:
		return conv(x)
	case []int16:
		return conv(x)
	case []int32:
		return conv(x)
	case []float32:
		return conv(x)
	case []float64:
		return conv(x)
	case []uint8:
		return conv(x)
	case []uint16:
		return conv(x)
	case []uint32:
		return conv(x)
	case []int64:
		return conv(x)
	case []uint64:
		return conv(x)
	}
	return nil
}

type number interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~float32 | ~float64
}

func conv[T number](x []T) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// Var finds a variable of this group by name.
func (g *Group) Var(name string) *Var {
	for _, v := range g.Vars {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// Group finds a child group by name.
func (g *Group) Group(name string) *Group {
	for _, c := range g.Groups {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Dim finds a dimension visible from g: defined in g or in an ancestor, the
// nearest first, as netCDF-4 scoping rules say.
func (g *Group) Dim(name string) *Dim {
	for x := g; x != nil; x = x.Parent {
		for _, d := range x.Dims {
			if d.Name == name {
				return d
			}
		}
	}
	return nil
}

// Walk calls fn for g and every group below it, parents first.
func (g *Group) Walk(fn func(*Group)) {
	fn(g)
	for _, c := range g.Groups {
		c.Walk(fn)
	}
}

// Vars returns every variable of the file, group by group, in file order.
func (f *File) Vars() []*Var {
	var out []*Var
	f.Root.Walk(func(g *Group) { out = append(out, g.Vars...) })
	return out
}

// FindVar finds a variable by full path ("/Grid/precip") or, without a
// leading slash, by name in the root group, then anywhere if the name is
// unique in the file.
func (f *File) FindVar(name string) *Var {
	if strings.HasPrefix(name, "/") {
		for _, v := range f.Vars() {
			if v.Path() == name {
				return v
			}
		}
		return nil
	}
	if v := f.Root.Var(name); v != nil {
		return v
	}
	var found *Var
	for _, v := range f.Vars() {
		if v.Name == name {
			if found != nil {
				return nil
			}
			found = v
		}
	}
	return found
}

// IsCoordinate reports whether v is a coordinate variable in the netCDF sense:
// one dimension with the variable's name.
func (v *Var) IsCoordinate() bool {
	return len(v.Dims) == 1 && v.Dims[0].Name == v.Name
}

// Array is a hyperslab of values in C order. Numeric and Char data are raw
// bytes in the machine's byte order; String data is in Strings.
type Array struct {
	Type    Type
	Shape   []int
	Data    []byte
	Strings []string
}

// Len is the number of values the shape holds.
func (a *Array) Len() int { return Product(a.Shape) }

// Product multiplies the lengths; 1 for a scalar.
func Product(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}

// NewArray allocates a zeroed array of the given type and shape.
func NewArray(t Type, shape []int) *Array {
	a := &Array{Type: t, Shape: append([]int(nil), shape...)}
	if t == String {
		a.Strings = make([]string, Product(shape))
	} else {
		a.Data = make([]byte, Product(shape)*t.Size())
	}
	return a
}

// Source is an opened input file: its description and hyperslab reads.
type Source interface {
	// File describes the file; the same value on every call.
	File() *File
	// Read reads the hyperslab start/count/stride of v (stride nil means 1)
	// with the variable's own type, raw: no unpacking, no fill conversion.
	Read(v *Var, start, count, stride []int) (*Array, error)
	Close() error
}

// Sink is an output file being written.
type Sink interface {
	// Define creates the groups, dimensions, variables and attributes of f,
	// with each variable's Chunks/Deflate/Shuffle as storage. Called once,
	// before any Write.
	Define(f *File) error
	// Write writes a at start of the variable with path varPath.
	Write(varPath string, start []int, a *Array) error
	// Close finishes the file and flushes it to stable storage.
	Close() error
}

// CheckSlab validates a hyperslab against a variable's shape: one entry per
// dimension, start+(count-1)*stride inside the dimension, stride >= 1.
func CheckSlab(v *Var, start, count, stride []int) error {
	r := len(v.Dims)
	if len(start) != r || len(count) != r || (stride != nil && len(stride) != r) {
		return fmt.Errorf("hyperslab rank %d/%d does not match the variable's %d dimensions", len(start), len(count), r)
	}
	for i, d := range v.Dims {
		s := 1
		if stride != nil {
			s = stride[i]
		}
		if s < 1 || start[i] < 0 || count[i] < 0 {
			return fmt.Errorf("bad hyperslab on dimension %s: start %d count %d stride %d", d.Name, start[i], count[i], s)
		}
		if count[i] > 0 && start[i]+(count[i]-1)*s >= d.Len {
			return fmt.Errorf("hyperslab exceeds dimension %s (length %d): start %d count %d stride %d", d.Name, d.Len, start[i], count[i], s)
		}
		if count[i] == 0 && start[i] > d.Len {
			return fmt.Errorf("hyperslab start %d beyond dimension %s (length %d)", start[i], d.Name, d.Len)
		}
	}
	return nil
}
