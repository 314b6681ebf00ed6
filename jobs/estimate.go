package jobs

import (
	"math"
	"time"

	"github.com/subsetd/subsetd/engine"
)

// Estimate is a dry run of a job: what each region would give, planned by
// the engine exactly as the cut plans it (engine.Options.DryRun), and the
// time the job would take at this server's measured throughput.
type Estimate struct {
	Kind string
	// Regions in request order.
	Regions []RegionEstimate
	Notes   []string
	// InputBytes are the stored bytes of the input chunks the job's tasks
	// read (chunks shared by the regions of a task counted once).
	InputBytes int64
	// ValueBytes (exact) and Bytes (estimated) of every output file.
	ValueBytes, Bytes int64
	Files             int
	// Seconds is the expected run time once started, its tasks run
	// Workers at a time; Throughput the model it comes from.
	Seconds    float64
	Throughput Throughput
	Workers    int
	// Limit is the owner's Quota.MaxOutputBytes (0: none); Split, when
	// Bytes exceeds it, how to split the job (SplitHint).
	Limit int64
	Split []Split
}

// RegionEstimate is what a region would give.
type RegionEstimate struct {
	Name       string
	Status     Status // successful, empty or failed: the status the cut would give
	Message    string
	Statistics bool // its statistics would be computed
	// Files are its outputs as the dry run describes them (with
	// engine.FileEstimate); InputFiles the dataset's files it reads,
	// relative to the data directory.
	Files      []engine.OutFile
	InputFiles []string
	InputBytes int64
	ValueBytes int64
	Bytes      int64
	Seconds    float64
}

// Throughput is the model of a task's duration: Overhead seconds (a
// process, opening files, planning) plus its output's value bytes at
// BytesPerSecond; Samples is the number of finished tasks it was fitted to
// (0: the defaults, nothing measured yet).
type Throughput struct {
	BytesPerSecond float64
	Overhead       float64
	Samples        int
}

// TaskSeconds is the modelled duration of a task writing valueBytes.
func (t Throughput) TaskSeconds(valueBytes int64) float64 {
	return t.Overhead + float64(valueBytes)/t.BytesPerSecond
}

// Split is one part of a job too large for its limit (SplitHint): a group
// of its regions, or a time range of it, with the bytes that part is
// estimated to write.
type Split struct {
	Regions        []string          `json:"regions,omitempty"`
	Time           *engine.TimeRange `json:"time,omitempty"`
	EstimatedBytes int64             `json:"estimated_bytes"`
}

// SplitHint says how a job whose estimated output exceeds limit could be
// submitted as several that fit: its regions in groups of consecutive
// regions when every region fits alone, else the time range (from, to:
// the request's, else the data's coverage, as RFC 3339 instants) cut into
// equal parts, each expected to write its share. Nil when neither fits
// (one region is too large and the times are unknown).
func (e *Estimate) SplitHint(limit int64, from, to time.Time) []Split {
	if limit <= 0 {
		return nil
	}
	fits := true
	for _, r := range e.Regions {
		fits = fits && r.Bytes <= limit
	}
	if fits && len(e.Regions) > 1 {
		var out []Split
		cur := Split{}
		for _, r := range e.Regions {
			if len(cur.Regions) > 0 && cur.EstimatedBytes+r.Bytes > limit {
				out = append(out, cur)
				cur = Split{}
			}
			cur.Regions = append(cur.Regions, r.Name)
			cur.EstimatedBytes += r.Bytes
		}
		return append(out, cur)
	}
	if from.IsZero() || to.IsZero() || !to.After(from) {
		return nil
	}
	// Each part writes its share of the values; the margin keeps an
	// uneven share under the limit.
	n := int(math.Ceil(float64(e.Bytes) * 1.1 / float64(limit)))
	if n < 2 {
		n = 2
	}
	step := to.Sub(from) / time.Duration(n)
	if step < time.Second {
		return nil
	}
	out := make([]Split, n)
	for k := range out {
		a := from.Add(time.Duration(k) * step)
		b := a.Add(step - time.Second)
		if k == n-1 {
			b = to
		}
		out[k] = Split{Time: &engine.TimeRange{Start: a.UTC().Format(time.RFC3339), End: b.UTC().Format(time.RFC3339)}, EstimatedBytes: e.Bytes / int64(n)}
	}
	return out
}

// TooLargeError is a job whose dry run estimates more output than the
// limit of its owner (Quota.MaxOutputBytes), with the estimate and how to
// split it.
type TooLargeError struct {
	Limit    int64
	Estimate *Estimate
	Split    []Split
	Err      error // errs.TooLarge
}

func (e *TooLargeError) Error() string { return e.Err.Error() }
func (e *TooLargeError) Unwrap() error { return e.Err }
