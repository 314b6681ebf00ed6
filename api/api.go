package api

import (
	"bytes"
	"cmp"
	"context"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/catalog"
	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/internal/webhook"
	"github.com/subsetd/subsetd/jobs"
	"github.com/subsetd/subsetd/regions"
)

// Backend is what the handlers need; jobs/queue.Service implements it.
type Backend interface {
	Submit(ctx context.Context, spec *jobs.Spec, by jobs.Submitter, idempotencyKey string) (job *jobs.Job, created bool, err error)
	// Estimate is a dry run of a job: what it would give, nothing stored.
	Estimate(ctx context.Context, spec *jobs.Spec, by jobs.Submitter) (*jobs.Estimate, error)
	Get(ctx context.Context, id string) (*jobs.Job, error)
	List(ctx context.Context, p jobs.ListParams) ([]*jobs.Job, error)
	// Delete dismisses an active job (and returns it) or deletes a final
	// one with its files (deleted).
	Delete(ctx context.Context, id string) (job *jobs.Job, deleted bool, err error)
	// File opens a file of a job (the caller closes it).
	File(ctx context.Context, id, name string) (fh *os.File, f *jobs.File, err error)
	Stats(ctx context.Context, id string) (*engine.StatsTable, error)
	Datasets(ctx context.Context) ([]*catalog.Dataset, error)
	Dataset(ctx context.Context, id string) (*catalog.Info, error)
	DatasetFiles(ctx context.Context, id string, q catalog.FileQuery) (*catalog.FilePage, error)
	Reindex(ctx context.Context, id string, force bool) (*catalog.IndexStatus, error)
	IndexStatus(ctx context.Context, id string) (*catalog.IndexStatus, error)
	Ready(ctx context.Context) error
}

// Options configure the handler.
type Options struct {
	MaxBodyBytes int64 // largest accepted request body (default 1 MiB)
	// MaxRegions and MaxVertices bound one job (default 1000 and
	// 200,000): jobs.JobLimits, with the caller's quota.
	MaxRegions, MaxVertices int
	// WriteTimeout is the HTTP server's write timeout (http.Server's):
	// downloads, which may take far longer, get a new deadline before each
	// write instead (progressWriter), so a download is cut only when the
	// client stops reading for that long. 0: no deadlines.
	WriteTimeout time.Duration
	Retention    time.Duration // shown as a job's expiry time
	Log          zerolog.Logger
	Registry     *prometheus.Registry // /metrics (for admins); nil for none
	// PublicURL, when set, is the address clients reach the server at
	// ("https://data.example.org/subsetd"): every link the API gives is
	// absolute, under it. Empty: links are paths.
	PublicURL string
	// Hub feeds the event streams (NewHub, told of every change of a
	// job); nil: one that is told nothing, whose streams show a job as it
	// was when they opened.
	Hub *Hub
	// Heartbeat is how often a quiet event stream sends a comment
	// (default 15 s).
	Heartbeat time.Duration

	Auth           AuthMode       // keys (the default) or none
	Keys           Keys           // the keys, with Auth keys
	Quota          jobs.Quota     // what a key may use unless its own quota says otherwise; callers without a key get its request rate
	TrustedProxies []netip.Prefix // peers whose X-Forwarded-For names the client
	// CORSOrigins are the origins whose pages may call the API ("*": any,
	// without credentials); none: no CORS fields.
	CORSOrigins []string
	// Links signs download links (links.go): signed_href in documents,
	// POST /v1/jobs/{id}/links, and downloads without a key; nil: none.
	Links *Links
	// Webhooks is where notifications may go (nil: loopback alone).
	Webhooks *webhook.Policy
}

//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the OpenAPI document served at /v1/openapi.json.
func OpenAPI() []byte { return openAPI }

// withServers is the OpenAPI document with its servers: the public URL
// when there is one (none: clients resolve paths against the document's
// own address).
func withServers(doc []byte, publicURL string) []byte {
	if publicURL == "" {
		return doc
	}
	srv, _ := json.Marshal([]map[string]string{{"url": publicURL, "description": "this server"}})
	i := bytes.IndexByte(doc, '{')
	out := append([]byte(nil), doc[:i+1]...)
	out = append(out, "\n \"servers\": "...)
	out = append(out, srv...)
	out = append(out, ',')
	return append(out, doc[i+1:]...)
}

// pollSeconds is the Retry-After of GET /v1/jobs/{id} of an unfinished
// job: how often to poll (the events stream tells every change at once).
const pollSeconds = 2

// Page sizes of GET /v1/jobs.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// Page sizes of GET /v1/datasets/{id}/files.
const (
	DefaultFilesLimit = 100
	MaxFilesLimit     = 1000
)

type handler struct {
	b      Backend
	opt    Options
	hub    *Hub
	u      urls     // makes links
	docs   docCache // JSON of final jobs' documents (doccache.go)
	limits limiter  // request rates (ratelimit.go)
	mux    *chi.Mux // the routes, for Allow (browser.go)

	routesOnce sync.Once
	routes     []routeOf
}

// urls makes the links of the API's documents and headers: the path
// itself, or the absolute URL under the public URL it holds; with links,
// the signed links of downloads too.
type urls struct {
	base  string
	links *Links
}

func (u urls) to(path string) string { return u.base + path }

// signed is the signed link of a download path in a document made now;
// "" when the server signs no links.
func (u urls) signed(path string) string {
	if u.links == nil {
		return ""
	}
	return u.base + u.links.sign(path, u.links.docExpiry())
}

// New returns the HTTP handler of the API.
func New(b Backend, opt Options) http.Handler {
	if opt.MaxBodyBytes <= 0 {
		opt.MaxBodyBytes = 1 << 20
	}
	if opt.MaxRegions <= 0 {
		opt.MaxRegions = 1000
	}
	if opt.MaxVertices <= 0 {
		opt.MaxVertices = 200000
	}
	if opt.Auth == "" {
		opt.Auth = AuthKeys
	}
	if opt.Webhooks == nil {
		opt.Webhooks, _ = webhook.NewPolicy(nil)
	}
	h := &handler{b: b, opt: opt, hub: opt.Hub, u: urls{strings.TrimSuffix(opt.PublicURL, "/"), opt.Links}, limits: limiter{now: time.Now}}
	if h.hub == nil {
		h.hub = NewHub(b.Get, opt.PublicURL)
	}
	h.hub.u.links = opt.Links // region events carry signed links too
	doc := withServers(openAPI, h.u.base)
	r := chi.NewRouter()
	h.mux = r
	r.Use(h.realClient, requestLog(opt.Log), recoverer, h.browser)
	if opt.Registry != nil {
		r.Use(httpMetrics(opt.Registry))
	}
	r.Use(h.authenticate)
	if opt.Registry != nil {
		r.With(requireAdmin).Method(http.MethodGet, "/metrics", promhttp.HandlerFor(opt.Registry, promhttp.HandlerOpts{}))
	}
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusNotFound, errs.NotFound, "", "no such resource: "+r.URL.Path)
	})
	r.MethodNotAllowed(h.methodNotAllowed)
	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", h.ready)
	h.routesOGC(r) // ogc.go
	r.Route("/v1", func(r chi.Router) {
		r.Use(h.rateLimit)
		r.Get("/openapi.json", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.oai.openapi+json;version=3.1")
			w.Write(doc)
		})
		r.Group(func(r chi.Router) {
			r.Use(requireKey)
			r.Get("/regions", h.listRegionSets)
			r.Get("/regions/{set}", h.getRegionSet)
			r.Get("/datasets", h.listDatasets)
			r.Get("/datasets/{id}", h.getDataset)
			r.Get("/datasets/{id}/files", h.listDatasetFiles)
			r.With(requireAdmin).Post("/datasets/{id}/reindex", h.reindex)
			r.Get("/datasets/{id}/index", h.indexStatus)
			r.Post("/jobs", h.submit)
			r.Get("/jobs", h.listJobs)
		})
		// Every route of a job goes through its loader: ownership.
		r.Route("/jobs/{id}", func(r chi.Router) {
			r.Use(h.jobCtx)
			r.Get("/", h.getJob)
			r.Delete("/", h.deleteJob)
			r.Get("/manifest.json", h.manifest)
			r.Get("/files.zip", h.archive)
			r.Get("/sha256sums", h.sha256sums)
			r.Get("/events", h.events)
			r.Get("/stats", h.stats)
			r.Get("/files/*", h.download)
			r.Post("/links", h.mintLinks)
		})
	})
	return r
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeRawJSON writes JSON already encoded as writeJSON would write it, given
// in parts: a listing is written around its cached documents, gathered in
// a pooled buffer so that it goes out in one write without garbage.
func writeRawJSON(w http.ResponseWriter, status int, parts ...[]byte) {
	b := rawBufs.Get().(*bytes.Buffer)
	defer func() {
		if b.Cap() <= maxPooledBuf {
			rawBufs.Put(b)
		}
	}()
	b.Reset()
	for _, p := range parts {
		b.Write(p)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

var rawBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuf bounds what the pool keeps: a rare huge listing is not held.
const maxPooledBuf = 1 << 20

func (h *handler) ready(w http.ResponseWriter, r *http.Request) {
	if err := h.b.Ready(r.Context()); err != nil {
		writeError(w, r, err)
		return
	}
	doc := map[string]any{"status": "ready"}
	if ix, ok := h.b.(interface{ Indexed() bool }); ok {
		doc["indexed"] = ix.Indexed()
	}
	writeJSON(w, http.StatusOK, doc)
}

func (h *handler) listDatasets(w http.ResponseWriter, r *http.Request) {
	ds, err := h.b.Datasets(r.Context())
	if err != nil {
		writeError(w, r, err)
		return
	}
	out := DatasetList{Datasets: []DatasetSummary{}, Links: []Link{{Rel: "self", Href: h.u.to("/v1/datasets"), Type: "application/json"}}}
	for _, d := range ds {
		out.Datasets = append(out.Datasets, datasetSummary(d, h.u))
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *handler) getDataset(w http.ResponseWriter, r *http.Request) {
	info, err := h.b.Dataset(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	base := h.u.to("/v1/datasets/" + info.ID)
	writeJSON(w, http.StatusOK, datasetDoc(info, []Link{
		{Rel: "self", Href: base, Type: "application/json"},
		{Rel: "files", Href: base + "/files", Type: "application/json", Title: "the files, by place and time"},
		{Rel: "index", Href: base + "/index", Type: "application/json", Title: "the state of its indexing"},
		{Rel: "reindex", Href: base + "/reindex", Type: "application/json", Title: "POST: index its files again"},
		{Rel: "jobs", Href: h.u.to("/v1/jobs?dataset=" + url.QueryEscape(info.ID)), Type: "application/json", Title: "jobs on this dataset"},
	}))
}

func (h *handler) listDatasetFiles(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	q := r.URL.Query()
	fq := catalog.FileQuery{Limit: DefaultFilesLimit}
	if s := q.Get("bbox"); s != "" {
		b, err := regions.ParseBBox("bbox", s)
		if err != nil {
			writeError(w, r, err)
			return
		}
		fq.BBox = &b
	}
	if s := q.Get("time"); s != "" {
		start, end, err := catalog.ParseTimeParam("time", s)
		if err != nil {
			writeError(w, r, err)
			return
		}
		fq.Start, fq.End = start, end
	}
	var err error
	if fq.Limit, err = intParam(q, "limit", DefaultFilesLimit, 1, MaxFilesLimit); err != nil {
		writeError(w, r, err)
		return
	}
	if fq.Offset, err = intParam(q, "offset", 0, 0, math.MaxInt32); err != nil {
		writeError(w, r, err)
		return
	}
	page, err := h.b.DatasetFiles(r.Context(), id, fq)
	if err != nil {
		writeError(w, r, err)
		return
	}
	base := "/v1/datasets/" + id + "/files"
	at := func(offset int) string {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("offset", strconv.Itoa(offset))
		nq.Set("limit", strconv.Itoa(fq.Limit))
		return h.u.to(base + "?" + nq.Encode())
	}
	doc := filesDoc(page, []Link{{Rel: "self", Href: h.u.to(r.URL.RequestURI()), Type: "application/json"},
		{Rel: "dataset", Href: h.u.to("/v1/datasets/" + id), Type: "application/json"}})
	if fq.Offset+len(page.Files) < page.Total {
		doc.Links = append(doc.Links, Link{Rel: "next", Href: at(fq.Offset + fq.Limit), Type: "application/json"})
	}
	if fq.Offset > 0 {
		doc.Links = append(doc.Links, Link{Rel: "prev", Href: at(max(fq.Offset-fq.Limit, 0)), Type: "application/json"})
	}
	writeJSON(w, http.StatusOK, doc)
}

// intParam reads an integer query parameter in [lo, hi].
func intParam(q url.Values, name string, def, lo, hi int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, errs.F(errs.Invalid, name, "%s must be an integer from %d to %d, got %q", name, lo, hi, s)
	}
	return n, nil
}

func (h *handler) reindex(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	force := false
	if s := r.URL.Query().Get("force"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			writeError(w, r, errs.F(errs.Invalid, "force", "force must be true or false, got %q", s))
			return
		}
		force = b
	}
	st, err := h.b.Reindex(r.Context(), id, force)
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Location", h.u.to("/v1/datasets/"+id+"/index"))
	writeJSON(w, http.StatusAccepted, indexDoc(st, h.u))
}

func (h *handler) indexStatus(w http.ResponseWriter, r *http.Request) {
	st, err := h.b.IndexStatus(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, indexDoc(st, h.u))
}

// MaxIdempotencyKey is the longest accepted Idempotency-Key.
const MaxIdempotencyKey = 255

func (h *handler) submit(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	if len(key) > MaxIdempotencyKey || strings.IndexFunc(key, func(c rune) bool { return c < 0x21 || c > 0x7e }) >= 0 {
		writeError(w, r, errs.F(errs.Invalid, "Idempotency-Key", "the key must be 1 to %d visible ASCII characters", MaxIdempotencyKey))
		return
	}
	// The body is JSON: another Content-Type was refused (browser.go).
	var req JobRequest
	if err := decodeBody(w, r, h.opt.MaxBodyBytes, &req); err != nil {
		writeError(w, r, err)
		return
	}
	c := callerOf(r.Context())
	by := jobs.Submitter{Owner: c.name, Quota: c.quota}
	spec, err := h.spec(&req, jobs.JobLimits(h.opt.MaxRegions, h.opt.MaxVertices, by))
	if err != nil {
		writeError(w, r, err)
		return
	}
	if req.DryRun {
		h.dryRun(w, r, spec)
		return
	}
	j, created, err := h.b.Submit(r.Context(), spec, by, key)
	if err != nil {
		writeError(w, r, err)
		return
	}
	zerolog.Ctx(r.Context()).UpdateContext(func(c zerolog.Context) zerolog.Context { return c.Str("job_id", j.ID) })
	w.Header().Set("Location", h.u.to("/v1/jobs/"+j.ID))
	status := http.StatusCreated
	if !created {
		w.Header().Set("Idempotent-Replayed", "true")
		status = http.StatusOK
	}
	writeJSON(w, status, jobDoc(j, true, h.opt.Retention, h.u))
}

// decodeBody reads a JSON body and decodes it strictly (DecodeStrict).
// A body over max bytes, white space included, is TooLarge.
func decodeBody(w http.ResponseWriter, r *http.Request, max int64, v any) error {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return errs.E(errs.TooLarge, "the request body is larger than %d bytes", mbe.Limit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return errs.E(errs.Invalid, "the request body did not arrive within the server's read timeout")
	case err != nil:
		return errs.Wrap(errs.Invalid, err, "reading the request body")
	case len(bytes.TrimSpace(data)) == 0:
		return errs.E(errs.Invalid, "the request body is empty: send a job as JSON")
	}
	return DecodeStrict(data, v)
}

// listParams are the filters and page of a listing of jobs (GET
// /v1/jobs, GET /jobs): limit, status (comma-separated or repeated),
// dataset, cursor, owner (an admin's); a key lists its own jobs.
func listParams(r *http.Request) (jobs.ListParams, error) {
	q := r.URL.Query()
	p := jobs.ListParams{Limit: DefaultLimit, Dataset: q.Get("dataset"), Before: q.Get("cursor")}
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return p, errs.F(errs.Invalid, "limit", "limit must be an integer from 1 to %d, got %q", MaxLimit, s)
		}
		p.Limit = n
	}
	for _, s := range q["status"] {
		for _, st := range strings.Split(s, ",") {
			if !slices.Contains(jobs.JobStatuses, jobs.Status(st)) {
				return p, errs.F(errs.Invalid, "status", "unknown status %q: use accepted, running, successful, failed or dismissed", st)
			}
			p.Statuses = append(p.Statuses, jobs.Status(st))
		}
	}
	if p.Before != "" && (len(p.Before) > 64 || strings.ContainsAny(p.Before, "/?#% ")) {
		return p, errs.F(errs.Invalid, "cursor", "invalid cursor")
	}
	// A key lists its own jobs; an admin everyone's, or one owner's.
	c, owner := callerOf(r.Context()), q.Get("owner")
	switch {
	case owner != "" && !c.admin && owner != c.name:
		return p, errs.F(errs.Forbidden, "owner", "only a key with the admin role lists the jobs of other keys")
	case owner != "" || !c.admin:
		p.Owner = cmp.Or(owner, c.name)
	default:
		p.AnyOwner = true
	}
	return p, nil
}

// pageLinks are the self and next links of a page of jobs at base.
func (h *handler) pageLinks(r *http.Request, base string, p jobs.ListParams, list []*jobs.Job) []Link {
	links := []Link{{Rel: "self", Href: h.u.to(r.URL.RequestURI()), Type: "application/json"}}
	if len(list) == p.Limit {
		nq := url.Values{}
		for k, v := range r.URL.Query() {
			nq[k] = v
		}
		nq.Set("cursor", list[len(list)-1].ID)
		nq.Set("limit", strconv.Itoa(p.Limit))
		links = append(links, Link{Rel: "next", Href: h.u.to(base + "?" + nq.Encode()), Type: "application/json"})
	}
	return links
}

func (h *handler) listJobs(w http.ResponseWriter, r *http.Request) {
	p, err := listParams(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	list, err := h.b.List(r.Context(), p)
	if err != nil {
		writeError(w, r, err)
		return
	}
	links := h.pageLinks(r, "/v1/jobs", p, list)
	// A JobList, written out around the cached documents: encoding/json
	// would validate and compact each of them again.
	parts := make([][]byte, 0, 2*len(list)+2)
	parts = append(parts, []byte(`{"jobs":[`))
	for i, j := range list {
		if i > 0 {
			parts = append(parts, comma)
		}
		parts = append(parts, h.doc(j, false))
	}
	var b bytes.Buffer
	b.WriteString(`],"links":`)
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(links)
	b.Truncate(b.Len() - 1) // the encoder's newline
	b.WriteString("}\n")
	writeRawJSON(w, http.StatusOK, append(parts, b.Bytes())...)
}

var comma, newline = []byte(","), []byte("\n")

func (h *handler) getJob(w http.ResponseWriter, r *http.Request) {
	j := jobOf(r.Context())
	if !j.Status.Final() {
		// A polling hint: a job seldom changes faster.
		w.Header().Set("Retry-After", strconv.Itoa(pollSeconds))
	}
	doc := h.doc(j, true)
	writeRawJSON(w, http.StatusOK, doc, newline)
}

// deleteJob dismisses an active job (200 with its document) or deletes a
// final one and its files (204).
func (h *handler) deleteJob(w http.ResponseWriter, r *http.Request) {
	j, deleted, err := h.b.Delete(r.Context(), jobOf(r.Context()).ID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if deleted {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, jobDoc(j, true, h.opt.Retention, h.u))
}

func (h *handler) manifest(w http.ResponseWriter, r *http.Request) {
	m := jobs.BuildManifest(jobOf(r.Context()))
	for i := range m.Files {
		m.Files[i].Href = h.u.to(m.Files[i].Href)
	}
	writeJSON(w, http.StatusOK, m)
}

func (h *handler) stats(w http.ResponseWriter, r *http.Request) {
	id := jobOf(r.Context()).ID
	t, err := h.b.Stats(r.Context(), id)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, statsDoc(id, t, h.u))
}

func (h *handler) download(w http.ResponseWriter, r *http.Request) {
	id, name := jobOf(r.Context()).ID, chi.URLParam(r, "*")
	fh, f, err := h.b.File(r.Context(), id, name)
	if err != nil {
		writeError(w, r, err)
		return
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil || st.Size() != f.Size {
		writeError(w, r, errs.E(errs.Internal, "file %s of job %s changed on disk", name, id))
		return
	}
	hdr := w.Header()
	hdr.Set("ETag", `"`+f.Sha256+`"`)
	if sum, err := hex.DecodeString(f.Sha256); err == nil {
		hdr.Set("Repr-Digest", "sha-256=:"+base64.StdEncoding.EncodeToString(sum)+":")
	}
	ctype := "application/x-netcdf"
	switch strings.ToLower(path.Ext(name)) {
	case ".h5", ".hdf5":
		ctype = "application/x-hdf5"
	case ".csv":
		ctype = "text/csv; charset=utf-8"
	}
	hdr.Set("Content-Type", ctype)
	hdr.Set("Content-Disposition", attachment(DownloadName(name)))
	hdr.Set("Cache-Control", "private, max-age=3600")
	http.ServeContent(&rangeProblemWriter{ResponseWriter: progressWriter(w, h.opt.WriteTimeout), r: r, size: st.Size()}, r, path.Base(name), st.ModTime(), fh)
}

// rangeProblemWriter turns the plain-text 416 of http.ServeContent (a Range
// the file cannot give) into problem+json like every other error; its
// Content-Range (bytes */size) stays.
type rangeProblemWriter struct {
	http.ResponseWriter
	r        *http.Request
	size     int64
	answered bool // the problem is written: ServeContent's text is dropped
}

func (p *rangeProblemWriter) WriteHeader(status int) {
	if status != http.StatusRequestedRangeNotSatisfiable {
		p.ResponseWriter.WriteHeader(status)
		return
	}
	p.answered = true
	p.Header().Del("X-Content-Type-Options")
	p.Header().Del("Content-Disposition")
	writeProblem(p.ResponseWriter, p.r, status, errs.Invalid, "Range",
		fmt.Sprintf("the range %q is outside the file's %d bytes", p.r.Header.Get("Range"), p.size))
}

func (p *rangeProblemWriter) Write(b []byte) (int, error) {
	if p.answered {
		return len(b), nil
	}
	return p.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the writer underneath.
func (p *rangeProblemWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }

// progressWriter lets a download (a file, an archive) outlive the server's
// write timeout as long as it makes progress: each write first moves the
// connection's write deadline to timeout from now. A client that stops
// reading is cut off after timeout, one that reads slowly is not.
func progressWriter(w http.ResponseWriter, timeout time.Duration) http.ResponseWriter {
	if timeout <= 0 {
		return w
	}
	return &deadlineWriter{ResponseWriter: w, rc: http.NewResponseController(w), timeout: timeout}
}

type deadlineWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
}

func (d *deadlineWriter) Write(b []byte) (int, error) {
	_ = d.rc.SetWriteDeadline(time.Now().Add(d.timeout))
	return d.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the writer underneath.
func (d *deadlineWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }

// jsonType names the JSON type a Go type decodes from.
func jsonType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Pointer:
		return jsonType(t.Elem())
	}
	return "an object"
}
