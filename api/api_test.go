package api

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/catalog"
	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/internal/testutil/openapitest"
	"github.com/subsetd/subsetd/jobs"
	"github.com/subsetd/subsetd/regions"
)

// fake is an in-memory Backend.
type fake struct {
	mu      sync.Mutex
	jobs    map[string]*jobs.Job
	keys    map[string]string
	n       int
	dir     string
	busy    bool
	closing bool

	lastQuery catalog.FileQuery
	stats     map[string]*engine.StatsTable
}

func (f *fake) Submit(ctx context.Context, spec *jobs.Spec, by jobs.Submitter, key string) (*jobs.Job, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closing {
		return nil, false, errs.E(errs.Unavailable, "shutting down")
	}
	if spec.Dataset != "sst" {
		return nil, false, errs.F(errs.Invalid, "dataset", "unknown dataset %q", spec.Dataset)
	}
	if err := spec.Validate(); err != nil {
		return nil, false, err
	}
	if id, ok := f.keys[by.Owner+"\x00"+key]; ok && key != "" {
		return f.jobs[id], false, nil
	}
	if f.busy {
		return nil, false, &jobs.ExceededError{Limit: jobs.Limit{Policy: "queue", Quota: 10, Unit: "concurrent-requests"}, RetryAfter: 1500 * time.Millisecond,
			Err: errs.E(errs.Busy, "queue full")}
	}
	f.n++
	now := time.Date(2025, 1, 1, 0, 0, f.n, 0, time.UTC)
	j := &jobs.Job{ID: fmt.Sprintf("job%03d", f.n), Owner: by.Owner, Dataset: spec.Dataset, Spec: *spec, Status: jobs.Accepted, Created: now, Updated: now}
	for i, r := range spec.Regions {
		j.Regions = append(j.Regions, jobs.Region{Index: i, Name: r.OutputName(), Status: jobs.Accepted})
	}
	f.jobs[j.ID] = j
	if key != "" {
		f.keys[by.Owner+"\x00"+key] = j.ID
	}
	return j, true, nil
}

func (f *fake) Get(ctx context.Context, id string) (*jobs.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	j, ok := f.jobs[id]
	if !ok {
		return nil, errs.E(errs.NotFound, "no job %q", id)
	}
	return j, nil
}

func (f *fake) List(ctx context.Context, p jobs.ListParams) ([]*jobs.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*jobs.Job
	for _, j := range f.jobs {
		out = append(out, j)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ID > out[b].ID })
	var res []*jobs.Job
	for _, j := range out {
		if (p.Before != "" && j.ID >= p.Before) || (!p.AnyOwner && j.Owner != p.Owner) {
			continue
		}
		ok := len(p.Statuses) == 0
		for _, s := range p.Statuses {
			ok = ok || s == j.Status
		}
		if ok && len(res) < p.Limit {
			res = append(res, j)
		}
	}
	return res, nil
}

func (f *fake) Delete(ctx context.Context, id string) (*jobs.Job, bool, error) {
	j, err := f.Get(ctx, id)
	if err != nil {
		return nil, false, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if j.Status.Final() {
		delete(f.jobs, id)
		return nil, true, nil
	}
	j.Status = jobs.Dismissed
	j.Finished = j.Created.Add(time.Minute)
	for i := range j.Regions {
		j.Regions[i].Status = jobs.Dismissed
	}
	return j, false, nil
}

func (f *fake) File(ctx context.Context, id, name string) (*os.File, *jobs.File, error) {
	j, err := f.Get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range append(j.Regions, jobs.Region{Files: j.Files}) {
		for _, fl := range r.Files {
			if fl.Name == name {
				fh, err := os.Open(filepath.Join(f.dir, name))
				if err != nil {
					return nil, nil, errs.E(errs.NotFound, "file %q is no longer available", name)
				}
				return fh, &fl, nil
			}
		}
	}
	return nil, nil, errs.E(errs.NotFound, "no file %q", name)
}

// Stats serves the statistics a test gave the job in stats.
func (f *fake) Stats(ctx context.Context, id string) (*engine.StatsTable, error) {
	j, err := f.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case j.Spec.Statistics == nil:
		return nil, errs.E(errs.NotFound, "job %s asks for no statistics", id)
	case f.stats[id] == nil:
		return nil, errs.E(errs.Conflict, "not yet")
	}
	return f.stats[id], nil
}

func (f *fake) Datasets(ctx context.Context) ([]*catalog.Dataset, error) {
	return []*catalog.Dataset{{ID: "sst", Files: []string{"/d/sst.nc"}, Size: 10, Kind: "file"}, {ID: "swaths", Files: []string{"/d/swaths/a.nc"}, Size: 5}}, nil
}

var sstFile = catalog.File{Name: "sst.nc", Size: 10, Modified: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), Format: "netcdf4", BBox: []float64{0, -10, 10, 10},
	Time: &engine.TimeCoverage{Start: "2000-01-01T00:00:00Z", End: "2000-01-02T00:00:00Z", Steps: 2, Units: "days since 2000-01-01", Calendar: "standard"}, Variables: []string{"lat", "sst"}}

func (f *fake) Dataset(ctx context.Context, id string) (*catalog.Info, error) {
	switch id {
	case "sst":
		now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		return &catalog.Info{ID: "sst", Kind: "file", DetectedKind: "file", Title: "SST", License: "CC-BY-4.0", FileCount: 1, Size: 10,
			Files:      []catalog.File{sstFile},
			Dimensions: []engine.DimInfo{{Name: "lat", Length: 4}},
			Variables:  []engine.VarInfo{{Name: "sst", Type: "float", Dimensions: []string{"lat"}, Shape: []int{4}, Units: "K", Coordinate: true}},
			Extent:     &regions.BBox{West: 0, South: -10, East: 10, North: 10},
			Time:       &engine.TimeCoverage{Start: "2000-01-01", End: "2000-01-02", Steps: 2, Units: "days since 2000-01-01", Calendar: "standard"},
			ScannedAt:  &now,
		}, nil
	case "fresh":
		return nil, errs.E(errs.Unavailable, "dataset %q is being indexed: try again in a few seconds", id)
	}
	return nil, errs.E(errs.NotFound, "no dataset %q", id)
}

func (f *fake) DatasetFiles(ctx context.Context, id string, q catalog.FileQuery) (*catalog.FilePage, error) {
	if id != "sst" {
		return nil, errs.E(errs.NotFound, "no dataset %q", id)
	}
	f.mu.Lock()
	f.lastQuery = q
	f.mu.Unlock()
	page := &catalog.FilePage{Dataset: id, Offset: q.Offset, Limit: q.Limit, Total: 3, Files: []catalog.File{}}
	for i := q.Offset; i < 3 && len(page.Files) < q.Limit; i++ {
		fl := sstFile
		fl.Name = fmt.Sprintf("f%d.nc", i)
		if i == 0 {
			fl = catalog.File{Name: "bad.nc", Size: 3, Modified: sstFile.Modified, Error: "NetCDF: Unknown file format"}
		}
		page.Files = append(page.Files, fl)
	}
	return page, nil
}

func (f *fake) Reindex(ctx context.Context, id string, force bool) (*catalog.IndexStatus, error) {
	if id != "sst" {
		return nil, errs.E(errs.NotFound, "no dataset %q", id)
	}
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	return &catalog.IndexStatus{Dataset: id, Status: catalog.IndexQueued, Requested: &now}, nil
}

func (f *fake) IndexStatus(ctx context.Context, id string) (*catalog.IndexStatus, error) {
	if id != "sst" {
		return nil, errs.E(errs.NotFound, "no dataset %q", id)
	}
	t := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	return &catalog.IndexStatus{Dataset: id, Status: catalog.IndexIdle, ScannedAt: &t,
		LastScan: &catalog.ScanInfo{Scope: "dataset", Started: t, Finished: t.Add(time.Second), Files: 3, New: 1, Skipped: 2, Failed: 1,
			Failures: []catalog.FileError{{Name: "sst/bad.nc", Error: "NetCDF: Unknown file format"}}}}, nil
}

func (f *fake) Ready(ctx context.Context) error {
	if f.closing {
		return errs.E(errs.Unavailable, "shutting down")
	}
	return nil
}

type client struct {
	t   *testing.T
	srv *httptest.Server
	doc *openapitest.Doc
}

// do sends a request and checks the response against the OpenAPI document.
func (c *client) do(method, path string, body string, hdr ...string) (*http.Response, []byte) {
	c.t.Helper()
	return c.send(method, path, body, true, hdr...)
}

// doRaw is do without the Content-Type of a JSON body.
func (c *client) doRaw(method, path string, body string, hdr ...string) (*http.Response, []byte) {
	c.t.Helper()
	return c.send(method, path, body, false, hdr...)
}

func (c *client) send(method, path string, body string, asJSON bool, hdr ...string) (*http.Response, []byte) {
	c.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, c.srv.URL+path, rd)
	if body != "" && asJSON {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if _, _, ok := c.doc.Match(req.URL.Path); !ok && resp.StatusCode == 404 {
		return resp, b // an undocumented path: nothing to check but the 404
	}
	if err := c.doc.CheckResponse(method, req.URL.Path, resp, b); err != nil {
		c.t.Errorf("OpenAPI: %v\n%s", err, b)
	}
	return resp, b
}

// setup serves a fake backend; mods change the handler's options.
func setup(t *testing.T, mods ...func(*Options)) (*client, *fake) {
	f := &fake{jobs: map[string]*jobs.Job{}, keys: map[string]string{}, dir: t.TempDir()}
	opt := Options{MaxBodyBytes: 4096, Retention: 24 * time.Hour, Log: zerolog.Nop(), Registry: prometheus.NewRegistry(), Auth: AuthNone}
	for _, m := range mods {
		m(&opt)
	}
	return serve(t, New(f, opt)), f
}

// serve serves h for the test and returns a client checking every answer
// against the OpenAPI document.
func serve(t *testing.T, h http.Handler) *client {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	doc, err := openapitest.Load(OpenAPI())
	if err != nil {
		t.Fatal(err)
	}
	return &client{t: t, srv: srv, doc: doc}
}

const goodJob = `{"dataset": "sst", "regions": [{"name": "benguela", "bbox": [8, -35, 20, -15]}, {"name": "agulhas", "bbox": [20, -40, 30, -30]}],
 "variables": ["sst"], "time": {"start": "2000-01-01", "end": "2000-01-02"}, "output": {"format": "netcdf4", "deflate": 1}}`

func TestSubmitAndGet(t *testing.T) {
	c, _ := setup(t)
	if err := c.doc.ValidateRef("JobRequest", mustJSON(goodJob)); err != nil {
		t.Fatalf("the documented request schema refuses a good request: %v", err)
	}
	resp, body := c.do("POST", "/v1/jobs", goodJob, "Content-Type", "application/json")
	if resp.StatusCode != 201 || resp.Header.Get("Location") != "/v1/jobs/job001" {
		t.Fatalf("%d %s %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	var d JobDoc
	json.Unmarshal(body, &d)
	if d.Status != jobs.Accepted || len(d.Regions) != 2 || d.Regions[1].Name != "agulhas" || d.Request == nil {
		t.Fatalf("%s", body)
	}
	resp, body = c.do("GET", "/v1/jobs/job001", "")
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"benguela"`)) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	resp, body = c.do("GET", "/v1/jobs/job001/manifest.json", "")
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"files":[]`)) {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	resp, _ = c.do("DELETE", "/v1/jobs/job001", "")
	if resp.StatusCode != 200 {
		t.Fatal(resp.StatusCode)
	}
	resp, body = c.do("GET", "/v1/jobs/job001", "")
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"expires":"2025-01-02T00:01:01Z"`)) {
		t.Fatalf("expiry: %s", body)
	}
	// A finished job is deleted.
	resp, body = c.do("DELETE", "/v1/jobs/job001", "")
	if resp.StatusCode != 204 || len(body) != 0 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if resp, _ = c.do("GET", "/v1/jobs/job001", ""); resp.StatusCode != 404 {
		t.Fatalf("deleted job: %d", resp.StatusCode)
	}
}

func mustJSON(s string) any {
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		panic(err)
	}
	return v
}

func TestStatistics(t *testing.T) {
	c, f := setup(t)
	body := `{"dataset": "sst", "regions": [{"name": "a", "bbox": [0, 0, 10, 10]}, {"name": "b", "bbox": [0, 0, 1, 1]}],
	  "statistics": {"variables": ["sst"], "ops": ["mean", "count"], "weights": "area", "only": true}}`
	if err := c.doc.ValidateRef("JobRequest", mustJSON(body)); err != nil {
		t.Fatalf("the documented request schema refuses statistics: %v", err)
	}
	resp, b := c.do("POST", "/v1/jobs", body)
	if resp.StatusCode != 201 || !bytes.Contains(b, []byte(`"statistics":{"variables":["sst"],"ops":["mean","count"],"weights":"area","only":true}`)) ||
		!bytes.Contains(b, []byte(`"rel":"statistics","href":"/v1/jobs/job001/stats"`)) {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if resp, b := c.do("GET", "/v1/jobs/job001/stats", ""); resp.StatusCode != 409 {
		t.Errorf("statistics of a running job: %d %s", resp.StatusCode, b)
	}
	// Done: the table's rows, with null where a region has no value.
	var m engine.Moments
	m.Merge(engine.Moments{N: 1, W: 1, WX: 2.5, Min: 2.5, Max: 2.5, Sum: 2.5})
	tab := &engine.StatsTable{Ops: []string{"mean", "count"}, Weights: "area",
		Time:    &engine.StatsTime{Units: "days since 2000-01-01", Values: []float64{0}, ISO: []string{"2000-01-01T00:00:00Z"}},
		Vars:    []engine.StatsVar{{Name: "sst", Units: "K", Weighting: "cos(latitude)", Time: true}},
		Regions: []engine.RegionStats{{Name: "a", Moments: [][]engine.Moments{{m}}}, {Name: "b"}}}
	f.mu.Lock()
	f.stats = map[string]*engine.StatsTable{"job001": tab}
	f.mu.Unlock()
	resp, b = c.do("GET", "/v1/jobs/job001/stats", "")
	var d StatsDoc
	if err := json.Unmarshal(b, &d); err != nil || resp.StatusCode != 200 || len(d.Rows) != 4 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	if r := d.Rows[0]; r.Region != "a" || r.Op != "mean" || r.Value == nil || *r.Value != 2.5 || r.Count != 1 {
		t.Errorf("row %+v", r)
	}
	if r := d.Rows[2]; r.Region != "b" || r.Value != nil || r.Count != 0 || !bytes.Contains(b, []byte(`"value":null`)) {
		t.Errorf("empty region row %+v", r)
	}
	// A job without statistics, a region named as the statistics file.
	c.do("POST", "/v1/jobs", goodJob)
	if resp, b := c.do("GET", "/v1/jobs/job002/stats", ""); resp.StatusCode != 404 {
		t.Errorf("job without statistics: %d %s", resp.StatusCode, b)
	}
	resp, b = c.do("POST", "/v1/jobs", `{"dataset": "sst", "regions": [{"name": "stats", "bbox": [0, 0, 1, 1]}], "statistics": {}}`)
	if resp.StatusCode != 400 || !bytes.Contains(b, []byte(`"field":"regions[0].name"`)) {
		t.Errorf("region named stats: %d %s", resp.StatusCode, b)
	}
	resp, b = c.do("POST", "/v1/jobs", `{"dataset": "sst", "regions": [{"name": "a", "bbox": [0, 0, 1, 1]}], "statistics": {"ops": ["median"]}}`)
	if resp.StatusCode != 400 || !bytes.Contains(b, []byte(`"field":"statistics.ops[0]"`)) {
		t.Errorf("unknown op: %d %s", resp.StatusCode, b)
	}
}

func TestIdempotencyKey(t *testing.T) {
	c, _ := setup(t)
	r1, b1 := c.do("POST", "/v1/jobs", goodJob, "Idempotency-Key", "abc-1")
	r2, b2 := c.do("POST", "/v1/jobs", goodJob, "Idempotency-Key", "abc-1")
	if r1.StatusCode != 201 || r2.StatusCode != 200 || r2.Header.Get("Idempotent-Replayed") != "true" || r1.Header.Get("Location") != r2.Header.Get("Location") {
		t.Fatalf("%d %d %s %s", r1.StatusCode, r2.StatusCode, b1, b2)
	}
	r3, b3 := c.do("POST", "/v1/jobs", goodJob, "Idempotency-Key", "bad key with spaces")
	if r3.StatusCode != 400 || !bytes.Contains(b3, []byte(`"field":"Idempotency-Key"`)) {
		t.Fatalf("%d %s", r3.StatusCode, b3)
	}
}

func TestBadRequests(t *testing.T) {
	c, f := setup(t)
	big := `{"dataset": "sst", "regions": [` + strings.Repeat(`{"name": "x", "bbox": [0, 0, 1, 1]},`, 200) + `{}]}`
	cases := []struct {
		body   string
		status int
		field  string
		code   string
	}{
		{``, 400, "", "invalid"},
		{`{`, 400, "", "invalid"},
		{`[]`, 400, "", "invalid"},
		{`{"dataset": "sst"} {"x": 1}`, 400, "", "invalid"},
		{`{"dataset": "nope", "regions": [{"name": "a", "bbox": [0, 0, 1, 1]}]}`, 400, "dataset", "invalid"},
		{`{"dataset": "sst", "regions": []}`, 400, "regions", "invalid"},
		{`{"dataset": "sst", "regions": [{"name": "a", "bbox": [0, 0, 1]}]}`, 400, "regions[0].bbox", "invalid"},
		{`{"dataset": "sst", "regions": [{"name": "a", "bbox": [0, 10, 1, 5]}]}`, 400, "regions[0].bbox", "invalid"},
		{`{"dataset": "sst", "regions": [{"name": "a", "bbox": [0, 0, 1, 1]}, {"name": "a", "bbox": [0, 0, 1, 1]}]}`, 400, "regions[1].name", "invalid"},
		{`{"dataset": "sst", "regions": [{"name": "../a", "bbox": [0, 0, 1, 1]}]}`, 400, "regions[0].name", "invalid"},
		{`{"dataset": "sst", "regions": [{"name": "a", "bbox": ["x", 0, 1, 1]}]}`, 400, "regions.bbox", "invalid"},
		{`{"dataset": "sst", "colour": "red"}`, 400, "colour", "invalid"},
		{`{"dataset": "sst", "regions": [{"name": "a", "bbox": [0, 0, 1, 1]}], "output": {"format": "grib"}}`, 400, "output.format", "invalid"},
		{`{"dataset": "sst", "regions": [{"name": "a", "bbox": [0, 0, 1, 1]}], "select": "nearest"}`, 400, "select", "invalid"},
		{`{"dataset": "sst", "regions": [{"name": "a", "geometry": {"type": "Polygon", "coordinates": [[[0,0],[9,0],[9,9],[0,9],[0,0]],[[5,5],[15,5],[15,8],[5,8],[5,5]]]}}]}`, 400, "regions[0].geometry", "invalid"},
		{big, 413, "", "too_large"},
	}
	for _, tc := range cases {
		resp, body := c.do("POST", "/v1/jobs", tc.body)
		var p Problem
		json.Unmarshal(body, &p)
		if resp.StatusCode != tc.status || p.Field != tc.field || p.Code != tc.code || resp.Header.Get("Content-Type") != "application/problem+json" || p.Detail == "" {
			t.Errorf("%.60s: got %d %s", tc.body, resp.StatusCode, body)
		}
	}
	f.busy = true
	resp, body := c.do("POST", "/v1/jobs", goodJob)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "2" || resp.Header.Get("RateLimit-Policy") != `"queue";q=10;qu="concurrent-requests"` ||
		resp.Header.Get("RateLimit") != `"queue";r=0;t=2` {
		t.Errorf("busy: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	f.closing = true
	resp, _ = c.do("POST", "/v1/jobs", goodJob)
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Errorf("closing: %d", resp.StatusCode)
	}
	resp, _ = c.do("GET", "/readyz", "")
	if resp.StatusCode != 503 {
		t.Errorf("readyz while closing: %d", resp.StatusCode)
	}
	for _, q := range []string{"?limit=0", "?limit=101", "?limit=x", "?status=done", "?status=running,bogus", "?cursor=../x"} {
		resp, body := c.do("GET", "/v1/jobs"+q, "")
		if resp.StatusCode != 400 || !bytes.Contains(body, []byte(`"field"`)) {
			t.Errorf("%s: %d %s", q, resp.StatusCode, body)
		}
	}
	for _, p := range []string{"/v1/jobs/nope", "/v1/jobs/nope/manifest.json", "/v1/jobs/nope/files/a.nc", "/v1/datasets/nope", "/v1/nothing"} {
		resp, body := c.do("GET", p, "")
		if resp.StatusCode != 404 || !bytes.Contains(body, []byte(`"not_found"`)) {
			t.Errorf("%s: %d %s", p, resp.StatusCode, body)
		}
	}
	resp, _ = c.do("PUT", "/v1/jobs", "")
	if resp.StatusCode != 405 {
		t.Errorf("PUT: %d", resp.StatusCode)
	}
}

func TestListPages(t *testing.T) {
	c, _ := setup(t)
	for range 5 {
		c.do("POST", "/v1/jobs", goodJob)
	}
	c.do("DELETE", "/v1/jobs/job002", "")
	var seen []string
	next := "/v1/jobs?limit=2"
	for next != "" {
		resp, body := c.do("GET", next, "")
		if resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
		var l JobList
		json.Unmarshal(body, &l)
		for _, j := range l.Jobs {
			if j.Regions != nil {
				t.Fatal("list shows regions")
			}
			seen = append(seen, j.ID)
		}
		next = ""
		for _, ln := range l.Links {
			if ln.Rel == "next" {
				next = ln.Href
			}
		}
	}
	if strings.Join(seen, ",") != "job005,job004,job003,job002,job001" {
		t.Fatalf("pages: %v", seen)
	}
	_, body := c.do("GET", "/v1/jobs?status=dismissed", "")
	var l JobList
	json.Unmarshal(body, &l)
	if len(l.Jobs) != 1 || l.Jobs[0].ID != "job002" {
		t.Fatalf("filter: %s", body)
	}
}

func TestDownload(t *testing.T) {
	c, f := setup(t)
	c.do("POST", "/v1/jobs", goodJob)
	data := []byte("0123456789abcdef")
	os.MkdirAll(filepath.Join(f.dir, "benguela"), 0o755)
	os.WriteFile(filepath.Join(f.dir, "benguela", "a.nc"), data, 0o644)
	sha := "9f9f5111f7b27a781f1f1ddde5ebc2dd2b796bfc7365c9c28b548e564176929f"
	f.jobs["job001"].Status = jobs.Successful
	f.jobs["job001"].Regions[0].Files = []jobs.File{{Name: "benguela/a.nc", Size: 16, Sha256: sha, Md5: "4032af8d61035123906e58e067140cc5"}}
	_, body := c.do("GET", "/v1/jobs/job001", "")
	if !bytes.Contains(body, []byte(`"href":"/v1/jobs/job001/files/benguela/a.nc"`)) {
		t.Fatalf("%s", body)
	}
	resp, body := c.do("GET", "/v1/jobs/job001/files/benguela/a.nc", "")
	if resp.StatusCode != 200 || !bytes.Equal(body, data) || resp.Header.Get("ETag") != `"`+sha+`"` ||
		resp.Header.Get("Content-Length") != "16" || resp.Header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("%d %v %q", resp.StatusCode, resp.Header, body)
	}
	if d := resp.Header.Get("Repr-Digest"); d != "sha-256=:n59REfeyengfHx3d5evC3St5a/xzZcnCi1SOVkF2kp8=:" {
		t.Errorf("Repr-Digest %q", d)
	}
	resp, body = c.do("GET", "/v1/jobs/job001/files/benguela/a.nc", "", "Range", "bytes=10-")
	if resp.StatusCode != 206 || string(body) != "abcdef" || resp.Header.Get("Content-Range") != "bytes 10-15/16" {
		t.Fatalf("range: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	resp, _ = c.do("GET", "/v1/jobs/job001/files/benguela/a.nc", "", "If-None-Match", `"`+sha+`"`)
	if resp.StatusCode != 304 {
		t.Fatalf("If-None-Match: %d", resp.StatusCode)
	}
	resp, body = c.do("GET", "/v1/jobs/job001/files/benguela/a.nc", "", "Range", "bytes=100-")
	if resp.StatusCode != 416 || resp.Header.Get("Content-Type") != "application/problem+json" || resp.Header.Get("Content-Range") != "bytes */16" ||
		!bytes.Contains(body, []byte(`"field":"Range"`)) || !bytes.Contains(body, []byte(`outside the file's 16 bytes`)) {
		t.Fatalf("bad range: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	for _, p := range []string{"../../etc/passwd", "benguela/../benguela/a.nc", "%2e%2e/x", "b.nc"} {
		resp, _ := c.do("GET", "/v1/jobs/job001/files/"+p, "")
		if resp.StatusCode != 404 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	_, body = c.do("GET", "/v1/jobs/job001/manifest.json", "")
	if !bytes.Contains(body, []byte(sha)) || !bytes.Contains(body, []byte(`"region":"benguela"`)) {
		t.Fatalf("manifest %s", body)
	}
}

func TestDatasetsHealthMetrics(t *testing.T) {
	c, _ := setup(t)
	for _, p := range []string{"/v1/datasets", "/v1/datasets/sst", "/healthz", "/readyz", "/v1/openapi.json"} {
		resp, body := c.do("GET", p, "")
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d %s", p, resp.StatusCode, body)
		}
	}
	resp, body := c.do("GET", "/metrics", "")
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("subsetd_http_requests_total")) {
		t.Errorf("metrics: %d", resp.StatusCode)
	}
	resp, _ = c.do("GET", "/healthz", "", "X-Request-Id", "abc.123")
	if resp.Header.Get("X-Request-Id") != "abc.123" {
		t.Errorf("request id not echoed")
	}
}

// The dataset documents are built from the catalog's values field by field:
// their bytes on the wire are the contract (field order, omitted fields,
// "size" of a dimension, west/south/east/north of an extent).
func TestDatasetDocumentsOnTheWire(t *testing.T) {
	c, _ := setup(t)
	for path, want := range map[string]string{
		"/v1/datasets/sst": `{"id":"sst","kind":"file","detected_kind":"file","title":"SST","license":"CC-BY-4.0","file_count":1,"error_count":0,"size":10,` +
			`"files":[{"name":"sst.nc","size":10,"modified":"2024-05-06T07:08:09Z","format":"netcdf4","bbox":[0,-10,10,10],` +
			`"time":{"start":"2000-01-01T00:00:00Z","end":"2000-01-02T00:00:00Z","steps":2,"units":"days since 2000-01-01","calendar":"standard"},"variables":["lat","sst"]}],` +
			`"dimensions":[{"name":"lat","size":4}],"variables":[{"name":"sst","type":"float","dimensions":["lat"],"units":"K"}],` +
			`"extent":{"west":0,"south":-10,"east":10,"north":10},` +
			`"time":{"start":"2000-01-01","end":"2000-01-02","steps":2,"units":"days since 2000-01-01","calendar":"standard"},"scanned_at":"2025-01-01T00:00:00Z",` +
			`"links":[{"rel":"self","href":"/v1/datasets/sst","type":"application/json"},{"rel":"files","href":"/v1/datasets/sst/files","type":"application/json","title":"the files, by place and time"},` +
			`{"rel":"index","href":"/v1/datasets/sst/index","type":"application/json","title":"the state of its indexing"},` +
			`{"rel":"reindex","href":"/v1/datasets/sst/reindex","type":"application/json","title":"POST: index its files again"},` +
			`{"rel":"jobs","href":"/v1/jobs?dataset=sst","type":"application/json","title":"jobs on this dataset"}]}`,
		"/v1/datasets/sst/index": `{"dataset":"sst","status":"idle","scanned_at":"2025-01-01T00:00:00Z","last_scan":{"scope":"dataset",` +
			`"started":"2025-01-01T00:00:00Z","finished":"2025-01-01T00:00:01Z","files":3,"new":1,"changed":0,"deleted":0,"skipped":2,"failed":1,` +
			`"failures":[{"name":"sst/bad.nc","error":"NetCDF: Unknown file format"}]},` +
			`"links":[{"rel":"self","href":"/v1/datasets/sst/index","type":"application/json"},{"rel":"dataset","href":"/v1/datasets/sst","type":"application/json"}]}`,
		"/v1/datasets/sst/files?limit=2": `{"dataset":"sst","total":3,"offset":0,"limit":2,"files":[{"name":"bad.nc","size":3,"modified":"2024-05-06T07:08:09Z","error":"NetCDF: Unknown file format"},` +
			`{"name":"f1.nc","size":10,"modified":"2024-05-06T07:08:09Z","format":"netcdf4","bbox":[0,-10,10,10],` +
			`"time":{"start":"2000-01-01T00:00:00Z","end":"2000-01-02T00:00:00Z","steps":2,"units":"days since 2000-01-01","calendar":"standard"},"variables":["lat","sst"]}],` +
			`"links":[{"rel":"self","href":"/v1/datasets/sst/files?limit=2","type":"application/json"},{"rel":"dataset","href":"/v1/datasets/sst","type":"application/json"},` +
			`{"rel":"next","href":"/v1/datasets/sst/files?limit=2&offset=2","type":"application/json"}]}`,
	} {
		resp, body := c.do("GET", path, "")
		if got := strings.TrimSpace(string(body)); resp.StatusCode != 200 || got != want {
			t.Errorf("GET %s: %d\n got %s\nwant %s", path, resp.StatusCode, got, want)
		}
	}
}

// Every route is documented and every documented operation is routed.
func TestOpenAPICoversRoutes(t *testing.T) {
	c, _ := setup(t)
	h := New(&fake{}, Options{Log: zerolog.Nop(), Registry: prometheus.NewRegistry()}).(chi.Routes)
	var routes []string
	chi.Walk(h, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		route = cmp.Or(strings.TrimSuffix(route, "/"), "/")
		route = strings.Replace(route, "/*", "/{name}", 1)
		routes = append(routes, method+" "+route)
		return nil
	})
	sort.Strings(routes)
	if got, want := strings.Join(routes, "\n"), strings.Join(c.doc.Operations(), "\n"); got != want {
		t.Fatalf("routes:\n%s\n\ndocumented:\n%s", got, want)
	}
}

func TestRegionSets(t *testing.T) {
	c, _ := setup(t)
	resp, body := c.do("GET", "/v1/regions", "")
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"ref":"africa/benguela_current"`)) {
		t.Errorf("/v1/regions: %d %s", resp.StatusCode, body)
	}
	resp, body = c.do("GET", "/v1/regions/africa", "")
	var fc struct {
		Type     string            `json:"type"`
		Features []json.RawMessage `json:"features"`
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/geo+json" || json.Unmarshal(body, &fc) != nil || fc.Type != "FeatureCollection" || len(fc.Features) < 13 {
		t.Errorf("/v1/regions/africa: %d %s %.200s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, body = c.do("GET", "/v1/regions/mars", "")
	if resp.StatusCode != 404 || !bytes.Contains(body, []byte("no region set mars")) {
		t.Errorf("/v1/regions/mars: %d %s", resp.StatusCode, body)
	}
}

func TestDatasetFilesAndReindex(t *testing.T) {
	c, f := setup(t)
	resp, body := c.do("GET", "/v1/datasets/sst/files?bbox=-10,-5,20,5&time=2000-01-01/2000-01-01T12:00&limit=2&offset=0", "")
	var page FilesDoc
	if resp.StatusCode != 200 || json.Unmarshal(body, &page) != nil || len(page.Files) != 2 || page.Total != 3 {
		t.Fatalf("files: %d %s", resp.StatusCode, body)
	}
	q := f.lastQuery
	if q.BBox == nil || q.BBox.West != -10 || q.Start == nil || !q.Start.Equal(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)) ||
		!q.End.Equal(time.Date(2000, 1, 1, 12, 0, 59, 0, time.UTC)) || q.Limit != 2 {
		t.Fatalf("query %+v", q)
	}
	next := ""
	for _, l := range page.Links {
		if l.Rel == "next" {
			next = l.Href
		}
	}
	if !strings.Contains(next, "offset=2") || !strings.Contains(next, "bbox=") {
		t.Fatalf("next link %q", next)
	}
	// An end given to the minute includes that minute; a day alone is
	// that day.
	c.do("GET", "/v1/datasets/sst/files?time=2000-01-02", "")
	if q := f.lastQuery; !q.Start.Equal(time.Date(2000, 1, 2, 0, 0, 0, 0, time.UTC)) || !q.End.Equal(time.Date(2000, 1, 2, 23, 59, 59, 0, time.UTC)) {
		t.Fatalf("one day: %v %v", q.Start, q.End)
	}
	for query, field := range map[string]string{
		"bbox=1,2,3":           "bbox",
		"bbox=0,50,1,10":       "bbox",
		"bbox=a,b,c,d":         "bbox",
		"time=2020-13-01/":     "time",
		"time=2020-02/2020-01": "time",
		"time=/":               "time",
		"limit=0":              "limit",
		"limit=5000":           "limit",
		"offset=-1":            "offset",
		"offset=x":             "offset",
	} {
		resp, body := c.do("GET", "/v1/datasets/sst/files?"+query, "")
		var p Problem
		json.Unmarshal(body, &p)
		if resp.StatusCode != 400 || p.Field != field {
			t.Errorf("%s: %d %s", query, resp.StatusCode, body)
		}
	}
	if resp, _ := c.do("GET", "/v1/datasets/nope/files", ""); resp.StatusCode != 404 {
		t.Errorf("unknown dataset: %d", resp.StatusCode)
	}
	resp, body = c.do("POST", "/v1/datasets/sst/reindex?force=true", "")
	if resp.StatusCode != 202 || resp.Header.Get("Location") != "/v1/datasets/sst/index" || !bytes.Contains(body, []byte(`"status":"queued"`)) {
		t.Fatalf("reindex: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	if resp, _ := c.do("POST", "/v1/datasets/sst/reindex?force=maybe", ""); resp.StatusCode != 400 {
		t.Errorf("bad force: %d", resp.StatusCode)
	}
	if resp, _ := c.do("POST", "/v1/datasets/nope/reindex", ""); resp.StatusCode != 404 {
		t.Errorf("reindex unknown: %d", resp.StatusCode)
	}
	resp, body = c.do("GET", "/v1/datasets/sst/index", "")
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"failures":[{"name":"sst/bad.nc"`)) {
		t.Fatalf("index: %d %s", resp.StatusCode, body)
	}
	resp, body = c.do("GET", "/v1/datasets/fresh", "")
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("not indexed: %d %s", resp.StatusCode, body)
	}
	resp, body = c.do("GET", "/v1/datasets", "")
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"kind":"file"`)) {
		t.Fatalf("list: %d %s", resp.StatusCode, body)
	}
}

// The list is written around cached documents, and a job's document from
// the cache: they must read exactly as encoding/json writes a JobList and a
// JobDoc, twice in a row (the second from the cache).
func TestListIsAJobListAsEncodingJSONWritesIt(t *testing.T) {
	c, f := setup(t)
	for range 3 {
		c.do("POST", "/v1/jobs", goodJob)
	}
	c.do("DELETE", "/v1/jobs/job002", "") // final: its document is cached
	list, _ := f.List(context.Background(), jobs.ListParams{Limit: 2})
	want := JobList{Links: []Link{{Rel: "self", Href: "/v1/jobs?limit=2", Type: "application/json"},
		{Rel: "next", Href: "/v1/jobs?cursor=job002&limit=2", Type: "application/json"}}}
	for _, j := range list {
		want.Jobs = append(want.Jobs, jobDoc(j, false, 24*time.Hour, urls{})) // setup's retention
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(want)
	j, _ := f.Get(context.Background(), "job002")
	var one bytes.Buffer
	enc = json.NewEncoder(&one)
	enc.SetEscapeHTML(false)
	enc.Encode(jobDoc(j, true, 24*time.Hour, urls{}))
	for round := range 2 {
		_, body := c.do("GET", "/v1/jobs?limit=2", "")
		if !bytes.Equal(body, b.Bytes()) {
			t.Fatalf("round %d:\n%s\nwant\n%s", round, body, b.Bytes())
		}
		if _, body = c.do("GET", "/v1/jobs/job002", ""); !bytes.Equal(body, one.Bytes()) {
			t.Fatalf("round %d: GET job002\n%s\nwant\n%s", round, body, one.Bytes())
		}
	}
}

// A download slower than the server's write timeout goes through while the
// client keeps reading; the same file served without the deadline moving
// is cut off (the control: the test's client is slow enough to matter).
func TestDownloadOutlivesWriteTimeout(t *testing.T) {
	f := &fake{jobs: map[string]*jobs.Job{}, keys: map[string]string{}, dir: t.TempDir()}
	const timeout = time.Second
	h := New(f, Options{Retention: time.Hour, Log: zerolog.Nop(), WriteTimeout: timeout, Auth: AuthNone})
	data := bytes.Repeat([]byte("0123456789abcdef"), 4<<20/16)
	os.WriteFile(filepath.Join(f.dir, "a.nc"), data, 0o644)
	mux := http.NewServeMux()
	mux.HandleFunc("/plain", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, filepath.Join(f.dir, "a.nc")) })
	mux.Handle("/", h)
	srv := httptest.NewUnstartedServer(mux)
	srv.Listener = smallBuffers{srv.Listener}
	srv.Config.WriteTimeout = timeout
	srv.Start()
	t.Cleanup(srv.Close)
	if _, _, err := f.Submit(context.Background(), &jobs.Spec{Dataset: "sst", Regions: []regions.Fixed{{Name: "a", BBox: []float64{0, 0, 1, 1}}}}, jobs.Submitter{}, ""); err != nil {
		t.Fatal(err)
	}
	f.jobs["job001"].Status = jobs.Successful
	f.jobs["job001"].Regions[0].Files = []jobs.File{{Name: "a.nc", Size: int64(len(data))}}
	slowGet := func(url string) (int, error) {
		resp, err := http.Get(url)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		n, buf := 0, make([]byte, 16<<10)
		for {
			time.Sleep(10 * time.Millisecond)
			k, err := io.ReadFull(resp.Body, buf)
			n += k
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return n, nil
			}
			if err != nil {
				return n, err
			}
		}
	}
	t0 := time.Now()
	n, err := slowGet(srv.URL + "/v1/jobs/job001/files/a.nc")
	if err != nil || n != len(data) {
		t.Fatalf("download: %d of %d bytes in %v: %v", n, len(data), time.Since(t0), err)
	}
	if d := time.Since(t0); d < 2*timeout {
		t.Logf("the download took %v only: the test does not show much", d)
	}
	if n, err := slowGet(srv.URL + "/plain"); err == nil && n == len(data) {
		t.Fatalf("control: the plain download of %d bytes was not cut by the write timeout", n)
	}
}

// smallBuffers gives accepted connections a small send buffer, so that the
// server's writes wait for a slow client rather than fill the kernel's.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(16 << 10)
	}
	return c, err
}

// Estimate gives each region one file of 10 x 20 floats, or, for a region
// named "dry", none (empty).
func (f *fake) Estimate(ctx context.Context, spec *jobs.Spec, by jobs.Submitter) (*jobs.Estimate, error) {
	if spec.Dataset != "sst" {
		return nil, errs.F(errs.Invalid, "dataset", "unknown dataset %q", spec.Dataset)
	}
	e := &jobs.Estimate{Kind: "file", Workers: 2, Throughput: jobs.Throughput{BytesPerSecond: 1e6, Overhead: 0.1}}
	for _, r := range spec.Regions {
		re := jobs.RegionEstimate{Name: r.OutputName(), Status: jobs.Empty, Message: "no cell", InputFiles: []string{"sst.nc"}}
		if r.OutputName() != "dry" {
			box := []engine.IndexRange{{Dimension: "lat", Start: 5, Count: 10, Stride: 1}, {Dimension: "lon", Start: 7, Count: 20, Stride: 1}}
			re.Status, re.Message = jobs.Successful, ""
			re.Files = []engine.OutFile{{Name: re.Name + ".nc", Source: "sst.nc", Shape: map[string]int{"lat": 10, "lon": 20}, ValueBytes: 800,
				Variables: []engine.OutVar{{Name: "sst", Dtype: "float", Dimensions: []string{"lat", "lon"}, Shape: []int{10, 20}}},
				Estimate:  &engine.FileEstimate{Bytes: 300, InputBytes: 4096, Box: box}}}
			re.InputBytes, re.ValueBytes, re.Bytes, re.Seconds = 4096, 800, 300, 0.1008
		}
		e.Regions = append(e.Regions, re)
		e.InputBytes += re.InputBytes
		e.ValueBytes += re.ValueBytes
		e.Bytes += re.Bytes
		e.Files += len(re.Files)
	}
	e.Seconds = 0.2
	return e, nil
}
