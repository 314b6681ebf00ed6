package engine

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/subsetd/subsetd/ncmodel"
)

// Reading a hyperslab chunk by chunk. A deflated chunk costs far more to
// decode than to read, and a source that decodes chunks outside its
// library lock (ncmodel.ChunkSource) lets every core decode one: the
// chunks meeting a slab are shared out to one goroutine per core and each
// is copied into the slab as it arrives.

// readChunked reads the hyperslab start/count (stride 1) of v from the
// chunks of cs, decoding them in parallel.
func readChunked(ctx context.Context, cs ncmodel.ChunkSource, v *ncmodel.Var, start, count []int) (*ncmodel.Array, error) {
	out := ncmodel.NewArray(v.Type, count)
	if out.Len() == 0 {
		return out, nil
	}
	var ats [][]int
	ncmodel.ChunksOf(v, start, count, func(at []int) error {
		ats = append(ats, at)
		return nil
	})
	var (
		next    atomic.Int64
		errOnce sync.Once
		first   error
		failed  atomic.Bool
		wg      sync.WaitGroup
	)
	fail := func(err error) {
		errOnce.Do(func() { first = err })
		failed.Store(true)
	}
	for range min(runtime.GOMAXPROCS(0), len(ats)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= len(ats) {
					return
				}
				if err := context.Cause(ctx); err != nil {
					fail(err)
					return
				}
				a, err := cs.ReadChunk(v, ats[i])
				if err != nil {
					fail(err)
					return
				}
				placeBox(out, start, a, ats[i])
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return out, nil
}

// placeBox copies the part of src (whose first element is at index srcAt)
// that lies inside dst (first element at dstAt) into dst. Both are dense,
// of the same type and rank; concurrent calls writing disjoint parts of
// dst are safe.
func placeBox(dst *ncmodel.Array, dstAt []int, src *ncmodel.Array, srcAt []int) {
	rank := len(dst.Shape)
	lo := make([]int, rank) // the overlap, in absolute indices
	n := make([]int, rank)
	for i := range rank {
		lo[i] = max(dstAt[i], srcAt[i])
		hi := min(dstAt[i]+dst.Shape[i], srcAt[i]+src.Shape[i])
		if hi <= lo[i] {
			return
		}
		n[i] = hi - lo[i]
	}
	es := dst.Type.Size()
	dstStride := make([]int, rank)
	srcStride := make([]int, rank)
	ds, ss := es, es
	for i := rank - 1; i >= 0; i-- {
		dstStride[i], srcStride[i] = ds, ss
		ds *= dst.Shape[i]
		ss *= src.Shape[i]
	}
	row := n[rank-1] * es
	idx := make([]int, rank) // position inside the overlap, last dimension 0
	for {
		d, s := 0, 0
		for i := range rank {
			d += (lo[i] - dstAt[i] + idx[i]) * dstStride[i]
			s += (lo[i] - srcAt[i] + idx[i]) * srcStride[i]
		}
		copy(dst.Data[d:d+row], src.Data[s:s+row])
		i := rank - 2
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < n[i] {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return
		}
	}
}
