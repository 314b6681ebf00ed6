package api

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/jobs"
	"github.com/subsetd/subsetd/regions"
)

// Notifications of a job ("notify" in its request) are POSTed by the
// queue (jobs/queue/webhook.go) and signed by internal/webhook; here are
// the check of the URL against the server's policy when a job comes, and
// the payloads.

// spec is the job of a request within lim, its notification URL checked
// against the server's policy.
func (h *handler) spec(req *JobRequest, lim regions.Limits) (*jobs.Spec, error) {
	if n := req.Notify; n != nil && n.URL != "" {
		if err := h.opt.Webhooks.CheckURL(n.URL); err != nil {
			return nil, errs.F(errs.Invalid, "notify.url", "%s", err.Error())
		}
	}
	return req.SpecWithin(lim)
}

// WebhookEvent is the body of a notification, after the Standard
// Webhooks' recommendation: type "job.finished" (data: the job's
// document, as GET /v1/jobs/{id} gives it) or "job.region" (data: the
// region, as the region event of GET /v1/jobs/{id}/events gives it).
type WebhookEvent struct {
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// WebhookPayload makes the bodies of notifications, with the links of a
// server at publicURL that keeps final jobs for retention and signs links
// with links (nil: none), as its documents have them.
func WebhookPayload(publicURL string, retention time.Duration, links *Links) func(j *jobs.Job, d *jobs.Delivery, now time.Time) ([]byte, error) {
	u := urls{strings.TrimSuffix(publicURL, "/"), links}
	return func(j *jobs.Job, d *jobs.Delivery, now time.Time) ([]byte, error) {
		var data any
		switch d.Event {
		case jobs.NotifyRegion:
			if d.Region < 0 || d.Region >= len(j.Regions) {
				return nil, errs.E(errs.Internal, "job %s has no region %d", j.ID, d.Region)
			}
			data = RegionEvent{Job: j.ID, Index: d.Region, RegionDoc: regionDoc(j.ID, j.Regions[d.Region], u)}
		default:
			doc := jobDoc(j, true, retention, u)
			doc.Deliveries = nil // still being made
			data = doc
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(data); err != nil {
			return nil, err
		}
		ev := WebhookEvent{Type: "job." + d.Event, Timestamp: now.UTC().Truncate(time.Second), Data: bytes.TrimRight(b.Bytes(), "\n")}
		var out bytes.Buffer
		enc = json.NewEncoder(&out)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(ev); err != nil {
			return nil, err
		}
		return bytes.TrimRight(out.Bytes(), "\n"), nil
	}
}
