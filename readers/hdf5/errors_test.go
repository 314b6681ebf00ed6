package hdf5

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/subsetd/subsetd/internal/testutil/fixtures"
	"github.com/subsetd/subsetd/ncmodel"
)

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	random := filepath.Join(dir, "random.h5")
	b := make([]byte, 4096)
	rand.New(rand.NewSource(7)).Read(b)
	if err := os.WriteFile(random, b, 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.h5")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	nc, err := os.ReadFile(ncgenFixture(t, "types.cdl"))
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.nc")
	if err := os.WriteFile(truncated, nc[:len(nc)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.h5")

	for _, c := range []struct {
		path, want string
	}{
		{random, `open "` + random + `": not an HDF5 file`},
		{empty, `open "` + empty + `": not an HDF5 file`},
		{truncated, fmt.Sprintf(`open %q: corrupt or truncated HDF5 file: truncated file: %d bytes, but its superblock says %d`, truncated, len(nc)/2, len(nc))},
		{missing, `open "` + missing + `": no such file or directory`},
		{dir, `open "` + dir + `": is a directory`},
	} {
		r, err := Open(c.path)
		if err == nil {
			r.Close()
			t.Errorf("%s: no error", c.path)
			continue
		}
		if !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("error %q\n does not start with %q", err, c.want)
		}
	}
	if _, err := Open(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v is not fs.ErrNotExist", err)
	}
}

func TestReadErrors(t *testing.T) {
	path := ncgenFixture(t, "types.cdl")
	r := open(t, path)
	packed := mustVar(t, r, "packed") // (time=5, y=3, x=4)
	other := open(t, path)
	for _, c := range []struct {
		v                    *ncmodel.Var
		start, count, stride []int
		want                 string
	}{
		{packed, []int{0, 0}, []int{1, 1}, nil, "has 3 dimensions but start, count, stride have 2, 2, 0 values"},
		{packed, []int{0, 0, 0}, []int{1, 1, 1}, []int{1, 1}, "has 3 dimensions"},
		{packed, []int{0, 0, 4}, []int{1, 1, 1}, nil, "dimension 2 (x): start 4, count 1, stride 1 go beyond the length 4"},
		{packed, []int{0, 0, 0}, []int{6, 1, 1}, nil, "dimension 0 (time): start 0, count 6"},
		{packed, []int{0, 0, 1}, []int{1, 1, 2}, []int{1, 1, 3}, "dimension 2 (x): start 1, count 2, stride 3 go beyond"},
		{packed, []int{-1, 0, 0}, []int{1, 1, 1}, nil, "negative start -1"},
		{packed, []int{0, 0, 0}, []int{1, -1, 1}, nil, "negative start 0 or count -1"},
		{packed, []int{0, 0, 0}, []int{1, 1, 1}, []int{1, 0, 1}, "dimension 1 (y): stride 0 is not positive"},
		{packed, []int{6, 0, 0}, []int{0, 1, 1}, nil, "start 6 is beyond the length 5"},
		{mustVar(t, r, "scalar"), []int{0}, []int{1}, nil, "has 0 dimensions"},
		{mustVar(t, other, "packed"), []int{0, 0, 0}, []int{1, 1, 1}, nil, "variable is not from"},
		{&ncmodel.Var{Name: "made_up", Group: r.File().Root}, nil, nil, nil, `read "/made_up": variable is not from`},
	} {
		_, err := r.Read(c.v, c.start, c.count, c.stride)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Read(%s, %v, %v, %v) = %v, want an error with %q", c.v.Name, c.start, c.count, c.stride, err, c.want)
		}
	}
	// The largest valid strided slab and a scalar pass.
	if _, err := r.Read(packed, []int{0, 0, 1}, []int{5, 3, 2}, []int{1, 1, 2}); err != nil {
		t.Error(err)
	}
	a, err := r.Read(mustVar(t, r, "scalar"), nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, "scalar", a, nil, []int32{42})
	if _, err := r.Read(nil, nil, nil, nil); err == nil {
		t.Error("nil variable: no error")
	}

	// After Close.
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := r.Read(packed, []int{0, 0, 0}, []int{1, 1, 1}, nil); err == nil || !strings.Contains(err.Error(), "file is closed") {
		t.Errorf("read after Close: %v", err)
	}
}

// TestConcurrentReads reads from several goroutines at once (run with
// -race): HDF5's global lock serialises the calls, the Reader must not race.
func TestConcurrentReads(t *testing.T) {
	r := open(t, ncgenFixture(t, "types.cdl"))
	edge := open(t, edgeFixture(t))
	packed, vstr := mustVar(t, r, "packed"), mustVar(t, edge, "vstr2d")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				a, err := r.Read(packed, []int{(g + i) % 5, 0, 0}, []int{1, 3, 4}, nil)
				if err != nil {
					errs <- err
					return
				}
				if got := float32frombits(a.Data); got != float32(12*((g+i)%5)) {
					t.Errorf("packed[%d,0,0] = %v", (g+i)%5, got)
				}
				s, err := edge.Read(vstr, []int{0, 0}, []int{2, 2}, nil)
				if err != nil {
					errs <- err
					return
				}
				if s.Strings[1] != "été" {
					t.Errorf("vstr2d[0,1] = %q", s.Strings[1])
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func float32frombits(b []byte) float32 {
	return math.Float32frombits(binary.NativeEndian.Uint32(b))
}

// TestNoLeaks opens, reads everything and closes: every HDF5 identifier the
// reader made must be closed again.
func TestNoLeaks(t *testing.T) {
	paths := []string{ncgenFixture(t, "types.cdl"), edgeFixture(t)}
	if atl03 := filepath.Join(fixtures.RealDataDir(), atl03Name); fileExists(atl03) {
		paths = append(paths, atl03)
	}
	// Failed opens must not leak either.
	dir := t.TempDir()
	sigOnly := filepath.Join(dir, "signature.h5")
	if err := os.WriteFile(sigOnly, []byte("\x89HDF\r\n\x1a\n"+strings.Repeat("\x00", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	// A first pass lets HDF5 register its own lazily made identifiers.
	for pass := range 2 {
		before := idCounts()
		for _, p := range paths {
			r, err := Open(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range r.File().Vars() {
				if _, err := r.Read(v, make([]int, len(v.Dims)), v.Shape(), nil); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
		}
		for _, p := range []string{filepath.Join(dir, "none.h5"), sigOnly} {
			if _, err := Open(p); err == nil {
				t.Errorf("%s opened", p)
			}
		}
		after := idCounts()
		if pass == 1 && after != before {
			t.Errorf("open identifiers (files, groups, datasets, attributes): before %v, after %v", before, after)
		}
	}
}
