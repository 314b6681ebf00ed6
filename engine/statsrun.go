package engine

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/regions"
)

// statsRun computes the statistics of the regions of one file plan from
// the values the cut reads: copyVar hands every slab it reads to the
// regions' accumulators (regionAcc.add), so that the union of nearby
// regions, read once, serves both.
type statsRun struct {
	p       *filePlan
	st      *Statistics
	table   *StatsTable
	vars    []*statsVar
	byVar   map[*ncmodel.Var]*statsVar
	acc     map[accKey]*regionAcc
	weights map[weightKey]*cellWeights
	axes    map[int]rectAxes // rectilinear grid -> its cell edges
	needM2  bool
	notes   []string
	noted   map[string]bool
	read    func(v *ncmodel.Var, start, count, stride []int) (*ncmodel.Array, error)
}

type accKey struct {
	region int
	v      *statsVar
}

type weightKey struct {
	region, grid, kind int
	measure            *ncmodel.Var
}

// statsVar is one variable statistics are computed of.
type statsVar struct {
	v     *ncmodel.Var
	index int   // in table.Vars
	grid  int   // in p.coords.Grids
	hdims []int // positions in v.Dims of the grid's dimensions, in the grid's order
	tdim  int   // position of the time dimension, -1 when none
	ldim  int   // position of the vertical dimension, -1 when none
	weighting
	unpack unpacking
}

// newStatsRun plans the statistics of req on p: which variables, on which
// grid, with which time and vertical axes and weights.
func newStatsRun(p *filePlan, req *Request, areas []regions.Resolved, read func(v *ncmodel.Var, start, count, stride []int) (*ncmodel.Array, error)) (*statsRun, error) {
	st := req.Statistics
	s := &statsRun{p: p, st: st, byVar: map[*ncmodel.Var]*statsVar{}, acc: map[accKey]*regionAcc{},
		weights: map[weightKey]*cellWeights{}, axes: map[int]rectAxes{}, noted: map[string]bool{}, read: read}
	for _, op := range st.OpList() {
		s.needM2 = s.needM2 || op == OpStd
	}
	name := baseName(p.file.Path)
	type pick struct {
		v     *ncmodel.Var
		field string
	}
	var picks []pick
	switch {
	case len(st.Variables) > 0:
		for i, n := range st.Variables {
			f := fmt.Sprintf("statistics.variables[%d]", i)
			v := p.file.FindVar(n)
			if v == nil && strings.Contains(n, "/") && !strings.HasPrefix(n, "/") {
				v = p.file.FindVar("/" + n) // a path as the outputs name it
			}
			if v == nil {
				return nil, errs.F(errs.NotFound, f, "unknown variable %q in %s", n, name)
			}
			picks = append(picks, pick{v, f})
		}
	case len(req.Variables) > 0:
		for _, n := range req.Variables {
			if v := p.file.FindVar(n); v != nil && s.gridOf(v) >= 0 {
				picks = append(picks, pick{v, "statistics.variables"})
			}
		}
		if len(picks) == 0 {
			return nil, errs.F(errs.Invalid, "statistics.variables", "none of the variables %s of %s lies on a horizontal grid: name the variables for statistics", strings.Join(req.Variables, ", "), name)
		}
	default:
		for _, v := range p.file.Vars() {
			if s.gridOf(v) >= 0 && !isFlags(v) {
				picks = append(picks, pick{v, "statistics.variables"})
			}
		}
		if len(picks) == 0 {
			return nil, errs.F(errs.Invalid, "statistics.variables", "%s has no data variable on a horizontal grid", name)
		}
	}
	s.table = &StatsTable{Ops: st.OpList(), Weights: st.WeightRule(), Vars: []StatsVar{}}
	var timeDim, levelDim *ncmodel.Dim
	for _, pk := range picks {
		sv, err := s.planVar(pk.v, pk.field)
		if err != nil {
			return nil, err
		}
		if sv.tdim >= 0 {
			d := sv.v.Dims[sv.tdim]
			if timeDim != nil && d != timeDim {
				return nil, errs.F(errs.Invalid, pk.field, "statistics of %s: its time dimension %s is not %s of the other variables: ask for variables on one time axis", sv.v.Name, d.Name, timeDim.Name)
			}
			timeDim = d
		}
		if sv.ldim >= 0 {
			d := sv.v.Dims[sv.ldim]
			if levelDim != nil && d != levelDim {
				return nil, errs.F(errs.Invalid, pk.field, "statistics of %s: its vertical dimension %s is not %s of the other variables: ask for variables on one vertical axis", sv.v.Name, d.Name, levelDim.Name)
			}
			levelDim = d
		}
		sv.index = len(s.vars)
		s.vars = append(s.vars, sv)
		s.byVar[sv.v] = sv
		s.table.Vars = append(s.table.Vars, StatsVar{
			Name: strings.TrimPrefix(sv.v.Path(), "/"), Units: sv.v.AttrString("units"),
			LongName: sv.v.AttrString("long_name"), StandardName: sv.v.AttrString("standard_name"),
			CellMethods: sv.v.AttrString("cell_methods"), Weighting: sv.text,
			Time: sv.tdim >= 0, Level: sv.ldim >= 0,
		})
	}
	if timeDim != nil {
		s.table.Time = s.timeAxis(timeDim)
	}
	if levelDim != nil {
		c := p.coords.Axes[levelDim].Var
		vals := selected(p.coordValuesFor()[c], p.selFor(nil, levelDim))
		s.table.Level = &StatsLevel{Name: c.Name, Units: c.AttrString("units"), Positive: c.AttrString("positive"),
			StandardName: c.AttrString("standard_name"), LongName: c.AttrString("long_name"), Values: vals}
	}
	for i, a := range areas {
		b := a.Area.Bounds()
		rs := RegionStats{Name: a.Name, Bounds: [4]float64{b.West, b.South, b.East, b.North}}
		for _, rp := range p.regions {
			if rp.index != i {
				continue
			}
			for _, sv := range s.vars {
				rs.Masked = rs.Masked || maskOf(rp, sv.v) != nil
			}
		}
		s.table.Regions = append(s.table.Regions, rs)
	}
	return s, nil
}

// gridOf returns the grid a data variable lies on (the first of those the
// plan gives it), or -1.
func (s *statsRun) gridOf(v *ncmodel.Var) int {
	if s.p.noMask[v] || v.Type == ncmodel.String || v.Type == ncmodel.Char || len(s.p.varGrid[v]) == 0 {
		return -1
	}
	return s.p.varGrid[v][0]
}

func (s *statsRun) planVar(v *ncmodel.Var, field string) (*statsVar, error) {
	name := strings.TrimPrefix(v.Path(), "/")
	gi := s.gridOf(v)
	if gi < 0 {
		why := "it does not span the latitude/longitude dimensions of a grid"
		switch {
		case v.Type == ncmodel.String || v.Type == ncmodel.Char:
			why = "it holds text"
		case s.p.noMask[v]:
			why = "it is a coordinate, bounds or cell measure variable"
		}
		return nil, errs.F(errs.Invalid, field, "no statistics of %s: %s", name, why)
	}
	g := s.p.coords.Grids[gi]
	sv := &statsVar{v: v, grid: gi, tdim: -1, ldim: -1, unpack: unpackingOf(v)}
	for _, d := range g.Dims() {
		for k, x := range v.Dims {
			if x == d {
				sv.hdims = append(sv.hdims, k)
			}
		}
	}
	for k, d := range v.Dims {
		if containsInt(sv.hdims, k) {
			continue
		}
		c, ok := s.p.coords.Axes[d]
		switch {
		case ok && c.Axis == AxisTime && sv.tdim < 0:
			sv.tdim = k
		case ok && c.Axis == AxisVertical && sv.ldim < 0:
			sv.ldim = k
		default:
			n := d.Len
			if sel := s.p.selFor(nil, d); sel != nil {
				n = sel.outLen()
			}
			if n != 1 {
				return nil, errs.F(errs.Invalid, field, "no statistics of %s: its dimension %s (%d) is neither time, vertical nor horizontal", name, d.Name, n)
			}
		}
	}
	sv.weighting = s.weighingOf(sv)
	return sv, nil
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// timeAxis describes the selected steps of a time dimension.
func (s *statsRun) timeAxis(d *ncmodel.Dim) *StatsTime {
	c := s.p.coords.Axes[d].Var
	vals := selected(s.p.coordValuesFor()[c], s.p.selFor(nil, d))
	t := &StatsTime{Units: c.AttrString("units"), Calendar: c.AttrString("calendar"), Values: vals}
	u, err := TimeAxis(c)
	for _, x := range vals {
		iso := strconv.FormatFloat(x, 'g', -1, 64)
		if err == nil {
			if date, derr := u.Decode(x); derr == nil {
				iso = date.String()
			}
		}
		t.ISO = append(t.ISO, iso)
	}
	return t
}

// note records what a user should know about the statistics, once.
func (s *statsRun) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	if !s.noted[n] {
		s.noted[n] = true
		s.notes = append(s.notes, n)
	}
}

// maskOf returns the region's mask of variable v (over the region's
// selection of its grid's dimensions, in the grid's order), or nil when
// every selected cell is inside.
func maskOf(rp *regionPlan, v *ncmodel.Var) *gridMask {
	for _, m := range rp.masks {
		if m.applies(v) {
			return m
		}
	}
	return nil
}

// accFor returns the accumulator of region rp for variable v, nil when v
// has no statistics or the region misses its grid.
func (s *statsRun) accFor(rp *regionPlan, v *ncmodel.Var) (*regionAcc, error) {
	if s == nil {
		return nil, nil
	}
	sv := s.byVar[v]
	if sv == nil {
		return nil, nil
	}
	if s.p.leftOut(rp, v) {
		return nil, nil
	}
	for _, d := range s.p.coords.Grids[sv.grid].Dims() {
		if rp.sel[d] == nil {
			return nil, nil
		}
	}
	k := accKey{rp.index, sv}
	if a := s.acc[k]; a != nil {
		return a, nil
	}
	w, err := s.weightsFor(rp, sv)
	if err != nil {
		return nil, err
	}
	a := &regionAcc{run: s, sv: sv, w: w, nl: 1}
	nt := 1
	if sv.tdim >= 0 {
		nt = s.p.selLen(rp, v.Dims[sv.tdim])
	}
	if sv.ldim >= 0 {
		a.nl = s.p.selLen(rp, v.Dims[sv.ldim])
	}
	a.moments = make([]Moments, nt*a.nl)
	s.acc[k] = a
	return a, nil
}

// selLen is the output length of d for region rp.
func (p *filePlan) selLen(rp *regionPlan, d *ncmodel.Dim) int {
	if sel := p.selFor(rp, d); sel != nil {
		return sel.outLen()
	}
	return d.Len
}

// only reports whether the run computes statistics without cutting.
func (s *statsRun) only() bool { return s != nil && s.st.Only }

// readVars are the variables a run reads: those it cuts (none with
// statistics only) and those it computes statistics of.
func (r *runner) readVars() []*ncmodel.Var {
	var out []*ncmodel.Var
	if !r.stats.only() {
		out = r.plan.vars
	}
	if r.stats == nil {
		return out
	}
	cut := map[*ncmodel.Var]bool{}
	for _, v := range out {
		cut[v] = true
	}
	for _, sv := range r.stats.vars {
		if !cut[sv.v] {
			out = append(out, sv.v)
		}
	}
	return out
}

// drop forgets what was accumulated for the regions of a cluster whose cut
// failed (they fail, or are cut again one by one).
func (s *statsRun) drop(cl []*regionPlan) {
	if s == nil {
		return
	}
	for _, rp := range cl {
		for k := range s.acc {
			if k.region == rp.index {
				delete(s.acc, k)
			}
		}
	}
}

// checkStatsNames refuses region names that the statistics files would
// take.
func checkStatsNames(req *Request, areas []regions.Resolved) error {
	if req.Statistics == nil {
		return nil
	}
	names := make([]string, len(areas))
	for i, a := range areas {
		names[i] = a.Name
	}
	return req.Statistics.validate(names)
}

// mergeGranuleStats adds the statistics of one granule's run to those of
// the granules' result, whose table lists every region of req in order.
func mergeGranuleStats(res *Result, req *Request, t *StatsTable) error {
	if t == nil {
		return nil
	}
	if res.Stats == nil {
		var err error
		if res.Stats, err = NewStatsTableFor(req.Statistics, req.Regions); err != nil {
			return err
		}
	}
	return res.Stats.Merge(t)
}

// NewStatsTableFor is NewStatsTable for regions as requests give them:
// every region of rs in order, without moments (the table of regions no
// file met, or the start of Merge).
func NewStatsTableFor(st *Statistics, rs []regions.Fixed) (*StatsTable, error) {
	areas, err := regions.ResolveFixed("regions", rs)
	if err != nil {
		return nil, err
	}
	out := make([]RegionStats, len(areas))
	for i, a := range areas {
		b := a.Area.Bounds()
		out[i] = RegionStats{Name: a.Name, Bounds: [4]float64{b.West, b.South, b.East, b.North}}
	}
	return NewStatsTable(st, out), nil
}

// finish puts the moments of the regions into the table.
func (s *statsRun) finish() *StatsTable {
	for k, a := range s.acc {
		r := &s.table.Regions[k.region]
		if r.Moments == nil {
			r.Moments = make([][]Moments, len(s.vars))
		}
		r.Moments[k.v.index] = a.moments
	}
	return s.table
}

// regionAcc accumulates one variable over one region's cells.
type regionAcc struct {
	run     *statsRun
	sv      *statsVar
	w       *cellWeights
	nl      int
	moments []Moments // time-major over steps x levels
	buf     []float64
	ws      []float64
	xs      []float64
}

// add accumulates the cells of box b (of the region's cut of the variable)
// that lie in the slab a read at input start/count/stride (nil: 1).
func (ra *regionAcc) add(b box, start, count, stride []int, a *ncmodel.Array) {
	rank := len(b.start)
	if ra == nil || rank == 0 {
		return
	}
	mlo := make([]int, rank)
	mn := make([]int, rank)   // box steps in the slab along each dimension
	qlo := make([]int, rank)  // slab position of the first
	qstp := make([]int, rank) // slab positions per box step
	for i := 0; i < rank; i++ {
		st := 1
		if stride != nil {
			st = stride[i]
		}
		end := start[i] + (count[i]-1)*st
		lo := 0
		if start[i] > b.start[i] {
			lo = (start[i] - b.start[i] + b.stride[i] - 1) / b.stride[i]
		}
		if end < b.start[i] {
			return
		}
		hi := min(b.count[i]-1, (end-b.start[i])/b.stride[i])
		if lo > hi {
			return
		}
		mlo[i], mn[i] = lo, hi-lo+1
		qlo[i] = (b.start[i] + lo*b.stride[i] - start[i]) / st
		qstp[i] = b.stride[i] / st
	}
	// Element strides of the slab.
	es := make([]int, rank)
	acc := 1
	for i := rank - 1; i >= 0; i-- {
		es[i] = acc
		acc *= a.Shape[i]
	}
	sv := ra.sv
	last := rank - 1
	h0, h1 := sv.hdims[0], -1
	if len(sv.hdims) > 1 {
		h1 = sv.hdims[1]
	}
	n := mn[last]
	if cap(ra.buf) < n {
		ra.buf = make([]float64, n)
		ra.ws = make([]float64, n)
		ra.xs = make([]float64, n)
	}
	vals, ws := ra.buf[:n], ra.ws[:n]
	idx := make([]int, rank) // box steps from mlo along the outer dimensions
	for {
		base := qlo[last] * es[last]
		for i := 0; i < last; i++ {
			base += (qlo[i] + idx[i]*qstp[i]) * es[i]
		}
		decodeRow(a, base, qstp[last]*es[last], vals)
		sv.unpack.apply(vals)
		pos := func(i int) int { return b.out[i] + mlo[i] + idx[i] }
		t, l, o0, o1 := 0, 0, 0, 0
		if sv.tdim >= 0 && sv.tdim != last {
			t = pos(sv.tdim)
		}
		if sv.ldim >= 0 && sv.ldim != last {
			l = pos(sv.ldim)
		}
		if h0 != last {
			o0 = pos(h0)
		}
		if h1 >= 0 && h1 != last {
			o1 = pos(h1)
		}
		first := b.out[last] + mlo[last]
		switch last {
		case h0, h1:
			d0, d1 := 0, 0
			if last == h0 {
				o0, d0 = first, 1
			} else {
				o1, d1 = first, 1
			}
			ra.w.row(o0, o1, d0, d1, ws)
			ra.addRow(&ra.moments[t*ra.nl+l], vals, ws)
		default:
			// A time or vertical dimension last: every value has its own
			// accumulator (files laid out so are rare).
			ra.w.row(o0, o1, 0, 0, ws)
			for j, x := range vals {
				tt, ll := t, l
				if last == sv.tdim {
					tt = first + j
				} else if last == sv.ldim {
					ll = first + j
				}
				ra.addRow(&ra.moments[tt*ra.nl+ll], []float64{x}, ws[j:j+1])
			}
		}
		i := last - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < mn[i] {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return
		}
	}
}

// addRow accumulates values with their weights (NaN: outside the region
// or without a weight) into m: the row's own moments in two passes, then
// merged.
func (ra *regionAcc) addRow(m *Moments, vals, ws []float64) {
	var r Moments
	xs := ra.xs[:0]
	r.Min, r.Max = math.Inf(1), math.Inf(-1)
	k := 0
	for j, x := range vals {
		w := ws[j]
		if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(w) {
			continue
		}
		r.N++
		r.W += w
		r.WX += w * x
		r.Sum += x
		if x < r.Min { // x is not NaN: plain comparisons
			r.Min = x
		}
		if x > r.Max {
			r.Max = x
		}
		if ra.run.needM2 {
			xs = append(xs, x)
			ws[k] = w // compacted in place: ws[k] is no longer needed at j >= k
			k++
		}
	}
	if r.N == 0 {
		return
	}
	if ra.run.needM2 && r.W > 0 {
		mean := r.WX / r.W
		for j, x := range xs {
			d := x - mean
			r.M2 += ws[j] * d * d
		}
	}
	m.Merge(r)
}

// decodeRow converts len(dst) values of a, from element off every step
// elements, to float64 (raw, not unpacked): the common types without a
// call per value.
func decodeRow(a *ncmodel.Array, off, step int, dst []float64) {
	d := a.Data
	ne := binary.NativeEndian
	switch a.Type {
	case ncmodel.Float:
		for j := range dst {
			dst[j] = float64(math.Float32frombits(ne.Uint32(d[4*(off+j*step):])))
		}
	case ncmodel.Double:
		for j := range dst {
			dst[j] = math.Float64frombits(ne.Uint64(d[8*(off+j*step):]))
		}
	case ncmodel.Short:
		for j := range dst {
			dst[j] = float64(int16(ne.Uint16(d[2*(off+j*step):])))
		}
	default:
		for j := range dst {
			dst[j] = a.Float64(off + j*step)
		}
	}
}
