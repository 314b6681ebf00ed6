package open

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/internal/testutil/corrupt"
	"github.com/subsetd/subsetd/internal/testutil/fixtures"
	"github.com/subsetd/subsetd/readers/netcdf"
)

// A long run of the corpus test, e.g. ten times the files with another seed
// and every message listed:
//
//	go test ./readers/open -run TestCorruptCorpus -v -corpus.seed=7 -corpus.scale=10 -corpus.errors
//
// With -corpus.exec the children are that command with the file appended
// (e.g. -corpus.exec="bin/subsetd inspect") instead of this test binary.
var (
	corpusSeed    = flag.Uint64("corpus.seed", 1, "seed of the corrupt-file corpus")
	corpusScale   = flag.Int("corpus.scale", 1, "multiply the corpus's mutations per source file")
	corpusExec    = flag.String("corpus.exec", "", "run this command on each file (file appended) instead of the test binary")
	corpusTimeout = flag.Duration("corpus.timeout", 20*time.Second, "a child still running after this is a hang")
	corpusErrors  = flag.Bool("corpus.errors", false, "list every clean error message")
	corpusKeep    = flag.String("corpus.keep", "", "write the corpus into this directory (kept) instead of a temporary one")
)

// A child of the corpus tests opens a file as the server and the CLI do.
func TestMain(m *testing.M) {
	inspectorMain()
	corrupt.ChildMain(Source)
	os.Exit(m.Run())
}

// Every file of the corpus gives an answer through the readers: a
// description or a one-line error that says what is wrong with the file.
// Nothing hangs, panics or crashes.
func TestCorruptCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus of corrupt files: not in -short")
	}
	n := corrupt.DefaultCounts
	n.Flips *= *corpusScale
	n.Truncations *= *corpusScale
	n.Zeroes *= *corpusScale
	n.Swaps *= *corpusScale
	files := append(corrupt.Generate(*corpusSeed, corrupt.Sources(t), n), corrupt.Extras(*corpusSeed)...)
	dir := *corpusKeep
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := corrupt.Write(dir, files); err != nil {
		t.Fatal(err)
	}
	if len(files) < 300 {
		t.Fatalf("corpus of %d files, want at least 300", len(files))
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = filepath.Join(dir, f.Name)
	}
	cmd := corrupt.Command(corrupt.Self)
	if *corpusExec != "" {
		cmd = corrupt.Exec(strings.Fields(*corpusExec)...)
	}
	results := corrupt.Classify(context.Background(), paths, corrupt.Config{
		Command: cmd, Timeout: *corpusTimeout, Backtrace: true,
	})
	var report strings.Builder
	corrupt.Report(&report, results, *corpusErrors || testing.Verbose())
	t.Logf("seed %d\n%s", *corpusSeed, report.String())

	byName := map[string]corrupt.File{}
	for _, f := range files {
		byName[f.Name] = f
	}
	for _, r := range results {
		f := byName[filepath.Base(r.Path)]
		switch r.Outcome {
		case corrupt.Opened:
		case corrupt.Failed:
			if msg := cleanMessage(r.Message); msg != "" {
				t.Errorf("%s (%s): %s: %q", f.Name, f.What, msg, r.Message)
			}
		default:
			t.Errorf("%s (%s): %s %s: %s %v", f.Name, f.What, r.Outcome, r.Signal, r.Message, r.Frames)
		}
	}
}

// openProblems are the ways an open error starts: what is wrong with the
// file, in words. The callers (the engine, the CLI, the index) name the
// file before it: "cannot read x.nc: truncated file: ...".
var openProblems = []string{
	netcdf.ErrNotNetCDF.Error() + " (",
	netcdf.ErrCorrupt.Error() + ": ",
	netcdf.ErrCorrupt.Error() + " (",
	netcdf.ErrCorruptClassic.Error() + ": ",
	netcdf.ErrCorruptClassic.Error() + " (",
	"truncated file: ",
}

// cleanMessage returns what is wrong with an error message for a user, or
// "": one line, saying what is wrong with the file (or, for a read after a
// good open, which variable failed), never a bare errno or library string.
func cleanMessage(msg string) string {
	if strings.Contains(msg, "\n") {
		return "several lines"
	}
	if strings.HasPrefix(msg, "read ") {
		return ""
	}
	for _, p := range openProblems {
		if strings.HasPrefix(msg, p) && len(msg) > len(p)+8 {
			return ""
		}
	}
	return "does not say what is wrong with the file"
}

// Damage to a global heap that netCDF-C does not survive, found before it
// opens the file: Source vets HDF5 files through the HDF5 reader's guard
// driver first and fails at once with what is wrong.
func TestHeapDamageRefusedBeforeNetCDF(t *testing.T) {
	good, err := os.ReadFile(fixtures.Build(t, "groups"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		mutate func([]byte) ([]byte, int, error)
		want   string // %d: the collection's offset
	}{
		// netCDF-C, with HDF5's own driver, loops forever (ncdump -h too).
		{"zero-heap-object", func(b []byte) ([]byte, int, error) { return corrupt.ZeroHeapObject(b, 1) },
			"the global heap collection at byte %d holds an object of size 0, on which HDF5 would loop forever"},
		// netCDF-C fails to read the string attribute, then frees garbage
		// when the file is closed: SIGABRT in nc_close.
		{"broken-heap-signature", corrupt.BreakHeapSignature,
			`/ocean: attribute "comment": bad global heap collection signature`},
	} {
		b, at, err := c.mutate(good)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), "groups-"+c.name+".nc")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		r := corrupt.Classify(context.Background(), []string{p}, corrupt.Config{Command: corrupt.Self, Timeout: time.Minute})[0]
		want := netcdf.ErrCorrupt.Error() + ": " + c.want
		if strings.Contains(want, "%d") {
			want = fmt.Sprintf(want, at)
		}
		if r.Outcome != corrupt.Failed || r.Message != want {
			t.Errorf("%s: %s %s %q\nwant a clean error %q", c.name, r.Outcome, r.Signal, r.Message, want)
		}
	}
}
