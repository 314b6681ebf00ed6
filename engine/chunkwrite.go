package engine

import (
	"runtime"
	"slices"
	"sync"

	"github.com/subsetd/subsetd/ncmodel"
)

// Writing outputs chunk by chunk. Compressing the outputs is the other
// large cost of a cut; a sink that encodes whole chunks itself in the
// calling goroutine (ncmodel.ChunkSink) gets every output chunk a write
// covers whole handed to a small pool of goroutines, one per core, shared
// by the outputs of a cluster. The parts of chunks a write covers only in
// part (a box crossing the seam, a slab splitting an output chunk along
// time) go through Write, so each chunk is written one way only.

// encoder is the pool of goroutines writing whole chunks.
type encoder struct {
	jobs    chan chunkJob
	pending sync.WaitGroup // jobs submitted and not yet written
	workers sync.WaitGroup
	mu      sync.Mutex
	failed  map[*output]error // the first error of each output
}

type chunkJob struct {
	out  *output
	sink ncmodel.ChunkSink
	path string
	at   []int
	a    *ncmodel.Array
}

func newEncoder() *encoder {
	n := runtime.GOMAXPROCS(0)
	e := &encoder{jobs: make(chan chunkJob, n), failed: map[*output]error{}}
	for range n {
		e.workers.Add(1)
		go func() {
			defer e.workers.Done()
			for j := range e.jobs {
				if e.err(j.out) == nil {
					if err := j.sink.WriteChunk(j.path, j.at, j.a); err != nil {
						e.mu.Lock()
						if e.failed[j.out] == nil {
							e.failed[j.out] = err
						}
						e.mu.Unlock()
					}
				}
				e.pending.Done()
			}
		}()
	}
	return e
}

// submit queues a chunk; it blocks while every goroutine is busy and the
// queue is full, which bounds the chunks held.
func (e *encoder) submit(j chunkJob) {
	e.pending.Add(1)
	e.jobs <- j
}

// err is the first error writing a chunk of o.
func (e *encoder) err(o *output) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.failed[o]
}

// wait returns when every submitted chunk is written.
func (e *encoder) wait() { e.pending.Wait() }

// stop waits for the queued chunks and ends the goroutines.
func (e *encoder) stop() {
	close(e.jobs)
	e.workers.Wait()
}

// put writes a at index at of the output variable ov: whole chunks through
// the encoder when the sink writes ov's chunks, the rest through Write.
func (o *output) put(ov *ncmodel.Var, at []int, a *ncmodel.Array) error {
	cs := o.chunkSink(ov)
	if cs == nil || a.Len() == 0 {
		return o.sink.Write(ov.Path(), at, a)
	}
	if err := o.enc.err(o); err != nil {
		return err
	}
	rank := len(at)
	return ncmodel.ChunksOf(ov, at, a.Shape, func(c []int) error {
		cc := ncmodel.ChunkCount(ov, c)
		lo := make([]int, rank)
		n := make([]int, rank)
		whole := true
		for i := range rank {
			lo[i] = max(c[i], at[i])
			n[i] = min(c[i]+cc[i], at[i]+a.Shape[i]) - lo[i]
			whole = whole && n[i] == cc[i]
		}
		var part *ncmodel.Array
		if slices.Equal(lo, at) && slices.Equal(n, a.Shape) {
			part = a // a is this one chunk, or inside one: no copy
		} else {
			part = ncmodel.NewArray(a.Type, n)
			ncmodel.CopyOverlap(part, lo, a, at)
		}
		if !whole {
			return o.sink.Write(ov.Path(), lo, part)
		}
		o.enc.submit(chunkJob{out: o, sink: cs, path: ov.Path(), at: c, a: part})
		return nil
	})
}

// chunkSink is the sink when it writes ov's chunks itself.
func (o *output) chunkSink(ov *ncmodel.Var) ncmodel.ChunkSink {
	cs, ok := o.sink.(ncmodel.ChunkSink)
	if !ok || o.enc == nil || ov.Chunks == nil || ov.Type == ncmodel.String {
		return nil
	}
	if o.chunked == nil {
		o.chunked = map[string]bool{}
	}
	writes, seen := o.chunked[ov.Path()]
	if !seen {
		writes = cs.WritesChunks(ov.Path())
		o.chunked[ov.Path()] = writes
	}
	if !writes {
		return nil
	}
	return cs
}
