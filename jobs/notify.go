package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/subsetd/subsetd/internal/errs"
)

// Notify asks for notifications of a job: a POST to URL for each of
// Events (NotifyFinished: the job reached its final status; NotifyRegion:
// a region did, with its files).
type Notify struct {
	URL    string   `json:"url"`
	Events []string `json:"events,omitempty"`
}

// Notification events.
const (
	NotifyFinished = "finished"
	NotifyRegion   = "region"
)

// Validate checks the events (the URL is the API's to check, against the
// server's policy) and defaults them to finished.
func (n *Notify) Validate() error {
	if n.URL == "" {
		return errs.F(errs.Invalid, "notify.url", "a notification needs a url")
	}
	if len(n.URL) > 2048 {
		return errs.F(errs.Invalid, "notify.url", "the url is longer than 2048 characters")
	}
	if len(n.Events) == 0 {
		n.Events = []string{NotifyFinished}
	}
	for i, e := range n.Events {
		if e != NotifyFinished && e != NotifyRegion {
			return errs.F(errs.Invalid, fmt.Sprintf("notify.events[%d]", i), "unknown event %q: use finished or region", e)
		}
		if slices.Contains(n.Events[:i], e) {
			return errs.F(errs.Invalid, fmt.Sprintf("notify.events[%d]", i), "event %q is named twice", e)
		}
	}
	return nil
}

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// Delivery is one notification of a job and its attempts.
type Delivery struct {
	ID       string    `json:"id"` // the webhook-id
	Event    string    `json:"event"`
	Region   int       `json:"region"` // index of the region, -1 for finished
	Status   string    `json:"status"`
	Created  time.Time `json:"created"`
	Attempts []Attempt `json:"attempts"`
	Body     []byte    `json:"-"` // the payload, once the first attempt built it
}

// Attempt is one try at delivering a notification.
type Attempt struct {
	At     time.Time `json:"at"`
	Status int       `json:"status,omitempty"` // the receiver's HTTP status, 0 without an answer
	Error  string    `json:"error,omitempty"`
	MS     int64     `json:"ms"` // how long it took
}

// DeliveryID is the webhook-id of a job's notification of event (region:
// the region's index for region events).
func DeliveryID(jobID, event string, region int) string {
	id := "msg_" + strings.ReplaceAll(jobID, "-", "") + "_" + event
	if event == NotifyRegion {
		id += fmt.Sprint("_", region)
	}
	return id
}

// queueNotices records, in tx, the notifications job jobID owes after a
// change: a region event for each final region not told yet, a finished
// event once the job is final. Each is handed to Enqueue in the same
// transaction, so that a committed change has its notifications queued.
func (s *Store) queueNotices(ctx context.Context, tx *sql.Tx, jobID string) error {
	// Most jobs ask for none: the spec (a polygon's can be a megabyte) is
	// read only when it names notify.
	var status string
	var asks bool
	err := tx.QueryRowContext(ctx, `SELECT status, spec LIKE '%"notify":%' FROM subsetd_job WHERE id = ?`, jobID).Scan(&status, &asks)
	if errors.Is(err, sql.ErrNoRows) || err == nil && !asks {
		return nil
	}
	if err != nil {
		return fmt.Errorf("notifications: %w", err)
	}
	var spec string
	if err := tx.QueryRowContext(ctx, `SELECT spec FROM subsetd_job WHERE id = ?`, jobID).Scan(&spec); err != nil {
		return fmt.Errorf("notifications: %w", err)
	}
	var sp Spec
	if err := json.Unmarshal([]byte(spec), &sp); err != nil || sp.Notify == nil {
		return err
	}
	var want []Delivery
	if slices.Contains(sp.Notify.Events, NotifyRegion) {
		rows, err := tx.QueryContext(ctx, `SELECT idx FROM subsetd_region WHERE job_id = ? AND status NOT IN `+active+`
			AND idx NOT IN (SELECT region FROM subsetd_delivery WHERE job_id = ? AND event = ?) ORDER BY idx`, jobID, jobID, NotifyRegion)
		if err != nil {
			return fmt.Errorf("notifications: %w", err)
		}
		for rows.Next() {
			var i int
			if err := rows.Scan(&i); err != nil {
				rows.Close()
				return err
			}
			want = append(want, Delivery{ID: DeliveryID(jobID, NotifyRegion, i), Event: NotifyRegion, Region: i})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	if slices.Contains(sp.Notify.Events, NotifyFinished) && Status(status).Final() {
		want = append(want, Delivery{ID: DeliveryID(jobID, NotifyFinished, -1), Event: NotifyFinished, Region: -1})
	}
	now := ms(s.Now())
	for _, d := range want {
		res, err := tx.ExecContext(ctx, `INSERT INTO subsetd_delivery (job_id, id, event, region, status, created_ms) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (job_id, id) DO NOTHING`, jobID, d.ID, d.Event, d.Region, DeliveryPending, now)
		if err != nil {
			return fmt.Errorf("notifications: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 || s.Enqueue == nil {
			continue
		}
		if err := s.Enqueue(ctx, tx, jobID, d.ID); err != nil {
			return fmt.Errorf("queue notification: %w", err)
		}
	}
	return nil
}

// deliveries are the notifications of a job, oldest first.
func (s *Store) deliveries(ctx context.Context, q querier, jobID string) ([]Delivery, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, event, region, status, created_ms, body, attempts FROM subsetd_delivery WHERE job_id = ? ORDER BY created_ms, CASE WHEN region < 0 THEN 1 ELSE 0 END, region, id`, jobID)
	if err != nil {
		return nil, fmt.Errorf("deliveries: %w", err)
	}
	defer rows.Close()
	var out []Delivery
	for rows.Next() {
		var d Delivery
		var c int64
		var body, attempts string
		if err := rows.Scan(&d.ID, &d.Event, &d.Region, &d.Status, &c, &body, &attempts); err != nil {
			return nil, err
		}
		d.Created = fromMS(c)
		if body != "" {
			d.Body = []byte(body)
		}
		if err := json.Unmarshal([]byte(attempts), &d.Attempts); err != nil {
			return nil, fmt.Errorf("decode attempts: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Delivery returns notification id of job jobID (NotFound when the job or
// the notification is gone).
func (s *Store) Delivery(ctx context.Context, jobID, id string) (*Delivery, error) {
	ds, err := s.deliveries(ctx, s.db, jobID)
	if err != nil {
		return nil, err
	}
	for i := range ds {
		if ds[i].ID == id {
			return &ds[i], nil
		}
	}
	return nil, errs.E(errs.NotFound, "no notification %s of job %s", id, jobID)
}

// SetDeliveryBody fixes the payload of a notification at its first
// attempt, unless one is already there; it returns the payload kept.
func (s *Store) SetDeliveryBody(ctx context.Context, jobID, id string, body []byte) ([]byte, error) {
	if _, err := s.db.ExecContext(ctx, `UPDATE subsetd_delivery SET body = ? WHERE job_id = ? AND id = ? AND body = ''`, string(body), jobID, id); err != nil {
		return nil, fmt.Errorf("notification body: %w", err)
	}
	d, err := s.Delivery(ctx, jobID, id)
	if err != nil {
		return nil, err
	}
	return d.Body, nil
}

// RecordAttempt adds an attempt to a notification and sets its status
// (pending while more attempts follow).
func (s *Store) RecordAttempt(ctx context.Context, jobID, id string, a Attempt, status string) error {
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		var attempts string
		if err := tx.QueryRowContext(ctx, `SELECT attempts FROM subsetd_delivery WHERE job_id = ? AND id = ?`, jobID, id).Scan(&attempts); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errs.E(errs.NotFound, "no notification %s of job %s", id, jobID)
			}
			return err
		}
		var list []Attempt
		if err := json.Unmarshal([]byte(attempts), &list); err != nil {
			return err
		}
		b, _ := json.Marshal(append(list, a))
		_, err := tx.ExecContext(ctx, `UPDATE subsetd_delivery SET attempts = ?, status = ? WHERE job_id = ? AND id = ?`, string(b), status, jobID, id)
		return err
	})
	if err != nil {
		return err
	}
	// A final job's cached value holds the deliveries as they were.
	s.gen.Add(1)
	s.final.Delete(jobID)
	s.told(jobID)
	return nil
}
