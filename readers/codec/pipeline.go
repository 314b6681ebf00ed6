package codec

import (
	"fmt"
	"sync"
)

// Filter is one step of an HDF5 filter pipeline: ID is the HDF5 filter
// identifier, Level the deflate level.
type Filter struct {
	ID    int
	Level int
}

// Supported reports whether Decode and Encode handle every filter of the
// pipeline.
func Supported(filters []Filter) bool {
	for _, f := range filters {
		if f.ID != FilterDeflate && f.ID != FilterShuffle {
			return false
		}
	}
	return true
}

var scratch = sync.Pool{New: func() any { return new([]byte) }}

func getScratch(n int) *[]byte {
	b := scratch.Get().(*[]byte)
	if cap(*b) < n {
		*b = make([]byte, n)
	}
	*b = (*b)[:n]
	return b
}

// Decode undoes the pipeline (applied in order when the chunk was written,
// so undone in reverse) on a stored chunk into out, which has the size of
// the chunk's values. Bit i of mask set means filter i was skipped for this
// chunk, as HDF5 records for optional filters that failed.
func Decode(filters []Filter, mask uint32, stored, out []byte, elemSize int) error {
	cur := stored
	var held []*[]byte
	defer func() {
		for _, b := range held {
			scratch.Put(b)
		}
	}()
	last := -1 // the last filter applied: its output goes straight to out
	for i := range filters {
		if mask&(1<<i) == 0 {
			last = i
		}
	}
	if last < 0 {
		if len(stored) != len(out) {
			return fmt.Errorf("%w: an unfiltered chunk of %d bytes, want %d", ErrCorrupt, len(stored), len(out))
		}
		copy(out, stored)
		return nil
	}
	for i := len(filters) - 1; i >= 0; i-- {
		if mask&(1<<i) != 0 {
			continue
		}
		dst := out
		if i != firstApplied(filters, mask) {
			b := getScratch(len(out))
			held = append(held, b)
			dst = *b
		}
		switch filters[i].ID {
		case FilterDeflate:
			if err := Inflate(dst, cur); err != nil {
				return err
			}
		case FilterShuffle:
			if len(cur) != len(dst) {
				return fmt.Errorf("%w: a shuffled chunk of %d bytes, want %d", ErrCorrupt, len(cur), len(dst))
			}
			Unshuffle(dst, cur, elemSize)
		default:
			return fmt.Errorf("filter %d is not decoded here", filters[i].ID)
		}
		cur = dst
	}
	return nil
}

// firstApplied is the index of the first filter not skipped: undone last.
func firstApplied(filters []Filter, mask uint32) int {
	for i := range filters {
		if mask&(1<<i) == 0 {
			return i
		}
	}
	return -1
}

// Encode applies the pipeline to the values of a chunk and returns the
// bytes to store, appended to dst[:0].
func Encode(filters []Filter, dst, raw []byte, elemSize int) ([]byte, error) {
	cur := raw
	var held []*[]byte
	defer func() {
		for _, b := range held {
			scratch.Put(b)
		}
	}()
	for i, f := range filters {
		switch f.ID {
		case FilterShuffle:
			b := getScratch(len(cur))
			held = append(held, b)
			Shuffle(*b, cur, elemSize)
			cur = *b
		case FilterDeflate:
			if i == len(filters)-1 {
				return Deflate(dst, cur, f.Level), nil
			}
			cur = Deflate(nil, cur, f.Level)
		default:
			return nil, fmt.Errorf("filter %d is not encoded here", f.ID)
		}
	}
	return append(dst[:0], cur...), nil
}
