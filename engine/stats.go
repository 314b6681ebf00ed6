package engine

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/subsetd/subsetd/cftime"
	"github.com/subsetd/subsetd/internal/errs"
)

// Statistics asks for statistics of every region besides the cut, or
// instead of it (Only): per region, variable, time step and vertical level,
// each op over the region's cells that the cut keeps (its box, or the cells
// inside its polygon when masked), values unpacked, fill and NaN left out.
type Statistics struct {
	// Variables to compute statistics of; none: the variables of the
	// request (all data variables on a horizontal grid when the request
	// names none).
	Variables []string `json:"variables,omitempty"`
	// Ops among OpMean, OpMin, OpMax, OpStd, OpCount, OpSum (default mean).
	Ops []string `json:"ops,omitempty"`
	// Weights is WeightsArea (default) or WeightsNone.
	Weights string `json:"weights,omitempty"`
	// Only computes the statistics without writing cut files.
	Only bool `json:"only,omitempty"`
}

// The statistics ops. Mean and std are weighted (std is the population
// standard deviation: divided by the sum of weights); min, max, sum (the
// plain sum of the values, as CDO's fldsum) and count (valid cells) are not.
const (
	OpMean  = "mean"
	OpMin   = "min"
	OpMax   = "max"
	OpStd   = "std"
	OpCount = "count"
	OpSum   = "sum"
)

// Ops lists every op in the order outputs use.
var Ops = []string{OpMean, OpMin, OpMax, OpStd, OpSum, OpCount}

// Weights rules.
const (
	WeightsArea = "area"
	WeightsNone = "none"
)

// StatsName is the stem of the statistics files of a run: stats.nc and
// stats.csv beside the region outputs.
const StatsName = "stats"

// OpList returns the ops asked for, the default when none.
func (s *Statistics) OpList() []string {
	if len(s.Ops) == 0 {
		return []string{OpMean}
	}
	return s.Ops
}

// WeightRule returns the weights asked for, the default when none.
func (s *Statistics) WeightRule() string {
	if s.Weights == "" {
		return WeightsArea
	}
	return s.Weights
}

// validate checks the statistics part of a request; names are the output
// names of its regions.
func (s *Statistics) validate(names []string) error {
	seen := map[string]bool{}
	for i, v := range s.Variables {
		f := fmt.Sprintf("statistics.variables[%d]", i)
		if strings.TrimSpace(v) == "" {
			return errs.F(errs.Invalid, f, "empty variable name")
		}
		if seen[v] {
			return errs.F(errs.Invalid, f, "variable %q is listed twice", v)
		}
		seen[v] = true
	}
	seen = map[string]bool{}
	for i, op := range s.Ops {
		f := fmt.Sprintf("statistics.ops[%d]", i)
		known := false
		for _, o := range Ops {
			known = known || o == op
		}
		if !known {
			return errs.F(errs.Invalid, f, "unknown statistic %q: use %s", op, strings.Join(Ops, ", "))
		}
		if seen[op] {
			return errs.F(errs.Invalid, f, "statistic %q is listed twice", op)
		}
		seen[op] = true
	}
	switch s.Weights {
	case "", WeightsArea, WeightsNone:
	default:
		return errs.F(errs.Invalid, "statistics.weights", "unknown weights %q: use %q or %q", s.Weights, WeightsArea, WeightsNone)
	}
	if !s.Only {
		for i, n := range names {
			if strings.EqualFold(n, StatsName) {
				return errs.F(errs.Invalid, fmt.Sprintf("regions[%d].name", i), "region name %q is the name of the statistics file %s.nc: rename the region", n, StatsName)
			}
		}
	}
	return nil
}

// StatsTable holds statistics as moments accumulated over cells: per
// region, variable, time step and level. Tables computed apart (regions cut
// by different workers, the files of a time series or of granules) merge
// exactly (Merge); Rows turns the moments into the values asked for.
type StatsTable struct {
	Ops     []string      `json:"ops"`
	Weights string        `json:"weights"`
	Time    *StatsTime    `json:"time,omitempty"`
	Level   *StatsLevel   `json:"level,omitempty"`
	Vars    []StatsVar    `json:"variables"`
	Regions []RegionStats `json:"regions"`
}

// StatsTime is the time axis of a table, in the units and calendar of the
// source's time coordinate, in increasing order.
type StatsTime struct {
	Units    string    `json:"units"`
	Calendar string    `json:"calendar,omitempty"`
	Values   []float64 `json:"values"`
	ISO      []string  `json:"iso"`
}

// StatsLevel is the vertical axis of a table, described as the source's
// vertical coordinate.
type StatsLevel struct {
	Name         string    `json:"name"`
	Units        string    `json:"units,omitempty"`
	Positive     string    `json:"positive,omitempty"`
	StandardName string    `json:"standard_name,omitempty"`
	LongName     string    `json:"long_name,omitempty"`
	Values       []float64 `json:"values"`
}

// StatsVar describes one variable of a table, from the source.
type StatsVar struct {
	Name         string `json:"name"`
	Units        string `json:"units,omitempty"`
	LongName     string `json:"long_name,omitempty"`
	StandardName string `json:"standard_name,omitempty"`
	CellMethods  string `json:"cell_methods,omitempty"` // the source's own
	// Weighting says how cells were weighted (WeightsNone, or the source
	// of the cell areas).
	Weighting string `json:"weighting"`
	Time      bool   `json:"time,omitempty"`  // spans the time axis
	Level     bool   `json:"level,omitempty"` // spans the level axis
}

// RegionStats are the moments of one region.
type RegionStats struct {
	Name   string     `json:"name"`
	Bounds [4]float64 `json:"bounds"` // west, south, east, north
	// Masked is set when cells were selected by the region's outline (a
	// polygon, or a region on a 2-D grid) rather than by its box.
	Masked bool `json:"masked,omitempty"`
	// Moments[v] are those of Vars[v], time-major over the time steps (one
	// when the variable has no time) and levels (one when it has none);
	// nil when the region has none of it.
	Moments [][]Moments `json:"moments,omitempty"`
}

// Moments accumulate the values of cells: count, weighted mean and sum of
// squared deviations (merged as Chan et al. do), extremes and plain sum.
// Sums are compensated (Neumaier).
type Moments struct {
	N        int64
	W, wc    float64 // sum of weights
	WX, wxc  float64 // sum of weighted values
	M2       float64 // sum of weighted squared deviations from the mean
	Min, Max float64
	Sum, sc  float64 // sum of values
}

// add is Neumaier's compensated addition of x to the sum s with
// compensation c.
func add(s, c *float64, x float64) {
	t := *s + x
	if math.Abs(*s) >= math.Abs(x) {
		*c += (*s - t) + x
	} else {
		*c += (x - t) + *s
	}
	*s = t
}

func (m *Moments) weight() float64 { return m.W + m.wc }
func (m *Moments) mean() float64   { return (m.WX + m.wxc) / m.weight() }

// Merge adds the cells of o to m.
func (m *Moments) Merge(o Moments) {
	if o.N == 0 {
		return
	}
	if m.N == 0 {
		*m = o
		return
	}
	m.N += o.N
	m.Min, m.Max = math.Min(m.Min, o.Min), math.Max(m.Max, o.Max)
	add(&m.Sum, &m.sc, o.Sum)
	add(&m.Sum, &m.sc, o.sc)
	wa, wb := m.weight(), o.weight()
	switch {
	case wb <= 0:
	case wa <= 0:
		m.M2 = o.M2
	default:
		d := o.mean() - m.mean()
		m.M2 += o.M2 + d*d*wa*wb/(wa+wb)
	}
	add(&m.W, &m.wc, o.W)
	add(&m.W, &m.wc, o.wc)
	add(&m.WX, &m.wxc, o.WX)
	add(&m.WX, &m.wxc, o.wxc)
}

// Value is the statistic op of the cells, and false when it has none (no
// valid cell, or no weight for mean and std).
func (m *Moments) Value(op string) (float64, bool) {
	if op == OpCount {
		return float64(m.N), true
	}
	if m.N == 0 {
		return 0, false
	}
	switch op {
	case OpMin:
		return m.Min, true
	case OpMax:
		return m.Max, true
	case OpSum:
		return m.Sum + m.sc, true
	}
	w := m.weight()
	if !(w > 0) {
		return 0, false
	}
	if op == OpStd {
		return math.Sqrt(max(m.M2/w, 0)), true
	}
	return m.mean(), true
}

// MarshalJSON writes the moments as one array, [0] without cells: compact
// for large tables, and exact (float64 values round-trip).
func (m Moments) MarshalJSON() ([]byte, error) {
	if m.N == 0 {
		return []byte("[0]"), nil
	}
	return json.Marshal([]float64{float64(m.N), m.W, m.wc, m.WX, m.wxc, m.M2, m.Min, m.Max, m.Sum, m.sc})
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (m *Moments) UnmarshalJSON(b []byte) error {
	var a []float64
	if err := json.Unmarshal(b, &a); err != nil {
		return err
	}
	*m = Moments{}
	switch len(a) {
	case 1:
		if a[0] != 0 {
			return fmt.Errorf("moments: [%v] without values", a[0])
		}
		return nil
	case 10:
		*m = Moments{N: int64(a[0]), W: a[1], wc: a[2], WX: a[3], wxc: a[4], M2: a[5], Min: a[6], Max: a[7], Sum: a[8], sc: a[9]}
		return nil
	}
	return fmt.Errorf("moments: %d numbers, want 1 or 10", len(a))
}

// steps is the number of time steps of variable v's moments.
func (t *StatsTable) steps(v int) int {
	if t.Vars[v].Time && t.Time != nil {
		return len(t.Time.Values)
	}
	return 1
}

// levels is the number of levels of variable v's moments.
func (t *StatsTable) levels(v int) int {
	if t.Vars[v].Level && t.Level != nil {
		return len(t.Level.Values)
	}
	return 1
}

// NewStatsTable returns a table of the regions (names and bounds) without
// any moments yet, for st's ops and weights: what Merge fills in the
// regions' order.
func NewStatsTable(st *Statistics, regions []RegionStats) *StatsTable {
	t := &StatsTable{Ops: st.OpList(), Weights: st.WeightRule(), Vars: []StatsVar{}}
	for _, r := range regions {
		t.Regions = append(t.Regions, RegionStats{Name: r.Name, Bounds: r.Bounds, Masked: r.Masked})
	}
	return t
}

// Merge adds the moments of o to t: its variables, time steps and levels
// join t's (time steps in time order, rebased to t's units), its regions
// merge with t's of the same name or are added after them, and moments of
// the same region, variable, step and level merge (a region cut from
// several files at one time).
func (t *StatsTable) Merge(o *StatsTable) error {
	if len(t.Ops) == 0 {
		t.Ops, t.Weights = o.Ops, o.Weights
	}
	// Variables: o's index -> t's.
	vmap := make([]int, len(o.Vars))
	for i, ov := range o.Vars {
		vmap[i] = -1
		for j, tv := range t.Vars {
			if tv.Name != ov.Name {
				continue
			}
			if tv.Time != ov.Time || tv.Level != ov.Level {
				return errs.E(errs.Invalid, "statistics of %s: the variable has a time or vertical dimension in some files and not in others", ov.Name)
			}
			if ov.Weighting != tv.Weighting && !strings.Contains(tv.Weighting, ov.Weighting) {
				t.Vars[j].Weighting += "; " + ov.Weighting
			}
			vmap[i] = j
		}
		if vmap[i] < 0 {
			vmap[i] = len(t.Vars)
			t.Vars = append(t.Vars, ov)
			for r := range t.Regions {
				if t.Regions[r].Moments != nil {
					t.Regions[r].Moments = append(t.Regions[r].Moments, nil)
				}
			}
		}
	}
	oldSteps := make([]int, len(t.Vars))
	oldLevels := make([]int, len(t.Vars))
	for v := range t.Vars {
		oldSteps[v], oldLevels[v] = t.steps(v), t.levels(v)
	}
	tmapT, omapT, err := t.mergeTime(o.Time)
	if err != nil {
		return err
	}
	tmapL, omapL, err := t.mergeLevel(o.Level)
	if err != nil {
		return err
	}
	// t's moments onto the merged axes.
	for r := range t.Regions {
		for v, ms := range t.Regions[r].Moments {
			if ms != nil {
				t.Regions[r].Moments[v] = t.remap(v, ms, oldSteps[v], oldLevels[v], tmapT, tmapL)
			}
		}
	}
	for _, orr := range o.Regions {
		ri := -1
		for i := range t.Regions {
			if t.Regions[i].Name == orr.Name {
				ri = i
			}
		}
		if ri < 0 {
			ri = len(t.Regions)
			t.Regions = append(t.Regions, RegionStats{Name: orr.Name, Bounds: orr.Bounds})
		}
		tr := &t.Regions[ri]
		tr.Masked = tr.Masked || orr.Masked
		for ov, ms := range orr.Moments {
			if ms == nil {
				continue
			}
			v := vmap[ov]
			if tr.Moments == nil {
				tr.Moments = make([][]Moments, len(t.Vars))
			}
			if tr.Moments[v] == nil {
				tr.Moments[v] = make([]Moments, t.steps(v)*t.levels(v))
			}
			ol := 1
			if o.Vars[ov].Level && o.Level != nil {
				ol = len(o.Level.Values)
			}
			nl := t.levels(v)
			for k, m := range ms {
				ti, li := k/ol, k%ol
				if t.Vars[v].Time && omapT != nil {
					ti = omapT[ti]
				}
				if t.Vars[v].Level && omapL != nil {
					li = omapL[li]
				}
				tr.Moments[v][ti*nl+li].Merge(m)
			}
		}
	}
	return nil
}

// remap moves moments laid out on steps x levels to the table's axes
// through the index maps (nil: the same index).
func (t *StatsTable) remap(v int, ms []Moments, steps, levels int, mapT, mapL []int) []Moments {
	if mapT == nil && mapL == nil && steps == t.steps(v) && levels == t.levels(v) {
		return ms
	}
	out := make([]Moments, t.steps(v)*t.levels(v))
	nl := t.levels(v)
	for k, m := range ms {
		ti, li := k/levels, k%levels
		if t.Vars[v].Time && mapT != nil {
			ti = mapT[ti]
		}
		if t.Vars[v].Level && mapL != nil {
			li = mapL[li]
		}
		out[ti*nl+li] = m
	}
	return out
}

// mergeTime makes t's time axis the union of its own and o's, in time
// order. It returns where t's old steps and o's steps went (nil: where
// they were).
func (t *StatsTable) mergeTime(o *StatsTime) (tmap, omap []int, err error) {
	if o == nil {
		return nil, nil, nil
	}
	if t.Time == nil {
		c := *o
		t.Time = &c
		return nil, nil, nil
	}
	vals := o.Values
	if o.Units != t.Time.Units || !strings.EqualFold(o.Calendar, t.Time.Calendar) {
		from, err1 := cftime.ParseUnits(o.Units, o.Calendar)
		to, err2 := cftime.ParseUnits(t.Time.Units, t.Time.Calendar)
		if err1 != nil || err2 != nil || from.Calendar != to.Calendar {
			return nil, nil, errs.E(errs.Invalid, "statistics: time %q (%s) cannot be joined to time %q (%s)", o.Units, o.Calendar, t.Time.Units, t.Time.Calendar)
		}
		vals = make([]float64, len(o.Values))
		for i, x := range o.Values {
			if vals[i], err = rebaseValue(x, from, to); err != nil {
				return nil, nil, errs.E(errs.Invalid, "statistics: time %v %s: %v", x, o.Units, err)
			}
		}
	}
	type step struct {
		val float64
		iso string
	}
	at := map[string]int{}
	var all []step
	for i, iso := range t.Time.ISO {
		at[iso] = len(all)
		all = append(all, step{t.Time.Values[i], iso})
	}
	for i, iso := range o.ISO {
		if _, ok := at[iso]; !ok {
			at[iso] = len(all)
			all = append(all, step{vals[i], iso})
		}
	}
	sort.SliceStable(all, func(a, b int) bool { return all[a].val < all[b].val })
	pos := map[string]int{}
	nt := &StatsTime{Units: t.Time.Units, Calendar: t.Time.Calendar}
	for i, s := range all {
		pos[s.iso] = i
		nt.Values = append(nt.Values, s.val)
		nt.ISO = append(nt.ISO, s.iso)
	}
	tmap = make([]int, len(t.Time.ISO))
	for i, iso := range t.Time.ISO {
		tmap[i] = pos[iso]
	}
	omap = make([]int, len(o.ISO))
	for i, iso := range o.ISO {
		omap[i] = pos[iso]
	}
	t.Time = nt
	return tmap, omap, nil
}

// mergeLevel makes t's levels the union of its own and o's (one vertical
// coordinate): t's, then o's new ones. It returns where o's levels went.
func (t *StatsTable) mergeLevel(o *StatsLevel) (tmap, omap []int, err error) {
	if o == nil {
		return nil, nil, nil
	}
	if t.Level == nil {
		c := *o
		t.Level = &c
		return nil, nil, nil
	}
	if o.Name != t.Level.Name || o.Units != t.Level.Units {
		return nil, nil, errs.E(errs.Invalid, "statistics over two vertical coordinates (%s in %s, %s in %s) cannot share one level axis: ask for the variables of one", t.Level.Name, t.Level.Units, o.Name, o.Units)
	}
	omap = make([]int, len(o.Values))
	for i, x := range o.Values {
		omap[i] = -1
		for j, y := range t.Level.Values {
			if x == y {
				omap[i] = j
			}
		}
		if omap[i] < 0 {
			omap[i] = len(t.Level.Values)
			t.Level.Values = append(t.Level.Values, x)
		}
	}
	return nil, omap, nil
}

// StatsRow is one value of a table: a region's op of a variable at a time
// step and level. Value is nil when there is none (no valid cell).
type StatsRow struct {
	Region   string   `json:"region"`
	Time     string   `json:"time"`
	Level    *float64 `json:"level,omitempty"`
	Variable string   `json:"variable"`
	Op       string   `json:"op"`
	Value    *float64 `json:"value"`
	Count    int64    `json:"count"`
}

// Rows lists the values of the table in region order, then by time step
// (variables without time first), level, variable and op; every region
// has a row for every step, level, variable and op, with count 0 and no
// value where it has no cell.
func (t *StatsTable) Rows() []StatsRow {
	var out []StatsRow
	nt := 0
	if t.Time != nil {
		nt = len(t.Time.Values)
	}
	for _, r := range t.Regions {
		// Time-less variables first (step -1), then each step.
		for ti := -1; ti < nt; ti++ {
			for v, sv := range t.Vars {
				if sv.Time != (ti >= 0) {
					continue
				}
				k := max(ti, 0)
				for l := 0; l < t.levels(v); l++ {
					var m Moments
					if r.Moments != nil && r.Moments[v] != nil {
						m = r.Moments[v][k*t.levels(v)+l]
					}
					row := StatsRow{Region: r.Name, Variable: sv.Name, Count: m.N}
					if ti >= 0 {
						row.Time = t.Time.ISO[ti]
					}
					if sv.Level && t.Level != nil {
						lv := t.Level.Values[l]
						row.Level = &lv
					}
					for _, op := range t.Ops {
						row.Op = op
						row.Value = nil
						if x, ok := m.Value(op); ok {
							row.Value = &x
						}
						out = append(out, row)
					}
				}
			}
		}
	}
	return out
}
