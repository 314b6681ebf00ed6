package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/subsetd/subsetd/api"
	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/regions"
)

// requestFlags are the flags that say what to cut: regions, variables,
// time and vertical ranges, strides, the selection rule, the output format
// and the statistics. `subset` (which cuts here) and `submit` (which asks a
// server) share them, and both build the same api.JobRequest from them;
// errors about the request, found here, by the engine or by a server, are
// put in the flags' words by flagError.
type requestFlags struct {
	fs                                                    *flag.FlagSet
	region                                                stringList
	regionsFile                                           *string
	noMask, statsOnly                                     *bool
	vars, timeRange, vertical, stride, selectRule, format *string
	statsOps, statsVars, weights                          *string
	deflate                                               *int
	// origins[i] is the flag region i of the request came from.
	origins []string
}

// boxOrder is how every help text and error about a box says its order.
const boxOrder = "W,S,E,N (west, south, east, north)"

func addRequestFlags(fs *flag.FlagSet) *requestFlags {
	f := &requestFlags{fs: fs}
	fs.Var(&f.region, "region", "a region `NAME=W,S,E,N`: a box in degrees, in the order west, south, east, north (not NCO's lon,lon,lat,lat); or SET/NAME of a named set (repeatable)")
	f.regionsFile = fs.String("regions", "", "a `FILE` of regions: {\"regions\": [{\"name\": ..., \"bbox\": [W, S, E, N] | \"geometry\" | \"ref\": ...}]}, or a GeoJSON Feature or FeatureCollection of polygons or points")
	f.noMask = fs.Bool("no-mask", false, "keep the whole index box of polygons and 2-D grids: do not set cells outside the region to fill")
	f.vars = fs.String("vars", "", "comma-separated `variables` to keep (default: all); coordinates, bounds and grid mappings come along")
	f.timeRange = fs.String("time", "", "time range `START/END` in ISO 8601, inclusive (e.g. 2020-01-01/2020-01-31); either side may be empty")
	f.vertical = fs.String("vertical", "", "vertical range `MIN/MAX` in the vertical coordinate's units (either side may be empty)")
	f.stride = fs.String("stride", "", "strides `AXIS=N,...` per axis (time, lat, lon, vertical) or dimension name")
	f.selectRule = fs.String("select", engine.SelectCentre, "which cells a region takes: `centre` (whose centre lies in it) or overlap (whose extent meets it)")
	f.format = fs.String("format", engine.FormatNetCDF4, "output `format`: netcdf4 or netcdf3 (64-bit offset)")
	f.deflate = fs.Int("deflate", engine.DefaultDeflate, "deflate `level` 0-9 for netcdf4 output (shuffle is on when > 0)")
	f.statsOps = fs.String("stats", "", "statistics `ops` of every region, comma-separated: mean, min, max, std, sum, count (written to stats.nc and stats.csv)")
	f.statsVars = fs.String("stats-vars", "", "comma-separated `variables` for --stats (default: those of --vars, else every data variable on a grid)")
	f.statsOnly = fs.Bool("stats-only", false, "compute the --stats without writing cut files")
	f.weights = fs.String("weights", engine.WeightsArea, "weights of the --stats mean and std: `area` (cell areas) or none")
	return f
}

// request builds the request the flags describe, its refs unresolved
// (SET/NAME stays a ref: a server resolves it against its own sets). Every
// error is a usage error, in the flags' words.
func (f *requestFlags) request() (*api.JobRequest, error) {
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	req := &api.JobRequest{Output: engine.Output{Format: *f.format}}
	f.origins = nil
	if *f.regionsFile != "" {
		rs, err := readRegionsFile(*f.regionsFile)
		if err != nil {
			return nil, err
		}
		for i := range rs {
			f.origins = append(f.origins, fmt.Sprintf("--regions %s: region %d", *f.regionsFile, i+1))
		}
		req.Regions = append(req.Regions, rs...)
	}
	for _, s := range f.region {
		if !strings.Contains(s, "=") && strings.Contains(s, "/") {
			req.Regions = append(req.Regions, regions.Region{Ref: s})
			f.origins = append(f.origins, "--region "+s)
			continue
		}
		r, err := regions.ParseRegionFlag(s)
		if err != nil {
			return nil, err
		}
		req.Regions = append(req.Regions, r)
		f.origins = append(f.origins, "--region "+r.Name)
	}
	if len(req.Regions) == 0 {
		return nil, errs.E(errs.Invalid, "give at least one --region NAME=%s or --regions FILE", boxOrder)
	}
	if *f.noMask {
		no := false
		for i := range req.Regions {
			req.Regions[i].Mask = &no
		}
	}
	req.Variables = splitList(*f.vars)
	if *f.timeRange != "" {
		t, err := engine.ParseTimeFlag(*f.timeRange)
		if err != nil {
			return nil, f.flagError(err)
		}
		req.Time = t
	}
	if *f.vertical != "" {
		v, err := parseVertical(*f.vertical)
		if err != nil {
			return nil, err
		}
		req.Vertical = v
	}
	if *f.stride != "" {
		s, err := parseStride(*f.stride)
		if err != nil {
			return nil, err
		}
		req.Stride = s
	}
	if set["select"] {
		req.Select = *f.selectRule
	}
	if set["deflate"] {
		req.Output.Deflate = f.deflate
	}
	if *f.statsOps != "" {
		req.Statistics = &engine.Statistics{Ops: splitList(*f.statsOps), Variables: splitList(*f.statsVars), Weights: *f.weights, Only: *f.statsOnly}
	} else {
		for _, name := range []string{"stats-vars", "stats-only", "weights"} {
			if set[name] {
				return nil, errs.F(errs.Invalid, "--"+name, "needs --stats")
			}
		}
	}
	return req, nil
}

// engineRequest is the request as the engine cuts it here: its refs
// looked up in the named sets (the built-in ones, --regions-dir).
func (f *requestFlags) engineRequest(r *api.JobRequest) (*engine.Request, error) {
	fixed, err := regions.FixList("regions", r.Regions)
	if err != nil {
		return nil, f.flagError(err)
	}
	req := &engine.Request{Regions: fixed, Variables: r.Variables, Time: r.Time, Vertical: r.Vertical, Stride: r.Stride,
		Select: r.Select, Output: r.Output, Statistics: r.Statistics}
	if err := req.Validate(); err != nil {
		return nil, f.flagError(err)
	}
	return req, nil
}

// fieldFlags are the flags of the request's fields, by the field's first
// part ("variables" of "variables[1]").
var fieldFlags = map[string]string{
	"variables":            "--vars",
	"time":                 "--time",
	"vertical":             "--vertical",
	"stride":               "--stride",
	"select":               "--select",
	"output":               "--format",
	"output.format":        "--format",
	"output.deflate":       "--deflate",
	"statistics":           "--stats",
	"statistics.ops":       "--stats",
	"statistics.variables": "--stats-vars",
	"statistics.weights":   "--weights",
	"statistics.only":      "--stats-only",
	"regions":              "--region",
	"dataset":              "DATASET",
}

var (
	regionField = regexp.MustCompile(`^regions\[(\d+)\]`)
	regionRef   = regexp.MustCompile(`\bregions\[\d+\]`) // in a message: "(also regions[0])"
)

// flagName is the flag a request field was given by: "variables[1]" is
// --vars, "regions[2].bbox" the --region (or --regions file) the third
// region came from. A field of no flag is returned as it is.
func (f *requestFlags) flagName(field string) string {
	if m := regionField.FindStringSubmatch(field); m != nil {
		if i, err := strconv.Atoi(m[1]); err == nil && i < len(f.origins) {
			return f.origins[i]
		}
		return "--region"
	}
	base, _, _ := strings.Cut(field, "[")
	if name, ok := fieldFlags[base]; ok { // "statistics.ops[1]"
		return name
	}
	base, _, _ = strings.Cut(base, ".")
	if name, ok := fieldFlags[base]; ok { // "stride.depth", "time.start"
		return name
	}
	return field
}

// flagError puts an error about a request field in the flags' words:
// "variables[1]: variable "sst" is listed twice" becomes "--vars: ...".
func (f *requestFlags) flagError(err error) error {
	var e *errs.Error
	if !errors.As(err, &e) || e.Field == "" || strings.HasPrefix(e.Field, "-") {
		return err
	}
	c := *e
	c.Field = f.flagName(e.Field)
	c.Message = regionRef.ReplaceAllStringFunc(c.Message, f.flagName)
	return &c
}

// isUsageError reports whether err is the user's request at fault (exit
// status 2): a flag's value is invalid, or names what the data does not
// have (a variable, an axis, a time range).
func isUsageError(err error) bool {
	switch errs.CodeOf(err) {
	case errs.Invalid, errs.NotFound:
		return errs.FieldOf(err) != ""
	}
	return false
}

// splitList splits a comma-separated flag value; "" is none.
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	var out []string
	for _, v := range strings.Split(s, ",") {
		out = append(out, strings.TrimSpace(v))
	}
	return out
}

// readRegionsFile reads {"regions": [...]} (the REST API's shape), or a
// GeoJSON Feature or FeatureCollection (one region per feature, named by
// properties.name, else numbered).
func readRegionsFile(path string) ([]regions.Region, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, err, "--regions")
	}
	var probe struct {
		Type string `json:"type"`
	}
	json.Unmarshal(data, &probe)
	switch probe.Type {
	case "Feature", "FeatureCollection":
		return regionsFromGeoJSON(path, data)
	case "Polygon", "MultiPolygon":
		return []regions.Region{{Name: "region_1", Geometry: data}}, nil
	}
	var doc struct {
		Regions []regions.Region `json:"regions"`
	}
	// Read as a job's body is: names as written, none twice.
	if err := api.DecodeStrict(data, &doc); err != nil {
		return nil, errs.F(errs.Invalid, "--regions", "%s: not a regions file (want {\"regions\": [{\"name\": ..., \"bbox\": [W, S, E, N]}]} or GeoJSON): %v", path, err)
	}
	if len(doc.Regions) == 0 {
		return nil, errs.F(errs.Invalid, "--regions", "%s holds no regions", path)
	}
	return doc.Regions, nil
}

func regionsFromGeoJSON(path string, data []byte) ([]regions.Region, error) {
	type feature struct {
		Type       string          `json:"type"`
		Properties map[string]any  `json:"properties"`
		Geometry   json.RawMessage `json:"geometry"`
	}
	var fc struct {
		Type     string    `json:"type"`
		Features []feature `json:"features"`
	}
	if err := json.Unmarshal(data, &fc); err != nil {
		return nil, errs.F(errs.Invalid, "--regions", "%s: %v", path, err)
	}
	if fc.Type == "Feature" {
		var f feature
		json.Unmarshal(data, &f)
		fc.Features = []feature{f}
	}
	var out []regions.Region
	for i, f := range fc.Features {
		name, _ := f.Properties["name"].(string)
		if name == "" {
			name = fmt.Sprintf("region_%d", i+1)
		}
		out = append(out, regions.Region{Name: name, Geometry: f.Geometry})
	}
	if len(out) == 0 {
		return nil, errs.F(errs.Invalid, "--regions", "%s holds no features", path)
	}
	return out, nil
}

func parseVertical(s string) (*engine.VerticalRange, error) {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		return nil, errs.F(errs.Invalid, "--vertical", "%q must be MIN/MAX", s)
	}
	v := &engine.VerticalRange{}
	for i, p := range []string{a, b} {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		x, err := strconv.ParseFloat(p, 64)
		if err != nil {
			return nil, errs.F(errs.Invalid, "--vertical", "%q is not a number", p)
		}
		if i == 0 {
			v.Min = &x
		} else {
			v.Max = &x
		}
	}
	return v, nil
}

func parseStride(s string) (map[string]int, error) {
	out := map[string]int{}
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(part, "=")
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if !ok || err != nil || strings.TrimSpace(k) == "" {
			return nil, errs.F(errs.Invalid, "--stride", "%q must be AXIS=N", part)
		}
		out[strings.TrimSpace(k)] = n
	}
	return out, nil
}
