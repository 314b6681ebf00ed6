package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Nodes: servers sharing one database (PostgreSQL). Each records that it
// is alive (Heartbeat) and, on each task it starts, its name (Store.Node);
// the running tasks of a node not seen for a while are handed back to the
// queue (Rescue) so that another node runs them.

// Heartbeat records that node id (on host, process pid) is alive now.
func (s *Store) Heartbeat(ctx context.Context, id, host string, pid int, started time.Time) error {
	now := ms(s.Now())
	_, err := s.db.ExecContext(ctx, `INSERT INTO subsetd_node (id, host, pid, started_ms, seen_ms) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET seen_ms = excluded.seen_ms`, id, host, pid, ms(started), now)
	if err != nil {
		return fmt.Errorf("node heartbeat: %w", err)
	}
	return nil
}

// LeaveNode removes node id, which stopped cleanly (its tasks went back to
// the queue).
func (s *Store) LeaveNode(ctx context.Context, id string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM subsetd_node WHERE id = ?`, id)
	return err
}

// Node is a server sharing the database.
type Node struct {
	ID, Host string
	PID      int
	Started  time.Time
	Seen     time.Time
}

// Nodes lists the nodes that said they were alive, newest first.
func (s *Store) Nodes(ctx context.Context) ([]Node, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, host, pid, started_ms, seen_ms FROM subsetd_node ORDER BY started_ms DESC, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Node
	for rows.Next() {
		var n Node
		var st, seen int64
		if err := rows.Scan(&n.ID, &n.Host, &n.PID, &st, &seen); err != nil {
			return nil, err
		}
		n.Started, n.Seen = fromMS(st), fromMS(seen)
		out = append(out, n)
	}
	return out, rows.Err()
}

// Rescue puts back in the queue's hands (running -> accepted, with msg)
// the running tasks of nodes not seen since cutoff, and calls also, in the
// same transaction, with the tasks it put back (the queue makes their
// queue entries available again there). Nodes rescuing at once put each
// task back once.
func (s *Store) Rescue(ctx context.Context, cutoff time.Time, msg string, also func(tx *sql.Tx, ts []Task) error) ([]Task, error) {
	var out []Task
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT job_id, task_id, river_id, node, attempts FROM subsetd_task
			WHERE status = 'running' AND node <> '' AND node NOT IN (SELECT id FROM subsetd_node WHERE seen_ms >= ?)`, ms(cutoff))
		if err != nil {
			return fmt.Errorf("rescue: %w", err)
		}
		type found struct {
			t    Task
			node string
		}
		var fs []found
		for rows.Next() {
			var f found
			if err := rows.Scan(&f.t.JobID, &f.t.ID, &f.t.RiverID, &f.node, &f.t.Attempts); err != nil {
				rows.Close()
				return err
			}
			fs = append(fs, f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		out = out[:0]
		for _, f := range fs {
			res, err := tx.ExecContext(ctx, `UPDATE subsetd_task SET status = 'accepted', message = ?
				WHERE job_id = ? AND task_id = ? AND status = 'running' AND node = ? AND attempts = ?`, msg, f.t.JobID, f.t.ID, f.node, f.t.Attempts)
			if err != nil {
				return fmt.Errorf("rescue: %w", err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				continue // another node rescued it, or it moved on
			}
			if _, err := tx.ExecContext(ctx, `UPDATE subsetd_region SET status = 'accepted' WHERE job_id = ? AND task_id = ? AND status = 'running'`, f.t.JobID, f.t.ID); err != nil {
				return err
			}
			f.t.Status = Accepted
			out = append(out, f.t)
		}
		if also != nil && len(out) > 0 {
			return also(tx, out)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, t := range out {
		s.told(t.JobID)
	}
	return out, nil
}

// RunningAttempts returns, for every running task, its job id, task id
// and attempt: "<job>/<task>" -> attempt.
func (s *Store) RunningAttempts(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT job_id, task_id, attempts FROM subsetd_task WHERE status = 'running'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var job string
		var task, a int
		if err := rows.Scan(&job, &task, &a); err != nil {
			return nil, err
		}
		out[fmt.Sprintf("%s/%d", job, task)] = a
	}
	return out, rows.Err()
}

// CurrentAttempt is the attempt a running task is at, 0 when it is not
// running.
func (s *Store) CurrentAttempt(ctx context.Context, jobID string, taskID int) (int, error) {
	var a int
	err := s.db.QueryRowContext(ctx, `SELECT attempts FROM subsetd_task WHERE job_id = ? AND task_id = ? AND status = 'running'`, jobID, taskID).Scan(&a)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return a, err
}
