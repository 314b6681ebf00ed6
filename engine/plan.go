package engine

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/regions"
)

// dimSel is the selection along one dimension: runs of input indices taken
// with a stride, concatenated in the output.
type dimSel struct {
	runs   []regions.Run
	stride int
}

func (s *dimSel) outLen() int {
	n := 0
	for _, r := range s.runs {
		n += outCount(r.Count, s.stride)
	}
	return n
}

func outCount(count, stride int) int { return (count + stride - 1) / stride }

// filePlan is what to do with one input file.
type filePlan struct {
	src       ncmodel.Source
	file      *ncmodel.File
	coords    Coords
	vars      []*ncmodel.Var           // output variables, in file order
	allVars   bool                     // no variable list given: keep every dimension
	common    map[*ncmodel.Dim]*dimSel // time, vertical and strided dimensions
	regions   []*regionPlan
	coordVals map[*ncmodel.Var][]float64
	gridDims  map[*ncmodel.Dim]bool         // horizontal dimensions of every grid
	noMask    map[*ncmodel.Var]bool         // coordinates and bounds: never masked
	lonVars   map[*ncmodel.Var]*ncmodel.Dim // longitude coordinates and bounds -> the longitude dimension whose shifts they follow
	varGrid   map[*ncmodel.Var][]int        // the grids (indices in coords.Grids) of each variable, none when off every grid
	noTime    map[*ncmodel.Dim]bool         // time dimensions with no step in the time range: their variables are left out
	rule      string                        // the selection rule: SelectCentre or SelectOverlap
	notes     []string
}

// regionPlan is the part of a plan that depends on the region.
type regionPlan struct {
	index   int
	name    string
	area    regions.Area
	empty   string // why nothing is selected, or ""
	sel     map[*ncmodel.Dim]*dimSel
	masks   []*gridMask
	missed  map[int]bool          // grids the region misses: their variables are left out
	dropped map[*ncmodel.Dim]bool // dimensions only those grids have: variables on them are left out too
	extent  *regionMeta           // lat/lon extent of the selected cells
	failed  error                 // a bug met while planning this region
}

// gridMask marks which cells of a region's output are inside the region,
// over the output index space of the grid's horizontal dimensions. It
// applies to the variables of its grid.
type gridMask struct {
	dims   []*ncmodel.Dim // input dimensions, in the grid's order
	shape  []int          // output lengths of dims
	inside []bool
	grids  []int                  // the grids whose variables it masks
	of     map[*ncmodel.Var][]int // the plan's varGrid
}

// selFor returns the selection of d in region rp ("" region: common only).
func (p *filePlan) selFor(rp *regionPlan, d *ncmodel.Dim) *dimSel {
	if rp != nil {
		if s, ok := rp.sel[d]; ok {
			return s
		}
	}
	if s, ok := p.common[d]; ok {
		return s
	}
	return nil
}

// leftOut reports whether variable v has no place in region rp's output:
// it lies on a grid the region misses, or on a dimension with nothing
// selected (a time axis without a step in the time range).
func (p *filePlan) leftOut(rp *regionPlan, v *ncmodel.Var) bool {
	if set := p.varGrid[v]; len(set) > 0 {
		all := true
		for _, g := range set {
			all = all && rp.missed[g]
		}
		if all {
			return true
		}
	}
	for _, d := range v.Dims {
		if rp.dropped[d] || p.noTime[d] {
			return true
		}
	}
	return false
}

// writes reports whether v is one of region rp's output variables.
func (p *filePlan) writes(rp *regionPlan, v *ncmodel.Var) bool {
	return slices.Contains(p.vars, v) && !p.leftOut(rp, v)
}

// keeps reports whether some variable of region rp's output lies on d.
func (p *filePlan) keeps(rp *regionPlan, d *ncmodel.Dim) bool {
	for _, v := range p.vars {
		for _, x := range v.Dims {
			if x == d && !p.leftOut(rp, v) {
				return true
			}
		}
	}
	return false
}

func (p *filePlan) strideFor(d *ncmodel.Dim, stride map[string]int) int {
	if s, ok := stride[d.Name]; ok {
		return s
	}
	if c, ok := p.coords.Axes[d]; ok {
		if s, ok := stride[string(c.Axis)]; ok {
			return s
		}
	}
	return 1
}

// plan prepares the cut of every region from one file.
func plan(src ncmodel.Source, req *Request, areas []regions.Resolved) (*filePlan, error) {
	f := src.File()
	name := baseName(f.Path)
	p := &filePlan{src: src, file: f, coords: FindCoords(f), common: map[*ncmodel.Dim]*dimSel{}, lonVars: map[*ncmodel.Var]*ncmodel.Dim{},
		gridDims: map[*ncmodel.Dim]bool{}, noTime: map[*ncmodel.Dim]bool{}, rule: req.selectRule()}
	vars, err := selectVars(f, req.Variables)
	if err != nil {
		return nil, err
	}
	p.vars, p.allVars = vars, len(req.Variables) == 0

	grids := p.coords.Grids
	if len(grids) == 0 {
		return nil, errs.E(errs.Invalid, "%s: no latitude/longitude coordinates found (looked for CF standard_name, units degrees_north/degrees_east, axis and names lat/lon)", name)
	}
	p.varGrid = assignGrids(f, p.coords)
	p.noMask = map[*ncmodel.Var]bool{}
	for _, g := range grids {
		p.noMask[g.Lat], p.noMask[g.Lon] = true, true
		for _, d := range g.Dims() {
			p.gridDims[d] = true
		}
		for _, c := range []*ncmodel.Var{g.Lat, g.Lon} {
			if b := boundsVar(f, c); b != nil {
				p.noMask[b] = true
			}
		}
		if g.Kind == Rectilinear {
			p.addLonVar(f, g.Lon, g.Lon.Dims[0])
		}
	}
	// Every other longitude on a shifted dimension follows it (a copy of
	// the coordinate in a group, as in NCO's in_grp.cdl): the output has one
	// longitude convention.
	for _, v := range f.Vars() {
		if len(v.Dims) == 1 && AxisOf(v) == AxisLon {
			if c, ok := p.coords.Axes[v.Dims[0]]; ok && p.lonVars[c.Var] != nil {
				p.addLonVar(f, v, v.Dims[0])
			}
		}
	}
	for _, v := range f.Vars() {
		if v.IsCoordinate() {
			p.noMask[v] = true
		}
		// Auxiliary coordinates and cell measures describe cells, whatever
		// region they are in: they keep their values.
		names := strings.Fields(v.AttrString("coordinates"))
		for _, f := range strings.Fields(v.AttrString("cell_measures")) {
			if !strings.HasSuffix(f, ":") {
				names = append(names, f)
			}
		}
		for _, n := range names {
			if c := resolveVar(v.Group, n); c != nil {
				p.noMask[c] = true
			}
		}
	}

	// Strides on dimensions the file has, a vertical range on a file with
	// a vertical axis: the rule the server checks at submission.
	if err := req.CheckData(name, describeDims(f, p.coords)); err != nil {
		return nil, err
	}

	// The grids the output variables lie on, their coordinates read once;
	// the others play no part (when no output variable lies on a grid,
	// every grid decides whether the region meets the data).
	used := map[int]bool{}
	for _, v := range p.vars {
		for _, g := range p.varGrid[v] {
			used[g] = true
		}
	}
	var gv []*gridVals
	for i, g := range grids {
		if len(used) > 0 && !used[i] {
			continue
		}
		lat, err := CoordValues(src, g.Lat)
		if err != nil {
			return nil, errs.Wrap(errs.Unreadable, err, "%s: reading latitude %s", name, g.Lat.Path())
		}
		lon, err := CoordValues(src, g.Lon)
		if err != nil {
			return nil, errs.Wrap(errs.Unreadable, err, "%s: reading longitude %s", name, g.Lon.Path())
		}
		if g.Kind == Rectilinear {
			for _, c := range []struct {
				v    *ncmodel.Var
				vals []float64
			}{{g.Lat, lat}, {g.Lon, lon}} {
				if n := missingNote(c.v, c.vals); n != "" {
					p.notes = append(p.notes, name+": "+n)
				}
			}
		}
		gv = append(gv, newGridVals(src, p.coords, g, i, lat, lon, p.varGrid))
	}
	if err := p.planTime(req, gv); err != nil {
		return nil, err
	}
	if err := p.planVertical(req); err != nil {
		return nil, err
	}
	for _, v := range f.Vars() {
		for _, d := range v.Dims {
			if _, ok := p.common[d]; ok {
				continue
			}
			if s := p.strideFor(d, req.Stride); s > 1 {
				if p.gridDims[d] {
					continue // applied per region
				}
				p.common[d] = &dimSel{runs: []regions.Run{{Start: 0, Count: d.Len}}, stride: s}
			}
		}
	}
	for i, a := range areas {
		rp := &regionPlan{index: i, name: a.Name, area: a.Area, sel: map[*ncmodel.Dim]*dimSel{}, missed: map[int]bool{}, dropped: map[*ncmodel.Dim]bool{}}
		rp.failed = guard(fmt.Sprintf("selecting region %s in %s", a.Name, name), func() error {
			p.planRegion(rp, gv, a, req.Stride)
			return nil
		})
		p.regions = append(p.regions, rp)
	}
	return p, nil
}

// addLonVar records that longitude v (and its bounds) shift with the
// selection of dimension d.
func (p *filePlan) addLonVar(f *ncmodel.File, v *ncmodel.Var, d *ncmodel.Dim) {
	p.lonVars[v] = d
	if b := boundsVar(f, v); b != nil && len(b.Dims) == 2 && b.Dims[0] == d {
		p.lonVars[b] = d
	}
}

// planRegion selects a region's cells on every grid, joins the grids'
// selections on the dimensions they share, and masks each grid's
// variables by its own positions.
func (p *filePlan) planRegion(rp *regionPlan, gv []*gridVals, a regions.Resolved, stride map[string]int) {
	name := baseName(p.file.Path)
	var cuts []*gridCut
	var missed []string
	between, gap := false, false
	for _, x := range gv {
		c, why, miss := p.cut(x, a)
		if c == nil {
			missed = append(missed, why)
			between, gap = between || miss == missBetween, gap || miss == missGap
			rp.missed[x.index] = true
			continue
		}
		cuts = append(cuts, c)
	}
	if len(cuts) == 0 {
		switch {
		case between:
			rp.empty = fmt.Sprintf("region %s %v lies between the cell centres of the data of %s (%s): widen it or use select=overlap", rp.name, a.Area.Bounds(), name, strings.Join(missed, "; "))
		case gap:
			rp.empty = fmt.Sprintf("region %s %v lies inside the data of %s but meets none of its cells (%s)", rp.name, a.Area.Bounds(), name, strings.Join(missed, "; "))
		default:
			rp.empty = fmt.Sprintf("region %s %v does not intersect the data of %s (%s)", rp.name, a.Area.Bounds(), name, strings.Join(missed, "; "))
		}
		return
	}
	// One selection per dimension: where grids share a dimension, the
	// smallest range holding every grid's.
	type part struct {
		runs     []regions.Run
		periodic bool
		x        *gridVals
	}
	parts := map[*ncmodel.Dim][]part{}
	var order []*ncmodel.Dim
	for _, c := range cuts {
		for i, d := range c.x.dims {
			if _, seen := parts[d]; !seen {
				order = append(order, d)
			}
			parts[d] = append(parts[d], part{c.runs[i], c.x.periodic[i], c.x})
		}
	}
	for _, d := range order {
		ps := parts[d]
		runs := ps[0].runs
		for _, q := range ps[1:] {
			if fmt.Sprint(q.runs) != fmt.Sprint(runs) {
				marked := make([]bool, d.Len)
				periodic := false
				for _, q := range ps {
					periodic = periodic || q.periodic
					for _, r := range q.runs {
						for i := r.Start; i < r.Start+r.Count; i++ {
							marked[i] = true
						}
					}
				}
				runs = regions.CoverRuns(marked, periodic)
				for _, q := range ps {
					if q.x.g.Kind == Rectilinear && q.x.dims[1] == d {
						runs = regions.ShiftRuns(q.x.lon, runs, a.Area.Bounds().West, q.x.lonTol)
						break
					}
				}
				break
			}
		}
		rp.sel[d] = &dimSel{runs: runs, stride: p.strideFor(d, stride)}
	}
	// One mask per set of grids variables lie on: a cell is inside when
	// it is inside on any grid of the set.
	byGrid := map[int]*gridCut{}
	for _, c := range cuts {
		byGrid[c.x.index] = c
	}
	var sets [][]int
	for _, v := range p.vars {
		set := p.varGrid[v]
		if len(set) == 0 || p.noMask[v] {
			continue
		}
		if !slices.ContainsFunc(sets, func(s []int) bool { return slices.Equal(s, set) }) {
			sets = append(sets, set)
		}
	}
	for _, c := range cuts {
		p.setCutExtent(rp, c)
	}
	for _, set := range sets {
		var cs []*gridCut
		for _, g := range set {
			if c := byGrid[g]; c != nil {
				cs = append(cs, c)
			}
		}
		if len(cs) == 0 {
			continue
		}
		if m := p.maskOf(rp, cs, set); m != nil && a.Mask {
			rp.masks = append(rp.masks, m)
		}
	}
	for _, x := range gv {
		if !rp.missed[x.index] {
			continue
		}
		for _, d := range x.dims {
			if _, kept := rp.sel[d]; !kept {
				rp.dropped[d] = true
			}
		}
	}
}

// setExtent adds the cells a grid keeps (their centres) to the region's
// extent: latitudes' range, and the shortest arc of longitude holding them
// (regions.LonExtent), joined over the grids of the file.
func (p *filePlan) setExtent(rp *regionPlan, lat, lon []float64, _ []bool) {
	s, n := minMax(lat)
	w, e, ok := regions.LonExtent(lon)
	if math.IsNaN(s) || !ok {
		return
	}
	m := rp.extent
	if m == nil {
		rp.extent = &regionMeta{latMin: s, latMax: n, lonWest: w, lonEast: e}
		return
	}
	m.latMin, m.latMax = math.Min(m.latMin, s), math.Max(m.latMax, n)
	span := func(w, e float64) [2]float64 {
		if e < w {
			e += 360
		}
		return [2]float64{w, e}
	}
	west, east, whole := regions.CoverArc([][2]float64{span(m.lonWest, m.lonEast), span(w, e)})
	if whole {
		m.lonWest, m.lonEast = -180, 180
		return
	}
	m.lonWest, m.lonEast = west, regions.Normalize180(east)
}

// missingNote says what a coordinate variable with missing values (fill,
// missing_value, outside its valid range, NaN: CF allows none in a
// coordinate variable) means for a cut, "" when it has none. Those cells
// are never selected; a cut is the smallest range holding the valid cells
// selected, going over the missing ones between them.
func missingNote(v *ncmodel.Var, vals []float64) string {
	var at []string
	for i, x := range vals {
		if math.IsNaN(x) {
			at = append(at, fmt.Sprint(i))
		}
	}
	if len(at) == 0 {
		return ""
	}
	if len(at) > 5 {
		at = append(at[:5], "...")
	}
	return fmt.Sprintf("coordinate %s is damaged: %d of its %d values are missing (fill, missing_value, outside valid_range or NaN) at index %s: those cells are never selected by their position, only kept between selected cells", v.Path(), countNaN(vals), len(vals), strings.Join(at, ", "))
}

func countNaN(vals []float64) int {
	n := 0
	for _, x := range vals {
		if math.IsNaN(x) {
			n++
		}
	}
	return n
}

func extent(vals []float64) string {
	lo, hi := minMax(vals)
	if math.IsNaN(lo) {
		return "no valid values"
	}
	return fmt.Sprintf("%g..%g", lo, hi)
}

func (p *filePlan) planVertical(req *Request) error {
	if req.Vertical == nil || (req.Vertical.Min == nil && req.Vertical.Max == nil) {
		return nil
	}
	lo, hi := math.Inf(-1), math.Inf(1)
	if req.Vertical.Min != nil {
		lo = *req.Vertical.Min
	}
	if req.Vertical.Max != nil {
		hi = *req.Vertical.Max
	}
	found := false
	var extents []string
	for _, d := range sortedDims(p.coords.Axes) {
		c := p.coords.Axes[d]
		if c.Axis != AxisVertical {
			continue
		}
		vals, err := CoordValues(p.src, c.Var)
		if err != nil {
			return errs.Wrap(errs.Unreadable, err, "%s: reading vertical coordinate %s", baseName(p.file.Path), c.Var.Path())
		}
		run, ok := regions.ValueRange(vals, lo, hi, regions.Tolerance(c.Var.Type == ncmodel.Float))
		if !ok {
			extents = append(extents, fmt.Sprintf("%s %s %s", c.Var.Name, extent(vals), c.Var.AttrString("units")))
			continue
		}
		found = true
		p.common[d] = &dimSel{runs: []regions.Run{run}, stride: p.strideFor(d, req.Stride)}
	}
	if !found { // CheckData saw a vertical axis
		return errs.F(errs.Invalid, "vertical", "range %s..%s selects no level (%s)", fmtBound(lo), fmtBound(hi), strings.Join(extents, "; "))
	}
	return nil
}

func fmtBound(x float64) string {
	if math.IsInf(x, 0) {
		return ""
	}
	return fmt.Sprint(x)
}

func sortedDims(m map[*ncmodel.Dim]Coord) []*ncmodel.Dim {
	out := make([]*ncmodel.Dim, 0, len(m))
	for d := range m {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return m[out[i]].Var.Path() < m[out[j]].Var.Path() })
	return out
}

// selectVars returns the output variables: those asked for (all when none)
// and every variable they reference (coordinates, bounds, grid mappings...).
func selectVars(f *ncmodel.File, names []string) ([]*ncmodel.Var, error) {
	all := f.Vars()
	if len(names) == 0 {
		return all, nil
	}
	keep := map[*ncmodel.Var]bool{}
	var queue []*ncmodel.Var
	for i, n := range names {
		v := f.FindVar(n)
		if v == nil {
			var have []string
			for _, x := range all {
				have = append(have, strings.TrimPrefix(x.Path(), "/"))
			}
			if len(have) > 30 {
				have = append(have[:30], "...")
			}
			return nil, errs.F(errs.NotFound, fmt.Sprintf("variables[%d]", i), "unknown variable %q in %s; it has: %s", n, baseName(f.Path), strings.Join(have, ", "))
		}
		queue = append(queue, v)
	}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		if keep[v] {
			continue
		}
		keep[v] = true
		for _, d := range v.Dims {
			if c := d.Group.Var(d.Name); c != nil && c.IsCoordinate() {
				queue = append(queue, c)
			}
		}
		for _, r := range referenced(v) {
			if x := resolveVar(v.Group, r); x != nil {
				queue = append(queue, x)
			}
		}
	}
	var out []*ncmodel.Var
	for _, v := range all {
		if keep[v] {
			out = append(out, v)
		}
	}
	return out, nil
}

// referenced lists the names of variables v's CF attributes point to.
func referenced(v *ncmodel.Var) []string {
	var out []string
	for _, a := range []string{"coordinates", "bounds", "climatology", "ancillary_variables", "node_coordinates", "geometry"} {
		out = append(out, strings.Fields(v.AttrString(a))...)
	}
	// "name" or "name: coord coord ..." forms.
	gm := v.AttrString("grid_mapping")
	if strings.Contains(gm, ":") {
		for _, f := range strings.Fields(gm) {
			if strings.HasSuffix(f, ":") {
				out = append(out, strings.TrimSuffix(f, ":"))
			} else {
				out = append(out, f)
			}
		}
	} else {
		out = append(out, strings.Fields(gm)...)
	}
	// "key: name key: name" forms.
	for _, a := range []string{"cell_measures", "formula_terms"} {
		for _, f := range strings.Fields(v.AttrString(a)) {
			if !strings.HasSuffix(f, ":") {
				out = append(out, f)
			}
		}
	}
	return out
}

// resolveVar finds a referenced variable: a path, or a name searched in g
// then its ancestors (CF 1.8 search by proximity).
func resolveVar(g *ncmodel.Group, name string) *ncmodel.Var {
	if strings.Contains(name, "/") {
		root := g
		for root.Parent != nil {
			root = root.Parent
		}
		parts := strings.Split(strings.Trim(name, "/"), "/")
		cur := root
		if !strings.HasPrefix(name, "/") {
			cur = g
		}
		for _, p := range parts[:len(parts)-1] {
			if p == ".." {
				if cur.Parent != nil {
					cur = cur.Parent
				}
				continue
			}
			if cur = cur.Group(p); cur == nil {
				return nil
			}
		}
		return cur.Var(parts[len(parts)-1])
	}
	for x := g; x != nil; x = x.Parent {
		if v := x.Var(name); v != nil {
			return v
		}
	}
	return nil
}

func boundsVar(f *ncmodel.File, v *ncmodel.Var) *ncmodel.Var {
	b := v.AttrString("bounds")
	if b == "" {
		return nil
	}
	return resolveVar(v.Group, b)
}

func baseName(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[i+1:]
	}
	return path
}
