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

// planTime selects the time steps inside the requested range on every time
// axis of the file.
func (p *filePlan) planTime(req *Request) error {
	if req.Time == nil {
		return nil
	}
	start, end, err := req.Time.Parse()
	if err != nil {
		return err
	}
	name := baseName(p.file.Path)
	found := false
	var coverage, between []string
	for _, d := range sortedDims(p.coords.Axes) {
		c := p.coords.Axes[d]
		if c.Axis != AxisTime {
			continue
		}
		u, err := TimeAxis(c.Var)
		if err != nil {
			return errs.F(errs.Invalid, "time", "%s: cannot decode time coordinate %s: %v", name, c.Var.Path(), err)
		}
		lo, hi := math.Inf(-1), math.Inf(1)
		hiInclusive := true
		if start != nil {
			if err := cftime.Validate(start.Date, u.Calendar); err != nil {
				return errs.F(errs.Invalid, "time.start", "%v", err)
			}
			if lo, err = u.Encode(start.Date); err != nil {
				return errs.F(errs.Invalid, "time.start", "%s: %v", name, err)
			}
		}
		if end != nil {
			if err := cftime.Validate(end.Date, u.Calendar); err != nil {
				return errs.F(errs.Invalid, "time.end", "%v", err)
			}
			e := end.Date
			if end.Precision != cftime.Second {
				e = cftime.NextPeriod(end.Date, end.Precision, u.Calendar)
				hiInclusive = false
			}
			if hi, err = u.Encode(e); err != nil {
				return errs.F(errs.Invalid, "time.end", "%s: %v", name, err)
			}
		}
		vals, err := CoordValues(p.src, c.Var)
		if err != nil {
			return errs.Wrap(errs.Unreadable, err, "%s: reading time %s", name, c.Var.Path())
		}
		tol := 1e-6
		first, last := -1, -1
		for i, v := range vals {
			in := v >= lo-tol && (v <= hi+tol && hiInclusive || v < hi-tol && !hiInclusive)
			if in && !math.IsNaN(v) {
				if first < 0 {
					first = i
				}
				last = i
			}
		}
		if first < 0 {
			if gap := betweenSteps(u, vals, lo, hi); gap != "" {
				between = append(between, gap)
			} else {
				coverage = append(coverage, timeCoverage(u, vals))
			}
			continue
		}
		found = true
		p.common[d] = &dimSel{runs: []regions.Run{{Start: first, Count: last - first + 1}}, stride: p.strideFor(d, req.Stride)}
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
		return errs.F(errs.Invalid, "time", "time range %s is outside the data of %s (time coverage %s)", req.Time, name, strings.Join(coverage, "; "))
	}
	return nil
}

// betweenSteps describes the steps nearest a range [lo, hi] that lies
// inside an axis's coverage without holding a step ("" when the range is
// outside the coverage): the last step before and the first after.
func betweenSteps(u cftime.Units, vals []float64, lo, hi float64) string {
	before, after := math.Inf(-1), math.Inf(1)
	for _, v := range vals {
		switch {
		case math.IsNaN(v):
		case v < lo:
			before = math.Max(before, v)
		case v > hi || v == hi:
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
