package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/subsetd/subsetd/internal/errs"
)

// The state machine. Every status change of a job, task or region goes
// through one of the functions below; each applies only from the states it
// names (an UPDATE ... WHERE status IN (...)), so a cancel racing a
// completion is settled here: whichever commits first wins, the other gets
// ErrNotActive.
//
//	job:    accepted -> running -> successful | failed
//	        accepted | running -> dismissed (DismissJob) | failed (FailJob)
//	task:   accepted -> running -> successful | failed
//	        running -> accepted (RequeueTask: crash to retry, shutdown)
//	        accepted | running -> dismissed | failed (with its job)
//	region: accepted -> running -> successful | empty | failed
//	        running -> accepted (with its task); active -> dismissed | failed
//
// A job becomes final when none of its tasks is active: successful when a
// region produced files (or statistics) or every region is empty, failed
// otherwise. A job with statistics waits for them first:
//
//	stats:  pending -> assembling (ClaimStats, once no task is active)
//	        assembling -> done (FinishStats, which ends the job)
//	        assembling -> pending (ResetOrphans: the server stopped meanwhile)

// RegionOutcome is the result of one region of a finished task.
type RegionOutcome struct {
	Index   int
	Status  Status // Successful, Empty or Failed
	Message string
	Files   []File
}

const active = `('accepted', 'running')`

// StartTask moves a task to running and its job from accepted to running.
// A task found running was delivered again after its previous attempt died
// (crash, restart), so running -> running counts as a new attempt. It
// returns the job (with regions) and the task, or ErrNotActive when the job
// is final or the task is not active.
func (s *Store) StartTask(ctx context.Context, jobID string, taskID int) (*Job, *Task, error) {
	var job *Job
	var task *Task
	err := s.change(ctx, jobID, func(tx *sql.Tx) error {
		now := ms(s.Now())
		res, err := tx.ExecContext(ctx, `UPDATE subsetd_task SET status = 'running', attempts = attempts + 1, node = ?
			WHERE job_id = ? AND task_id = ? AND status IN `+active+`
			AND EXISTS (SELECT 1 FROM subsetd_job WHERE id = ? AND status IN `+active+`)`, s.Node, jobID, taskID, jobID)
		if err := affected(res, err, "start task"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE subsetd_region SET status = 'running', message = '' WHERE job_id = ? AND task_id = ? AND status = 'accepted'`, jobID, taskID); err != nil {
			return err
		}
		res, err = tx.ExecContext(ctx, `UPDATE subsetd_job SET status = 'running', started_ms = ?, updated_ms = ? WHERE id = ? AND status = 'accepted'`, now, now, jobID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			if err := s.event(ctx, tx, jobID, string(Running), ""); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE subsetd_job SET updated_ms = ? WHERE id = ?`, now, jobID); err != nil {
			return err
		}
		if job, err = s.get(ctx, tx, jobID); err != nil {
			return err
		}
		ts, err := s.tasks(ctx, tx, jobID, strconv.Itoa(taskID))
		if err != nil || len(ts) != 1 {
			return fmt.Errorf("start task: read back task %s/%d: %v", jobID, taskID, err)
		}
		task = &ts[0]
		return nil
	})
	return job, task, err
}

// RequeueTask puts a running task back in the queue's hands (its worker
// crashed and it will be retried, or the server is stopping).
func (s *Store) RequeueTask(ctx context.Context, jobID string, taskID int, msg string) error {
	return s.change(ctx, jobID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subsetd_task SET status = 'accepted', message = ? WHERE job_id = ? AND task_id = ? AND status = 'running'`, msg, jobID, taskID)
		if err := affected(res, err, "requeue task"); err != nil {
			return err
		}
		// The regions say why they wait (a full disk, a worker that died,
		// a shutdown) until their outcome replaces it.
		if _, err := tx.ExecContext(ctx, `UPDATE subsetd_region SET status = 'accepted', message = ? WHERE job_id = ? AND task_id = ? AND status = 'running'`, msg, jobID, taskID); err != nil {
			return err
		}
		return s.touch(ctx, tx, jobID)
	})
}

// TaskStats is what a finished task adds to its job: the notes of the
// engine (kept once per job) and the number of input files it opened.
type TaskStats struct {
	Notes       []string
	FilesOpened int
	Attempt     int // the attempt that ran (Task.Attempts when it started); 0: any
}

// FinishTask records the outcome of a task whose worker succeeded and
// finalises the job when it was its last active task.
func (s *Store) FinishTask(ctx context.Context, jobID string, taskID int, out []RegionOutcome, stats TaskStats) error {
	return s.change(ctx, jobID, func(tx *sql.Tx) error {
		// Only the task's newest attempt finishes it: an older one that
		// outlived its node's rescue finds ErrNotActive.
		res, err := tx.ExecContext(ctx, `UPDATE subsetd_task SET status = 'successful', message = ''
			WHERE job_id = ? AND task_id = ? AND status = 'running' AND (? = 0 OR attempts = ?)`, jobID, taskID, stats.Attempt, stats.Attempt)
		if err := affected(res, err, "finish task"); err != nil {
			return err
		}
		if err := s.addStats(ctx, tx, jobID, stats); err != nil {
			return err
		}
		for _, o := range out {
			switch o.Status {
			case Successful, Empty, Failed:
			default:
				return fmt.Errorf("finish task: region %d has status %q", o.Index, o.Status)
			}
			files := o.Files
			if files == nil {
				files = []File{}
			}
			fj, _ := json.Marshal(files)
			if _, err := tx.ExecContext(ctx, `UPDATE subsetd_region SET status = ?, message = ?, files = ?
				WHERE job_id = ? AND idx = ? AND task_id = ? AND status = 'running'`,
				string(o.Status), o.Message, string(fj), jobID, o.Index, taskID); err != nil {
				return err
			}
		}
		var bytes int64
		for _, o := range out {
			for _, f := range o.Files {
				bytes += f.Size
			}
		}
		if err := s.addUsage(ctx, tx, jobID, bytes); err != nil {
			return err
		}
		// A region the worker did not report is a bug of the worker.
		if _, err := tx.ExecContext(ctx, `UPDATE subsetd_region SET status = 'failed', message = 'the worker reported no result for this region'
			WHERE job_id = ? AND task_id = ? AND status = 'running'`, jobID, taskID); err != nil {
			return err
		}
		return s.finalize(ctx, tx, jobID)
	})
}

// FailTask fails an active task and its unfinished regions with msg.
func (s *Store) FailTask(ctx context.Context, jobID string, taskID int, msg string) error {
	return s.change(ctx, jobID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subsetd_task SET status = 'failed', message = ? WHERE job_id = ? AND task_id = ? AND status IN `+active, msg, jobID, taskID)
		if err := affected(res, err, "fail task"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE subsetd_region SET status = 'failed', message = ? WHERE job_id = ? AND task_id = ? AND status IN `+active, msg, jobID, taskID); err != nil {
			return err
		}
		return s.finalize(ctx, tx, jobID)
	})
}

// DismissJob cancels an active job: it and its unfinished tasks and regions
// become dismissed. It returns the queue ids of the tasks that were active.
// A final job gives a Conflict error.
func (s *Store) DismissJob(ctx context.Context, jobID, msg string) ([]int64, error) {
	return s.endJob(ctx, jobID, Dismissed, msg)
}

// FailJob fails an active job (its deadline passed): unfinished tasks and
// regions fail with msg.
func (s *Store) FailJob(ctx context.Context, jobID, msg string) ([]int64, error) {
	return s.endJob(ctx, jobID, Failed, msg)
}

func (s *Store) endJob(ctx context.Context, jobID string, to Status, msg string) ([]int64, error) {
	var ids []int64
	err := s.change(ctx, jobID, func(tx *sql.Tx) error {
		j, err := s.get(ctx, tx, jobID)
		if err != nil {
			return err
		}
		if j.Status.Final() {
			return errs.E(errs.Conflict, "job %s is already %s", jobID, j.Status)
		}
		ts, err := s.tasks(ctx, tx, jobID, "")
		if err != nil {
			return err
		}
		for _, t := range ts {
			if !t.Status.Final() {
				ids = append(ids, t.RiverID)
			}
		}
		now := ms(s.Now())
		res, err := tx.ExecContext(ctx, `UPDATE subsetd_job SET status = ?, message = ?, finished_ms = ?, updated_ms = ? WHERE id = ? AND status IN `+active,
			string(to), msg, now, now, jobID)
		if err := affected(res, err, "end job"); err != nil {
			return err
		}
		if err := s.event(ctx, tx, jobID, string(to), msg); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE subsetd_task SET status = ?, message = ? WHERE job_id = ? AND status IN `+active, string(to), msg, jobID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE subsetd_region SET status = ?, message = ? WHERE job_id = ? AND status IN `+active, string(to), msg, jobID)
		return err
	})
	return ids, err
}

// ResetOrphans puts every running task back to accepted. It is called at
// start-up, before any worker runs, when no process can still be running
// them (the state directory is locked by one server).
func (s *Store) ResetOrphans(ctx context.Context) (int64, error) {
	var n int64
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subsetd_task SET status = 'accepted' WHERE status = 'running'`)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		if _, err = tx.ExecContext(ctx, `UPDATE subsetd_region SET status = 'accepted' WHERE status = 'running'`); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE subsetd_job SET stats = ? WHERE stats = ?`, string(StatsPending), string(StatsAssembling))
		return err
	})
	return n, err
}

// change runs a transition of job jobID in a transaction, with the
// notifications it owes (queueNotices); once it is committed, Changed is
// told.
func (s *Store) change(ctx context.Context, jobID string, fn func(tx *sql.Tx) error) error {
	if err := s.InTx(ctx, func(tx *sql.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return s.queueNotices(ctx, tx, jobID)
	}); err != nil {
		return err
	}
	s.told(jobID)
	return nil
}

// told tells Changed that job id changed.
func (s *Store) told(id string) {
	if s.Changed != nil {
		s.Changed(id)
	}
}

// noActiveTask is the SQL condition that job ? has no active task.
const noActiveTask = `NOT EXISTS (SELECT 1 FROM subsetd_task WHERE job_id = ? AND status IN ` + active + `)`

// ClaimStats moves an active job's statistics from pending to assembling
// when none of its tasks is active; it reports whether it did, so that of
// the tasks finishing at once one writes the statistics.
func (s *Store) ClaimStats(ctx context.Context, jobID string) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE subsetd_job SET stats = ?, updated_ms = ?
		WHERE id = ? AND stats = ? AND status IN `+active+` AND `+noActiveTask,
		string(StatsAssembling), ms(s.Now()), jobID, string(StatsPending), jobID)
	if err != nil {
		return false, fmt.Errorf("claim statistics: %w", err)
	}
	n, err := res.RowsAffected()
	if n == 1 {
		s.told(jobID)
	}
	return n == 1, err
}

// ReleaseStats gives back the claim on an active job's statistics (they
// could not be written for now: a full disk), so that maintenance tries
// again.
func (s *Store) ReleaseStats(ctx context.Context, jobID string) error {
	return s.change(ctx, jobID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE subsetd_job SET stats = ?, updated_ms = ? WHERE id = ? AND stats = ? AND status IN `+active,
			string(StatsPending), ms(s.Now()), jobID, string(StatsAssembling))
		return affected(res, err, "release statistics")
	})
}

// FinishStats records the files of a job's statistics (failure empty) or
// why they could not be written, and ends the job: failed when they could
// not, as finalize decides otherwise. ErrNotActive when the job ended
// meanwhile (dismissed, past its deadline) or its statistics were not
// claimed.
func (s *Store) FinishStats(ctx context.Context, jobID string, files []File, failure string) error {
	return s.change(ctx, jobID, func(tx *sql.Tx) error {
		fj, _ := json.Marshal(orEmpty(files))
		res, err := tx.ExecContext(ctx, `UPDATE subsetd_job SET stats = ?, files = ? WHERE id = ? AND stats = ? AND status IN `+active,
			string(StatsDone), string(fj), jobID, string(StatsAssembling))
		if err := affected(res, err, "finish statistics"); err != nil {
			return err
		}
		var bytes int64
		for _, f := range files {
			bytes += f.Size
		}
		if err := s.addUsage(ctx, tx, jobID, bytes); err != nil {
			return err
		}
		return s.finalizeStats(ctx, tx, jobID, failure)
	})
}

// StatsReady lists the active jobs whose statistics are pending while none
// of their tasks is active: those a stopped server or a lost race left.
func (s *Store) StatsReady(ctx context.Context) ([]string, error) {
	return s.ids(ctx, `SELECT id FROM subsetd_job j WHERE stats = ? AND status IN `+active+`
		AND NOT EXISTS (SELECT 1 FROM subsetd_task t WHERE t.job_id = j.id AND t.status IN `+active+`)`, string(StatsPending))
}

// finalize ends the job when none of its tasks is active and its
// statistics, if it has any, are written.
func (s *Store) finalize(ctx context.Context, tx *sql.Tx, jobID string) error {
	var activeTasks int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM subsetd_task WHERE job_id = ? AND status IN `+active, jobID).Scan(&activeTasks); err != nil {
		return err
	}
	var stats string
	if err := tx.QueryRowContext(ctx, `SELECT stats FROM subsetd_job WHERE id = ?`, jobID).Scan(&stats); err != nil {
		return err
	}
	now := ms(s.Now())
	if activeTasks > 0 || stats == string(StatsPending) || stats == string(StatsAssembling) {
		_, err := tx.ExecContext(ctx, `UPDATE subsetd_job SET updated_ms = ? WHERE id = ?`, now, jobID)
		return err
	}
	return s.finalizeStats(ctx, tx, jobID, "")
}

// finalizeStats ends a job whose tasks are done, failed when its
// statistics could not be written (failure).
func (s *Store) finalizeStats(ctx context.Context, tx *sql.Tx, jobID, failure string) error {
	now := ms(s.Now())
	counts := map[Status]int{}
	var firstFailure string
	rows, err := tx.QueryContext(ctx, `SELECT status, message FROM subsetd_region WHERE job_id = ? ORDER BY idx`, jobID)
	if err != nil {
		return err
	}
	total := 0
	for rows.Next() {
		var st, m string
		if err := rows.Scan(&st, &m); err != nil {
			rows.Close()
			return err
		}
		counts[Status(st)]++
		total++
		if Status(st) == Failed && firstFailure == "" {
			firstFailure = m
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	status, msg := Successful, ""
	switch {
	case failure != "":
		status, msg = Failed, "the statistics could not be written: "+failure
	case counts[Failed] > 0 && counts[Successful] == 0:
		status = Failed
		msg = "no region produced a file"
		if firstFailure != "" {
			msg += ": " + firstFailure
		}
	case counts[Failed] > 0:
		msg = fmt.Sprintf("%d of %d regions failed", counts[Failed], total)
	case counts[Successful] == 0:
		msg = "no region intersects the data"
	}
	res, err := tx.ExecContext(ctx, `UPDATE subsetd_job SET status = ?, message = ?, finished_ms = ?, updated_ms = ? WHERE id = ? AND status IN `+active,
		string(status), msg, now, now, jobID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return s.event(ctx, tx, jobID, string(status), msg)
	}
	return nil
}

// addStats adds a task's notes (those the job lacks) and opened files to
// its job.
func (s *Store) addStats(ctx context.Context, tx *sql.Tx, jobID string, stats TaskStats) error {
	if len(stats.Notes) == 0 && stats.FilesOpened == 0 {
		return nil
	}
	var text string
	if err := tx.QueryRowContext(ctx, `SELECT notes FROM subsetd_job WHERE id = ?`, jobID).Scan(&text); err != nil {
		return fmt.Errorf("job notes: %w", err)
	}
	var notes []string
	if err := json.Unmarshal([]byte(text), &notes); err != nil {
		return fmt.Errorf("decode notes of job %s: %w", jobID, err)
	}
	seen := map[string]bool{}
	for _, n := range notes {
		seen[n] = true
	}
	for _, n := range stats.Notes {
		if !seen[n] {
			seen[n] = true
			notes = append(notes, n)
		}
	}
	b, _ := json.Marshal(orEmpty(notes))
	_, err := tx.ExecContext(ctx, `UPDATE subsetd_job SET notes = ?, files_opened = files_opened + ? WHERE id = ?`, string(b), stats.FilesOpened, jobID)
	return err
}

func (s *Store) touch(ctx context.Context, tx *sql.Tx, jobID string) error {
	_, err := tx.ExecContext(ctx, `UPDATE subsetd_job SET updated_ms = ? WHERE id = ?`, ms(s.Now()), jobID)
	return err
}

func affected(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, ErrNotActive)
	}
	return nil
}
