package api

import (
	"encoding/json"
	"testing"
)

// TestDryRun: "dry_run": true answers 200 with what the job would give,
// in request order, documented by the DryRun schema, and stores no job.
func TestDryRun(t *testing.T) {
	c, f := setup(t)
	body := `{"dataset": "sst", "dry_run": true, "regions": [{"name": "benguela", "bbox": [8, -35, 20, -15]}, {"name": "dry", "bbox": [0, 0, 1, 1]}]}`
	if err := c.doc.ValidateRef("JobRequest", mustJSON(body)); err != nil {
		t.Fatalf("the documented request schema refuses a dry run: %v", err)
	}
	resp, b := c.do("POST", "/v1/jobs", body, "Content-Type", "application/json")
	if resp.StatusCode != 200 || resp.Header.Get("Location") != "" {
		t.Fatalf("%d %s %s", resp.StatusCode, resp.Header.Get("Location"), b)
	}
	var d DryRunDoc
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if !d.DryRun || len(d.Regions) != 2 || d.Regions[0].Name != "benguela" || d.Regions[1].Name != "dry" {
		t.Fatalf("%s", b)
	}
	r := d.Regions[0]
	if r.Status != "successful" || len(r.Box) != 2 || r.Box[1].Start != 7 || len(r.Variables) != 1 || r.Variables[0].Dtype != "float" ||
		r.Variables[0].Shape[1] != 20 || r.OutputBytes != 800 || r.EstimatedBytes != 300 || r.InputBytes != 4096 || r.InputFiles[0] != "sst.nc" {
		t.Errorf("region %+v", r)
	}
	if e := d.Regions[1]; e.Status != "empty" || e.Message != "no cell" || len(e.Files) != 0 || e.Box != nil {
		t.Errorf("empty region %+v", e)
	}
	if d.Totals.Files != 1 || d.Totals.OutputBytes != 800 || d.Totals.EstimatedSeconds != 0.2 || d.Throughput.BytesPerSecond != 1e6 || d.Request == nil || d.Request.DryRun {
		t.Errorf("totals %+v, throughput %+v, request %+v", d.Totals, d.Throughput, d.Request)
	}
	if len(f.jobs) != 0 {
		t.Errorf("a dry run stored %d jobs", len(f.jobs))
	}
	resp, b = c.do("POST", "/v1/jobs", `{"dataset": "nope", "dry_run": true, "regions": [{"name": "a", "bbox": [0, 0, 1, 1]}]}`, "Content-Type", "application/json")
	if resp.StatusCode != 400 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
}
