package ncmodeltest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/ncmodel/nccompare"
)

// chunkedFile describes variables stored in chunks whose shape does not
// divide the dimensions (edge chunks), one per numeric type with shuffle
// and deflate, one deflated only, one chunked without filters, one
// contiguous, one in a child group, and one written only in part (chunks
// never written read as fill values).
func chunkedFile() *ncmodel.File {
	root := &ncmodel.Group{}
	time := &ncmodel.Dim{Name: "time", Len: 5, Unlimited: true, Group: root}
	y := &ncmodel.Dim{Name: "y", Len: 7, Group: root}
	x := &ncmodel.Dim{Name: "x", Len: 9, Group: root}
	root.Dims = []*ncmodel.Dim{time, y, x}
	add := func(g *ncmodel.Group, name string, t ncmodel.Type, chunks []int, deflate int, shuffle bool) {
		v := &ncmodel.Var{Name: name, Type: t, Dims: []*ncmodel.Dim{time, y, x}, Group: g,
			Chunks: chunks, Deflate: deflate, Shuffle: shuffle}
		if t == ncmodel.Float {
			v.Attrs = []ncmodel.Attr{fillAttr(t)}
		}
		g.Vars = append(g.Vars, v)
	}
	for _, t := range numericTypes(ncmodel.FormatNetCDF4) {
		add(root, "c_"+t.String(), t, []int{2, 3, 4}, 1, t.Size() > 1)
	}
	add(root, "deflate_only", ncmodel.Int, []int{1, 7, 5}, 6, false)
	add(root, "plain", ncmodel.Double, []int{3, 4, 9}, 0, false)
	add(root, "contiguous", ncmodel.Int, nil, 0, false)
	add(root, "partial", ncmodel.Float, []int{1, 4, 4}, 1, true)
	g := &ncmodel.Group{Name: "sub", Parent: root}
	root.Groups = []*ncmodel.Group{g}
	add(g, "c", ncmodel.Short, []int{5, 2, 2}, 2, true)
	return &ncmodel.File{Format: ncmodel.FormatNetCDF4, Root: root}
}

// partialSteps is how many steps of "partial" are written.
const partialSteps = 2

// chunks checks the direct chunk capabilities an implementation has
// (ncmodel.ChunkSource, ncmodel.ChunkSink): every chunk reads as the
// hyperslab it covers, from several goroutines at once, and a file written
// chunk by chunk reads back as one written by Write.
func (s *suite) chunks(t *testing.T) {
	desc := chunkedFile()
	path := s.path("chunks")
	sink, err := s.impl.Create(path, ncmodel.FormatNetCDF4)
	if err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, "Define", func() error { return sink.Define(desc) })
	cs, direct := sink.(ncmodel.ChunkSink)
	if s.impl.WritesChunks && !direct {
		t.Fatalf("%T does not implement ncmodel.ChunkSink", sink)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, v := range desc.Vars() {
		count := v.Shape()
		if v.Name == "partial" {
			count[0] = partialSteps
		}
		if direct && cs.WritesChunks(v.Path()) {
			// Chunk by chunk, every chunk in its own goroutine.
			err := ncmodel.ChunksOf(v, make([]int, len(count)), count, func(at []int) error {
				wg.Add(1)
				go func() {
					defer wg.Done()
					what := fmt.Sprintf("WriteChunk %s at %v", v.Path(), at)
					err := try(t, what, func() error { return cs.WriteChunk(v.Path(), at, expected(v, at, ncmodel.ChunkCount(v, at), nil)) })
					if err != nil {
						mu.Lock()
						t.Errorf("%s: %v", what, err)
						mu.Unlock()
					}
				}()
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		if s.impl.WritesChunks && v.Chunks != nil && v.Name != "plain" {
			t.Errorf("WritesChunks(%s) is false for a %v chunked variable with deflate %d", v.Path(), v.Chunks, v.Deflate)
		}
		mustSucceed(t, "Write "+v.Path(), func() error {
			return sink.Write(v.Path(), make([]int, len(count)), expected(v, make([]int, len(count)), count, nil))
		})
	}
	wg.Wait()
	if direct {
		mustFail(t, "WriteChunk off the chunk grid", func() error {
			v := desc.Root.Var("c_int")
			return cs.WriteChunk(v.Path(), []int{0, 1, 0}, expected(v, []int{0, 1, 0}, []int{2, 3, 4}, nil))
		})
	}
	mustSucceed(t, "Close", sink.Close)

	src, err := s.impl.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	got := src.File()
	for _, v := range got.Vars() {
		want := desc.FindVar(v.Path())
		if want.Chunks != nil && !slices.Equal(v.Chunks, want.Chunks) || v.Deflate != want.Deflate || v.Shuffle != want.Shuffle {
			t.Errorf("%s: storage chunks %v deflate %d shuffle %v, want %v %d %v", v.Path(), v.Chunks, v.Deflate, v.Shuffle, want.Chunks, want.Deflate, want.Shuffle)
		}
		// Values through Read first: written either way, they are the generator's.
		shape := v.Shape()
		if v.Name == "partial" {
			shape[0] = partialSteps
		}
		a, err := src.Read(v, make([]int, len(shape)), shape, nil)
		if err != nil {
			t.Errorf("Read %s: %v", v.Path(), err)
			continue
		}
		if ok, msg := nccompare.EqualArrays(expected(v, make([]int, len(shape)), shape, nil), a); !ok {
			t.Errorf("%s reads back wrong: %s", v.Path(), msg)
		}
	}
	cr, ok := src.(ncmodel.ChunkSource)
	if s.impl.ReadsChunks && !ok {
		t.Fatalf("%T does not implement ncmodel.ChunkSource", src)
	}
	if !ok {
		return
	}
	for _, v := range got.Vars() {
		reads := cr.ReadsChunks(v)
		if v.Chunks == nil && reads {
			t.Errorf("ReadsChunks(%s) is true for a contiguous variable", v.Path())
		}
		if s.impl.ReadsChunks && v.Chunks != nil && !reads {
			t.Errorf("ReadsChunks(%s) is false for a %v chunked variable with deflate %d", v.Path(), v.Chunks, v.Deflate)
		}
		if !reads {
			continue
		}
		shape := v.Shape()
		var wg sync.WaitGroup
		err := ncmodel.ChunksOf(v, make([]int, len(shape)), shape, func(at []int) error {
			wg.Add(1)
			go func() {
				defer wg.Done()
				count := ncmodel.ChunkCount(v, at)
				what := fmt.Sprintf("ReadChunk %s at %v", v.Path(), at)
				var a, b *ncmodel.Array
				err := try(t, what, func() (err error) { a, err = cr.ReadChunk(v, at); return err })
				if err == nil {
					b, err = src.Read(v, at, count, nil)
				}
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("%s: %v", what, err)
					return
				}
				if ok, msg := nccompare.EqualArrays(b, a); !ok {
					t.Errorf("%s differs from Read of %v: %s", what, count, msg)
				}
			}()
			return nil
		})
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
	}
	v := got.FindVar("/c_int")
	mustFail(t, "ReadChunk off the chunk grid", func() error { _, err := cr.ReadChunk(v, []int{0, 1, 0}); return err })
	mustFail(t, "ReadChunk past the end", func() error { _, err := cr.ReadChunk(v, []int{6, 0, 0}); return err })
	mustSucceed(t, "Close", src.Close)
	mustFail(t, "ReadChunk after Close", func() error { _, err := cr.ReadChunk(v, []int{0, 0, 0}); return err })
	if cr.ReadsChunks(v) {
		t.Errorf("ReadsChunks is true after Close")
	}
}
