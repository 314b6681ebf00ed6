package memfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/subsetd/subsetd/ncmodel"
)

// The encoding of Bytes: one JSON document, {"memfile": 1, ...}, the
// description in file order and every value, numbers as raw bytes in this
// machine's byte order (as ncmodel.Array holds them).
type encFile struct {
	Memfile int      `json:"memfile"`
	Format  string   `json:"format"`
	Root    encGroup `json:"root"`
}

type encGroup struct {
	Name   string     `json:"name,omitempty"`
	Attrs  []encAttr  `json:"attrs,omitempty"`
	Dims   []encDim   `json:"dims,omitempty"`
	Vars   []encVar   `json:"vars,omitempty"`
	Groups []encGroup `json:"groups,omitempty"`
}

type encDim struct {
	Name      string `json:"name"`
	Len       int    `json:"len"`
	Unlimited bool   `json:"unlimited,omitempty"`
}

// encValues holds the values of an attribute or a variable: Text for a
// Char attribute, Strings for the String type, Raw for numbers.
type encValues struct {
	Text    *string  `json:"text,omitempty"`
	Strings []string `json:"strings,omitempty"`
	Raw     []byte   `json:"raw,omitempty"`
}

type encAttr struct {
	Name string       `json:"name"`
	Type ncmodel.Type `json:"type"`
	encValues
}

type encVar struct {
	Name    string       `json:"name"`
	Type    ncmodel.Type `json:"type"`
	Dims    []string     `json:"dims,omitempty"` // dimPath of each
	Attrs   []encAttr    `json:"attrs,omitempty"`
	Chunks  []int        `json:"chunks,omitempty"`
	Deflate int          `json:"deflate,omitempty"`
	Shuffle bool         `json:"shuffle,omitempty"`
	encValues
}

const encVersion = 1

// ErrNotMemfile is the error of Decode for bytes that are not an encoded
// file.
var ErrNotMemfile = errors.New("not an encoded in-memory file")

// Bytes encodes the file's description and values deterministically: the
// in-memory stand-in for the bytes of a file on disk, so that a size or a
// checksum of an in-memory output changes when, and only when, its
// contents do. Decode reads it back.
func (f *File) Bytes() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	var group func(g *ncmodel.Group) encGroup
	group = func(g *ncmodel.Group) encGroup {
		e := encGroup{Name: g.Name, Attrs: encAttrs(g.Attrs)}
		for _, d := range g.Dims {
			e.Dims = append(e.Dims, encDim{Name: d.Name, Len: d.Len, Unlimited: d.Unlimited})
		}
		for _, v := range g.Vars {
			ev := encVar{Name: v.Name, Type: v.Type, Attrs: encAttrs(v.Attrs), Chunks: v.Chunks, Deflate: v.Deflate, Shuffle: v.Shuffle}
			for _, d := range v.Dims {
				ev.Dims = append(ev.Dims, dimPath(d))
			}
			a := f.readLocked(v, make([]int, len(v.Dims)), v.Shape(), nil)
			if v.Type == ncmodel.String {
				ev.Strings = a.Strings
			} else {
				ev.Raw = a.Data
			}
			e.Vars = append(e.Vars, ev)
		}
		for _, c := range g.Groups {
			e.Groups = append(e.Groups, group(c))
		}
		return e
	}
	b, err := json.Marshal(encFile{Memfile: encVersion, Format: string(f.desc.Format), Root: group(f.desc.Root)})
	if err != nil {
		panic(fmt.Sprintf("memfile.Bytes: %v", err)) // only Go values of fixed types: cannot happen
	}
	return b
}

func encAttrs(as []ncmodel.Attr) []encAttr {
	var out []encAttr
	for _, a := range as {
		e := encAttr{Name: a.Name, Type: a.Type}
		switch a.Type {
		case ncmodel.Char:
			t := a.Text()
			e.Text = &t
		case ncmodel.String:
			e.Strings, _ = a.Value.([]string)
		default:
			e.Raw = attrBytes(a)
		}
		out = append(out, e)
	}
	return out
}

// dimPath names a dimension by the group that defines it: "/lat" in the
// root, "/g/lat" below it.
func dimPath(d *ncmodel.Dim) string {
	return strings.TrimSuffix(d.Group.Path(), "/") + "/" + d.Name
}

// Decode reads back what Bytes wrote, as the file at path (a file's bytes
// do not hold its path); other bytes give an error wrapping ErrNotMemfile.
func Decode(path string, b []byte) (*File, error) {
	var e encFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Memfile != encVersion {
		return nil, ErrNotMemfile
	}
	desc := &ncmodel.File{Path: path, Format: ncmodel.Format(e.Format)}
	dims := map[string]*ncmodel.Dim{}
	type pending struct {
		v *ncmodel.Var
		encValues
	}
	var values []pending
	var group func(e encGroup, parent *ncmodel.Group) (*ncmodel.Group, error)
	group = func(e encGroup, parent *ncmodel.Group) (*ncmodel.Group, error) {
		g := &ncmodel.Group{Name: e.Name, Parent: parent}
		var err error
		if g.Attrs, err = decAttrs(e.Attrs); err != nil {
			return nil, fmt.Errorf("group %s: %w", g.Path(), err)
		}
		for _, d := range e.Dims {
			x := &ncmodel.Dim{Name: d.Name, Len: d.Len, Unlimited: d.Unlimited, Group: g}
			g.Dims = append(g.Dims, x)
			dims[dimPath(x)] = x
		}
		for _, ev := range e.Vars {
			v := &ncmodel.Var{Name: ev.Name, Type: ev.Type, Group: g, Chunks: ev.Chunks, Deflate: ev.Deflate, Shuffle: ev.Shuffle}
			for _, p := range ev.Dims {
				d := dims[p]
				if d == nil {
					return nil, fmt.Errorf("%w: variable %s: no dimension %s", ErrNotMemfile, v.Path(), p)
				}
				v.Dims = append(v.Dims, d)
			}
			if v.Attrs, err = decAttrs(ev.Attrs); err != nil {
				return nil, fmt.Errorf("variable %s: %w", v.Path(), err)
			}
			g.Vars = append(g.Vars, v)
			values = append(values, pending{v, ev.encValues})
		}
		for _, c := range e.Groups {
			sub, err := group(c, g)
			if err != nil {
				return nil, err
			}
			g.Groups = append(g.Groups, sub)
		}
		return g, nil
	}
	var err error
	if desc.Root, err = group(e.Root, nil); err != nil {
		return nil, err
	}
	for _, p := range values {
		a := &ncmodel.Array{Type: p.v.Type, Shape: p.v.Shape(), Data: p.Raw, Strings: p.Strings}
		if p.v.Type == ncmodel.String && a.Strings == nil {
			a.Strings = []string{}
		}
		if err := checkArray(a); err != nil {
			return nil, fmt.Errorf("%w: variable %s: %v", ErrNotMemfile, p.v.Path(), err)
		}
	}
	f := New(desc)
	f.fill = true
	for _, p := range values {
		f.SetData(p.v.Path(), &ncmodel.Array{Type: p.v.Type, Shape: p.v.Shape(), Data: p.Raw, Strings: p.Strings})
	}
	return f, nil
}

func decAttrs(es []encAttr) ([]ncmodel.Attr, error) {
	var out []ncmodel.Attr
	for _, e := range es {
		a := ncmodel.Attr{Name: e.Name, Type: e.Type}
		switch {
		case e.Type == ncmodel.Char && e.Text != nil:
			a.Value = *e.Text
		case e.Type == ncmodel.String:
			a.Value = append([]string{}, e.Strings...)
		case e.Type.Valid() && e.Type != ncmodel.Char && len(e.Raw)%e.Type.Size() == 0:
			a.Value = ncmodel.DecodeValues(e.Type, e.Raw)
		default:
			return nil, fmt.Errorf("%w: attribute %s of type %s", ErrNotMemfile, e.Name, e.Type)
		}
		out = append(out, a)
	}
	return out, nil
}
