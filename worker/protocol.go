package worker

import (
	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/regions"
	"strings"
)

// The task protocol: the server starts `subsetd worker` (jobs/pool), writes
// one Task as JSON on its standard input and reads one Reply as JSON from
// its standard output. The worker logs to standard error. It exits 0 when it
// wrote a reply (even one with an error); any other exit, or a reply that
// cannot be decoded, is a crash.
//
// The inspector protocol (Inspect) answers paths with index.Record lines.

// Task is the one task given to a worker process: cut Regions out of Files
// into OutDir. Its regions arrive fixed (their areas written out): the
// worker never looks a region set up.
type Task struct {
	JobID  string   `json:"job_id,omitempty"`
	TaskID int      `json:"task_id,omitempty"`
	Files  []string `json:"files"`
	// What to cut, as engine.Request has it (Request).
	Regions    []regions.Fixed       `json:"regions"`
	Variables  []string              `json:"variables,omitempty"`
	Time       *engine.TimeRange     `json:"time,omitempty"`
	Vertical   *engine.VerticalRange `json:"vertical,omitempty"`
	Stride     map[string]int        `json:"stride,omitempty"`
	Select     string                `json:"select,omitempty"`
	Output     engine.Output         `json:"output,omitzero"`
	Statistics *engine.Statistics    `json:"statistics,omitempty"`

	OutDir       string `json:"out_dir"`
	MemoryBudget int64  `json:"memory_budget,omitempty"`
	Command      string `json:"command,omitempty"` // recorded in the outputs' history
	// Concat joins Files along time into one output per region (a time
	// series split over files): the engine's Options.Concat.
	Concat bool `json:"concat,omitempty"`
	// RegionFiles, when set, gives for each of Regions the indexes into
	// Files of the files it needs (granules): each file is opened once and
	// cut for those regions only, giving <region>/<file stem>.nc; a file no
	// region needs is never opened.
	RegionFiles [][]int `json:"region_files,omitempty"`
	// Unreadable are files of Files a C library hung or crashed on in an
	// earlier run of this task, each with the error it gets instead of
	// being opened ("file x.nc: the C library did not answer within
	// 15 s"): the task runs again without them.
	Unreadable map[string]string `json:"unreadable,omitempty"`
	// StatsTable, when set, makes the task write statistics instead of
	// cutting: the table at this path (an engine.StatsTable as JSON, the
	// merged parts of a job) becomes stats.nc and stats.csv in OutDir,
	// listed in the reply's Files; Files then name the inputs the
	// statistics come from, as the metadata says them.
	StatsTable string `json:"stats_table,omitempty"`
	// DryRun plans the task without reading a data value or writing a
	// file (engine.Options.DryRun): the reply's result describes the
	// outputs; OutDir is not used.
	DryRun bool `json:"dry_run,omitempty"`
}

// StatsPartName is the file, in its OutDir, where a cutting task with
// Statistics writes the statistics of its regions (an engine.StatsTable as
// JSON): a table may be far larger than a reply.
const StatsPartName = "stats-part.json"

// Request is the engine's request of a task.
func (t *Task) Request() *engine.Request {
	return &engine.Request{Regions: t.Regions, Variables: t.Variables, Time: t.Time, Vertical: t.Vertical, Stride: t.Stride, Select: t.Select, Output: t.Output, Statistics: t.Statistics}
}

// Reply is what a worker prints: the result of a cutting task, the files of
// a statistics task (StatsTable), or an error.
//
// Before its reply a cutting task prints progress lines, a Reply with only
// Progress set ({"progress": ...}, ProgressPrefix), as its cut advances.
type Reply struct {
	Result   *engine.Result   `json:"result,omitempty"`
	Files    []engine.OutFile `json:"files,omitempty"`
	Error    *ReplyError      `json:"error,omitempty"`
	Progress *Progress        `json:"progress,omitempty"`
}

// ProgressPrefix starts a progress line.
const ProgressPrefix = `{"progress":`

// Progress is how far a task's cut is: bytes of values read of those its
// plan reads (of the input files planned so far: granules are planned one
// by one), regions' cuts ended (with granules, one per region and file),
// and the share of the task done, which only grows and stays below 1
// until the reply.
type Progress struct {
	BytesDone   int64   `json:"bytes_done"`
	BytesTotal  int64   `json:"bytes_total"`
	RegionsDone int     `json:"regions_done"`
	Fraction    float64 `json:"fraction"`
}

// ReplyError carries an errs.Error across the process boundary.
type ReplyError struct {
	Code    errs.Code `json:"code"`
	Field   string    `json:"field,omitempty"`
	Message string    `json:"message"`
}

// NewReplyError converts err for a reply: its message without the field
// in front, which Err puts back once.
func NewReplyError(err error) *ReplyError {
	field := errs.FieldOf(err)
	msg := err.Error()
	if field != "" {
		msg = strings.TrimPrefix(msg, field+": ")
	}
	return &ReplyError{Code: errs.CodeOf(err), Field: field, Message: msg}
}

// Err turns the reply error back into an *errs.Error.
func (e *ReplyError) Err() error {
	code := e.Code
	if code == "" {
		code = errs.Internal
	}
	return &errs.Error{Code: code, Field: e.Field, Message: e.Message}
}
