package memfile

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"sync"

	"github.com/subsetd/subsetd/ncmodel"
)

// Store is a file system of in-memory files keyed by cleaned path. Its Open
// and Create methods have the shapes the engine takes, so a test passes
// store.Open and store.Create where the C readers would go. The zero value
// is an empty store. Safe for concurrent use.
type Store struct {
	mu    sync.Mutex
	files map[string]*File
}

// Put makes f visible at path, replacing any file there.
func (s *Store) Put(path string, f *File) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.files == nil {
		s.files = make(map[string]*File)
	}
	s.files[filepath.Clean(path)] = f
}

// Get returns the file at path, or nil.
func (s *Store) Get(path string) *File {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.files[filepath.Clean(path)]
}

// Paths lists the visible files, sorted. Files still being written are not
// listed, as a reader would not find them complete on disk either.
func (s *Store) Paths() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.files))
	for p := range s.files {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Remove deletes the file at path; it reports whether there was one.
func (s *Store) Remove(path string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := filepath.Clean(path)
	_, ok := s.files[p]
	delete(s.files, p)
	return ok
}

// Rename moves a file, for code that writes to a temporary name first; the
// error wraps fs.ErrNotExist like os.Rename's.
func (s *Store) Rename(from, to string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[filepath.Clean(from)]
	if !ok {
		return fmt.Errorf("rename %q: %w", from, fs.ErrNotExist)
	}
	delete(s.files, filepath.Clean(from))
	s.files[filepath.Clean(to)] = f
	return nil
}

// Open opens the file at path; each call returns an independent handle.
// A missing file is an error wrapping fs.ErrNotExist.
func (s *Store) Open(path string) (ncmodel.Source, error) {
	f := s.Get(path)
	if f == nil {
		return nil, fmt.Errorf("open %q: %w", path, fs.ErrNotExist)
	}
	return f.Open(), nil
}

// Create starts a file at path in the given format. Nothing appears at
// path until the Sink is closed; then it replaces what was there, the way
// netCDF-C's NC_CLOBBER does once the file is complete.
func (s *Store) Create(path string, format ncmodel.Format) (ncmodel.Sink, error) {
	if !writable(format) {
		return nil, fmt.Errorf("create %q: cannot write format %q", path, format)
	}
	return &Writer{store: s, path: filepath.Clean(path), format: format}, nil
}

// Writer is the ncmodel.Sink of a Store.
type Writer struct {
	store  *Store
	path   string
	format ncmodel.Format

	mu      sync.Mutex
	f       *File            // nil until Define
	defined map[string][]int // each variable's shape as defined, by path
	closed  bool
}

var _ ncmodel.Sink = (*Writer)(nil)

// Define copies the description f: later changes to f do not reach the
// file. Unlimited dimensions start empty whatever their Len says, and
// grow as values are written, as in netCDF-C. Storage settings are kept
// for netCDF-4 and dropped for netCDF-3, which has none.
func (w *Writer) Define(f *ncmodel.File) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.closed:
		return fmt.Errorf("define %q: %w", w.path, errBadID)
	case w.f != nil:
		return fmt.Errorf("define %q: already defined (NetCDF: Operation not allowed in data mode)", w.path)
	}
	if err := Validate(f, w.format); err != nil {
		return fmt.Errorf("define %q: %w", w.path, err)
	}
	c := Clone(f)
	c.Path = w.path
	c.Format = w.format
	w.defined = map[string][]int{}
	for _, v := range c.Vars() {
		w.defined[v.Path()] = v.Shape()
	}
	c.Root.Walk(func(g *ncmodel.Group) {
		for _, d := range g.Dims {
			if d.Unlimited {
				d.Len = 0
			}
		}
		if w.format.IsNetCDF3() {
			for _, v := range g.Vars {
				v.Chunks, v.Deflate, v.Shuffle = nil, 0, false
			}
		}
	})
	w.f = &File{desc: c, data: make(map[string]*ncmodel.Array), fill: true}
	return nil
}

// Write stores a at start of the variable at varPath (a path, or a name as
// ncmodel.File.FindVar takes). The array must have the variable's type:
// unlike netCDF-C the fake does not convert, so a type slip in the engine
// shows here.
func (w *Writer) Write(varPath string, start []int, a *ncmodel.Array) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.closed:
		return fmt.Errorf("write %s: %w", varPath, errBadID)
	case w.f == nil:
		return fmt.Errorf("write %s: the file is not defined yet", varPath)
	case a == nil:
		return fmt.Errorf("write %s: nil array", varPath)
	}
	f := w.f
	f.mu.Lock()
	defer f.mu.Unlock()
	v := f.desc.FindVar(varPath)
	if v == nil {
		return fmt.Errorf("write %s: %w", varPath, errNotVar)
	}
	if a.Type != v.Type {
		return fmt.Errorf("write %s: %s values for a %s variable", v.Path(), a.Type, v.Type)
	}
	if err := checkArray(a); err != nil {
		return fmt.Errorf("write %s: %w", v.Path(), err)
	}
	growable := make([]bool, len(v.Dims))
	for i, d := range v.Dims {
		growable[i] = d.Unlimited
	}
	start, count, err := checkSlab(v.Shape(), growable, start, a.Shape, nil)
	if err != nil {
		return fmt.Errorf("write %s start %v count %v: %w", v.Path(), start, a.Shape, err)
	}
	for i, d := range v.Dims {
		if d.Unlimited && count[i] > 0 {
			d.Len = max(d.Len, start[i]+count[i])
		}
	}
	copyIn(f.dataLocked(v, true), start, a)
	return nil
}

// Close publishes the file in the store. A file never defined is published
// empty, as nc_create followed by nc_close leaves a valid empty file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return fmt.Errorf("close %q: %w", w.path, errBadID)
	}
	w.closed = true
	f := w.f
	if f == nil {
		f = &File{desc: &ncmodel.File{Path: w.path, Format: w.format, Root: &ncmodel.Group{}}, data: make(map[string]*ncmodel.Array), fill: true}
	}
	// Bring every stored variable to the final lengths of the unlimited
	// dimensions now, so reads never need to reshape.
	f.mu.Lock()
	for _, v := range f.desc.Vars() {
		if f.data[v.Path()] != nil {
			f.dataLocked(v, false)
		}
	}
	f.mu.Unlock()
	w.store.Put(w.path, f)
	return nil
}
