package jobs

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/rs/zerolog"
)

// The audit log: one JSON line per change of a job's status and per
// operation on a key, appended to <state>/audit.log by the server and by
// `subsetd keys` alike (each line one write to a file opened for
// appending, so the two never interleave within a line). A line names the
// key, never its secret.

// AuditFile is the audit log's name in the state directory.
const AuditFile = "audit.log"

// OpenAudit opens the audit log of a state directory for appending; also,
// when not nil, is written every line as well (the server's own log).
func OpenAudit(stateDir string, also io.Writer) (zerolog.Logger, io.Closer, error) {
	f, err := os.OpenFile(filepath.Join(stateDir, AuditFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return zerolog.Nop(), nil, fmt.Errorf("audit log: %w", err)
	}
	var w io.Writer = f
	if also != nil {
		w = zerolog.MultiLevelWriter(f, also)
	}
	return zerolog.New(w).With().Timestamp().Str("component", "audit").Logger(), f, nil
}

// AuditJob writes the line of a job event.
func AuditJob(l zerolog.Logger, ev JobEvent) {
	e := l.Info().Str("event", "job."+ev.To).Str("job_id", ev.Job).Str("owner", ev.Owner)
	if ev.Message != "" {
		e = e.Str("message", ev.Message)
	}
	e.Msg("job " + ev.To)
}

// AuditKey writes the line of an operation (created, revoked, quota) on a
// key; by says who did it (the command's user).
func AuditKey(l zerolog.Logger, op string, k *Key, by string) {
	e := l.Info().Str("event", "key."+op).Str("key", k.Name).Str("role", string(k.Role)).Str("hint", k.Hint).Str("by", by)
	if q := k.Quota.String(); q != "" {
		e = e.Str("quota", q)
	}
	e.Msg("key " + op)
}
