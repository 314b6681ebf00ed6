package jobs

import (
	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
)

// The worker protocol: the server starts `subsetd worker`, writes one
// WorkerTask as JSON on its standard input and reads one WorkerReply as JSON
// from its standard output. The worker logs to standard error. It exits 0
// when it wrote a reply (even one with an error); any other exit, or a reply
// that cannot be decoded, is a crash.

// Task kinds.
const (
	KindSubset = "subset"
)

// WorkerTask is the one task given to a worker process.
type WorkerTask struct {
	Kind   string   `json:"kind"`
	JobID  string   `json:"job_id,omitempty"`
	TaskID int      `json:"task_id,omitempty"`
	Files  []string `json:"files"`
	// Subset only.
	Request      *engine.Request `json:"request,omitempty"`
	OutDir       string          `json:"out_dir,omitempty"`
	MemoryBudget int64           `json:"memory_budget,omitempty"`
	Command      string          `json:"command,omitempty"` // recorded in the outputs' history
	// Concat joins Files along time into one output per region (a time
	// series split over files): the engine's Options.Concat.
	Concat bool `json:"concat,omitempty"`
	// RegionFiles, when set, gives for each region of Request the indexes
	// into Files of the files it needs (granules): each file is opened once
	// and cut for those regions only, giving <region>/<file stem>.nc; a
	// file no region needs is never opened.
	RegionFiles [][]int `json:"region_files,omitempty"`
}

// WorkerReply is what a worker prints.
type WorkerReply struct {
	Result *engine.Result `json:"result,omitempty"`
	Error  *ReplyError    `json:"error,omitempty"`
}

// ReplyError carries an errs.Error across the process boundary.
type ReplyError struct {
	Code    errs.Code `json:"code"`
	Field   string    `json:"field,omitempty"`
	Message string    `json:"message"`
}

// NewReplyError converts err for a reply.
func NewReplyError(err error) *ReplyError {
	return &ReplyError{Code: errs.CodeOf(err), Field: errs.FieldOf(err), Message: err.Error()}
}

// Err turns the reply error back into an *errs.Error.
func (e *ReplyError) Err() error {
	code := e.Code
	if code == "" {
		code = errs.Internal
	}
	return &errs.Error{Code: code, Field: e.Field, Message: e.Message}
}

// DatasetInfo describes a dataset: its files, variables, dimensions, extent
// and time coverage. Files that cannot be read are listed with an error.
type DatasetInfo struct {
	Files      []FileInfo    `json:"files"`
	Dimensions []DimInfo     `json:"dimensions"`
	Variables  []VarInfo     `json:"variables"`
	Extent     *Extent       `json:"extent,omitempty"`
	Time       *TimeCoverage `json:"time,omitempty"`
}

// FileInfo is one file of a dataset.
type FileInfo struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	Format string `json:"format,omitempty"`
	Error  string `json:"error,omitempty"`
}

// DimInfo is a dimension.
type DimInfo struct {
	Name      string `json:"name"`
	Size      int    `json:"size"`
	Unlimited bool   `json:"unlimited,omitempty"`
}

// VarInfo is a variable.
type VarInfo struct {
	Name         string   `json:"name"`
	Type         string   `json:"type"`
	Dimensions   []string `json:"dimensions"`
	Units        string   `json:"units,omitempty"`
	LongName     string   `json:"long_name,omitempty"`
	StandardName string   `json:"standard_name,omitempty"`
}

// Extent is a lat/lon bounding box in the dataset's own longitude convention.
type Extent struct {
	West  float64 `json:"west"`
	South float64 `json:"south"`
	East  float64 `json:"east"`
	North float64 `json:"north"`
}

// TimeCoverage is the decoded range of the time coordinate (ISO 8601 in
// the dataset's calendar); Error says why it could not be decoded.
type TimeCoverage struct {
	Start    string `json:"start,omitempty"`
	End      string `json:"end,omitempty"`
	Steps    int    `json:"steps"`
	Units    string `json:"units,omitempty"`
	Calendar string `json:"calendar,omitempty"`
	Error    string `json:"error,omitempty"`
}

// HasVariable reports whether the dataset has a variable of that name (a
// full path "/g/v" or a plain name).
func (d *DatasetInfo) HasVariable(name string) bool {
	for _, v := range d.Variables {
		if v.Name == name || v.Name == "/"+name || baseName(v.Name) == name {
			return true
		}
	}
	return false
}

// Readable reports whether at least one file of the dataset could be read.
func (d *DatasetInfo) Readable() bool {
	for _, f := range d.Files {
		if f.Error == "" {
			return true
		}
	}
	return false
}

func baseName(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[i+1:]
		}
	}
	return p
}
