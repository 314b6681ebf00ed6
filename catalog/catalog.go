// Package catalog is the server's view of the datasets of the data
// directory. Each immediate sub-folder of the data directory is a dataset
// made of the NetCDF/HDF5 files below it (compressed ones included); each
// such file directly in the data directory is a dataset of its own. A
// dataset's id is the folder name, or the file name without its extensions.
//
// What the files hold comes from the index (catalog/index): the catalog keeps
// it up to date (a scan at start-up, on a schedule and on request), answers
// the dataset and file listings of the API from it, and decides which files
// each region of a job needs. It never opens a data file itself: the C
// libraries run in the index's inspector processes.
//
// Nothing outside the data directory and the allowed roots is ever listed:
// ids are validated, and symbolic links whose target (every component
// resolved) lies elsewhere are refused (index.Roots), and reported.
package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/catalog/index"
	"github.com/subsetd/subsetd/internal/datafile"
	"github.com/subsetd/subsetd/internal/errs"
)

// Dataset is a dataset found in the data directory.
type Dataset struct {
	ID          string
	Dir         bool     // a folder of files
	Files       []string // absolute paths, sorted
	Size        int64
	Fingerprint string // changes when a file is added, removed or modified
	// Kind and Title are filled by Datasets: the kind as configured or
	// detected by the index ("" when the index does not know it yet).
	Kind, Title string
}

// Catalog is the set of datasets of a data directory and their index.
type Catalog struct {
	root  string
	roots *index.Roots
	idx   Index
	meta  map[string]Meta
	opt   Options
	log   zerolog.Logger

	scans *scanner

	mu    sync.Mutex
	infos map[string]cachedInfo
}

// New returns the catalog of the data directory dir. Start begins keeping
// its index up to date.
func New(dir string, opt Options) (*Catalog, error) {
	if opt.Index == nil {
		return nil, fmt.Errorf("catalog: no index")
	}
	roots, err := index.NewRoots(dir, opt.AllowedRoots)
	if err != nil {
		return nil, err
	}
	root := roots.Data()
	for id, m := range opt.Datasets {
		if err := m.Validate(id); err != nil {
			return nil, err
		}
	}
	if opt.InspectTimeout <= 0 {
		opt.InspectTimeout = 2 * time.Minute
	}
	if opt.IndexWorkers < 1 {
		opt.IndexWorkers = 1
	}
	c := &Catalog{root: root, roots: roots, idx: opt.Index, meta: opt.Datasets, opt: opt, log: opt.Log, infos: map[string]cachedInfo{}}
	c.scans = newScanner(c)
	return c, nil
}

// Root is the resolved data directory.
func (c *Catalog) Root() string { return c.root }

// Roots are the folders links of the data directory may lead into: the
// data directory first, then the allowed roots.
func (c *Catalog) Roots() []string { return c.roots.Dirs() }

// inside resolves p and reports whether it lies under the roots.
func (c *Catalog) inside(p string) (string, os.FileInfo, bool) {
	real, st, err := c.roots.Resolve(p)
	if err != nil {
		return "", nil, false
	}
	return real, st, true
}

// Resolve turns a file name relative to the data directory ('/'-separated,
// as the index and tasks keep them) into an absolute path, refusing names
// that leave the data directory, directly or through symbolic links.
func (c *Catalog) Resolve(rel string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(rel))
	if rel == "" || filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", errs.E(errs.NotFound, "no file %q in the data directory", rel)
	}
	p := filepath.Join(c.root, clean)
	_, st, ok := c.inside(p)
	if !ok || !st.Mode().IsRegular() {
		return "", errs.E(errs.NotFound, "file %s is no longer in the data directory", rel)
	}
	return p, nil
}

// entry turns a directory entry of the data directory into a dataset. With
// full unset, the walk of a folder stops at its first data file: enough to
// know the dataset exists.
func (c *Catalog) entry(name string, full bool) (*Dataset, bool) {
	if strings.HasPrefix(name, ".") {
		return nil, false
	}
	path := filepath.Join(c.root, name)
	real, st, ok := c.inside(path)
	if !ok {
		return nil, false
	}
	if st.IsDir() {
		if !datafile.ValidID(name) {
			return nil, false
		}
		d := &Dataset{ID: name, Dir: true}
		c.roots.WalkFolder(name, real, index.Walker{
			IsData: datafile.IsDataFile,
			// The path under the data directory, not the target: names
			// shown to users stay those of the folder.
			File: func(rel, _ string, fst os.FileInfo) bool {
				d.Files = append(d.Files, filepath.Join(c.root, filepath.FromSlash(rel)))
				d.Size += fst.Size()
				return full
			},
			Refused: func(string, error) {}, // reported by the index's scans
		})
		if len(d.Files) == 0 {
			return nil, false
		}
		if full {
			c.fingerprint(d)
		}
		return d, true
	}
	if !st.Mode().IsRegular() {
		return nil, false
	}
	id, err := datafile.DatasetID(name, false)
	if err != nil {
		return nil, false
	}
	d := &Dataset{ID: id, Files: []string{path}, Size: st.Size()}
	if full {
		c.fingerprint(d)
	}
	return d, true
}

func (c *Catalog) fingerprint(d *Dataset) {
	sort.Strings(d.Files)
	h := sha256.New()
	for _, f := range d.Files {
		st, err := os.Stat(f)
		if err != nil {
			continue
		}
		fmt.Fprintf(h, "%s\x00%d\x00%d\n", f, st.Size(), st.ModTime().UnixNano())
	}
	d.Fingerprint = hex.EncodeToString(h.Sum(nil))
}

// List returns the datasets, sorted by id. When a folder and a file give
// the same id, the first in name order wins and the other is logged (the
// index's rule too).
func (c *Catalog) List() ([]*Dataset, error) {
	ents, err := os.ReadDir(c.root)
	if err != nil {
		return nil, fmt.Errorf("read data directory: %w", err)
	}
	var out []*Dataset
	seen := map[string]bool{}
	for _, e := range ents {
		d, ok := c.entry(e.Name(), true)
		if !ok {
			continue
		}
		if seen[d.ID] {
			c.log.Warn().Str("dataset", d.ID).Str("entry", e.Name()).Msg("two datasets have the same id: the second is ignored")
			continue
		}
		seen[d.ID] = true
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Datasets is List with each dataset's kind and title.
func (c *Catalog) Datasets(ctx context.Context) ([]*Dataset, error) {
	ds, err := c.List()
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		m := c.meta[d.ID]
		d.Title = m.Title
		if !d.Dir {
			d.Kind = KindFile
			continue
		}
		sum, err := c.idx.Dataset(ctx, d.ID, index.Kind(m.Kind))
		switch {
		case err == nil:
			d.Kind = string(sum.Kind)
		case errs.CodeOf(err) != errs.NotFound:
			return nil, err
		}
	}
	return ds, nil
}

// Get returns one dataset with its files; a NotFound error when there is
// none.
func (c *Catalog) Get(id string) (*Dataset, error) { return c.get(id, true) }

// exists is Get without the list of files (only the first): cheap on
// folders of many files.
func (c *Catalog) exists(id string) (*Dataset, error) { return c.get(id, false) }

func (c *Catalog) get(id string, full bool) (*Dataset, error) {
	if !datafile.ValidID(id) {
		return nil, errs.E(errs.NotFound, "no dataset %q", id)
	}
	ents, err := os.ReadDir(c.root)
	if err != nil {
		return nil, fmt.Errorf("read data directory: %w", err)
	}
	// In name order, as List: the first entry giving the id wins.
	for _, e := range ents {
		if name := e.Name(); name != id && !strings.HasPrefix(name, id+".") {
			continue
		}
		if d, ok := c.entry(e.Name(), full); ok && d.ID == id {
			return d, nil
		}
	}
	return nil, errs.E(errs.NotFound, "no dataset %q", id)
}

// rel is a path of the data directory as the index names it.
func (c *Catalog) rel(abs string) string {
	r, err := filepath.Rel(c.root, abs)
	if err != nil {
		return abs
	}
	return filepath.ToSlash(r)
}
