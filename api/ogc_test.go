package api

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/jobs"
)

// ogcSchemas checks documents against the schemas of OGC API - Processes
// (testdata/ogcapi-processes: the published 1.0 and the next edition, as
// JSON). What it checks is what the standard's requirements say of each
// document: the required members, their JSON types and enumerations,
// through allOf, oneOf/anyOf (one branch must hold), properties, items and
// additionalProperties.
type ogcSchemas struct {
	t   *testing.T
	set string // "1.0" or "main"
}

func (o ogcSchemas) load(file string) map[string]any {
	o.t.Helper()
	b, err := os.ReadFile(path.Join("testdata/ogcapi-processes", o.set, strings.TrimSuffix(file, ".yaml")+".json"))
	if err != nil {
		o.t.Fatal(err)
	}
	var s map[string]any
	if err := json.Unmarshal(b, &s); err != nil {
		o.t.Fatal(err)
	}
	return s
}

// check validates v against file (relative to the set, e.g.
// "processes-core/statusInfo.yaml").
func (o ogcSchemas) check(file string, v any) {
	o.t.Helper()
	var roundTrip any // the document as JSON gives it
	b, _ := json.Marshal(v)
	_ = json.Unmarshal(b, &roundTrip)
	if err := o.validate(path.Dir(file), o.load(file), roundTrip, "$"); err != nil {
		o.t.Errorf("%s %s: %v\n%s", o.set, file, err, b)
	}
}

func (o ogcSchemas) validate(dir string, s map[string]any, v any, at string) error {
	if ref, ok := s["$ref"].(string); ok {
		f := path.Join(dir, ref)
		return o.validate(path.Dir(f), o.load(f), v, at)
	}
	for _, sub := range list(s["allOf"]) {
		if err := o.validate(dir, sub.(map[string]any), v, at); err != nil {
			return err
		}
	}
	for _, k := range []string{"oneOf", "anyOf"} {
		alts := list(s[k])
		if len(alts) == 0 {
			continue
		}
		var errs []string
		for _, sub := range alts {
			err := o.validate(dir, sub.(map[string]any), v, at)
			if err == nil {
				errs = nil
				break
			}
			errs = append(errs, err.Error())
		}
		if errs != nil {
			return fmt.Errorf("%s: no branch of %s holds: %s", at, k, strings.Join(errs, "; "))
		}
	}
	if t, ok := s["type"].(string); ok && !jsonIs(v, t) {
		return fmt.Errorf("%s: %s is not of type %s", at, short(v), t)
	}
	if enum := list(s["enum"]); enum != nil && !slices.ContainsFunc(enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) }) {
		return fmt.Errorf("%s: %v is not one of %v", at, v, enum)
	}
	if n, ok := v.(float64); ok {
		if min, ok := s["minimum"].(float64); ok && n < min {
			return fmt.Errorf("%s: %v < %v", at, n, min)
		}
		if max, ok := s["maximum"].(float64); ok && n > max {
			return fmt.Errorf("%s: %v > %v", at, n, max)
		}
	}
	switch x := v.(type) {
	case map[string]any:
		for _, r := range list(s["required"]) {
			if _, ok := x[r.(string)]; !ok {
				return fmt.Errorf("%s: required member %q is missing", at, r)
			}
		}
		props, _ := s["properties"].(map[string]any)
		for k, e := range x {
			if p, ok := props[k].(map[string]any); ok {
				// The next edition's schema.yaml describes feature
				// attributes (object schemas only), not the JSON Schema
				// of an input: an input's schema is checked against 1.0's.
				if k == "schema" && o.set == "main" {
					continue
				}
				if err := o.validate(dir, p, e, at+"."+k); err != nil {
					return err
				}
			} else if ap, ok := s["additionalProperties"].(map[string]any); ok && props[k] == nil {
				if err := o.validate(dir, ap, e, at+"."+k); err != nil {
					return err
				}
			}
		}
	case []any:
		if items, ok := s["items"].(map[string]any); ok {
			for i, e := range x {
				if err := o.validate(dir, items, e, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func list(v any) []any { l, _ := v.([]any); return l }

func jsonIs(v any, t string) bool {
	switch t {
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		n, ok := v.(float64)
		return ok && n == float64(int64(n))
	}
	return true
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 80 {
		return string(b[:80]) + "..."
	}
	return string(b)
}

// both checks v against the file of the 1.0 schemas and that of the next
// edition.
func both(t *testing.T, v1, vmain string, v any) {
	t.Helper()
	ogcSchemas{t, "1.0"}.check(v1, v)
	ogcSchemas{t, "main"}.check(vmain, v)
}

func getJSON(t *testing.T, c *client, p string, want int, v any, hdr ...string) {
	t.Helper()
	resp, body := c.do("GET", p, "", hdr...)
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d %s", p, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v %s", p, err, body)
	}
}

func hasLink(links []any, rel string) string {
	for _, l := range links {
		m := l.(map[string]any)
		if m["rel"] == rel {
			return m["href"].(string)
		}
	}
	return ""
}

func TestOGCDocuments(t *testing.T) {
	c, f := setup(t)
	var landing map[string]any
	getJSON(t, c, "/", 200, &landing)
	both(t, "landingPage.yaml", "common-core/landingPage.yaml", landing)
	links := list(landing["links"])
	for _, rel := range []string{"self", "service-desc", relConformance, relProcesses, relJobList, "data", "regions"} {
		href := hasLink(links, rel)
		if href == "" {
			t.Fatalf("landing page: no %s link: %v", rel, links)
		}
		if resp, body := c.do("GET", href, ""); resp.StatusCode != 200 {
			t.Errorf("%s link %s: %d %s", rel, href, resp.StatusCode, body)
		}
	}

	var conf map[string]any
	getJSON(t, c, "/conformance", 200, &conf)
	both(t, "confClasses.yaml", "common-core/confClasses.yaml", conf)
	for _, class := range []string{"core", "json", "ogc-process-description", "job-list", "dismiss"} {
		if !slices.Contains(list(conf["conformsTo"]), any("http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/"+class)) {
			t.Errorf("conformance class %s not declared: %v", class, conf)
		}
	}

	var procs map[string]any
	getJSON(t, c, "/processes", 200, &procs)
	both(t, "processList.yaml", "processes-core/processList.yaml", procs)
	summary := list(procs["processes"])[0].(map[string]any)
	if summary["id"] != "subset" || hasLink(list(summary["links"]), relExecute) != "/processes/subset/execution" {
		t.Fatalf("process summary %v", summary)
	}

	var proc map[string]any
	getJSON(t, c, "/processes/subset", 200, &proc)
	both(t, "process.yaml", "processes-core/process.yaml", proc)
	// The inputs are the members of JobRequest, with their schemas.
	var oa map[string]any
	json.Unmarshal(OpenAPI(), &oa)
	jr, _ := schemaRef(oa, "#/components/schemas/JobRequest")
	inputs := proc["inputs"].(map[string]any)
	var members, names []string
	for k := range jr["properties"].(map[string]any) {
		members = append(members, k)
	}
	for k := range inputs {
		names = append(names, k)
	}
	slices.Sort(members)
	slices.Sort(names)
	if !slices.Equal(members, names) || !slices.Contains(names, "notify") {
		t.Fatalf("inputs %v, JobRequest members %v", names, members)
	}
	for name, in := range inputs {
		in := in.(map[string]any)
		want := 0.0
		if slices.Contains(list(jr["required"]), any(name)) {
			want = 1
		}
		if in["minOccurs"] != want || strings.Contains(short(in["schema"]), `"$ref":"#`) {
			t.Errorf("input %s: %v", name, in)
		}
	}
	regions := inputs["regions"].(map[string]any)["schema"].(map[string]any)
	if regions["type"] != "array" || regions["items"].(map[string]any)["properties"].(map[string]any)["bbox"] == nil {
		t.Fatalf("regions input schema, resolved: %s", short(regions))
	}

	resp, body := c.do("GET", "/processes/nope", "")
	if resp.StatusCode != 404 || !strings.Contains(string(body), excNoSuchProcess) {
		t.Fatalf("/processes/nope: %d %s", resp.StatusCode, body)
	}

	// Execution: async, 201, Location /jobs/{id}; the same job as /v1.
	exec := `{"inputs": ` + goodJob + `}`
	resp, body = c.do("POST", "/processes/subset/execution", exec, "Prefer", "respond-async", "Content-Type", "application/json")
	if resp.StatusCode != 201 || resp.Header.Get("Location") != "/jobs/job001" || resp.Header.Get("Preference-Applied") != "respond-async" {
		t.Fatalf("execute: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	var st map[string]any
	json.Unmarshal(body, &st)
	both(t, "statusInfo.yaml", "processes-core/statusInfo.yaml", st)
	if st["jobID"] != "job001" || st["status"] != "accepted" || st["progress"] != 0.0 {
		t.Fatalf("statusInfo %v", st)
	}
	var v1 JobDoc
	getJSON(t, c, "/v1/jobs/job001", 200, &v1)
	if len(v1.Regions) != 2 || v1.Request.Regions[0].Name != "benguela" {
		t.Fatalf("/v1 view of the job: %+v", v1)
	}
	getJSON(t, c, "/jobs/job001", 200, &st)
	both(t, "statusInfo.yaml", "processes-core/statusInfo.yaml", st)

	resp, body = c.do("GET", "/jobs/job001/results", "")
	if resp.StatusCode != 404 || !strings.Contains(string(body), excResultNotReady) {
		t.Fatalf("results of an accepted job: %d %s", resp.StatusCode, body)
	}
	both(t, "exception.yaml", "common-core/exception.yaml", mustJSON(string(body)))
	resp, body = c.do("GET", "/jobs/nope", "")
	if resp.StatusCode != 404 || !strings.Contains(string(body), excNoSuchJob) {
		t.Fatalf("/jobs/nope: %d %s", resp.StatusCode, body)
	}

	// Errors name the input.
	for in, field := range map[string]string{
		`{"inputs": {"dataset": "sst", "regions": [{"name": "a", "bbox": [0, 0, 1]}]}}`:                      "inputs.regions[0].bbox",
		`{"inputs": {"dataset": "sst", "regions": [{"name": "a", "bbox": [0, 0, 1, 1]}], "nope": 1}}`:        "inputs.nope",
		`{"inputs": {"dataset": "sst", "regions": [{"name": "a", "bbox": [0, 0, 1, 1]}]}, "subscriber": {}}`: "subscriber",
		`{}`: "inputs",
	} {
		resp, body := c.do("POST", "/processes/subset/execution", in, "Content-Type", "application/json")
		if resp.StatusCode != 400 || !strings.Contains(string(body), `"field":"`+field+`"`) {
			t.Errorf("%s: %d %s", in, resp.StatusCode, body)
		}
	}

	// A successful job's results.
	f.mu.Lock()
	j := f.jobs["job001"]
	j.Status, j.Finished = jobs.Successful, time.Date(2025, 1, 1, 0, 1, 0, 0, time.UTC)
	j.Regions[0].Status = jobs.Successful
	j.Regions[0].Files = []jobs.File{{Name: "benguela.nc", Size: 3, Sha256: strings.Repeat("a", 64), Md5: strings.Repeat("b", 32)}}
	j.Regions[1].Status = jobs.Empty
	f.mu.Unlock()
	getJSON(t, c, "/jobs/job001", 200, &st)
	both(t, "statusInfo.yaml", "processes-core/statusInfo.yaml", st)
	res := hasLink(list(st["links"]), relResults)
	if res != "/jobs/job001/results" {
		t.Fatalf("no results link: %v", st)
	}
	var results map[string]any
	getJSON(t, c, res, 200, &results)
	both(t, "results.yaml", "processes-core/results.yaml", results)
	if results["archive"].(map[string]any)["href"] != "/v1/jobs/job001/files.zip" || len(list(results["regions"].(map[string]any)["value"])) != 2 {
		t.Fatalf("results %v", results)
	}

	var jl map[string]any
	getJSON(t, c, "/jobs?status=successful&limit=5", 200, &jl)
	both(t, "jobList.yaml", "processes-core/jobList.yaml", jl)
	if len(list(jl["jobs"])) != 1 || hasLink(list(jl["links"]), "self") == "" {
		t.Fatalf("job list %v", jl)
	}
	getJSON(t, c, "/jobs?processID=other", 200, &jl)
	if len(list(jl["jobs"])) != 0 {
		t.Fatalf("jobs of another process: %v", jl)
	}

	// Dismiss: a final job is deleted, answered dismissed.
	resp, body = c.do("DELETE", "/jobs/job001", "")
	json.Unmarshal(body, &st)
	if resp.StatusCode != 200 || st["status"] != "dismissed" {
		t.Fatalf("dismiss: %d %s", resp.StatusCode, body)
	}
	both(t, "statusInfo.yaml", "processes-core/statusInfo.yaml", st)
	if resp, _ := c.do("GET", "/jobs/job001", ""); resp.StatusCode != 404 {
		t.Fatalf("after dismiss: %d", resp.StatusCode)
	}
}

// The jobs of /jobs are those of /v1/jobs with their ownership: another
// key's job is 404 (no-such-job) and not listed.
func TestOGCOwnership(t *testing.T) {
	c, _ := setupKeys(t, jobs.Quota{})
	for _, p := range []string{"/", "/conformance", "/processes", "/processes/subset"} {
		if resp, body := c.do("GET", p, ""); resp.StatusCode != 200 {
			t.Errorf("%s without a key: %d %s", p, resp.StatusCode, body)
		}
	}
	if resp, _ := c.do("POST", "/processes/subset/execution", `{"inputs": `+goodJob+`}`); resp.StatusCode != 401 {
		t.Fatalf("execute without a key: %d", resp.StatusCode)
	}
	resp, body := c.do("POST", "/processes/subset/execution", `{"inputs": `+goodJob+`}`, bearer("alice")...)
	var st StatusInfo
	json.Unmarshal(body, &st)
	if resp.StatusCode != 201 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	for _, p := range []string{"/jobs/" + st.JobID, "/jobs/" + st.JobID + "/results"} {
		resp, body := c.do("GET", p, "", bearer("bob")...)
		if resp.StatusCode != 404 || !strings.Contains(string(body), excNoSuchJob) {
			t.Errorf("bob reads %s: %d %s", p, resp.StatusCode, body)
		}
	}
	if resp, _ := c.do("DELETE", "/jobs/"+st.JobID, "", bearer("bob")...); resp.StatusCode != 404 {
		t.Errorf("bob dismisses alice's job: %d", resp.StatusCode)
	}
	var l StatusList
	getJSON(t, c, "/jobs", 200, &l, bearer("bob")...)
	if len(l.Jobs) != 0 {
		t.Errorf("bob lists %v", l.Jobs)
	}
	getJSON(t, c, "/jobs", 200, &l, bearer("alice")...)
	if len(l.Jobs) != 1 || l.Jobs[0].JobID != st.JobID {
		t.Errorf("alice lists %v", l.Jobs)
	}
	getJSON(t, c, "/jobs/"+st.JobID, 200, &st, bearer("root")...)
}
