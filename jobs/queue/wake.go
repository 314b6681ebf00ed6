package queue

import (
	"context"

	"github.com/riverqueue/river"
)

// Waking River on SQLite. River's SQLite driver has no listener: a client
// learns of jobs inserted in a transaction only at its next poll, and
// polling often costs a busy idle server (each poll parses River's fetch
// query anew). River does fetch at once after an insert made outside a
// transaction, so once a job's transaction has committed its tasks, Submit
// inserts one wake job (a no-op) in the tasks' queue: the fetch it triggers
// takes the tasks too. Polling (FetchPollInterval) is left to what nothing
// announces: retries that come due, tasks made available again. PostgreSQL
// announces inserts itself (LISTEN/NOTIFY).

// WakeArgs is the no-op job that makes River fetch the tasks just committed.
type WakeArgs struct{}

// Kind is River's job kind.
func (WakeArgs) Kind() string { return "subsetd_wake" }

// InsertOpts put the wake job in the tasks' queue, ahead of them, once.
func (WakeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: river.QueueDefault, Priority: 1, MaxAttempts: 1}
}

type wakeWorker struct {
	river.WorkerDefaults[WakeArgs]
}

func (wakeWorker) Work(context.Context, *river.Job[WakeArgs]) error { return nil }

// wake makes River fetch now (SQLite). A failure costs only latency: the
// next poll finds the tasks.
func (s *Service) wake(ctx context.Context) {
	if !s.sqlite {
		return
	}
	if _, err := s.river.Insert(context.WithoutCancel(ctx), WakeArgs{}, nil); err != nil {
		s.log.Debug().Err(err).Msg("wake the queue")
	}
}
