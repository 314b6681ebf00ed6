package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/jobs"
	"github.com/subsetd/subsetd/worker"
)

// A job's statistics: each task's worker writes its regions' part
// (worker.StatsPartName), kept as <job>/stats/task-<id>.json; once no task
// is active, one of them (ClaimStats) merges the parts in region order into
// <job>/stats.json, which GET /v1/jobs/{id}/stats serves, and a worker
// process writes stats.nc and stats.csv from it, moved into the job's files
// and listed (FinishStats, which ends the job).

const statsDir = "stats"

func (s *Service) statsTable(id string) string { return filepath.Join(s.jobDir(id), "stats.json") }

// placeStats keeps the statistics a task's worker wrote in tmp.
func (s *Service) placeStats(job *jobs.Job, task *jobs.Task, tmp string) error {
	if job.Spec.Statistics == nil {
		return nil
	}
	src := filepath.Join(tmp, worker.StatsPartName)
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("the worker wrote no statistics: %w", err)
	}
	dir := filepath.Join(s.jobDir(job.ID), statsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.Rename(src, filepath.Join(dir, fmt.Sprintf("task-%d.json", task.ID))); err != nil {
		return err
	}
	return syncDir(dir)
}

// assembleStats writes the statistics of a job whose tasks are done, if it
// has any and no one else is writing them, and ends the job.
func (s *Service) assembleStats(ctx context.Context, id string) {
	ctx = context.WithoutCancel(ctx)
	log := s.log.With().Str("job_id", id).Logger()
	claimed, err := s.store.ClaimStats(ctx, id)
	if err != nil {
		log.Error().Err(err).Msg("claim statistics")
		return
	}
	if !claimed {
		return
	}
	files, err := s.writeStats(ctx, id)
	failure := ""
	if err != nil && (engine.IsNoSpace(err) || noSpaceErrno(err)) {
		// A full disk: tried again by maintenance, at most MaxAttempts
		// times (counted by this server).
		v, _ := s.statsNoSpace.LoadOrStore(id, new(atomic.Int32))
		if n := v.(*atomic.Int32).Add(1); int(n) < s.cfg.MaxAttempts {
			for _, f := range files {
				os.Remove(filepath.Join(s.filesDir(id), f.Name))
			}
			if rerr := s.store.ReleaseStats(ctx, id); rerr == nil {
				log.Warn().Err(err).Int32("attempt", n).Msg("no space left on device: statistics will be written again at the next maintenance")
				return
			}
		}
		s.statsNoSpace.Delete(id)
		err = fmt.Errorf("no space left on device: the server's disk was full at each of %d attempts to write the statistics (%w)", s.cfg.MaxAttempts, err)
	}
	if err != nil {
		failure = s.userMessage(err.Error())
		log.Warn().Err(err).Msg("statistics not written")
	}
	if err := s.store.FinishStats(ctx, id, files, failure); err != nil {
		for _, f := range files {
			os.Remove(filepath.Join(s.filesDir(id), f.Name))
		}
		if !errors.Is(err, jobs.ErrNotActive) {
			log.Error().Err(err).Msg("record statistics")
		}
		return
	}
	s.statsNoSpace.Delete(id)
	log.Info().Int("files", len(files)).Msg("statistics written")
}

// writeStats merges the parts of a job's statistics and has a worker write
// stats.nc and stats.csv, then moves them into the job's files.
func (s *Service) writeStats(ctx context.Context, id string) ([]jobs.File, error) {
	job, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	spec := &job.Spec
	if err := spec.FixRefs(); err != nil {
		return nil, err
	}
	table, err := engine.NewStatsTableFor(spec.Statistics, spec.Regions)
	if err != nil {
		return nil, err
	}
	tasks, err := s.store.Tasks(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, t := range tasks {
		if t.Status != jobs.Successful {
			continue // its regions failed: no values
		}
		b, err := os.ReadFile(filepath.Join(s.jobDir(id), statsDir, fmt.Sprintf("task-%d.json", t.ID)))
		if err != nil {
			return nil, fmt.Errorf("statistics of task %d: %w", t.ID, err)
		}
		var part engine.StatsTable
		if err := json.Unmarshal(b, &part); err != nil {
			return nil, fmt.Errorf("statistics of task %d: %w", t.ID, err)
		}
		if err := table.Merge(&part); err != nil {
			return nil, err
		}
	}
	b, err := json.Marshal(table)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.jobDir(id), 0o755); err != nil {
		return nil, err
	}
	if err := writeAtomic(s.statsTable(id), b); err != nil {
		return nil, err
	}
	tmp := filepath.Join(s.jobDir(id), tmpDir, "stats-"+strconv.FormatInt(s.store.Now().UnixNano(), 36))
	defer func() {
		os.RemoveAll(tmp)
		os.Remove(filepath.Dir(tmp))
	}()
	tctx, cancel := context.WithTimeoutCause(ctx, s.cfg.TaskTimeout, errTaskTimeout)
	defer cancel()
	wt := worker.Task{JobID: id, Files: []string{"dataset " + job.Dataset}, OutDir: tmp, StatsTable: s.statsTable(id),
		Command: "subsetd serve: job " + id}
	out, _, err := s.pool.RunStats(tctx, wt)
	if err != nil {
		return nil, err
	}
	var files []jobs.File
	for _, f := range out {
		if !safeName(f.Name) || strings.Contains(f.Name, "/") {
			return nil, fmt.Errorf("the worker wrote statistics with an unsafe name %q", f.Name)
		}
		src := filepath.Join(tmp, f.Name)
		if st, err := os.Lstat(src); err != nil || !st.Mode().IsRegular() || st.Size() != f.Size {
			return nil, fmt.Errorf("statistics %s: not a regular file of %d bytes", f.Name, f.Size)
		}
		if err := os.MkdirAll(s.filesDir(id), 0o755); err != nil {
			return nil, err
		}
		if err := os.Rename(src, filepath.Join(s.filesDir(id), f.Name)); err != nil {
			return nil, err
		}
		files = append(files, jobs.NewFile(f))
	}
	return files, syncDir(s.filesDir(id))
}

// Stats returns the statistics of a job: NotFound when it asks for none,
// Conflict until they are written.
func (s *Service) Stats(ctx context.Context, id string) (*engine.StatsTable, error) {
	j, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if j.Spec.Statistics == nil {
		return nil, errs.E(errs.NotFound, "job %s asks for no statistics", id)
	}
	if j.Stats != jobs.StatsDone || len(j.Files) == 0 {
		if j.Status.Final() {
			return nil, errs.E(errs.NotFound, "job %s is %s without statistics", id, j.Status)
		}
		return nil, errs.E(errs.Conflict, "the statistics of job %s are written when its tasks are done (it is %s)", id, j.Status)
	}
	b, err := os.ReadFile(s.statsTable(id))
	if err != nil {
		return nil, errs.E(errs.NotFound, "the statistics of job %s are no longer available", id)
	}
	var t engine.StatsTable
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, errs.Wrap(errs.Internal, err, "statistics of job %s", id)
	}
	return &t, nil
}
