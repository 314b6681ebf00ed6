package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/readers/open"
)

// runDryRun plans req over files (engine.Options.DryRun) and prints what
// each region would give: a table, or the engine's result as JSON.
// An error of the run is fail's (in the flags' words, exit status 2 for
// the user's).
func runDryRun(ctx context.Context, files []string, req *engine.Request, concat, asJSON bool, stdout, stderr io.Writer, fail func(error) int) int {
	res, err := engine.Run(ctx, files, req, engine.Options{Open: open.Source, Concat: concat, DryRun: true})
	if err != nil {
		if asJSON {
			writeJSON(stdout, map[string]any{"error": err.Error(), "code": errs.CodeOf(err), "field": errs.FieldOf(err)})
		}
		return fail(err)
	}
	if asJSON {
		writeJSON(stdout, res)
	} else {
		printDryRun(stdout, res)
		for _, n := range res.Notes {
			fmt.Fprintf(stderr, "note: %s\n", n)
		}
	}
	for _, r := range res.Regions {
		if r.Status == engine.StatusFailed {
			return 1
		}
	}
	return 0
}

// printDryRun prints one line per output file (or per region without
// one) and the totals.
func printDryRun(w io.Writer, res *engine.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REGION\tSTATUS\tFILE\tINDEX BOX\tSHAPE\tVALUES\tEST. SIZE\tINPUT READ")
	var values, size int64
	files := 0
	for _, r := range res.Regions {
		if len(r.Files) == 0 {
			what := r.Message
			if r.Statistics {
				what = "statistics only"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t\t\t\t\t%s\n", r.Name, r.Status, what, humanBytes(r.InputBytes))
			continue
		}
		for _, f := range r.Files {
			e := f.Estimate
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Status, f.Name, fmtBox(e.Box), fmtShape(f.Shape),
				humanBytes(f.ValueBytes), humanBytes(e.Bytes), humanBytes(e.InputBytes))
			values += f.ValueBytes
			size += e.Bytes
			files++
		}
	}
	fmt.Fprintf(tw, "total\t\t%d files\t\t\t%s\t%s\t%s\n", files, humanBytes(values), humanBytes(size), humanBytes(res.BytesRead))
	tw.Flush()
}

// fmtBox prints an index box as ncks -d would take it: dim,start,end[,stride].
func fmtBox(box []engine.IndexRange) string {
	parts := make([]string, len(box))
	for i, b := range box {
		end := b.Start + (b.Count-1)*b.Stride
		if b.Count == 0 {
			end = b.Start - 1
		}
		parts[i] = fmt.Sprintf("%s=%d:%d", b.Dimension, b.Start, end)
		if b.Stride != 1 {
			parts[i] += fmt.Sprintf(":%d", b.Stride)
		}
	}
	return strings.Join(parts, " ")
}
