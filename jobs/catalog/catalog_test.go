package catalog

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/jobs"
	"github.com/subsetd/subsetd/jobs/errs"
)

type memCache struct {
	mu sync.Mutex
	m  map[string]string
}

func (c *memCache) CachedDataset(_ context.Context, id, fp string) ([]byte, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	d, ok := c.m[id+fp]
	return []byte(d), ok, nil
}

func (c *memCache) CacheDataset(_ context.Context, id, fp string, doc []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[id+fp] = string(doc)
	return nil
}

func write(t *testing.T, p string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
		t.Fatal(err)
	}
}

func setup(t *testing.T) (string, string) {
	base := t.TempDir()
	root := filepath.Join(base, "data")
	outside := filepath.Join(base, "secret")
	write(t, filepath.Join(outside, "secret.nc"))
	write(t, filepath.Join(root, "sst.nc"))
	write(t, filepath.Join(root, "chl.h5"))
	write(t, filepath.Join(root, "notes.txt"))
	write(t, filepath.Join(root, ".hidden.nc"))
	write(t, filepath.Join(root, "bad name.nc"))
	write(t, filepath.Join(root, "multi", "2001.nc"))
	write(t, filepath.Join(root, "multi", "sub", "2002.nc4"))
	write(t, filepath.Join(root, "multi", "readme.md"))
	os.Symlink(filepath.Join(outside, "secret.nc"), filepath.Join(root, "leak.nc"))
	os.Symlink(outside, filepath.Join(root, "leakdir"))
	os.Symlink(filepath.Join(outside, "secret.nc"), filepath.Join(root, "multi", "leak.nc"))
	os.Symlink(filepath.Join(root, "sst.nc"), filepath.Join(root, "alias.nc"))
	os.MkdirAll(filepath.Join(root, "emptydir"), 0o755)
	return root, outside
}

func TestListRefusesWhatIsNotData(t *testing.T) {
	root, _ := setup(t)
	c, err := New(root, nil, nil, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ds, err := c.List()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	want := []string{"alias", "chl", "multi", "sst"}
	if len(ids) != len(want) {
		t.Fatalf("ids %v, want %v", ids, want)
	}
	for i := range want {
		if ids[i] != want[i] {
			t.Fatalf("ids %v, want %v", ids, want)
		}
	}
	m, err := c.Get("multi")
	if err != nil {
		t.Fatal(err)
	}
	if !m.Dir || len(m.Files) != 2 || filepath.Base(m.Files[0]) != "2001.nc" || filepath.Base(m.Files[1]) != "2002.nc4" {
		t.Fatalf("multi: %+v", m)
	}
	for _, id := range []string{"leak", "leakdir", "../secret/secret", "/etc/passwd", "..", "notes", "", "emptydir", "multi/sub"} {
		if _, err := c.Get(id); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("Get(%q) = %v, want not found", id, err)
		}
	}
}

func TestDescribeCaches(t *testing.T) {
	root, _ := setup(t)
	var calls atomic.Int32
	describe := func(ctx context.Context, files []string, r string) (*jobs.DatasetInfo, error) {
		calls.Add(1)
		if r != root {
			t.Errorf("root %q", r)
		}
		return &jobs.DatasetInfo{Files: []jobs.FileInfo{{Name: files[0]}}}, nil
	}
	cache := &memCache{m: map[string]string{}}
	c, _ := New(root, describe, cache, zerolog.Nop())
	var wg sync.WaitGroup
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, info, err := c.Describe(context.Background(), "sst"); err != nil || info == nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d describe calls, want 1", n)
	}
	// A new catalog (a restart) uses the persistent cache.
	c2, _ := New(root, describe, cache, zerolog.Nop())
	c2.Describe(context.Background(), "sst")
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d describe calls after restart, want 1", n)
	}
	// A modified file is described again.
	os.WriteFile(filepath.Join(root, "sst.nc"), []byte("changed!"), 0o644)
	c2.Describe(context.Background(), "sst")
	if n := calls.Load(); n != 2 {
		t.Fatalf("%d describe calls after a change, want 2", n)
	}
	if _, _, err := c2.Describe(context.Background(), "nope"); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("unknown: %v", err)
	}
}
