package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/api"
)

// createKey runs subsetd keys create on a state directory and returns the
// secret it prints.
func createKey(t *testing.T, state, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"keys", "create", "--name", name, "--state", state}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("keys create %s: %v: %s", name, err, stderr.Bytes())
	}
	return strings.TrimSpace(string(out))
}

func auth(secret string) []string { return []string{"Authorization", "Bearer " + secret} }

// fill puts values into the {placeholders} of an OpenAPI path template.
func fill(tmpl string, values map[string]string) string {
	for k, v := range values {
		tmpl = strings.ReplaceAll(tmpl, "{"+k+"}", v)
	}
	return tmpl
}

// Two keys and an admin on one server: every operation of the OpenAPI
// document that takes a job id answers 404 to the other key and 401 to no
// key, as the job did not exist; the owner and the admin get it. Listings
// show a key its own jobs; idempotency keys are per key; reindex and
// metrics are the admin's. The audit log has every state change and key
// operation, and no secret anywhere.
func TestOwnership(t *testing.T) {
	state := t.TempDir()
	alice := createKey(t, state, "alice")
	root := createKey(t, state, "root", "--role", "admin")
	s := start(t, dataDir(t), state, nil, "--auth", "keys")
	bob := createKey(t, state, "bob") // a running server sees a new key at once

	body := jobBody("global", names("a", 1), fourteen()[:1], "")
	ja := s.submit(body, append(auth(alice), "Idempotency-Key", "same")...)
	jb := s.submit(body, append(auth(bob), "Idempotency-Key", "same")...)
	if ja.ID == jb.ID || ja.Owner != "alice" || jb.Owner != "bob" {
		t.Fatalf("the same idempotency key of two keys: %s (%s), %s (%s)", ja.ID, ja.Owner, jb.ID, jb.Owner)
	}
	// Replayed for its own key only.
	if r := s.do("POST", "/v1/jobs", body, append(auth(alice), "Idempotency-Key", "same")...); r.StatusCode != 200 || r.Header.Get("Location") != "/v1/jobs/"+ja.ID {
		t.Fatalf("alice's replay: %d %s", r.StatusCode, r.body)
	}
	ja, _ = s.waitAs(alice, ja.ID, 60*time.Second, final)
	if ja.Status != "successful" {
		t.Fatalf("alice's job: %s %s", ja.Status, ja.Message)
	}
	values := map[string]string{"id": ja.ID, "jobId": ja.ID, "name": ja.Regions[0].Files[0].Name}

	ops := 0
	var deletes []string
	for _, op := range apiDoc.Operations() {
		method, tmpl, _ := strings.Cut(op, " ")
		if !takesJobID(tmpl) {
			continue
		}
		ops++
		path := fill(tmpl, values)
		r := s.do(method, path, "", auth(bob)...)
		var p api.Problem
		r.json(t, &p)
		if r.StatusCode != 404 || p.Detail != fmt.Sprintf("no job %q", ja.ID) {
			t.Errorf("%s %s with another key: %d %s", method, tmpl, r.StatusCode, r.body)
		}
		r = s.do(method, path, "")
		if r.StatusCode != 401 || r.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s %s without a key: %d %s", method, tmpl, r.StatusCode, r.body)
		}
		if method == "DELETE" {
			deletes = append(deletes, path)
			continue
		}
		for _, who := range []string{alice, root} {
			if r := s.do(method, path, "", auth(who)...); r.StatusCode == 401 || r.StatusCode == 403 || bytes.Contains(r.body, []byte("no job")) {
				t.Errorf("%s %s by its owner or the admin: %d %s", method, tmpl, r.StatusCode, r.body)
			}
		}
	}
	t.Logf("%d operations of the OpenAPI document name a job", ops)
	if ops < 5 {
		t.Fatalf("only %d operations with a job id in the OpenAPI document", ops)
	}

	var l api.JobList
	s.do("GET", "/v1/jobs", "", auth(alice)...).json(t, &l)
	if len(l.Jobs) != 1 || l.Jobs[0].ID != ja.ID {
		t.Fatalf("alice's list: %+v", l.Jobs)
	}
	s.do("GET", "/v1/jobs", "", auth(root)...).json(t, &l)
	if len(l.Jobs) != 2 {
		t.Fatalf("the admin's list: %+v", l.Jobs)
	}
	s.do("GET", "/v1/jobs?owner=bob", "", auth(root)...).json(t, &l)
	if len(l.Jobs) != 1 || l.Jobs[0].ID != jb.ID {
		t.Fatalf("the admin's list of bob's jobs: %+v", l.Jobs)
	}
	if r := s.do("GET", "/v1/jobs?owner=alice", "", auth(bob)...); r.StatusCode != 403 {
		t.Fatalf("bob lists alice's jobs: %d", r.StatusCode)
	}
	for _, c := range []struct {
		method, path, key string
		want              int
	}{
		{"POST", "/v1/datasets/global/reindex", bob, 403},
		{"POST", "/v1/datasets/global/reindex", root, 202},
		{"GET", "/metrics", bob, 403},
		{"GET", "/metrics", "", 401},
		{"GET", "/metrics", root, 200},
		{"GET", "/v1/datasets", "", 401},
		{"GET", "/v1/datasets", "sd_" + strings.Repeat("x", 43), 401},
		{"GET", "/healthz", "", 200},
		{"GET", "/v1/openapi.json", "", 200},
	} {
		var hdr []string
		if c.key != "" {
			hdr = auth(c.key)
		}
		if r := s.do(c.method, c.path, "", hdr...); r.StatusCode != c.want {
			t.Errorf("%s %s: %d, want %d: %s", c.method, c.path, r.StatusCode, c.want, r.body)
		}
	}

	// The owner deletes its finished job (204), then it is gone for all.
	// (Each DELETE deletes the job: the other key's and no key's were
	// checked above; the job's owner deletes it once, through /v1.)
	if !slices.Contains(deletes, "/v1/jobs/"+ja.ID) {
		t.Fatalf("no DELETE /v1/jobs/{id} among %v", deletes)
	}
	if r := s.do("DELETE", "/v1/jobs/"+ja.ID, "", auth(alice)...); r.StatusCode != 204 {
		t.Fatalf("alice deletes her job: %d %s", r.StatusCode, r.body)
	}
	if r := s.do("GET", "/v1/jobs/"+ja.ID, "", auth(root)...); r.StatusCode != 404 {
		t.Fatalf("deleted: %d", r.StatusCode)
	}

	// A revoked key is refused (within the cache's few seconds).
	if out, err := exec.Command(binary, "keys", "revoke", "bob", "--state", state).CombinedOutput(); err != nil {
		t.Fatalf("revoke: %v %s", err, out)
	}
	deadline := time.Now().Add(15 * time.Second)
	for s.do("GET", "/v1/datasets", "", auth(bob)...).StatusCode != 401 {
		if time.Now().After(deadline) {
			t.Fatal("bob's revoked key still works")
		}
		time.Sleep(200 * time.Millisecond)
	}

	audit, err := os.ReadFile(filepath.Join(state, "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"event":"key.created","key":"alice"`, `"event":"key.created","key":"bob"`, `"event":"key.revoked","key":"bob"`,
		`"event":"job.accepted","job_id":"` + ja.ID + `","owner":"alice"`, `"event":"job.running","job_id":"` + ja.ID,
		`"event":"job.successful","job_id":"` + ja.ID, `"event":"job.deleted","job_id":"` + ja.ID} {
		if !bytes.Contains(audit, []byte(want)) {
			t.Errorf("audit.log lacks %s:\n%s", want, audit)
		}
	}
	serverLog, _ := os.ReadFile(s.log)
	for _, secret := range []string{alice, bob, root} {
		if bytes.Contains(audit, []byte(secret)) || bytes.Contains(serverLog, []byte(secret)) {
			t.Fatal("a secret is in a log")
		}
	}
}

// takesJobID reports whether an operation's path names a job: /v1/jobs/{id}
// or /jobs/{id} (OGC API - Processes) and what is under them, or a {jobId}
// anywhere.
func takesJobID(tmpl string) bool {
	for _, p := range []string{"/v1/jobs/{id}", "/jobs/{id}"} {
		if tmpl == p || strings.HasPrefix(tmpl, p+"/") {
			return true
		}
	}
	return strings.Contains(tmpl, "{jobId}")
}

// waitAs is wait with a key.
func (s *server) waitAs(key, id string, limit time.Duration, ok func(job) bool) (job, []string) {
	s.t.Helper()
	var seen []string
	deadline := time.Now().Add(limit)
	for {
		var j job
		r := s.do("GET", "/v1/jobs/"+id, "", auth(key)...)
		if r.StatusCode != 200 {
			s.t.Fatalf("get job: %d %s", r.StatusCode, r.body)
		}
		r.json(s.t, &j)
		if len(seen) == 0 || seen[len(seen)-1] != string(j.Status) {
			seen = append(seen, string(j.Status))
		}
		if ok(j) {
			return j, seen
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("job %s: condition not met after %s; statuses %v", id, limit, seen)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Quotas per key, defaults from the configuration and overrides per key:
// over one, 429 with Retry-After and the RateLimit fields naming it.
func TestQuotas(t *testing.T) {
	state := t.TempDir()
	config := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(config, []byte(`{"quota": {"active_jobs": 1}}`), 0o644)
	alice := createKey(t, state, "alice")
	bob := createKey(t, state, "bob", "--quota", "active_jobs=2,requests_per_second=0.01,burst=4")
	carol := createKey(t, state, "carol", "--quota", "output_bytes_per_day=1")
	s := start(t, dataDir(t), state, []string{"SUBSETD_TEST_TASK_DELAY=1s"}, "--auth", "keys", "--config", config, "--workers", "1")
	body := jobBody("global", names("a", 1), fourteen()[:1], "")

	exceeded := func(r resp, policy string) {
		t.Helper()
		var p api.Problem
		r.json(t, &p)
		if r.StatusCode != 429 || p.Code != "busy" || r.Header.Get("Retry-After") == "" || !strings.Contains(r.Header.Get("RateLimit-Policy"), `"`+policy+`";q=`) ||
			!strings.HasPrefix(r.Header.Get("RateLimit"), `"`+policy+`";r=0;t=`) {
			t.Fatalf("want 429 of %s: %d %v %s", policy, r.StatusCode, r.Header, r.body)
		}
	}
	// alice: the default, one active job.
	s.submit(body, auth(alice)...)
	r := s.do("POST", "/v1/jobs", body, auth(alice)...)
	exceeded(r, "active_jobs")
	if !strings.Contains(r.Header.Get("RateLimit-Policy"), `"active_jobs";q=1;qu="concurrent-requests"`) {
		t.Fatalf("policy %q", r.Header.Get("RateLimit-Policy"))
	}
	// bob: two active jobs, and four requests in a burst.
	s.submit(body, auth(bob)...)
	s.submit(body, auth(bob)...)
	exceeded(s.do("POST", "/v1/jobs", body, auth(bob)...), "active_jobs")
	if r = s.do("GET", "/v1/datasets", "", auth(bob)...); r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("RateLimit"), `"requests";r=0;`) {
		t.Fatalf("bob's fourth request: %d %v", r.StatusCode, r.Header)
	}
	r = s.do("GET", "/v1/datasets", "", auth(bob)...)
	exceeded(r, "requests")
	if r.Header.Get("RateLimit-Policy") != `"requests";q=4;w=400` {
		t.Fatalf("requests policy %q", r.Header.Get("RateLimit-Policy"))
	}
	// carol: a byte of output a day, so her first job is her last today.
	j := s.submit(body, auth(carol)...)
	s.waitAs(carol, j.ID, 60*time.Second, final)
	r = s.do("POST", "/v1/jobs", body, auth(carol)...)
	exceeded(r, "output_bytes")
	midnight := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	var wait int
	fmt.Sscan(r.Header.Get("Retry-After"), &wait)
	if left := time.Until(midnight); wait < int(left.Seconds())-60 || wait > int(left.Seconds())+60 {
		t.Fatalf("Retry-After %d s, midnight UTC is in %s", wait, left)
	}
}

// --auth none serves everyone as an admin: refused on an address that is
// not a loopback one unless --insecure-no-auth says so.
func TestAuthNoneOnlyOnLoopback(t *testing.T) {
	data, state := dataDir(t), t.TempDir()
	port := strings.TrimPrefix(freePort(t), "127.0.0.1:")
	out, err := exec.Command(binary, "serve", "--data", data, "--state", state, "--auth", "none", "--addr", "0.0.0.0:"+port).CombinedOutput()
	if code := exitCode(err); code != 2 || !bytes.Contains(out, []byte("only on a loopback address")) {
		t.Fatalf("serve --auth none on 0.0.0.0: exit %d: %s", code, out)
	}
	s := start(t, data, state, nil, "--auth", "none", "--insecure-no-auth", "--addr", "0.0.0.0:"+port)
	if r, err := http.Get(s.url + "/v1/datasets"); err != nil || r.StatusCode != 200 {
		t.Fatalf("with --insecure-no-auth: %v %v", r, err)
	}
}

func exitCode(err error) int {
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// --metrics-addr serves /metrics without a key on its own port; on the
// API's address it still needs an admin key.
func TestMetricsAddr(t *testing.T) {
	state := t.TempDir()
	maddr := freePort(t)
	s := start(t, dataDir(t), state, nil, "--auth", "keys", "--metrics-addr", maddr)
	r, err := http.Get("http://" + maddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 200 || !bytes.Contains(b, []byte("subsetd_http_requests_total")) {
		t.Fatalf("metrics on their own address: %d %.300s", r.StatusCode, b)
	}
	if r := s.do("GET", "/metrics", ""); r.StatusCode != 401 {
		t.Fatalf("metrics on the API's address without a key: %d", r.StatusCode)
	}
}
