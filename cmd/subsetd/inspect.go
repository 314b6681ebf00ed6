package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"strings"

	"github.com/subsetd/subsetd/catalog/index"
	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/readers/open"
)

const inspectAbout = `Describes a NetCDF or HDF5 file: format, groups, dimensions, variables, the
latitude/longitude/time/vertical coordinates found, the lat/lon extent of the
cell centres and the decoded time coverage.

With --stdin it serves 'subsetd index': it reads file paths from standard
input, one per line, and answers each with one JSON line on standard output,
{"path": ..., "description": {...}, "geo": {...}} or {"path": ..., "error": ...}.
"geo" holds the lat/lon box of the cell centres (longitudes in [-180, 180],
west > east across the antimeridian) and, for 2-D latitude/longitude, a
footprint polygon made from the edges of the arrays.`

func runInspect(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("inspect", "subsetd inspect [--json] FILE...", inspectAbout, stderr)
	asJSON := fs.Bool("json", false, "print the description as JSON")
	stdin := fs.Bool("stdin", false, "read file paths from standard input, one per line; print one JSON line per file (for 'subsetd index')")
	withSha := fs.Bool("sha256", false, "with --stdin: add the sha256 of each file")
	if code, stop := parseFlags(fs, args, stdout); stop {
		return code
	}
	if *stdin {
		if fs.NArg() > 0 {
			fmt.Fprintln(stderr, "subsetd inspect: --stdin takes no FILE arguments")
			return 2
		}
		if err := inspectStream(os.Stdin, stdout, *withSha); err != nil {
			fmt.Fprintf(stderr, "subsetd inspect: %v\n", err)
			return 1
		}
		return 0
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "subsetd inspect: no FILE given")
		return 2
	}
	code := 0
	for _, path := range fs.Args() {
		src, err := open.Source(path)
		if err != nil {
			fmt.Fprintf(stderr, "subsetd inspect: cannot read %s: %v\n", path, err)
			code = 1
			continue
		}
		d, err := engine.Describe(src)
		src.Close()
		if err != nil {
			fmt.Fprintf(stderr, "subsetd inspect: %s: %v\n", path, err)
			code = 1
			continue
		}
		if *asJSON {
			writeJSON(stdout, d)
		} else {
			printDescription(stdout, d)
		}
	}
	return code
}

func printDescription(w io.Writer, d *engine.Description) {
	fmt.Fprintf(w, "file:    %s\nformat:  %s\n", d.Path, d.Format)
	if len(d.Groups) > 0 {
		fmt.Fprintf(w, "groups:  %s\n", strings.Join(d.Groups, " "))
	}
	fmt.Fprintf(w, "dimensions:\n")
	for _, x := range d.Dimensions {
		u := ""
		if x.Unlimited {
			u = " (unlimited)"
		}
		fmt.Fprintf(w, "  %s = %d%s\n", x.Name, x.Length, u)
	}
	fmt.Fprintf(w, "variables:\n")
	for _, v := range d.Variables {
		extra := ""
		if v.Units != "" {
			extra = " [" + v.Units + "]"
		}
		if v.StandardName != "" {
			extra += " " + v.StandardName
		}
		fmt.Fprintf(w, "  %s %s(%s)%s\n", v.Type, v.Name, strings.Join(v.Dimensions, ", "), extra)
	}
	fmt.Fprintf(w, "coordinates:\n")
	for _, g := range d.Grids {
		fmt.Fprintf(w, "  grid: %s, lat %s, lon %s\n", g.Kind, g.Lat, g.Lon)
	}
	for _, a := range d.Axes {
		fmt.Fprintf(w, "  %-8s %s (dimension %s, %d)\n", a.Axis, a.Variable, a.Dimension, a.Length)
	}
	if len(d.Grids) == 0 && len(d.Axes) == 0 {
		fmt.Fprintf(w, "  none found\n")
	}
	if e := d.Extent; e != nil {
		fmt.Fprintf(w, "extent:  lat %g..%g, lon %g..%g\n", e.LatMin, e.LatMax, e.LonMin, e.LonMax)
	}
	if t := d.Time; t != nil {
		if t.Error != "" {
			fmt.Fprintf(w, "time:    %d steps, %s, calendar %s: %s\n", t.Steps, t.Units, t.Calendar, t.Error)
		} else {
			fmt.Fprintf(w, "time:    %s .. %s (%d steps, %s, calendar %s)\n", t.Start, t.End, t.Steps, t.Units, t.Calendar)
		}
	}
}

// inspectStream answers each path read from in with one JSON line (an
// index.Record), written whole so that the reader never sees half a line.
// A file that cannot be read gives an error record; a panic on one file
// too. A crash of the C libraries kills the process: the indexer records
// the file and starts another inspector.
func inspectStream(in io.Reader, out io.Writer, withSha bool) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		path := strings.TrimRight(sc.Text(), "\r")
		if path == "" {
			continue
		}
		b, err := json.Marshal(inspectRecord(path, withSha))
		if err != nil {
			b, _ = json.Marshal(index.Record{Path: path, Error: "encode description: " + err.Error()})
		}
		if _, err := out.Write(append(b, '\n')); err != nil {
			return err
		}
	}
	return sc.Err()
}

func inspectRecord(path string, withSha bool) (rec index.Record) {
	rec.Path = path
	defer func() {
		if p := recover(); p != nil {
			rec = index.Record{Path: path, Error: fmt.Sprintf("internal error: %v", p)}
			fmt.Fprintf(os.Stderr, "subsetd inspect: panic on %s: %v\n%s", path, p, debug.Stack())
		}
	}()
	src, err := open.Source(path)
	if err != nil {
		rec.Error = err.Error()
		return rec
	}
	defer src.Close()
	d, err := engine.Describe(src)
	if err != nil {
		rec.Error = err.Error()
		return rec
	}
	var grids []index.GridCoords
	for _, g := range engine.FindCoords(src.File()).Grids {
		lat, err1 := engine.CoordValues(src, g.Lat)
		lon, err2 := engine.CoordValues(src, g.Lon)
		if err1 != nil || err2 != nil {
			// A box from the other grids would be too small: no box at all
			// is wrong too. The file fails, as a cut of it would.
			return index.Record{Path: path, Error: fmt.Sprintf("read coordinates %s, %s: %v", g.Lat.Path(), g.Lon.Path(), errors.Join(err1, err2))}
		}
		grids = append(grids, index.GridCoords{Kind: string(g.Kind), Lat: lat, Lon: lon, Shape: g.Lat.Shape()})
	}
	rec.Description, rec.Geo = d, index.GeoOf(grids)
	if d.Time == nil {
		rec.Time = auxTime(src)
	}
	if withSha {
		f, err := os.Open(path)
		if err != nil {
			return index.Record{Path: path, Error: err.Error()}
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return index.Record{Path: path, Error: "sha256: " + err.Error()}
		}
		rec.Sha256 = hex.EncodeToString(h.Sum(nil))
	}
	return rec
}

// auxTime is the coverage of an auxiliary time variable (the time of each
// point of a track, of each scan of a swath) for a file without a time
// axis: Describe looks at 1-D coordinate variables only.
func auxTime(src ncmodel.Source) *engine.TimeCoverage {
	for _, v := range src.File().Vars() {
		if v.IsCoordinate() || len(v.Dims) == 0 || len(v.Dims) > 2 || engine.AxisOf(v) != engine.AxisTime {
			continue
		}
		u, err := engine.TimeAxis(v)
		if err != nil {
			continue
		}
		vals, err := engine.CoordValues(src, v)
		if err != nil {
			continue
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, x := range vals {
			if !math.IsNaN(x) && !math.IsInf(x, 0) {
				lo, hi = math.Min(lo, x), math.Max(hi, x)
			}
		}
		if lo > hi {
			continue
		}
		a, err1 := u.Decode(lo)
		b, err2 := u.Decode(hi)
		if err1 != nil || err2 != nil {
			continue
		}
		cal := "standard"
		if c, ok := v.Attr("calendar"); ok {
			cal = c.Text()
		}
		return &engine.TimeCoverage{Start: a.String(), End: b.String(), Steps: len(vals), Units: v.AttrString("units"), Calendar: cal}
	}
	return nil
}
