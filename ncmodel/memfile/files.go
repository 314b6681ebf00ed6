package memfile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/subsetd/subsetd/ncmodel"
)

// Bytes encodes the file's description and values deterministically: the
// in-memory stand-in for the bytes of a file on disk, so that a size or a
// checksum of an in-memory output changes when, and only when, its
// contents do.
func (f *File) Bytes() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b bytes.Buffer
	fmt.Fprintf(&b, "format %s\n", f.desc.Format)
	attrs := func(as []ncmodel.Attr) {
		for _, a := range as {
			fmt.Fprintf(&b, "attr %q %s %#v\n", a.Name, a.Type, a.Value)
		}
	}
	f.desc.Root.Walk(func(g *ncmodel.Group) {
		fmt.Fprintf(&b, "group %q\n", g.Path())
		attrs(g.Attrs)
		for _, d := range g.Dims {
			fmt.Fprintf(&b, "dim %q %d %t\n", d.Name, d.Len, d.Unlimited)
		}
		for _, v := range g.Vars {
			fmt.Fprintf(&b, "var %q %s", v.Name, v.Type)
			for _, d := range v.Dims {
				fmt.Fprintf(&b, " %q", d.Group.Path()+"/"+d.Name)
			}
			fmt.Fprintf(&b, " chunks %v deflate %d shuffle %t\n", v.Chunks, v.Deflate, v.Shuffle)
			attrs(v.Attrs)
			a := f.readLocked(v, make([]int, len(v.Dims)), v.Shape(), nil)
			if v.Type == ncmodel.String {
				for _, s := range a.Strings {
					fmt.Fprintf(&b, "%q\n", s)
				}
				continue
			}
			binary.Write(&b, binary.LittleEndian, uint64(len(a.Data)))
			b.Write(a.Data)
		}
	})
	return b.Bytes()
}

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
