package api

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/internal/webhook"
	"github.com/subsetd/subsetd/jobs"
	"github.com/subsetd/subsetd/regions"
)

func notifyJob(url string, events ...string) string {
	ev, _ := json.Marshal(events)
	return `{"dataset": "sst", "regions": [{"name": "a", "bbox": [0, 0, 1, 1]}], "notify": {"url": "` + url + `", "events": ` + string(ev) + `}}`
}

func TestNotifyURLCheckedAtSubmission(t *testing.T) {
	c, _ := setup(t) // the default policy: loopback alone
	for _, tc := range []struct {
		url    string
		events []string
		status int
		field  string
	}{
		{"http://127.0.0.1:9/hook", []string{"finished", "region"}, 201, ""},
		{"http://localhost:9/hook", []string{"region"}, 201, ""},
		{"https://hooks.example.org/x", []string{"finished"}, 400, "notify.url"},
		{"http://169.254.169.254/latest", []string{"finished"}, 400, "notify.url"},
		{"http://10.0.0.1/", []string{"finished"}, 400, "notify.url"},
		{"file:///etc/passwd", []string{"finished"}, 400, "notify.url"},
		{"http://127.0.0.1/", []string{"started"}, 400, "notify.events[0]"},
		{"http://127.0.0.1/", []string{"region", "region"}, 400, "notify.events[1]"},
	} {
		resp, body := c.do("POST", "/v1/jobs", notifyJob(tc.url, tc.events...))
		var p struct{ Field, Detail string }
		json.Unmarshal(body, &p)
		if resp.StatusCode != tc.status || p.Field != tc.field {
			t.Errorf("%s %v: %d %s", tc.url, tc.events, resp.StatusCode, body)
		}
		if tc.status == 400 && tc.field == "notify.url" && !strings.Contains(p.Detail, "webhook_allow") && !strings.Contains(p.Detail, "http") {
			t.Errorf("%s: detail %q", tc.url, p.Detail)
		}
	}
	// A configured policy allows its hosts, and no longer loopback.
	pol, _ := webhook.NewPolicy([]string{"hooks.example.org"})
	c, _ = setup(t, func(o *Options) { o.Webhooks = pol })
	if resp, body := c.do("POST", "/v1/jobs", notifyJob("https://hooks.example.org/x", "finished")); resp.StatusCode != 201 || !strings.Contains(string(body), `"notify":{"url":"https://hooks.example.org/x","events":["finished"]}`) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if resp, _ := c.do("POST", "/v1/jobs", notifyJob("http://127.0.0.1/x", "finished")); resp.StatusCode != 400 {
		t.Fatalf("loopback with a configured policy: %d", resp.StatusCode)
	}
}

func TestWebhookPayloads(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	j := &jobs.Job{ID: "j1", Dataset: "sst", Status: jobs.Successful, Created: now, Updated: now, Finished: now,
		Spec: jobs.Spec{Dataset: "sst", Regions: []regions.Fixed{{Name: "a<b", BBox: []float64{0, 0, 1, 1}}}, Notify: &jobs.Notify{URL: "http://127.0.0.1/", Events: []string{"finished", "region"}}},
		Regions: []jobs.Region{{Index: 0, Name: "a<b", Status: jobs.Successful, Files: []jobs.File{{Name: "a<b.nc", Size: 3,
			Sha256: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Md5: "900150983cd24fb0d6963f7d28e17f72"}}}},
		Deliveries: []jobs.Delivery{{ID: "x", Status: jobs.DeliveryPending}}}
	c, _ := setup(t)
	mk := WebhookPayload("https://data.example.org/s/", time.Hour, nil)
	for _, d := range []jobs.Delivery{{Event: "finished", Region: -1}, {Event: "region", Region: 0}} {
		b, err := mk(j, &d, now)
		if err != nil {
			t.Fatal(err)
		}
		var ev map[string]any
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		if err := c.doc.ValidateRef("WebhookEvent", ev); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		schema := map[string]string{"finished": "Job", "region": "RegionEvent"}[d.Event]
		if err := c.doc.ValidateRef(schema, ev["data"]); err != nil || ev["type"] != "job."+d.Event || ev["timestamp"] != "2025-01-01T00:00:00Z" {
			t.Fatalf("%s: %v", b, err)
		}
		if !strings.Contains(string(b), `"href":"https://data.example.org/s/v1/jobs/j1/files/a%3Cb.nc"`) || !strings.Contains(string(b), `"name":"a<b"`) || strings.Contains(string(b), "deliveries") {
			t.Fatalf("%s", b)
		}
	}
}
