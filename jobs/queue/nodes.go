package queue

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/subsetd/subsetd/jobs"
)

// node is this server among others on one PostgreSQL database and one
// shared state directory. Every node serves the whole API and takes tasks
// as its workers are free (River); nothing assumes that this node owns the
// tasks that are running:
//
//   - no reset at start-up: the running tasks may be other nodes';
//   - the node says it is alive every RescueAfter/4 (subsetd_node) and
//     records its name on each task it starts; any node puts back in the
//     queue the running tasks of a node not seen for RescueAfter (a node
//     killed with kill -9, a machine that died), making their River jobs
//     available at once rather than after River's rescuer's delay (which
//     must outlast the longest task, and stays as the backstop);
//   - the node that takes a task over removes the temporary folders of its
//     earlier attempts; only the newest attempt places files and finishes
//     the task (jobs.TaskStats.Attempt);
//   - a clean stop (SIGTERM) drains this node only: its running tasks end
//     or go back to the queue, then it leaves subsetd_node.
//
// Periodic work (maintenance: deadlines, retention, pending statistics;
// scans of the data directory) is enqueued by River's elected leader only,
// as River periodic jobs, and each run is worked by one node.
type node struct {
	id, host    string
	pid         int
	started     time.Time
	rescueAfter time.Duration
	stop        chan struct{}
	done        chan struct{}
}

func newNode(rescueAfter time.Duration) *node {
	host, _ := os.Hostname()
	if host == "" {
		host = "unknown"
	}
	id := fmt.Sprintf("%s-%d-%s", host, os.Getpid(), uuid.NewString()[:8])
	return &node{id: id, host: host, pid: os.Getpid(), started: time.Now(), rescueAfter: rescueAfter,
		stop: make(chan struct{}), done: make(chan struct{})}
}

// recoverNode is Recover on a shared database: say this node is alive,
// hand back the tasks of nodes that stopped, remove temporary files no
// running task owns.
func (s *Service) recoverNode(ctx context.Context) error {
	n := s.node
	if err := s.store.Heartbeat(ctx, n.id, n.host, n.pid, n.started); err != nil {
		return err
	}
	if err := s.rescue(ctx); err != nil {
		return err
	}
	s.log.Info().Str("node", n.id).Dur("rescue_after", n.rescueAfter).Msg("node joined")
	return s.removeStale(ctx, true)
}

func (n *node) start(s *Service) {
	go func() {
		defer close(n.done)
		t := time.NewTicker(max(n.rescueAfter/4, 50*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-n.stop:
				return
			case <-t.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), n.rescueAfter)
			if err := s.store.Heartbeat(ctx, n.id, n.host, n.pid, n.started); err != nil {
				s.log.Warn().Err(err).Msg("node heartbeat")
			}
			if err := s.rescue(ctx); err != nil {
				s.log.Warn().Err(err).Msg("rescue the tasks of stopped nodes")
			}
			cancel()
		}
	}()
}

// leave stops the heartbeat and removes the node's row (its tasks ended or
// went back to the queue).
func (n *node) leave(s *Service) {
	select {
	case <-n.stop:
		return
	default:
	}
	close(n.stop)
	<-n.done
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.store.LeaveNode(ctx, n.id); err != nil {
		s.log.Warn().Err(err).Msg("leave")
	}
	s.log.Info().Str("node", n.id).Msg("node left")
}

// rescue hands back to the queue the running tasks of nodes not seen for
// RescueAfter.
func (s *Service) rescue(ctx context.Context) error {
	cutoff := s.store.Now().Add(-s.node.rescueAfter)
	ts, err := s.store.Rescue(ctx, cutoff, "its node stopped: handed to another node", func(tx *sql.Tx, ts []jobs.Task) error {
		for _, t := range ts {
			if t.RiverID == 0 {
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE river_job SET state = 'available', scheduled_at = now()
				WHERE id = ? AND state = 'running'`, t.RiverID); err != nil {
				return fmt.Errorf("make task %s/%d available: %w", t.JobID, t.ID, err)
			}
		}
		return nil
	})
	for _, t := range ts {
		s.log.Warn().Str("job_id", t.JobID).Int("task_id", t.ID).Int("attempt", t.Attempts).Msg("task of a stopped node put back in the queue")
		if s.metrics != nil {
			s.metrics.TaskRetries.Inc()
		}
	}
	if err != nil {
		return err
	}
	// A node can die after River gave it a job and before the job's task
	// was recorded as started (or while it ran periodic work): no task of
	// the store names it, but River's job stays running until River's own
	// rescuer, a task timeout later. Such jobs, last taken by a node not
	// seen since the cutoff, are made available again too.
	n, err := releaseStranded(ctx, s.store.DB(), cutoff)
	if err != nil {
		return err
	}
	if n > 0 {
		s.log.Warn().Int64("entries", n).Msg("queue entries of a stopped node made available again")
	}
	return nil
}

// releaseStranded makes available again the running River jobs last taken
// (before cutoff) by a node not seen since cutoff, and says how many.
func releaseStranded(ctx context.Context, db *sql.DB, cutoff time.Time) (int64, error) {
	res, err := db.ExecContext(ctx, `UPDATE river_job SET state = 'available', scheduled_at = now()
		WHERE state = 'running' AND attempted_at < ?
		AND attempted_by[cardinality(attempted_by)] NOT IN (SELECT id FROM subsetd_node WHERE seen_ms >= ?)`,
		cutoff, cutoff.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("make the queue entries of stopped nodes available: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// removeOtherAttempts removes the folders task-<task>-<attempt> of dir for
// which keep is false, and returns how many it removed.
func removeOtherAttempts(dir string, keep func(task, attempt int) bool) int {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ents {
		task, attempt, ok := parseAttemptDir(e.Name())
		if ok && keep(task, attempt) {
			continue
		}
		if os.RemoveAll(filepath.Join(dir, e.Name())) == nil {
			n++
		}
	}
	return n
}

// attemptDir is the temporary folder of one attempt of a task.
func attemptDir(jobDir string, task, attempt int) string {
	return filepath.Join(jobDir, tmpDir, fmt.Sprintf("task-%d-%d", task, attempt))
}

func parseAttemptDir(name string) (task, attempt int, ok bool) {
	parts := strings.Split(name, "-")
	if len(parts) != 3 || parts[0] != "task" {
		return 0, 0, false
	}
	t, err1 := strconv.Atoi(parts[1])
	a, err2 := strconv.Atoi(parts[2])
	return t, a, err1 == nil && err2 == nil
}
