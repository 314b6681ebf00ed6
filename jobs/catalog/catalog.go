// Package catalog finds the datasets of the data directory and describes
// them. Each immediate sub-folder of the data directory is a dataset made of
// the NetCDF/HDF5 files below it; each such file directly in the data
// directory is a dataset of its own. A dataset's id is the folder name, or
// the file name without its extension.
//
// Nothing outside the data directory is ever listed: ids are validated, and
// symbolic links whose target lies outside are refused. Descriptions need
// the C readers, so they are made by a function the caller gives (a worker
// process) and cached by the files' names, sizes and times.
package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/singleflight"

	"github.com/subsetd/subsetd/jobs"
	"github.com/subsetd/subsetd/jobs/errs"
)

// Extensions of the files served, lower case.
var Extensions = []string{".nc", ".nc4", ".netcdf", ".cdf", ".h5", ".hdf5", ".he5", ".hdf"}

var validID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ValidID reports whether id can name a dataset.
func ValidID(id string) bool { return validID.MatchString(id) && !strings.Contains(id, "..") }

// Dataset is a dataset found in the data directory.
type Dataset struct {
	ID          string
	Dir         bool     // a folder of files
	Files       []string // absolute paths, sorted
	Size        int64
	Fingerprint string // changes when a file is added, removed or modified
}

// DescribeFunc describes the files of a dataset; root is the data
// directory, to report file names relative to it.
type DescribeFunc func(ctx context.Context, files []string, root string) (*jobs.DatasetInfo, error)

// Cache stores descriptions across restarts (jobs.Store does).
type Cache interface {
	CachedDataset(ctx context.Context, id, fingerprint string) ([]byte, bool, error)
	CacheDataset(ctx context.Context, id, fingerprint string, doc []byte) error
}

// Catalog is the set of datasets of a data directory.
type Catalog struct {
	root     string
	describe DescribeFunc
	cache    Cache
	log      zerolog.Logger
	timeout  time.Duration

	mu  sync.Mutex
	mem map[string]cached
	sf  singleflight.Group
}

type cached struct {
	fp   string
	info *jobs.DatasetInfo
}

// New returns the catalog of the data directory dir.
func New(dir string, describe DescribeFunc, cache Cache, log zerolog.Logger) (*Catalog, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	root, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("data directory %s is not a directory", dir)
	}
	return &Catalog{root: root, describe: describe, cache: cache, log: log, timeout: 2 * time.Minute, mem: map[string]cached{}}, nil
}

// Root is the resolved data directory.
func (c *Catalog) Root() string { return c.root }

func isDataFile(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	for _, e := range Extensions {
		if ext == e {
			return true
		}
	}
	return false
}

// inside resolves p and reports whether it lies in the data directory.
func (c *Catalog) inside(p string) (string, os.FileInfo, bool) {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", nil, false
	}
	rel, err := filepath.Rel(c.root, real)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		c.log.Warn().Str("path", p).Str("target", real).Msg("refused: symbolic link out of the data directory")
		return "", nil, false
	}
	st, err := os.Stat(real)
	if err != nil {
		return "", nil, false
	}
	return real, st, true
}

// entry turns a directory entry of the data directory into a dataset.
func (c *Catalog) entry(name string) (*Dataset, bool) {
	if strings.HasPrefix(name, ".") {
		return nil, false
	}
	path := filepath.Join(c.root, name)
	real, st, ok := c.inside(path)
	if !ok {
		return nil, false
	}
	if st.IsDir() {
		if !ValidID(name) {
			return nil, false
		}
		d := &Dataset{ID: name, Dir: true}
		_ = filepath.WalkDir(real, func(p string, e fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if strings.HasPrefix(e.Name(), ".") && p != real {
				if e.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if e.IsDir() || !isDataFile(e.Name()) {
				return nil
			}
			// Report the path under the data directory, not the target:
			// names shown to users stay those of the folder.
			if _, fst, ok := c.inside(p); ok && fst.Mode().IsRegular() {
				d.Files = append(d.Files, p)
				d.Size += fst.Size()
			}
			return nil
		})
		if len(d.Files) == 0 {
			return nil, false
		}
		c.fingerprint(d)
		return d, true
	}
	if !st.Mode().IsRegular() || !isDataFile(name) {
		return nil, false
	}
	id := strings.TrimSuffix(name, filepath.Ext(name))
	if !ValidID(id) {
		return nil, false
	}
	d := &Dataset{ID: id, Files: []string{path}, Size: st.Size()}
	c.fingerprint(d)
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
// the same id, the first in name order wins and the other is logged.
func (c *Catalog) List() ([]*Dataset, error) {
	ents, err := os.ReadDir(c.root)
	if err != nil {
		return nil, fmt.Errorf("read data directory: %w", err)
	}
	var out []*Dataset
	seen := map[string]bool{}
	for _, e := range ents {
		d, ok := c.entry(e.Name())
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

// Get returns one dataset; a NotFound error when there is none.
func (c *Catalog) Get(id string) (*Dataset, error) {
	if !ValidID(id) {
		return nil, errs.E(errs.NotFound, "no dataset %q", id)
	}
	ds, err := c.List()
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		if d.ID == id {
			return d, nil
		}
	}
	return nil, errs.E(errs.NotFound, "no dataset %q", id)
}

// Describe returns the description of a dataset, from the cache when its
// files did not change. Concurrent calls for one dataset share one worker.
func (c *Catalog) Describe(ctx context.Context, id string) (*Dataset, *jobs.DatasetInfo, error) {
	d, err := c.Get(id)
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	m, ok := c.mem[id]
	c.mu.Unlock()
	if ok && m.fp == d.Fingerprint {
		return d, m.info, nil
	}
	ch := c.sf.DoChan(id+"\x00"+d.Fingerprint, func() (any, error) {
		// Detached: one impatient client must not fail everyone's call.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
		defer cancel()
		if c.cache != nil {
			if doc, ok, err := c.cache.CachedDataset(ctx, id, d.Fingerprint); err == nil && ok {
				var info jobs.DatasetInfo
				if json.Unmarshal(doc, &info) == nil {
					return &info, nil
				}
			}
		}
		t0 := time.Now()
		info, err := c.describe(ctx, d.Files, c.root)
		if err != nil {
			return nil, err
		}
		c.log.Info().Str("dataset", id).Int("files", len(d.Files)).Dur("duration", time.Since(t0)).Msg("dataset described")
		if c.cache != nil {
			if doc, err := json.Marshal(info); err == nil {
				if err := c.cache.CacheDataset(ctx, id, d.Fingerprint, doc); err != nil {
					c.log.Warn().Err(err).Str("dataset", id).Msg("cache description")
				}
			}
		}
		return info, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return d, nil, r.Err
		}
		info := r.Val.(*jobs.DatasetInfo)
		c.mu.Lock()
		c.mem[id] = cached{d.Fingerprint, info}
		c.mu.Unlock()
		return d, info, nil
	case <-ctx.Done():
		return d, nil, context.Cause(ctx)
	}
}
