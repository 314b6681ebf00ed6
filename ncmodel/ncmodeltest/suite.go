package ncmodeltest

import (
	"fmt"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/ncmodel/memfile"
	"github.com/subsetd/subsetd/ncmodel/nccompare"
)

// Impl is a reader/writer pair under test.
type Impl struct {
	// Name appears in file names and messages.
	Name string
	// Create and Open make and open files at paths under Dir.
	Create func(path string, format ncmodel.Format) (ncmodel.Sink, error)
	Open   func(path string) (ncmodel.Source, error)
	// Formats are the formats the implementation writes; each gets the
	// whole suite.
	Formats []ncmodel.Format
	// Dir receives the files; "" means a fresh t.TempDir() per format.
	Dir string
	// ReadsChunks and WritesChunks say that the implementation's sources
	// and sinks have the direct chunk capabilities (ncmodel.ChunkSource,
	// ncmodel.ChunkSink) for the filtered variables of a NetCDF-4 file;
	// capabilities present are checked either way.
	ReadsChunks, WritesChunks bool
}

// Exercise runs the conformance suite against impl.
func Exercise(t *testing.T, impl Impl) {
	t.Helper()
	if impl.Create == nil || impl.Open == nil || len(impl.Formats) == 0 {
		t.Fatalf("readertest: Impl %q needs Create, Open and Formats", impl.Name)
	}
	for _, format := range impl.Formats {
		t.Run(string(format), func(t *testing.T) {
			s := &suite{impl: impl, format: format, dir: impl.Dir}
			if s.dir == "" {
				s.dir = t.TempDir()
			}
			t.Run("RoundTrip", s.roundTrip)
			t.Run("Misuse", s.misuse)
			if classicModel(format) {
				t.Run("ClassicModelLimits", s.classicLimits)
			}
			if format == ncmodel.FormatNetCDF4 {
				t.Run("Chunks", s.chunks)
			}
		})
	}
}

type suite struct {
	impl   Impl
	format ncmodel.Format
	dir    string
}

var unsafeChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func (s *suite) path(name string) string {
	base := unsafeChars.ReplaceAllString(fmt.Sprintf("%s-%s-%s", s.impl.Name, s.format, name), "_")
	return filepath.Join(s.dir, base+".nc")
}

// try runs fn and turns a Go panic into a test error, so one broken call
// is reported with its stack and the rest of the suite still runs. (A
// crash in C cannot be caught: it kills the test binary, which is the
// report.)
func try(t *testing.T, what string, fn func() error) (err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s panicked: %v\n%s", what, r, debug.Stack())
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return fn()
}

// mustFail asserts that fn returns an error; a panic counts as a failure
// too, reported by try.
func mustFail(t *testing.T, what string, fn func() error) {
	t.Helper()
	if try(t, what, fn) == nil {
		t.Errorf("%s: want an error, got none", what)
	}
}

// mustSucceed asserts that fn returns no error and stops the test if it
// does, since what follows depends on it.
func mustSucceed(t *testing.T, what string, fn func() error) {
	t.Helper()
	if err := try(t, what, fn); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// writeSlab is one Write of the round trip.
type writeSlab struct {
	v     *ncmodel.Var
	start []int
	count []int
}

// writePlan splits every variable into slabs along its first dimension
// and interleaves them across variables, so unlimited dimensions grow slab
// by slab, under several variables, and once past a gap (records 3..4 are
// written before record 2).
func writePlan(f *ncmodel.File) []writeSlab {
	var rounds [3][]writeSlab
	for _, v := range f.Vars() {
		shape := v.Shape()
		if len(shape) == 0 {
			rounds[0] = append(rounds[0], writeSlab{v: v})
			continue
		}
		var cuts [][2]int
		switch {
		case v.Dims[0].Unlimited && shape[0] >= 5:
			cuts = [][2]int{{0, 2}, {3, shape[0]}, {2, 3}}
		case shape[0] >= 2:
			cuts = [][2]int{{0, shape[0] / 2}, {shape[0] / 2, shape[0]}}
		default:
			cuts = [][2]int{{0, shape[0]}}
		}
		for r, c := range cuts {
			start := make([]int, len(shape))
			count := slices.Clone(shape)
			start[0], count[0] = c[0], c[1]-c[0]
			rounds[r] = append(rounds[r], writeSlab{v: v, start: start, count: count})
		}
	}
	return slices.Concat(rounds[:]...)
}

// expectedFile holds the description and values the round trip writes.
func expectedFile(desc *ncmodel.File) *memfile.File {
	m := memfile.New(desc)
	for _, v := range m.File().Vars() {
		m.SetData(v.Path(), whole(v))
	}
	return m
}

func (s *suite) roundTrip(t *testing.T) {
	desc := sampleFile(s.format)
	want := expectedFile(desc)
	path := s.path("roundtrip")

	var sink ncmodel.Sink
	mustSucceed(t, "Create", func() (err error) {
		sink, err = s.impl.Create(path, s.format)
		return err
	})
	// Define gets a copy that is changed afterwards: the file must keep
	// what it was given at Define time.
	given := memfile.Clone(desc)
	mustSucceed(t, "Define", func() error { return sink.Define(given) })
	given.Root.Attrs[1].Value = "changed after Define"
	given.Root.Var("v_int").Attrs[0].Value = "changed after Define"
	given.Root.Dims[1].Len = 1

	for _, w := range writePlan(desc) {
		what := fmt.Sprintf("Write %s start %v count %v", w.v.Path(), w.start, w.count)
		a := expected(w.v, w.start, w.count, nil)
		mustSucceed(t, what, func() error { return sink.Write(w.v.Path(), w.start, a) })
	}
	mustSucceed(t, "Close", sink.Close)

	var src ncmodel.Source
	mustSucceed(t, "Open", func() (err error) {
		src, err = s.impl.Open(path)
		return err
	})
	closed := false
	defer func() {
		if !closed {
			_ = try(t, "Close", src.Close)
		}
	}()

	got := src.File()
	if got == nil || got.Root == nil {
		t.Fatalf("File() = %+v: no description", got)
	}
	if src.File() != got {
		t.Errorf("File() returns a different value on each call")
	}
	if got.Format != s.format {
		t.Errorf("Format = %q, want %q", got.Format, s.format)
	}
	checkTree(t, got)
	if !classicModel(s.format) {
		checkScoping(t, got)
	}

	for _, d := range nccompare.Compare(want, src, nccompare.Options{}) {
		t.Errorf("round trip: %s", d)
	}

	t.Run("Hyperslabs", func(t *testing.T) { readSlabs(t, src, got) })
	t.Run("ReadErrors", func(t *testing.T) { readErrors(t, src, got) })

	closed = true
	mustSucceed(t, "Close", src.Close)
	v := got.FindVar("/v_float")
	mustFail(t, "Read after Close", func() error {
		_, err := src.Read(v, []int{0, 0, 0}, []int{1, 1, 1}, nil)
		return err
	})
}

// checkTree asserts the description's back-pointers: each group's Parent,
// each variable's and dimension's Group, and that every dimension a
// variable uses is defined, by identity, in its group or an ancestor.
func checkTree(t *testing.T, f *ncmodel.File) {
	t.Helper()
	if f.Root.Parent != nil {
		t.Errorf("root group has a parent")
	}
	f.Root.Walk(func(g *ncmodel.Group) {
		for _, c := range g.Groups {
			if c.Parent != g {
				t.Errorf("group %s: Parent is not %s", c.Path(), g.Path())
			}
		}
		for _, d := range g.Dims {
			if d.Group != g {
				t.Errorf("dimension %s of %s: Group is not its group", d.Name, g.Path())
			}
		}
		for _, v := range g.Vars {
			if v.Group != g {
				t.Errorf("variable %s in %s: Group is not its group", v.Name, g.Path())
				continue
			}
			for _, d := range v.Dims {
				if d == nil || g.Dim(d.Name) != d {
					t.Errorf("variable %s: dimension %v is not the one its group sees", v.Path(), d)
				}
			}
		}
	})
}

// checkScoping asserts that variables in child groups use their
// ancestors' dimensions themselves, not copies.
func checkScoping(t *testing.T, f *ncmodel.File) {
	t.Helper()
	ocean := f.Root.Group("ocean")
	if ocean == nil || ocean.Group("surface") == nil {
		t.Errorf("groups /ocean and /ocean/surface missing")
		return
	}
	wind := f.FindVar("/ocean/surface/wind")
	level := f.FindVar("/ocean/surface/level")
	if wind == nil || level == nil || len(wind.Dims) != 3 || len(level.Dims) != 1 {
		t.Errorf("variables /ocean/surface/wind(time, lat, lon) and level(depth) missing")
		return
	}
	if wind.Dims[1] != f.Root.Dim("lat") || wind.Dims[1].Group != f.Root {
		t.Errorf("/ocean/surface/wind: lat is not the root group's dimension")
	}
	if level.Dims[0] != ocean.Dim("depth") || level.Dims[0].Group != ocean {
		t.Errorf("/ocean/surface/level: depth is not /ocean's dimension")
	}
}

// slabCase is one hyperslab read.
type slabCase struct {
	name                 string
	start, count, stride []int
}

// slabCases lists reads that a subset makes: the whole variable, single
// corners, an inner box, and strided reads from offsets. None reads past
// the end or with a stride longer than a dimension, where libraries differ.
func slabCases(shape []int) []slabCase {
	r := len(shape)
	mk := func(fn func(i, n int) (start, count, stride int)) ([]int, []int, []int) {
		start, count, stride := make([]int, r), make([]int, r), make([]int, r)
		for i, n := range shape {
			start[i], count[i], stride[i] = fn(i, n)
		}
		return start, count, stride
	}
	var out []slabCase
	add := func(name string, strided bool, fn func(i, n int) (int, int, int)) {
		start, count, stride := mk(fn)
		if !strided {
			stride = nil
		}
		out = append(out, slabCase{name, start, count, stride})
	}
	add("whole", false, func(i, n int) (int, int, int) { return 0, n, 1 })
	add("first", false, func(i, n int) (int, int, int) { return 0, 1, 1 })
	add("last", false, func(i, n int) (int, int, int) { return n - 1, 1, 1 })
	add("box", false, func(i, n int) (int, int, int) {
		s := n / 3
		return s, max(1, n-2*s), 1
	})
	add("stride 1", true, func(i, n int) (int, int, int) { return 0, n, 1 })
	add("stride 2", true, func(i, n int) (int, int, int) { return 0, (n + 1) / 2, 2 })
	add("offset stride 2", true, func(i, n int) (int, int, int) {
		if n < 2 {
			return 0, 1, 2
		}
		return 1, n / 2, 2
	})
	add("mixed strides", true, func(i, n int) (int, int, int) {
		st := []int{3, 1, 2}[i%3]
		s := min(i%2, n-1)
		return s, (n-s-1)/st + 1, st
	})
	add("one per dim, strided", true, func(i, n int) (int, int, int) { return n / 2, 1, n })
	return out
}

func readSlabs(t *testing.T, src ncmodel.Source, f *ncmodel.File) {
	for _, v := range f.Vars() {
		if len(v.Dims) == 0 {
			for _, args := range [][]int{nil, {}} {
				var got *ncmodel.Array
				what := fmt.Sprintf("Read scalar %s with start %#v", v.Path(), args)
				if try(t, what, func() (err error) { got, err = src.Read(v, args, args, nil); return err }) != nil {
					continue
				}
				if ok, msg := nccompare.EqualArrays(expected(v, nil, nil, nil), normalise(got)); !ok {
					t.Errorf("%s: %s", what, msg)
				}
			}
			continue
		}
		for _, c := range slabCases(v.Shape()) {
			what := fmt.Sprintf("Read %s %s: start %v count %v stride %v", v.Path(), c.name, c.start, c.count, c.stride)
			var got *ncmodel.Array
			if err := try(t, what, func() (err error) { got, err = src.Read(v, c.start, c.count, c.stride); return err }); err != nil {
				t.Errorf("%s: %v", what, err)
				continue
			}
			if ok, msg := nccompare.EqualArrays(expected(v, c.start, c.count, c.stride), got); !ok {
				t.Errorf("%s: %s", what, msg)
			}
		}
	}
}

// normalise treats a nil scalar shape as empty, which the model does not
// distinguish.
func normalise(a *ncmodel.Array) *ncmodel.Array {
	if a != nil && a.Shape == nil {
		c := *a
		c.Shape = []int{}
		return &c
	}
	return a
}

func readErrors(t *testing.T, src ncmodel.Source, f *ncmodel.File) {
	v := f.FindVar("/v_float") // (time, lat, lon), time unlimited
	if v == nil {
		t.Fatal("no /v_float")
	}
	for _, c := range []slabCase{
		{"rank too small", []int{0, 0}, []int{1, 1}, nil},
		{"rank too large", []int{0, 0, 0, 0}, []int{1, 1, 1, 1}, nil},
		{"stride rank", []int{0, 0, 0}, []int{1, 1, 1}, []int{1, 1}},
		{"start past the end", []int{0, nLat + 1, 0}, []int{1, 1, 1}, nil},
		{"start at the end", []int{0, nLat, 0}, []int{1, 1, 1}, nil},
		{"start+count past the end", []int{0, nLat - 1, 0}, []int{1, 2, 1}, nil},
		{"past the unlimited length", []int{nTime - 1, 0, 0}, []int{2, 1, 1}, nil},
		{"strided past the end", []int{0, 0, 0}, []int{1, 1, nLon/2 + 1}, []int{1, 1, 2}},
		{"zero stride", []int{0, 0, 0}, []int{1, 1, 1}, []int{1, 0, 1}},
		{"negative stride", []int{0, 0, 0}, []int{1, 1, 1}, []int{1, 1, -1}},
		{"negative start", []int{0, -1, 0}, []int{1, 1, 1}, nil},
		{"negative count", []int{0, 0, 0}, []int{1, -1, 1}, nil},
	} {
		what := fmt.Sprintf("Read %s %s: start %v count %v stride %v", v.Path(), c.name, c.start, c.count, c.stride)
		mustFail(t, what, func() error {
			_, err := src.Read(v, c.start, c.count, c.stride)
			return err
		})
	}
	scalar := f.FindVar("/crs")
	mustFail(t, "Read scalar with a rank-1 start", func() error {
		_, err := src.Read(scalar, []int{1}, []int{1}, nil)
		return err
	})
}

// smallFile is a minimal description for the misuse tests.
func smallFile() *ncmodel.File {
	root := &ncmodel.Group{Attrs: []ncmodel.Attr{text("title", "misuse")}}
	time := &ncmodel.Dim{Name: "time", Len: 3, Unlimited: true, Group: root}
	lat := &ncmodel.Dim{Name: "lat", Len: nLat, Group: root}
	lon := &ncmodel.Dim{Name: "lon", Len: nLon, Group: root}
	root.Dims = []*ncmodel.Dim{time, lat, lon}
	root.Vars = []*ncmodel.Var{
		{Name: "series", Type: ncmodel.Double, Dims: []*ncmodel.Dim{time}, Group: root},
		{Name: "grid", Type: ncmodel.Int, Dims: []*ncmodel.Dim{lat, lon}, Group: root},
	}
	return &ncmodel.File{Root: root}
}

func (s *suite) misuse(t *testing.T) {
	desc := smallFile()
	grid, series := desc.Root.Vars[1], desc.Root.Vars[0]
	path := s.path("misuse")
	var sink ncmodel.Sink
	mustSucceed(t, "Create", func() (err error) {
		sink, err = s.impl.Create(path, s.format)
		return err
	})
	gridAll := expected(grid, []int{0, 0}, []int{nLat, nLon}, nil)
	mustFail(t, "Write before Define", func() error { return sink.Write("/grid", []int{0, 0}, gridAll) })
	mustSucceed(t, "Define", func() error { return sink.Define(desc) })
	mustFail(t, "Define twice", func() error { return sink.Define(desc) })
	mustFail(t, "Write to an undefined variable", func() error { return sink.Write("/nope", []int{0, 0}, gridAll) })
	mustFail(t, "Write past a fixed dimension", func() error {
		return sink.Write("/grid", []int{nLat - 1, 0}, expected(grid, []int{0, 0}, []int{2, nLon}, nil))
	})
	mustFail(t, "Write starting past a fixed dimension", func() error {
		return sink.Write("/grid", []int{nLat + 1, 0}, expected(grid, []int{0, 0}, []int{1, nLon}, nil))
	})
	mustFail(t, "Write at a negative start", func() error {
		return sink.Write("/grid", []int{-1, 0}, expected(grid, []int{0, 0}, []int{1, nLon}, nil))
	})
	mustFail(t, "Write with the wrong rank", func() error {
		return sink.Write("/grid", []int{0}, expected(grid, []int{0, 0}, []int{1, nLon}, nil))
	})
	mustFail(t, "Write an array shorter than its shape", func() error {
		bad := &ncmodel.Array{Type: ncmodel.Int, Shape: []int{nLat, nLon}, Data: make([]byte, 4)}
		return sink.Write("/grid", []int{0, 0}, bad)
	})
	mustSucceed(t, "Write /grid", func() error { return sink.Write("/grid", []int{0, 0}, gridAll) })
	seriesAll := expected(series, []int{0}, []int{3}, nil)
	mustSucceed(t, "Write /series", func() error { return sink.Write("/series", []int{0}, seriesAll) })
	mustFail(t, "Define after Write", func() error { return sink.Define(desc) })
	mustSucceed(t, "Close", sink.Close)
	mustFail(t, "Write after Close", func() error { return sink.Write("/grid", []int{0, 0}, gridAll) })

	var src ncmodel.Source
	mustSucceed(t, "Open", func() (err error) {
		src, err = s.impl.Open(path)
		return err
	})
	defer func() { _ = try(t, "Close", src.Close) }()
	f := src.File()
	if d := f.Root.Dim("time"); d == nil || d.Len != 3 || !d.Unlimited {
		t.Errorf("time after writing 3 records: %+v", d)
	}
	for _, c := range []struct {
		path string
		want *ncmodel.Array
	}{{"/grid", gridAll}, {"/series", seriesAll}} {
		v := f.FindVar(c.path)
		if v == nil {
			t.Errorf("%s missing", c.path)
			continue
		}
		var got *ncmodel.Array
		if err := try(t, "Read "+c.path, func() (err error) {
			got, err = src.Read(v, make([]int, len(c.want.Shape)), c.want.Shape, nil)
			return err
		}); err != nil {
			t.Errorf("Read %s: %v", c.path, err)
			continue
		}
		if ok, msg := nccompare.EqualArrays(c.want, got); !ok {
			t.Errorf("%s after failed writes: %s", c.path, msg)
		}
	}
}

// classicLimits checks that Define refuses, with an error, what the
// netCDF-3 data model cannot hold.
func (s *suite) classicLimits(t *testing.T) {
	type bad struct {
		name   string
		change func(f *ncmodel.File)
	}
	cases := []bad{
		{"child group", func(f *ncmodel.File) {
			g := &ncmodel.Group{Name: "child", Parent: f.Root}
			g.Vars = []*ncmodel.Var{{Name: "x", Type: ncmodel.Int, Dims: []*ncmodel.Dim{f.Root.Dim("lat")}, Group: g}}
			f.Root.Groups = append(f.Root.Groups, g)
		}},
		{"string variable", func(f *ncmodel.File) {
			f.Root.Vars = append(f.Root.Vars, &ncmodel.Var{Name: "s", Type: ncmodel.String, Dims: []*ncmodel.Dim{f.Root.Dim("lat")}, Group: f.Root})
		}},
		{"string attribute", func(f *ncmodel.File) {
			f.Root.Attrs = append(f.Root.Attrs, ncmodel.Attr{Name: "s", Type: ncmodel.String, Value: []string{"a", "b"}})
		}},
		{"two unlimited dimensions", func(f *ncmodel.File) {
			d := &ncmodel.Dim{Name: "obs", Unlimited: true, Group: f.Root}
			f.Root.Dims = append(f.Root.Dims, d)
			f.Root.Vars = append(f.Root.Vars, &ncmodel.Var{Name: "o", Type: ncmodel.Int, Dims: []*ncmodel.Dim{d}, Group: f.Root})
		}},
	}
	if s.format != ncmodel.Format64BitData {
		// CDF-5 holds the 64-bit and unsigned integers; the others do not.
		for _, ty := range []ncmodel.Type{ncmodel.Int64, ncmodel.UInt64, ncmodel.UByte} {
			cases = append(cases, bad{ty.String() + " variable", func(f *ncmodel.File) {
				f.Root.Vars = append(f.Root.Vars, &ncmodel.Var{Name: "i", Type: ty, Dims: []*ncmodel.Dim{f.Root.Dim("lat")}, Group: f.Root})
			}})
		}
		cases = append(cases, bad{"int64 attribute", func(f *ncmodel.File) {
			f.Root.Attrs = append(f.Root.Attrs, ncmodel.Attr{Name: "big", Type: ncmodel.Int64, Value: []int64{1, 2}})
		}})
	}
	if s.format.IsNetCDF3() {
		cases = append(cases, bad{"unlimited dimension not first", func(f *ncmodel.File) {
			f.Root.Vars = append(f.Root.Vars, &ncmodel.Var{Name: "late", Type: ncmodel.Int,
				Dims: []*ncmodel.Dim{f.Root.Dim("lat"), f.Root.Dim("time")}, Group: f.Root})
		}})
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			desc := smallFile()
			c.change(desc)
			var sink ncmodel.Sink
			mustSucceed(t, "Create", func() (err error) {
				sink, err = s.impl.Create(s.path("limit-"+c.name), s.format)
				return err
			})
			mustFail(t, "Define with a "+c.name, func() error { return sink.Define(desc) })
			// The file is unusable now; closing it must not crash, and
			// what it returns is the library's business.
			_ = try(t, "Close after a failed Define", sink.Close)
		})
	}
}
