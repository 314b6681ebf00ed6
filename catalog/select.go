package catalog

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"time"

	"github.com/subsetd/subsetd/cftime"
	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/regions"
)

// Selection is what the index says a job needs: which files, and for
// granules which of them each region meets.
type Selection struct {
	Kind string
	Info *Info
	// Files are names relative to the data directory, in time order.
	Files []string
	// RegionFiles, for granules, lists for each region (request order) the
	// indexes into Files of the files it meets; nil for the other kinds,
	// where every region uses every file.
	RegionFiles [][]int
	// Empty, for granules, says for each region without a file why.
	Empty []string
	// Notes are for the user: files left out and why.
	Notes []string
}

// maxNamed bounds the files a note names.
const maxNamed = 10

// Select decides which files a job on dataset id reads, from the index:
//
//   - file: its one file (unreadable or not: the worker then says why);
//   - timeseries: the readable files whose time coverage overlaps the
//     job's time range, joined along time by the worker;
//   - granules: for each region, the readable files whose box (or
//     footprint) meets the region's bounds and whose time coverage
//     overlaps the range; a region meeting none is empty. Other files are
//     not opened at all.
//
// A time range outside the readable files' coverage is an Invalid error on
// "time"; a dataset without a readable file is Unreadable.
func (c *Catalog) Select(ctx context.Context, id string, req *engine.Request) (*Selection, error) {
	info, err := c.Info(ctx, id)
	if err != nil {
		return nil, err
	}
	d, err := c.exists(id)
	if err != nil {
		return nil, err
	}
	start, end, err := TimeBounds(req.Time)
	if err != nil {
		return nil, err
	}
	sel := &Selection{Kind: info.Kind, Info: info}
	if info.Kind == KindFile {
		sel.Files = []string{c.rel(d.Files[0])}
		if info.FileCount == 0 && info.ErrorCount > 0 {
			if err := c.refuseUnreadable(ctx, id, d.Files[0]); err != nil {
				return nil, err
			}
		}
		if info.FileCount > 0 {
			if err := c.checkCoverage(info, req.Time, start, end); err != nil {
				return nil, err
			}
		}
		return sel, nil
	}
	if info.FileCount == 0 {
		return nil, c.unreadable(ctx, id)
	}
	if err := c.checkCoverage(info, req.Time, start, end); err != nil {
		return nil, err
	}
	inTime, _, err := c.idx.Search(ctx, id, nil, start, end, 0, 0)
	if err != nil {
		return nil, err
	}
	if len(inTime) == 0 {
		return nil, errs.F(errs.Invalid, "time", "no file of dataset %q has data in the time range %s (its files cover %s to %s with gaps: GET /v1/datasets/%s/files lists them)",
			id, req.Time, info.Time.Start, info.Time.End, id)
	}
	var gone []string
	pos := map[string]int{}
	for _, f := range inTime {
		if _, err := c.Resolve(f.Path); err != nil {
			gone = append(gone, f.Path)
			continue
		}
		pos[f.Path] = len(sel.Files)
		sel.Files = append(sel.Files, f.Path)
	}
	if len(gone) > 0 {
		sel.Notes = append(sel.Notes, fmt.Sprintf("%d file(s) left out: gone from the data directory since it was indexed: %s", len(gone), names(gone)))
	}
	if len(sel.Files) == 0 {
		return nil, errs.E(errs.Unavailable, "the files of dataset %q changed since it was indexed: it is being indexed again", id)
	}
	if info.ErrorCount > 0 {
		failed, err := c.idx.Errors(ctx, id)
		if err != nil {
			return nil, err
		}
		var named []string
		for _, f := range failed {
			named = append(named, fmt.Sprintf("%s (%s)", f.Path, f.Error))
		}
		sel.Notes = append(sel.Notes, fmt.Sprintf("%d file(s) of the dataset cannot be read and were left out: %s", len(failed), names(named)))
	}
	if info.Kind != KindGranules {
		return sel, nil
	}
	// Granules: each region gets the files it meets; the union is kept in
	// time order and files no region meets are dropped.
	areas, err := regions.ResolveFixed("regions", req.Regions)
	if err != nil {
		return nil, err
	}
	used := make([]bool, len(sel.Files))
	per := make([][]int, len(areas))
	sel.Empty = make([]string, len(areas))
	for i, a := range areas {
		b := a.Area.Bounds()
		fs, _, err := c.idx.Search(ctx, id, &b, start, end, 0, 0)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			if k, ok := pos[f.Path]; ok {
				per[i] = append(per[i], k)
				used[k] = true
			}
		}
		if len(per[i]) == 0 {
			sel.Empty[i] = emptyMessage(id, info, req.Time != nil)
		}
	}
	keep := make([]int, len(sel.Files))
	var files []string
	for k, f := range sel.Files {
		keep[k] = len(files)
		if used[k] {
			files = append(files, f)
		}
	}
	for i := range per {
		for j, k := range per[i] {
			per[i][j] = keep[k]
		}
	}
	sel.Files, sel.RegionFiles = files, per
	return sel, nil
}

func emptyMessage(id string, info *Info, withTime bool) string {
	msg := fmt.Sprintf("no file of dataset %q meets the region", id)
	if withTime {
		msg += " in the time range"
	}
	if e := info.Extent; e != nil {
		msg += fmt.Sprintf(" (the files cover longitudes %g to %g, latitudes %g to %g)", e.West, e.East, e.South, e.North)
	}
	return msg
}

// checkCoverage refuses a time range outside the dataset's coverage.
func (c *Catalog) checkCoverage(info *Info, tr *engine.TimeRange, start, end *time.Time) error {
	if info.timeStart == nil || (start == nil && end == nil) {
		return nil
	}
	if (end != nil && end.Before(*info.timeStart)) || (start != nil && start.After(*info.timeEnd)) {
		return errs.F(errs.Invalid, "time", "time range %s is outside the data of dataset %q (time coverage %s to %s)", tr, info.ID, info.Time.Start, info.Time.End)
	}
	return nil
}

// refuseUnreadable refuses a job on the one file of a file dataset that the
// index recorded as unreadable, as long as the file is as it was then
// (size and modification time): a job on it would fail. A file changed
// since is accepted (and indexed again): the worker says how it is now.
func (c *Catalog) refuseUnreadable(ctx context.Context, id, path string) error {
	failed, err := c.idx.Errors(ctx, id)
	if err != nil {
		return err
	}
	rel := c.rel(path)
	for _, f := range failed {
		if f.Path != rel {
			continue
		}
		st, err := os.Stat(path)
		if err != nil || st.Size() != f.Size || st.ModTime().UnixNano() != f.ModTime.UnixNano() {
			c.ensure(id)
			return nil
		}
		return errs.F(errs.Invalid, "dataset", "file %s of dataset %q cannot be read: %s (found when it was indexed at %s; a job on it is accepted again once the file changes)",
			rel, id, f.Error, f.IndexedAt.UTC().Format(time.RFC3339))
	}
	return nil
}

func (c *Catalog) unreadable(ctx context.Context, id string) error {
	failed, err := c.idx.Errors(ctx, id)
	if err != nil {
		return err
	}
	var named []string
	for _, f := range failed {
		named = append(named, f.Path+": "+f.Error)
	}
	return errs.E(errs.Unreadable, "dataset %q has no readable file: %s", id, names(named))
}

func names(xs []string) string {
	if len(xs) > maxNamed {
		return strings.Join(xs[:maxNamed], "; ") + fmt.Sprintf("; and %d more", len(xs)-maxNamed)
	}
	return strings.Join(xs, "; ")
}

// TimeBounds turns a job's time range into UTC instants for the index: the
// start as written, the end at the last second of the period it names (an
// end given to the day includes that day). Dates of other calendars are
// placed field by field, as the index places the files' dates.
func TimeBounds(tr *engine.TimeRange) (start, end *time.Time, err error) {
	if tr == nil {
		return nil, nil, nil
	}
	a, b, err := tr.Parse()
	if err != nil {
		return nil, nil, err
	}
	if a != nil {
		t := utc(a.Date, false)
		start = &t
	}
	if b != nil {
		t := utc(b.Date, true)
		if b.Precision != cftime.Second {
			t = nextPeriod(utc(b.Date, false), b.Precision).Add(-time.Second)
		}
		end = &t
	}
	return start, end, nil
}

// ParseTimeParam parses a query parameter START/END (either side may be
// empty) or a single instant, which means the period it names.
func ParseTimeParam(field, s string) (start, end *time.Time, err error) {
	a, b, ok := strings.Cut(s, "/")
	if !ok {
		b = a
	}
	start, end, err = TimeBounds(&engine.TimeRange{Start: a, End: b})
	if err != nil {
		var e *errs.Error
		if errors.As(err, &e) {
			return nil, nil, errs.F(errs.Invalid, field, "%s", e.Message)
		}
		return nil, nil, errs.F(errs.Invalid, field, "%v", err)
	}
	return start, end, nil
}

func utc(d cftime.Date, up bool) time.Time {
	sec := math.Floor(d.Second)
	if up {
		sec = math.Ceil(d.Second)
	}
	return time.Date(d.Year, time.Month(d.Month), d.Day, d.Hour, d.Minute, int(sec), 0, time.UTC)
}

func nextPeriod(t time.Time, p cftime.Precision) time.Time {
	switch p {
	case cftime.Year:
		return time.Date(t.Year()+1, 1, 1, 0, 0, 0, 0, time.UTC)
	case cftime.Month:
		return time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	case cftime.Day:
		return time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
	case cftime.Hour:
		return t.Truncate(time.Hour).Add(time.Hour)
	case cftime.Minute:
		return t.Truncate(time.Minute).Add(time.Minute)
	}
	return t.Add(time.Second)
}
