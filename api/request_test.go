package api

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/regions"
)

// A request as a client writes it: every kind of region and every option.
const fullJob = `{"dataset":"sst","regions":[{"ref":"africa/red_sea"},{"name":"cape_box","ref":"africa/cape_peninsula","mask":false},` +
	`{"name":"g","geometry":{"type":"Polygon","coordinates":[[[0,0],[8,0],[8,6],[0,6],[0,0]]]}},{"name":"b","bbox":[8,-35,20,-15]}],` +
	`"variables":["sst","sla"],"time":{"start":"2020-01-03","end":"2020-01-10"},"vertical":{"min":1,"max":5},"stride":{"time":2},` +
	`"select":"overlap","output":{"format":"netcdf4","deflate":4},"statistics":{"variables":["sst"],"ops":["mean","std"],"weights":"none","only":true}}`

// The request becomes the stored spec with its refs fixed to their sets'
// geometry; the spec is shown as it was asked for, byte for byte.
func TestJobRequestToSpecAndBack(t *testing.T) {
	var req JobRequest
	if err := json.Unmarshal([]byte(fullJob), &req); err != nil {
		t.Fatal(err)
	}
	spec, err := req.Spec()
	if err != nil {
		t.Fatal(err)
	}
	red, _ := regions.Lookup("africa/red_sea")
	cape, _ := regions.Lookup("africa/cape_peninsula")
	rs := spec.Regions
	if spec.Dataset != "sst" || len(rs) != 4 || string(rs[0].Geometry) != string(red.Geometry) || rs[0].Ref != "africa/red_sea" || rs[0].OutputName() != "red_sea" ||
		string(rs[1].Geometry) != string(cape.Geometry) || rs[1].Name != "cape_box" || *rs[1].Mask || string(rs[2].Geometry) != string(req.Regions[2].Geometry) || len(rs[3].BBox) != 4 {
		t.Fatalf("regions %+v", rs)
	}
	if len(spec.Variables) != 2 || spec.Time.Start != "2020-01-03" || spec.Time.End != "2020-01-10" || *spec.Vertical.Min != 1 || *spec.Vertical.Max != 5 ||
		spec.Stride["time"] != 2 || spec.Select != "overlap" || spec.Output.Format != "netcdf4" || *spec.Output.Deflate != 4 ||
		spec.Statistics == nil || spec.Statistics.Ops[1] != "std" || spec.Statistics.Weights != "none" || !spec.Statistics.Only || spec.Statistics.Variables[0] != "sst" {
		t.Fatalf("options %+v", spec)
	}
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	back, _ := json.Marshal(jobRequest(spec))
	if string(back) != fullJob {
		t.Errorf("shown as\n%s\nasked\n%s", back, fullJob)
	}
	// Minimal: no options at all.
	min := `{"dataset":"sst","regions":[{"name":"b","bbox":[8,-35,20,-15]}]}`
	req = JobRequest{}
	json.Unmarshal([]byte(min), &req)
	spec, err = req.Spec()
	if err != nil || spec.Time != nil || spec.Vertical != nil || spec.Output.Deflate != nil {
		t.Fatalf("%+v %v", spec, err)
	}
	if back, _ := json.Marshal(jobRequest(spec)); string(back) != min {
		t.Errorf("shown as %s", back)
	}
	// Regions are checked (and refs looked up) under the request's fields.
	for body, field := range map[string]string{
		`{"dataset":"sst","regions":[{"name":"b","bbox":[8,-35,20,-15]},{"ref":"mars/olympus"}]}`: "regions[1].ref",
		`{"dataset":"sst","regions":[{"name":"b","bbox":[8,-35,20,-15],"ref":"africa/red_sea"}]}`: "regions[0]",
		`{"dataset":"sst","regions":[]}`: "regions",
	} {
		req = JobRequest{}
		json.Unmarshal([]byte(body), &req)
		if _, err := req.Spec(); errs.CodeOf(err) != errs.Invalid || errs.FieldOf(err) != field {
			t.Errorf("%s: %v (field %q)", body, err, errs.FieldOf(err))
		}
	}
}

// Through the API: the backend receives the fixed spec, the job shows the
// request as it was asked for.
func TestSubmitFixesRefs(t *testing.T) {
	c, f := setup(t)
	resp, body := c.do("POST", "/v1/jobs", fullJob)
	if resp.StatusCode != 201 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	red, _ := regions.Lookup("africa/red_sea")
	f.mu.Lock()
	got := f.jobs["job001"].Spec.Regions[0]
	f.mu.Unlock()
	if string(got.Geometry) != string(red.Geometry) {
		t.Fatalf("the backend got %+v", got)
	}
	_, body = c.do("GET", "/v1/jobs/job001", "")
	if !bytes.Contains(body, []byte(`"request":`+fullJob+`,"regions":[{"name":"red_sea",`)) {
		t.Fatalf("%s", body)
	}
}
