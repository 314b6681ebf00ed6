package queue

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"net/http"
	"time"

	"github.com/riverqueue/river"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/internal/webhook"
	"github.com/subsetd/subsetd/jobs"
)

// Notifications: the store records each one a job owes in the transaction
// of the change it tells of (jobs.Store.Enqueue) and this kind of task
// delivers it, retried with a doubling wait a bounded number of times;
// every attempt is kept in the job's document.

const queueWebhooks = "webhooks"

// WebhookArgs is a notification in River's queue; its payload and
// attempts are in the store.
type WebhookArgs struct {
	JobID string `json:"job_id"`
	ID    string `json:"id"` // the webhook-id
}

// Kind is River's job kind.
func (WebhookArgs) Kind() string { return "subsetd_webhook" }

// webhookTimeout bounds one attempt (connection, request, answer).
const webhookTimeout = 10 * time.Second

type webhookWorker struct {
	river.WorkerDefaults[WebhookArgs]
	s      *Service
	client *http.Client
}

func (s *Service) initWebhooks(workers *river.Workers) error {
	if s.cfg.Webhooks == nil {
		p, err := webhook.NewPolicy(nil)
		if err != nil {
			return err
		}
		s.cfg.Webhooks = p
	}
	if s.cfg.WebhookSecret == nil {
		// Tests and tools without a state directory: a secret of this run.
		s.cfg.WebhookSecret = make(webhook.Secret, 32)
		_, _ = rand.Read(s.cfg.WebhookSecret)
	}
	river.AddWorker(workers, &webhookWorker{s: s, client: s.cfg.Webhooks.Client(webhookTimeout)})
	s.store.Enqueue = func(ctx context.Context, tx *sql.Tx, jobID, id string) error {
		_, err := s.inserter.InsertTx(ctx, tx, WebhookArgs{JobID: jobID, ID: id}, &river.InsertOpts{Queue: queueWebhooks, MaxAttempts: s.cfg.WebhookAttempts})
		if err == nil {
			s.wakeAfter(queueWebhooks)
		}
		return err
	}
	return nil
}

// Timeout is River's backstop over the client's own.
func (w *webhookWorker) Timeout(*river.Job[WebhookArgs]) time.Duration {
	return webhookTimeout + 20*time.Second
}

// NextRetry doubles the wait at each attempt, from WebhookBackoff to an
// hour at most.
func (w *webhookWorker) NextRetry(j *river.Job[WebhookArgs]) time.Time {
	d := w.s.cfg.WebhookBackoff
	for i := 1; i < j.Attempt && d < time.Hour; i++ {
		d *= 2
	}
	return time.Now().Add(min(d, time.Hour))
}

func (w *webhookWorker) Work(ctx context.Context, rj *river.Job[WebhookArgs]) error {
	s, a := w.s, rj.Args
	j, err := s.store.Get(ctx, a.JobID)
	if errs.CodeOf(err) == errs.NotFound {
		return nil // deleted meanwhile
	}
	if err != nil {
		return err
	}
	d, err := s.store.Delivery(ctx, a.JobID, a.ID)
	if errs.CodeOf(err) == errs.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	if d.Status != jobs.DeliveryPending || j.Spec.Notify == nil {
		return nil
	}
	now := s.store.Now()
	body := d.Body
	if body == nil {
		b, err := s.payload(j, d, now)
		if err != nil {
			return err
		}
		if body, err = s.store.SetDeliveryBody(ctx, a.JobID, a.ID, b); err != nil {
			return err
		}
	}
	// The policy again: the server's may have changed since the job came.
	var res webhook.Result
	permanent := false
	if err := s.cfg.Webhooks.CheckURL(j.Spec.Notify.URL); err != nil {
		res.Err, permanent = err, true
	} else {
		res = webhook.Send(ctx, w.client, s.cfg.WebhookSecret, j.Spec.Notify.URL, d.ID, body, now)
	}
	status := jobs.DeliveryPending
	switch {
	case res.Err == nil:
		status = jobs.DeliveryDelivered
	case permanent || rj.Attempt >= rj.MaxAttempts:
		status = jobs.DeliveryFailed
	}
	at := jobs.Attempt{At: now.UTC(), Status: res.Status, MS: res.Duration.Milliseconds()}
	if res.Err != nil {
		at.Error = s.userMessage(res.Err.Error())
	}
	if err := s.store.RecordAttempt(context.WithoutCancel(ctx), a.JobID, a.ID, at, status); err != nil && errs.CodeOf(err) != errs.NotFound {
		return err
	}
	log := s.log.With().Str("job_id", a.JobID).Str("webhook_id", a.ID).Int("attempt", rj.Attempt).Int("status", res.Status).Logger()
	if status == jobs.DeliveryPending {
		log.Info().Err(res.Err).Msg("notification not delivered: retried")
		return res.Err
	}
	if status == jobs.DeliveryFailed {
		log.Warn().Err(res.Err).Msg("notification failed")
	}
	return nil
}

// payload is the body of a notification: the API's, or a minimal one.
func (s *Service) payload(j *jobs.Job, d *jobs.Delivery, now time.Time) ([]byte, error) {
	if s.cfg.WebhookPayload != nil {
		return s.cfg.WebhookPayload(j, d, now)
	}
	data := map[string]any{"job": j.ID, "status": j.Status}
	if d.Region >= 0 && d.Region < len(j.Regions) {
		data["region"] = j.Regions[d.Region].Name
	}
	return json.Marshal(map[string]any{"type": "job." + d.Event, "timestamp": now.UTC().Format(time.RFC3339), "data": data})
}
