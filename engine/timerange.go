package engine

import (
	"fmt"
	"math"
	"strings"

	"github.com/subsetd/subsetd/cftime"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/regions"
)

// Instant is one end of a time range as the user wrote it.
type Instant struct {
	Date      cftime.Date
	Precision cftime.Precision
}

// Parse checks the syntax of both ends and their order. Nil ends are open.
func (t *TimeRange) Parse() (start, end *Instant, err error) {
	parse := func(field, s string) (*Instant, error) {
		s = strings.TrimSpace(s)
		if s == "" || s == ".." {
			return nil, nil
		}
		d, p, err := cftime.ParseISO(s)
		if err != nil {
			return nil, errs.F(errs.Invalid, field, "%v", err)
		}
		return &Instant{d, p}, nil
	}
	if start, err = parse("time.start", t.Start); err != nil {
		return nil, nil, err
	}
	if end, err = parse("time.end", t.End); err != nil {
		return nil, nil, err
	}
	if start == nil && end == nil {
		return nil, nil, errs.F(errs.Invalid, "time", "give a start, an end or both")
	}
	if start != nil && end != nil && end.Date.Before(start.Date) {
		return nil, nil, errs.F(errs.Invalid, "time", "start %s is after end %s", t.Start, t.End)
	}
	return start, end, nil
}

// ParseTimeFlag parses the CLI form START/END (either side may be empty or "..").
func ParseTimeFlag(s string) (*TimeRange, error) {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return nil, errs.F(errs.Invalid, "--time", "%q must be START/END in ISO 8601, e.g. 2020-01-01/2020-01-31", s)
	}
	t := &TimeRange{Start: a, End: b}
	if _, _, err := t.Parse(); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *TimeRange) String() string { return t.Start + "/" + t.End }

// TimeAxis decodes the time coordinate of a variable.
func TimeAxis(v *ncmodel.Var) (cftime.Units, error) {
	cal := ""
	if a, ok := v.Attr("calendar"); ok {
		cal = a.Text()
	}
	return cftime.ParseUnits(v.AttrString("units"), cal)
}

// timeWindow is a requested time range in the units of one time variable.
type timeWindow struct {
	lo, hi      float64
	hiInclusive bool
}

func (w timeWindow) holds(v float64) bool {
	const tol = 1e-6
	if math.IsNaN(v) || v < w.lo-tol {
		return false
	}
	if w.hiInclusive {
		return v <= w.hi+tol
	}
	return v < w.hi-tol
}

// window encodes the range start..end in the units and calendar of time
// variable v.
func window(name string, start, end *Instant, v *ncmodel.Var) (timeWindow, cftime.Units, error) {
	w := timeWindow{lo: math.Inf(-1), hi: math.Inf(1), hiInclusive: true}
	u, err := TimeAxis(v)
	if err != nil {
		return w, u, errs.F(errs.Invalid, "time", "%s: cannot decode time coordinate %s: %v", name, v.Path(), err)
	}
	if start != nil {
		if err := cftime.Validate(start.Date, u.Calendar); err != nil {
			return w, u, errs.F(errs.Invalid, "time.start", "%v", err)
		}
		if w.lo, err = u.Encode(start.Date); err != nil {
			return w, u, errs.F(errs.Invalid, "time.start", "%s: %v", name, err)
		}
	}
	if end != nil {
		if err := cftime.Validate(end.Date, u.Calendar); err != nil {
			return w, u, errs.F(errs.Invalid, "time.end", "%v", err)
		}
		e := end.Date
		if end.Precision != cftime.Second {
			e = cftime.NextPeriod(end.Date, end.Precision, u.Calendar)
			w.hiInclusive = false
		}
		if w.hi, err = u.Encode(e); err != nil {
			return w, u, errs.F(errs.Invalid, "time.end", "%s: %v", name, err)
		}
	}
	return w, u, nil
}

// planTime applies the time range to every time axis of the file, each on
// its own: a time dimension keeps its steps inside the range; the cells of
// tracks and swaths whose times are their own (a track along its time
// dimension, a swath's time per scan or per pixel) are selected with the
// region, cell by cell. A time dimension with no step in the range leaves
// its variables out; a range that selects nothing anywhere is an error.
func (p *filePlan) planTime(req *Request, gv []*gridVals) error {
	if req.Time == nil {
		return nil
	}
	start, end, err := req.Time.Parse()
	if err != nil {
		return err
	}
	name := baseName(p.file.Path)
	found := false
	var coverage, where, between []string
	// Dimensions whose time the grids' cells carry.
	byCells := map[*ncmodel.Dim]bool{}
	for _, x := range gv {
		if x.ct == nil {
			continue
		}
		for _, d := range x.ct.v.Dims {
			byCells[d] = true
		}
	}
	for _, d := range sortedDims(p.coords.Axes) {
		c := p.coords.Axes[d]
		if c.Axis != AxisTime || byCells[d] {
			continue
		}
		w, u, err := window(name, start, end, c.Var)
		if err != nil {
			return err
		}
		vals, err := CoordValues(p.src, c.Var)
		if err != nil {
			return errs.Wrap(errs.Unreadable, err, "%s: reading time %s", name, c.Var.Path())
		}
		first, last := -1, -1
		for i, v := range vals {
			if w.holds(v) {
				if first < 0 {
					first = i
				}
				last = i
			}
		}
		if first < 0 {
			cov := timeCoverage(u, vals)
			if gap := betweenSteps(u, vals, w); gap != "" {
				between = append(between, gap)
			} else {
				coverage, where = append(coverage, cov), append(where, c.Var.Path())
			}
			p.noTime[d] = true
			n := 0
			for _, v := range p.vars {
				for _, x := range v.Dims {
					if x == d {
						n++
						break
					}
				}
			}
			if n > 0 {
				what := fmt.Sprintf("its %d variables are", n)
				if n == 1 {
					what = "its variable is"
				}
				p.notes = append(p.notes, fmt.Sprintf("%s: time range %s holds no step of %s (%s): %s left out", name, req.Time, c.Var.Path(), cov, what))
			}
			continue
		}
		found = true
		p.common[d] = &dimSel{runs: []regions.Run{{Start: first, Count: last - first + 1}}, stride: p.strideFor(d, req.Stride)}
	}
	for _, x := range gv {
		if x.ct == nil {
			continue
		}
		w, u, err := window(name, start, end, x.ct.v)
		if err != nil {
			return err
		}
		times, err := x.ct.values(p.src, x.g)
		if err != nil {
			return errs.Wrap(errs.Unreadable, err, "%s: reading time %s", name, x.ct.v.Path())
		}
		x.inTime = make([]bool, len(times))
		any := false
		for k, t := range times {
			x.inTime[k] = w.holds(t)
			any = any || x.inTime[k]
		}
		switch {
		case any:
			found = true
		case betweenSteps(u, times, w) != "":
			between = append(between, betweenSteps(u, times, w))
		default:
			coverage, where = append(coverage, timeCoverage(u, times)), append(where, "cells of "+x.g.Lat.Path())
		}
	}
	if !found {
		switch {
		case len(between) > 0:
			// Inside the coverage, between two steps: say which steps
			// are nearest rather than that the data is elsewhere.
			return errs.F(errs.Invalid, "time", "no time step of %s between %s and %s (nearest: %s)", name, orOpen(req.Time.Start), orOpen(req.Time.End), strings.Join(between, "; "))
		case len(coverage) == 0:
			return errs.F(errs.Invalid, "time", "%s has no time coordinate to select %s on", name, req.Time)
		}
		if len(coverage) > 1 {
			for i := range coverage {
				coverage[i] = where[i] + " " + coverage[i]
			}
		}
		return errs.F(errs.Invalid, "time", "time range %s is outside the data of %s (time coverage %s)", req.Time, name, strings.Join(coverage, "; "))
	}
	return nil
}

// betweenSteps describes the steps nearest a range that lies inside an
// axis's coverage without holding a step ("" when the range is outside the
// coverage): the last step before and the first after.
func betweenSteps(u cftime.Units, vals []float64, w timeWindow) string {
	before, after := math.Inf(-1), math.Inf(1)
	for _, v := range vals {
		switch {
		case math.IsNaN(v):
		case v < w.lo:
			before = math.Max(before, v)
		case !w.holds(v):
			after = math.Min(after, v)
		}
	}
	if math.IsInf(before, 0) || math.IsInf(after, 0) {
		return ""
	}
	a, err1 := u.Decode(before)
	b, err2 := u.Decode(after)
	if err1 != nil || err2 != nil {
		return fmt.Sprintf("%g and %g %s", before, after, u.Unit)
	}
	return a.String() + " before, " + b.String() + " after"
}

func orOpen(s string) string {
	if strings.TrimSpace(s) == "" {
		return ".."
	}
	return s
}

// timeCoverage formats the first and last valid times of an axis.
func timeCoverage(u cftime.Units, vals []float64) string {
	lo, hi := minMax(vals)
	if math.IsNaN(lo) {
		return "no valid times"
	}
	a, err1 := u.Decode(lo)
	b, err2 := u.Decode(hi)
	if err1 != nil || err2 != nil {
		return fmt.Sprintf("%g..%g %s", lo, hi, u.Unit)
	}
	return a.String() + ".." + b.String()
}
