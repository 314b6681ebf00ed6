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
	"github.com/subsetd/subsetd/ncmodel"
)

// A child of the corrupt-file tests opens a file with this reader.
func TestMain(m *testing.M) {
	corrupt.ChildMain(func(path string) (ncmodel.Source, error) {
		r, err := Open(path)
		if err != nil {
			return nil, err // not a nil *Reader in a non-nil interface
		}
		return r, nil
	})
	os.Exit(m.Run())
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

// Damaged global heap collections (where variable-length strings and
// DIMENSION_LIST are stored), opened in a child: the guard driver refuses
// each, the open fails at once and names what is wrong.
func TestDamagedHeaps(t *testing.T) {
	for _, c := range []struct {
		name, cdl string
		mutate    func([]byte, int) ([]byte, int, error)
		want      string // %d: the collection's offset
	}{
		// An object of index 0 and size 0 in the middle: HDF5 1.10's
		// parser of collections (H5HG__cache_heap_deserialize) advances by
		// each object's size and never leaves it, so H5Aread of any vlen
		// attribute stored there never returned.
		{"zero-heap-object", "types.cdl", corrupt.ZeroHeapObject,
			`root group: attribute "keywords": the global heap collection at byte %d holds an object of size 0, on which HDF5 would loop forever`},
		// The same in a file whose only variable-length values are
		// dimension lists: the hang was met in the walk of DIMENSION_LIST
		// (sd_dimlist -> H5Aread -> H5HG_read).
		{"zero-dimlist-object", "scales.cdl", corrupt.ZeroHeapObject,
			`/v: DIMENSION_LIST: the global heap collection at byte %d holds an object of size 0, on which HDF5 would loop forever`},
		// An object that claims more bytes than are left in its
		// collection: HDF5 copied it from beyond the collection's buffer
		// (SIGSEGV).
		{"oversized-heap-object", "scales.cdl", corrupt.OversizeHeapObject,
			`/v: DIMENSION_LIST: the global heap collection at byte %d holds an object larger than itself`},
	} {
		p, at := mutated(t, c.name+".nc", fixtureBytes(t, c.cdl), c.mutate)
		r := inChild(t, p)
		want := fmt.Sprintf("%v: "+c.want, ErrCorrupt, at)
		if r.Outcome != corrupt.Failed || !strings.HasSuffix(r.Message, want) {
			t.Errorf("%s: %s %s %s, want a clean error ending %q", c.name, r.Outcome, r.Signal, r.Message, want)
		}
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

// The guard driver reads good files as HDF5's own driver does (every other
// test of the package reads through it too).
func TestGuardDriverReadsGoodFiles(t *testing.T) {
	for _, p := range []string{ncgenFixture(t, "types.cdl"), edgeFixture(t)} {
		if err := corrupt.ReadAll(open(t, p)); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}
