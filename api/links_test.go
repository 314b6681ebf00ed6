package api

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/jobs"
)

// testLinks signs with secrets the test rotates, at a time it moves.
type testLinks struct {
	mu      sync.Mutex
	now     time.Time
	secrets [][]byte
}

func (l *testLinks) Secrets() ([]byte, [][]byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.secrets[0], l.secrets
}

func (l *testLinks) Now() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.now
}

func (l *testLinks) set(now time.Time, secrets ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.now, l.secrets = now, nil
	for _, s := range secrets {
		l.secrets = append(l.secrets, []byte(s))
	}
}

func setupLinks(t *testing.T) (*client, *fake, *testLinks) {
	tl := &testLinks{}
	tl.set(time.Date(2026, 3, 1, 10, 20, 0, 0, time.UTC), strings.Repeat("a", 32))
	f := &fake{jobs: map[string]*jobs.Job{}, keys: map[string]string{}, dir: t.TempDir()}
	keys := fakeKeys{"alice": {Name: "alice", Role: jobs.RoleUser}, "bob": {Name: "bob", Role: jobs.RoleUser}}
	h := New(f, Options{MaxBodyBytes: 4096, Log: zerolog.Nop(), Registry: prometheus.NewRegistry(), Auth: AuthKeys, Keys: keys,
		Links: &Links{Secrets: tl.Secrets, Now: tl.Now, TTL: 24 * time.Hour, MaxTTL: 48 * time.Hour}})
	return serve(t, h), f, tl
}

func TestSignedLinks(t *testing.T) {
	c, f, tl := setupLinks(t)
	_, content := finishedJob(t, c, f, bearer("alice")...)
	_, body := c.do("GET", "/v1/jobs/job001", "", bearer("alice")...)
	var doc JobDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	fd := doc.Regions[0].Files[0]
	u, err := url.Parse(fd.SignedHref)
	if err != nil || u.Path != fd.Href || fd.Name != "benguela/a.nc" {
		t.Fatalf("signed_href %q of %q", fd.SignedHref, fd.Href)
	}
	// The links of a document expire 24 h from the hour after it is made.
	if exp := u.Query().Get("expires"); exp != strconv.FormatInt(time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC).Unix(), 10) {
		t.Fatalf("expires %s", exp)
	}
	if len(doc.Files) != 1 || doc.Files[0].SignedHref == "" {
		t.Fatalf("the job's own files: %+v", doc.Files)
	}

	// Without a key, with another key: the link is the permission.
	for _, hdr := range [][]string{nil, bearer("bob")} {
		resp, b := c.do("GET", fd.SignedHref, "", hdr...)
		if resp.StatusCode != 200 || !bytes.Equal(b, content["benguela/a.nc"]) {
			t.Fatalf("GET of the signed link (%v): %d", hdr, resp.StatusCode)
		}
	}
	if resp, b := c.do("GET", fd.SignedHref, "", "Range", "bytes=10-19"); resp.StatusCode != 206 || !bytes.Equal(b, content["benguela/a.nc"][10:20]) {
		t.Fatalf("Range of the signed link: %d", resp.StatusCode)
	}
	if resp, b := c.do("HEAD", fd.SignedHref, ""); resp.StatusCode != 200 || len(b) != 0 || resp.Header.Get("Content-Length") != "100000" {
		t.Fatalf("HEAD of the signed link: %d %v", resp.StatusCode, resp.Header)
	}

	// Tampered with: another file, another expiry, another signature;
	// other methods. All 403, and say why.
	q := u.Query()
	other := url.Values{"expires": {q.Get("expires")}, "sig": {q.Get("sig")}}
	later := url.Values{"expires": {q.Get("expires") + "0"}, "sig": {q.Get("sig")}}
	sig := []byte(q.Get("sig"))
	sig[3] ^= 1
	bad := url.Values{"expires": {q.Get("expires")}, "sig": {string(sig)}}
	for _, p := range []string{"/v1/jobs/job001/files/agulhas/a.nc?" + other.Encode(), fd.Href + "?" + later.Encode(), fd.Href + "?" + bad.Encode(),
		fd.Href + "?sig=" + q.Get("sig"), fd.Href + "?" + q.Encode() + "&sig=x"} {
		resp, b := c.do("GET", p, "")
		if resp.StatusCode != 403 || !bytes.Contains(b, []byte(`"code":"forbidden"`)) {
			t.Errorf("GET %s: %d %s", p, resp.StatusCode, b)
		}
	}
	// Elsewhere a signature is no permission.
	for _, m := range []string{"GET", "DELETE"} {
		if resp, _ := c.do(m, "/v1/jobs/job001?"+q.Encode(), ""); resp.StatusCode != 401 {
			t.Errorf("%s of the job with a signature: %d", m, resp.StatusCode)
		}
	}

	// Rotation: the old secret still verifies beside the new one, not
	// once it is retired.
	tl.set(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), strings.Repeat("b", 32), strings.Repeat("a", 32))
	if resp, _ := c.do("GET", fd.SignedHref, ""); resp.StatusCode != 200 {
		t.Fatalf("a link of the previous secret: %d", resp.StatusCode)
	}
	_, body = c.do("GET", "/v1/jobs/job001", "", bearer("alice")...)
	var doc2 JobDoc
	json.Unmarshal(body, &doc2)
	if doc2.Regions[0].Files[0].SignedHref == fd.SignedHref {
		t.Fatal("the document's links were not signed again with the new secret an hour later")
	}
	tl.set(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), strings.Repeat("b", 32))
	if resp, b := c.do("GET", fd.SignedHref, ""); resp.StatusCode != 403 || !bytes.Contains(b, []byte("does not match")) {
		t.Fatalf("a link of a retired secret: %d %s", resp.StatusCode, b)
	}
	if resp, _ := c.do("GET", doc2.Regions[0].Files[0].SignedHref, ""); resp.StatusCode != 200 {
		t.Fatalf("a link of the new secret: %d", resp.StatusCode)
	}

	// Minted for an hour: fine for 59 minutes, expired after.
	resp, body := c.do("POST", "/v1/jobs/job001/links?ttl=1h", "", bearer("alice")...)
	var ld LinksDoc
	if resp.StatusCode != 200 || json.Unmarshal(body, &ld) != nil || len(ld.Files) != 4 || ld.Archive == "" || ld.Sha256sums == "" ||
		!ld.Expires.Equal(time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)) {
		t.Fatalf("links: %d %s", resp.StatusCode, body)
	}
	tl.set(time.Date(2026, 3, 1, 12, 59, 0, 0, time.UTC), strings.Repeat("b", 32))
	for _, l := range []string{ld.Files[0].SignedHref, ld.Archive, ld.Sha256sums} {
		if resp, _ := c.do("GET", l, ""); resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", l, resp.StatusCode)
		}
	}
	tl.set(time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC), strings.Repeat("b", 32))
	if resp, b := c.do("GET", ld.Files[0].SignedHref, ""); resp.StatusCode != 403 || !bytes.Contains(b, []byte("expired at 2026-03-01T13:00:00Z")) {
		t.Fatalf("an expired link: %d %s", resp.StatusCode, b)
	}
	for _, ttl := range []string{"49h", "0", "-1h", "soon"} {
		if resp, b := c.do("POST", "/v1/jobs/job001/links?ttl="+ttl, "", bearer("alice")...); resp.StatusCode != 400 || !bytes.Contains(b, []byte(`"field":"ttl"`)) {
			t.Errorf("ttl %s: %d %s", ttl, resp.StatusCode, b)
		}
	}
	if resp, _ := c.do("POST", "/v1/jobs/job001/links?ttl=7200", "", bearer("alice")...); resp.StatusCode != 200 {
		t.Errorf("ttl in seconds: %d", resp.StatusCode)
	}
	// Links of another key's job: 404 as ever.
	if resp, _ := c.do("POST", "/v1/jobs/job001/links", "", bearer("bob")...); resp.StatusCode != 404 {
		t.Errorf("bob mints alice's links: %d", resp.StatusCode)
	}
}
