package api

import (
	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/jobs"
	"github.com/subsetd/subsetd/regions"
)

// JobRequest is the body of POST /v1/jobs (the JobRequest schema of the
// OpenAPI document), and the request a job document shows: its regions as
// they were asked for. The time and vertical ranges and the output options
// are the engine's values, whose JSON this schema documents.
type JobRequest struct {
	Dataset string           `json:"dataset"`
	Regions []regions.Region `json:"regions"`
	// Variables to keep (default: all).
	Variables []string              `json:"variables,omitempty"`
	Time      *engine.TimeRange     `json:"time,omitempty"`
	Vertical  *engine.VerticalRange `json:"vertical,omitempty"`
	// Stride per axis ("time", "lat", "lon", "vertical") or per dimension name.
	Stride map[string]int `json:"stride,omitempty"`
	// Select is the rule deciding which cells a region takes: "centre"
	// (the default) or "overlap" (engine.SelectCentre, SelectOverlap).
	Select string        `json:"select,omitempty"`
	Output engine.Output `json:"output,omitzero"`
	// Statistics of every region, besides the cut or instead of it.
	Statistics *engine.Statistics `json:"statistics,omitempty"`
	// Notify asks for signed POSTs to a URL when the job finishes or a
	// region does (webhooks.go).
	Notify *jobs.Notify `json:"notify,omitempty"`
	// DryRun asks what the job would give (DryRunDoc) instead of running
	// it; not part of the job.
	DryRun bool `json:"dry_run,omitempty"`
}

// Spec is the job to store for a request: its regions fixed now (a ref
// gets the geometry its set has at submission) and checked as FixList
// checks them, under the fields of the request ("regions[2].ref"). The
// rest is checked by the Backend.
func (r *JobRequest) Spec() (*jobs.Spec, error) { return r.SpecWithin(regions.Limits{}) }

// SpecWithin is Spec within limits on the regions' number and vertices,
// checked before any polygon is prepared.
func (r *JobRequest) SpecWithin(lim regions.Limits) (*jobs.Spec, error) {
	fixed, err := regions.FixListWithin("regions", r.Regions, lim)
	if err != nil {
		return nil, err
	}
	return &jobs.Spec{Dataset: r.Dataset, Regions: fixed, Variables: r.Variables, Time: r.Time, Vertical: r.Vertical,
		Stride: r.Stride, Select: r.Select, Output: r.Output, Statistics: r.Statistics, Notify: r.Notify}, nil
}

// jobRequest is a stored job as it was asked for.
func jobRequest(s *jobs.Spec) *JobRequest {
	r := &JobRequest{Dataset: s.Dataset, Regions: make([]regions.Region, len(s.Regions)), Variables: s.Variables, Time: s.Time,
		Vertical: s.Vertical, Stride: s.Stride, Select: s.Select, Output: s.Output, Statistics: s.Statistics, Notify: s.Notify}
	for i, x := range s.Regions {
		r.Regions[i] = x.Written()
	}
	return r
}
