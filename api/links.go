package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/jobs"
)

// Signed links: a download link that works without a key, for a website to
// hand to its users. The query ?expires=<unix seconds>&sig=<base64url of
// HMAC-SHA256> signs the method, the path and the expiry with a secret of
// the server; HEAD is signed as GET, so one link serves both, with Range.
// A link whose signature does not match (tampered with, or of a secret
// retired) or whose time is past is 403.

// Links signs and verifies download links.
type Links struct {
	// Secrets returns the secret links are signed with and every secret
	// they are verified with (the current one first, then those of the
	// last rotation still in their grace period).
	Secrets func() (sign []byte, verify [][]byte)
	// TTL is the lifetime of the links of job documents and the default
	// of POST /v1/jobs/{id}/links; MaxTTL the longest one may ask for.
	TTL, MaxTTL time.Duration
	Now         func() time.Time // time.Now unless set
}

// DefaultLinkTTL and DefaultLinkMaxTTL are the lifetimes of links unless
// configured.
const (
	DefaultLinkTTL    = 24 * time.Hour
	DefaultLinkMaxTTL = 7 * 24 * time.Hour
)

func (l *Links) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// linkMAC is the signature of a link.
func linkMAC(secret []byte, method, path string, expires int64) []byte {
	if method == http.MethodHead {
		method = http.MethodGet
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(method + "\n" + path + "\n" + strconv.FormatInt(expires, 10)))
	return m.Sum(nil)
}

// sign returns path with the query of a GET (and HEAD) link expiring at
// expires.
func (l *Links) sign(path string, expires int64) string {
	secret, _ := l.Secrets()
	q := url.Values{"expires": {strconv.FormatInt(expires, 10)}, "sig": {base64.RawURLEncoding.EncodeToString(linkMAC(secret, http.MethodGet, path, expires))}}
	return path + "?" + q.Encode()
}

// docExpiry is the expiry of the links in documents made now: TTL from
// now rounded up to the hour, so that a document stays the same for an
// hour (its cache and its ETag-less clients).
func (l *Links) docExpiry() int64 {
	t := l.now().Add(l.TTL)
	return t.Truncate(time.Hour).Add(time.Hour).Unix()
}

// signed reports whether a request carries a link signature.
func signed(r *http.Request) bool { return r.URL.Query().Has("sig") }

// verify checks the signature of r: nil when it matches and has not
// expired, a Forbidden error saying why otherwise.
func (l *Links) verify(r *http.Request) error {
	if l == nil {
		return errs.E(errs.Forbidden, "this server signs no links")
	}
	q := r.URL.Query()
	expires, err := strconv.ParseInt(q.Get("expires"), 10, 64)
	if err != nil || len(q["expires"]) != 1 || len(q["sig"]) != 1 {
		return errs.E(errs.Forbidden, "a signed link has one expires (Unix seconds) and one sig")
	}
	sig, err := base64.RawURLEncoding.DecodeString(q.Get("sig"))
	if err != nil {
		return errs.E(errs.Forbidden, "the link's signature is not base64url")
	}
	_, secrets := l.Secrets()
	ok := false
	for _, s := range secrets {
		ok = ok || hmac.Equal(sig, linkMAC(s, r.Method, r.URL.EscapedPath(), expires))
	}
	if !ok {
		return errs.E(errs.Forbidden, "the link's signature does not match its path and expiry: ask for a new link")
	}
	if now := l.now(); now.Unix() >= expires {
		return errs.E(errs.Forbidden, "the link expired at %s: ask for a new link", time.Unix(expires, 0).UTC().Format(time.RFC3339))
	}
	return nil
}

// LinksDoc is the answer of POST /v1/jobs/{id}/links: the signed links of
// a job's files, archive and checksums, all expiring at Expires.
type LinksDoc struct {
	Job        string     `json:"job"`
	Expires    time.Time  `json:"expires"`
	Files      []FileLink `json:"files"`
	Archive    string     `json:"archive,omitempty"` // of a finished job
	Sha256sums string     `json:"sha256sums"`
}

// FileLink is the signed link of a file.
type FileLink struct {
	Name       string `json:"name"`
	Region     string `json:"region,omitempty"`
	SignedHref string `json:"signed_href"`
}

// mintLinks answers POST /v1/jobs/{id}/links?ttl=DURATION.
func (h *handler) mintLinks(w http.ResponseWriter, r *http.Request) {
	l := h.opt.Links
	if l == nil {
		writeError(w, r, errs.E(errs.Unavailable, "this server signs no links"))
		return
	}
	ttl := l.TTL
	if s := r.URL.Query().Get("ttl"); s != "" {
		d, err := time.ParseDuration(s)
		if n, nerr := strconv.ParseInt(s, 10, 64); nerr == nil {
			d, err = time.Duration(n)*time.Second, nil
		}
		if err != nil || d <= 0 || d > l.MaxTTL {
			writeError(w, r, errs.F(errs.Invalid, "ttl", "ttl must be a duration (90m, 48h) or seconds, more than 0 and at most %s, got %q", l.MaxTTL, s))
			return
		}
		ttl = d
	}
	j := jobOf(r.Context())
	expires := l.now().Add(ttl).Unix()
	self := "/v1/jobs/" + url.PathEscape(j.ID)
	doc := LinksDoc{Job: j.ID, Expires: time.Unix(expires, 0).UTC(), Files: []FileLink{}, Sha256sums: h.u.to(l.sign(self+"/sha256sums", expires))}
	for _, f := range jobs.BuildManifest(j).Files {
		doc.Files = append(doc.Files, FileLink{Name: f.Name, Region: f.Region, SignedHref: h.u.to(l.sign(jobs.FileHref(j.ID, f.Name), expires))})
	}
	if j.Status.Final() {
		doc.Archive = h.u.to(l.sign(self+"/files.zip", expires))
	}
	writeJSON(w, http.StatusOK, doc)
}
