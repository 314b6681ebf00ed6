package worker

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/datafile"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/jobs"
)

// runGranules cuts a task of independent files (granules): each file is
// opened once and cut for the regions that need it (task.RegionFiles),
// giving <region>/<file stem>.nc; a file no region needs is never opened.
// One engine run per file, so that a file the engine refuses (unreadable,
// without a requested variable, outside the time range) fails only its own
// outputs: a region is successful when one of its files gave an output,
// failed when none did and one failed, empty otherwise.
func runGranules(ctx context.Context, task *jobs.WorkerTask, env Env, opt engine.Options) (*engine.Result, error) {
	req := task.Request
	if len(task.RegionFiles) != len(req.Regions) {
		return nil, errs.E(errs.Internal, "granule task: %d region file lists for %d regions", len(task.RegionFiles), len(req.Regions))
	}
	users := make([][]int, len(task.Files)) // file -> regions that need it
	for i, fs := range task.RegionFiles {
		for _, k := range fs {
			if k < 0 || k >= len(task.Files) {
				return nil, errs.E(errs.Internal, "granule task: region %d needs file %d of %d", i, k, len(task.Files))
			}
			users[k] = append(users[k], i)
		}
	}
	res := &engine.Result{Regions: make([]engine.RegionResult, len(req.Regions))}
	for i, r := range req.Regions {
		res.Regions[i].Name = jobs.RegionName(r)
	}
	empties := make([][]string, len(req.Regions))
	fails := make([][]string, len(req.Regions))
	stems := datafile.OutputNames(task.Files)
	for k, file := range task.Files {
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
		o := opt
		o.Concat = false
		o.OutDir = filepath.Join(opt.OutDir, fmt.Sprintf(".granule-%d", k))
		if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
			return nil, errs.Wrap(errs.Internal, err, "output folder")
		}
		r, err := env.Run(ctx, []string{file}, &sub, o)
		if r != nil {
			res.FilesOpened += r.FilesOpened
			res.BytesRead += r.BytesRead
			res.BytesWritten += r.BytesWritten
			res.Notes = append(res.Notes, r.Notes...)
		}
		if err != nil {
			os.RemoveAll(o.OutDir)
			if context.Cause(ctx) != nil || errs.Retryable(err) {
				return nil, err
			}
			// A granule whose coverage overlaps the time range without a
			// step inside it has nothing for the regions: not a failure.
			into := fails
			if errs.CodeOf(err) == errs.Invalid && errs.FieldOf(err) == "time" {
				into = empties
			}
			for _, i := range users[k] {
				into[i] = append(into[i], err.Error())
			}
			continue
		}
		if len(r.Regions) != len(sub.Regions) {
			os.RemoveAll(o.OutDir)
			return nil, errs.E(errs.Internal, "the engine reported %d regions for %d", len(r.Regions), len(sub.Regions))
		}
		for j, rr := range r.Regions {
			i := users[k][j]
			out := &res.Regions[i]
			switch rr.Status {
			case engine.StatusSuccessful:
				for _, f := range rr.Files {
					name := out.Name + "/" + stems[k] + strings.TrimPrefix(f.Name, out.Name)
					dst := filepath.Join(opt.OutDir, filepath.FromSlash(name))
					if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
						return nil, errs.Wrap(errs.Internal, err, "output folder")
					}
					if err := os.Rename(filepath.Join(o.OutDir, filepath.FromSlash(f.Name)), dst); err != nil {
						return nil, errs.Wrap(errs.Internal, err, "move output %s", name)
					}
					f.Name, f.Path = name, dst
					out.Files = append(out.Files, f)
				}
			case engine.StatusEmpty:
				empties[i] = append(empties[i], stems[k]+": "+rr.Message)
			default:
				fails[i] = append(fails[i], stems[k]+": "+rr.Message)
			}
		}
		os.RemoveAll(o.OutDir)
	}
	for i := range res.Regions {
		r := &res.Regions[i]
		switch {
		case len(r.Files) > 0:
			r.Status = engine.StatusSuccessful
			if len(fails[i]) > 0 {
				r.Message = fmt.Sprintf("%d of %d files failed: %s", len(fails[i]), len(task.RegionFiles[i]), strings.Join(fails[i], "; "))
			}
		case len(fails[i]) > 0:
			r.Status, r.Message = engine.StatusFailed, strings.Join(fails[i], "; ")
		default:
			r.Status, r.Message = engine.StatusEmpty, strings.Join(empties[i], "; ")
			if r.Message == "" {
				r.Message = "no input file meets the region"
			}
		}
	}
	return res, nil
}
