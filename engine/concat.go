package engine

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/subsetd/subsetd/cftime"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/ncmodel"
)

// concatSource presents files that split one time series (one file per
// day, say) as a single file concatenated along time, as NCO's ncrcat
// would make it: the first file's description and attributes, time values
// rebased to the first file's units, files in time order, time steps that
// an earlier file already holds taken once.
type concatSource struct {
	srcs   []ncmodel.Source
	ref    int // the earliest file: its description, its values of variables without time
	file   *ncmodel.File
	tdim   *ncmodel.Dim                     // the time dimension of the earliest file
	otdim  *ncmodel.Dim                     // the time dimension of file
	steps  []step                           // output time step -> file and index
	vars   map[*ncmodel.Var][]*ncmodel.Var  // output var -> the var in each file
	rebase map[*ncmodel.Var][]*cftime.Units // time-valued vars: each file's units (nil when equal to the first's)
	units  cftime.Units
	notes  []string
}

type step struct{ file, index int }

var _ ncmodel.Source = (*concatSource)(nil)

// newConcat checks that the files share one grid and orders their steps.
// It takes ownership of srcs (closing them on Close).
func newConcat(srcs []ncmodel.Source) (*concatSource, error) {
	first := srcs[0].File()
	c := &concatSource{srcs: srcs, vars: map[*ncmodel.Var][]*ncmodel.Var{}, rebase: map[*ncmodel.Var][]*cftime.Units{}}
	co := FindCoords(first)
	tvar := co.MainTime(first)
	if tvar == nil {
		return nil, errs.E(errs.Invalid, "%s has no time coordinate: its files cannot be joined along time", baseName(first.Path))
	}
	units, err := TimeAxis(tvar)
	if err != nil {
		return nil, errs.E(errs.Invalid, "%s: cannot decode time %s: %v", baseName(first.Path), tvar.Path(), err)
	}
	c.units, c.tdim = units, tvar.Dims[0]
	// Every file must have the same variables on the same dimensions.
	type span struct {
		file       int
		units      cftime.Units
		vals       []float64 // in the file's own units
		start, end float64   // in the first file's units, for ordering
	}
	var spans []span
	for i, s := range srcs {
		f := s.File()
		if err := sameGrid(first, f, c.tdim); err != nil {
			return nil, err
		}
		tv := f.FindVar(tvar.Path())
		u, err := TimeAxis(tv)
		if err != nil {
			return nil, errs.E(errs.Invalid, "%s: cannot decode time: %v", baseName(f.Path), err)
		}
		vals, err := CoordValues(s, tv)
		if err != nil {
			return nil, errs.Wrap(errs.Unreadable, err, "reading time of %s", baseName(f.Path))
		}
		lo, hi := minMax(vals)
		if u != units && !math.IsNaN(lo) {
			if lo, err = rebaseValue(lo, u, units); err == nil {
				hi, err = rebaseValue(hi, u, units)
			}
			if err != nil {
				return nil, errs.E(errs.Invalid, "%s: %v", baseName(f.Path), err)
			}
		}
		spans = append(spans, span{i, u, vals, lo, hi})
	}
	// Time order; the earliest file gives the description and the units,
	// as the first file given to ncrcat does.
	sort.SliceStable(spans, func(a, b int) bool { return spans[a].start < spans[b].start })
	ref := spans[0].file
	c.ref = ref
	first = srcs[ref].File()
	units = spans[0].units
	c.units = units
	last := math.Inf(-1)
	var times []float64
	for _, sp := range spans {
		skipped := 0
		for k, v := range sp.vals {
			if sp.units != units && !math.IsNaN(v) {
				var err error
				if v, err = rebaseValue(v, sp.units, units); err != nil {
					return nil, errs.E(errs.Invalid, "%s: time %v: %v", baseName(srcs[sp.file].File().Path), sp.vals[k], err)
				}
			}
			if math.IsNaN(v) || v <= last {
				skipped++
				continue
			}
			c.steps = append(c.steps, step{sp.file, k})
			times = append(times, v)
			last = v
		}
		if skipped > 0 {
			c.notes = append(c.notes, fmt.Sprintf("%s: %d time step(s) already in an earlier file (or without a time) were taken once", baseName(srcs[sp.file].File().Path), skipped))
		}
	}
	c.notes = append(c.notes, gaps(times, units)...)
	tvar = first.FindVar(tvar.Path())
	c.tdim = tvar.Dims[0]
	// The output description: the first file's, the time dimension resized.
	c.file = cloneFile(first)
	for _, v := range c.file.Vars() {
		for _, d := range v.Dims {
			if d.Name == c.tdim.Name && d.Group.Path() == c.tdim.Group.Path() {
				d.Len = len(c.steps)
				c.otdim = d
			}
		}
	}
	for _, v := range c.file.Vars() {
		per := make([]*ncmodel.Var, len(srcs))
		for i, s := range srcs {
			per[i] = s.File().FindVar(v.Path())
		}
		c.vars[v] = per
	}
	// Time coordinates and their bounds are rebased.
	for _, v := range c.file.Vars() {
		if !strings.Contains(v.AttrString("units"), " since ") && v.Path() != boundsPath(tvar) {
			continue
		}
		us := make([]*cftime.Units, len(srcs))
		differ := false
		for i, s := range srcs {
			fv := s.File().FindVar(v.Path())
			unitsOf := fv
			if v.Path() == boundsPath(tvar) {
				unitsOf = s.File().FindVar(tvar.Path())
			}
			u, err := TimeAxis(unitsOf)
			if err != nil {
				continue
			}
			if u != units {
				us[i], differ = &u, true
			}
		}
		if differ {
			c.rebase[v] = us
		}
	}
	// The description keeps the first file's units: every value is
	// rebased to them.
	return c, nil
}

func boundsPath(v *ncmodel.Var) string {
	b := v.AttrString("bounds")
	if b == "" {
		return ""
	}
	if x := resolveVar(v.Group, b); x != nil {
		return x.Path()
	}
	return ""
}

func rebaseValue(v float64, from, to cftime.Units) (float64, error) {
	d, err := from.Decode(v)
	if err != nil {
		return 0, err
	}
	return to.Encode(d)
}

// gaps reports holes in a time series: steps more than 1.5 times the most
// common step apart.
func gaps(times []float64, u cftime.Units) []string {
	if len(times) < 3 {
		return nil
	}
	diffs := make([]float64, len(times)-1)
	for i := range diffs {
		diffs[i] = times[i+1] - times[i]
	}
	sorted := append([]float64(nil), diffs...)
	sort.Float64s(sorted)
	typical := sorted[len(sorted)/2]
	var out []string
	for i, d := range diffs {
		if d > 1.5*typical {
			a, err1 := u.Decode(times[i])
			b, err2 := u.Decode(times[i+1])
			if err1 == nil && err2 == nil {
				out = append(out, fmt.Sprintf("gap in time between %s and %s (%d missing step(s))", a, b, int(math.Round(d/typical))-1))
			}
		}
	}
	return out
}

// sameGrid checks that f has every variable of first with the same type and
// dimensions, lengths equal except along the time dimension.
func sameGrid(first, f *ncmodel.File, tdim *ncmodel.Dim) error {
	for _, v := range first.Vars() {
		x := f.FindVar(v.Path())
		if x == nil {
			return errs.E(errs.Invalid, "%s has no variable %s that %s has: the files do not form one time series", baseName(f.Path), v.Path(), baseName(first.Path))
		}
		if x.Type != v.Type || len(x.Dims) != len(v.Dims) {
			return errs.E(errs.Invalid, "variable %s differs between %s and %s (type or dimensions)", v.Path(), baseName(first.Path), baseName(f.Path))
		}
		for i, d := range v.Dims {
			if x.Dims[i].Name != d.Name || (d.Name != tdim.Name && x.Dims[i].Len != d.Len) {
				return errs.E(errs.Invalid, "variable %s: dimension %s is %d in %s but %s %d in %s: the files do not share one grid", v.Path(), d.Name, d.Len, baseName(first.Path), x.Dims[i].Name, x.Dims[i].Len, baseName(f.Path))
			}
		}
	}
	return nil
}

// cloneFile deep-copies a description.
func cloneFile(f *ncmodel.File) *ncmodel.File {
	dims := map[*ncmodel.Dim]*ncmodel.Dim{}
	var cg func(g, parent *ncmodel.Group) *ncmodel.Group
	cg = func(g, parent *ncmodel.Group) *ncmodel.Group {
		o := &ncmodel.Group{Name: g.Name, Parent: parent, Attrs: append([]ncmodel.Attr(nil), g.Attrs...)}
		for _, d := range g.Dims {
			nd := *d
			nd.Group = o
			dims[d] = &nd
			o.Dims = append(o.Dims, &nd)
		}
		for _, c := range g.Groups {
			o.Groups = append(o.Groups, cg(c, o))
		}
		return o
	}
	root := cg(f.Root, nil)
	groups := map[string]*ncmodel.Group{}
	root.Walk(func(g *ncmodel.Group) { groups[g.Path()] = g })
	f.Root.Walk(func(g *ncmodel.Group) {
		og := groups[g.Path()]
		for _, v := range g.Vars {
			nv := *v
			nv.Group = og
			nv.Attrs = append([]ncmodel.Attr(nil), v.Attrs...)
			nv.Dims = nil
			for _, d := range v.Dims {
				nv.Dims = append(nv.Dims, dims[d])
			}
			og.Vars = append(og.Vars, &nv)
		}
	})
	return &ncmodel.File{Path: f.Path, Format: f.Format, Root: root}
}

func (c *concatSource) File() *ncmodel.File { return c.file }

func (c *concatSource) Close() error {
	var first error
	for _, s := range c.srcs {
		if err := s.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Read reads a hyperslab, gathering time steps from the files that hold them.
func (c *concatSource) Read(v *ncmodel.Var, start, count, stride []int) (*ncmodel.Array, error) {
	per, ok := c.vars[v]
	if !ok {
		return nil, fmt.Errorf("read %s: variable does not belong to this file", v.Path())
	}
	if err := ncmodel.CheckSlab(v, start, count, stride); err != nil {
		return nil, fmt.Errorf("read %s: %w", v.Path(), err)
	}
	tp := -1
	for i, d := range v.Dims {
		if d.Name == c.tdim.Name && d.Len == len(c.steps) {
			tp = i
		}
	}
	if tp < 0 {
		return c.srcs[c.ref].Read(per[c.ref], start, count, stride)
	}
	st := 1
	if stride != nil {
		st = stride[tp]
	}
	out := ncmodel.NewArray(v.Type, count)
	// Runs of output steps that come from one file at a constant stride.
	k := 0
	for k < count[tp] {
		s0 := c.steps[start[tp]+k*st]
		n := 1
		for k+n < count[tp] {
			s := c.steps[start[tp]+(k+n)*st]
			if s.file != s0.file || s.index != s0.index+n*st {
				break
			}
			n++
		}
		fs, fc := append([]int(nil), start...), append([]int(nil), count...)
		fs[tp], fc[tp] = s0.index, n
		var fst []int
		if stride != nil {
			fst = append([]int(nil), stride...)
		}
		part, err := c.srcs[s0.file].Read(per[s0.file], fs, fc, fst)
		if err != nil {
			return nil, err
		}
		if us := c.rebase[v]; us != nil && us[s0.file] != nil {
			for i := 0; i < part.Len(); i++ {
				x := part.Float64(i)
				if y, err := rebaseValue(x, *us[s0.file], c.units); err == nil && !math.IsNaN(x) {
					part.SetFloat64(i, y)
				}
			}
		}
		place(out, part, tp, k)
		k += n
	}
	return out, nil
}

// stepFiles names the files the steps sel takes of the time dimension
// come from (nil: every step), in time order.
func (c *concatSource) stepFiles(sel *dimSel) []string {
	var out []string
	seen := map[int]bool{}
	add := func(k int) {
		if f := c.steps[k].file; !seen[f] {
			seen[f] = true
			out = append(out, baseName(c.srcs[f].File().Path))
		}
	}
	if sel == nil {
		for k := range c.steps {
			add(k)
		}
		return out
	}
	for _, r := range sel.runs {
		for k := r.Start; k < r.Start+r.Count; k += sel.stride {
			add(k)
		}
	}
	return out
}

// place copies part into out at offset k along axis p (other axes equal).
func place(out, part *ncmodel.Array, p, k int) {
	outer := ncmodel.Product(out.Shape[:p])
	inner := ncmodel.Product(out.Shape[p+1:])
	n := part.Shape[p]
	es := out.Type.Size()
	for o := 0; o < outer; o++ {
		src := o * n * inner
		dst := (o*out.Shape[p] + k) * inner
		if out.Type == ncmodel.String {
			copy(out.Strings[dst:dst+n*inner], part.Strings[src:src+n*inner])
			continue
		}
		copy(out.Data[dst*es:(dst+n*inner)*es], part.Data[src*es:(src+n*inner)*es])
	}
}
