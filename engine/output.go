package engine

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/subsetd/subsetd/cftime"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/regions"
)

// chunkTarget is the size in bytes output chunks aim at.
const chunkTarget = 1 << 20

// outputFile builds the description of one region's output: the input's
// groups, dimensions cut to the selection, the output variables with their
// attributes, storage options, and updated global metadata.
//
// notes say what the history should record about attributes changed.
func (p *filePlan) outputFile(rp *regionPlan, format ncmodel.Format, deflate int) (out *ncmodel.File, vars map[*ncmodel.Var]*ncmodel.Var, fills map[*ncmodel.Var][]byte, notes []string) {
	keep := map[*ncmodel.Var]bool{}
	usedDims := map[*ncmodel.Dim]bool{}
	fills = map[*ncmodel.Var][]byte{}
	for _, v := range p.vars {
		if p.leftOut(rp, v) {
			continue
		}
		keep[v] = true
		for _, d := range v.Dims {
			usedDims[d] = true
		}
	}
	dims := map[*ncmodel.Dim]*ncmodel.Dim{}
	vars = map[*ncmodel.Var]*ncmodel.Var{}
	var copyGroup func(g, parent *ncmodel.Group) *ncmodel.Group
	copyGroup = func(g, parent *ncmodel.Group) *ncmodel.Group {
		o := &ncmodel.Group{Name: g.Name, Parent: parent, Attrs: append([]ncmodel.Attr(nil), g.Attrs...)}
		for _, d := range g.Dims {
			if !usedDims[d] && (!p.allVars || rp.dropped[d] || p.noTime[d]) {
				continue
			}
			n := d.Len
			if s := p.selFor(rp, d); s != nil {
				n = s.outLen()
			}
			od := &ncmodel.Dim{Name: d.Name, Len: n, Unlimited: d.Unlimited, Group: o}
			dims[d] = od
			o.Dims = append(o.Dims, od)
		}
		for _, v := range g.Vars {
			if !keep[v] {
				continue
			}
			ov := &ncmodel.Var{Name: v.Name, Type: v.Type, Group: o}
			for _, d := range v.Dims {
				ov.Dims = append(ov.Dims, dims[d])
			}
			if !format.IsNetCDF3() && len(ov.Dims) > 0 {
				ov.Chunks = chunkShape(ov, chunkTarget)
				if v.Type != ncmodel.String && deflate > 0 {
					ov.Deflate = deflate
					ov.Shuffle = v.Type.Size() > 1
				}
			}
			var why []string
			ov.Attrs, why = outputVarAttrs(v, ov, p.lonShift(rp, v))
			notes = append(notes, why...)
			if p.masked(rp, v) {
				fill, declared := fillValue(v.Type, ov.Attrs)
				fills[v] = fill
				if !declared {
					ov.Attrs = append(ov.Attrs, ncmodel.Attr{Name: "_FillValue", Type: v.Type, Value: ncmodel.DecodeValues(v.Type, fill)})
				}
			}
			vars[v] = ov
			o.Vars = append(o.Vars, ov)
		}
		for _, c := range g.Groups {
			oc := copyGroup(c, o)
			if p.allVars || len(oc.Vars) > 0 || len(oc.Groups) > 0 {
				o.Groups = append(o.Groups, oc)
			}
		}
		return o
	}
	out = &ncmodel.File{Format: format, Root: copyGroup(p.file.Root, nil)}
	return out, vars, fills, notes
}

// masked reports whether a region's masks apply to variable v: a data
// variable (not a coordinate or bounds) spanning every dimension of a mask.
// Flags without a fill value are not masked: any value written would read
// as a combination of flags.
func (p *filePlan) masked(rp *regionPlan, v *ncmodel.Var) bool {
	if p.noMask[v] || v.Type == ncmodel.String || v.Type == ncmodel.Char || isFlags(v) && !hasFill(v) {
		return false
	}
	for _, m := range rp.masks {
		if m.applies(v) {
			return true
		}
	}
	return false
}

// applies reports whether v lies on the mask's grids (and so spans every
// dimension of the mask).
func (m *gridMask) applies(v *ncmodel.Var) bool {
	return slices.Equal(m.of[v], m.grids)
}

// apply sets the cells of a (written at output position at) that lie
// outside the region to fill.
func (m *gridMask) apply(v *ncmodel.Var, at []int, a *ncmodel.Array, fill []byte) {
	if !m.applies(v) {
		return
	}
	pos := make([]int, len(m.dims)) // where each mask dimension is in v
	for i, d := range m.dims {
		for j, x := range v.Dims {
			if x == d {
				pos[i] = j
			}
		}
	}
	rank := len(a.Shape)
	es := a.Type.Size()
	idx := make([]int, rank)
	for k := 0; k < a.Len(); k++ {
		mi := 0
		for i := range m.dims {
			mi = mi*m.shape[i] + at[pos[i]] + idx[pos[i]]
		}
		if !m.inside[mi] {
			copy(a.Data[k*es:(k+1)*es], fill)
		}
		for d := rank - 1; d >= 0; d-- {
			idx[d]++
			if idx[d] < a.Shape[d] {
				break
			}
			idx[d] = 0
		}
	}
}

// chunkShape picks chunk sizes: whole along the last dimensions, one step
// along leading (time-like, unlimited) dimensions, halving the largest
// until a chunk holds about target bytes.
func chunkShape(v *ncmodel.Var, target int) []int {
	c := make([]int, len(v.Dims))
	for i, d := range v.Dims {
		c[i] = max(d.Len, 1)
	}
	size := func() int { return ncmodel.Product(c) * max(v.Type.Size(), 1) }
	for i := 0; i < len(c)-2 && size() > target; i++ {
		c[i] = 1
	}
	for size() > target {
		big := 0
		for i := range c {
			if c[i] > c[big] {
				big = i
			}
		}
		if c[big] == 1 {
			break
		}
		c[big] = (c[big] + 1) / 2
	}
	for i, d := range v.Dims {
		if d.Unlimited && len(c) > 1 && c[i] > 1 && i == 0 {
			c[i] = min(c[i], 1024)
		}
	}
	return c
}

// regionMeta holds what the metadata of one output says about its extent.
type regionMeta struct {
	latMin, latMax float64
	lonWest        float64
	lonEast        float64
	timeStart      string      // ISO 8601; "" when the output has no time
	timeEnd        string      //
	start, end     cftime.Date // the same
	duration       float64     // seconds from timeStart to timeEnd; NaN when unknown
}

// setGlobalAttrs updates the root attributes of an output: history, ACDD
// extent attributes, and the request that made it.
func setGlobalAttrs(root *ncmodel.Group, m regionMeta, req *Request, region regions.Fixed, name string, sources []string, notes []string, opt Options, now time.Time) {
	set := func(name string, t ncmodel.Type, v any) {
		for i := range root.Attrs {
			if root.Attrs[i].Name == name {
				root.Attrs[i] = ncmodel.Attr{Name: name, Type: t, Value: v}
				return
			}
		}
		root.Attrs = append(root.Attrs, ncmodel.Attr{Name: name, Type: t, Value: v})
	}
	del := func(name string) {
		root.Attrs = slices.DeleteFunc(root.Attrs, func(a ncmodel.Attr) bool { return a.Name == name })
	}
	_, hasBounds := root.Attr("geospatial_bounds")
	if !math.IsNaN(m.latMin) {
		set("geospatial_lat_min", ncmodel.Double, []float64{m.latMin})
		set("geospatial_lat_max", ncmodel.Double, []float64{m.latMax})
		set("geospatial_lon_min", ncmodel.Double, []float64{m.lonWest})
		set("geospatial_lon_max", ncmodel.Double, []float64{m.lonEast})
		if hasBounds {
			set("geospatial_bounds", ncmodel.Char, boundsWKT(m))
		}
	} else if hasBounds {
		del("geospatial_bounds")
	}
	if m.timeStart != "" {
		set("time_coverage_start", ncmodel.Char, m.timeStart)
		set("time_coverage_end", ncmodel.Char, m.timeEnd)
		// GHRSST GDS 2's names for the same, in the source's own format.
		for _, a := range []struct {
			name string
			d    cftime.Date
		}{{"start_time", m.start}, {"stop_time", m.end}} {
			if old, ok := root.Attr(a.name); ok {
				set(a.name, ncmodel.Char, formatLike(old.Text(), a.d))
			}
		}
	}
	if _, ok := root.Attr("time_coverage_duration"); ok {
		if m.timeStart != "" && !math.IsNaN(m.duration) {
			set("time_coverage_duration", ncmodel.Char, isoDuration(m.duration))
		} else {
			del("time_coverage_duration")
		}
	}
	cmd := opt.Command
	if cmd == "" {
		cmd = "subsetd subset"
	}
	line := now.UTC().Format("2006-01-02T15:04:05Z") + ": " + cmd + " (subsetd " + opt.Version + ", region " + name + ")"
	if len(notes) > 0 {
		line += "; " + strings.Join(notes, "; ")
	}
	hist := ""
	if a, ok := root.Attr("history"); ok {
		hist = strings.TrimRight(a.Text(), "\n")
	}
	if hist != "" {
		hist += "\n"
	}
	set("history", ncmodel.Char, hist+line)
	// The request with this region alone, as it was asked for: a ref
	// without the geometry it was fixed to.
	one := struct {
		Regions []regions.Region `json:"regions"`
		*Request
	}{[]regions.Region{region.Written()}, req}
	js, _ := json.Marshal(one)
	set("subsetd_request", ncmodel.Char, string(js))
	set("subsetd_version", ncmodel.Char, opt.Version)
	set("subsetd_source", ncmodel.Char, strings.Join(sources, ", "))
}

// boundsWKT writes an extent as ACDD's geospatial_bounds: a WKT polygon of
// longitude-latitude pairs (as GHRSST files write them), split in two at
// 180 when the extent crosses it; a point for a single cell.
func boundsWKT(m regionMeta) string {
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
	ring := func(w, e float64) string {
		s, n := f(m.latMin), f(m.latMax)
		return "((" + f(w) + " " + s + ", " + f(e) + " " + s + ", " + f(e) + " " + n + ", " + f(w) + " " + n + ", " + f(w) + " " + s + "))"
	}
	switch {
	case m.lonWest == m.lonEast && m.latMin == m.latMax:
		return "POINT (" + f(m.lonWest) + " " + f(m.latMin) + ")"
	case m.lonWest > m.lonEast:
		return "MULTIPOLYGON (" + ring(m.lonWest, 180) + ", " + ring(-180, m.lonEast) + ")"
	}
	return "POLYGON " + ring(m.lonWest, m.lonEast)
}

// isoDuration writes seconds as an ISO 8601 duration (P1DT2H3M4.5S).
func isoDuration(sec float64) string {
	if sec <= 0 {
		return "PT0S"
	}
	days := math.Floor(sec / 86400)
	sec -= days * 86400
	h := math.Floor(sec / 3600)
	sec -= h * 3600
	mi := math.Floor(sec / 60)
	sec = math.Round((sec-mi*60)*1e6) / 1e6
	out := "P"
	if days > 0 {
		out += strconv.FormatFloat(days, 'f', -1, 64) + "D"
	}
	if h+mi+sec > 0 {
		out += "T"
		for _, part := range []struct {
			v float64
			u string
		}{{h, "H"}, {mi, "M"}, {sec, "S"}} {
			if part.v > 0 {
				out += strconv.FormatFloat(part.v, 'f', -1, 64) + part.u
			}
		}
	}
	return out
}

// dateLayouts are the ISO 8601 forms of a date time attribute formatLike
// keeps: basic (GHRSST's "20190821T174811Z") and extended, with a T or a
// space, fractional seconds and a Z or not.
var dateLayouts = regexp.MustCompile(`^(\d{4})(-?)(\d{2})-?(\d{2})([T ])(\d{2})(:?)(\d{2}):?(\d{2})(\.\d+)?(Z?)$`)

// formatLike writes d as model is written (one of dateLayouts), seconds
// cut to model's precision; as ISO 8601 extended (Date.String) when model
// is in another form or d's year has not four digits.
func formatLike(model string, d cftime.Date) string {
	m := dateLayouts.FindStringSubmatch(strings.TrimSpace(model))
	if m == nil || d.Year < 0 || d.Year > 9999 || (m[2] == "") != (m[7] == "") {
		return d.String()
	}
	dateSep, timeSep := m[2], m[7]
	sec := int(math.Floor(d.Second))
	out := fmt.Sprintf("%04d%s%02d%s%02d%s%02d%s%02d%s%02d", d.Year, dateSep, d.Month, dateSep, d.Day, m[5], d.Hour, timeSep, d.Minute, timeSep, sec)
	if digits := len(m[10]) - 1; digits > 0 {
		frac := math.Min(math.Floor((d.Second-float64(sec))*math.Pow10(digits)+1e-6), math.Pow10(digits)-1)
		out += fmt.Sprintf(".%0*d", digits, int64(frac))
	}
	return out + m[11]
}

// extentOf computes the metadata extent of a region from its selections.
func (p *filePlan) extentOf(rp *regionPlan, coordVals map[*ncmodel.Var][]float64) regionMeta {
	m := regionMeta{latMin: math.NaN()}
	if rp.extent != nil {
		m = *rp.extent
	}
	m.duration = math.NaN()
	type span struct {
		start, end cftime.Date
		hi         float64 // end in u
		u          cftime.Units
	}
	var spans []span
	add := func(u cftime.Units, lo, hi float64) {
		a, err1 := u.Decode(lo)
		b, err2 := u.Decode(hi)
		if err1 == nil && err2 == nil {
			spans = append(spans, span{a, b, hi, u})
		}
	}
	// Cells with their own time (swaths) say when the kept cells were
	// seen; a reference time would say when the granule starts.
	for i, g := range p.coords.Grids {
		if g.Kind == Rectilinear || rp.missed[i] {
			continue
		}
		for _, pt := range p.pixelTimes(g) {
			if !p.writes(rp, pt.v) {
				continue
			}
			if lo, hi, ok, err := p.pixelCoverage(rp, pt); err == nil && ok {
				add(pt.units, lo, hi)
			}
		}
	}
	if len(spans) == 0 {
		for _, d := range sortedDims(p.coords.Axes) {
			c := p.coords.Axes[d]
			if c.Axis != AxisTime || coordVals[c.Var] == nil || !p.keeps(rp, d) {
				continue
			}
			u, err := TimeAxis(c.Var)
			if err != nil {
				continue
			}
			vals := selected(coordVals[c.Var], p.selFor(rp, d))
			if lo, hi := minMax(vals); !math.IsNaN(lo) {
				add(u, lo, hi)
			}
		}
	}
	if len(spans) == 0 {
		return m
	}
	first, last := spans[0], spans[0]
	for _, s := range spans[1:] {
		if s.start.Before(first.start) {
			first = s
		}
		if last.end.Before(s.end) {
			last = s
		}
	}
	m.start, m.end = first.start, last.end
	m.timeStart, m.timeEnd = m.start.String(), m.end.String()
	if start, err := last.u.Encode(first.start); err == nil && last.u.Scale > 0 {
		m.duration = (last.hi - start) * last.u.Scale
	}
	return m
}

// selected returns the values a selection takes, with run shifts applied.
func selected(vals []float64, s *dimSel) []float64 {
	if s == nil {
		return vals
	}
	var out []float64
	for _, r := range s.runs {
		for i := r.Start; i < r.Start+r.Count; i += s.stride {
			out = append(out, vals[i]+r.Shift)
		}
	}
	return out
}

func minMax(vals []float64) (float64, float64) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		if !math.IsNaN(v) {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if lo > hi {
		return math.NaN(), math.NaN()
	}
	return lo, hi
}
