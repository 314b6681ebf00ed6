package api

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/jobs"
)

// fakeKeys knows secrets by name: "sd_<name>".
type fakeKeys map[string]*jobs.Key

func (k fakeKeys) Authenticate(ctx context.Context, secret string) (*jobs.Key, error) {
	if key, ok := k[strings.TrimPrefix(secret, "sd_")]; ok && strings.HasPrefix(secret, "sd_") {
		return key, nil
	}
	return nil, errs.E(errs.Unauthorized, "the key is unknown or revoked")
}

func setupKeys(t *testing.T, quota jobs.Quota) (*client, *fake) {
	f := &fake{jobs: map[string]*jobs.Job{}, keys: map[string]string{}, dir: t.TempDir()}
	keys := fakeKeys{
		"alice": {Name: "alice", Role: jobs.RoleUser},
		"bob":   {Name: "bob", Role: jobs.RoleUser},
		"root":  {Name: "root", Role: jobs.RoleAdmin},
	}
	h := New(f, Options{MaxBodyBytes: 4096, Log: zerolog.Nop(), Registry: prometheus.NewRegistry(), Auth: AuthKeys, Keys: keys, Quota: quota})
	return serve(t, h), f
}

func bearer(name string) []string { return []string{"Authorization", "Bearer sd_" + name} }

// Every route but the public ones needs a key; a job is its owner's (and
// the admins').
func TestKeysAndOwnership(t *testing.T) {
	c, _ := setupKeys(t, jobs.Quota{})
	for _, p := range []string{"/healthz", "/readyz", "/v1/openapi.json"} {
		if resp, _ := c.do("GET", p, ""); resp.StatusCode != 200 {
			t.Errorf("%s without a key: %d", p, resp.StatusCode)
		}
	}
	for _, p := range []string{"/v1/datasets", "/v1/jobs", "/v1/regions", "/metrics"} {
		resp, body := c.do("GET", p, "")
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Bearer realm="subsetd"` || !strings.Contains(string(body), `"code":"unauthorized"`) {
			t.Errorf("%s without a key: %d %v %s", p, resp.StatusCode, resp.Header, body)
		}
	}
	for _, hdr := range [][]string{bearer("mallory"), {"Authorization", "Basic YTpi"}, {"Authorization", "Bearer"}} {
		resp, _ := c.do("GET", "/v1/datasets", "", hdr...)
		if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Errorf("%v: %d %v", hdr, resp.StatusCode, resp.Header)
		}
	}

	resp, body := c.do("POST", "/v1/jobs", goodJob, append(bearer("alice"), "Idempotency-Key", "k1")...)
	var a JobDoc
	json.Unmarshal(body, &a)
	if resp.StatusCode != 201 || a.Owner != "alice" {
		t.Fatalf("alice's job: %d %s", resp.StatusCode, body)
	}
	// The same idempotency key is bob's own.
	resp, body = c.do("POST", "/v1/jobs", goodJob, append(bearer("bob"), "Idempotency-Key", "k1")...)
	var b JobDoc
	json.Unmarshal(body, &b)
	if resp.StatusCode != 201 || b.ID == a.ID || b.Owner != "bob" {
		t.Fatalf("bob's job with alice's idempotency key: %d %s", resp.StatusCode, body)
	}
	for _, p := range []string{"/v1/jobs/" + a.ID, "/v1/jobs/" + a.ID + "/manifest.json", "/v1/jobs/" + a.ID + "/files/x.nc"} {
		resp, body := c.do("GET", p, "", bearer("bob")...)
		if resp.StatusCode != 404 || !strings.Contains(string(body), `no job \"`+a.ID+`\"`) {
			t.Errorf("bob reads %s: %d %s", p, resp.StatusCode, body)
		}
		if resp, _ := c.do("GET", p, ""); resp.StatusCode != 401 {
			t.Errorf("%s without a key: %d", p, resp.StatusCode)
		}
	}
	if resp, _ := c.do("DELETE", "/v1/jobs/"+a.ID, "", bearer("bob")...); resp.StatusCode != 404 {
		t.Errorf("bob deletes alice's job: %d", resp.StatusCode)
	}
	if resp, _ := c.do("GET", "/v1/jobs/"+a.ID, "", bearer("root")...); resp.StatusCode != 200 {
		t.Errorf("the admin reads alice's job: %d", resp.StatusCode)
	}

	list := func(who, query string) (int, []string) {
		resp, body := c.do("GET", "/v1/jobs"+query, "", bearer(who)...)
		var l struct{ Jobs []JobDoc }
		json.Unmarshal(body, &l)
		var ids []string
		for _, j := range l.Jobs {
			ids = append(ids, j.Owner)
		}
		return resp.StatusCode, ids
	}
	if code, owners := list("alice", ""); code != 200 || strings.Join(owners, ",") != "alice" {
		t.Errorf("alice lists: %d %v", code, owners)
	}
	if code, owners := list("root", ""); code != 200 || strings.Join(owners, ",") != "bob,alice" {
		t.Errorf("the admin lists: %d %v", code, owners)
	}
	if code, owners := list("root", "?owner=bob"); code != 200 || strings.Join(owners, ",") != "bob" {
		t.Errorf("the admin lists bob's: %d %v", code, owners)
	}
	if code, _ := list("alice", "?owner=bob"); code != 403 {
		t.Errorf("alice lists bob's: %d", code)
	}

	// Admin only: reindex and metrics.
	if resp, _ := c.do("POST", "/v1/datasets/sst/reindex", "", bearer("alice")...); resp.StatusCode != 403 {
		t.Errorf("alice reindexes: %d", resp.StatusCode)
	}
	if resp, _ := c.do("POST", "/v1/datasets/sst/reindex", "", bearer("root")...); resp.StatusCode != 202 {
		t.Errorf("the admin reindexes: %d", resp.StatusCode)
	}
	if resp, _ := c.do("GET", "/metrics", "", bearer("alice")...); resp.StatusCode != 403 {
		t.Errorf("alice reads the metrics: %d", resp.StatusCode)
	}
	if resp, _ := c.do("GET", "/metrics", "", bearer("root")...); resp.StatusCode != 200 {
		t.Errorf("the admin reads the metrics: %d", resp.StatusCode)
	}
}

// The request rate is a token bucket per key, told in RateLimit-Policy and
// RateLimit; past it, 429 with Retry-After.
func TestRequestRate(t *testing.T) {
	c, _ := setupKeys(t, jobs.Quota{RequestsPerSecond: 0.01, Burst: 3})
	for i := range 3 {
		resp, _ := c.do("GET", "/v1/datasets", "", bearer("alice")...)
		if resp.StatusCode != 200 || resp.Header.Get("RateLimit-Policy") != `"requests";q=3;w=300` || !strings.HasPrefix(resp.Header.Get("RateLimit"), `"requests";r=`+string(rune('2'-i))+";t=") {
			t.Fatalf("request %d: %d %v", i, resp.StatusCode, resp.Header)
		}
	}
	resp, body := c.do("GET", "/v1/datasets", "", bearer("alice")...)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "100" || resp.Header.Get("RateLimit") != `"requests";r=0;t=100` {
		t.Fatalf("past the burst: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	// Another key has its own bucket.
	if resp, _ := c.do("GET", "/v1/datasets", "", bearer("bob")...); resp.StatusCode != 200 {
		t.Fatalf("bob: %d", resp.StatusCode)
	}
}

func TestLimiterRefills(t *testing.T) {
	now := time.Unix(1000, 0)
	l := limiter{now: func() time.Time { return now }}
	q := jobs.Quota{RequestsPerSecond: 2, Burst: 2}
	for range 2 {
		if ok, _, _ := l.take("a", q); !ok {
			t.Fatal("within the burst")
		}
	}
	if ok, _, wait := l.take("a", q); ok || wait != 500*time.Millisecond {
		t.Fatalf("past the burst: %v %v", ok, wait)
	}
	now = now.Add(500 * time.Millisecond)
	if ok, left, full := l.take("a", q); !ok || left != 0 || full != time.Second {
		t.Fatalf("after a refill: %v %d %v", ok, left, full)
	}
}
