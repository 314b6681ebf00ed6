package nccompare

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/subsetd/subsetd/ncmodel"
)

// DefaultIgnoreGlobalAttrs are the group attributes that record how and
// when a file was made rather than what it holds; they differ between any
// two runs of a tool.
var DefaultIgnoreGlobalAttrs = map[string]bool{
	"history":                   true,
	"NCO":                       true,
	"history_of_appended_files": true,
	"_NCProperties":             true,
}

// MaxReadBytes caps one Read during value comparison, so comparing large
// files needs bounded memory.
const MaxReadBytes = 64 << 20

// Options narrow a comparison. The zero value compares everything except
// DefaultIgnoreGlobalAttrs.
type Options struct {
	// Vars, if set, limits the comparison to these variables (full paths),
	// their dimensions and attributes, and the root group's attributes;
	// other variables and groups may differ freely.
	Vars []string
	// SkipValues names variables (full paths) whose values are not read:
	// their description is still compared.
	SkipValues map[string]bool
	// NoValues compares descriptions only.
	NoValues bool
	// IgnoreVarAttrs names attributes left out on every variable.
	IgnoreVarAttrs map[string]bool
	// IgnoreGlobalAttrs names attributes left out on every group; nil
	// means DefaultIgnoreGlobalAttrs, an empty map compares them all.
	IgnoreGlobalAttrs map[string]bool
	// IgnoreStorage is accepted for callers who want to say so; storage
	// (chunking, deflate, shuffle) is never compared.
	IgnoreStorage bool
	// MaxReadBytes caps one Read (MaxReadBytes if 0); tests lower it to
	// exercise slab boundaries.
	MaxReadBytes int
}

// Compare lists the differences between a and b, "A" being a and "B" b in
// the messages; none means equal. Read errors are reported as differences
// rather than returned, so one unreadable variable does not hide the rest.
func Compare(a, b ncmodel.Source, opt Options) []string {
	c := comparer{a: a, b: b, opt: opt}
	if c.opt.IgnoreGlobalAttrs == nil {
		c.opt.IgnoreGlobalAttrs = DefaultIgnoreGlobalAttrs
	}
	if c.opt.MaxReadBytes <= 0 {
		c.opt.MaxReadBytes = MaxReadBytes
	}
	fa, fb := a.File(), b.File()
	if fa == nil || fa.Root == nil || fb == nil || fb.Root == nil {
		return []string{"a file has no description"}
	}
	if len(opt.Vars) > 0 {
		c.attrs("global attributes", fa.Root.Attrs, fb.Root.Attrs, c.opt.IgnoreGlobalAttrs)
		for _, p := range opt.Vars {
			va, vb := fa.FindVar(p), fb.FindVar(p)
			switch {
			case va == nil && vb == nil:
				c.addf("variable %s: in neither file", p)
			case va == nil:
				c.addf("variable %s: only in B", p)
			case vb == nil:
				c.addf("variable %s: only in A", p)
			default:
				c.variable(va, vb, true)
			}
		}
		return c.out
	}
	c.group(fa.Root, fb.Root)
	return c.out
}

type comparer struct {
	a, b ncmodel.Source
	opt  Options
	out  []string
}

func (c *comparer) addf(format string, args ...any) {
	c.out = append(c.out, fmt.Sprintf(format, args...))
}

func (c *comparer) group(ga, gb *ncmodel.Group) {
	where := "group " + ga.Path()
	if ga.Parent == nil {
		c.attrs("global attributes", ga.Attrs, gb.Attrs, c.opt.IgnoreGlobalAttrs)
	} else {
		c.attrs(where+" attributes", ga.Attrs, gb.Attrs, c.opt.IgnoreGlobalAttrs)
	}

	da, db := byName(ga.Dims, func(d *ncmodel.Dim) string { return d.Name }), byName(gb.Dims, func(d *ncmodel.Dim) string { return d.Name })
	for _, name := range union(da, db) {
		x, y := da[name], db[name]
		switch {
		case y == nil:
			c.addf("dimension %s: only in A", joinPath(ga, name))
		case x == nil:
			c.addf("dimension %s: only in B", joinPath(ga, name))
		default:
			c.dim(joinPath(ga, name), x, y)
		}
	}

	va, vb := byName(ga.Vars, func(v *ncmodel.Var) string { return v.Name }), byName(gb.Vars, func(v *ncmodel.Var) string { return v.Name })
	for _, name := range union(va, vb) {
		x, y := va[name], vb[name]
		switch {
		case y == nil:
			c.addf("variable %s: only in A", joinPath(ga, name))
		case x == nil:
			c.addf("variable %s: only in B", joinPath(ga, name))
		default:
			c.variable(x, y, false)
		}
	}

	ca, cb := byName(ga.Groups, func(g *ncmodel.Group) string { return g.Name }), byName(gb.Groups, func(g *ncmodel.Group) string { return g.Name })
	for _, name := range union(ca, cb) {
		x, y := ca[name], cb[name]
		switch {
		case y == nil:
			c.addf("group %s: only in A", joinPath(ga, name))
		case x == nil:
			c.addf("group %s: only in B", joinPath(ga, name))
		default:
			c.group(x, y)
		}
	}
}

func (c *comparer) dim(where string, x, y *ncmodel.Dim) {
	if x.Len != y.Len {
		c.addf("dimension %s: length %d vs %d", where, x.Len, y.Len)
	}
	if x.Unlimited != y.Unlimited {
		c.addf("dimension %s: unlimited %t vs %t", where, x.Unlimited, y.Unlimited)
	}
}

// variable compares two variables of the same path. withDims also
// compares their dimensions, which a whole-file comparison does per group.
func (c *comparer) variable(x, y *ncmodel.Var, withDims bool) {
	where := "variable " + x.Path()
	valuesComparable := true
	if x.Type != y.Type {
		c.addf("%s: type %s vs %s", where, x.Type, y.Type)
		valuesComparable = false
	}
	if na, nb := dimNames(x), dimNames(y); !slices.Equal(na, nb) {
		c.addf("%s: dimensions (%s) vs (%s)", where, strings.Join(na, ", "), strings.Join(nb, ", "))
		valuesComparable = false
	} else if sa, sb := x.Shape(), y.Shape(); !slices.Equal(sa, sb) {
		c.addf("%s: shape %v vs %v", where, sa, sb)
		valuesComparable = false
	}
	if withDims && len(x.Dims) == len(y.Dims) {
		for i := range x.Dims {
			if x.Dims[i].Unlimited != y.Dims[i].Unlimited {
				c.addf("%s: dimension %s unlimited %t vs %t", where, x.Dims[i].Name, x.Dims[i].Unlimited, y.Dims[i].Unlimited)
			}
		}
	}
	c.attrs(where+" attributes", x.Attrs, y.Attrs, c.opt.IgnoreVarAttrs)
	if valuesComparable && !c.opt.NoValues && !c.opt.SkipValues[x.Path()] {
		c.values(x, y)
	}
}

func (c *comparer) attrs(where string, xs, ys []ncmodel.Attr, ignore map[string]bool) {
	ax := make(map[string]ncmodel.Attr)
	ay := make(map[string]ncmodel.Attr)
	for _, a := range xs {
		if !ignore[a.Name] {
			ax[a.Name] = a
		}
	}
	for _, a := range ys {
		if !ignore[a.Name] {
			ay[a.Name] = a
		}
	}
	for _, name := range union(ax, ay) {
		x, okx := ax[name]
		y, oky := ay[name]
		switch {
		case !oky:
			c.addf("%s: %q only in A (%s)", where, name, attrValue(x))
		case !okx:
			c.addf("%s: %q only in B (%s)", where, name, attrValue(y))
		default:
			if ok, msg := EqualAttrs(x, y); !ok {
				c.addf("%s: %q %s", where, name, msg)
			}
		}
	}
}

// values reads both variables slab by slab and compares raw values.
func (c *comparer) values(x, y *ncmodel.Var) {
	where := "variable " + x.Path()
	shape := x.Shape()
	total, differ := 0, 0
	var shown []string
	failed := false
	slabs(shape, elemBytes(x.Type), c.opt.MaxReadBytes, func(start, count []int) bool {
		ra, err := c.a.Read(x, start, count, nil)
		if err != nil {
			c.addf("%s: read A start %v count %v: %v", where, start, count, err)
			failed = true
			return false
		}
		rb, err := c.b.Read(y, start, count, nil)
		if err != nil {
			c.addf("%s: read B start %v count %v: %v", where, start, count, err)
			failed = true
			return false
		}
		for _, r := range []struct {
			name string
			a    *ncmodel.Array
		}{{"A", ra}, {"B", rb}} {
			if r.a == nil || r.a.Type != x.Type || r.a.Len() != ncmodel.Product(count) {
				c.addf("%s: read %s start %v count %v returned %s, want %s%v", where, r.name, start, count, arrayString(r.a), x.Type, count)
				failed = true
				return false
			}
			if err := wellFormed(r.a); err != nil {
				c.addf("%s: read %s start %v count %v: %v", where, r.name, start, count, err)
				failed = true
				return false
			}
		}
		n, s := diffs(ra, rb, func(k int) []int {
			idx := unravel(k, count)
			for i := range idx {
				idx[i] += start[i]
			}
			return idx
		})
		total += ncmodel.Product(count)
		differ += n
		for _, item := range s {
			if len(shown) < maxShown {
				shown = append(shown, item)
			}
		}
		return true
	})
	if differ > 0 {
		more := ""
		if failed {
			more = " before a read failed"
		}
		c.addf("%s: %d of %d values differ%s: %s", where, differ, total, more, strings.Join(shown, ", "))
	}
}

// elemBytes is the memory one value takes once read; strings are guessed
// at, since their length is only known after reading.
func elemBytes(t ncmodel.Type) int {
	if t == ncmodel.String {
		return 64
	}
	return max(t.Size(), 1)
}

// slabs splits a variable of the given shape into hyperslabs of at most
// maxBytes, in C order: whole outer rows while they fit, single indices of
// the outer dimensions and blocks of an inner one when a row alone is too
// big. fn returns false to stop.
func slabs(shape []int, elem, maxBytes int, fn func(start, count []int) bool) {
	r := len(shape)
	if r == 0 {
		fn(nil, nil)
		return
	}
	if ncmodel.Product(shape) == 0 {
		return
	}
	// d is the outermost dimension whose inner block fits in maxBytes; the
	// dimensions before it are read one index at a time.
	d := r - 1
	for i := 0; i < r; i++ {
		if ncmodel.Product(shape[i+1:])*elem <= maxBytes {
			d = i
			break
		}
	}
	block := max(1, maxBytes/(ncmodel.Product(shape[d+1:])*elem))
	block = min(block, shape[d])
	start := make([]int, r)
	for {
		count := make([]int, r)
		for i := range count {
			switch {
			case i < d:
				count[i] = 1
			case i == d:
				count[i] = min(block, shape[d]-start[d])
			default:
				count[i] = shape[i]
			}
		}
		if !fn(slices.Clone(start), count) {
			return
		}
		i := d
		start[i] += count[i]
		for start[i] >= shape[i] {
			start[i] = 0
			i--
			if i < 0 {
				return
			}
			start[i]++
		}
	}
}

func dimNames(v *ncmodel.Var) []string {
	out := make([]string, len(v.Dims))
	for i, d := range v.Dims {
		out[i] = d.Name
	}
	return out
}

func byName[T any](xs []T, name func(T) string) map[string]T {
	m := make(map[string]T, len(xs))
	for _, x := range xs {
		m[name(x)] = x
	}
	return m
}

func union[T any](a, b map[string]T) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func joinPath(g *ncmodel.Group, name string) string {
	p := g.Path()
	if p == "/" {
		return "/" + name
	}
	return p + "/" + name
}
