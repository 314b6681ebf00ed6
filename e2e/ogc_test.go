package e2e

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/subsetd/subsetd/api"
)

// A job run through OGC API - Processes on the real server: executed
// asynchronously, followed at /jobs/{id} to successful, its results'
// archive holding the region's file that /v1 lists.
func TestOGCProcessesJob(t *testing.T) {
	s := start(t, dataDir(t), t.TempDir(), nil)
	r := s.do("POST", "/processes/subset/execution", `{"inputs": {"dataset": "global", "regions": [{"name": "a", "bbox": [0, 0, 10, 10]}], "variables": ["sst"]}}`,
		"Prefer", "respond-async", "Content-Type", "application/json")
	var st api.StatusInfo
	r.json(t, &st)
	if r.StatusCode != 201 || r.Header.Get("Location") != "/jobs/"+st.JobID {
		t.Fatalf("execute: %d %v %s", r.StatusCode, r.Header, r.body)
	}
	deadline := time.Now().Add(time.Minute)
	for st.Status != "successful" {
		if st.Status == "failed" || st.Status == "dismissed" || time.Now().After(deadline) {
			t.Fatalf("job %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
		r = s.do("GET", "/jobs/"+st.JobID, "")
		r.json(t, &st)
	}
	if st.Progress != 100 || st.Finished == nil {
		t.Fatalf("final status %+v", st)
	}
	r = s.do("GET", "/jobs/"+st.JobID+"/results", "")
	var res struct {
		Archive api.Link
		Regions struct{ Value []api.RegionDoc }
	}
	if err := json.Unmarshal(r.body, &res); err != nil || r.StatusCode != 200 {
		t.Fatalf("results: %d %s", r.StatusCode, r.body)
	}
	v1 := s.job(st.JobID)
	if len(res.Regions.Value) != 1 || res.Regions.Value[0].Files[0].Sha256 != v1.Regions[0].Files[0].Sha256 {
		t.Fatalf("results' regions %+v vs %+v", res.Regions.Value, v1.Regions)
	}
	zb := s.download(res.Archive.Href)
	zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil || len(zr.File) != 1 || zr.File[0].Name != v1.Regions[0].Files[0].Name {
		t.Fatalf("archive: %v %v", err, zr)
	}
	r = s.do("DELETE", "/jobs/"+st.JobID, "")
	r.json(t, &st)
	if r.StatusCode != 200 || st.Status != "dismissed" || s.do("GET", "/v1/jobs/"+st.JobID, "").StatusCode != 404 {
		t.Fatalf("dismiss: %d %s", r.StatusCode, r.body)
	}
}
