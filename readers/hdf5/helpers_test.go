package hdf5

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/internal/testutil/fixtures"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/readers/hdf5/internal/h5fixture"
)

// ncgenFixture builds a NetCDF-4 (HDF5) file from a CDL file of testdata/.
func ncgenFixture(t *testing.T, cdl string) string {
	t.Helper()
	fixtures.NeedTool(t, "ncgen")
	out := filepath.Join(t.TempDir(), strings.TrimSuffix(cdl, ".cdl")+".nc")
	cmd := exec.Command("ncgen", "-k", "nc4", "-o", out, filepath.Join("testdata", cdl))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ncgen %s: %v\n%s", cdl, err, b)
	}
	return out
}

// edgeFixture writes the plain-HDF5 file of internal/h5fixture.
func edgeFixture(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "edge.h5")
	if err := h5fixture.WriteEdgeCases(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func open(t *testing.T, path string) *Reader {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
	return r
}

func mustVar(t *testing.T, r *Reader, path string) *ncmodel.Var {
	t.Helper()
	v := r.File().FindVar(path)
	if v == nil {
		t.Fatalf("no variable %s", path)
	}
	return v
}

// readAll reads a whole variable.
func readAll(t *testing.T, r *Reader, path string) *ncmodel.Array {
	t.Helper()
	v := mustVar(t, r, path)
	a, err := r.Read(v, make([]int, len(v.Dims)), v.Shape(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// values decodes an array into a typed Go slice ([]int8 ... []float64),
// a string for Char, []string for String.
func values(t *testing.T, a *ncmodel.Array) any {
	t.Helper()
	switch a.Type {
	case ncmodel.Byte:
		return decode[int8](t, a)
	case ncmodel.UByte:
		return decode[uint8](t, a)
	case ncmodel.Short:
		return decode[int16](t, a)
	case ncmodel.UShort:
		return decode[uint16](t, a)
	case ncmodel.Int:
		return decode[int32](t, a)
	case ncmodel.UInt:
		return decode[uint32](t, a)
	case ncmodel.Int64:
		return decode[int64](t, a)
	case ncmodel.UInt64:
		return decode[uint64](t, a)
	case ncmodel.Float:
		return decode[float32](t, a)
	case ncmodel.Double:
		return decode[float64](t, a)
	case ncmodel.Char:
		return string(a.Data)
	case ncmodel.String:
		return a.Strings
	}
	t.Fatalf("type %v", a.Type)
	return nil
}

func decode[T any](t *testing.T, a *ncmodel.Array) []T {
	t.Helper()
	out := make([]T, a.Len())
	if err := binary.Read(bytes.NewReader(a.Data), binary.NativeEndian, out); err != nil {
		t.Fatalf("decoding %d bytes as %d %T: %v", len(a.Data), len(out), out, err)
	}
	return out
}

func checkValues(t *testing.T, what string, a *ncmodel.Array, shape []int, want any) {
	t.Helper()
	if !reflect.DeepEqual(a.Shape, shape) && !(len(a.Shape) == 0 && len(shape) == 0) {
		t.Errorf("%s: shape %v, want %v", what, a.Shape, shape)
	}
	if got := values(t, a); !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %#v\nwant %#v", what, got, want)
	}
}

// dumpModel renders a model as CDL-like text: the structure a test asserts.
func dumpModel(f *ncmodel.File) string {
	var sb strings.Builder
	var group func(g *ncmodel.Group, ind string)
	group = func(g *ncmodel.Group, ind string) {
		fmt.Fprintf(&sb, "%sgroup %s {\n", ind, g.Path())
		for _, d := range g.Dims {
			u := ""
			if d.Unlimited {
				u = " unlimited"
			}
			if d.Group != g {
				u += " WRONG GROUP"
			}
			fmt.Fprintf(&sb, "%s  dim %s = %d%s\n", ind, d.Name, d.Len, u)
		}
		for _, v := range g.Vars {
			var ds []string
			for _, d := range v.Dims {
				ds = append(ds, d.Group.Path()+":"+d.Name)
			}
			st := ""
			if v.Chunks != nil || v.Deflate != 0 || v.Shuffle {
				st = fmt.Sprintf(" chunks=%v deflate=%d shuffle=%v", v.Chunks, v.Deflate, v.Shuffle)
			}
			if v.Group != g {
				st += " WRONG GROUP"
			}
			fmt.Fprintf(&sb, "%s  %s %s(%s)%s\n", ind, v.Type, v.Name, strings.Join(ds, ", "), st)
			for _, a := range v.Attrs {
				fmt.Fprintf(&sb, "%s    %s:%s = %#v\n", ind, a.Type, a.Name, a.Value)
			}
		}
		for _, a := range g.Attrs {
			fmt.Fprintf(&sb, "%s  :%s %s = %#v\n", ind, a.Type, a.Name, a.Value)
		}
		for _, c := range g.Groups {
			if c.Parent != g {
				fmt.Fprintf(&sb, "%s  WRONG PARENT\n", ind)
			}
			group(c, ind+"  ")
		}
		fmt.Fprintf(&sb, "%s}\n", ind)
	}
	group(f.Root, "")
	return sb.String()
}

// diffText reports the first differing line of two texts.
func diffText(t *testing.T, what, got, want string) {
	t.Helper()
	if got == want {
		return
	}
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			t.Errorf("%s: line %d\n got %q\nwant %q\nwhole output:\n%s", what, i+1, gl, wl, got)
			return
		}
	}
}
