package hdf5

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/internal/testutil/corrupt"
)

func TestMain(m *testing.M) {
	corrupt.ChildMain(openAndRead)
	os.Exit(m.Run())
}

// openAndRead is what a child of the corrupt-file tests does: open, read
// every variable whole (the files are small), close.
func openAndRead(path string) error {
	r, err := Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	for _, v := range r.File().Vars() {
		if _, err := r.Read(v, make([]int, len(v.Dims)), v.Shape(), nil); err != nil {
			return err
		}
	}
	return nil
}

// inChild opens path in a child process (this test binary) and returns the
// outcome: a file that makes HDF5 loop must not take the test binary, and
// the HDF5 lock it holds, with it.
func inChild(t *testing.T, path string) corrupt.Result {
	t.Helper()
	res := corrupt.Classify(context.Background(), []string{path}, corrupt.Config{
		Command: corrupt.Self, Timeout: 60 * time.Second, Parallel: 1,
	})
	return res[0]
}

// mutated writes b, changed by mutate, to a file named name.
func mutated(t *testing.T, name string, b []byte, mutate func([]byte, int) ([]byte, int, error)) (path string, at int) {
	t.Helper()
	b, at, err := mutate(b, 1)
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path, at
}

func fixtureBytes(t *testing.T, cdl string) []byte {
	t.Helper()
	b, err := os.ReadFile(ncgenFixture(t, cdl))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A global heap collection (variable-length strings, DIMENSION_LIST) with
// an object of index 0 and size 0 in the middle: HDF5 1.10's parser of
// collections (H5HG__cache_heap_deserialize) advances by each object's size
// and never leaves it, so H5Aread of any vlen attribute stored there never
// returned. The guard driver refuses the collection; the open fails at once
// and names what is wrong.
func TestZeroSizeHeapObject(t *testing.T) {
	p, at := mutated(t, "zero-heap-object.nc", fixtureBytes(t, "types.cdl"), corrupt.ZeroHeapObject)
	r := inChild(t, p)
	want := fmt.Sprintf("corrupt or truncated HDF5 file: root group: attribute %q: the global heap collection at byte %d holds an object of size 0, on which HDF5 would loop forever", "keywords", at)
	if r.Outcome != corrupt.Failed || !strings.Contains(r.Message, want) {
		t.Fatalf("%s: %s %s, want a clean error with %q", p, r.Outcome, r.Message, want)
	}
}

// The same in a file whose only variable-length values are dimension
// lists: the hang was reported in the walk of DIMENSION_LIST (sd_dimlist ->
// H5Aread -> H5HG_read).
func TestZeroSizeHeapObjectInDimensionList(t *testing.T) {
	p, at := mutated(t, "zero-dimlist-object.nc", fixtureBytes(t, "scales.cdl"), corrupt.ZeroHeapObject)
	r := inChild(t, p)
	want := fmt.Sprintf("corrupt or truncated HDF5 file: /v: DIMENSION_LIST: the global heap collection at byte %d holds an object of size 0, on which HDF5 would loop forever", at)
	if r.Outcome != corrupt.Failed || !strings.Contains(r.Message, want) {
		t.Fatalf("%s: %s %s, want a clean error with %q", p, r.Outcome, r.Message, want)
	}
}

// An object that claims more bytes than are left in its collection: HDF5
// would copy it from beyond the collection's buffer (SIGSEGV).
func TestOversizedHeapObject(t *testing.T) {
	p, at := mutated(t, "oversized-heap-object.nc", fixtureBytes(t, "scales.cdl"), corrupt.OversizeHeapObject)
	r := inChild(t, p)
	want := fmt.Sprintf("the global heap collection at byte %d holds an object larger than itself", at)
	if r.Outcome != corrupt.Failed || !strings.Contains(r.Message, want) {
		t.Fatalf("%s: %s %s, want a clean error with %q", p, r.Outcome, r.Message, want)
	}
}

// Vet finds the same before netCDF-C would loop on it, and passes good
// files.
func TestVet(t *testing.T) {
	for _, cdl := range []string{"types.cdl", "scales.cdl"} {
		good := ncgenFixture(t, cdl)
		if err := Vet(good); err != nil {
			t.Errorf("%s: %v", good, err)
		}
		p, at := mutated(t, "zero-"+cdl+".nc", fixtureBytes(t, cdl), corrupt.ZeroHeapObject)
		want := fmt.Sprintf("the global heap collection at byte %d holds an object of size 0, on which HDF5 would loop forever", at)
		var ce *CorruptError
		if err := Vet(p); !errors.As(err, &ce) || err.Error() != want {
			t.Errorf("%s: %v, want %s", p, err, want)
		}
	}
	if err := Vet(edgeFixture(t)); err != nil {
		t.Errorf("edge fixture: %v", err)
	}
}

// The guard driver reads every good file as HDF5's own driver does.
func TestGuardDriverReadsGoodFiles(t *testing.T) {
	for _, p := range []string{ncgenFixture(t, "types.cdl"), edgeFixture(t)} {
		if err := openAndRead(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}
