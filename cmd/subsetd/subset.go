package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/readers/open"
	"github.com/subsetd/subsetd/regions"
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, " ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func newFlagSet(name, usageLine, about string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: %s\n\n%s\n\nFlags:\n", usageLine, about)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args; it returns an exit code and whether to stop.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) (int, bool) {
	usage := fs.Usage
	fs.Usage = func() {} // printed below, once, on the right stream
	err := fs.Parse(args)
	fs.Usage = usage
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(stdout)
		usage()
		return 0, true
	}
	if err != nil {
		usage()
		return 2, true
	}
	return 0, false
}

const subsetAbout = `Cuts every region out of each FILE and writes one NetCDF file per region into
--out: <region>.nc for one input file, <region>/<file stem>.nc for several
(the file name without compression suffix and extension, A.NC.GZ giving A;
-2, -3... when two files share one). Several files are cut one by one, as the
server cuts granules: a file that cannot be read or cut fails its own outputs
only (said in a note); with --concat they are one time series instead.

A grid cell is selected when its centre lies inside the region, edges included
(--select centre), or when its extent (from bounds variables, else half-way to
the neighbouring centres) meets the region (--select overlap). A point, a line
or a box between two centres takes the cells containing it under either rule.
West > east means the box crosses the antimeridian; longitudes are compared
modulo 360 whatever the data's convention. A box crossing the data's seam gives
one file whose longitudes increase from west to east, in the request's own
convention (e.g. [-10, 10] on 0..360 data gives -10..10).

Time ranges are ISO 8601 START/END, inclusive; an end given to the day (month,
year) includes that whole day (month, year). Either side may be left empty.

Statistics (--stats mean,std,...): per region, variable, time step and level,
over the cells the cut keeps (the box, or the cells inside a polygon), values
unpacked, fill and NaN left out, written to --out as stats.nc (CF timeSeries)
and stats.csv (region,time[,level],variable,op,value,count). Ops: mean, min,
max, std, sum, count. Mean and std are weighted by cell area: the variable's
cell_measures, else the spherical area of each cell from its lat/lon bounds
(or the midpoints between coordinates on rectilinear grids), cos(latitude) on
2-D grids without either; swaths and tracks are not weighted (--weights none:
no weights). --stats-only writes no cut file.

Exit status: 0 when every region succeeded or was empty, 1 when a region or
the whole run failed, 2 for usage errors.`

func runSubset(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("subset", "subsetd subset [flags] FILE...", subsetAbout, stderr)
	var regionFlags stringList
	fs.Var(&regionFlags, "region", "a region `NAME=W,S,E,N` (degrees) or SET/NAME of a named set (repeatable)")
	regionsFile := fs.String("regions", "", "a `FILE` of regions: {\"regions\": [{\"name\": ..., \"bbox\"|\"geometry\"|\"ref\": ...}]}, or a GeoJSON Feature or FeatureCollection of polygons or points")
	regionsDir := fs.String("regions-dir", "", "a `DIR` of GeoJSON region sets (SET.geojson) usable as SET/NAME")
	concat := fs.Bool("concat", false, "the FILEs split one time series (one per day, say): write one file per region, concatenated along time in time order")
	noMask := fs.Bool("no-mask", false, "keep the whole index box of polygons and 2-D grids: do not set cells outside the region to fill")
	vars := fs.String("vars", "", "comma-separated `variables` to keep (default: all); coordinates, bounds and grid mappings come along")
	timeRange := fs.String("time", "", "time range `START/END` in ISO 8601, inclusive (e.g. 2020-01-01/2020-01-31)")
	vertical := fs.String("vertical", "", "vertical range `MIN/MAX` in the vertical coordinate's units (either side may be empty)")
	stride := fs.String("stride", "", "strides `AXIS=N,...` per axis (time, lat, lon, vertical) or dimension name")
	selectRule := fs.String("select", engine.SelectCentre, "which cells a region takes: `centre` (whose centre lies in it) or overlap (whose extent meets it)")
	out := fs.String("out", ".", "output `DIR`")
	deflate := fs.Int("deflate", engine.DefaultDeflate, "deflate `level` 0-9 for netcdf4 output (shuffle is on when > 0)")
	format := fs.String("format", engine.FormatNetCDF4, "output `format`: netcdf4 or netcdf3 (64-bit offset)")
	asJSON := fs.Bool("json", false, "print the result of every region as JSON (file, shape, bytes, sha256)")
	memory := fs.Int("memory", engine.DefaultMemoryBudget>>20, "memory budget of the process in `MiB` (slabs of values take at most a quarter)")
	statsOps := fs.String("stats", "", "statistics `ops` of every region, comma-separated: mean, min, max, std, sum, count (written to stats.nc and stats.csv)")
	statsVars := fs.String("stats-vars", "", "comma-separated `variables` for --stats (default: those of --vars, else every data variable on a grid)")
	statsOnly := fs.Bool("stats-only", false, "compute the --stats without writing cut files")
	weights := fs.String("weights", engine.WeightsArea, "weights of the --stats mean and std: `area` (cell areas) or none")
	if code, stop := parseFlags(fs, args, stdout); stop {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "subsetd subset: %v\n", err)
		return 1
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "subsetd subset: no input FILE given")
		fs.Usage()
		return 2
	}
	req := &engine.Request{Output: engine.Output{Format: *format}}
	if *selectRule != engine.SelectCentre {
		req.Select = *selectRule
	}
	if *regionsDir != "" {
		if err := regions.LoadDir(*regionsDir); err != nil {
			return fail(err)
		}
	}
	var asked []regions.Region
	if *regionsFile != "" {
		rs, err := readRegionsFile(*regionsFile)
		if err != nil {
			return fail(err)
		}
		asked = append(asked, rs...)
	}
	for _, s := range regionFlags {
		if !strings.Contains(s, "=") && strings.Contains(s, "/") {
			asked = append(asked, regions.Region{Ref: s})
			continue
		}
		r, err := regions.ParseRegionFlag(s)
		if err != nil {
			return fail(err)
		}
		asked = append(asked, r)
	}
	if *noMask {
		f := false
		for i := range asked {
			asked[i].Mask = &f
		}
	}
	if len(asked) == 0 {
		fmt.Fprintln(stderr, "subsetd subset: give at least one --region NAME=W,S,E,N or --regions FILE")
		return 2
	}
	req.Variables = splitList(*vars)
	if *timeRange != "" {
		t, err := engine.ParseTimeFlag(*timeRange)
		if err != nil {
			return fail(err)
		}
		req.Time = t
	}
	if *vertical != "" {
		v, err := parseVertical(*vertical)
		if err != nil {
			return fail(err)
		}
		req.Vertical = v
	}
	if *stride != "" {
		s, err := parseStride(*stride)
		if err != nil {
			return fail(err)
		}
		req.Stride = s
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *statsOps != "" {
		req.Statistics = &engine.Statistics{Ops: splitList(*statsOps), Variables: splitList(*statsVars), Weights: *weights, Only: *statsOnly}
	} else {
		for _, f := range []string{"stats-vars", "stats-only", "weights"} {
			if set[f] {
				fmt.Fprintf(stderr, "subsetd subset: --%s needs --stats\n", f)
				return 2
			}
		}
	}
	deflateSet := set["deflate"]
	if *format != engine.FormatNetCDF3 || deflateSet {
		req.Output.Deflate = deflate
	}
	fixed, err := regions.FixList("regions", asked)
	if err != nil {
		return fail(err)
	}
	req.Regions = fixed
	if err := req.Validate(); err != nil {
		return fail(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	engine.LimitMemory(int64(*memory) << 20)
	res, err := engine.Run(ctx, fs.Args(), req, engine.Options{
		OutDir: *out, MemoryBudget: int64(*memory) << 20,
		Open: open.Source, Create: open.Sink,
		Version: version, Command: "subsetd subset " + strings.Join(args, " "), Concat: *concat,
	})
	if err != nil {
		if *asJSON {
			writeJSON(stdout, map[string]any{"error": err.Error(), "code": errs.CodeOf(err), "field": errs.FieldOf(err)})
		}
		return fail(err)
	}
	var statsFiles []engine.OutFile
	if req.Statistics != nil {
		t := res.Stats
		if t == nil { // no file met a region
			if t, err = engine.NewStatsTableFor(req.Statistics, req.Regions); err != nil {
				return fail(err)
			}
		}
		var sources []string
		for _, f := range fs.Args() {
			sources = append(sources, filepath.Base(f))
		}
		statsFiles, err = engine.WriteStats(t, sources, engine.Options{OutDir: *out, Open: open.Source, Create: open.Sink,
			Version: version, Command: "subsetd subset " + strings.Join(args, " ")})
		if err != nil {
			return fail(err)
		}
	}
	failed := 0
	for _, r := range res.Regions {
		if r.Status == engine.StatusFailed {
			failed++
		}
	}
	if *asJSON {
		writeJSON(stdout, struct {
			*engine.Result
			Statistics []engine.OutFile `json:"statistics,omitempty"`
		}{res, statsFiles})
	} else {
		printResult(stdout, res)
		for _, f := range statsFiles {
			fmt.Fprintf(stdout, "%-12s %-10s %s  %s  %d bytes  sha256:%s\n", "statistics", "", f.Path, fmtShape(f.Shape), f.Size, f.Sha256)
		}
		for _, n := range res.Notes {
			fmt.Fprintf(stderr, "note: %s\n", n)
		}
		for _, r := range res.Regions {
			if r.Status == engine.StatusSuccessful && r.Message != "" { // some of several files failed
				fmt.Fprintf(stderr, "note: region %s: %s\n", r.Name, r.Message)
			}
		}
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "subsetd subset: %d of %d regions failed\n", failed, len(res.Regions))
		return 1
	}
	return 0
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

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func printResult(w io.Writer, res *engine.Result) {
	for _, r := range res.Regions {
		switch {
		case r.Status == engine.StatusSuccessful && len(r.Files) == 0: // statistics only
			fmt.Fprintf(w, "%-12s %-10s statistics\n", r.Name, r.Status)
		case r.Status == engine.StatusSuccessful:
			for _, f := range r.Files {
				fmt.Fprintf(w, "%-12s %-10s %s  %s  %d bytes  sha256:%s\n", r.Name, r.Status, f.Path, fmtShape(f.Shape), f.Size, f.Sha256)
			}
		default:
			fmt.Fprintf(w, "%-12s %-10s %s\n", r.Name, r.Status, r.Message)
		}
	}
}

func fmtShape(shape map[string]int) string {
	keys := make([]string, 0, len(shape))
	for k := range shape {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, shape[k])
	}
	return strings.Join(parts, " ")
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
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
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
