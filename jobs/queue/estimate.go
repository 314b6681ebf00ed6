package queue

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/subsetd/subsetd/catalog"
	"github.com/subsetd/subsetd/cftime"
	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/jobs"
	"github.com/subsetd/subsetd/jobs/pool"
)

// Estimate is a dry run of a job of by.Owner: the job is validated,
// its files chosen and its regions grouped into tasks as Submit does, and
// each task is planned by a worker process (worker.Task.DryRun: the
// engine's plan, no data value read, nothing written). Nothing is stored.
func (s *Service) Estimate(ctx context.Context, spec *jobs.Spec, by jobs.Submitter) (*jobs.Estimate, error) {
	if err := s.validate(spec); err != nil {
		return nil, err
	}
	sel, err := s.choose(ctx, spec)
	if err != nil {
		return nil, err
	}
	est, err := s.estimate(ctx, spec, sel)
	if err != nil {
		return nil, err
	}
	if est.Limit = by.Quota.MaxOutputBytes; est.Limit > 0 && est.Bytes > est.Limit {
		est.Split = s.split(spec, sel, est, est.Limit)
	}
	return est, nil
}

// checkOutput refuses a job whose dry run estimates more output than
// limit (the owner's Quota.MaxOutputBytes), saying how to split it.
func (s *Service) checkOutput(ctx context.Context, spec *jobs.Spec, sel *catalog.Selection, limit int64) error {
	if limit <= 0 {
		return nil
	}
	est, err := s.estimate(ctx, spec, sel)
	if err != nil {
		return err
	}
	if est.Bytes <= limit {
		return nil
	}
	split := s.split(spec, sel, est, limit)
	how := "ask for fewer regions, a shorter time range or fewer variables"
	switch {
	case len(split) > 0 && split[0].Time != nil:
		how = fmt.Sprintf("split its time range in %d (split lists them)", len(split))
	case len(split) > 0:
		how = fmt.Sprintf("submit its regions as %d jobs (split lists the groups)", len(split))
	}
	return &jobs.TooLargeError{Limit: limit, Estimate: est, Split: split,
		Err: errs.E(errs.TooLarge, "the job would write about %d bytes of files (estimated by a dry run), more than the %d bytes one job may: %s", est.Bytes, limit, how)}
}

// split is the split hint of a job estimated to write more than limit:
// its time range is the request's within the data's coverage.
func (s *Service) split(spec *jobs.Spec, sel *catalog.Selection, est *jobs.Estimate, limit int64) []jobs.Split {
	var from, to time.Time
	if sel.Info != nil && sel.Info.Time != nil {
		from, to = instant(sel.Info.Time.Start), instant(sel.Info.Time.End)
	}
	if spec.Time != nil {
		if t := instant(spec.Time.Start); !t.IsZero() && t.After(from) {
			from = t
		}
		if t := instant(spec.Time.End); !t.IsZero() && (to.IsZero() || t.Before(to)) {
			to = t
		}
	}
	return est.SplitHint(limit, from, to)
}

// instant reads an ISO 8601 date of the proleptic Gregorian calendar as
// UTC (zero when it is not one).
func instant(iso string) time.Time {
	d, _, err := cftime.ParseISO(iso)
	if err != nil || iso == "" {
		return time.Time{}
	}
	sec := int(d.Second)
	return time.Date(d.Year, time.Month(d.Month), d.Day, d.Hour, d.Minute, sec, 0, time.UTC)
}

// estimate is the dry run of a validated job whose files are chosen.
func (s *Service) estimate(ctx context.Context, spec *jobs.Spec, sel *catalog.Selection) (*jobs.Estimate, error) {
	tasks, decided := planTasks("", spec.Regions, sel, s.cfg.Workers, s.cfg.RegionsPerTask)
	est := &jobs.Estimate{Kind: sel.Kind, Notes: slices.Clone(sel.Notes), Regions: make([]jobs.RegionEstimate, len(spec.Regions)),
		Throughput: s.speed.model(), Workers: s.cfg.Workers}
	for i, r := range spec.Regions {
		est.Regions[i] = jobs.RegionEstimate{Name: r.OutputName(), Status: jobs.Empty}
		if decided != nil && decided[i].Status != "" {
			est.Regions[i].Status, est.Regions[i].Message = decided[i].Status, decided[i].Message
		}
	}
	results := make([]*engine.Result, len(tasks))
	errors := make([]error, len(tasks))
	var wg sync.WaitGroup
	job := &jobs.Job{ID: "dry-run", Spec: *spec}
	for k := range tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := &tasks[k]
			files, err := s.inputs(job, t)
			if err != nil {
				errors[k] = errs.E(errs.Unavailable, "%v", err)
				return
			}
			wt, err := workerTask(job, t, files, "", s.cfg.MemoryBudget)
			if err != nil {
				errors[k] = err
				return
			}
			wt.DryRun = true
			results[k], _, errors[k] = s.planner().RunTask(ctx, wt)
		}()
	}
	wg.Wait()
	var lanes []float64 // each worker's busy time, tasks given to the least busy
	for range max(s.cfg.Workers, 1) {
		lanes = append(lanes, 0)
	}
	for k, t := range tasks {
		if err := errors[k]; err != nil {
			// What would fail the task fails its regions, as the cut
			// would; a dry run that cannot run at all is an error.
			if errs.CodeOf(err) == errs.Internal || errs.CodeOf(err) == errs.Unavailable || context.Cause(ctx) != nil {
				return nil, err
			}
			for _, i := range t.Regions {
				est.Regions[i].Status, est.Regions[i].Message = jobs.Failed, s.userMessage(err.Error())
			}
			continue
		}
		res := results[k]
		est.InputBytes += res.BytesRead
		for _, n := range res.Notes {
			est.Notes = append(est.Notes, s.userMessage(n))
		}
		var taskBytes int64
		for j, rr := range res.Regions {
			if j >= len(t.Regions) {
				break
			}
			r := &est.Regions[t.Regions[j]]
			r.Status, r.Message, r.Statistics = jobs.Status(rr.Status), s.userMessage(rr.Message), rr.Statistics
			r.Files, r.InputBytes = rr.Files, rr.InputBytes
			r.InputFiles = regionInputs(t, j)
			for _, f := range rr.Files {
				r.ValueBytes += f.ValueBytes
				if f.Estimate != nil {
					r.Bytes += f.Estimate.Bytes
				}
			}
			est.ValueBytes += r.ValueBytes
			est.Bytes += r.Bytes
			est.Files += len(r.Files)
			taskBytes += r.ValueBytes
			r.Seconds = est.Throughput.TaskSeconds(r.ValueBytes)
		}
		i := slices.Index(lanes, slices.Min(lanes))
		lanes[i] += est.Throughput.TaskSeconds(taskBytes)
	}
	est.Seconds = slices.Max(lanes)
	return est, nil
}

// regionInputs are the files region j of task t reads.
func regionInputs(t jobs.Task, j int) []string {
	if t.RegionFiles == nil {
		return t.Files
	}
	var out []string
	for _, k := range t.RegionFiles[j] {
		out = append(out, t.Files[k])
	}
	return out
}

// planner is the pool dry runs go to.
func (s *Service) planner() *pool.Pool {
	if s.cfg.Planner != nil {
		return s.cfg.Planner
	}
	return s.pool
}

// Defaults of the throughput model, until tasks have been measured: a
// process start and 50 MB of output values a second.
const (
	defaultOverhead = 0.2
	defaultSpeed    = 50e6
	speedSamples    = 64
)

// speed fits the duration of finished tasks to the value bytes they wrote
// (least squares over the last speedSamples): the throughput model of
// Estimate.
type speed struct {
	mu      sync.Mutex
	samples [][2]float64 // value bytes, seconds
}

// observe records a finished task.
func (m *speed) observe(valueBytes int64, d time.Duration) {
	if valueBytes <= 0 || d <= 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.samples = append(m.samples, [2]float64{float64(valueBytes), d.Seconds()})
	if len(m.samples) > speedSamples {
		m.samples = m.samples[len(m.samples)-speedSamples:]
	}
}

// model is the fitted throughput: seconds = overhead + bytes / speed,
// both kept positive; with one sample, or samples of one size, the
// default overhead and the speed that gives their mean.
func (m *speed) model() jobs.Throughput {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := float64(len(m.samples))
	if n == 0 {
		return jobs.Throughput{BytesPerSecond: defaultSpeed, Overhead: defaultOverhead}
	}
	var sx, sy, sxx, sxy float64
	for _, s := range m.samples {
		sx, sy, sxx, sxy = sx+s[0], sy+s[1], sxx+s[0]*s[0], sxy+s[0]*s[1]
	}
	t := jobs.Throughput{Samples: len(m.samples)}
	if d := n*sxx - sx*sx; n >= 2 && d > 0 {
		slope := (n*sxy - sx*sy) / d
		icpt := (sy - slope*sx) / n
		if slope > 0 && icpt >= 0 {
			t.BytesPerSecond, t.Overhead = 1/slope, icpt
			return t
		}
	}
	t.Overhead = min(defaultOverhead, sy/n/2)
	t.BytesPerSecond = sx / max(sy-t.Overhead*n, 1e-3)
	return t
}
