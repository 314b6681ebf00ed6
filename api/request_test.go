package api

import (
	"bytes"
	"encoding/json"
	"strings"
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

// What encoding/json lets pass is refused, naming the member; what a
// worker would refuse of the regions is refused at submission; a body over
// the limit is 413 whatever it holds.
func TestStrictJobBodies(t *testing.T) {
	c, f := setup(t, func(o *Options) { o.MaxRegions, o.MaxVertices = 3, 12 })
	box := `{"name":"a","bbox":[0,0,1,1]}`
	sq := func(name string) string {
		return `{"name":"` + name + `","geometry":{"type":"Polygon","coordinates":[[[0,0],[8,0],[8,6],[0,6],[0,0]]]}}`
	}
	cases := []struct {
		body, field, detail string
		status              int
	}{
		{`{"DATASET":"sst","regions":[` + box + `]}`, "DATASET", `unknown field "DATASET": names are case-sensitive ("dataset")`, 400},
		{`{"dataset":"sst","regions":[{"Name":"a","bbox":[0,0,1,1]}]}`, "regions[0].Name", `unknown field "Name": names are case-sensitive ("name")`, 400},
		{`{"dataset":"sst","dataset":"other","regions":[` + box + `]}`, "dataset", `"dataset" is given twice in one object`, 400},
		{`{"dataset":"sst","regions":[` + box + `],"stride":{"time":2,"time":3}}`, "stride.time", `"time" is given twice in one object`, 400},
		{`{"dataset":"sst","regions":[{"name":"g","geometry":{"type":"Polygon","type":"Point","coordinates":[0,0]}}]}`, "regions[0].geometry.type", `"type" is given twice in one object`, 400},
		{`{"dataset":"sst","regions":[` + box + `],"output":{"Format":"netcdf3"}}`, "output.Format", `unknown field "Format": names are case-sensitive ("format")`, 400},
		{`{"dataset":"sst","regions":[` + box + `],"colour":"red"}`, "colour", `unknown field "colour"`, 400},
		{`{"dataset":"sst","regions":[` + box + `]} x`, "", "data after the JSON document (at byte", 400},
		{`{"dataset":"sst","regions":[` + box + `]}{}`, "", "data after the JSON document", 400},
		{`{"dataset":"sst","regions":[{"name":"-rf","bbox":[0,0,1,1]}]}`, "regions[0].name", `region name "-rf" must not start with '-'`, 400},
		{`{"dataset":"sst","regions":[{"name":"..","bbox":[0,0,1,1]}]}`, "regions[0].name", `region name ".." must not start with '.'`, 400},
		{`{"dataset":"sst","regions":[{"name":"a\tb","bbox":[0,0,1,1]}]}`, "regions[0].name", `region name "a\tb" may hold only letters`, 400},
		{"{\"dataset\":\"sst\",\"regions\":[{\"name\":\"a\tb\",\"bbox\":[0,0,1,1]}]}", "", "the request body is not valid JSON: invalid character", 400},
		{`{"dataset":"sst","regions":[{"name":"a\u0007b","bbox":[0,0,1,1]}]}`, "regions[0].name", `region name "a\ab" may hold only letters, digits, '.', '_' and '-'`, 400},
		{`{"dataset":"sst","regions":[{"name":"g","geometry":{"type":"Polygon","coordinates":[[[0,0],[8,0],[8,6],[0,6]]]}}]}`, "regions[0].geometry", "ring 0 is not closed: its last position [0 6] is not its first [0 0]", 400},
		{`{"dataset":"sst","regions":[{"name":"g","geometry":{"type":"Polygon","coordinates":[[[0,0],[8,0],[0,0]]]}}]}`, "regions[0].geometry", "ring 0 has 3 positions: a ring needs at least 4, the last the same as the first", 400},
		{`{"dataset":"sst","regions":[{"name":"g","geometry":{"type":"Polygon","coordinates":[[[0,0],[4,4],[8,8],[0,0]]]}}]}`, "regions[0].geometry", "polygon 0 ring 0 encloses no area: its positions lie on one line", 400},
		{`{"dataset":"sst","regions":[` + sq("a") + `,` + sq("b") + `,` + sq("c") + `,` + sq("d") + `]}`, "regions", "4 regions: at most 3 per job, the server's limit (max_regions)", 413},
		{`{"dataset":"sst","regions":[` + sq("a") + `,` + sq("b") + `,` + sq("c") + `]}`, "regions[2].geometry",
			"the job's regions have more than 12 vertices, the server's limit (max_vertices): simplify the polygons or split the job", 413},
		{`{"dataset":"sst","regions":[` + box + `]}` + strings.Repeat(" ", 2<<20), "", "the request body is larger than 4096 bytes", 413},
	}
	for _, tc := range cases {
		resp, body := c.do("POST", "/v1/jobs", tc.body)
		var p Problem
		json.Unmarshal(body, &p)
		if resp.StatusCode != tc.status || p.Field != tc.field || !strings.HasPrefix(p.Detail, tc.detail) || strings.HasPrefix(p.Detail, p.Field+":") && p.Field != "" {
			t.Errorf("%.80s: got %d field %q detail %q, want %d %q %q", tc.body, resp.StatusCode, p.Field, p.Detail, tc.status, tc.field, tc.detail)
		}
	}
	f.mu.Lock()
	n := len(f.jobs)
	f.mu.Unlock()
	if n != 0 {
		t.Errorf("%d jobs accepted", n)
	}
	// The same bodies well written pass: 11 vertices of 12, 3 regions of 3.
	if resp, body := c.do("POST", "/v1/jobs", `{"dataset":"sst","regions":[`+sq("a")+`,`+sq("b")+`,`+sq("c")[:len(sq("c"))-len(`{"type":"Polygon","coordinates":[[[0,0],[8,0],[8,6],[0,6],[0,0]]]}}`)]+`{"type":"Point","coordinates":[1,1]}}]}`); resp.StatusCode != 201 {
		t.Errorf("within the limits: %d %s", resp.StatusCode, body)
	}
}
