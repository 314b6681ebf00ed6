package api

import (
	"time"

	"github.com/subsetd/subsetd/catalog"
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
	Dataset  string      `json:"dataset"`
	Status   jobs.Status `json:"status"`
	Progress int         `json:"progress"`
	Message  string      `json:"message,omitempty"`
	Created  time.Time   `json:"created"`
	Started  *time.Time  `json:"started,omitempty"`
	Finished *time.Time  `json:"finished,omitempty"`
	Updated  time.Time   `json:"updated"`
	Deadline *time.Time  `json:"deadline,omitempty"`
	Expires  *time.Time  `json:"expires,omitempty"`
	Request  *jobs.Spec  `json:"request,omitempty"`
	Regions  []RegionDoc `json:"regions,omitempty"`
	// Kind is the dataset's kind when the job was submitted; Notes tell
	// what the user should know about its inputs (files left out, time
	// steps found twice, gaps); FilesOpened counts the input files its
	// workers opened.
	Kind        string   `json:"kind,omitempty"`
	Notes       []string `json:"notes,omitempty"`
	FilesOpened int      `json:"files_opened"`
	Links       []Link   `json:"links"`
}

// RegionDoc is the state of one region.
type RegionDoc struct {
	Name    string      `json:"name"`
	Status  jobs.Status `json:"status"`
	Message string      `json:"message,omitempty"`
	Files   []FileDoc   `json:"files"`
}

// FileDoc is a file of a region.
type FileDoc struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	Sha256 string `json:"sha256"`
	Md5    string `json:"md5"`
	Href   string `json:"href"`
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

// DatasetDoc describes a dataset.
type DatasetDoc struct {
	*catalog.Info
	Links []Link `json:"links"`
}

// FilesDoc is a page of a dataset's files.
type FilesDoc struct {
	*catalog.FilePage
	Links []Link `json:"links"`
}

// IndexDoc is the state of a dataset's indexing.
type IndexDoc struct {
	*catalog.IndexStatus
	Links []Link `json:"links"`
}

func indexDoc(st *catalog.IndexStatus) IndexDoc {
	base := "/v1/datasets/" + st.Dataset
	return IndexDoc{IndexStatus: st, Links: []Link{{Rel: "self", Href: base + "/index", Type: "application/json"},
		{Rel: "dataset", Href: base, Type: "application/json"}}}
}

func ptime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// jobDoc converts a job; full includes the request and the regions.
func jobDoc(j *jobs.Job, full bool, retention time.Duration) JobDoc {
	d := JobDoc{ID: j.ID, Dataset: j.Dataset, Status: j.Status, Progress: j.Progress(), Message: j.Message,
		Created: j.Created, Started: ptime(j.Started), Finished: ptime(j.Finished), Updated: j.Updated, Deadline: ptime(j.Deadline),
		Kind: j.Kind, Notes: j.Notes, FilesOpened: j.FilesOpened}
	if !j.Finished.IsZero() && retention > 0 {
		d.Expires = ptime(j.Finished.Add(retention))
	}
	self := "/v1/jobs/" + j.ID
	d.Links = []Link{
		{Rel: "self", Href: self, Type: "application/json"},
		{Rel: "manifest", Href: self + "/manifest.json", Type: "application/json", Title: "files with checksums"},
	}
	if !full {
		return d
	}
	spec := j.Spec
	d.Request = &spec
	d.Regions = make([]RegionDoc, 0, len(j.Regions))
	for _, r := range j.Regions {
		rd := RegionDoc{Name: r.Name, Status: r.Status, Message: r.Message, Files: []FileDoc{}}
		for _, f := range r.Files {
			rd.Files = append(rd.Files, FileDoc{Name: f.Name, Size: f.Size, Sha256: f.Sha256, Md5: f.Md5, Href: jobs.FileHref(j.ID, f.Name)})
		}
		d.Regions = append(d.Regions, rd)
	}
	return d
}

func datasetSummary(d *catalog.Dataset) DatasetSummary {
	return DatasetSummary{ID: d.ID, Kind: d.Kind, Title: d.Title, Files: len(d.Files), Size: d.Size,
		Links: []Link{{Rel: "self", Href: "/v1/datasets/" + d.ID, Type: "application/json"}}}
}
