package open

import (
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/subsetd/subsetd/internal/testutil/fixtures"
	"github.com/subsetd/subsetd/ncmodel"
)

// ncFile is a small NetCDF-4 file whose int v(n) is 1, 2, 3.
func ncFile(t *testing.T) string { return fixtures.Build(t, "file_tiny") }

func TestCompressedInputs(t *testing.T) {
	SetCache(t.TempDir(), 1<<30)
	plain := ncFile(t)
	raw, _ := os.ReadFile(plain)
	dir := t.TempDir()
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(raw)
	w.Close()
	os.WriteFile(filepath.Join(dir, "x.nc.gz"), gz.Bytes(), 0o644)
	var zs bytes.Buffer
	zw, _ := zstd.NewWriter(&zs)
	zw.Write(raw)
	zw.Close()
	os.WriteFile(filepath.Join(dir, "x.nc.zst"), zs.Bytes(), 0o644)
	// The suffixes the index takes, in any case.
	os.WriteFile(filepath.Join(dir, "y.nc.zstd"), zs.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "Z.NC.GZ"), gz.Bytes(), 0o644)
	if b, err := exec.Command("bzip2", "-k", "-c", plain).Output(); err == nil {
		os.WriteFile(filepath.Join(dir, "x.nc.bz2"), b, 0o644)
	}
	for _, name := range []string{"x.nc.gz", "x.nc.zst", "y.nc.zstd", "Z.NC.GZ", "x.nc.bz2"} {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			continue
		}
		src, err := Source(p)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		v := src.File().FindVar("v")
		a, err := src.Read(v, []int{0}, []int{3}, nil)
		if err != nil || a.Float64(2) != 3 || src.File().Path != p {
			t.Errorf("%s: %v %v path %s", name, a, err, src.File().Path)
		}
		src.Close()
	}
	// The second open uses the cache.
	p := filepath.Join(dir, "x.nc.gz")
	c1, _ := Decompressed(p)
	st1, _ := os.Stat(c1)
	c2, _ := Decompressed(p)
	st2, _ := os.Stat(c2)
	if c1 != c2 || !os.SameFile(st1, st2) {
		t.Errorf("decompressed twice: %s %s", c1, c2)
	}
	// Corrupt data is a clear error and leaves nothing in the cache.
	bad := filepath.Join(dir, "bad.nc.gz")
	os.WriteFile(bad, []byte("this is not gzip"), 0o644)
	if _, err := Source(bad); err == nil || !strings.Contains(err.Error(), "bad.nc.gz: not gzip data") {
		t.Errorf("corrupt gzip: %v", err)
	}
	trunc := filepath.Join(dir, "trunc.nc.gz")
	os.WriteFile(trunc, gz.Bytes()[:gz.Len()/2], 0o644)
	if _, err := Source(trunc); err == nil || !strings.Contains(err.Error(), "decompressing trunc.nc.gz") {
		t.Errorf("truncated gzip: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(c1))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".partial-") {
			t.Errorf("partial file left: %s", e.Name())
		}
	}
}

func TestCacheBound(t *testing.T) {
	dir := t.TempDir()
	SetCache(dir, 1) // one byte: every new file evicts the others
	defer SetCache(t.TempDir(), 4<<30)
	plain := ncFile(t)
	raw, _ := os.ReadFile(plain)
	for i := 0; i < 3; i++ {
		var gz bytes.Buffer
		w := gzip.NewWriter(&gz)
		w.Write(raw)
		w.Write(make([]byte, i)) // different content, different key
		w.Close()
		p := filepath.Join(t.TempDir(), "x.nc.gz")
		os.WriteFile(p, gz.Bytes(), 0o644)
		if _, err := Decompressed(p); err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("cache holds %d files, want 1", len(entries))
	}
}

// A source opened here keeps the capabilities of the reader beneath:
// direct chunk reads, and the stored sizes of chunks that dry runs
// estimate from (global2deg's sst is deflated in chunks of 1 x 45 x 90).
func TestCapabilitiesPassedOn(t *testing.T) {
	src, err := Source(fixtures.Build(t, "global2deg"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	v := src.File().FindVar("/sst")
	cs, ok := src.(ncmodel.ChunkSource)
	if !ok || v == nil || !cs.ReadsChunks(v) {
		t.Fatalf("%T: no direct chunk reads of sst", src)
	}
	cz, ok := src.(ncmodel.ChunkSizer)
	if !ok {
		t.Fatalf("%T does not tell the stored size of chunks", src)
	}
	n, known := cz.StoredChunkSize(v, make([]int, len(v.Dims)))
	if raw := int64(ncmodel.Product(v.Chunks) * v.Type.Size()); !known || n <= 0 || n >= raw {
		t.Fatalf("stored size of the first chunk: %d (known %v), %d bytes raw", n, known, raw)
	}
}
