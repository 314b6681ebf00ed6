package ncmodel

import "fmt"

// ChunkSource is a Source that can read the stored chunks of a chunked
// variable whole and decode them itself, outside any library-wide lock, so
// that several goroutines decode chunks at once. Readers implement it for
// the filters they decode (shuffle, deflate); callers use Read for the rest.
type ChunkSource interface {
	Source
	// ReadsChunks reports whether ReadChunk can read v: chunked storage
	// with Chunks as its chunk shape, and filters the reader decodes.
	ReadsChunks(v *Var) bool
	// ReadChunk reads the chunk of v whose first index is at (a multiple
	// of v.Chunks along every dimension), raw like Read: the values of
	// Read(v, at, ChunkCount(v, at), nil). Safe for concurrent use.
	ReadChunk(v *Var, at []int) (*Array, error)
}

// ChunkSink is a Sink that can write whole chunks of a chunked variable,
// encoding them (with the filters its Define recorded) in the calling
// goroutine, so that several goroutines encode chunks at once.
type ChunkSink interface {
	Sink
	// WritesChunks reports whether WriteChunk can write the variable at
	// varPath (after Define).
	WritesChunks(varPath string) bool
	// WriteChunk writes the whole chunk of the variable at varPath whose
	// first index is at: a has the shape ChunkCount(v, at) for the
	// variable's defined shape. A chunk is written either by one
	// WriteChunk or by Writes, never both. Safe for concurrent use with
	// other WriteChunk calls.
	WriteChunk(varPath string, at []int, a *Array) error
}

// ChunkCount is the shape of the chunk of v at index at: v.Chunks clipped
// to the variable's shape.
func ChunkCount(v *Var, at []int) []int {
	c := make([]int, len(v.Dims))
	for i, d := range v.Dims {
		c[i] = max(min(v.Chunks[i], d.Len-at[i]), 0)
	}
	return c
}

// CheckChunk validates the first index of a chunk of v: chunked, one entry
// per dimension, a multiple of the chunk shape inside the variable.
func CheckChunk(v *Var, at []int) error {
	if v.Chunks == nil || len(v.Chunks) != len(v.Dims) {
		return fmt.Errorf("%s is not chunked", v.Path())
	}
	if len(at) != len(v.Dims) {
		return fmt.Errorf("chunk index of rank %d for the %d dimensions of %s", len(at), len(v.Dims), v.Path())
	}
	for i, d := range v.Dims {
		if at[i] < 0 || at[i]%v.Chunks[i] != 0 || at[i] >= d.Len {
			return fmt.Errorf("%v is not the first index of a chunk of %s (chunks %v, shape %v)", at, v.Path(), v.Chunks, v.Shape())
		}
	}
	return nil
}

// ChunksOf calls fn with the first index of every chunk of v that meets the
// box start/count, in C order. It stops at the first error fn returns.
func ChunksOf(v *Var, start, count []int, fn func(at []int) error) error {
	rank := len(v.Dims)
	for _, c := range count {
		if c == 0 {
			return nil
		}
	}
	lo := make([]int, rank)
	hi := make([]int, rank)
	for i := range rank {
		ch := v.Chunks[i]
		lo[i] = start[i] / ch * ch
		hi[i] = (start[i] + count[i] - 1) / ch * ch
	}
	at := append([]int(nil), lo...)
	for {
		if err := fn(append([]int(nil), at...)); err != nil {
			return err
		}
		i := rank - 1
		for ; i >= 0; i-- {
			at[i] += v.Chunks[i]
			if at[i] <= hi[i] {
				break
			}
			at[i] = lo[i]
		}
		if i < 0 {
			return nil
		}
	}
}

// ChunkSizer is a Source that tells how many bytes the chunks of a chunked
// variable take in the file, as stored (compressed), without reading them:
// what a plan costs to read, and how well the values compress.
type ChunkSizer interface {
	Source
	// StoredChunkSize is the stored size of the chunk of v whose first
	// index is at (0 for a chunk never written); ok is false when the
	// source does not know it (v is contiguous, or stored in a way it
	// does not read directly).
	StoredChunkSize(v *Var, at []int) (size int64, ok bool)
}
