package engine

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/ncmodel/memfile"
	"github.com/subsetd/subsetd/ncmodel/nccompare"
)

// failingChunks is a chunk source whose chunk at one index fails.
type failingChunks struct {
	ncmodel.ChunkSource
	bad []int
}

func (f failingChunks) ReadChunk(v *ncmodel.Var, at []int) (*ncmodel.Array, error) {
	if fmt.Sprint(at) == fmt.Sprint(f.bad) {
		return nil, errors.New("broken chunk")
	}
	return f.ChunkSource.ReadChunk(v, at)
}

func TestReadChunkedEqualsRead(t *testing.T) {
	root := &ncmodel.Group{}
	dims := []*ncmodel.Dim{{Name: "t", Len: 4, Group: root}, {Name: "y", Len: 23, Group: root}, {Name: "x", Len: 31, Group: root}}
	root.Dims = dims
	v := &ncmodel.Var{Name: "v", Type: ncmodel.Short, Dims: dims, Group: root, Chunks: []int{3, 5, 7}}
	root.Vars = []*ncmodel.Var{v}
	m := memfile.New(&ncmodel.File{Format: ncmodel.FormatNetCDF4, Root: root})
	m.SetFunc("v", func(i []int) float64 { return float64(i[0]*1000 + i[1]*31 + i[2]) })
	v = m.File().FindVar("v")
	for _, c := range [][2][]int{
		{{0, 0, 0}, {4, 23, 31}}, // everything, edge chunks included
		{{1, 4, 6}, {2, 13, 19}}, // across chunk boundaries
		{{3, 22, 30}, {1, 1, 1}}, // one value in the last chunk
		{{0, 5, 7}, {3, 5, 7}},   // exactly one chunk
		{{2, 0, 0}, {0, 23, 31}}, // empty
	} {
		got, err := readChunked(context.Background(), m, v, c[0], c[1])
		if err != nil {
			t.Fatal(err)
		}
		want, _ := m.Read(v, c[0], c[1], nil)
		if ok, msg := nccompare.EqualArrays(want, got); !ok {
			t.Errorf("start %v count %v: %s", c[0], c[1], msg)
		}
	}
	if _, err := readChunked(context.Background(), failingChunks{m, []int{3, 10, 14}}, v, []int{0, 0, 0}, []int{4, 23, 31}); err == nil || err.Error() != "broken chunk" {
		t.Errorf("a failing chunk gives %v", err)
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("stop"))
	if _, err := readChunked(ctx, m, v, []int{0, 0, 0}, []int{4, 23, 31}); err == nil || err.Error() != "stop" {
		t.Errorf("a cancelled read gives %v", err)
	}
}
