package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/subsetd/subsetd/internal/errs"
)

// Limit is a limit that admission (or the API's request rate) enforces, as
// a client is told of it: the quota policies of the RateLimit-Policy field
// of the IETF's RateLimit header fields draft.
type Limit struct {
	Policy string        // its name: "queue", "active_jobs", "output_bytes", "requests"
	Quota  int64         // what the window allows
	Window time.Duration // 0: a count at any one time (active jobs)
	Unit   string        // "requests", "content-bytes" or "concurrent-requests"
}

// ExceededError is a request over a limit: a Busy error that says which
// limit and when trying again may succeed.
type ExceededError struct {
	Limit      Limit
	RetryAfter time.Duration
	Err        *errs.Error
}

func (e *ExceededError) Error() string { return e.Err.Error() }
func (e *ExceededError) Unwrap() error { return e.Err }

// retryBusy is when to try again after the server's queue was full: a
// guess, as no one knows when a job ends.
const retryBusy = 5 * time.Second

// Admission is what a submission must fit in.
type Admission struct {
	QueueLimit int // active (accepted or running) jobs of the whole server
}

// Admit checks, in the transaction that will insert the job, that one more
// job fits in a. It first takes the admission row (see migration 0004), so
// that concurrent submissions are admitted one after the other: of 100 at
// once with room for 10, exactly 10 pass.
func (s *Store) Admit(ctx context.Context, tx *sql.Tx, a Admission) error {
	if _, err := tx.ExecContext(ctx, `UPDATE subsetd_admission SET seq = seq + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("admission: %w", err)
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM subsetd_job WHERE status IN `+active).Scan(&n); err != nil {
		return fmt.Errorf("admission: count active jobs: %w", err)
	}
	if a.QueueLimit > 0 && n >= a.QueueLimit {
		return &ExceededError{Limit: Limit{Policy: "queue", Quota: int64(a.QueueLimit), Unit: "concurrent-requests"}, RetryAfter: retryBusy,
			Err: errs.E(errs.Busy, "the server's queue is full: it takes at most %d jobs queued or running at once; try again later", a.QueueLimit)}
	}
	return nil
}
