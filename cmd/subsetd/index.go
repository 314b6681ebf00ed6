package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/subsetd/subsetd/catalog/index"
	"github.com/subsetd/subsetd/internal/pgsql"
)

const indexAbout = `Indexes the data directory into <state>/index.db (or, with --database, into
the PostgreSQL database that nodes share): for every NetCDF/HDF5 file
(.nc .nc4 .netcdf .cdf .h5 .hdf5 .he5 .hdf in any case, also compressed .gz
.gzip .bz2 .zst .zstd) its size, time, format, variables, dimensions, lat/lon
box W,S,E,N (a footprint polygon for 2-D coordinates), decoded time coverage and, on
request, sha256. Each immediate sub-folder of --data is a dataset; a file
directly in --data is a dataset of its own, its id the file name without its
extensions (A.NC.GZ is A). Symbolic links (to files or folders) are followed
when their target, every component resolved, lies under --data or one of
--allowed-roots; others (elsewhere, broken, loops) are left out and listed.

Files are opened by --workers inspector processes ('subsetd inspect --stdin'):
a file that crashes the C libraries or takes longer than --timeout is recorded
as failed and the scan goes on. Scans are incremental: files whose size and
modification time did not change are not opened again (unreadable ones
included: --force reads everything again); deleted files are dropped.

Progress goes to standard error; the summary and the failures to standard
output. Exit status: 0 when the scan completed (even with unreadable files),
1 when it could not (interrupted, unreadable --data, database error), 2 on
bad flags.`

// inspectorCommand is the inspector's argv; nil runs this executable. Tests
// set it.
var inspectorCommand []string

func runIndex(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("index", "subsetd index --data DIR [--state DIR] [--workers N] [--sha256] [flags]", indexAbout, stderr)
	data := fs.String("data", "", "data directory to index (required)")
	state := fs.String("state", "./var", "state directory: the index is <state>/"+index.FileName)
	database := fs.String("database", "", "the nodes' PostgreSQL `URL` (postgres://...): index into the database they share instead of <state>/"+index.FileName)
	workers := fs.Int("workers", runtime.NumCPU(), "inspector processes run at once")
	withSha := fs.Bool("sha256", false, "record the sha256 of every file (files indexed without one are read again)")
	timeout := fs.Duration("timeout", 2*time.Minute, "time allowed for one file; its inspector is then killed and the file recorded as failed")
	allowed := fs.String("allowed-roots", "", "`folders` (comma-separated) besides --data that symbolic links of --data may lead into")
	fileTimeout := fs.Duration("file-timeout", defaultFileTimeout, "time allowed for one call of the C libraries on a file; its inspector is then killed and the file recorded as unreadable (\"the C library did not answer within 15 s\")")
	dataset := fs.String("dataset", "", "index only this dataset (a sub-folder name, or a file name without extensions)")
	force := fs.Bool("force", false, "inspect every file again, changed or not")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	quiet := fs.Bool("quiet", false, "do not show progress")
	if code, stop := parseFlags(fs, args, stdout); stop {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "subsetd index: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if *data == "" {
		fmt.Fprintln(stderr, "subsetd index: --data is required")
		return 2
	}
	if *workers < 1 || *timeout <= 0 {
		fmt.Fprintln(stderr, "subsetd index: --workers and --timeout must be positive")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var store *index.Store
	var err error
	if *database != "" {
		store, err = openPostgresIndex(ctx, *database)
	} else {
		store, err = index.Open(ctx, *state)
	}
	if err != nil {
		fmt.Fprintf(stderr, "subsetd index: %v\n", err)
		return 1
	}
	defer store.Close()
	opts := index.ScanOptions{Root: *data, AllowedRoots: splitList(*allowed), Dataset: *dataset, Command: inspectorCommand, Workers: *workers,
		Sha256: *withSha, Timeout: *timeout, CallLimit: *fileTimeout, Force: *force}
	if !*quiet {
		opts.Progress = progressPrinter(stderr)
	}
	rep, err := store.Scan(ctx, opts)
	if rep != nil && !*asJSON {
		printIndexReport(ctx, stdout, store, rep)
	}
	if err != nil {
		if errors.Is(err, context.Canceled) {
			err = errors.New("interrupted: what was inspected is kept, nothing was dropped")
		}
		fmt.Fprintf(stderr, "subsetd index: %v\n", err)
		return 1
	}
	if *asJSON {
		writeJSON(stdout, rep)
	}
	return 0
}

// progressPrinter shows progress on one line rewritten in place when w is
// a terminal, as a line every 5 seconds otherwise.
func progressPrinter(w io.Writer) func(index.Progress) {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	var last time.Time
	return func(p index.Progress) {
		line := fmt.Sprintf("%d files found, %d unchanged, %d inspected, %d failed, %.0f files/s, %s",
			p.Found, p.Skipped, p.Inspected, p.Errors, p.Rate, p.Elapsed.Round(time.Second))
		if p.Walking {
			line += " (still looking)"
		}
		switch {
		case tty:
			fmt.Fprintf(w, "\r\033[K%s", line)
			if p.Final {
				fmt.Fprintln(w)
			}
		case p.Final || time.Since(last) >= 5*time.Second:
			fmt.Fprintln(w, line)
			last = time.Now()
		}
	}
}

func printIndexReport(ctx context.Context, w io.Writer, store *index.Store, rep *index.Report) {
	scope := rep.Root
	if rep.Dataset != "" {
		scope += " (dataset " + rep.Dataset + ")"
	}
	fmt.Fprintf(w, "indexed %s into %s in %s\n", scope, store.Path(), rep.Duration.Round(time.Millisecond))
	fmt.Fprintf(w, "  %d datasets, %d files: %d new, %d changed, %d deleted, %d unchanged (skipped), %d failed",
		rep.Datasets, rep.Files, rep.New, rep.Changed, rep.Deleted, rep.Skipped, rep.Failed)
	if rep.Crashed > 0 {
		fmt.Fprintf(w, " (%d crashed or timed out)", rep.Crashed)
	}
	if rep.Hashed > 0 {
		fmt.Fprintf(w, ", %d read again for their sha256", rep.Hashed)
	}
	fmt.Fprintf(w, "; %.1f files/s\n", rep.Rate)
	const most = 50
	if len(rep.Failures) > 0 {
		fmt.Fprintf(w, "failed in this scan:\n")
		for i, f := range rep.Failures {
			if i == most {
				fmt.Fprintf(w, "  ... and %d more\n", len(rep.Failures)-most)
				break
			}
			fmt.Fprintf(w, "  %s: %s\n", f.Path, f.Error)
		}
	}
	if rep.Unread > 0 {
		fmt.Fprintf(w, "unreadable and unchanged since (not retried; --force retries):\n")
		old, err := store.Errors(ctx, rep.Dataset)
		if err != nil {
			fmt.Fprintf(w, "  (%v)\n", err)
		}
		fresh := map[string]bool{}
		for _, f := range rep.Failures {
			fresh[f.Path] = true
		}
		n := 0
		for _, f := range old {
			if fresh[f.Path] {
				continue
			}
			if n == most {
				fmt.Fprintf(w, "  ... and %d more\n", rep.Unread-most)
				break
			}
			fmt.Fprintf(w, "  %s: %s\n", f.Path, f.Error)
			n++
		}
	}
	if len(rep.Refused) > 0 {
		fmt.Fprintf(w, "left out:\n")
		for _, r := range rep.Refused {
			fmt.Fprintf(w, "  %s\n", r)
		}
	}
	if n := len(index.Links(rep.Refused)); n > 0 {
		fmt.Fprintf(w, "%d symbolic links refused (allowed roots: %s)\n", n, strings.Join(rep.Roots, ", "))
	}
}

// openPostgresIndex opens the index of nodes on PostgreSQL.
func openPostgresIndex(ctx context.Context, url string) (*index.Store, error) {
	if !pgsql.IsURL(url) {
		return nil, fmt.Errorf("--database: not a postgres:// URL")
	}
	db, err := pgsql.Open(ctx, url, 4)
	if err != nil {
		return nil, err
	}
	s, err := index.OpenPostgres(ctx, db)
	if err != nil {
		db.Close()
	}
	return s, err
}
