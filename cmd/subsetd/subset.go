package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/readers/open"
	"github.com/subsetd/subsetd/regions"
)

const subsetAbout = `Cuts every region out of each FILE and writes one NetCDF file per region into
--out: <region>.nc for one input file, <region>/<file stem>.nc for several
(the file name without compression suffix and extension, A.NC.GZ giving A;
-2, -3... when two files share one). Several files are cut one by one, as the
server cuts granules: a file that cannot be read or cut fails its own outputs
only (said in a note); with --concat they are one time series instead.

A box is W,S,E,N: west, south, east, north, in degrees (NCO's -d takes
lon,W,E then lat,S,N; CDO's sellonlatbox W,E,S,N).

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

--dry-run plans the cut and prints, per region, its index box in the input,
its output files with their variables' shapes, the bytes of their values
(exact), their estimated size on disk (from the compression of the input's
chunks) and the stored bytes of the input chunks the cut reads; nothing is
written and no data value is read.

The C libraries read the files in a child process: a file on which one of
their calls does not return within --file-timeout (the child is killed) or
on which they crash is unreadable, "file x.nc: the C library did not answer
within 15 s" or "file x.nc: the C library crashed (SIGSEGV) reading it", and
the cut goes on without it as with any unreadable file.

Exit status: 0 when every region succeeded or was empty, 1 when a region or
the whole run failed (never a signal), 2 for usage errors.`

func runSubset(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("subset", "subsetd subset [flags] FILE...", subsetAbout, stderr)
	rf := addRequestFlags(fs)
	regionsDir := fs.String("regions-dir", "", "a `DIR` of GeoJSON region sets (SET.geojson) usable as SET/NAME")
	concat := fs.Bool("concat", false, "the FILEs split one time series (one per day, say): write one file per region, concatenated along time in time order")
	out := fs.String("out", ".", "output `DIR`")
	asJSON := fs.Bool("json", false, "print the result of every region as JSON (file, shape, bytes, sha256)")
	memory := fs.Int("memory", engine.DefaultMemoryBudget>>20, "memory budget of the process in `MiB` (slabs of values take at most three sixteenths)")
	quiet := fs.Bool("quiet", false, "no progress line (it shows only when standard error is a terminal)")
	dryRun := fs.Bool("dry-run", false, "plan only: print what each region would give (index box, variables and shapes, bytes to read and write) without reading data values or writing files")
	fileTimeout := fs.Duration("file-timeout", defaultFileTimeout, "time allowed for one call of the C libraries on a file: the file is then unreadable (\"file X: the C library did not answer within 15 s\")")
	if code, stop := parseFlags(fs, args, stdout); stop {
		return code
	}
	// An error of the request is the user's (exit status 2), any other
	// the run's (1).
	fail := func(err error) int {
		fmt.Fprintf(stderr, "subsetd subset: %v\n", rf.flagError(err))
		if isUsageError(err) {
			return 2
		}
		return 1
	}
	if fs.NArg() == 0 {
		usageError(stderr, "subset", "no input FILE given")
		return 2
	}
	if *regionsDir != "" {
		if err := regions.LoadDir(*regionsDir); err != nil {
			return fail(err)
		}
	}
	jr, err := rf.request()
	if err != nil {
		usageError(stderr, "subset", "%v", err)
		return 2
	}
	req, err := rf.engineRequest(jr)
	if err != nil {
		return fail(err)
	}
	if *fileTimeout <= 0 {
		fmt.Fprintln(stderr, "subsetd subset: --file-timeout must be positive")
		return 2
	}
	if supervised() {
		return superviseSubset(args, fs.Args(), *out, *fileTimeout, stdout, stderr)
	}
	openSource := open.Source
	if skips := childSkips(); len(skips) > 0 {
		openSource = func(path string) (ncmodel.Source, error) {
			if msg, ok := skips[path]; ok {
				return nil, engine.NamedFileError(msg)
			}
			return open.Source(path)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	engine.LimitMemory(int64(*memory) << 20)
	if *dryRun {
		return runDryRun(ctx, fs.Args(), req, *concat, *asJSON, stdout, stderr, fail)
	}
	cuts := len(req.Regions) // a region's cut of one input each
	if len(fs.Args()) > 1 && !*concat {
		cuts *= len(fs.Args())
	}
	prog := newCutProgress(stderr, *quiet, cuts)
	res, err := engine.Run(ctx, fs.Args(), req, engine.Options{
		OutDir: *out, MemoryBudget: int64(*memory) << 20,
		Open: openSource, Create: open.Sink, Progress: prog.add,
		Version: version, Command: "subsetd subset " + strings.Join(args, " "), Concat: *concat,
	})
	prog.line.done()
	if err != nil {
		if *asJSON {
			writeJSON(stdout, map[string]any{"error": rf.flagError(err).Error(), "code": errs.CodeOf(err), "field": errs.FieldOf(err)})
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
		printResult(stdout, res, statsFiles)
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

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

// printResult prints a table of the regions' outputs, columns aligned,
// sizes for people; a region without files has its message in the last
// column.
func printResult(w io.Writer, res *engine.Result, statsFiles []engine.OutFile) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REGION\tSTATUS\tFILE\tSHAPE\tSIZE\tSHA256")
	for _, r := range res.Regions {
		switch {
		case r.Status == engine.StatusSuccessful && len(r.Files) == 0: // statistics only
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t(statistics only)\n", r.Name, r.Status)
		case r.Status == engine.StatusSuccessful:
			for _, f := range r.Files {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Status, f.Path, fmtShape(f.Shape), humanBytes(f.Size), f.Sha256)
			}
		default:
			fmt.Fprintf(tw, "%s\t%s\t-\t-\t-\t%s\n", r.Name, r.Status, r.Message)
		}
	}
	for _, f := range statsFiles {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", "(statistics)", "-", f.Path, fmtShape(f.Shape), humanBytes(f.Size), f.Sha256)
	}
	tw.Flush()
	if len(res.Regions) > 0 {
		fmt.Fprintf(w, "read %s, wrote %s\n", humanBytes(res.BytesRead), humanBytes(res.BytesWritten))
	}
}

// cutProgress draws the progress line of a cut: regions done, bytes read
// and written, read rate, time left.
type cutProgress struct {
	line          *progressLine
	meter         *meter
	cuts, done    int
	read, written int64
}

func newCutProgress(stderr io.Writer, quiet bool, cuts int) *cutProgress {
	return &cutProgress{line: newProgressLine(stderr, quiet), meter: newMeter(), cuts: cuts}
}

func (c *cutProgress) add(p engine.Progress) {
	c.read += p.Read
	c.written += p.Written
	c.done += p.Done
	c.line.show(c.text(), p.Done > 0)
}

func (c *cutProgress) text() string {
	return joinParts(fmt.Sprintf("regions %d/%d", c.done, c.cuts), "read "+humanBytes(c.read), "written "+humanBytes(c.written),
		c.meter.rate(c.read), c.meter.eta(int64(c.done), int64(c.cuts)))
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
