package catalog

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/catalog/index"
	"github.com/subsetd/subsetd/internal/datafile"
	"github.com/subsetd/subsetd/regions"
)

// The kinds of datasets: how a job combines their files.
const (
	// KindFile is a dataset of one file directly in the data directory.
	KindFile = "file"
	// KindTimeSeries is a folder whose files share one grid and split a
	// time series: a job joins them along time and writes one file per
	// region.
	KindTimeSeries = string(index.TimeSeries)
	// KindGranules is a folder of independent files (swaths, passes,
	// different grids): a job cuts each file a region meets, one output per
	// (region, file).
	KindGranules = string(index.Granules)
)

// Meta is what the configuration says about a dataset: its kind (instead
// of the detected one), a title and a licence shown by the API.
type Meta struct {
	Kind    string `json:"kind,omitempty"`
	Title   string `json:"title,omitempty"`
	License string `json:"license,omitempty"`
}

// Validate checks the settings of dataset id.
func (m Meta) Validate(id string) error {
	if err := datafile.CheckID(id); err != nil {
		return fmt.Errorf("datasets: %w", err)
	}
	switch m.Kind {
	case "", KindTimeSeries, KindGranules:
	default:
		return fmt.Errorf("datasets.%s.kind: %q, use %q or %q", id, m.Kind, KindTimeSeries, KindGranules)
	}
	return nil
}

// Index is what the catalog needs of the index; *index.Store has it.
type Index interface {
	Scan(ctx context.Context, opts index.ScanOptions) (*index.Report, error)
	Search(ctx context.Context, dataset string, bbox *regions.BBox, start, end *time.Time, limit, offset int) ([]index.File, int, error)
	Dataset(ctx context.Context, id string, kind index.Kind) (*index.DatasetSummary, error)
	Errors(ctx context.Context, dataset string) ([]index.Failure, error)
}

var _ Index = (*index.Store)(nil)

// Options configure a catalog.
type Options struct {
	Index    Index
	Datasets map[string]Meta // by dataset id
	// AllowedRoots are folders besides the data directory that its
	// symbolic links may lead into.
	AllowedRoots []string
	// InspectorCommand is the argv of the index's inspector processes
	// (`subsetd inspect --stdin`); nil: this executable.
	InspectorCommand []string
	// IndexWorkers bounds the inspector processes of a scan (default 1).
	IndexWorkers int
	// IndexInterval is the time between two scans of the whole data
	// directory after the first; 0: only the scan at start-up and those
	// asked for.
	IndexInterval time.Duration
	// InspectTimeout bounds the inspection of one file (default 2 min).
	InspectTimeout time.Duration
	// FileTimeout bounds each call of the C libraries on a file in an
	// inspector (index.ScanOptions.CallLimit; 0: none).
	FileTimeout time.Duration
	Log         zerolog.Logger
}
