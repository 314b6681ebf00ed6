package queue

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/riverqueue/river"
	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/jobs"
	"github.com/subsetd/subsetd/regions"
	"github.com/subsetd/subsetd/worker"
)

const queueMaintenance = "maintenance"

// TaskArgs is a task in River's queue; the task itself is in the store.
type TaskArgs struct {
	JobID  string `json:"job_id"`
	TaskID int    `json:"task_id"`
}

// Kind is River's job kind.
func (TaskArgs) Kind() string { return "subsetd_task" }

type taskWorker struct {
	river.WorkerDefaults[TaskArgs]
	s *Service
}

// Timeout is River's backstop: the task's own timeout (a context cause the
// worker can tell apart) fires first.
func (w *taskWorker) Timeout(*river.Job[TaskArgs]) time.Duration {
	return w.s.cfg.TaskTimeout + 30*time.Second
}

// NextRetry retries a task whose worker died after a short delay that grows
// with the attempt.
// A task whose outputs met a full disk waits longer (diskRetry).
func (w *taskWorker) NextRetry(j *river.Job[TaskArgs]) time.Time {
	if at, ok := w.s.retryAt.LoadAndDelete(j.ID); ok {
		return at.(time.Time)
	}
	return time.Now().Add(time.Duration(j.Attempt) * w.s.cfg.RetryDelay)
}

func (w *taskWorker) Work(ctx context.Context, rj *river.Job[TaskArgs]) error {
	s := w.s
	a := rj.Args
	log := s.log.With().Str("job_id", a.JobID).Int("task_id", a.TaskID).Int("attempt", rj.Attempt).Logger()
	job, task, err := s.store.StartTask(ctx, a.JobID, a.TaskID)
	if errors.Is(err, jobs.ErrNotActive) || errs.CodeOf(err) == errs.NotFound {
		log.Info().Msg("task skipped: its job is no longer active")
		return nil
	}
	if err != nil {
		return err
	}
	timeout, cause := s.cfg.TaskTimeout, errTaskTimeout
	if !job.Deadline.IsZero() {
		left := time.Until(job.Deadline)
		if left <= 0 {
			s.failJob(ctx, job.ID, errDeadline)
			return nil
		}
		if left < timeout {
			timeout, cause = left, errDeadline
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	s.register(job.ID, task.ID, cancel)
	defer s.unregister(job.ID, task.ID)
	tctx, tcancel := context.WithTimeoutCause(ctx, timeout, cause)
	defer tcancel()

	files, err := s.inputs(job, task)
	if err != nil {
		s.failTask(ctx, job.ID, task.ID, err.Error())
		return nil
	}
	tmp := attemptDir(s.jobDir(job.ID), task.ID, task.Attempts)
	// Earlier attempts of this task (a node that died, a crash) are over:
	// their temporary folders go.
	removeOtherAttempts(filepath.Dir(tmp), func(t, a int) bool { return t != task.ID || a >= task.Attempts })
	defer func() {
		os.RemoveAll(tmp)
		os.Remove(filepath.Dir(tmp)) // the job's .tmp, once no task uses it
	}()
	wt, err := workerTask(job, task, files, tmp, s.cfg.MemoryBudget)
	if err != nil {
		s.failTask(ctx, job.ID, task.ID, err.Error())
		return nil
	}
	log.Info().Int("regions", len(wt.Regions)).Int("files", len(files)).Bool("concat", task.Concat).Msg("task started")
	result, st, err := s.pool.RunTaskProgress(tctx, wt, s.progressOf(ctx, job.ID, task.ID))
	log = log.With().Int("pid", st.PID).Dur("duration", st.Duration).Dur("wait", st.Wait).Logger()
	outcome := "successful"
	defer func() { s.metrics.observe(outcome, st.Duration) }()

	switch {
	case err == nil && result.NoSpace, engine.IsNoSpace(err):
		// The disk is full: nothing of this run is kept, the task runs
		// again when space may have come back.
		outcome = "retried"
		if err == nil {
			err = errs.E(errs.NoSpace, "%s", noSpaceMessage(result))
		}
		return s.diskRetry(ctx, rj, log, err)
	case err == nil:
		if s.node != nil {
			// Another node took the task over (this one was thought
			// stopped): its attempt places the files, not this one.
			if a, aerr := s.store.CurrentAttempt(ctx, job.ID, task.ID); aerr != nil || a != task.Attempts {
				outcome = "superseded"
				log.Warn().Int("current_attempt", a).Msg("task taken over by another attempt: result dropped")
				return nil
			}
		}
		out, err := s.place(job, task, result)
		if err == nil {
			err = s.placeStats(job, task, tmp)
			if err != nil {
				s.unplace(job.ID, out)
			}
		}
		if err != nil {
			// Moving files failed: an environment problem (disk full...).
			outcome = "retried"
			if noSpaceErrno(err) {
				return s.diskRetry(ctx, rj, log, errs.Wrap(errs.NoSpace, err, "no space left on device storing the outputs"))
			}
			return s.retry(ctx, rj, log, fmt.Errorf("store outputs: %w", err))
		}
		// Nothing left to take from the worker's folder: gone before the
		// job can be seen final.
		os.RemoveAll(tmp)
		var written int64
		for _, r := range result.Regions {
			for _, f := range r.Files {
				written += f.ValueBytes
			}
		}
		s.speed.observe(written, st.Duration)
		if s.metrics != nil {
			s.metrics.BytesRead.Add(float64(result.BytesRead))
			s.metrics.BytesWritten.Add(float64(result.BytesWritten))
			s.metrics.FilesOpened.Add(float64(result.FilesOpened))
		}
		var notes []string
		for _, n := range result.Notes {
			notes = append(notes, s.userMessage(n))
		}
		stats := jobs.TaskStats{Notes: notes, FilesOpened: result.FilesOpened, Attempt: task.Attempts}
		if err := s.store.FinishTask(context.WithoutCancel(ctx), job.ID, task.ID, out, stats); err != nil {
			// Not listed: not kept at their final paths.
			s.unplace(job.ID, out)
			if errors.Is(err, jobs.ErrNotActive) {
				log.Info().Msg("task finished after its job ended: result dropped")
				return nil
			}
			return err
		}
		log.Info().Msg("task successful")
		s.assembleStats(ctx, job.ID)
		s.writeManifest(ctx, job.ID)
		return nil
	case errors.Is(err, errDismissed):
		outcome = "dismissed"
		log.Info().Msg("task killed: job dismissed")
		return river.JobCancel(err)
	case errors.Is(err, errTaskTimeout):
		outcome = "failed"
		s.failTask(ctx, job.ID, task.ID, fmt.Sprintf("task timed out after %s and was stopped", s.cfg.TaskTimeout))
		log.Warn().Msg("task timed out")
		return nil
	case errors.Is(err, errDeadline):
		outcome = "failed"
		s.failJob(ctx, job.ID, errDeadline)
		return nil
	case ctx.Err() != nil:
		// The server is stopping (or River's backstop fired): back to the queue.
		outcome = "interrupted"
		if rerr := s.store.RequeueTask(context.WithoutCancel(ctx), job.ID, task.ID, "interrupted by a server shutdown"); rerr != nil && !errors.Is(rerr, jobs.ErrNotActive) {
			log.Error().Err(rerr).Msg("requeue task")
		}
		log.Info().Msg("task interrupted: back to the queue")
		return river.JobSnooze(time.Second)
	case errs.Retryable(err):
		outcome = "retried"
		return s.retry(ctx, rj, log, err)
	default:
		outcome = "failed"
		log.Warn().Err(err).Msg("task failed")
		s.failTask(ctx, job.ID, task.ID, err.Error())
		return nil
	}
}

// workerTask is what a worker process is given to run task of job: its
// regions as the job stores them, fixed (a job stored before regions were
// fixed at submission is fixed when it is loaded; a ref no set has any more
// fails the task), files is where the inputs are, outDir where to write.
func workerTask(job *jobs.Job, task *jobs.Task, files []string, outDir string, memoryBudget int64) (worker.Task, error) {
	spec := &job.Spec
	if err := spec.FixRefs(); err != nil {
		return worker.Task{}, err
	}
	wt := worker.Task{JobID: job.ID, TaskID: task.ID, Files: files,
		Regions: make([]regions.Fixed, len(task.Regions)), Variables: spec.Variables, Time: spec.Time, Vertical: spec.Vertical,
		Stride: spec.Stride, Select: spec.Select, Output: spec.Output, Statistics: spec.Statistics,
		OutDir: outDir, MemoryBudget: memoryBudget, Command: "subsetd serve: job " + job.ID,
		Concat: task.Concat, RegionFiles: task.RegionFiles}
	for i, idx := range task.Regions {
		if idx < 0 || idx >= len(spec.Regions) {
			return worker.Task{}, fmt.Errorf("task %d names region %d of a job of %d", task.ID, idx, len(spec.Regions))
		}
		wt.Regions[i] = spec.Regions[idx]
	}
	return wt, nil
}

// inputs are the absolute paths of a task's files: those chosen from the
// index at submission, or every file of the dataset for tasks stored by a
// server before the index. A file gone since is an error naming it.
func (s *Service) inputs(job *jobs.Job, task *jobs.Task) ([]string, error) {
	if len(task.Files) == 0 {
		ds, err := s.catalog.Get(job.Dataset)
		if err != nil {
			return nil, fmt.Errorf("dataset %q is no longer available", job.Dataset)
		}
		return ds.Files, nil
	}
	out := make([]string, len(task.Files))
	for i, f := range task.Files {
		p, err := s.catalog.Resolve(f)
		if err != nil {
			return nil, fmt.Errorf("input %s is no longer in the data directory (it was when the job was submitted)", f)
		}
		out[i] = p
	}
	return out, nil
}

// retry puts the task back for another attempt, or fails it after the last.
func (s *Service) retry(ctx context.Context, rj *river.Job[TaskArgs], log zerolog.Logger, err error) error {
	a := rj.Args
	if rj.Attempt >= rj.MaxAttempts {
		log.Warn().Err(err).Msg("task failed: no attempt left")
		s.failTask(ctx, a.JobID, a.TaskID, fmt.Sprintf("failed after %d attempts: %v", rj.Attempt, err))
		return river.JobCancel(err)
	}
	log.Warn().Err(err).Msg("task will be retried")
	if s.metrics != nil {
		s.metrics.TaskRetries.Inc()
	}
	if rerr := s.store.RequeueTask(context.WithoutCancel(ctx), a.JobID, a.TaskID, err.Error()); rerr != nil {
		if errors.Is(rerr, jobs.ErrNotActive) {
			return nil
		}
		return rerr
	}
	return err
}

// diskRetry puts back a task whose outputs met a full disk, to run after
// DiskFullDelay doubled at each attempt, or fails it after the last
// attempt with "no space left on device".
func (s *Service) diskRetry(ctx context.Context, rj *river.Job[TaskArgs], log zerolog.Logger, err error) error {
	a := rj.Args
	if rj.Attempt >= rj.MaxAttempts {
		log.Warn().Err(err).Msg("task failed: the disk was full at every attempt")
		s.failTask(ctx, a.JobID, a.TaskID, fmt.Sprintf("no space left on device: the server's disk was full at each of %d attempts (%s)",
			rj.Attempt, firstError(rj, err)))
		return river.JobCancel(err)
	}
	delay := s.cfg.DiskFullDelay << min(rj.Attempt-1, 10)
	log.Warn().Err(err).Dur("retry_in", delay).Msg("no space left on device: task will be retried")
	if s.metrics != nil {
		s.metrics.TaskRetries.Inc()
	}
	msg := fmt.Sprintf("no space left on device: waiting %s for space (attempt %d of %d)", delay, rj.Attempt, rj.MaxAttempts)
	if rerr := s.store.RequeueTask(context.WithoutCancel(ctx), a.JobID, a.TaskID, msg); rerr != nil {
		if errors.Is(rerr, jobs.ErrNotActive) {
			return nil
		}
		return rerr
	}
	s.retryAt.Store(rj.ID, time.Now().Add(delay))
	return err
}

// noSpaceMessage is the message of the first region whose output met the
// full disk.
func noSpaceMessage(res *engine.Result) string {
	for _, r := range res.Regions {
		if strings.Contains(r.Message, syscall.ENOSPC.Error()) || strings.Contains(r.Message, syscall.EDQUOT.Error()) {
			return r.Name + ": " + r.Message
		}
	}
	return "no space left on device writing the outputs"
}

// firstError is the error of a task's first attempt, else err.
func firstError(rj *river.Job[TaskArgs], err error) string {
	if len(rj.Errors) > 0 && rj.Errors[0].Error != "" {
		return rj.Errors[0].Error
	}
	return err.Error()
}

// unplace removes the files place moved into a job's folder, when they
// cannot be listed (the job ended meanwhile, the store failed).
func (s *Service) unplace(jobID string, out []jobs.RegionOutcome) {
	for _, o := range out {
		for _, f := range o.Files {
			os.Remove(filepath.Join(s.filesDir(jobID), filepath.FromSlash(f.Name)))
		}
	}
}

func (s *Service) failTask(ctx context.Context, jobID string, taskID int, msg string) {
	err := s.store.FailTask(context.WithoutCancel(ctx), jobID, taskID, s.userMessage(msg))
	if err != nil && !errors.Is(err, jobs.ErrNotActive) {
		s.log.Error().Err(err).Str("job_id", jobID).Int("task_id", taskID).Msg("record task failure")
	}
	s.assembleStats(ctx, jobID)
	s.writeManifest(ctx, jobID)
}

func (s *Service) failJob(ctx context.Context, jobID string, cause error) {
	ids, err := s.store.FailJob(context.WithoutCancel(ctx), jobID, cause.Error())
	if err != nil {
		if errs.CodeOf(err) != errs.Conflict {
			s.log.Error().Err(err).Str("job_id", jobID).Msg("fail job")
		}
		return
	}
	s.log.Warn().Str("job_id", jobID).Msg(cause.Error())
	s.stopJob(ctx, jobID, ids, cause)
}

func (s *Service) register(jobID string, taskID int, cancel context.CancelCauseFunc) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running[jobID] == nil {
		s.running[jobID] = map[int]context.CancelCauseFunc{}
	}
	s.running[jobID][taskID] = cancel
}

func (s *Service) unregister(jobID string, taskID int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.running[jobID], taskID)
	if len(s.running[jobID]) == 0 {
		delete(s.running, jobID)
	}
}

// place moves the files of a task's regions from the worker's temporary
// directory into the job's files directory (rename, then fsync of the
// directory) and returns the regions' outcomes.
// On an error the files already moved are removed: a file is at its
// final path only when it is listed.
func (s *Service) place(job *jobs.Job, task *jobs.Task, res *engine.Result) (out []jobs.RegionOutcome, err error) {
	if len(res.Regions) != len(task.Regions) {
		return nil, fmt.Errorf("the worker reported %d regions for %d", len(res.Regions), len(task.Regions))
	}
	tmp := attemptDir(s.jobDir(job.ID), task.ID, task.Attempts)
	var moved []string
	defer func() {
		if err != nil {
			for _, p := range moved {
				os.Remove(p)
			}
		}
	}()
	dirs := map[string]bool{}
	for i, r := range res.Regions {
		idx := task.Regions[i]
		if want := job.Regions[idx].Name; r.Name != want {
			return nil, fmt.Errorf("the worker reported region %q for %q", r.Name, want)
		}
		o := jobs.RegionOutcome{Index: idx, Message: s.userMessage(r.Message)}
		switch r.Status {
		case engine.StatusSuccessful:
			o.Status = jobs.Successful
		case engine.StatusEmpty:
			o.Status = jobs.Empty
		default:
			o.Status = jobs.Failed
		}
		if o.Status == jobs.Successful {
			for _, f := range r.Files {
				if !safeName(f.Name) {
					return nil, fmt.Errorf("the worker wrote a file with an unsafe name %q", f.Name)
				}
				src := filepath.Join(tmp, filepath.FromSlash(f.Name))
				st, err := os.Lstat(src)
				if err != nil {
					return nil, err
				}
				if !st.Mode().IsRegular() || st.Size() != f.Size {
					return nil, fmt.Errorf("output %s: not a regular file of %d bytes", f.Name, f.Size)
				}
				dst := filepath.Join(s.filesDir(job.ID), filepath.FromSlash(f.Name))
				if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
					return nil, err
				}
				if err := os.Rename(src, dst); err != nil {
					return nil, err
				}
				moved = append(moved, dst)
				dirs[filepath.Dir(dst)] = true
				o.Files = append(o.Files, jobs.NewFile(f))
			}
			if len(o.Files) == 0 && !(r.Statistics && job.Spec.Statistics != nil) {
				o.Status, o.Message = jobs.Failed, "the worker reported success without a file"
			}
		}
		out = append(out, o)
	}
	for d := range dirs {
		if err := syncDir(d); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// MaintenanceArgs is the periodic job that enforces deadlines and retention.
type MaintenanceArgs struct{}

// Kind is River's job kind.
func (MaintenanceArgs) Kind() string { return "subsetd_maintenance" }

// InsertOpts puts maintenance on its own queue, never behind tasks.
func (MaintenanceArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueMaintenance, MaxAttempts: 1}
}

type maintenanceWorker struct {
	river.WorkerDefaults[MaintenanceArgs]
	s *Service
}

func (w *maintenanceWorker) Timeout(*river.Job[MaintenanceArgs]) time.Duration {
	return 10 * time.Minute
}

func (w *maintenanceWorker) Work(ctx context.Context, _ *river.Job[MaintenanceArgs]) error {
	return w.s.Maintain(ctx)
}

// Maintain fails jobs past their deadline and deletes jobs whose retention
// period is over, with their files.
func (s *Service) Maintain(ctx context.Context) error { return s.MaintainAt(ctx, s.store.Now()) }

// MaintainAt is Maintain as if the time were now.
func (s *Service) MaintainAt(ctx context.Context, now time.Time) error {
	overdue, err := s.store.Overdue(ctx, now)
	if err != nil {
		return err
	}
	for _, id := range overdue {
		s.failJob(ctx, id, errDeadline)
	}
	ready, err := s.store.StatsReady(ctx)
	if err != nil {
		return err
	}
	for _, id := range ready {
		s.assembleStats(ctx, id)
		s.writeManifest(ctx, id)
	}
	// A manifest that could not be written (a full disk) is written now.
	ids, err := s.store.FinalJobIDs(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := os.Stat(filepath.Join(s.jobDir(id), "manifest.json")); errors.Is(err, os.ErrNotExist) {
			s.writeManifest(ctx, id)
		}
	}
	expired, err := s.store.Expired(ctx, now.Add(-s.cfg.Retention))
	if err != nil {
		return err
	}
	for _, id := range expired {
		if err := s.expire(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// expire deletes a job whose retention period is over.
func (s *Service) expire(ctx context.Context, id string) error {
	if err := s.remove(ctx, id); err != nil {
		if errs.CodeOf(err) == errs.Internal {
			s.log.Error().Err(err).Str("job_id", id).Msg("remove expired job")
			return nil // tried again at the next maintenance
		}
		return err
	}
	s.log.Info().Str("job_id", id).Msg("expired job deleted")
	return nil
}

// remove deletes a final job's files and record, excluding the manifest
// writer (which may still be finishing the job's folder).
func (s *Service) remove(ctx context.Context, id string) error {
	s.manifestMu.Lock()
	defer s.manifestMu.Unlock()
	j, err := s.store.Get(ctx, id)
	if err != nil {
		return err
	}
	if !j.Status.Final() {
		return errs.E(errs.Conflict, "job %s is %s", id, j.Status)
	}
	if err := os.RemoveAll(s.jobDir(id)); err != nil {
		return fmt.Errorf("remove the files of job %s: %w", id, err)
	}
	return s.store.Delete(ctx, id)
}
