package engine

import (
	"fmt"
	"math"
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
}

// regionPlan is the part of a plan that depends on the region.
type regionPlan struct {
	index   int
	name    string
	area    regions.Area
	empty   string // why nothing is selected, or ""
	sel     map[*ncmodel.Dim]*dimSel
	masks   []*gridMask
	dropped map[*ncmodel.Dim]bool // dimensions of grids the region misses: their variables are left out
	extent  *regionMeta           // lat/lon extent of the selected cells
	failed  error                 // a bug met while planning this region
}

// gridMask marks which cells of a region's output are inside the region,
// over the output index space of the grid's horizontal dimensions as they
// were selected when the mask was made (sels). Another grid sharing a
// dimension may widen that dimension's selection afterwards: cells the mask
// does not cover are outside.
type gridMask struct {
	dims   []*ncmodel.Dim // input dimensions, in the grid's order
	sels   []*dimSel      // the selection of each dimension the mask was made on
	shape  []int          // output lengths of sels
	inside []bool
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
	p := &filePlan{src: src, file: f, coords: FindCoords(f), common: map[*ncmodel.Dim]*dimSel{}, lonVars: map[*ncmodel.Var]*ncmodel.Dim{}, gridDims: map[*ncmodel.Dim]bool{}}
	vars, err := selectVars(f, req.Variables)
	if err != nil {
		return nil, err
	}
	p.vars, p.allVars = vars, len(req.Variables) == 0

	grids := p.coords.Grids
	if len(grids) == 0 {
		return nil, errs.E(errs.Invalid, "%s: no latitude/longitude coordinates found (looked for CF standard_name, units degrees_north/degrees_east, axis and names lat/lon)", name)
	}
	p.noMask = map[*ncmodel.Var]bool{}
	for _, g := range grids {
		p.noMask[g.Lat], p.noMask[g.Lon] = true, true
		for _, d := range g.Lat.Dims {
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

	// Strides on every dimension the user named.
	for key := range req.Stride {
		if !strideKeyKnown(p, key) {
			return nil, errs.F(errs.Invalid, "stride."+key, "unknown axis or dimension %q: use time, lat, lon, vertical or a dimension name", key)
		}
	}
	if err := p.planTime(req); err != nil {
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

	// Coordinates of each grid, read once.
	var gv []gridVals
	for _, g := range grids {
		lat, err := CoordValues(src, g.Lat)
		if err != nil {
			return nil, errs.Wrap(errs.Unreadable, err, "%s: reading latitude %s", name, g.Lat.Path())
		}
		lon, err := CoordValues(src, g.Lon)
		if err != nil {
			return nil, errs.Wrap(errs.Unreadable, err, "%s: reading longitude %s", name, g.Lon.Path())
		}
		gv = append(gv, gridVals{g, lat, lon})
	}
	for i, a := range areas {
		rp := &regionPlan{index: i, name: a.Name, area: a.Area, sel: map[*ncmodel.Dim]*dimSel{}, dropped: map[*ncmodel.Dim]bool{}}
		var missed []string
		hit := 0
		for _, x := range gv {
			var why string
			rp.failed = guard(fmt.Sprintf("selecting region %s on grid %s of %s", a.Name, x.g.Lat.Path(), name), func() error {
				why = p.selectGrid(rp, x, a, req.Stride)
				return nil
			})
			if rp.failed != nil {
				break
			}
			if why == "" {
				hit++
				continue
			}
			missed = append(missed, why)
			for _, d := range x.g.Lat.Dims {
				rp.dropped[d] = true
			}
		}
		// A dimension another grid selects on is not dropped: only the
		// variables of the missed grid that span one of its own
		// dimensions are left out.
		for d := range rp.dropped {
			if rp.sel[d] != nil {
				delete(rp.dropped, d)
			}
		}
		if hit == 0 {
			rp.empty = fmt.Sprintf("region %s %v does not intersect the data of %s (%s)", rp.name, a.Area.Bounds(), name, strings.Join(missed, "; "))
		}
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

// gridVals are the unpacked coordinates of a grid.
type gridVals struct {
	g        Grid
	lat, lon []float64
}

// selectGrid selects a region's cells on one grid; it returns why nothing
// was selected, or "".
func (p *filePlan) selectGrid(rp *regionPlan, x gridVals, a regions.Resolved, stride map[string]int) string {
	b := a.Area.Bounds()
	if x.g.Kind == Rectilinear {
		latDim, lonDim := x.g.Lat.Dims[0], x.g.Lon.Dims[0]
		latRun, ok := regions.LatRange(x.lat, b.South, b.North, regions.Tolerance(x.g.Lat.Type == ncmodel.Float))
		lonRuns := regions.LonRuns(x.lon, b, regions.Tolerance(x.g.Lon.Type == ncmodel.Float))
		if !ok || len(lonRuns) == 0 {
			return fmt.Sprintf("latitude %s, longitude %s", extent(x.lat), extent(x.lon))
		}
		ls := &dimSel{runs: []regions.Run{latRun}, stride: p.strideFor(latDim, stride)}
		os := &dimSel{runs: lonRuns, stride: p.strideFor(lonDim, stride)}
		la, lo := selected(x.lat, ls), selected(x.lon, os)
		if !a.Area.IsBox() {
			m := &gridMask{dims: []*ncmodel.Dim{latDim, lonDim}, sels: []*dimSel{ls, os}, shape: []int{len(la), len(lo)}, inside: make([]bool, len(la)*len(lo))}
			any, all := false, true
			for i, y := range la {
				for j, xx := range lo {
					in := a.Area.Contains(xx, y)
					m.inside[i*len(lo)+j] = in
					any, all = any || in, all && in
				}
			}
			if !any {
				return fmt.Sprintf("no cell centre of %s lies inside the polygon", x.g.Lat.Path())
			}
			if !all && a.Mask {
				rp.masks = append(rp.masks, m)
			}
		}
		rp.sel[latDim], rp.sel[lonDim] = ls, os
		p.setExtent(rp, la, lo, nil)
		return ""
	}
	// 2-D (curvilinear, swath) or 1-D along-track coordinates: the
	// smallest index box holding every inside cell, outside cells masked.
	dims := x.g.Lat.Dims
	shape := x.g.Lat.Shape()
	lo := make([]int, len(dims))
	hi := make([]int, len(dims))
	for i := range lo {
		lo[i], hi[i] = shape[i], -1
	}
	inside := make([]bool, len(x.lat))
	n := 0
	for k := range x.lat {
		if !a.Area.Contains(x.lon[k], x.lat[k]) {
			continue
		}
		inside[k] = true
		n++
		idx := k
		for d := len(dims) - 1; d >= 0; d-- {
			c := idx % shape[d]
			idx /= shape[d]
			lo[d], hi[d] = min(lo[d], c), max(hi[d], c)
		}
	}
	if n == 0 {
		return fmt.Sprintf("no cell of the %s grid %s lies inside (latitude %s, longitude %s)", x.g.Kind, x.g.Lat.Path(), extent(x.lat), extent(x.lon))
	}
	sels := make([]*dimSel, len(dims))
	for d := range dims {
		st := p.strideFor(dims[d], stride)
		// Another grid of the file (1-Hz and 20-Hz positions on one time
		// dimension, say) may have selected this dimension already: the
		// output holds both ranges, on the first one's stride phase.
		if prev := rp.sel[dims[d]]; prev != nil && len(prev.runs) == 1 {
			r := prev.runs[0]
			first := r.Start // on the earlier selection's stride phase
			for first-st >= 0 && first > lo[d] {
				first -= st
			}
			lo[d], hi[d] = first, max(hi[d], r.Start+r.Count-1)
		}
		sels[d] = &dimSel{runs: []regions.Run{{Start: lo[d], Count: hi[d] - lo[d] + 1}}, stride: st}
		rp.sel[dims[d]] = sels[d]
	}
	// The mask over the output cells, with strides.
	m := &gridMask{dims: dims, sels: sels}
	for _, s := range sels {
		m.shape = append(m.shape, s.outLen())
	}
	m.inside = make([]bool, ncmodel.Product(m.shape))
	all := true
	var las, los []float64
	in := make([]int, len(dims))
	for o := range m.inside {
		rem, k, mul := o, 0, 1
		for d := len(dims) - 1; d >= 0; d-- {
			in[d] = lo[d] + (rem%m.shape[d])*sels[d].stride
			rem /= m.shape[d]
		}
		for d := len(dims) - 1; d >= 0; d-- {
			k += in[d] * mul
			mul *= shape[d]
		}
		m.inside[o] = inside[k]
		all = all && inside[k]
		if inside[k] {
			las, los = append(las, x.lat[k]), append(los, x.lon[k])
		}
	}
	if !all && a.Mask {
		rp.masks = append(rp.masks, m)
	}
	p.setExtent(rp, las, los, nil)
	return ""
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

func strideKeyKnown(p *filePlan, key string) bool {
	switch Axis(key) {
	case AxisTime, AxisLat, AxisLon, AxisVertical:
		return true
	}
	for _, v := range p.file.Vars() {
		for _, d := range v.Dims {
			if d.Name == key {
				return true
			}
		}
	}
	return false
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
	if !found {
		if len(extents) == 0 {
			return errs.F(errs.Invalid, "vertical", "%s has no vertical coordinate", baseName(p.file.Path))
		}
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
