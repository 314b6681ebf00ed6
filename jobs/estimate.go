package jobs

import "github.com/subsetd/subsetd/engine"

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
