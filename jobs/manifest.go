package jobs

import (
	"net/url"
	"strings"
	"time"
)

// Manifest lists the files of a job with their checksums; it is served at
// /v1/jobs/{id}/manifest.json and written beside the files.
type Manifest struct {
	Job      string          `json:"job"`
	Dataset  string          `json:"dataset"`
	Status   Status          `json:"status"`
	Created  time.Time       `json:"created"`
	Finished *time.Time      `json:"finished,omitempty"`
	Files    []ManifestEntry `json:"files"`
}

// ManifestEntry is one file of a manifest: a region's, or the job's own
// (its statistics, without a region).
type ManifestEntry struct {
	Region string `json:"region,omitempty"`
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	Sha256 string `json:"sha256"`
	Md5    string `json:"md5"`
	Href   string `json:"href"`
}

// FileHref is the download path of a job's file.
func FileHref(jobID, name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return "/v1/jobs/" + url.PathEscape(jobID) + "/files/" + strings.Join(parts, "/")
}

// BuildManifest lists the files of j's regions in request order, then
// the job's own.
func BuildManifest(j *Job) *Manifest {
	m := &Manifest{Job: j.ID, Dataset: j.Dataset, Status: j.Status, Created: j.Created, Files: []ManifestEntry{}}
	if !j.Finished.IsZero() {
		f := j.Finished
		m.Finished = &f
	}
	for _, r := range j.Regions {
		for _, f := range r.Files {
			m.Files = append(m.Files, ManifestEntry{Region: r.Name, Name: f.Name, Size: f.Size, Sha256: f.Sha256, Md5: f.Md5, Href: FileHref(j.ID, f.Name)})
		}
	}
	for _, f := range j.Files {
		m.Files = append(m.Files, ManifestEntry{Name: f.Name, Size: f.Size, Sha256: f.Sha256, Md5: f.Md5, Href: FileHref(j.ID, f.Name)})
	}
	return m
}
