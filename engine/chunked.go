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
				ncmodel.CopyOverlap(out, start, a, ats[i])
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return nil, first
	}
	return out, nil
}
