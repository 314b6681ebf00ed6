package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/readers/open"
	"github.com/subsetd/subsetd/worker"
)

const inspectAbout = `Describes a NetCDF or HDF5 file: format, groups, dimensions, variables, the
latitude/longitude/time/vertical coordinates found, the lat/lon extent of the
cell centres and the decoded time coverage.

With --stdin it serves 'subsetd index': it reads file paths from standard
input, one per line, and answers each with one JSON line on standard output,
{"path": ..., "description": {...}, "geo": {...}} or {"path": ..., "error": ...}.
"geo" holds the lat/lon box of the cell centres, [W, S, E, N] (longitudes
in [-180, 180], west > east across the antimeridian) and, for 2-D
latitude/longitude, a footprint polygon made from the edges of the arrays.

Each FILE is read in a child process: a file on which a call of the C
libraries does not return within --file-timeout (the child is killed) or on
which they crash gets "file x.nc: the C library did not answer within 15 s"
or "file x.nc: the C library crashed (SIGSEGV) reading it".

Exit status: 0 when every FILE was described, 1 when one could not be
(never a signal), 2 for usage errors.`

func runInspect(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("inspect", "subsetd inspect [--json] FILE...", inspectAbout, stderr)
	asJSON := fs.Bool("json", false, "print the description as JSON")
	stdin := fs.Bool("stdin", false, "read file paths from standard input, one per line; print one JSON line per file (for 'subsetd index')")
	withSha := fs.Bool("sha256", false, "with --stdin: add the sha256 of each file")
	fileTimeout := fs.Duration("file-timeout", defaultFileTimeout, "time allowed for one call of the C libraries on a file: the file is then unreadable (\"file X: the C library did not answer within 15 s\")")
	if code, stop := parseFlags(fs, args, stdout); stop {
		return code
	}
	if *fileTimeout <= 0 {
		fmt.Fprintln(stderr, "subsetd inspect: --file-timeout must be positive")
		return 2
	}
	if *stdin {
		if fs.NArg() > 0 {
			fmt.Fprintln(stderr, "subsetd inspect: --stdin takes no FILE arguments")
			return 2
		}
		env := readersEnv(zerolog.New(stderr).With().Timestamp().Str("component", "inspector").Int("pid", os.Getpid()).Logger())
		if err := worker.Inspect(os.Stdin, stdout, env, *withSha); err != nil {
			fmt.Fprintf(stderr, "subsetd inspect: %v\n", err)
			return 1
		}
		return 0
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "subsetd inspect: no FILE given")
		return 2
	}
	if supervised() {
		flags := args[:len(args)-fs.NArg()]
		if n := len(flags); n > 0 && flags[n-1] == "--" {
			flags = flags[:n-1]
		}
		return superviseInspect(flags, fs.Args(), *fileTimeout, stdout, stderr)
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
