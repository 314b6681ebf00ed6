package queue

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/jobs"
)

func TestParseReserve(t *testing.T) {
	for in, want := range map[string]Reserve{"1GiB": {Bytes: 1 << 30}, " 500 MiB": {Bytes: 500 << 20}, "1073741824": {Bytes: 1 << 30},
		"2%": {Percent: 2}, "0.5%": {Percent: 0.5}, "0": {}} {
		got, err := ParseReserve(in)
		if err != nil || got != want {
			t.Errorf("%q: %+v %v, want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1GB", "100%", "x%", "2 %%"} {
		if _, err := ParseReserve(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	if s := (Reserve{Bytes: 1 << 30}).String(); s != "1 GiB" {
		t.Errorf("String %q", s)
	}
}

// The reserve is the larger of bytes and percent, measured by the probe
// the service is given.
func TestLowSpace(t *testing.T) {
	const gib = 1 << 30
	free := uint64(3 * gib / 2)
	s := &Service{cfg: Config{StateDir: t.TempDir(), MinFree: Reserve{Percent: 2},
		FreeSpace: func(string) (uint64, uint64, error) { return free, 100 * gib, nil }}, log: zerolog.Nop()}
	err := s.lowSpace()
	if errs.CodeOf(err) != errs.NoSpace {
		t.Fatalf("1.5 GiB free of 100 GiB, reserve 2%%: %v", err)
	}
	if want := "the server is low on disk space: 1.5 GiB free in its state directory (1.5% of 100 GiB), below the 2% it keeps free (512 MiB short)"; err.Error() != want {
		t.Errorf("message\n%s\nwant\n%s", err, want)
	}
	free = 3 * gib
	if err := s.lowSpace(); err != nil {
		t.Errorf("3 GiB free: %v", err)
	}
	s.cfg.MinFree = Reserve{}
	free = 0
	if err := s.lowSpace(); err != nil {
		t.Errorf("no reserve: %v", err)
	}
}

// The manifest's writer leaves only listed files at final paths.
func TestSweepUnlisted(t *testing.T) {
	s := &Service{cfg: Config{StateDir: t.TempDir()}, log: zerolog.Nop()}
	dir := s.filesDir("j")
	for _, f := range []string{"a.nc", "b/g1.nc", "b/g2.nc", "stray.nc"} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755)
		os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644)
	}
	s.sweepUnlisted("j", &jobs.Manifest{Files: []jobs.ManifestEntry{{Name: "a.nc"}, {Name: "b/g1.nc"}}})
	for f, kept := range map[string]bool{"a.nc": true, "b/g1.nc": true, "b/g2.nc": false, "stray.nc": false} {
		if _, err := os.Stat(filepath.Join(dir, f)); (err == nil) != kept {
			t.Errorf("%s: kept %v, want %v", f, err == nil, kept)
		}
	}
}
