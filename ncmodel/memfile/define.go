package memfile

import (
	"errors"
	"fmt"

	"github.com/subsetd/subsetd/ncmodel"
)

// Validate reports the first thing in f that a netCDF file of the given
// format cannot hold, or that netCDF-C would refuse while defining it. The
// memfile Sink calls it from Define; the C writer may call it too, to fail
// with the same message before touching the library.
func Validate(f *ncmodel.File, format ncmodel.Format) error {
	if f == nil || f.Root == nil {
		return errors.New("no root group")
	}
	if !writable(format) {
		return fmt.Errorf("cannot write format %q", format)
	}
	// The clone has trustworthy Parent and Group pointers even when the
	// caller built f by hand without them.
	v := validator{format: format, classicModel: classicModel(format)}
	return v.group(Clone(f).Root, nil)
}

func writable(f ncmodel.Format) bool {
	switch f {
	case ncmodel.FormatClassic, ncmodel.Format64BitOffset, ncmodel.Format64BitData,
		ncmodel.FormatNetCDF4, ncmodel.FormatNetCDF4Classic:
		return true
	}
	return false
}

// classicModel reports whether files of the format obey the netCDF-3 data
// model: netCDF-C enforces it for netcdf4_classic too (NC_ESTRICTNC3).
func classicModel(f ncmodel.Format) bool {
	return f.IsNetCDF3() || f == ncmodel.FormatNetCDF4Classic
}

type validator struct {
	format       ncmodel.Format
	classicModel bool
	unlimited    int
}

// typeOK reports whether the format can hold values of type t. CDF-5
// (64bit_data) added the unsigned and 64-bit integers but not strings.
func (v *validator) typeOK(t ncmodel.Type) bool {
	switch {
	case !t.Valid():
		return false
	case !v.classicModel:
		return true
	case v.format == ncmodel.Format64BitData:
		return t != ncmodel.String
	}
	return t.Classic()
}

func (v *validator) group(g, parent *ncmodel.Group) error {
	where := "group " + groupPath(g, parent)
	if parent != nil {
		if v.classicModel {
			return fmt.Errorf("%s: format %s cannot hold groups other than the root", where, v.format)
		}
		if g.Name == "" {
			return fmt.Errorf("%s: a group needs a name", where)
		}
	}
	names := make(map[string]string)
	claim := func(kind, name string) error {
		if prev, ok := names[name]; ok {
			return fmt.Errorf("%s: %s %q has the name of a %s (NetCDF: String match to name in use)", where, kind, name, prev)
		}
		names[name] = kind
		return nil
	}
	if err := v.attrs(where, g.Attrs); err != nil {
		return err
	}
	dimNames := make(map[string]bool)
	for _, d := range g.Dims {
		if d == nil || d.Name == "" {
			return fmt.Errorf("%s: a dimension needs a name", where)
		}
		if dimNames[d.Name] {
			return fmt.Errorf("%s: dimension %q defined twice", where, d.Name)
		}
		dimNames[d.Name] = true
		if d.Unlimited {
			v.unlimited++
			if v.classicModel && v.unlimited > 1 {
				return fmt.Errorf("%s: dimension %q: format %s allows one unlimited dimension (NetCDF: NC_UNLIMITED size already in use)", where, d.Name, v.format)
			}
			continue
		}
		// netCDF-C reads a length of 0 as NC_UNLIMITED, so a fixed
		// dimension of length 0 would silently become unlimited.
		if d.Len <= 0 {
			return fmt.Errorf("%s: fixed dimension %q has length %d", where, d.Name, d.Len)
		}
	}
	for _, x := range g.Vars {
		if x == nil || x.Name == "" {
			return fmt.Errorf("%s: a variable needs a name", where)
		}
		if err := claim("variable", x.Name); err != nil {
			return err
		}
		if err := v.variable(g, x); err != nil {
			return err
		}
	}
	for _, c := range g.Groups {
		if c == nil {
			return fmt.Errorf("%s: nil child group", where)
		}
		if err := claim("group", c.Name); err != nil {
			return err
		}
		if err := v.group(c, g); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) variable(g *ncmodel.Group, x *ncmodel.Var) error {
	where := "variable " + groupPath(g, g.Parent)
	if where[len(where)-1] != '/' {
		where += "/"
	}
	where += x.Name
	if !v.typeOK(x.Type) {
		return fmt.Errorf("%s: format %s cannot hold type %s (NetCDF: Attempting netcdf-4 operation on strict nc3 netcdf-4 file)", where, v.format, x.Type)
	}
	for i, d := range x.Dims {
		if d == nil {
			return fmt.Errorf("%s: dimension %d is nil", where, i)
		}
		if !visible(g, d) {
			return fmt.Errorf("%s: dimension %q is not defined in its group or an ancestor (NetCDF: Invalid dimension ID or name)", where, d.Name)
		}
		if d.Unlimited && i > 0 && v.format.IsNetCDF3() {
			return fmt.Errorf("%s: unlimited dimension %q must come first in format %s (NetCDF: NC_UNLIMITED in the wrong index)", where, d.Name, v.format)
		}
	}
	if x.Chunks != nil && !v.format.IsNetCDF3() {
		if len(x.Chunks) != len(x.Dims) {
			return fmt.Errorf("%s: %d chunk lengths for %d dimensions", where, len(x.Chunks), len(x.Dims))
		}
		for _, c := range x.Chunks {
			if c < 1 {
				return fmt.Errorf("%s: chunk lengths %v must be positive", where, x.Chunks)
			}
		}
	}
	if x.Deflate < 0 || x.Deflate > 9 {
		return fmt.Errorf("%s: deflate level %d is not 0..9", where, x.Deflate)
	}
	if err := v.attrs(where, x.Attrs); err != nil {
		return err
	}
	if a, ok := x.Attr("_FillValue"); ok {
		if a.Type != x.Type {
			return fmt.Errorf("%s: _FillValue of type %s on a %s variable (NetCDF: Not a valid data type or _FillValue type mismatch)", where, a.Type, x.Type)
		}
		if attrLen(a) != 1 {
			return fmt.Errorf("%s: _FillValue must have one value, has %d (NetCDF: Invalid argument)", where, attrLen(a))
		}
	}
	return nil
}

func (v *validator) attrs(where string, as []ncmodel.Attr) error {
	seen := make(map[string]bool)
	for _, a := range as {
		if a.Name == "" {
			return fmt.Errorf("%s: an attribute needs a name", where)
		}
		if seen[a.Name] {
			return fmt.Errorf("%s: attribute %q given twice", where, a.Name)
		}
		seen[a.Name] = true
		if !v.typeOK(a.Type) {
			return fmt.Errorf("%s: attribute %q: format %s cannot hold type %s", where, a.Name, v.format, a.Type)
		}
		if !valueMatches(a.Type, a.Value) {
			return fmt.Errorf("%s: attribute %q of type %s holds a %T", where, a.Name, a.Type, a.Value)
		}
	}
	return nil
}

// visible reports whether d is defined, by identity, in g or an ancestor.
func visible(g *ncmodel.Group, d *ncmodel.Dim) bool {
	for x := g; x != nil; x = x.Parent {
		for _, y := range x.Dims {
			if y == d {
				return true
			}
		}
	}
	return false
}

// groupPath works before Parent pointers are trusted: validation walks
// the tree with its own parent.
func groupPath(g, parent *ncmodel.Group) string {
	if parent == nil {
		return "/"
	}
	p := groupPath(parent, parent.Parent)
	if p == "/" {
		return "/" + g.Name
	}
	return p + "/" + g.Name
}
