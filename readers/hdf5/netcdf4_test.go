package hdf5

import (
	"math"
	"reflect"
	"testing"

	"github.com/subsetd/subsetd/ncmodel"
)

// wantTypes is the model of testdata/types.cdl: the same as ncdump -h shows,
// minus the variables of user-defined types (pts, colors, blobs, vl), with
// the members of each group sorted by name and internal attributes hidden.
const wantTypes = `group / {
  dim n = 2
  dim time = 5 unlimited
  dim x = 4
  dim y = 3
  byte b(/:x)
    byte:_FillValue = []int8{-127}
  double bed(/:y)
    double:valid_range = []float64{0, 100}
  int bei(/:y, /:x)
  double d(/:x)
  float f(/:x)
  int i(/:x)
  int64 i64(/:x)
  char label(/:n, /:x)
  string names(/:n)
    char:long_name = "station names"
  float packed(/:time, /:y, /:x) chunks=[2 3 2] deflate=4 shuffle=true
  short s(/:x)
  int scalar()
    char:note = "a scalar"
  double time(/:time) chunks=[3] deflate=0 shuffle=false
    char:units = "seconds since 2000-01-01"
  ubyte ub(/:x)
  uint ui(/:x)
  uint64 ui64(/:x)
  ushort us(/:x)
  double x(/:x)
    char:units = "m"
  int y(/:x)
  :char title = "all types"
  :string keywords = []string{"a", "bb", "ccc"}
  :char one = "single"
  :int ints = []int32{1, -2, 3}
  :uint64 u64 = []uint64{0xffffffffffffffff}
  :byte bytes = []int8{-1, 2}
  :double dbl = []float64{0.5}
  :float flt = []float32{1.5}
  :short sh = []int16{-3}
  :ushort us = []uint16{0xffff}
  :uint ui = []uint32{0xffffffff}
  :int64 i64 = []int64{-9223372036854775807}
  :ubyte ub = []byte{0xff}
  group /sub {
    dim z = 2
    float grid(/sub:z, /:y)
      char:units = "K"
    int z(/sub:z)
    group /sub/deeper {
      short t(/:time) chunks=[5] deflate=0 shuffle=false
    }
  }
}
`

func TestNetCDF4Structure(t *testing.T) {
	r := open(t, ncgenFixture(t, "types.cdl"))
	f := r.File()
	if f.Format != ncmodel.FormatNetCDF4 {
		t.Errorf("format %q", f.Format)
	}
	diffText(t, "model", dumpModel(f), wantTypes)

	// Pointer identity: the variable x and the dimension x of the root.
	x := f.Root.Dim("x")
	for _, name := range []string{"b", "x", "y", "d"} {
		if v := mustVar(t, r, name); v.Dims[0] != x {
			t.Errorf("%s does not use the root's dimension x", name)
		}
	}
	if v := mustVar(t, r, "/sub/grid"); v.Dims[1] != f.Root.Dim("y") || v.Dims[0] != f.Root.Group("sub").Dim("z") {
		t.Errorf("/sub/grid dims %v", v.Dims)
	}
	if !mustVar(t, r, "x").IsCoordinate() || mustVar(t, r, "y").IsCoordinate() {
		t.Error("coordinate variables: want x, not y")
	}

	// The same file gives the same model twice.
	r2 := open(t, f.Path)
	if dumpModel(r2.File()) != dumpModel(f) {
		t.Error("two opens differ")
	}
}

func TestNetCDF4Values(t *testing.T) {
	r := open(t, ncgenFixture(t, "types.cdl"))
	x := []int{4}
	for _, c := range []struct {
		path  string
		shape []int
		want  any
	}{
		{"b", x, []int8{-128, -1, 0, 127}},
		{"ub", x, []uint8{0, 1, 128, 255}},
		{"s", x, []int16{-32768, -1, 1, 32767}},
		{"us", x, []uint16{0, 1, 32768, 65535}},
		{"i", x, []int32{-2147483648, -1, 1, 2147483647}},
		{"ui", x, []uint32{0, 1, 2147483648, 4294967295}},
		{"i64", x, []int64{-9223372036854775807, -1, 1, 9223372036854775807}},
		{"ui64", x, []uint64{0, 1, 9223372036854775808, 18446744073709551615}},
		{"f", x, []float32{-1.5, 0, 0.25, 3e38}},
		{"d", x, []float64{-1e-300, 0, 0.1, 1e300}},
		{"x", x, []float64{10, 20, 30, 40}},
		{"y", x, []int32{7, 8, 9, 10}},
		// Big-endian in the file (_Endianness = "big"): byte-swapped on read.
		{"bei", []int{3, 4}, []int32{0, 1, 2, 3, 10, 11, 12, 13, -20, -21, -22, 2147483647}},
		{"bed", []int{3}, []float64{0.125, 50.5, 99.75}},
		{"time", []int{5}, []float64{0, 3600, 7200, 10800, 14400}},
		{"names", []int{2}, []string{"Brest", "Saint-Malo"}},
		{"label", []int{2, 4}, "abcdef\x00\x00"},
		{"scalar", nil, []int32{42}},
		{"/sub/grid", []int{2, 3}, []float32{1, 2, 3, 4, 5, 6}},
		{"/sub/z", []int{2}, []int32{100, 200}},
		{"/sub/deeper/t", []int{5}, []int16{1, 2, 3, 4, 5}},
	} {
		checkValues(t, c.path, readAll(t, r, c.path), c.shape, c.want)
	}
}

func TestNetCDF4Hyperslabs(t *testing.T) {
	r := open(t, ncgenFixture(t, "types.cdl"))
	// packed(time=5, y=3, x=4) = 0..59, chunked 2x3x2, deflate 4, shuffle.
	packed := mustVar(t, r, "packed")
	a, err := r.Read(packed, []int{1, 0, 1}, []int{2, 2, 2}, []int{2, 2, 2})
	if err != nil {
		t.Fatal(err)
	}
	// time 1 and 3, y 0 and 2, x 1 and 3.
	checkValues(t, "packed strided", a, []int{2, 2, 2}, []float32{13, 15, 21, 23, 37, 39, 45, 47})

	a, err = r.Read(packed, []int{4, 2, 3}, []int{1, 1, 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, "packed last", a, []int{1, 1, 1}, []float32{59})

	// A big-endian 2-D variable, strided along x.
	a, err = r.Read(mustVar(t, r, "bei"), []int{1, 0}, []int{2, 2}, []int{1, 3})
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, "bei strided", a, []int{2, 2}, []int32{10, 13, -20, 2147483647})

	// Strings and chars in hyperslabs.
	a, err = r.Read(mustVar(t, r, "names"), []int{1}, []int{1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, "names[1]", a, []int{1}, []string{"Saint-Malo"})
	a, err = r.Read(mustVar(t, r, "label"), []int{0, 1}, []int{2, 2}, []int{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, "label strided", a, []int{2, 2}, "bdf\x00")

	// An empty hyperslab.
	a, err = r.Read(packed, []int{5, 0, 0}, []int{0, 3, 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 0 || len(a.Data) != 0 {
		t.Errorf("empty read: %d values", a.Len())
	}
}

func TestNetCDF4Attrs(t *testing.T) {
	r := open(t, ncgenFixture(t, "types.cdl"))
	root := r.File().Root
	for _, c := range []struct {
		name string
		typ  ncmodel.Type
		want any
	}{
		{"title", ncmodel.Char, "all types"},
		{"keywords", ncmodel.String, []string{"a", "bb", "ccc"}},
		{"one", ncmodel.Char, "single"},
		{"ints", ncmodel.Int, []int32{1, -2, 3}},
		{"u64", ncmodel.UInt64, []uint64{math.MaxUint64}},
		{"bytes", ncmodel.Byte, []int8{-1, 2}},
		{"dbl", ncmodel.Double, []float64{0.5}},
		{"flt", ncmodel.Float, []float32{1.5}},
		{"sh", ncmodel.Short, []int16{-3}},
		{"us", ncmodel.UShort, []uint16{65535}},
		{"ui", ncmodel.UInt, []uint32{4294967295}},
		{"i64", ncmodel.Int64, []int64{-9223372036854775807}},
		{"ub", ncmodel.UByte, []uint8{255}},
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
	if _, ok := root.Attr("_NCProperties"); ok {
		t.Error("_NCProperties is shown")
	}
	if got := mustVar(t, r, "time").AttrString("units"); got != "seconds since 2000-01-01" {
		t.Errorf("time:units = %q", got)
	}
	for _, v := range r.File().Vars() {
		for _, a := range v.Attrs {
			if internalAttrs[a.Name] || a.Name == "CLASS" || a.Name == "NAME" {
				t.Errorf("%s:%s is shown", v.Path(), a.Name)
			}
		}
	}
}

func TestNetCDF4UnlimitedWithoutCoordinate(t *testing.T) {
	r := open(t, ncgenFixture(t, "unlimited.cdl"))
	want := `group / {
  dim k = 2
  dim rec = 5 unlimited
  int a(/:rec) chunks=[4] deflate=0 shuffle=false
    int:_FillValue = []int32{-99}
  short b(/:rec, /:k) chunks=[4 2] deflate=0 shuffle=false
  char c(/:rec, /:k) chunks=[4 2] deflate=0 shuffle=false
  string s(/:rec) chunks=[4] deflate=0 shuffle=false
}
`
	diffText(t, "model", dumpModel(r.File()), want)
	checkValues(t, "a", readAll(t, r, "a"), []int{5}, []int32{1, 2, 3, -99, -99})
	checkValues(t, "b", readAll(t, r, "b"), []int{5, 2}, []int16{1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	checkValues(t, "c", readAll(t, r, "c"), []int{5, 2}, "abcd\x00\x00\x00\x00\x00\x00")
	checkValues(t, "s", readAll(t, r, "s"), []int{5}, []string{"x", "", "", "", ""})
}
