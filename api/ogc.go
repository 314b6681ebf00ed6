package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/jobs"
)

// OGC API - Processes - Part 1: Core (OGC 18-062r2), JSON encoding: the
// standard's face of the same jobs. One process, "subset", whose inputs
// are the members of a POST /v1/jobs request, described from the
// JobRequest schema of the OpenAPI document; its jobs are those of /v1
// (GET /jobs/{id} and /v1/jobs/{id} are one job, behind the same loader
// and its ownership rule). Execution is asynchronous only.

// Conformance classes declared at /conformance.
var ogcConformance = []string{
	"http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core",
	"http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/json",
	"http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/ogc-process-description",
	"http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/job-list",
	"http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/dismiss",
}

// Link relations and exception types of the standard.
const (
	ogcRel            = "http://www.opengis.net/def/rel/ogc/1.0/"
	relConformance    = ogcRel + "conformance"
	relProcesses      = ogcRel + "processes"
	relJobList        = ogcRel + "job-list"
	relExecute        = ogcRel + "execute"
	relResults        = ogcRel + "results"
	ogcExc            = "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/"
	excNoSuchProcess  = ogcExc + "no-such-process"
	excNoSuchJob      = ogcExc + "no-such-job"
	excResultNotReady = ogcExc + "result-not-ready"
)

// SubsetProcess is the id of the one process.
const SubsetProcess = "subset"

// subsetVersion is the process's version: that of the OpenAPI document.
func subsetVersion() string {
	var d struct {
		Info struct{ Version string }
	}
	_ = json.Unmarshal(openAPI, &d)
	return d.Info.Version
}

// LandingPage is GET /.
type LandingPage struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Links       []Link `json:"links"`
}

// Conformance is GET /conformance.
type Conformance struct {
	ConformsTo []string `json:"conformsTo"`
}

// ProcessSummary is a process in GET /processes.
type ProcessSummary struct {
	ID                 string   `json:"id"`
	Version            string   `json:"version"`
	Title              string   `json:"title"`
	Description        string   `json:"description"`
	Keywords           []string `json:"keywords"`
	JobControlOptions  []string `json:"jobControlOptions"`
	OutputTransmission []string `json:"outputTransmission"`
	Links              []Link   `json:"links"`
}

// ProcessList is GET /processes.
type ProcessList struct {
	Processes []ProcessSummary `json:"processes"`
	Links     []Link           `json:"links"`
}

// Process is GET /processes/{id}: the summary with inputs and outputs.
type Process struct {
	ProcessSummary
	Inputs  map[string]ParamDescription `json:"inputs"`
	Outputs map[string]ParamDescription `json:"outputs"`
}

// ParamDescription describes an input or an output.
type ParamDescription struct {
	Title       string         `json:"title"`
	Description string         `json:"description,omitempty"`
	MinOccurs   *int           `json:"minOccurs,omitempty"`
	MaxOccurs   *int           `json:"maxOccurs,omitempty"`
	Schema      map[string]any `json:"schema"`
}

// StatusInfo is a job as the standard shows it (statusInfo.yaml of 1.0,
// with the members its next edition requires: id, processingEntityType).
type StatusInfo struct {
	JobID                string      `json:"jobID"`
	ID                   string      `json:"id"`
	ProcessID            string      `json:"processID"`
	Type                 string      `json:"type"`
	ProcessingEntityType string      `json:"processingEntityType"`
	Status               jobs.Status `json:"status"`
	Message              string      `json:"message,omitempty"`
	Created              time.Time   `json:"created"`
	Started              *time.Time  `json:"started,omitempty"`
	Finished             *time.Time  `json:"finished,omitempty"`
	Updated              time.Time   `json:"updated"`
	Progress             int         `json:"progress"`
	Links                []Link      `json:"links"`
}

// StatusList is GET /jobs.
type StatusList struct {
	Jobs  []StatusInfo `json:"jobs"`
	Links []Link       `json:"links"`
}

// routesOGC adds the routes of the standard to r.
func (h *handler) routesOGC(r chi.Router) {
	r.Group(func(r chi.Router) {
		r.Use(h.rateLimit)
		r.Get("/", h.landing)
		r.Get("/conformance", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, Conformance{ConformsTo: ogcConformance})
		})
		r.Get("/processes", h.processes)
		r.Route("/processes/{process}", func(r chi.Router) {
			r.Use(problemTypes(map[errs.Code]string{errs.NotFound: excNoSuchProcess}), knownProcess)
			r.Get("/", h.process)
			r.With(requireKey).Post("/execution", h.execute)
		})
		r.With(requireKey).Get("/jobs", h.statusList)
		r.Route("/jobs/{id}", func(r chi.Router) {
			r.Use(problemTypes(map[errs.Code]string{errs.NotFound: excNoSuchJob}), h.jobCtx)
			r.Get("/", h.statusInfo)
			r.Delete("/", h.dismiss)
			r.Get("/results", h.results)
		})
	})
}

// knownProcess answers 404 (no-such-process) for any process but subset.
func knownProcess(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id := chi.URLParam(r, "process"); id != SubsetProcess {
			writeError(w, r, errs.E(errs.NotFound, "no process %q: this server has one, %q", id, SubsetProcess))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (h *handler) landing(w http.ResponseWriter, r *http.Request) {
	j := "application/json"
	writeJSON(w, http.StatusOK, LandingPage{
		Title:       "subsetd",
		Description: "Cuts regions of interest out of NetCDF/HDF5 datasets: one NetCDF file per region. OGC API - Processes (process \"subset\") and its own API under /v1.",
		Links: []Link{
			{Rel: "self", Href: h.u.to("/"), Type: j, Title: "this document"},
			{Rel: "service-desc", Href: h.u.to("/v1/openapi.json"), Type: "application/vnd.oai.openapi+json;version=3.1", Title: "the API definition"},
			{Rel: relConformance, Href: h.u.to("/conformance"), Type: j, Title: "the conformance classes this server implements"},
			{Rel: relProcesses, Href: h.u.to("/processes"), Type: j, Title: "the processes"},
			{Rel: relJobList, Href: h.u.to("/jobs"), Type: j, Title: "the jobs"},
			{Rel: "data", Href: h.u.to("/v1/datasets"), Type: j, Title: "the datasets"},
			{Rel: "regions", Href: h.u.to("/v1/regions"), Type: j, Title: "the named region sets"},
		},
	})
}

func (h *handler) processSummary() ProcessSummary {
	self := h.u.to("/processes/" + SubsetProcess)
	return ProcessSummary{ID: SubsetProcess, Version: subsetVersion(), Title: "Cut regions out of a dataset",
		Description: "Cuts each region (a box, a GeoJSON polygon or point, or a named region) out of a dataset's files, over a time and vertical range, " +
			"and writes one CF NetCDF file per region (or their statistics). The inputs are the members of a POST /v1/jobs request.",
		Keywords: []string{"subset", "NetCDF", "HDF5", "CF", "region"}, JobControlOptions: []string{"async-execute", "dismiss"},
		OutputTransmission: []string{"reference"},
		Links: []Link{{Rel: "self", Href: self, Type: "application/json", Title: "the process description"},
			{Rel: relExecute, Href: self + "/execution", Type: "application/json", Title: "execute the process (POST)"}}}
}

func (h *handler) processes(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, ProcessList{Processes: []ProcessSummary{h.processSummary()},
		Links: []Link{{Rel: "self", Href: h.u.to("/processes"), Type: "application/json"}}})
}

func (h *handler) process(w http.ResponseWriter, r *http.Request) {
	in, err := processInputs()
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, Process{ProcessSummary: h.processSummary(), Inputs: in, Outputs: processOutputs()})
}

// processInputs describes one input per member of the JobRequest schema
// of the OpenAPI document (its references resolved in place): required
// members are needed once, the others optional.
var processInputs = sync.OnceValues(func() (map[string]ParamDescription, error) {
	var doc map[string]any
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		return nil, err
	}
	jr, ok := schemaRef(doc, "#/components/schemas/JobRequest")
	if !ok {
		return nil, errs.E(errs.Internal, "the OpenAPI document has no JobRequest schema")
	}
	required := map[string]bool{}
	req, _ := jr["required"].([]any)
	for _, r := range req {
		required[fmt.Sprint(r)] = true
	}
	props, _ := jr["properties"].(map[string]any)
	one, none := 1, 0
	out := map[string]ParamDescription{}
	for name, p := range props {
		s, _ := resolveRefs(doc, p, 0).(map[string]any)
		d := ParamDescription{Title: name, MinOccurs: &none, MaxOccurs: &one, Schema: s}
		if required[name] {
			d.MinOccurs = &one
		}
		if desc, ok := s["description"].(string); ok {
			d.Description = desc
		}
		out[name] = d
	}
	return out, nil
})

// processOutputs are the results of a subset job.
func processOutputs() map[string]ParamDescription {
	link := func(mt string) map[string]any {
		return map[string]any{"type": "string", "contentMediaType": mt}
	}
	return map[string]ParamDescription{
		"archive":    {Title: "archive", Description: "Every file of the job in one ZIP archive, named as the job names them.", Schema: link("application/zip")},
		"manifest":   {Title: "manifest", Description: "The files with their sizes and checksums.", Schema: link("application/json")},
		"sha256sums": {Title: "sha256sums", Description: "The checksums in sha256sum -c format, named as in the archive.", Schema: link("text/plain")},
		"regions": {Title: "regions", Description: "Each region's status and files (as the job document of /v1 lists them), in request order.",
			Schema: map[string]any{"type": "array", "items": map[string]any{"type": "object"}}},
	}
}

// schemaRef is the schema a local reference names.
func schemaRef(doc map[string]any, ref string) (map[string]any, bool) {
	var v any = doc
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		v = m[part]
	}
	m, ok := v.(map[string]any)
	return m, ok
}

// resolveRefs copies v with local $refs replaced by what they name; past
// a depth (a schema that refers to itself) a reference stays, made
// absolute to the served document.
func resolveRefs(doc map[string]any, v any, depth int) any {
	switch x := v.(type) {
	case map[string]any:
		if ref, ok := x["$ref"].(string); ok && strings.HasPrefix(ref, "#/") {
			if s, ok := schemaRef(doc, ref); ok && depth < 16 {
				return resolveRefs(doc, s, depth+1)
			}
			return map[string]any{"$ref": "/v1/openapi.json" + ref}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = resolveRefs(doc, e, depth)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = resolveRefs(doc, e, depth)
		}
		return out
	}
	return v
}

// execution is the body of POST /processes/subset/execution (execute.yaml).
type execution struct {
	Process  string          `json:"process,omitempty"`
	Inputs   json.RawMessage `json:"inputs"`
	Outputs  json.RawMessage `json:"outputs,omitempty"`
	Response string          `json:"response,omitempty"`
}

// execute runs the process: the inputs are decoded as a POST /v1/jobs
// body, strictly, and the job submitted as that one is. Execution is
// asynchronous whatever Prefer says (the process offers async-execute
// alone): 201, Location /jobs/{id}, the statusInfo.
func (h *handler) execute(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	if len(key) > MaxIdempotencyKey || strings.IndexFunc(key, func(c rune) bool { return c < 0x21 || c > 0x7e }) >= 0 {
		writeError(w, r, errs.F(errs.Invalid, "Idempotency-Key", "the key must be 1 to %d visible ASCII characters", MaxIdempotencyKey))
		return
	}
	var ex execution
	if err := decodeBody(w, r, h.opt.MaxBodyBytes, &ex); err != nil {
		writeError(w, r, err)
		return
	}
	if len(bytes.TrimSpace(ex.Inputs)) == 0 || bytes.Equal(bytes.TrimSpace(ex.Inputs), []byte("null")) {
		writeError(w, r, errs.F(errs.Invalid, "inputs", "an execution needs inputs: the members of a POST /v1/jobs request"))
		return
	}
	if ex.Response != "" && ex.Response != "document" {
		writeError(w, r, errs.F(errs.Invalid, "response", "response %q: this server answers with documents only", ex.Response))
		return
	}
	var req JobRequest
	if err := DecodeStrict(ex.Inputs, &req); err != nil {
		writeError(w, r, inInputs(err))
		return
	}
	if req.DryRun {
		writeError(w, r, errs.F(errs.Invalid, "inputs.dry_run", "a dry run is POST /v1/jobs with \"dry_run\": true; an execution runs the job"))
		return
	}
	c := callerOf(r.Context())
	by := jobs.Submitter{Owner: c.name, Quota: c.quota}
	spec, err := h.spec(&req, jobs.JobLimits(h.opt.MaxRegions, h.opt.MaxVertices, by))
	if err != nil {
		writeError(w, r, inInputs(err))
		return
	}
	j, created, err := h.b.Submit(r.Context(), spec, by, key)
	if err != nil {
		writeError(w, r, inInputs(err))
		return
	}
	zerolog.Ctx(r.Context()).UpdateContext(func(c zerolog.Context) zerolog.Context { return c.Str("job_id", j.ID) })
	if strings.Contains(strings.ToLower(r.Header.Get("Prefer")), "respond-async") {
		w.Header().Set("Preference-Applied", "respond-async")
	}
	w.Header().Set("Location", h.u.to("/jobs/"+j.ID))
	status := http.StatusCreated
	if !created {
		w.Header().Set("Idempotent-Replayed", "true")
		status = http.StatusOK
	}
	writeJSON(w, status, h.statusOf(j))
}

// inInputs names the fields of a request's errors under "inputs.".
func inInputs(err error) error {
	e, ok := err.(*errs.Error)
	if !ok || e.Field == "" || strings.HasPrefix(e.Field, "Idempotency-Key") {
		return err
	}
	c := *e
	c.Field = "inputs." + e.Field
	return &c
}

// statusOf is the statusInfo of a job. The statuses of subsetd are the
// standard's (accepted, running, successful, failed, dismissed).
func (h *handler) statusOf(j *jobs.Job) StatusInfo {
	self := h.u.to("/jobs/" + j.ID)
	s := StatusInfo{JobID: j.ID, ID: j.ID, ProcessID: SubsetProcess, Type: "process", ProcessingEntityType: "ogc-api-processes",
		Status: j.Status, Message: j.Message, Created: j.Created, Started: ptime(j.Started), Finished: ptime(j.Finished), Updated: j.Updated,
		Progress: j.Progress(), Links: []Link{{Rel: "self", Href: self, Type: "application/json", Title: "this status"}}}
	if j.Status == jobs.Successful {
		s.Links = append(s.Links, Link{Rel: relResults, Href: self + "/results", Type: "application/json", Title: "the results"})
	}
	s.Links = append(s.Links, Link{Rel: "related", Href: h.u.to("/v1/jobs/" + j.ID), Type: "application/json", Title: "the job as /v1 shows it: regions, files, events"})
	return s
}

func (h *handler) statusInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.statusOf(jobOf(r.Context())))
}

// statusList is GET /jobs: the caller's jobs (an admin's: everyone's) as
// GET /v1/jobs pages them; processID and type filter as the standard says
// (every job is of process subset, of type process).
func (h *handler) statusList(w http.ResponseWriter, r *http.Request) {
	p, err := listParams(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	none := false
	for _, id := range q["processID"] {
		none = none || id != SubsetProcess
	}
	for _, t := range q["type"] {
		none = none || t != "process"
	}
	var list []*jobs.Job
	if !none {
		if list, err = h.b.List(r.Context(), p); err != nil {
			writeError(w, r, err)
			return
		}
	}
	out := StatusList{Jobs: []StatusInfo{}, Links: h.pageLinks(r, "/jobs", p, list)}
	for _, j := range list {
		out.Jobs = append(out.Jobs, h.statusOf(j))
	}
	writeJSON(w, http.StatusOK, out)
}

// dismiss is DELETE /jobs/{id}: an active job is dismissed, a final one
// deleted with its files; either way the answer is its statusInfo,
// dismissed.
func (h *handler) dismiss(w http.ResponseWriter, r *http.Request) {
	was := jobOf(r.Context())
	j, deleted, err := h.b.Delete(r.Context(), was.ID)
	if err != nil {
		writeError(w, r, err)
		return
	}
	if deleted {
		gone := *was
		gone.Status, gone.Message, gone.Updated = jobs.Dismissed, "deleted with its files", time.Now().UTC()
		s := h.statusOf(&gone)
		s.Links = s.Links[:0]
		writeJSON(w, http.StatusOK, s)
		return
	}
	writeJSON(w, http.StatusOK, h.statusOf(j))
}

// results is GET /jobs/{id}/results of a successful job: the archive, the
// manifest and the checksums by reference, the regions by value.
func (h *handler) results(w http.ResponseWriter, r *http.Request) {
	j := jobOf(r.Context())
	switch j.Status {
	case jobs.Accepted, jobs.Running:
		r = r.WithContext(contextWithTypes(r, map[errs.Code]string{errs.NotFound: excResultNotReady}))
		writeError(w, r, errs.E(errs.NotFound, "job %s is %s: its results are not ready", j.ID, j.Status))
		return
	case jobs.Failed:
		writeError(w, r, errs.E(errs.Unreadable, "job %s failed: %s", j.ID, j.Message))
		return
	case jobs.Dismissed:
		writeError(w, r, errs.E(errs.Conflict, "job %s was dismissed: it has no results", j.ID))
		return
	}
	base := "/v1/jobs/" + j.ID
	ref := func(rel, path, mt string) Link {
		if s := h.u.signed(path); s != "" {
			return Link{Rel: rel, Href: s, Type: mt}
		}
		return Link{Rel: rel, Href: h.u.to(path), Type: mt}
	}
	regions := make([]RegionDoc, 0, len(j.Regions))
	for _, rg := range j.Regions {
		regions = append(regions, regionDoc(j.ID, rg, h.u))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"archive":    ref("enclosure", base+"/files.zip", "application/zip"),
		"manifest":   Link{Rel: "describedby", Href: h.u.to(base + "/manifest.json"), Type: "application/json"},
		"sha256sums": ref("describedby", base+"/sha256sums", "text/plain"),
		"regions":    map[string]any{"value": regions, "mediaType": "application/json"},
	})
}

// contextWithTypes is r's context with the problem types of types.
func contextWithTypes(r *http.Request, types map[errs.Code]string) context.Context {
	return context.WithValue(r.Context(), problemTypesKey{}, types)
}
