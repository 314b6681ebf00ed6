package e2e

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// A page of another origin calls the server: preflights, the fields it
// may read, HEAD, and a body that is not JSON refused.
func TestBrowser(t *testing.T) {
	state := t.TempDir()
	alice := createKey(t, state, "alice")
	s := start(t, dataDir(t), state, nil, "--auth", "keys", "--cors-origins", "https://maps.example.org,http://localhost:5173")
	page := "https://maps.example.org"

	r := s.do("OPTIONS", "/v1/jobs", "", "Origin", page, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type,idempotency-key")
	if r.StatusCode != 204 || r.Header.Get("Access-Control-Allow-Origin") != page || r.Header.Get("Access-Control-Allow-Methods") != "GET, HEAD, POST, OPTIONS" {
		t.Fatalf("preflight: %d %v", r.StatusCode, r.Header)
	}
	for _, f := range []string{"Authorization", "Content-Type", "Idempotency-Key", "Range", "Last-Event-ID"} {
		if !strings.Contains(r.Header.Get("Access-Control-Allow-Headers"), f) {
			t.Errorf("preflight does not allow %s: %q", f, r.Header.Get("Access-Control-Allow-Headers"))
		}
	}
	if r := s.do("OPTIONS", "/v1/jobs", "", "Origin", "https://other.example", "Access-Control-Request-Method", "POST"); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("an origin not listed: %v", r.Header)
	}
	// A cross-site form or text/plain post (no preflight) makes no job.
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded"} {
		r := s.do("POST", "/v1/jobs", jobBody("global", names("a", 1), fourteen()[:1], ""), append(auth(alice), "Content-Type", ct, "Origin", page)...)
		if r.StatusCode != 415 {
			t.Fatalf("POST as %s: %d %s", ct, r.StatusCode, r.body)
		}
	}
	body := jobBody("global", names("a", 1), fourteen()[:1], "")
	r = s.do("POST", "/v1/jobs", body, append(auth(alice), "Origin", page)...)
	if r.StatusCode != 201 || r.Header.Get("Access-Control-Allow-Origin") != page {
		t.Fatalf("POST from the page: %d %v", r.StatusCode, r.Header)
	}
	for _, f := range []string{"Location", "ETag", "Repr-Digest", "Retry-After", "Content-Disposition", "RateLimit", "RateLimit-Policy"} {
		if !strings.Contains(", "+r.Header.Get("Access-Control-Expose-Headers")+",", ", "+f+",") {
			t.Errorf("%s not exposed: %q", f, r.Header.Get("Access-Control-Expose-Headers"))
		}
	}
	var j job
	r.json(t, &j)
	j, _ = s.waitAs(alice, j.ID, 60*time.Second, final)
	f := j.Regions[0].Files[0]

	// HEAD of a file: its length, tag and ranges, no body.
	h := s.do("HEAD", "/v1/jobs/"+j.ID+"/files/"+f.Name, "", append(auth(alice), "Origin", page)...)
	if h.StatusCode != 200 || len(h.body) != 0 || h.Header.Get("Content-Length") != strconv.FormatInt(f.Size, 10) || h.Header.Get("ETag") != `"`+f.Sha256+`"` ||
		h.Header.Get("Accept-Ranges") != "bytes" || h.Header.Get("Access-Control-Allow-Origin") != page {
		t.Fatalf("HEAD of a file: %d %v", h.StatusCode, h.Header)
	}
	for _, p := range []string{"/v1/jobs/" + j.ID, "/v1/jobs/" + j.ID + "/files.zip", "/v1/jobs/" + j.ID + "/sha256sums", "/v1/jobs", "/v1/datasets"} {
		g, h := s.do("GET", p, "", auth(alice)...), s.do("HEAD", p, "", auth(alice)...)
		if h.StatusCode != 200 || len(h.body) != 0 || g.Header.Get("Content-Type") != h.Header.Get("Content-Type") {
			t.Errorf("HEAD %s: %d %v", p, h.StatusCode, h.Header)
		}
	}
	// 405 with Allow.
	if r := s.do("PUT", "/v1/jobs/"+j.ID, "", auth(alice)...); r.StatusCode != 405 || r.Header.Get("Allow") != "GET, HEAD, DELETE, OPTIONS" {
		t.Fatalf("PUT: %d %v", r.StatusCode, r.Header)
	}
}
