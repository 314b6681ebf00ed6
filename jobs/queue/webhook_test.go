package queue

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/subsetd/subsetd/internal/webhook"
	"github.com/subsetd/subsetd/jobs"
)

// received is a notification as a receiver saw it.
type received struct {
	id, ts, sig string
	body        []byte
}

// receiver is a webhook receiver on 127.0.0.1 that answers status(n) to
// its n-th request (from 1).
func receiver(t *testing.T, status func(n int) int) (*httptest.Server, func() []received) {
	var mu sync.Mutex
	var got []received
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, received{r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), b})
		n := len(got)
		mu.Unlock()
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(status(n))
	}))
	t.Cleanup(srv.Close)
	return srv, func() []received {
		mu.Lock()
		defer mu.Unlock()
		return append([]received(nil), got...)
	}
}

// verify checks a notification as a receiver would, written from the
// Standard Webhooks text rather than with the package that signs:
// base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)) after "v1,",
// the key being the base64 after "whsec_".
func verify(t *testing.T, secret string, r received) {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(r.id + "." + r.ts + "."))
	m.Write(r.body)
	want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	ok := false
	for _, s := range strings.Fields(r.sig) {
		ok = ok || hmac.Equal([]byte(s), []byte(want))
	}
	ts, err := strconv.ParseInt(r.ts, 10, 64)
	if !ok || err != nil || time.Since(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		t.Fatalf("notification %s: signature %q, want %q; timestamp %q", r.id, r.sig, want, r.ts)
	}
}

func TestWebhooksSignedAndRetried(t *testing.T) {
	srv, got := receiver(t, func(n int) int {
		if n == 1 {
			return http.StatusInternalServerError
		}
		return http.StatusNoContent
	})
	secret, err := webhook.LoadSecret(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	e := start(t, t.TempDir(), setupData(t), Config{WebhookSecret: secret, WebhookBackoff: 50 * time.Millisecond, Workers: 1, RegionsPerTask: 1})
	sp := spec("sst", "a", "b")
	sp.Notify = &jobs.Notify{URL: srv.URL + "/hook?x=1", Events: []string{"region", "finished"}}
	j, _, err := e.svc.Submit(context.Background(), sp, jobs.Submitter{}, "")
	if err != nil {
		t.Fatal(err)
	}
	j = e.wait(t, j.ID, func(j *jobs.Job) bool {
		if !j.Status.Final() || len(j.Deliveries) != 3 {
			return false
		}
		for _, d := range j.Deliveries {
			if d.Status == jobs.DeliveryPending {
				return false
			}
		}
		return true
	})
	if j.Status != jobs.Successful {
		t.Fatalf("job %s", j.Status)
	}
	if !onPostgres {
		// The deliveries woke their queue (wake.go), not its poll.
		var wakes int
		if err := e.db.QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'subsetd_wake' AND queue = ?`, queueWebhooks).Scan(&wakes); err != nil || wakes == 0 {
			t.Errorf("%d wake jobs in the webhooks' queue: %v", wakes, err)
		}
	}
	recv := got()
	if len(recv) != 4 {
		t.Fatalf("%d requests, want 4 (one answered 500, retried): %+v", len(recv), recv)
	}
	for _, r := range recv {
		verify(t, secret.String(), r)
	}
	// The retry is the same message: same id, same body.
	if recv[0].id == "" || string(recv[0].body) != string(recv[countID(recv, recv[0].id)-1].body) {
		t.Fatalf("the retry of %s differs: %s", recv[0].id, recv)
	}
	ids := map[string]jobs.Delivery{}
	for _, d := range j.Deliveries {
		ids[d.ID] = d
		if d.Status != jobs.DeliveryDelivered {
			t.Fatalf("delivery %+v", d)
		}
	}
	first := ids[recv[0].id]
	if len(first.Attempts) != 2 || first.Attempts[0].Status != 500 || first.Attempts[0].Error == "" || first.Attempts[1].Status != 204 {
		t.Fatalf("attempts of the first notification: %+v", first.Attempts)
	}
	fin, ok := ids[jobs.DeliveryID(j.ID, "finished", -1)]
	if !ok {
		t.Fatalf("no finished notification: %+v", j.Deliveries)
	}
	if _, ok := ids[jobs.DeliveryID(j.ID, "region", 0)]; !ok {
		t.Fatalf("no notification of region 0: %+v", j.Deliveries)
	}
	// Deliveries run side by side and retries come later: no order is
	// promised, the finished one says the job is final.
	last := recv[countID(recv, fin.ID)-1]
	var body struct {
		Type string
		Data struct {
			Job    string
			Status jobs.Status
		}
	}
	if err := json.Unmarshal(last.body, &body); err != nil || body.Type != "job.finished" || body.Data.Job != j.ID || body.Data.Status != jobs.Successful {
		t.Fatalf("finished body %s: %v", last.body, err)
	}
}

func countID(rs []received, id string) int {
	last := 0
	for i, r := range rs {
		if r.id == id {
			last = i + 1
		}
	}
	return last
}

// A name the policy allows that resolves to an address it does not allow
// reaches nothing: here "localhost" is listed but 127.0.0.1 is not.
func TestWebhookAddressRefusedAfterResolution(t *testing.T) {
	srv, got := receiver(t, func(int) int { return http.StatusOK })
	pol, err := webhook.NewPolicy([]string{"localhost"})
	if err != nil {
		t.Fatal(err)
	}
	e := start(t, t.TempDir(), setupData(t), Config{Webhooks: pol, WebhookBackoff: 10 * time.Millisecond, WebhookAttempts: 2})
	sp := spec("sst", "a")
	sp.Notify = &jobs.Notify{URL: strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)}
	j, _, err := e.svc.Submit(context.Background(), sp, jobs.Submitter{}, "")
	if err != nil {
		t.Fatal(err)
	}
	j = e.wait(t, j.ID, func(j *jobs.Job) bool {
		return j.Status.Final() && len(j.Deliveries) == 1 && j.Deliveries[0].Status == jobs.DeliveryFailed
	})
	d := j.Deliveries[0]
	if len(d.Attempts) != 2 || !strings.Contains(d.Attempts[1].Error, "not allowed") || d.Attempts[1].Status != 0 {
		t.Fatalf("attempts: %+v", d.Attempts)
	}
	if n := len(got()); n != 0 {
		t.Fatalf("the receiver got %d requests", n)
	}
}

// A notification waiting for its retry survives a restart: the new server
// delivers it, the attempts of both kept.
func TestWebhookRetrySurvivesRestart(t *testing.T) {
	var up atomic.Bool
	srv, got := receiver(t, func(int) int {
		if up.Load() {
			return http.StatusOK
		}
		return http.StatusServiceUnavailable
	})
	secret, _ := webhook.LoadSecret(t.TempDir())
	state, data := t.TempDir(), setupData(t)
	cfg := Config{WebhookSecret: secret, WebhookBackoff: 500 * time.Millisecond}
	e := start(t, state, data, cfg)
	sp := spec("sst", "a")
	sp.Notify = &jobs.Notify{URL: srv.URL + "/hook"}
	j, _, err := e.svc.Submit(context.Background(), sp, jobs.Submitter{}, "")
	if err != nil {
		t.Fatal(err)
	}
	e.wait(t, j.ID, func(j *jobs.Job) bool { return len(j.Deliveries) == 1 && len(j.Deliveries[0].Attempts) == 1 })
	e.stop()
	up.Store(true)
	e2 := start(t, state, data, cfg)
	j = e2.wait(t, j.ID, func(j *jobs.Job) bool {
		return len(j.Deliveries) == 1 && j.Deliveries[0].Status == jobs.DeliveryDelivered
	})
	d := j.Deliveries[0]
	recv := got()
	if len(d.Attempts) != 2 || d.Attempts[0].Status != 503 || d.Attempts[1].Status != 200 || len(recv) != 2 {
		t.Fatalf("attempts %+v, %d requests", d.Attempts, len(recv))
	}
	for _, r := range recv {
		verify(t, secret.String(), r)
	}
	if recv[0].id != recv[1].id || string(recv[0].body) != string(recv[1].body) {
		t.Fatalf("the message changed across the restart")
	}
}
