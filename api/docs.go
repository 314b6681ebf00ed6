package api

import (
	"encoding/json"
	"time"

	"github.com/subsetd/subsetd/catalog"
	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/jobs"
)

// Link is a link of a document (OGC API style).
type Link struct {
	Rel   string `json:"rel"`
	Href  string `json:"href"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
}

// JobDoc is a job as the API shows it.
type JobDoc struct {
	ID       string      `json:"id"`
	Owner    string      `json:"owner,omitempty"` // the name of the key that submitted it
	Dataset  string      `json:"dataset"`
	Status   jobs.Status `json:"status"`
	Progress int         `json:"progress"`
	// RegionsDone counts the regions that reached a final status (but
	// dismissed); BytesDone and BytesTotal the bytes of values its tasks
	// have read of those their plans read (of the tasks started so far).
	RegionsDone int   `json:"regions_done"`
	BytesDone   int64 `json:"bytes_done"`
	BytesTotal  int64 `json:"bytes_total"`
	// QueuePosition of an accepted job: 1 when it is next; EstimatedFinish
	// of a running one, from the pace of its progress so far.
	QueuePosition   int         `json:"queue_position,omitempty"`
	EstimatedFinish *time.Time  `json:"estimated_finish,omitempty"`
	Message         string      `json:"message,omitempty"`
	Created         time.Time   `json:"created"`
	Started         *time.Time  `json:"started,omitempty"`
	Finished        *time.Time  `json:"finished,omitempty"`
	Updated         time.Time   `json:"updated"`
	Deadline        *time.Time  `json:"deadline,omitempty"`
	Expires         *time.Time  `json:"expires,omitempty"`
	Request         *JobRequest `json:"request,omitempty"`
	Regions         []RegionDoc `json:"regions,omitempty"`
	// Kind is the dataset's kind when the job was submitted; Notes tell
	// what the user should know about its inputs (files left out, time
	// steps found twice, gaps); FilesOpened counts the input files its
	// workers opened.
	Kind        string   `json:"kind,omitempty"`
	Notes       []string `json:"notes,omitempty"`
	FilesOpened int      `json:"files_opened"`
	// Files are the job's own files: its statistics (stats.nc,
	// stats.csv), once written.
	Files []FileDoc `json:"files,omitempty"`
	// Deliveries are the notifications of a job with notify, each with
	// its attempts (full documents only).
	Deliveries []jobs.Delivery `json:"deliveries,omitempty"`
	Links      []Link          `json:"links"`
}

// RegionDoc is the state of one region.
type RegionDoc struct {
	Name    string      `json:"name"`
	Status  jobs.Status `json:"status"`
	Message string      `json:"message,omitempty"`
	Files   []FileDoc   `json:"files"`
}

// FileDoc is a file of a region, or of the job itself (its statistics,
// without a region).
type FileDoc struct {
	Name   string `json:"name"`
	Region string `json:"region,omitempty"`
	Size   int64  `json:"size"`
	Sha256 string `json:"sha256"`
	Md5    string `json:"md5"`
	// Shape is the file's dimension lengths by name; Variables its
	// variables (unknown for files of older servers).
	Shape     map[string]int  `json:"shape,omitempty"`
	Variables []engine.OutVar `json:"variables,omitempty"`
	Href      string          `json:"href"`
	// SignedHref is Href signed for a download without a key, valid for
	// the server's link TTL (from the hour this document was made).
	SignedHref string `json:"signed_href,omitempty"`
}

// JobList is a page of jobs.
type JobList struct {
	Jobs  []JobDoc `json:"jobs"`
	Links []Link   `json:"links"`
}

// DatasetSummary is a dataset in the list.
type DatasetSummary struct {
	ID    string `json:"id"`
	Kind  string `json:"kind,omitempty"`
	Title string `json:"title,omitempty"`
	Files int    `json:"files"`
	Size  int64  `json:"size"`
	Links []Link `json:"links"`
}

// DatasetList lists the datasets.
type DatasetList struct {
	Datasets []DatasetSummary `json:"datasets"`
	Links    []Link           `json:"links"`
}

// DatasetDoc describes a dataset: GET /v1/datasets/{id}.
type DatasetDoc struct {
	ID           string `json:"id"`
	Kind         string `json:"kind,omitempty"`
	DetectedKind string `json:"detected_kind,omitempty"`
	Title        string `json:"title,omitempty"`
	License      string `json:"license,omitempty"`
	FileCount    int    `json:"file_count"`
	ErrorCount   int    `json:"error_count"`
	Size         int64  `json:"size"`
	// Files are the first catalog.MaxListed files, as GET .../files lists them.
	Files      []DatasetFile `json:"files"`
	Dimensions []Dimension   `json:"dimensions"`
	Variables  []Variable    `json:"variables"`
	Extent     *Extent       `json:"extent,omitempty"`
	Time       *TimeCoverage `json:"time,omitempty"`
	ScannedAt  *time.Time    `json:"scanned_at,omitempty"`
	// RefusedLinks are the symbolic links of the dataset's folder the
	// last scan left out, with the reason (no path of the server's).
	RefusedLinks []RefusedLink `json:"refused_links,omitempty"`
	Links        []Link        `json:"links"`
}

// RefusedLink is a symbolic link of a dataset left out.
type RefusedLink struct {
	Name   string `json:"name"` // relative to the data directory, '/'-separated
	Reason string `json:"reason"`
}

// DatasetFile is a file of a dataset.
type DatasetFile struct {
	Name      string          `json:"name"` // relative to the data directory, '/'-separated
	Size      int64           `json:"size"`
	Modified  time.Time       `json:"modified"`
	Format    string          `json:"format,omitempty"`
	BBox      []float64       `json:"bbox,omitempty"`
	Footprint json.RawMessage `json:"footprint,omitempty"`
	Time      *TimeCoverage   `json:"time,omitempty"`
	Variables []string        `json:"variables,omitempty"`
	Error     string          `json:"error,omitempty"`
}

// Dimension is a dimension of a dataset.
type Dimension struct {
	Name      string `json:"name"`
	Size      int    `json:"size"`
	Unlimited bool   `json:"unlimited,omitempty"`
}

// Variable is a variable of a dataset.
type Variable struct {
	Name         string   `json:"name"`
	Type         string   `json:"type"`
	Dimensions   []string `json:"dimensions"`
	Units        string   `json:"units,omitempty"`
	LongName     string   `json:"long_name,omitempty"`
	StandardName string   `json:"standard_name,omitempty"`
}

// Extent is a lat/lon box of cell centres, longitudes in [-180, 180], west
// > east when it crosses the antimeridian.
type Extent struct {
	West  float64 `json:"west"`
	South float64 `json:"south"`
	East  float64 `json:"east"`
	North float64 `json:"north"`
}

// TimeCoverage is a decoded range of time steps (ISO 8601 in the data's
// calendar); Error says why it could not be decoded.
type TimeCoverage struct {
	Start    string `json:"start,omitempty"`
	End      string `json:"end,omitempty"`
	Steps    int    `json:"steps"`
	Units    string `json:"units,omitempty"`
	Calendar string `json:"calendar,omitempty"`
	Error    string `json:"error,omitempty"`
}

// FilesDoc is a page of a dataset's files: GET /v1/datasets/{id}/files.
type FilesDoc struct {
	Dataset string        `json:"dataset"`
	Total   int           `json:"total"`
	Offset  int           `json:"offset"`
	Limit   int           `json:"limit"`
	Files   []DatasetFile `json:"files"`
	Links   []Link        `json:"links"`
}

// IndexDoc is the state of a dataset's indexing: GET /v1/datasets/{id}/index.
type IndexDoc struct {
	Dataset   string     `json:"dataset"`
	Status    string     `json:"status"`
	Requested *time.Time `json:"requested,omitempty"`
	ScannedAt *time.Time `json:"scanned_at,omitempty"`
	LastScan  *ScanDoc   `json:"last_scan,omitempty"`
	Links     []Link     `json:"links"`
}

// ScanDoc sums up a scan of the index.
type ScanDoc struct {
	Scope    string         `json:"scope"`
	Force    bool           `json:"force,omitempty"`
	Started  time.Time      `json:"started"`
	Finished time.Time      `json:"finished"`
	Files    int            `json:"files"`
	New      int            `json:"new"`
	Changed  int            `json:"changed"`
	Deleted  int            `json:"deleted"`
	Skipped  int            `json:"skipped"`
	Failed   int            `json:"failed"`
	Failures []FileErrorDoc `json:"failures,omitempty"`
	Error    string         `json:"error,omitempty"`
}

// FileErrorDoc is a file that could not be read.
type FileErrorDoc struct {
	Name  string `json:"name"`
	Error string `json:"error"`
}

func datasetDoc(info *catalog.Info, links []Link) DatasetDoc {
	d := DatasetDoc{ID: info.ID, Kind: info.Kind, DetectedKind: info.DetectedKind, Title: info.Title, License: info.License,
		FileCount: info.FileCount, ErrorCount: info.ErrorCount, Size: info.Size, Files: datasetFiles(info.Files),
		Dimensions: []Dimension{}, Variables: []Variable{}, Time: timeCoverage(info.Time), ScannedAt: info.ScannedAt, Links: links}
	for _, x := range info.Dimensions {
		d.Dimensions = append(d.Dimensions, Dimension{Name: x.Name, Size: x.Length, Unlimited: x.Unlimited})
	}
	for _, v := range info.Variables {
		d.Variables = append(d.Variables, Variable{Name: v.Name, Type: v.Type, Dimensions: v.Dimensions,
			Units: v.Units, LongName: v.LongName, StandardName: v.StandardName})
	}
	if e := info.Extent; e != nil {
		d.Extent = &Extent{West: e.West, South: e.South, East: e.East, North: e.North}
	}
	for _, l := range info.RefusedLinks {
		d.RefusedLinks = append(d.RefusedLinks, RefusedLink{Name: l.Name, Reason: l.Reason})
	}
	return d
}

func datasetFiles(fs []catalog.File) []DatasetFile {
	out := make([]DatasetFile, len(fs))
	for i, f := range fs {
		out[i] = DatasetFile{Name: f.Name, Size: f.Size, Modified: f.Modified, Format: f.Format, BBox: f.BBox,
			Footprint: f.Footprint, Time: timeCoverage(f.Time), Variables: f.Variables, Error: f.Error}
	}
	return out
}

func timeCoverage(t *engine.TimeCoverage) *TimeCoverage {
	if t == nil {
		return nil
	}
	return &TimeCoverage{Start: t.Start, End: t.End, Steps: t.Steps, Units: t.Units, Calendar: t.Calendar, Error: t.Error}
}

func filesDoc(p *catalog.FilePage, links []Link) FilesDoc {
	return FilesDoc{Dataset: p.Dataset, Total: p.Total, Offset: p.Offset, Limit: p.Limit, Files: datasetFiles(p.Files), Links: links}
}

func indexDoc(st *catalog.IndexStatus, u urls) IndexDoc {
	base := u.to("/v1/datasets/" + st.Dataset)
	d := IndexDoc{Dataset: st.Dataset, Status: st.Status, Requested: st.Requested, ScannedAt: st.ScannedAt,
		Links: []Link{{Rel: "self", Href: base + "/index", Type: "application/json"}, {Rel: "dataset", Href: base, Type: "application/json"}}}
	if s := st.LastScan; s != nil {
		d.LastScan = &ScanDoc{Scope: s.Scope, Force: s.Force, Started: s.Started, Finished: s.Finished, Files: s.Files,
			New: s.New, Changed: s.Changed, Deleted: s.Deleted, Skipped: s.Skipped, Failed: s.Failed, Error: s.Error}
		for _, f := range s.Failures {
			d.LastScan.Failures = append(d.LastScan.Failures, FileErrorDoc{Name: f.Name, Error: f.Error})
		}
	}
	return d
}

func ptime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// jobDoc converts a job; full includes the request and the regions.
func jobDoc(j *jobs.Job, full bool, retention time.Duration, u urls) JobDoc {
	d := JobDoc{ID: j.ID, Owner: j.Owner, Dataset: j.Dataset, Status: j.Status, Progress: j.Progress(), Message: j.Message,
		Created: j.Created, Started: ptime(j.Started), Finished: ptime(j.Finished), Updated: j.Updated, Deadline: ptime(j.Deadline),
		Kind: j.Kind, Notes: j.Notes, FilesOpened: j.FilesOpened,
		RegionsDone: j.RegionsDone(), BytesDone: j.BytesDone, BytesTotal: j.BytesTotal, QueuePosition: j.QueuePosition}
	if f := j.Fraction(); j.Status == jobs.Running && !j.Started.IsZero() && f > 0.01 {
		// The pace so far, from the last change (Updated), not from now:
		// the document is the same at every read until the job changes.
		took := j.Updated.Sub(j.Started)
		t := j.Started.Add(time.Duration(float64(took) / f)).UTC().Truncate(time.Second)
		d.EstimatedFinish = &t
	}
	if !j.Finished.IsZero() && retention > 0 {
		d.Expires = ptime(j.Finished.Add(retention))
	}
	self := u.to("/v1/jobs/" + j.ID)
	d.Links = []Link{
		{Rel: "self", Href: self, Type: "application/json"},
		{Rel: "manifest", Href: self + "/manifest.json", Type: "application/json", Title: "files with checksums"},
		{Rel: "sha256sums", Href: self + "/sha256sums", Type: "text/plain", Title: "checksums for sha256sum -c, named as in the archive"},
	}
	if j.Status.Final() {
		d.Links = append(d.Links, Link{Rel: "archive", Href: self + "/files.zip", Type: "application/zip", Title: "every file in one ZIP archive"})
	}
	if j.Spec.Statistics != nil {
		d.Links = append(d.Links, Link{Rel: "statistics", Href: self + "/stats", Type: "application/json", Title: "the regions' statistics as a table"})
	}
	for _, f := range j.Files {
		d.Files = append(d.Files, fileDoc(j.ID, "", f, u))
	}
	if !full {
		return d
	}
	d.Request = jobRequest(&j.Spec)
	d.Deliveries = j.Deliveries
	d.Regions = make([]RegionDoc, 0, len(j.Regions))
	for _, r := range j.Regions {
		d.Regions = append(d.Regions, regionDoc(j.ID, r, u))
	}
	return d
}

// regionDoc is region r of job id with its files.
func regionDoc(id string, r jobs.Region, u urls) RegionDoc {
	rd := RegionDoc{Name: r.Name, Status: r.Status, Message: r.Message, Files: []FileDoc{}}
	for _, f := range r.Files {
		rd.Files = append(rd.Files, fileDoc(id, r.Name, f, u))
	}
	return rd
}

// fileDoc is a file of job id, of a region (region "": the job's own).
func fileDoc(id, region string, f jobs.File, u urls) FileDoc {
	return FileDoc{Name: f.Name, Region: region, Size: f.Size, Sha256: f.Sha256, Md5: f.Md5, Shape: f.Shape, Variables: f.Variables,
		Href: u.to(jobs.FileHref(id, f.Name)), SignedHref: u.signed(jobs.FileHref(id, f.Name))}
}

// StatsDoc is the statistics of a job as a table: the rows of its
// stats.csv, in the same order.
type StatsDoc struct {
	Job       string         `json:"job"`
	Ops       []string       `json:"ops"`
	Weights   string         `json:"weights"`
	Variables []StatsVarDoc  `json:"variables"`
	Rows      []StatsRowDoc  `json:"rows"`
	Level     *StatsLevelDoc `json:"level,omitempty"`
	Links     []Link         `json:"links"`
}

// StatsVarDoc describes a variable of the statistics.
type StatsVarDoc struct {
	Name         string `json:"name"`
	Units        string `json:"units,omitempty"`
	LongName     string `json:"long_name,omitempty"`
	StandardName string `json:"standard_name,omitempty"`
	Weighting    string `json:"weighting"`
}

// StatsLevelDoc describes the vertical coordinate of the rows' levels.
type StatsLevelDoc struct {
	Name     string `json:"name"`
	Units    string `json:"units,omitempty"`
	Positive string `json:"positive,omitempty"`
}

// StatsRowDoc is one value: a row of stats.csv (value null where it has
// none).
type StatsRowDoc struct {
	Region   string   `json:"region"`
	Time     string   `json:"time"`
	Level    *float64 `json:"level,omitempty"`
	Variable string   `json:"variable"`
	Op       string   `json:"op"`
	Value    *float64 `json:"value"`
	Count    int64    `json:"count"`
}

func statsDoc(id string, t *engine.StatsTable, u urls) StatsDoc {
	d := StatsDoc{Job: id, Ops: t.Ops, Weights: t.Weights, Variables: []StatsVarDoc{}, Rows: []StatsRowDoc{},
		Links: []Link{{Rel: "self", Href: u.to("/v1/jobs/" + id + "/stats"), Type: "application/json"},
			{Rel: "job", Href: u.to("/v1/jobs/" + id), Type: "application/json"}}}
	for _, v := range t.Vars {
		d.Variables = append(d.Variables, StatsVarDoc{Name: v.Name, Units: v.Units, LongName: v.LongName, StandardName: v.StandardName, Weighting: v.Weighting})
	}
	if t.Level != nil {
		d.Level = &StatsLevelDoc{Name: t.Level.Name, Units: t.Level.Units, Positive: t.Level.Positive}
	}
	for _, r := range t.Rows() {
		d.Rows = append(d.Rows, StatsRowDoc(r))
	}
	return d
}

func datasetSummary(d *catalog.Dataset, u urls) DatasetSummary {
	return DatasetSummary{ID: d.ID, Kind: d.Kind, Title: d.Title, Files: len(d.Files), Size: d.Size,
		Links: []Link{{Rel: "self", Href: u.to("/v1/datasets/" + d.ID), Type: "application/json"}}}
}
