package e2e

import (
	"strings"
	"testing"

	"github.com/subsetd/subsetd/api"
)

// What a worker would refuse is refused at submission by the real server,
// 400 (or 413) naming the field, said once; nothing is accepted.
func TestRefusedAtSubmission(t *testing.T) {
	s := start(t, dataDir(t), t.TempDir(), nil, "--workers", "1", "--max-vertices", "40")
	box := `{"name":"a","bbox":[0,0,10,10]}`
	square := `{"type":"Polygon","coordinates":[[[0,0],[8,0],[8,6],[0,6],[0,0]]]}`
	var squares []string // 9 regions of 5 vertices: 45, over 40
	for _, n := range "abcdefghi" {
		squares = append(squares, `{"name":"`+string(n)+`","geometry":`+square+`}`)
	}
	for _, tc := range []struct {
		body   string
		status int
		field  string
		detail string
	}{
		{`{"dataset":"global","regions":[` + box + `],"stride":{"depth":2}}`, 400, "stride.depth", `dataset "global" has no dimension "depth": use time, lat, lon, vertical or one of its dimensions (`},
		{`{"dataset":"global","regions":[` + box + `],"vertical":{"min":0,"max":10}}`, 400, "vertical", `dataset "global" has no vertical axis: leave out the vertical range`},
		{`{"DATASET":"global","regions":[` + box + `]}`, 400, "DATASET", `unknown field "DATASET": names are case-sensitive ("dataset")`},
		{`{"dataset":"global","regions":[` + box + `],"regions":[` + box + `]}`, 400, "regions", `"regions" is given twice in one object`},
		{`{"dataset":"global","regions":[{"name":"-rf","bbox":[0,0,10,10]}]}`, 400, "regions[0].name", `region name "-rf" must not start with '-'`},
		{`{"dataset":"global","regions":[{"name":"p","geometry":{"type":"Polygon","coordinates":[[[0,0],[8,0],[8,6],[0,6]]]}}]}`, 400, "regions[0].geometry", "ring 0 is not closed"},
		{`{"dataset":"global","regions":[{"name":"p","geometry":{"type":"Polygon","coordinates":[[[0,0],[8,0],[0,0]]]}}]}`, 400, "regions[0].geometry", "ring 0 has 3 positions"},
		{`{"dataset":"global","regions":[{"name":"p","geometry":` + square + `}]} []`, 400, "", "data after the JSON document"},
		{`{"dataset":"global","regions":[` + strings.Join(squares, ",") + `]}`, 413, "regions[8].geometry",
			"the job's regions have more than 40 vertices, the server's limit (max_vertices)"},
		{`{"dataset":"global","regions":[` + box + `]}` + strings.Repeat(" ", 2<<20), 413, "", "the request body is larger than 1048576 bytes"},
	} {
		r := s.do("POST", "/v1/jobs", tc.body)
		var p api.Problem
		r.json(t, &p)
		if r.StatusCode != tc.status || p.Field != tc.field || !strings.HasPrefix(p.Detail, tc.detail) {
			t.Errorf("%.70s: %d field %q detail %q; want %d %q %q", tc.body, r.StatusCode, p.Field, p.Detail, tc.status, tc.field, tc.detail)
		}
	}
	var l api.JobList
	s.do("GET", "/v1/jobs", "").json(t, &l)
	if len(l.Jobs) != 0 {
		t.Errorf("%d jobs accepted", len(l.Jobs))
	}
}
