package memfile

import (
	"fmt"
	"slices"

	"github.com/subsetd/subsetd/ncmodel"
)

// The fake has the direct chunk capabilities of the C readers for every
// chunked numeric variable, so that the engine's chunk paths run in unit
// tests; a test that wants the plain paths wraps the fake to hide them.

var (
	_ ncmodel.ChunkSource = (*File)(nil)
	_ ncmodel.ChunkSource = (*handle)(nil)
	_ ncmodel.ChunkSink   = (*Writer)(nil)
)

func readsChunks(v *ncmodel.Var) bool {
	return v != nil && v.Chunks != nil && len(v.Chunks) == len(v.Dims) && v.Type != ncmodel.String
}

// ReadsChunks reports whether v is chunked (and not of strings).
func (f *File) ReadsChunks(v *ncmodel.Var) bool {
	f.mu.Lock()
	closed := f.closed
	f.mu.Unlock()
	return !closed && readsChunks(v)
}

// ReadChunk reads the chunk of v at index at.
func (f *File) ReadChunk(v *ncmodel.Var, at []int) (*ncmodel.Array, error) {
	if err := ncmodel.CheckChunk(v, at); err != nil {
		return nil, fmt.Errorf("read chunk: %w", err)
	}
	return f.Read(v, at, ncmodel.ChunkCount(v, at), nil)
}

func (h *handle) ReadsChunks(v *ncmodel.Var) bool {
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	return !closed && readsChunks(v)
}

func (h *handle) ReadChunk(v *ncmodel.Var, at []int) (*ncmodel.Array, error) {
	if err := ncmodel.CheckChunk(v, at); err != nil {
		return nil, fmt.Errorf("read chunk: %w", err)
	}
	return h.Read(v, at, ncmodel.ChunkCount(v, at), nil)
}

// WritesChunks reports whether the variable is defined, chunked and not of
// strings.
func (w *Writer) WritesChunks(varPath string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil || w.closed {
		return false
	}
	return readsChunks(w.f.desc.FindVar(varPath))
}

// WriteChunk writes the chunk at index at: a must have the chunk's shape
// within the variable's defined shape.
func (w *Writer) WriteChunk(varPath string, at []int, a *ncmodel.Array) error {
	w.mu.Lock()
	var v *ncmodel.Var
	if w.f != nil {
		v = w.f.desc.FindVar(varPath)
	}
	w.mu.Unlock()
	if !w.WritesChunks(varPath) || v == nil {
		return fmt.Errorf("write chunk of %s: not a chunked variable of this file", varPath)
	}
	if err := ncmodel.CheckChunk(definedShape(v, w.defined[varPath]), at); err != nil {
		return fmt.Errorf("write chunk: %w", err)
	}
	if want := ncmodel.ChunkCount(definedShape(v, w.defined[varPath]), at); a == nil || !slices.Equal(a.Shape, want) {
		return fmt.Errorf("write chunk of %s at %v: want shape %v", varPath, at, want)
	}
	return w.Write(varPath, at, a)
}

// definedShape is v with the lengths Define was given (unlimited
// dimensions start empty in the file).
func definedShape(v *ncmodel.Var, lens []int) *ncmodel.Var {
	c := *v
	c.Dims = make([]*ncmodel.Dim, len(v.Dims))
	for i, d := range v.Dims { // not *d: Write changes the lengths of unlimited dimensions
		c.Dims[i] = &ncmodel.Dim{Name: d.Name, Len: lens[i], Unlimited: d.Unlimited}
	}
	return &c
}
