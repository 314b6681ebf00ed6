package engine

import (
	"fmt"
	"math"
	"path"
	"sort"
	"strings"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/regions"
)

// Request is what to cut: the engine's input. Its regions are fixed (their
// areas written out, never looked up in a set here). Its JSON is what each
// output records in its subsetd_request attribute, with the output's region
// as it was asked for.
type Request struct {
	Regions   []regions.Fixed `json:"regions"`
	Variables []string        `json:"variables,omitempty"`
	Time      *TimeRange      `json:"time,omitempty"`
	Vertical  *VerticalRange  `json:"vertical,omitempty"`
	// Stride per axis ("time", "lat", "lon", "vertical") or per dimension name.
	Stride map[string]int `json:"stride,omitempty"`
	// Select is the rule deciding which cells a region takes: SelectCentre
	// (the default) or SelectOverlap.
	Select string `json:"select,omitempty"`
	Output Output `json:"output,omitzero"`
	// Statistics, when set, asks for statistics of every region.
	Statistics *Statistics `json:"statistics,omitempty"`
}

// selectRule returns the request's selection rule ("center" is "centre").
func (r *Request) selectRule() string {
	if r.Select == SelectOverlap {
		return SelectOverlap
	}
	return SelectCentre
}

// TimeRange is an inclusive ISO 8601 range; either end may be empty (open).
// An end given to the day (or month, year) includes that whole day.
type TimeRange struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

// VerticalRange selects levels whose coordinate value lies in [Min, Max]
// (in the vertical coordinate's own units); either end may be absent.
type VerticalRange struct {
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
}

// Output says how files are written.
type Output struct {
	// Format is "netcdf4" (default) or "netcdf3" (64-bit offset).
	Format string `json:"format,omitempty"`
	// Deflate is the zlib level 0..9 for netcdf4 (default 1, with shuffle).
	Deflate *int `json:"deflate,omitempty"`
}

// Output formats.
const (
	FormatNetCDF4 = "netcdf4"
	FormatNetCDF3 = "netcdf3"
)

// DefaultDeflate is the deflate level when none is asked for.
const DefaultDeflate = 1

// FileFormat is the ncmodel format to write.
func (o Output) FileFormat() ncmodel.Format {
	if o.Format == FormatNetCDF3 {
		return ncmodel.Format64BitOffset
	}
	return ncmodel.FormatNetCDF4
}

// DeflateLevel is the deflate level to use (0 for netCDF-3).
func (o Output) DeflateLevel() int {
	if o.Format == FormatNetCDF3 {
		return 0
	}
	if o.Deflate == nil {
		return DefaultDeflate
	}
	return *o.Deflate
}

// Validate checks everything that can be checked without opening a file.
func (r *Request) Validate() error {
	if _, err := regions.ResolveFixed("regions", r.Regions); err != nil {
		return err
	}
	if err := r.validateOptions(); err != nil {
		return err
	}
	if r.Statistics != nil {
		names := make([]string, len(r.Regions))
		for i, x := range r.Regions {
			names[i] = x.OutputName()
		}
		return r.Statistics.validate(names)
	}
	return nil
}

// validateOptions checks everything but the regions.
func (r *Request) validateOptions() error {
	seen := map[string]bool{}
	for i, v := range r.Variables {
		if strings.TrimSpace(v) == "" {
			return errs.F(errs.Invalid, fmt.Sprintf("variables[%d]", i), "empty variable name")
		}
		if seen[v] {
			return errs.F(errs.Invalid, fmt.Sprintf("variables[%d]", i), "variable %q is listed twice", v)
		}
		seen[v] = true
	}
	if r.Time != nil {
		if _, _, err := r.Time.Parse(); err != nil {
			return err
		}
	}
	if v := r.Vertical; v != nil {
		for _, p := range []*float64{v.Min, v.Max} {
			if p != nil && (math.IsNaN(*p) || math.IsInf(*p, 0)) {
				return errs.F(errs.Invalid, "vertical", "vertical bounds must be finite numbers")
			}
		}
		if v.Min != nil && v.Max != nil && *v.Min > *v.Max {
			return errs.F(errs.Invalid, "vertical", "min (%v) is greater than max (%v)", *v.Min, *v.Max)
		}
	}
	for k, s := range r.Stride {
		if s < 1 {
			return errs.F(errs.Invalid, "stride."+k, "stride must be a positive integer, got %d", s)
		}
	}
	switch r.Select {
	case "", SelectCentre, "center", SelectOverlap:
	default:
		return errs.F(errs.Invalid, "select", "unknown selection rule %q: use %q (cells whose centre lies in the region, the default) or %q (cells whose extent meets it)", r.Select, SelectCentre, SelectOverlap)
	}
	switch r.Output.Format {
	case "", FormatNetCDF4, FormatNetCDF3:
	default:
		return errs.F(errs.Invalid, "output.format", "unknown format %q: use %q or %q", r.Output.Format, FormatNetCDF4, FormatNetCDF3)
	}
	if d := r.Output.Deflate; d != nil {
		if *d < 0 || *d > 9 {
			return errs.F(errs.Invalid, "output.deflate", "deflate level must be 0..9, got %d", *d)
		}
		if r.Output.Format == FormatNetCDF3 && *d != 0 {
			return errs.F(errs.Invalid, "output.deflate", "netcdf3 output cannot be compressed")
		}
	}
	if r.Statistics != nil {
		return r.Statistics.validate(nil)
	}
	return nil
}

// CheckData checks what a request asks of the data against the data's
// dimensions (a Description's, with their axes): each stride names an axis
// (time, lat, lon, vertical) or a dimension of the data, and a vertical
// range needs a vertical axis. what names the data in messages ("x.nc",
// `dataset "sst"`). The cut checks each file with it as it plans, the
// server a dataset's index record before it accepts a job: one rule.
func (r *Request) CheckData(what string, dims []DimInfo) error {
	names := make([]string, 0, len(dims))
	has := map[string]bool{}
	vertical := false
	for _, d := range dims {
		n := path.Base(d.Name)
		if !has[n] {
			names = append(names, n)
		}
		has[n] = true
		vertical = vertical || d.Axis == string(AxisVertical)
	}
	keys := make([]string, 0, len(r.Stride))
	for k := range r.Stride {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch Axis(k) {
		case AxisTime, AxisLat, AxisLon, AxisVertical:
			continue
		}
		if !has[k] {
			return errs.F(errs.Invalid, "stride."+k, "%s has no dimension %q: use time, lat, lon, vertical or one of its dimensions (%s)", what, k, strings.Join(names, ", "))
		}
	}
	if v := r.Vertical; v != nil && (v.Min != nil || v.Max != nil) && !vertical {
		return errs.F(errs.Invalid, "vertical", "%s has no vertical axis: leave out the vertical range", what)
	}
	return nil
}
