package memfile_test

import (
	"errors"
	"io"
	"io/fs"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/ncmodel/memfile"
	"github.com/subsetd/subsetd/ncmodel/nccompare"
	"github.com/subsetd/subsetd/ncmodel/ncmodeltest"
)

func TestConformance(t *testing.T) {
	var store memfile.Store
	ncmodeltest.Exercise(t, ncmodeltest.Impl{
		Name:   "memfile",
		Create: store.Create,
		Open:   store.Open,
		Formats: []ncmodel.Format{
			ncmodel.FormatClassic, ncmodel.Format64BitOffset, ncmodel.Format64BitData,
			ncmodel.FormatNetCDF4, ncmodel.FormatNetCDF4Classic,
		},
		ReadsChunks: true, WritesChunks: true,
	})
}

func grid() *ncmodel.File {
	root := &ncmodel.Group{}
	time := &ncmodel.Dim{Name: "time", Len: 2, Unlimited: true, Group: root}
	lat := &ncmodel.Dim{Name: "lat", Len: 3, Group: root}
	lon := &ncmodel.Dim{Name: "lon", Len: 4, Group: root}
	root.Dims = []*ncmodel.Dim{time, lat, lon}
	root.Vars = []*ncmodel.Var{
		{Name: "sst", Type: ncmodel.Float, Dims: []*ncmodel.Dim{time, lat, lon}, Group: root,
			Attrs: []ncmodel.Attr{{Name: "_FillValue", Type: ncmodel.Float, Value: []float32{-999}}}},
		{Name: "count", Type: ncmodel.Short, Dims: []*ncmodel.Dim{time, lat}, Group: root},
	}
	g := &ncmodel.Group{Name: "sub", Parent: root}
	root.Groups = []*ncmodel.Group{g}
	g.Vars = []*ncmodel.Var{{Name: "t", Type: ncmodel.Int, Dims: []*ncmodel.Dim{time}, Group: g}}
	return &ncmodel.File{Root: root}
}

func TestCloneIsDeep(t *testing.T) {
	f := grid()
	c := memfile.Clone(f)
	f.Root.Dims[1].Len = 99
	f.Root.Vars[0].Attrs[0].Value.([]float32)[0] = 1
	f.Root.Vars[0].Name = "renamed"
	if c.Root.Dims[1].Len != 3 || c.Root.Vars[0].Attrs[0].Value.([]float32)[0] != -999 || c.Root.Vars[0].Name != "sst" {
		t.Errorf("clone shares state with the original")
	}
	sub := c.Root.Groups[0]
	if sub.Parent != c.Root || sub.Vars[0].Group != sub || sub.Vars[0].Dims[0] != c.Root.Dims[0] || c.Root.Dims[0].Group != c.Root {
		t.Errorf("clone pointers are not wired to the clone")
	}
	if c.Root.Vars[0].Dims[0] != c.Root.Vars[1].Dims[0] {
		t.Errorf("shared dimension became two")
	}
}

func TestNewReadsZerosLazily(t *testing.T) {
	root := &ncmodel.Group{}
	huge := &ncmodel.Dim{Name: "n", Len: 1 << 40, Group: root}
	root.Dims = []*ncmodel.Dim{huge}
	root.Vars = []*ncmodel.Var{{Name: "x", Type: ncmodel.Double, Dims: []*ncmodel.Dim{huge}, Group: root}}
	m := memfile.New(&ncmodel.File{Root: root})
	a, err := m.Read(m.File().Root.Vars[0], []int{1 << 39}, []int{3}, nil)
	if err != nil || len(a.Data) != 24 || a.Data[0] != 0 {
		t.Fatalf("Read = %v, %v", a, err)
	}
}

func TestReadErrorsReadLikeNetCDF(t *testing.T) {
	m := memfile.New(grid())
	v := m.File().FindVar("/sst")
	for _, c := range []struct {
		start, count, stride []int
		want                 string
	}{
		{[]int{0, 3, 0}, []int{1, 1, 1}, nil, "NetCDF: Index exceeds dimension bound"},
		{[]int{0, 2, 0}, []int{1, 2, 1}, nil, "NetCDF: Start+count exceeds dimension bound"},
		{[]int{0, 0, 0}, []int{1, 1, 3}, []int{1, 1, 2}, "NetCDF: Start+count exceeds dimension bound"},
		{[]int{0, 0, 0}, []int{1, 1, 1}, []int{1, 0, 1}, "NetCDF: Illegal stride"},
		{[]int{0, 0}, []int{1, 1}, nil, "rank"},
	} {
		_, err := m.Read(v, c.start, c.count, c.stride)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Read start %v count %v stride %v: %v, want %q", c.start, c.count, c.stride, err, c.want)
		}
	}
	// A count of zero at the end is allowed, as in netCDF-C.
	if a, err := m.Read(v, []int{0, 3, 0}, []int{1, 0, 1}, nil); err != nil || a.Len() != 0 {
		t.Errorf("empty read at the end: %v, %v", a, err)
	}
}

func TestStoreVisibilityAndFill(t *testing.T) {
	var s memfile.Store
	sink, err := s.Create("out/a.nc", ncmodel.FormatNetCDF4)
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Define(grid()); err != nil {
		t.Fatal(err)
	}
	// Write record 1 of count only: record 0 and every sst value stay
	// unwritten and must read as fill values.
	if err := sink.Write("/count", []int{1, 0}, memfile.ArrayOf(ncmodel.Short, []int{1, 3}, []int16{1, 2, 3})); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open("out/a.nc"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("open before Close: %v, want fs.ErrNotExist", err)
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sink.Close(); err == nil {
		t.Errorf("second Close: no error")
	}
	if got := s.Paths(); !slices.Equal(got, []string{"out/a.nc"}) {
		t.Errorf("Paths = %v", got)
	}
	src, err := s.Open("out/./a.nc")
	if err != nil {
		t.Fatal(err)
	}
	f := src.File()
	if f.Root.Dim("time").Len != 2 || f.Format != ncmodel.FormatNetCDF4 || f.Path != "out/a.nc" {
		t.Errorf("description after Close: time %d, format %s, path %s", f.Root.Dim("time").Len, f.Format, f.Path)
	}
	count, _ := src.Read(f.FindVar("/count"), []int{0, 0}, []int{2, 3}, nil)
	if got := nccompare.Values(count); !slices.Equal(got, []float64{-32767, -32767, -32767, 1, 2, 3}) {
		t.Errorf("count = %v, want default fill then the written record", got)
	}
	sst, _ := src.Read(f.FindVar("/sst"), []int{1, 2, 3}, []int{1, 1, 1}, nil)
	if got := nccompare.Values(sst); !slices.Equal(got, []float64{-999}) {
		t.Errorf("unwritten sst = %v, want its _FillValue", got)
	}
	sub, _ := src.Read(f.FindVar("/sub/t"), []int{0}, []int{2}, nil)
	if got := nccompare.Values(sub); !slices.Equal(got, []float64{-2147483647, -2147483647}) {
		t.Errorf("/sub/t = %v, want default int fill", got)
	}

	// Handles are independent.
	other, _ := s.Open("out/a.nc")
	_ = src.Close()
	if _, err := other.Read(f.FindVar("/sst"), []int{0, 0, 0}, []int{1, 1, 1}, nil); err != nil {
		t.Errorf("read through a second handle after closing the first: %v", err)
	}
	if _, err := src.Read(f.FindVar("/sst"), []int{0, 0, 0}, []int{1, 1, 1}, nil); err == nil {
		t.Errorf("read through a closed handle: no error")
	}

	if err := s.Rename("out/a.nc", "final/a.nc"); err != nil {
		t.Fatal(err)
	}
	if s.Get("final/a.nc") == nil || s.Get("out/a.nc") != nil {
		t.Errorf("Rename did not move the file")
	}
}

func TestWriteGrowsOtherVariablesWithFill(t *testing.T) {
	var s memfile.Store
	sink, _ := s.Create("g.nc", ncmodel.FormatClassic)
	f := grid()
	f.Root.Groups = nil
	if err := sink.Define(f); err != nil {
		t.Fatal(err)
	}
	sst := memfile.ArrayFunc(ncmodel.Float, []int{1, 3, 4}, func(i []int) float64 { return float64(i[1]*10 + i[2]) })
	must(t, sink.Write("/count", []int{0, 0}, memfile.ArrayOf(ncmodel.Short, []int{1, 3}, []int16{7, 8, 9})))
	must(t, sink.Write("/sst", []int{2, 0, 0}, sst)) // skips record 1
	must(t, sink.Close())
	m := s.Get("g.nc")
	if got := nccompare.Values(m.Data("/count")); !slices.Equal(got, []float64{7, 8, 9, -32767, -32767, -32767, -32767, -32767, -32767}) {
		t.Errorf("count after sst grew time to 3: %v", got)
	}
	got := nccompare.Values(m.Data("/sst"))
	if got[0] != -999 || got[12] != -999 || got[24] != 0 || got[35] != 23 {
		t.Errorf("sst records 0 and 1 should be fill, record 2 written: %v", got)
	}
}

func TestDefineRejects(t *testing.T) {
	for _, c := range []struct {
		name   string
		format ncmodel.Format
		change func(*ncmodel.File)
		want   string
	}{
		{"group in classic", ncmodel.FormatClassic, func(f *ncmodel.File) {}, "cannot hold groups"},
		{"group in netcdf4_classic", ncmodel.FormatNetCDF4Classic, func(f *ncmodel.File) {}, "cannot hold groups"},
		{"fill type", ncmodel.FormatNetCDF4, func(f *ncmodel.File) {
			f.Root.Vars[0].Attrs[0] = ncmodel.Attr{Name: "_FillValue", Type: ncmodel.Double, Value: []float64{1}}
		}, "_FillValue type mismatch"},
		{"fill length", ncmodel.FormatNetCDF4, func(f *ncmodel.File) {
			f.Root.Vars[0].Attrs[0].Value = []float32{1, 2}
		}, "_FillValue must have one value"},
		{"attribute value type", ncmodel.FormatNetCDF4, func(f *ncmodel.File) {
			f.Root.Attrs = []ncmodel.Attr{{Name: "x", Type: ncmodel.Int, Value: []int16{1}}}
		}, "holds a []int16"},
		{"dimension of a sibling", ncmodel.FormatNetCDF4, func(f *ncmodel.File) {
			other := &ncmodel.Group{Name: "other", Parent: f.Root}
			d := &ncmodel.Dim{Name: "k", Len: 2, Group: other}
			other.Dims = []*ncmodel.Dim{d}
			f.Root.Groups = append(f.Root.Groups, other)
			f.Root.Groups[0].Vars[0].Dims = []*ncmodel.Dim{d}
		}, "not defined in its group or an ancestor"},
		{"zero fixed length", ncmodel.FormatNetCDF4, func(f *ncmodel.File) { f.Root.Dims[1].Len = 0 }, "fixed dimension \"lat\" has length 0"},
		{"name clash", ncmodel.FormatNetCDF4, func(f *ncmodel.File) { f.Root.Groups[0].Name = "sst" }, "name in use"},
		{"hdf5", ncmodel.FormatHDF5, func(f *ncmodel.File) {}, "cannot write format"},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := grid()
			c.change(f)
			err := memfile.Validate(f, c.format)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Validate = %v, want %q", err, c.want)
			}
		})
	}
	if err := memfile.Validate(grid(), ncmodel.FormatNetCDF4); err != nil {
		t.Errorf("valid file: %v", err)
	}
}

func TestSetDataPanicsOnWrongShape(t *testing.T) {
	m := memfile.New(grid())
	defer func() {
		if recover() == nil {
			t.Errorf("no panic")
		}
	}()
	m.SetData("/count", memfile.ArrayOf(ncmodel.Short, []int{3}, []int16{1, 2, 3}))
}

func TestWriteTypeMismatch(t *testing.T) {
	var s memfile.Store
	sink, _ := s.Create("x.nc", ncmodel.FormatNetCDF4)
	must(t, sink.Define(grid()))
	err := sink.Write("/count", []int{0, 0}, memfile.ArrayOf(ncmodel.Int, []int{1, 3}, []int32{1, 2, 3}))
	if err == nil || !strings.Contains(err.Error(), "int values for a short variable") {
		t.Errorf("Write int into short: %v", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestFilesAreTheStoreAsAFileSystem(t *testing.T) {
	var st memfile.Store
	a, b := memfile.New(grid()), memfile.New(grid())
	st.Put("/out/a.nc", a)
	files := st.Files()
	read := func(path string) []byte {
		t.Helper()
		r, err := files.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var buf strings.Builder
		if _, err := io.Copy(&buf, r); err != nil {
			t.Fatal(err)
		}
		return []byte(buf.String())
	}
	if got := read("/out/a.nc"); string(got) != string(b.Bytes()) || len(got) == 0 {
		t.Errorf("Open reads %d bytes, not the file's Bytes (%d)", len(got), len(b.Bytes()))
	}
	// One value changed changes the bytes.
	b.SetFunc("count", func(i []int) float64 { return float64(i[0] + i[1]) })
	if string(a.Bytes()) == string(b.Bytes()) {
		t.Error("different values encode the same")
	}
	if err := files.Rename("/out/a.nc", "/out/b.nc"); err != nil || st.Get("/out/b.nc") != a || st.Get("/out/a.nc") != nil {
		t.Errorf("rename: %v, paths %v", err, st.Paths())
	}
	if _, err := files.Open("/out/a.nc"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("open of a moved file: %v", err)
	}
	if err := files.Remove("/out/b.nc"); err != nil || len(st.Paths()) != 0 {
		t.Errorf("remove: %v, paths %v", err, st.Paths())
	}
	if err := files.Remove("/out/b.nc"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("second remove: %v", err)
	}
}

// Decode gives back what Bytes encoded: every group, dimension (a
// variable's of an ancestor group too), attribute of every type (NaN and
// empty ones included), storage setting and value.
func TestBytesDecode(t *testing.T) {
	desc := grid()
	root, sub := desc.Root, desc.Root.Groups[0]
	desc.Format = ncmodel.FormatNetCDF4
	depth := &ncmodel.Dim{Name: "depth", Len: 2, Group: sub}
	sub.Dims = []*ncmodel.Dim{depth}
	sub.Attrs = []ncmodel.Attr{{Name: "title", Type: ncmodel.Char, Value: "a \"sub\" group\n"}, {Name: "empty", Type: ncmodel.Char, Value: ""}}
	sub.Vars = append(sub.Vars,
		&ncmodel.Var{Name: "names", Type: ncmodel.String, Dims: []*ncmodel.Dim{depth}, Group: sub,
			Attrs: []ncmodel.Attr{{Name: "labels", Type: ncmodel.String, Value: []string{"x", ""}}}},
		&ncmodel.Var{Name: "big", Type: ncmodel.UInt64, Dims: []*ncmodel.Dim{root.Dims[1], depth}, Group: sub, Chunks: []int{1, 2}, Deflate: 4, Shuffle: true})
	root.Attrs = []ncmodel.Attr{
		{Name: "nan", Type: ncmodel.Double, Value: []float64{math.NaN(), math.Inf(-1), 1.5}},
		{Name: "b", Type: ncmodel.Byte, Value: []int8{-128, 127}},
		{Name: "none", Type: ncmodel.Int, Value: []int32{}},
	}
	f := memfile.New(desc)
	f.SetFunc("sst", func(i []int) float64 { return float64(100*i[0] + 10*i[1] + i[2]) })
	f.SetFunc("/sub/big", func(i []int) float64 { return float64(1<<40 + i[0]*2 + i[1]) })
	f.SetData("/sub/names", &ncmodel.Array{Type: ncmodel.String, Shape: []int{2}, Strings: []string{"first", "ünïcode"}})
	b := f.Bytes()
	g, err := memfile.Decode("/out/g.nc", b)
	if err != nil {
		t.Fatal(err)
	}
	if diffs := nccompare.Compare(f, g, nccompare.Options{IgnoreGlobalAttrs: map[string]bool{}}); len(diffs) != 0 {
		t.Fatalf("decoded file differs:\n%s", strings.Join(diffs, "\n"))
	}
	if string(g.Bytes()) != string(b) {
		t.Fatal("the decoded file encodes differently")
	}
	gd := g.File()
	v := gd.FindVar("/sub/big")
	if v.Dims[0] != gd.Root.Dims[1] || v.Dims[1] != gd.Root.Groups[0].Dims[0] || !slices.Equal(v.Chunks, []int{1, 2}) || v.Deflate != 4 || !v.Shuffle ||
		!gd.Root.Dims[0].Unlimited || gd.Format != ncmodel.FormatNetCDF4 || gd.Path != "/out/g.nc" {
		t.Fatalf("description %+v", v)
	}
	if a, _ := gd.Root.Attr("nan"); !math.IsNaN(a.Float64s()[0]) || a.Float64s()[1] != math.Inf(-1) {
		t.Errorf("nan attribute %v", a.Value)
	}
	if a, _ := gd.Root.Groups[0].Attr("empty"); a.Value != "" {
		t.Errorf("empty text %#v", a.Value)
	}
	for _, junk := range []string{"", "CDF\x01", `{"memfile": 2}`, `{"memfile": 1, "root": {"vars": [{"name": "v", "type": 5, "dims": ["/nope"]}]}}`,
		`{"memfile": 1, "root": {"dims": [{"name": "x", "len": 2}], "vars": [{"name": "v", "type": 5, "dims": ["/x"], "raw": "AAAA"}]}}`} {
		if _, err := memfile.Decode("junk.nc", []byte(junk)); !errors.Is(err, memfile.ErrNotMemfile) {
			t.Errorf("%q: %v", junk, err)
		}
	}
}
