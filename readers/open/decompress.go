package open

import (
	"compress/bzip2"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/subsetd/subsetd/internal/datafile"
)

// Compressed inputs (*.gz, *.bz2, *.zst, as agencies deliver them: the
// suffixes of datafile.CompressionOf) are decompressed as a stream into a
// cache folder, keyed by the sha256 of the compressed bytes, so repeated
// jobs do not decompress again. The cache is
// bounded: the least recently used files go first. Several processes may
// share it: files appear by rename, complete or not at all.

var (
	cacheMu  sync.Mutex
	cacheDir       = filepath.Join(os.TempDir(), fmt.Sprintf("subsetd-cache-%d", os.Getuid()))
	cacheMax int64 = 4 << 30
)

// SetCache sets the folder and the size bound (bytes) of the decompression
// cache.
func SetCache(dir string, maxBytes int64) {
	cacheMu.Lock()
	defer cacheMu.Unlock()
	cacheDir, cacheMax = dir, maxBytes
}

// Decompressed returns the path of the decompressed copy of a compressed
// file, decompressing it into the cache when it is not there yet.
func Decompressed(path string) (string, error) {
	plain, kind := datafile.SplitCompression(filepath.Base(path))
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("reading %s: %w", filepath.Base(path), err)
	}
	cacheMu.Lock()
	dir, limit := cacheDir, cacheMax
	cacheMu.Unlock()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("decompression cache: %w", err)
	}
	out := filepath.Join(dir, hex.EncodeToString(h.Sum(nil))[:32]+"-"+plain)
	if _, err := os.Stat(out); err == nil {
		now := time.Now()
		os.Chtimes(out, now, now) // recently used
		return out, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	var r io.Reader
	switch kind {
	case datafile.Gzip:
		zr, err := gzip.NewReader(f)
		if err != nil {
			return "", fmt.Errorf("%s: not gzip data: %w", filepath.Base(path), err)
		}
		defer zr.Close()
		r = zr
	case datafile.Bzip2:
		r = bzip2.NewReader(f)
	case datafile.Zstd:
		zr, err := zstd.NewReader(f)
		if err != nil {
			return "", fmt.Errorf("%s: not zstd data: %w", filepath.Base(path), err)
		}
		defer zr.Close()
		r = zr
	default:
		return path, nil
	}
	tmp, err := os.CreateTemp(dir, ".partial-*")
	if err != nil {
		return "", fmt.Errorf("decompression cache: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return "", fmt.Errorf("decompressing %s: %w", filepath.Base(path), err)
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return "", err
	}
	trimCache(dir, limit, out)
	return out, nil
}

// trimCache removes the least recently used files until the cache fits,
// never the one just made.
func trimCache(dir string, limit int64, keep string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type fi struct {
		path string
		size int64
		used time.Time
	}
	var files []fi
	var total int64
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || e.IsDir() {
			continue
		}
		p := filepath.Join(dir, e.Name())
		if strings.HasPrefix(e.Name(), ".partial-") {
			if time.Since(info.ModTime()) > 24*time.Hour { // left by a crash
				os.Remove(p)
			}
			continue
		}
		files = append(files, fi{p, info.Size(), info.ModTime()})
		total += info.Size()
	}
	sort.Slice(files, func(i, j int) bool { return files[i].used.Before(files[j].used) })
	for _, f := range files {
		if total <= limit {
			break
		}
		if f.path == keep {
			continue
		}
		if os.Remove(f.path) == nil {
			total -= f.size
		}
	}
}
