package jobs

import (
	"context"
	"database/sql"
	"errors"
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
	QueueLimit int    // active (accepted or running) jobs of the whole server
	Owner      string // the submitting key's name
	Quota      Quota  // its quota
}

// day is the UTC day of t, as subsetd_usage counts days.
func day(t time.Time) int64 { return t.UTC().Unix() / 86400 }

// Admit checks, in the transaction that will insert the job, that one more
// job fits in a. It first takes the admission row (see migration 0004), so
// that concurrent submissions are admitted one after the other: of 100 at
// once with room for 10, exactly 10 pass. Over a quota of the owner or the
// server's queue it returns an *ExceededError. (What one job may hold is
// checked before, as its regions are read: JobLimits.)
func (s *Store) Admit(ctx context.Context, tx *sql.Tx, a Admission) error {
	if _, err := tx.ExecContext(ctx, `UPDATE subsetd_admission SET seq = seq + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("admission: %w", err)
	}
	var all, mine int
	if err := tx.QueryRowContext(ctx, `SELECT count(*), COALESCE(sum(CASE WHEN owner = ? THEN 1 ELSE 0 END), 0)
		FROM subsetd_job WHERE status IN `+active, a.Owner).Scan(&all, &mine); err != nil {
		return fmt.Errorf("admission: count active jobs: %w", err)
	}
	if a.QueueLimit > 0 && all >= a.QueueLimit {
		return &ExceededError{Limit: Limit{Policy: "queue", Quota: int64(a.QueueLimit), Unit: "concurrent-requests"}, RetryAfter: retryBusy,
			Err: errs.E(errs.Busy, "the server's queue is full: it takes at most %d jobs queued or running at once; try again later", a.QueueLimit)}
	}
	if q := a.Quota.ActiveJobs; q > 0 && mine >= q {
		return &ExceededError{Limit: Limit{Policy: "active_jobs", Quota: int64(q), Unit: "concurrent-requests"}, RetryAfter: retryBusy,
			Err: errs.E(errs.Busy, "key %q has %d jobs queued or running, its quota: try again when one has finished", a.Owner, q)}
	}
	if q := a.Quota.OutputBytesPerDay; q > 0 {
		now := s.Now()
		var used int64
		err := tx.QueryRowContext(ctx, `SELECT output_bytes FROM subsetd_usage WHERE owner = ? AND day = ?`, a.Owner, day(now)).Scan(&used)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("admission: usage: %w", err)
		}
		if used >= q {
			midnight := time.Unix((day(now)+1)*86400, 0)
			return &ExceededError{Limit: Limit{Policy: "output_bytes", Quota: q, Window: 24 * time.Hour, Unit: "content-bytes"}, RetryAfter: midnight.Sub(now),
				Err: errs.E(errs.Busy, "key %q has written %d bytes of output files today (UTC), its quota is %d: try again after midnight UTC", a.Owner, used, q)}
		}
	}
	return nil
}

// addUsage adds bytes of output files to the usage of the day of a job's
// owner.
func (s *Store) addUsage(ctx context.Context, tx *sql.Tx, jobID string, bytes int64) error {
	if bytes == 0 {
		return nil
	}
	var owner string
	if err := tx.QueryRowContext(ctx, `SELECT owner FROM subsetd_job WHERE id = ?`, jobID).Scan(&owner); err != nil {
		return fmt.Errorf("usage: %w", err)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO subsetd_usage (owner, day, output_bytes) VALUES (?, ?, ?)
		ON CONFLICT (owner, day) DO UPDATE SET output_bytes = subsetd_usage.output_bytes + excluded.output_bytes`, owner, day(s.Now()), bytes)
	if err != nil {
		return fmt.Errorf("usage: %w", err)
	}
	return nil
}

// Usage is the bytes of output files owner's jobs wrote on the UTC day of t.
func (s *Store) Usage(ctx context.Context, owner string, t time.Time) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT output_bytes FROM subsetd_usage WHERE owner = ? AND day = ?`, owner, day(t)).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, err
}
