package queue

import (
	"context"
	"database/sql"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
)

// Waking River on SQLite. River's SQLite driver emulates LISTEN/NOTIFY
// with a table it polls every 50 ms: a task committed by Submit waited
// 0-50 ms (25 on average) before River fetched it, and the polling cost an
// idle server CPU. One server owns a SQLite database, so nothing needs
// telling across processes: the driver is run without a listener
// (pollOnlyDriver), and River then fetches at once after an insert made
// outside a transaction. Once a job's transaction has committed its tasks,
// Submit inserts one wake job (a no-op) in the tasks' queue: the fetch it
// triggers takes the tasks too. Polling (FetchPollInterval) is left to what
// nothing announces: retries that come due, tasks made available again.
// Webhook deliveries, queued in the transaction of a job's change, wake
// their queue once it has ended (wakeAfter). PostgreSQL announces inserts
// itself (LISTEN/NOTIFY).

// pollOnlyDriver is River's SQLite driver without its polling listener.
type pollOnlyDriver struct {
	riverdriver.Driver[*sql.Tx]
}

func (pollOnlyDriver) SupportsListener() bool     { return false }
func (pollOnlyDriver) SupportsListenNotify() bool { return false }

// WakeArgs is the no-op job that makes River fetch the tasks just committed.
type WakeArgs struct{}

// Kind is River's job kind.
func (WakeArgs) Kind() string { return "subsetd_wake" }

// InsertOpts put the wake job ahead of the jobs it wakes (in the tasks' queue
// unless the insert names another), once.
func (WakeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: river.QueueDefault, Priority: 1, MaxAttempts: 1}
}

type wakeWorker struct {
	river.WorkerDefaults[WakeArgs]
}

func (wakeWorker) Work(context.Context, *river.Job[WakeArgs]) error { return nil }

// wake makes River fetch now in queue (SQLite). A failure costs only
// latency: the next poll finds the jobs.
func (s *Service) wake(ctx context.Context, queue string) {
	if !s.sqlite {
		return
	}
	if _, err := s.river.Insert(context.WithoutCancel(ctx), WakeArgs{}, &river.InsertOpts{Queue: queue}); err != nil {
		s.log.Debug().Err(err).Str("queue", queue).Msg("wake the queue")
	}
}

// wakeAfter wakes queue once the transaction that is inserting jobs in
// it has ended: SQLite has one connection that writes, which the wake's
// insert waits for (a transaction that rolled back leaves a no-op).
func (s *Service) wakeAfter(queue string) {
	if s.sqlite {
		go s.wake(context.Background(), queue)
	}
}
