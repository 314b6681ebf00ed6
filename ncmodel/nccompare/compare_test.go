package nccompare_test

import (
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/ncmodel/memfile"
	"github.com/subsetd/subsetd/ncmodel/nccompare"
)

// sample describes a small CF-like file with a child group.
func sample() *ncmodel.File {
	root := &ncmodel.Group{}
	time := &ncmodel.Dim{Name: "time", Len: 3, Unlimited: true, Group: root}
	lat := &ncmodel.Dim{Name: "lat", Len: 4, Group: root}
	lon := &ncmodel.Dim{Name: "lon", Len: 5, Group: root}
	root.Dims = []*ncmodel.Dim{time, lat, lon}
	root.Attrs = []ncmodel.Attr{
		{Name: "title", Type: ncmodel.Char, Value: "test"},
		{Name: "history", Type: ncmodel.Char, Value: "made today"},
	}
	root.Vars = []*ncmodel.Var{
		{Name: "time", Type: ncmodel.Double, Dims: []*ncmodel.Dim{time}, Group: root,
			Attrs: []ncmodel.Attr{{Name: "units", Type: ncmodel.Char, Value: "days since 2000-01-01"}}},
		{Name: "sst", Type: ncmodel.Float, Dims: []*ncmodel.Dim{time, lat, lon}, Group: root,
			Attrs: []ncmodel.Attr{
				{Name: "_FillValue", Type: ncmodel.Float, Value: []float32{-999}},
				{Name: "valid_range", Type: ncmodel.Float, Value: []float32{-5, 40}},
				{Name: "units", Type: ncmodel.Char, Value: "degC"},
			}},
		{Name: "mask", Type: ncmodel.Byte, Dims: []*ncmodel.Dim{lat, lon}, Group: root},
	}
	g := &ncmodel.Group{Name: "ocean", Parent: root,
		Attrs: []ncmodel.Attr{{Name: "tags", Type: ncmodel.String, Value: []string{"a", "b"}}}}
	root.Groups = []*ncmodel.Group{g}
	g.Vars = []*ncmodel.Var{{Name: "depth", Type: ncmodel.Int, Dims: []*ncmodel.Dim{lat}, Group: g}}
	return &ncmodel.File{Path: "a.nc", Format: ncmodel.FormatNetCDF4, Root: root}
}

func index3(idx []int) float64 { return float64(idx[0]*10000 + idx[1]*100 + idx[2]) }

func filled(f *ncmodel.File) *memfile.File {
	m := memfile.New(f)
	m.SetFunc("/time", func(idx []int) float64 { return float64(idx[0]) })
	m.SetFunc("/sst", index3)
	m.SetFunc("/mask", func(idx []int) float64 { return float64(idx[0] - idx[1]) })
	m.SetFunc("/ocean/depth", func(idx []int) float64 { return float64(10 * idx[0]) })
	return m
}

func wantDiffs(t *testing.T, got []string, wants ...string) {
	t.Helper()
	if len(got) != len(wants) {
		t.Fatalf("got %d differences, want %d:\n%s", len(got), len(wants), strings.Join(got, "\n"))
	}
	for i, w := range wants {
		if !strings.Contains(got[i], w) {
			t.Errorf("difference %d = %q, want it to contain %q", i, got[i], w)
		}
	}
}

func TestIdentical(t *testing.T) {
	a := filled(sample())
	bf := sample()
	bf.Root.Attrs[1].Value = "made another day" // history is ignored by default
	bf.Root.Attrs = append(bf.Root.Attrs, ncmodel.Attr{Name: "_NCProperties", Type: ncmodel.Char, Value: "version=2"})
	// Variables and attributes in another order are still equal.
	slices.Reverse(bf.Root.Vars)
	slices.Reverse(bf.Root.Vars[1].Attrs)
	b := filled(bf)
	wantDiffs(t, nccompare.Compare(a, b, nccompare.Options{}))
}

func TestHistoryComparedWhenAsked(t *testing.T) {
	bf := sample()
	bf.Root.Attrs[1].Value = "made another day"
	got := nccompare.Compare(filled(sample()), filled(bf), nccompare.Options{IgnoreGlobalAttrs: map[string]bool{}})
	wantDiffs(t, got, `global attributes: "history" "made today" vs "made another day"`)
}

func TestDescriptionDifferences(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*ncmodel.File)
		want   []string
	}{
		{"type", func(f *ncmodel.File) { f.Root.Var("mask").Type = ncmodel.Short },
			[]string{"variable /mask: type byte vs short"}},
		{"attr value", func(f *ncmodel.File) { f.Root.Var("sst").Attrs[1].Value = []float32{-5, 41} },
			[]string{`variable /sst attributes: "valid_range" [-5, 40] vs [-5, 41]`}},
		{"attr type", func(f *ncmodel.File) {
			f.Root.Var("sst").Attrs[1] = ncmodel.Attr{Name: "valid_range", Type: ncmodel.Double, Value: []float64{-5, 40}}
		}, []string{`"valid_range" type float vs double`}},
		{"attr missing", func(f *ncmodel.File) { f.Root.Var("sst").Attrs = f.Root.Var("sst").Attrs[:2] },
			[]string{`variable /sst attributes: "units" only in A ("degC")`}},
		{"group attr", func(f *ncmodel.File) { f.Root.Groups[0].Attrs[0].Value = []string{"a", "c"} },
			[]string{`group /ocean attributes: "tags" ["a", "b"] vs ["a", "c"]`}},
		{"dim length", func(f *ncmodel.File) { f.Root.Dims[2].Len = 6 },
			[]string{"dimension /lon: length 5 vs 6", "variable /mask: shape [4 5] vs [4 6]", "variable /sst: shape [3 4 5] vs [3 4 6]"}},
		{"unlimited", func(f *ncmodel.File) { f.Root.Dims[0].Unlimited = false },
			[]string{"dimension /time: unlimited true vs false"}},
		{"variable only in B", func(f *ncmodel.File) {
			f.Root.Vars = append(f.Root.Vars, &ncmodel.Var{Name: "extra", Type: ncmodel.Int, Group: f.Root})
		}, []string{"variable /extra: only in B"}},
		{"group only in A", func(f *ncmodel.File) { f.Root.Groups = nil },
			[]string{"group /ocean: only in A"}},
		{"dim names", func(f *ncmodel.File) {
			v := f.Root.Var("mask")
			v.Dims[0], v.Dims[1] = v.Dims[1], v.Dims[0]
		}, []string{"variable /mask: dimensions (lat, lon) vs (lon, lat)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bf := sample()
			tc.change(bf)
			b := memfile.New(bf)
			// Values are the same wherever shapes allow, so only the
			// description differs.
			for _, v := range b.File().Vars() {
				if v.Path() == "/sst" && v.Shape()[2] == 5 {
					b.SetFunc("/sst", index3)
				}
			}
			a := filled(sample())
			for _, p := range []string{"/time", "/mask", "/ocean/depth"} {
				if bv := b.File().FindVar(p); bv != nil && slices.Equal(bv.Shape(), a.File().FindVar(p).Shape()) && bv.Type == a.File().FindVar(p).Type {
					b.SetData(p, a.Data(p))
				}
			}
			wantDiffs(t, nccompare.Compare(a, b, nccompare.Options{}), tc.want...)
		})
	}
}

func setFloat(m *memfile.File, path string, idx []int, x float32) {
	a := m.Data(path)
	v := m.File().FindVar(path)
	k := 0
	for i, s := range v.Shape() {
		k = k*s + idx[i]
	}
	binary.NativeEndian.PutUint32(a.Data[4*k:], math.Float32bits(x))
	m.SetData(path, a)
}

func TestOneValue(t *testing.T) {
	a, b := filled(sample()), filled(sample())
	setFloat(b, "/sst", []int{2, 1, 3}, 7.5)
	wantDiffs(t, nccompare.Compare(a, b, nccompare.Options{}),
		"variable /sst: 1 of 60 values differ: [2 1 3] 20103 vs 7.5")
}

func TestNaN(t *testing.T) {
	quiet := math.Float32frombits(0x7fc00000)
	payload := math.Float32frombits(0x7fc00123)
	a, b := filled(sample()), filled(sample())
	setFloat(a, "/sst", []int{0, 0, 1}, quiet)
	setFloat(b, "/sst", []int{0, 0, 1}, payload)
	wantDiffs(t, nccompare.Compare(a, b, nccompare.Options{}))

	setFloat(b, "/sst", []int{0, 0, 1}, 1)
	wantDiffs(t, nccompare.Compare(a, b, nccompare.Options{}),
		"variable /sst: 1 of 60 values differ: [0 0 1] NaN vs 1")
}

func TestNaNAttribute(t *testing.T) {
	af, bf := sample(), sample()
	af.Root.Var("sst").Attrs[1].Value = []float32{float32(math.NaN()), 1}
	bf.Root.Var("sst").Attrs[1].Value = []float32{math.Float32frombits(0xffc00001), 1}
	wantDiffs(t, nccompare.Compare(filled(af), filled(bf), nccompare.Options{}))
	bf.Root.Var("sst").Attrs[1].Value = []float32{0, 1}
	wantDiffs(t, nccompare.Compare(filled(af), filled(bf), nccompare.Options{}), `"valid_range" [NaN, 1] vs [0, 1]`)
}

func TestSlabsFindEveryDifference(t *testing.T) {
	a, b := filled(sample()), filled(sample())
	setFloat(b, "/sst", []int{0, 0, 0}, -1)
	setFloat(b, "/sst", []int{1, 3, 4}, -2)
	setFloat(b, "/sst", []int{2, 2, 0}, -3)
	// 8 bytes per read: two floats, so rows of lon are split in blocks.
	got := nccompare.Compare(a, b, nccompare.Options{MaxReadBytes: 8})
	wantDiffs(t, got, "variable /sst: 3 of 60 values differ: [0 0 0] 0 vs -1, [1 3 4] 10304 vs -2, [2 2 0] 20200 vs -3")
}

func TestOptions(t *testing.T) {
	bf := sample()
	bf.Root.Var("sst").Attrs[2].Value = "K"
	bf.Root.Var("mask").Type = ncmodel.Short
	a, b := filled(sample()), filled(bf)
	b.SetData("/sst", a.Data("/sst"))
	setFloat(b, "/sst", []int{1, 1, 1}, -1)

	got := nccompare.Compare(a, b, nccompare.Options{Vars: []string{"/sst"}})
	wantDiffs(t, got, `variable /sst attributes: "units" "degC" vs "K"`, "variable /sst: 1 of 60 values differ")

	got = nccompare.Compare(a, b, nccompare.Options{Vars: []string{"/sst"}, IgnoreVarAttrs: map[string]bool{"units": true}, SkipValues: map[string]bool{"/sst": true}})
	wantDiffs(t, got)

	got = nccompare.Compare(a, b, nccompare.Options{NoValues: true})
	wantDiffs(t, got, "variable /mask: type byte vs short", `"units" "degC" vs "K"`)

	got = nccompare.Compare(a, b, nccompare.Options{Vars: []string{"/nope"}})
	wantDiffs(t, got, "variable /nope: in neither file")
}

func TestStringsAndChars(t *testing.T) {
	root := &ncmodel.Group{}
	n := &ncmodel.Dim{Name: "n", Len: 3, Group: root}
	root.Dims = []*ncmodel.Dim{n}
	root.Vars = []*ncmodel.Var{
		{Name: "names", Type: ncmodel.String, Dims: []*ncmodel.Dim{n}, Group: root},
		{Name: "letters", Type: ncmodel.Char, Dims: []*ncmodel.Dim{n}, Group: root,
			Attrs: []ncmodel.Attr{{Name: "note", Type: ncmodel.Char, Value: "x"}}},
	}
	f := &ncmodel.File{Format: ncmodel.FormatNetCDF4, Root: root}
	a, b := memfile.New(f), memfile.New(f)
	a.SetData("/names", memfile.ArrayOf(ncmodel.String, []int{3}, []string{"a", "b", "c"}))
	b.SetData("/names", memfile.ArrayOf(ncmodel.String, []int{3}, []string{"a", "B", "c"}))
	a.SetData("/letters", memfile.ArrayOf(ncmodel.Char, []int{3}, "xyz"))
	b.SetData("/letters", memfile.ArrayOf(ncmodel.Char, []int{3}, "xyZ"))
	wantDiffs(t, nccompare.Compare(a, b, nccompare.Options{}),
		`variable /letters: 1 of 3 values differ: [2] 'z' vs 'Z'`,
		`variable /names: 1 of 3 values differ: [1] "b" vs "B"`)
}

func TestEqualArrays(t *testing.T) {
	x := memfile.ArrayOf(ncmodel.Double, []int{2, 2}, []float64{1, math.NaN(), 3, 4})
	y := memfile.ArrayOf(ncmodel.Double, []int{2, 2}, []float64{1, math.NaN(), 3, 4})
	if ok, msg := nccompare.EqualArrays(x, y); !ok {
		t.Errorf("equal arrays differ: %s", msg)
	}
	y = memfile.ArrayOf(ncmodel.Double, []int{2, 2}, []float64{1, 2, 3, 5})
	ok, msg := nccompare.EqualArrays(x, y)
	if ok || msg != "2 of 4 values differ: [0 1] NaN vs 2, [1 1] 4 vs 5" {
		t.Errorf("EqualArrays = %v, %q", ok, msg)
	}
	if ok, msg := nccompare.EqualArrays(x, memfile.ArrayOf(ncmodel.Double, []int{4}, []float64{1, 2, 3, 4})); ok || msg != "shape [2 2] vs [4]" {
		t.Errorf("shape mismatch: %v, %q", ok, msg)
	}
	bad := &ncmodel.Array{Type: ncmodel.Double, Shape: []int{2, 2}, Data: make([]byte, 3)}
	if ok, _ := nccompare.EqualArrays(x, bad); ok {
		t.Error("malformed array compared equal")
	}
	// Zero and negative zero are different bits: raw comparison says so.
	if ok, _ := nccompare.EqualArrays(
		memfile.ArrayOf(ncmodel.Float, []int{1}, []float32{0}),
		memfile.ArrayOf(ncmodel.Float, []int{1}, []float32{float32(math.Copysign(0, -1))})); ok {
		t.Error("0 and -0 compared equal")
	}
}

func TestValuesAndFormat(t *testing.T) {
	big := memfile.ArrayOf(ncmodel.Int64, []int{2}, []int64{math.MaxInt64, -3})
	if got := nccompare.Format(big, 0); got != "9223372036854775807" {
		t.Errorf("Format int64 = %s", got)
	}
	if got := nccompare.Values(memfile.ArrayOf(ncmodel.Short, []int{3}, []int16{-1, 0, 300})); !slices.Equal(got, []float64{-1, 0, 300}) {
		t.Errorf("Values short = %v", got)
	}
	if got := nccompare.Values(memfile.ArrayOf(ncmodel.UInt, []int{1}, []uint32{4000000000})); got[0] != 4e9 {
		t.Errorf("Values uint = %v", got)
	}
	if got := nccompare.Format(memfile.ArrayOf(ncmodel.Float, []int{1}, []float32{0.1}), 0); got != "0.1" {
		t.Errorf("Format float = %s", got)
	}
	if nccompare.Values(memfile.ArrayOf(ncmodel.String, []int{1}, []string{"x"})) != nil {
		t.Error("Values of strings should be nil")
	}
}
