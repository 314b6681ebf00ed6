package hdf5

import (
	"math"
	"reflect"
	"testing"

	"github.com/subsetd/subsetd/ncmodel"
)

// wantEdge is the model of the file internal/h5fixture writes (see the
// layout in its doc comment): phony dimensions where no usable scale is
// attached, links and unsupported datasets skipped.
const wantEdge = `group / {
  dim alpha = 3
  dim phony_dim_0 = 3
  dim phony_dim_1 = 2
  dim phony_dim_2 = 0 unlimited
  dim phony_dim_4 = 4
  dim phony_dim_5 = 3
  dim phony_dim_6 = 2
  dim time = 4 unlimited
  double be_f64(/:phony_dim_0)
  int64 be_i64(/:phony_dim_0)
  ushort be_u16(/:phony_dim_0)
  char char1(/:phony_dim_1)
  int dangling_ref(/:phony_dim_1)
  float data_t(/:time) chunks=[2] deflate=0 shuffle=false
  int empty_unlim(/:phony_dim_2) chunks=[2] deflate=0 shuffle=false
  short grid_t(/:time, /:phony_dim_0) chunks=[2 3] deflate=0 shuffle=false
  int half_scaled(/:alpha, /:phony_dim_1)
  string names_t(/:time) chunks=[2] deflate=0 shuffle=false
  double noscale(/:phony_dim_0, /:phony_dim_4)
  short noscale2(/:phony_dim_4, /:phony_dim_0)
  int notscale_ref(/:phony_dim_0)
  string scalar_str()
  float scale_a(/:alpha)
  int short_ref(/:phony_dim_1)
  float short_t(/:time) chunks=[2] deflate=0 shuffle=false
  byte square(/:phony_dim_0, /:phony_dim_5)
  string str_nullpad(/:phony_dim_1)
  string str_nullterm(/:phony_dim_1)
  string str_spacepad(/:phony_dim_1)
  double time(/:time) chunks=[2] deflate=0 shuffle=false
  uint uses_a(/:alpha)
  string vstr2d(/:phony_dim_1, /:phony_dim_6)
  :int be_attr = []int32{1, -2}
  :string fstr2 = []string{"ab", "cdef"}
  :int nullattr = []int32{}
  :char spacepad = "xy"
  :char vstr1 = "hello"
  :string vstr3 = []string{"x", "", "zz"}
  group /grp {
    dim phony_dim_3 = 2
    int cross(/:alpha)
    int inner(/grp:phony_dim_3)
    :char kind = "group attr"
  }
}
`

func TestEdgeStructure(t *testing.T) {
	r := open(t, edgeFixture(t))
	f := r.File()
	diffText(t, "model", dumpModel(f), wantEdge)

	// Skipped entirely: links other than the first hard link, committed
	// datatypes, unsupported types, null dataspaces, a deleted scale.
	for _, name := range []string{"soft", "dangling", "ext", "zz_dup", "named_type", "cmpd",
		"half_float", "enum_like_bitfield", "vlen_int", "array_t", "refs", "nullds", "gone", "/grp/loop"} {
		if f.FindVar(name) != nil || f.Root.Group(name) != nil {
			t.Errorf("%s is listed", name)
		}
	}
	// The hard-linked dataset appears once, at its first path in name order.
	if v := mustVar(t, r, "/grp/inner"); v.Path() != "/grp/inner" {
		t.Errorf("inner at %s", v.Path())
	}
	// A scale named by its NAME attribute, shared by datasets of the root
	// and of a child group; its own variable is its coordinate.
	alpha := f.Root.Dim("alpha")
	if alpha == nil || alpha.Len != 3 || alpha.Unlimited {
		t.Fatalf("dimension alpha: %+v", alpha)
	}
	for _, p := range []string{"scale_a", "uses_a", "/grp/cross", "half_scaled"} {
		if mustVar(t, r, p).Dims[0] != alpha {
			t.Errorf("%s does not use alpha", p)
		}
	}
	// Phony dimensions: shared by length within a group, never twice in one
	// variable, separate per group.
	sq := mustVar(t, r, "square")
	if sq.Dims[0] == sq.Dims[1] || sq.Dims[0].Len != 3 || sq.Dims[1].Len != 3 {
		t.Errorf("square dims %s, %s", sq.Dims[0].Name, sq.Dims[1].Name)
	}
	ns, ns2 := mustVar(t, r, "noscale"), mustVar(t, r, "noscale2")
	if ns.Dims[0] != ns2.Dims[1] || ns.Dims[1] != ns2.Dims[0] {
		t.Error("noscale and noscale2 do not share their phony dimensions")
	}
	if mustVar(t, r, "/grp/inner").Dims[0].Group.Path() != "/grp" {
		t.Error("/grp/inner's phony dimension is not in /grp")
	}
	if d := f.Root.Dim("time"); d == nil || !d.Unlimited || d.Len != 4 || mustVar(t, r, "data_t").Dims[0] != d {
		t.Errorf("time dimension %+v", d)
	}
	if d := mustVar(t, r, "empty_unlim").Dims[0]; d.Len != 0 || !d.Unlimited {
		t.Errorf("empty_unlim dimension %+v", d)
	}
}

func TestEdgeAttrs(t *testing.T) {
	r := open(t, edgeFixture(t))
	root := r.File().Root
	for _, c := range []struct {
		name string
		typ  ncmodel.Type
		want any
	}{
		{"vstr1", ncmodel.Char, "hello"},                   // scalar vlen string
		{"vstr3", ncmodel.String, []string{"x", "", "zz"}}, // vlen strings
		{"fstr2", ncmodel.String, []string{"ab", "cdef"}},  // fixed, null-padded
		{"spacepad", ncmodel.Char, "xy"},                   // fixed, space-padded
		{"nullattr", ncmodel.Int, []int32{}},               // null dataspace
		{"be_attr", ncmodel.Int, []int32{1, -2}},           // big-endian
	} {
		a, ok := root.Attr(c.name)
		if !ok {
			t.Errorf("no attribute %s", c.name)
			continue
		}
		if a.Type != c.typ || !reflect.DeepEqual(a.Value, c.want) {
			t.Errorf("%s = %v %#v, want %v %#v", c.name, a.Type, a.Value, c.typ, c.want)
		}
	}
	if _, ok := root.Attr("cmpd_attr"); ok {
		t.Error("the compound attribute is listed")
	}
	if got := root.Group("grp").Attrs; len(got) != 1 || got[0].Value != "group attr" {
		t.Errorf("grp attributes %#v", got)
	}
	// On scales, CLASS and NAME are bookkeeping.
	if got := mustVar(t, r, "scale_a").Attrs; len(got) != 0 {
		t.Errorf("scale_a attributes %#v", got)
	}
}

func TestEdgeValues(t *testing.T) {
	r := open(t, edgeFixture(t))
	for _, c := range []struct {
		path  string
		shape []int
		want  any
	}{
		{"noscale", []int{3, 4}, []float64{0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 11.5}},
		{"noscale2", []int{4, 3}, []int16{0, -1, -2, -3, -4, -5, -6, -7, -8, -9, -10, -11}},
		{"square", []int{3, 3}, []int8{0, 1, 2, 3, 4, 5, 6, 7, 8}},
		{"scale_a", []int{3}, []float32{0.5, 1.5, 2.5}},
		{"uses_a", []int{3}, []uint32{7, 8, 9}},
		{"half_scaled", []int{3, 2}, []int32{1, 2, 3, 4, 5, 6}},
		{"time", []int{4}, []float64{0, 60, 120, 180}}, // big-endian, unlimited, chunked
		{"data_t", []int{4}, []float32{1, 2, 3, 4}},
		{"empty_unlim", []int{0}, []int32{}},
		// Shorter than their unlimited dimension: filled past their extent.
		{"short_t", []int{4}, []float32{10, 20, -1.5, -1.5}},
		{"grid_t", []int{4, 3}, []int16{1, 2, 3, 4, 5, 6, -7, -7, -7, -7, -7, -7}},
		{"names_t", []int{4}, []string{"first", "", "", ""}},
		{"be_f64", []int{3}, []float64{1.5, -2.25, 1e300}},
		{"be_u16", []int{3}, []uint16{1, 258, 65535}},
		{"be_i64", []int{3}, []int64{-1, 72623859790382856, -9223372036854775807}},
		{"str_nullpad", []int{2}, []string{"one", "three"}},
		{"str_spacepad", []int{2}, []string{"one", "three"}},
		{"str_nullterm", []int{2}, []string{"one", "three"}},
		{"char1", []int{2}, "ab"},
		{"vstr2d", []int{2, 2}, []string{"a", "été", "", "dddd"}},
		{"scalar_str", nil, []string{"scalar string"}},
		{"/grp/inner", []int{2}, []int32{11, 12}},
		{"/grp/cross", []int{3}, []int32{21, 22, 23}},
		{"dangling_ref", []int{2}, []int32{5, 6}},
	} {
		checkValues(t, c.path, readAll(t, r, c.path), c.shape, c.want)
	}

	// Strided reads of 2-D numbers and strings.
	a, err := r.Read(mustVar(t, r, "noscale"), []int{0, 1}, []int{2, 2}, []int{2, 2})
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, "noscale strided", a, []int{2, 2}, []float64{1.5, 3.5, 9.5, 11.5})
	a, err = r.Read(mustVar(t, r, "vstr2d"), []int{0, 1}, []int{2, 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, "vstr2d column", a, []int{2, 1}, []string{"été", "dddd"})
	// Strided across the end of a short dataset's extent.
	a, err = r.Read(mustVar(t, r, "grid_t"), []int{1, 0}, []int{2, 2}, []int{2, 2})
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, "grid_t strided", a, []int{2, 2}, []int16{4, 6, -7, -7})
	a, err = r.Read(mustVar(t, r, "grid_t"), []int{0, 1}, []int{4, 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, "grid_t columns", a, []int{4, 2}, []int16{2, 3, 5, 6, -7, -7, -7, -7})
	a, err = r.Read(mustVar(t, r, "short_t"), []int{2}, []int{2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, "short_t past its extent", a, []int{2}, []float32{-1.5, -1.5})
	a, err = r.Read(mustVar(t, r, "be_f64"), []int{2}, []int{1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := values(t, a).([]float64)[0]; got != 1e300 || math.IsInf(got, 0) {
		t.Errorf("be_f64[2] = %v", got)
	}
}
