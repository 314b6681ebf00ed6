package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/subsetd/subsetd/internal/datafile"
	"github.com/subsetd/subsetd/internal/errs"
)

// RunFunc cuts files for a request, as Run does; Granules cuts each file
// with one (Run itself, or a stand-in in tests of the worker and server).
type RunFunc func(ctx context.Context, files []string, req *Request, opt Options) (*Result, error)

// Granules cuts independent files (granules): need[i] lists the indexes
// into files of the files region i of req needs. Each file is opened once
// and cut by run for the regions that need it only, giving
// <region>/<stem>.nc under opt.OutDir (the stems of datafile.OutputNames);
// a file no region needs is never opened.
//
// One run per file, so that a file the engine refuses (unreadable, without
// a requested variable, outside the time range) fails only its own
// outputs: a region is successful when one of its files gave an output,
// failed when none did and one failed, empty otherwise. Only an error that
// concerns the whole run (cancellation, a retryable error of a file's run
// such as a full disk) is returned. opt.Concat is ignored.
func Granules(ctx context.Context, run RunFunc, files []string, need [][]int, req *Request, opt Options) (*Result, error) {
	if len(need) != len(req.Regions) {
		return nil, errs.E(errs.Internal, "granules: %d region file lists for %d regions", len(need), len(req.Regions))
	}
	users := make([][]int, len(files)) // file -> regions that need it
	for i, fs := range need {
		for _, k := range fs {
			if k < 0 || k >= len(files) {
				return nil, errs.E(errs.Internal, "granules: region %d needs file %d of %d", i, k, len(files))
			}
			users[k] = append(users[k], i)
		}
	}
	res := &Result{Regions: make([]RegionResult, len(req.Regions))}
	for i, r := range req.Regions {
		res.Regions[i].Name = r.OutputName()
	}
	if opt.Files == nil {
		opt.Files = osFiles{}
	}
	empties := make([][]string, len(req.Regions))
	fails := make([][]string, len(req.Regions))
	stems := datafile.OutputNames(files)
	for k, file := range files {
		if len(users[k]) == 0 {
			continue
		}
		if err := context.Cause(ctx); err != nil {
			return nil, err
		}
		sub := *req
		sub.Regions = nil
		for _, i := range users[k] {
			sub.Regions = append(sub.Regions, req.Regions[i])
		}
		// The file's outputs are written as <region>.nc into a folder of
		// their own, then moved to <region>/<stem>.nc (through opt.Files;
		// folders are the system's, as for every run).
		o := opt
		o.Concat = false
		o.OutDir = "" // a dry run writes nothing
		if !opt.DryRun {
			o.OutDir = filepath.Join(opt.OutDir, fmt.Sprintf("%sgranule-%d", TempPrefix, k))
			if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
				return nil, NoSpace(errs.Wrap(errs.Internal, err, "output folder"), "the output folder")
			}
		}
		r, err := run(ctx, []string{file}, &sub, o)
		if r != nil {
			res.FilesOpened += r.FilesOpened
			res.BytesRead += r.BytesRead
			res.BytesWritten += r.BytesWritten
			res.Notes = append(res.Notes, r.Notes...)
			res.NoSpace = res.NoSpace || r.NoSpace
		}
		if err != nil {
			removeStaging(o.OutDir)
			if context.Cause(ctx) != nil || errs.Retryable(err) {
				return nil, err
			}
			// A granule whose coverage overlaps the time range without a
			// step inside it has nothing for the regions: not a failure.
			into := fails
			if errs.CodeOf(err) == errs.Invalid && errs.FieldOf(err) == "time" {
				// Said once for the run too: a region with outputs
				// from other files shows no message.
				into = empties
				res.Notes = append(res.Notes, "nothing cut from "+baseName(file)+": "+err.Error())
			}
			for _, i := range users[k] {
				into[i] = append(into[i], err.Error())
			}
			continue
		}
		if len(r.Regions) != len(sub.Regions) {
			removeStaging(o.OutDir)
			return nil, errs.E(errs.Internal, "the engine reported %d regions for %d", len(r.Regions), len(sub.Regions))
		}
		if err := mergeGranuleStats(res, req, r.Stats); err != nil {
			removeStaging(o.OutDir)
			return nil, err
		}
		moveGranule(opt, r, users[k], res, stems[k], o.OutDir, empties, fails)
		removeStaging(o.OutDir)
	}
	for i := range res.Regions {
		r := &res.Regions[i]
		switch {
		case len(r.Files) > 0 || r.Statistics:
			r.Status = StatusSuccessful
			if len(fails[i]) > 0 {
				r.Message = fmt.Sprintf("%d of %d files failed: %s", len(fails[i]), len(need[i]), strings.Join(fails[i], "; "))
			}
			noteAllFill(r)
		case len(fails[i]) > 0:
			r.Status, r.Message = StatusFailed, strings.Join(fails[i], "; ")
		default:
			r.Status, r.Message = StatusEmpty, strings.Join(empties[i], "; ")
			if r.Message == "" {
				r.Message = "no input file meets the region"
			}
		}
	}
	return res, nil
}

// moveGranule takes the result r of one file, whose region j is region
// users[j] of res: its outputs move from staging to <region>/<stem>.nc
// under outDir, its other outcomes join the region's messages. An output
// that cannot be moved fails for its region, as one that cannot be written.
//
// Of a dry run (opt.DryRun) nothing is moved: the outputs are described
// under the names they would have.
func moveGranule(opt Options, r *Result, users []int, res *Result, stem, staging string, empties, fails [][]string) {
	files, outDir := opt.Files, opt.OutDir
	for j, rr := range r.Regions {
		i := users[j]
		out := &res.Regions[i]
		out.InputBytes += rr.InputBytes
		switch rr.Status {
		case StatusSuccessful:
			out.Statistics = out.Statistics || rr.Statistics
			for _, f := range rr.Files {
				name := out.Name + "/" + stem + strings.TrimPrefix(f.Name, out.Name)
				if opt.DryRun {
					f.Name = name
					out.Files = append(out.Files, f)
					continue
				}
				dst := filepath.Join(outDir, filepath.FromSlash(name))
				err := os.MkdirAll(filepath.Dir(dst), 0o755)
				if err != nil {
					err = errs.Wrap(errs.Internal, err, "output folder")
				} else if err = files.Rename(filepath.Join(staging, filepath.FromSlash(f.Name)), dst); err != nil {
					err = errs.Wrap(errs.Internal, err, "move output %s", name)
				}
				if err != nil {
					if err = NoSpace(err, name); IsNoSpace(err) {
						res.NoSpace = true
					}
					files.Remove(filepath.Join(staging, filepath.FromSlash(f.Name)))
					fails[i] = append(fails[i], stem+": "+err.Error())
					continue
				}
				f.Name, f.Path = name, dst
				out.Files = append(out.Files, f)
			}
		case StatusEmpty:
			empties[i] = append(empties[i], stem+": "+rr.Message)
		default:
			fails[i] = append(fails[i], stem+": "+rr.Message)
		}
	}
}

// everyFile is the need of Granules when every region needs every file.
func everyFile(regions, files int) [][]int {
	all := make([]int, files)
	for k := range all {
		all[k] = k
	}
	need := make([][]int, regions)
	for i := range need {
		need[i] = all
	}
	return need
}

// removeStaging removes the folder a granule's outputs were written to
// (none in a dry run).
func removeStaging(dir string) {
	if dir != "" {
		os.RemoveAll(dir)
	}
}
