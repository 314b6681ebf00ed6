package jobs

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/regions"
)

// Status is the status of a job, a task or a region, in the vocabulary of
// OGC API - Processes. Regions end in one of the engine.Status* values
// (successful, empty, failed) or dismissed.
type Status string

// Statuses. Accepted and Running are active; the others are final.
const (
	Accepted   Status = "accepted"
	Running    Status = "running"
	Successful Status = "successful"
	Failed     Status = "failed"
	Dismissed  Status = "dismissed"
	Empty      Status = engine.StatusEmpty // regions only
)

// JobStatuses lists the statuses a job can have, for validation of filters.
var JobStatuses = []Status{Accepted, Running, Successful, Failed, Dismissed}

// Final reports whether s is a final status.
func (s Status) Final() bool { return s != Accepted && s != Running }

// Spec is a job as it is stored: the dataset and what to cut. Its regions
// are fixed when the job is submitted: a ref holds the geometry its set had
// then (and the ref, to show the region as it was asked for), so that
// editing a set afterwards changes no cut. Specs stored by servers that
// kept refs alone are fixed when they are loaded (FixRefs).
//
// The JSON is that of the store's spec column; it reads every spec stored
// before.
type Spec struct {
	Dataset   string                `json:"dataset"`
	Regions   []regions.Fixed       `json:"regions"`
	Variables []string              `json:"variables,omitempty"`
	Time      *engine.TimeRange     `json:"time,omitempty"`
	Vertical  *engine.VerticalRange `json:"vertical,omitempty"`
	Stride    map[string]int        `json:"stride,omitempty"`
	Select    string                `json:"select,omitempty"` // engine.Request.Select
	Output    engine.Output         `json:"output,omitzero"`
	// Statistics of every region, assembled into the job's stats.nc and
	// stats.csv when its tasks are done.
	Statistics *engine.Statistics `json:"statistics,omitempty"`
	// Notify asks for notifications of the job's progress (notify.go).
	Notify *Notify `json:"notify,omitempty"`
}

// Validate checks a spec as the engine would, before any file is opened.
func (s *Spec) Validate() error {
	if s.Notify != nil {
		if err := s.Notify.Validate(); err != nil {
			return err
		}
	}
	req := engine.Request{Regions: s.Regions, Variables: s.Variables, Time: s.Time, Vertical: s.Vertical, Stride: s.Stride, Select: s.Select, Output: s.Output, Statistics: s.Statistics}
	return req.Validate()
}

// FixRefs fixes the refs a spec stored by an older server holds without
// their geometry, from the region sets as they are now. A ref that no set
// has any more is left as it is, and the first such error returned: the
// task that runs it fails with it.
func (s *Spec) FixRefs() error {
	var first error
	for i, r := range s.Regions {
		if r.HasArea() {
			continue
		}
		f, err := r.Written().Fix(fmt.Sprintf("regions[%d]", i))
		if err != nil {
			first = cmp.Or(first, err)
			continue
		}
		s.Regions[i] = f
	}
	return first
}

// Hash identifies the spec as it was asked for (refs as refs), for
// idempotency keys: the sha256 of its JSON as servers before fixed regions
// stored it, so that a key used before an upgrade still matches.
func (s *Spec) Hash() string {
	// The outer fields take the place of the spec's own in the JSON.
	asked := struct {
		Dataset string           `json:"dataset"`
		Regions []regions.Region `json:"regions"`
		*Spec
	}{s.Dataset, make([]regions.Region, len(s.Regions)), s}
	for i, r := range s.Regions {
		asked.Regions[i] = r.Written()
	}
	b, _ := json.Marshal(asked)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Submitter is who submits a job: the name of its key ("" without
// authentication) and the quota it is admitted under.
type Submitter struct {
	Owner string
	Quota Quota
}

// Job is a submitted job with the state of its regions, as stored.
type Job struct {
	ID       string
	Owner    string // the name of the key that submitted it ("" without authentication)
	Dataset  string
	Spec     Spec
	Status   Status
	Message  string
	Created  time.Time
	Started  time.Time // zero until a task starts
	Finished time.Time // zero until final
	Updated  time.Time
	Deadline time.Time // the job fails when it is not finished by then
	Regions  []Region  // in request order
	Tasks    int
	// Kind is the kind of the dataset when the job was submitted (file,
	// timeseries, granules): how its tasks combine the files.
	Kind string
	// Notes are what the user should know about the inputs: files left
	// out, time steps found twice, gaps in a time series.
	Notes []string
	// FilesOpened counts the input files the workers opened.
	FilesOpened int
	// Stats is where the job's statistics are (StatsPending...), "" when
	// it asks for none; Files are the files of the job itself (its
	// statistics), relative to its files directory.
	Stats StatsState
	Files []File
	// Deliveries are the notifications of a job with Spec.Notify, with
	// their attempts.
	Deliveries []Delivery
	// Work is the sum over its tasks of the share each has done (1 for a
	// task that succeeded); BytesDone and BytesTotal add up the bytes of values
	// its tasks have read of those their plans read (progress.go).
	Work                  float64
	BytesDone, BytesTotal int64
	// QueuePosition, of an accepted job, is 1 + the accepted jobs
	// submitted before it.
	QueuePosition int
}

// StatsState is where a job's statistics are. A job with statistics
// becomes final only once they are written (or could not be).
type StatsState string

// The states of a job's statistics.
const (
	StatsPending    StatsState = "pending"    // its tasks are not all done
	StatsAssembling StatsState = "assembling" // stats.nc and stats.csv are being written
	StatsDone       StatsState = "done"       // listed in Files (or failed: the job's message says why)
)

// Region is the state of one region of a job.
type Region struct {
	Index   int
	Name    string
	Task    int
	Status  Status
	Message string
	Files   []File
}

// File is a file produced for a region, relative to the job's directory.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	Sha256 string `json:"sha256"`
	Md5    string `json:"md5"`
	// Crc32 is the file's IEEE CRC-32 (0: not known, files of servers
	// before it was kept); Shape its dimension lengths by name; Variables
	// what it holds.
	Crc32     uint32          `json:"crc32,omitempty"`
	Shape     map[string]int  `json:"shape,omitempty"`
	Variables []engine.OutVar `json:"variables,omitempty"`
}

// NewFile is the record of a written output, its name relative to the
// job's files directory.
func NewFile(f engine.OutFile) File {
	return File{Name: f.Name, Size: f.Size, Sha256: f.Sha256, Md5: f.Md5, Crc32: f.Crc32, Shape: f.Shape, Variables: f.Variables}
}

// Progress is the percentage of the job done: 100 once successful, else
// the share of its tasks' work done (Fraction), which stays where it was
// when the job was dismissed or failed.
func (j *Job) Progress() int {
	if j.Status == Successful {
		return 100
	}
	return min(int(j.Fraction()*100), 99)
}

// Fraction is the share of the job's work done, 0..1: of its tasks'
// (Work), or of its regions that reached a final status when it has no
// task; 1 for a successful job.
func (j *Job) Fraction() float64 {
	if j.Status == Successful {
		return 1
	}
	if j.Tasks > 0 {
		return min(j.Work/float64(j.Tasks), 1)
	}
	if len(j.Regions) == 0 {
		return 0
	}
	done := 0
	for _, r := range j.Regions {
		if r.Status.Final() && r.Status != Dismissed {
			done++
		}
	}
	return float64(done) / float64(len(j.Regions))
}

// RegionsDone counts the regions that reached a final status other than
// dismissed.
func (j *Job) RegionsDone() int {
	n := 0
	for _, r := range j.Regions {
		if r.Status.Final() && r.Status != Dismissed {
			n++
		}
	}
	return n
}

// Task is the unit a worker process runs: some regions of a job and the
// input files they need.
type Task struct {
	JobID   string
	ID      int
	Status  Status
	Regions []int // indexes into the job's regions
	// Files are the inputs, relative to the data directory ('/'-separated),
	// chosen from the index when the job was submitted. None: every file of
	// the dataset (tasks stored by an older server).
	Files []string
	// RegionFiles, for granules, lists for each of Regions the indexes into
	// Files it needs: each file is cut for those regions only, one output
	// per (region, file). Nil: every region uses every file.
	RegionFiles [][]int
	// Concat joins Files along time: one output per region (time series).
	Concat   bool
	Attempts int
	RiverID  int64
	Message  string
}
