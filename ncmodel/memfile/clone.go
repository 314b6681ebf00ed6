package memfile

import "github.com/subsetd/subsetd/ncmodel"

// Clone returns a deep copy of f: groups, dimensions, variables, attribute
// values and storage settings are all new, so mutating either copy never
// affects the other. Pointer identity is preserved inside the copy (two
// variables sharing a *Dim in f share one in the clone), and the Group and
// Parent back-pointers are set from the tree even where f left them nil.
func Clone(f *ncmodel.File) *ncmodel.File {
	if f == nil {
		return nil
	}
	out := &ncmodel.File{Path: f.Path, Format: f.Format}
	if f.Root == nil {
		return out
	}
	// Dimensions first, over the whole tree, because a variable may use a
	// dimension of any ancestor.
	dims := make(map[*ncmodel.Dim]*ncmodel.Dim)
	groups := make(map[*ncmodel.Group]*ncmodel.Group)
	out.Root = cloneGroups(f.Root, nil, dims, groups)
	for old, g := range groups {
		for _, v := range old.Vars {
			g.Vars = append(g.Vars, cloneVar(v, g, dims, groups))
		}
	}
	return out
}

func cloneGroups(g, parent *ncmodel.Group, dims map[*ncmodel.Dim]*ncmodel.Dim, groups map[*ncmodel.Group]*ncmodel.Group) *ncmodel.Group {
	c := &ncmodel.Group{Name: g.Name, Parent: parent, Attrs: CloneAttrs(g.Attrs)}
	groups[g] = c
	for _, d := range g.Dims {
		nd := &ncmodel.Dim{Name: d.Name, Len: d.Len, Unlimited: d.Unlimited, Group: c}
		dims[d] = nd
		c.Dims = append(c.Dims, nd)
	}
	for _, child := range g.Groups {
		c.Groups = append(c.Groups, cloneGroups(child, c, dims, groups))
	}
	return c
}

func cloneVar(v *ncmodel.Var, g *ncmodel.Group, dims map[*ncmodel.Dim]*ncmodel.Dim, groups map[*ncmodel.Group]*ncmodel.Group) *ncmodel.Var {
	c := &ncmodel.Var{
		Name:    v.Name,
		Type:    v.Type,
		Attrs:   CloneAttrs(v.Attrs),
		Group:   g,
		Deflate: v.Deflate,
		Shuffle: v.Shuffle,
	}
	if v.Chunks != nil {
		c.Chunks = append([]int(nil), v.Chunks...)
	}
	if v.Dims != nil {
		c.Dims = make([]*ncmodel.Dim, len(v.Dims))
	}
	for i, d := range v.Dims {
		if d == nil {
			continue
		}
		nd, ok := dims[d]
		if !ok {
			// A dimension outside the tree is a malformed description;
			// copy it anyway so Define can report it rather than Clone
			// hiding it.
			nd = &ncmodel.Dim{Name: d.Name, Len: d.Len, Unlimited: d.Unlimited, Group: groups[d.Group]}
			dims[d] = nd
		}
		c.Dims[i] = nd
	}
	return c
}

// CloneAttrs deep-copies attributes, including their value slices.
func CloneAttrs(as []ncmodel.Attr) []ncmodel.Attr {
	if as == nil {
		return nil
	}
	out := make([]ncmodel.Attr, len(as))
	for i, a := range as {
		out[i] = ncmodel.Attr{Name: a.Name, Type: a.Type, Value: cloneValue(a.Value)}
	}
	return out
}

func cloneValue(v any) any {
	switch x := v.(type) {
	case []int8:
		return append([]int8(nil), x...)
	case []int16:
		return append([]int16(nil), x...)
	case []int32:
		return append([]int32(nil), x...)
	case []float32:
		return append([]float32(nil), x...)
	case []float64:
		return append([]float64(nil), x...)
	case []uint8:
		return append([]uint8(nil), x...)
	case []uint16:
		return append([]uint16(nil), x...)
	case []uint32:
		return append([]uint32(nil), x...)
	case []int64:
		return append([]int64(nil), x...)
	case []uint64:
		return append([]uint64(nil), x...)
	case []string:
		return append([]string(nil), x...)
	}
	// Strings are immutable; anything else is malformed and left for
	// validation to report.
	return v
}

// CloneArray deep-copies an array.
func CloneArray(a *ncmodel.Array) *ncmodel.Array {
	if a == nil {
		return nil
	}
	c := &ncmodel.Array{Type: a.Type, Shape: append([]int(nil), a.Shape...)}
	if a.Data != nil {
		c.Data = append([]byte(nil), a.Data...)
	}
	if a.Strings != nil {
		c.Strings = append([]string(nil), a.Strings...)
	}
	return c
}
