package api

import (
	"math"
	"net/http"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/jobs"
)

// The answer to POST /v1/jobs with "dry_run": true (the DryRun schema):
// what the job would give, planned by the engine as the cut plans it,
// without reading a data value; nothing is stored.

// DryRunDoc is the dry run of a job.
type DryRunDoc struct {
	DryRun  bool           `json:"dry_run"`
	Dataset string         `json:"dataset"`
	Kind    string         `json:"kind"`
	Regions []DryRunRegion `json:"regions"`
	Totals  DryRunTotals   `json:"totals"`
	// Statistics is the cost of the statistics the job asks for.
	Statistics *DryRunStats   `json:"statistics,omitempty"`
	Throughput *ThroughputDoc `json:"throughput"`
	// MaxOutputBytes is the caller's limit on a job's output (0: none);
	// Split, when the estimate exceeds it, how to split the job.
	MaxOutputBytes int64        `json:"max_output_bytes,omitempty"`
	Split          []jobs.Split `json:"split,omitempty"`
	Notes          []string     `json:"notes,omitempty"`
	Request        *JobRequest  `json:"request"`
}

// DryRunRegion is what one region would give. Box and Variables are
// those of its output when it has one file.
type DryRunRegion struct {
	Name             string              `json:"name"`
	Status           string              `json:"status"`
	Message          string              `json:"message,omitempty"`
	Statistics       bool                `json:"statistics,omitempty"`
	Box              []engine.IndexRange `json:"box,omitempty"`
	Variables        []DryRunVariable    `json:"variables,omitempty"`
	Files            []DryRunFile        `json:"files"`
	InputFiles       []string            `json:"input_files"`
	InputBytes       int64               `json:"input_bytes"`
	OutputBytes      int64               `json:"output_bytes"`
	EstimatedBytes   int64               `json:"estimated_bytes"`
	EstimatedSeconds float64             `json:"estimated_seconds"`
}

// DryRunFile is one output a region would write.
type DryRunFile struct {
	Name           string              `json:"name"`
	Source         string              `json:"source"`
	Shape          map[string]int      `json:"shape"`
	Box            []engine.IndexRange `json:"box"`
	Variables      []DryRunVariable    `json:"variables"`
	InputBytes     int64               `json:"input_bytes"`
	OutputBytes    int64               `json:"output_bytes"`
	EstimatedBytes int64               `json:"estimated_bytes"`
}

// DryRunVariable is an output variable: name, dimensions' lengths, type.
type DryRunVariable struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
	Dtype string `json:"dtype"`
}

// DryRunTotals add up the regions.
type DryRunTotals struct {
	Regions          int     `json:"regions"`
	Files            int     `json:"files"`
	InputBytes       int64   `json:"input_bytes"`
	OutputBytes      int64   `json:"output_bytes"`
	EstimatedBytes   int64   `json:"estimated_bytes"`
	EstimatedSeconds float64 `json:"estimated_seconds"`
}

// DryRunStats is what the job's statistics cost: the regions computing
// them, the input they read (within the regions' input bytes), the files
// they give.
type DryRunStats struct {
	Regions    int      `json:"regions"`
	InputBytes int64    `json:"input_bytes"`
	Files      []string `json:"files"`
}

// ThroughputDoc is the model of the estimated durations.
type ThroughputDoc struct {
	BytesPerSecond  float64 `json:"bytes_per_second"`
	OverheadSeconds float64 `json:"overhead_seconds"`
	MeasuredTasks   int     `json:"measured_tasks"`
	Workers         int     `json:"workers"`
}

func dryRunDoc(spec *jobs.Spec, e *jobs.Estimate) *DryRunDoc {
	d := &DryRunDoc{DryRun: true, Dataset: spec.Dataset, Kind: e.Kind, Regions: make([]DryRunRegion, len(e.Regions)), Notes: e.Notes,
		Request: jobRequest(spec), Throughput: &ThroughputDoc{BytesPerSecond: math.Round(e.Throughput.BytesPerSecond),
			OverheadSeconds: round3(e.Throughput.Overhead), MeasuredTasks: e.Throughput.Samples, Workers: e.Workers},
		Totals: dryRunTotals(e), MaxOutputBytes: e.Limit, Split: e.Split}
	if spec.Statistics != nil {
		d.Statistics = &DryRunStats{Files: []string{"stats.nc", "stats.csv"}}
	}
	for i, r := range e.Regions {
		dr := DryRunRegion{Name: r.Name, Status: string(r.Status), Message: r.Message, Statistics: r.Statistics, Files: []DryRunFile{},
			InputFiles: r.InputFiles, InputBytes: r.InputBytes, OutputBytes: r.ValueBytes, EstimatedBytes: r.Bytes,
			EstimatedSeconds: round3(r.Seconds)}
		if dr.InputFiles == nil {
			dr.InputFiles = []string{}
		}
		for _, f := range r.Files {
			df := DryRunFile{Name: f.Name, Source: f.Source, Shape: f.Shape, OutputBytes: f.ValueBytes, Variables: []DryRunVariable{}}
			if f.Estimate != nil {
				df.Box, df.InputBytes, df.EstimatedBytes = f.Estimate.Box, f.Estimate.InputBytes, f.Estimate.Bytes
			}
			for _, v := range f.Variables {
				df.Variables = append(df.Variables, DryRunVariable{Name: v.Name, Shape: v.Shape, Dtype: v.Dtype})
			}
			dr.Files = append(dr.Files, df)
		}
		if len(dr.Files) == 1 {
			dr.Box, dr.Variables = dr.Files[0].Box, dr.Files[0].Variables
		}
		if d.Statistics != nil && r.Statistics {
			d.Statistics.Regions++
			d.Statistics.InputBytes += r.InputBytes
		}
		d.Regions[i] = dr
	}
	return d
}

func dryRunTotals(e *jobs.Estimate) DryRunTotals {
	return DryRunTotals{Regions: len(e.Regions), Files: e.Files, InputBytes: e.InputBytes, OutputBytes: e.ValueBytes,
		EstimatedBytes: e.Bytes, EstimatedSeconds: round3(e.Seconds)}
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// dryRun answers a job request with "dry_run": true.
func (h *handler) dryRun(w http.ResponseWriter, r *http.Request, spec *jobs.Spec) {
	c := callerOf(r.Context())
	e, err := h.b.Estimate(r.Context(), spec, jobs.Submitter{Owner: c.name, Quota: c.quota})
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, dryRunDoc(spec, e))
}
