package api

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

func TestCORS(t *testing.T) {
	c, _ := setup(t, func(o *Options) { o.CORSOrigins = []string{"https://maps.example.org"} })
	// A preflight of a job submission from the allowed origin.
	resp, body := c.do("OPTIONS", "/v1/jobs", "", "Origin", "https://maps.example.org", "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "authorization, content-type, idempotency-key")
	h := resp.Header
	if resp.StatusCode != 204 || len(body) != 0 || h.Get("Access-Control-Allow-Origin") != "https://maps.example.org" ||
		h.Get("Access-Control-Allow-Methods") != "GET, HEAD, POST, OPTIONS" || h.Get("Allow") != "GET, HEAD, POST, OPTIONS" ||
		h.Get("Access-Control-Allow-Credentials") != "" || h.Get("Access-Control-Max-Age") == "" {
		t.Fatalf("preflight: %d %v", resp.StatusCode, h)
	}
	for _, want := range []string{"Authorization", "Content-Type", "Idempotency-Key", "Range", "Last-Event-ID"} {
		if !strings.Contains(h.Get("Access-Control-Allow-Headers"), want) {
			t.Errorf("Access-Control-Allow-Headers %q lacks %s", h.Get("Access-Control-Allow-Headers"), want)
		}
	}
	if !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
		t.Errorf("Vary %v", h.Values("Vary"))
	}
	// Of a file download: GET and HEAD.
	resp, _ = c.do("OPTIONS", "/v1/jobs/x/files/a/b.nc", "", "Origin", "https://maps.example.org", "Access-Control-Request-Method", "GET")
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Methods") != "GET, HEAD, OPTIONS" {
		t.Fatalf("preflight of a download: %d %v", resp.StatusCode, resp.Header)
	}
	// Another origin: answered, but without the fields a browser needs.
	resp, _ = c.do("OPTIONS", "/v1/jobs", "", "Origin", "https://evil.example.com", "Access-Control-Request-Method", "POST")
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.Header.Get("Access-Control-Allow-Methods") != "" {
		t.Fatalf("preflight of another origin: %d %v", resp.StatusCode, resp.Header)
	}
	// The answers themselves expose their fields, errors included.
	resp, _ = c.do("POST", "/v1/jobs", goodJob, "Origin", "https://maps.example.org")
	expose := resp.Header.Get("Access-Control-Expose-Headers")
	for _, want := range []string{"Location", "ETag", "Repr-Digest", "Retry-After", "Content-Disposition", "RateLimit", "RateLimit-Policy"} {
		if !strings.Contains(","+strings.ReplaceAll(expose, " ", "")+",", ","+want+",") {
			t.Errorf("Access-Control-Expose-Headers %q lacks %s", expose, want)
		}
	}
	if resp.StatusCode != 201 || resp.Header.Get("Access-Control-Allow-Origin") != "https://maps.example.org" {
		t.Fatalf("POST from the page: %d %v", resp.StatusCode, resp.Header)
	}
	resp, _ = c.do("GET", "/v1/jobs/nope", "", "Origin", "https://maps.example.org")
	if resp.StatusCode != 404 || resp.Header.Get("Access-Control-Allow-Origin") == "" {
		t.Fatalf("a 404 to the page: %d %v", resp.StatusCode, resp.Header)
	}
	// An unknown path has no OPTIONS.
	if resp, _ = c.do("OPTIONS", "/v1/nothing", ""); resp.StatusCode != 404 {
		t.Fatalf("OPTIONS of nothing: %d", resp.StatusCode)
	}

	// "*": any origin, never with credentials.
	c, _ = setup(t, func(o *Options) { o.CORSOrigins = []string{"*"} })
	resp, _ = c.do("OPTIONS", "/v1/datasets", "", "Origin", "https://anyone.example", "Access-Control-Request-Method", "GET")
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("*: %v", resp.Header)
	}
	// No origins configured: no CORS fields at all.
	c, _ = setup(t)
	resp, _ = c.do("OPTIONS", "/v1/datasets", "", "Origin", "https://anyone.example", "Access-Control-Request-Method", "GET")
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.Header.Get("Allow") != "GET, HEAD, OPTIONS" {
		t.Fatalf("without origins: %d %v", resp.StatusCode, resp.Header)
	}
}

func TestMethodsAndMediaTypes(t *testing.T) {
	c, f := setup(t)
	finishedJob(t, c, f)
	for _, tc := range []struct{ method, path, allow string }{
		{"PUT", "/v1/jobs", "GET, HEAD, POST, OPTIONS"},
		{"POST", "/v1/jobs/job001", "GET, HEAD, DELETE, OPTIONS"},
		{"DELETE", "/v1/datasets", "GET, HEAD, OPTIONS"},
		{"GET", "/v1/datasets/sst/reindex", "POST, OPTIONS"},
		{"PATCH", "/healthz", "GET, HEAD, OPTIONS"},
	} {
		resp, body := c.do(tc.method, tc.path, "")
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != tc.allow || !bytes.Contains(body, []byte(tc.allow)) {
			t.Errorf("%s %s: %d Allow %q %s", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Allow"), body)
		}
	}

	// HEAD on every GET route: the fields of GET, no body.
	for _, p := range []string{"/healthz", "/v1/datasets", "/v1/jobs", "/v1/jobs/job001", "/v1/jobs/job001/manifest.json", "/v1/jobs/job001/sha256sums",
		"/v1/jobs/job001/files.zip", "/v1/jobs/job001/files/benguela/a.nc", "/v1/openapi.json"} {
		get, gbody := c.do("GET", p, "")
		head, hbody := c.do("HEAD", p, "")
		if head.StatusCode != get.StatusCode || len(hbody) != 0 || head.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
			t.Errorf("HEAD %s: %d %v (GET: %d, %d bytes)", p, head.StatusCode, head.Header, get.StatusCode, len(gbody))
		}
	}
	head, _ := c.do("HEAD", "/v1/jobs/job001/files/benguela/a.nc", "")
	if head.Header.Get("Content-Length") != "100000" || head.Header.Get("Accept-Ranges") != "bytes" || !strings.HasPrefix(head.Header.Get("ETag"), `"`) {
		t.Errorf("HEAD of a file: %v", head.Header)
	}
	get, zip := c.do("GET", "/v1/jobs/job001/files.zip", "")
	head, _ = c.do("HEAD", "/v1/jobs/job001/files.zip", "")
	if head.Header.Get("Content-Length") != strconv.Itoa(len(zip)) || head.Header.Get("ETag") != get.Header.Get("ETag") || head.Header.Get("ETag") == "" ||
		head.Header.Get("Accept-Ranges") == "" {
		t.Errorf("HEAD of the archive: %v", head.Header)
	}
	head, _ = c.do("HEAD", "/v1/jobs/job001/events", "")
	if head.StatusCode != 200 || head.Header.Get("Content-Type") != "text/event-stream" {
		t.Errorf("HEAD of the events: %d %v", head.StatusCode, head.Header)
	}

	// A body that is not JSON: 415, and no job.
	n := len(f.jobs)
	for _, ct := range []string{"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""} {
		hdr := []string{"Content-Type", ct}
		resp, body := c.do("POST", "/v1/jobs", goodJob, hdr...)
		if ct == "" {
			resp, body = c.doRaw("POST", "/v1/jobs", goodJob)
		}
		if resp.StatusCode != 415 || resp.Header.Get("Accept-Post") != "application/json" || !bytes.Contains(body, []byte("application/json")) {
			t.Errorf("POST as %q: %d %v %s", ct, resp.StatusCode, resp.Header, body)
		}
	}
	if len(f.jobs) != n {
		t.Fatalf("a job was made of a body that is not JSON")
	}
	for _, ct := range []string{"application/json; charset=utf-8", "application/merge-patch+json"} {
		if resp, body := c.do("POST", "/v1/jobs", goodJob, "Content-Type", ct); resp.StatusCode != 201 {
			t.Errorf("POST as %q: %d %s", ct, resp.StatusCode, body)
		}
	}
	// A POST without a body needs no Content-Type.
	if resp, body := c.doRaw("POST", "/v1/datasets/sst/reindex", ""); resp.StatusCode != 202 {
		t.Errorf("reindex: %d %s", resp.StatusCode, body)
	}
}

// The OpenAPI document names the server at its public URL.
func TestOpenAPIServers(t *testing.T) {
	c, _ := setup(t, func(o *Options) { o.PublicURL = "https://data.example.org/subsetd/" })
	_, body := c.do("GET", "/v1/openapi.json", "")
	var d struct {
		Servers []struct{ URL string } `json:"servers"`
		Paths   map[string]any         `json:"paths"`
	}
	if err := json.Unmarshal(body, &d); err != nil || len(d.Servers) != 1 || d.Servers[0].URL != "https://data.example.org/subsetd" || len(d.Paths) < 10 {
		t.Fatalf("servers %+v %v", d.Servers, err)
	}
	c, _ = setup(t)
	if _, body := c.do("GET", "/v1/openapi.json", ""); !bytes.Equal(body, OpenAPI()) {
		t.Fatal("without a public URL the document is served as it is")
	}
}

// Every operation documents the answers every operation can give: 401
// unless it is public, 404 when its path has a parameter, 415 for a POST,
// 429 under /v1 (the request rate).
func TestOpenAPIErrorsPerOperation(t *testing.T) {
	var d struct {
		Security []map[string]any `json:"security"`
		Paths    map[string]map[string]struct {
			Security  *[]map[string]any `json:"security"`
			Responses map[string]any    `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(OpenAPI(), &d); err != nil {
		t.Fatal(err)
	}
	n := 0
	for path, item := range d.Paths {
		for method, op := range item {
			if method == "parameters" || method == "summary" || method == "description" {
				continue
			}
			n++
			sec := d.Security
			if op.Security != nil {
				sec = *op.Security
			}
			want := []string{}
			if len(sec) > 0 {
				want = append(want, "401")
			}
			if strings.Contains(path, "{") {
				want = append(want, "404")
			}
			if method == "post" {
				want = append(want, "415")
			}
			if strings.HasPrefix(path, "/v1/") {
				want = append(want, "429")
			}
			for _, code := range want {
				if _, ok := op.Responses[code]; !ok {
					t.Errorf("%s %s does not document %s", strings.ToUpper(method), path, code)
				}
			}
		}
	}
	if n < 20 {
		t.Fatalf("%d operations", n)
	}
}
