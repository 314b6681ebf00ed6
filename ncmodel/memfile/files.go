package memfile

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
)

// Files is a Store seen as a file system of finished files, for code that
// reads back, renames and removes what it wrote through Create (the
// engine's Options.Files): Open reads a file's Bytes. The errors of a
// missing file wrap fs.ErrNotExist, as the os package's do.
type Files struct{ Store *Store }

// Files returns the Store as a file system of finished files.
func (s *Store) Files() Files { return Files{s} }

// Open returns the Bytes of the file at path.
func (m Files) Open(path string) (io.ReadCloser, error) {
	f := m.Store.Get(path)
	if f == nil {
		return nil, fmt.Errorf("open %q: %w", path, fs.ErrNotExist)
	}
	return io.NopCloser(bytes.NewReader(f.Bytes())), nil
}

// Rename moves the file at from to to.
func (m Files) Rename(from, to string) error { return m.Store.Rename(from, to) }

// Remove deletes the file at path.
func (m Files) Remove(path string) error {
	if !m.Store.Remove(path) {
		return fmt.Errorf("remove %q: %w", filepath.Clean(path), fs.ErrNotExist)
	}
	return nil
}
