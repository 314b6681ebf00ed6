package catalog

import (
	"context"
	"encoding/json"
	"path"
	"time"

	"github.com/subsetd/subsetd/catalog/index"
	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/regions"
)

// Info describes a dataset from the index: what GET /v1/datasets/{id}
// shows (the api package turns it into its document).
type Info struct {
	ID string
	// Kind is how a job combines the files: "file", "timeseries" or
	// "granules"; the configured kind, else the detected one. Empty when
	// no file could be read and the configuration says nothing.
	Kind         string
	DetectedKind string
	Title        string
	License      string
	// FileCount counts the readable files, ErrorCount the unreadable ones.
	FileCount  int
	ErrorCount int
	Size       int64
	// Files are the first MaxListed files, as Files lists them.
	Files []File
	// Dimensions are those of the first readable file; Variables the
	// union of the readable files' variables by name (without shapes,
	// which vary along time).
	Dimensions []engine.DimInfo
	Variables  []engine.VarInfo
	// Extent is the union of the files' boxes of cell centres, longitudes
	// in [-180, 180], West > East when it crosses the antimeridian.
	Extent *regions.BBox
	// Time is the coverage of the readable files: first and last steps as
	// decoded in the files' calendar, steps summed over the files, units
	// and calendar of the earliest file.
	Time      *engine.TimeCoverage
	ScannedAt *time.Time
	// RefusedLinks are the symbolic links of the dataset's folder that
	// the last scan left out (outside the allowed roots, broken, loops).
	RefusedLinks []RefusedLink

	timeStart, timeEnd *time.Time // UTC coverage, for job validation
}

// HasVariable reports whether a readable file of the dataset has a
// variable of that name (a full path "/g/v" or a plain name).
func (i *Info) HasVariable(name string) bool {
	for _, v := range i.Variables {
		if v.Name == name || v.Name == "/"+name || path.Base(v.Name) == name {
			return true
		}
	}
	return false
}

// RefusedLink is a symbolic link of a dataset's folder left out, and why.
type RefusedLink struct {
	Name   string // relative to the data directory, '/'-separated
	Reason string // index.ReasonOutside, ReasonBroken, ReasonLoop...
}

// File is a file of a dataset, as the index has it.
type File struct {
	Name     string // relative to the data directory, '/'-separated
	Size     int64
	Modified time.Time
	Format   string
	// BBox is [west, south, east, north] of the cell centres, longitudes in
	// [-180, 180], west > east when the file crosses the antimeridian.
	BBox []float64
	// Footprint is the outline of a file of 2-D coordinates (GeoJSON).
	Footprint json.RawMessage
	Time      *engine.TimeCoverage
	Variables []string
	// Error says why the file cannot be read; such files are in no job.
	Error string
}

// FilePage is a page of a dataset's files.
type FilePage struct {
	Dataset string
	Total   int
	Offset  int
	Limit   int
	Files   []File
}

// FileQuery selects files: those meeting BBox (nil: anywhere) whose time
// coverage overlaps [Start, End] (nil: open).
type FileQuery struct {
	BBox       *regions.BBox
	Start, End *time.Time
	Limit      int
	Offset     int
}

// MaxListed is how many files GET /v1/datasets/{id} lists.
const MaxListed = 100

type cachedInfo struct {
	gen  int64
	info *Info
}

// notIndexed is the answer for a dataset in the data directory that the
// index does not have yet: a scan of it is asked for.
func (c *Catalog) notIndexed(id string) error {
	c.ensure(id)
	return beingIndexed(id)
}

func beingIndexed(id string) error {
	return errs.E(errs.Unavailable, "dataset %q is being indexed: try again in a few seconds", id)
}

// lookup checks that id is a dataset of the data directory and that the
// index has it.
func (c *Catalog) lookup(ctx context.Context, id string) (*Dataset, *index.DatasetSummary, error) {
	d, err := c.exists(id)
	if err != nil {
		return nil, nil, err
	}
	m := c.meta[id]
	kind := index.Kind(m.Kind)
	if !d.Dir {
		kind = ""
	}
	sum, err := c.idx.Dataset(ctx, id, kind)
	if errs.CodeOf(err) == errs.NotFound {
		return nil, nil, c.notIndexed(id)
	}
	if err != nil {
		return nil, nil, err
	}
	if sum.ScannedAt.Unix() <= 0 && c.scans.covers(id) {
		// Some of its files are in, not all: the scan that has it has
		// not reached its end yet.
		return nil, nil, beingIndexed(id)
	}
	return d, sum, nil
}

// Info describes a dataset from the index; it is cached until the next
// scan ends.
func (c *Catalog) Info(ctx context.Context, id string) (*Info, error) {
	gen := c.generation()
	c.mu.Lock()
	ci, ok := c.infos[id]
	c.mu.Unlock()
	if ok && ci.gen == gen {
		if _, err := c.exists(id); err != nil {
			return nil, err
		}
		if ci.info.ScannedAt == nil && c.scans.covers(id) {
			return nil, beingIndexed(id)
		}
		return ci.info, nil
	}
	d, sum, err := c.lookup(ctx, id)
	if err != nil {
		return nil, err
	}
	m := c.meta[id]
	info := &Info{ID: id, Kind: string(sum.Kind), DetectedKind: string(sum.Detected), Title: m.Title, License: m.License,
		FileCount: sum.Files, ErrorCount: sum.Errors, Size: sum.Size, Variables: sum.Variables}
	if !d.Dir {
		info.Kind, info.DetectedKind = KindFile, KindFile
	}
	if !sum.ScannedAt.IsZero() && sum.ScannedAt.Unix() > 0 {
		t := sum.ScannedAt
		info.ScannedAt = &t
	}
	info.RefusedLinks = c.scans.refusedLinks(id)
	if e := sum.Extent; len(e) == 4 {
		info.Extent = &regions.BBox{West: e[0], South: e[1], East: e[2], North: e[3]}
	}
	page, err := c.Files(ctx, id, FileQuery{Limit: MaxListed})
	if err != nil {
		return nil, err
	}
	info.Files = page.Files
	// The dimensions of the first readable file, the steps of them all.
	steps := 0
	for off := 0; ; off += 1000 {
		fs, total, err := c.idx.Search(ctx, id, nil, nil, nil, 1000, off)
		if err != nil {
			return nil, err
		}
		for _, f := range fs {
			if off == 0 && len(info.Dimensions) == 0 {
				info.Dimensions = append(info.Dimensions, f.Dimensions...)
			}
			if f.TimeStart != nil && info.Time == nil {
				info.Time = &engine.TimeCoverage{Units: f.TimeUnits, Calendar: f.Calendar}
			}
			steps += f.TimeSteps
		}
		if off+len(fs) >= total || len(fs) == 0 {
			break
		}
	}
	if info.Time != nil && sum.TimeStart != nil {
		info.Time.Start, info.Time.End, info.Time.Steps = sum.TimeStartISO, sum.TimeEndISO, steps
		info.timeStart, info.timeEnd = sum.TimeStart, sum.TimeEnd
	} else {
		info.Time = nil
	}
	c.mu.Lock()
	c.infos[id] = cachedInfo{gen, info}
	c.mu.Unlock()
	return info, nil
}

// Files lists the files of a dataset matching q. Without a box or a time
// the unreadable files come first (by name), then the readable ones in time
// order; a box or a time selects readable files only.
func (c *Catalog) Files(ctx context.Context, id string, q FileQuery) (*FilePage, error) {
	if _, _, err := c.lookup(ctx, id); err != nil {
		return nil, err
	}
	page := &FilePage{Dataset: id, Offset: q.Offset, Limit: q.Limit, Files: []File{}}
	var failed []index.Failure
	if q.BBox == nil && q.Start == nil && q.End == nil {
		var err error
		if failed, err = c.idx.Errors(ctx, id); err != nil {
			return nil, err
		}
	}
	for i := q.Offset; i < len(failed) && len(page.Files) < q.Limit; i++ {
		f := failed[i]
		page.Files = append(page.Files, File{Name: f.Path, Size: f.Size, Modified: f.ModTime, Error: f.Error})
	}
	off := max(q.Offset-len(failed), 0)
	limit := q.Limit - len(page.Files)
	found, total, err := c.idx.Search(ctx, id, q.BBox, q.Start, q.End, max(limit, 1), off)
	if err != nil {
		return nil, err
	}
	if limit > 0 {
		for _, f := range found {
			page.Files = append(page.Files, fileOf(f))
		}
	}
	page.Total = total + len(failed)
	return page, nil
}

func fileOf(f index.File) File {
	out := File{Name: f.Path, Size: f.Size, Modified: f.ModTime, Format: f.Format, BBox: f.BBox, Footprint: f.Footprint, Error: f.Error}
	if f.TimeStart != nil || f.TimeError != "" {
		out.Time = &engine.TimeCoverage{Start: f.TimeStartISO, End: f.TimeEndISO, Steps: f.TimeSteps, Units: f.TimeUnits, Calendar: f.Calendar, Error: f.TimeError}
	}
	for _, v := range f.Variables {
		out.Variables = append(out.Variables, v.Name)
	}
	return out
}
