package jobs

import (
	"context"
	"database/sql"
	"fmt"
)

// Progress of a job by bytes: each running task's worker says how far its
// cut is (SetTaskProgress); the job adds its tasks up (taskProgress):
// tasks that succeeded count whole, the others for the share they reached, so
// the job's progress only grows and stays where it was when the job is
// dismissed or fails.

// TaskProgress is how far a task's cut is.
type TaskProgress struct {
	Fraction    float64 // 0..1
	BytesDone   int64
	BytesTotal  int64
	RegionsDone int
}

// SetTaskProgress records the progress of a running task; a share below
// the one recorded (a retried task starting again) leaves it as it was.
// It tells Progressed (else Changed).
func (s *Store) SetTaskProgress(ctx context.Context, jobID string, taskID int, p TaskProgress) error {
	res, err := s.db.ExecContext(ctx, `UPDATE subsetd_task SET progress = ?, bytes_done = ?, bytes_total = ?
		WHERE job_id = ? AND task_id = ? AND status = 'running' AND progress <= ?`,
		min(max(p.Fraction, 0), 1), p.BytesDone, p.BytesTotal, jobID, taskID, p.Fraction)
	if err != nil {
		return fmt.Errorf("task progress: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		if s.Progressed != nil {
			s.Progressed(jobID)
		} else {
			s.told(jobID)
		}
	}
	return nil
}

// taskProgress adds up the progress of job id's tasks into j.
func (s *Store) taskProgress(ctx context.Context, q querier, j *Job) error {
	var work sql.NullFloat64
	var done, total sql.NullInt64
	err := q.QueryRowContext(ctx, `SELECT sum(CASE WHEN status = 'successful' THEN 1 ELSE progress END), sum(bytes_done), sum(bytes_total)
		FROM subsetd_task WHERE job_id = ?`, j.ID).Scan(&work, &done, &total)
	if err != nil {
		return fmt.Errorf("job progress: %w", err)
	}
	j.Work, j.BytesDone, j.BytesTotal = work.Float64, done.Int64, total.Int64
	return nil
}
