package queue

import (
	"context"
	"time"

	"github.com/subsetd/subsetd/jobs"
	"github.com/subsetd/subsetd/worker"
)

// Progress updates of a running task are recorded when its share grew by
// progressStep since the last recorded, or progressEvery after it: a few
// dozen writes a task, whatever its number of slabs.
const (
	progressStep  = 0.02
	progressEvery = 100 * time.Millisecond
)

// progressOf records the progress lines of task taskID of job jobID.
func (s *Service) progressOf(ctx context.Context, jobID string, taskID int) func(worker.Progress) {
	var last worker.Progress
	var at time.Time
	return func(p worker.Progress) {
		if p.Fraction < last.Fraction+progressStep && (time.Since(at) < progressEvery || p == last) {
			return
		}
		last, at = p, time.Now()
		err := s.store.SetTaskProgress(ctx, jobID, taskID, jobs.TaskProgress{Fraction: p.Fraction, BytesDone: p.BytesDone,
			BytesTotal: p.BytesTotal, RegionsDone: p.RegionsDone})
		if err != nil && ctx.Err() == nil {
			s.log.Warn().Err(err).Str("job_id", jobID).Int("task_id", taskID).Msg("task progress")
		}
	}
}
