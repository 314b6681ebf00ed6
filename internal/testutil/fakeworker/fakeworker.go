// Package fakeworker is a worker process for tests of the server that must
// not need the C readers: test binaries call Main from TestMain when Env is
// set, and point the pool at themselves. Its engine writes a small text
// file per region; region names steer it:
//
//	empty*   the region is empty
//	fail*    the region fails
//	crash*   the process kills itself with SIGKILL once per marker
//	         directory (FAKEWORKER_CRASH_DIR), then succeeds
//
// An input file whose name contains "corrupt" fails the task as unreadable,
// as the real readers do. SUBSETD_TEST_TASK_DELAY works as in the real worker.
// InspectMain is the index's inspector on the same fake files.
package fakeworker

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/ncmodel/memfile"
	"github.com/subsetd/subsetd/worker"
)

// Env is the variable that makes a test binary act as the fake worker.
const Env = "SUBSETD_FAKE_WORKER"

// CrashDirEnv names a directory for the crash-once markers.
const CrashDirEnv = "FAKEWORKER_CRASH_DIR"

// Main runs one task and exits.
func Main() {
	log := zerolog.New(os.Stderr).With().Timestamp().Logger()
	os.Exit(worker.Main(context.Background(), os.Stdin, os.Stdout, worker.Env{
		Open: open,
		Run:  run,
		Log:  log,
	}))
}

// open gives a small grid for any existing file, and fails like netCDF on
// "corrupt" files.
func open(path string) (ncmodel.Source, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	if strings.Contains(filepath.Base(path), "corrupt") {
		return nil, errs.E(errs.Unreadable, "%s: NetCDF: Unknown file format", path)
	}
	return Grid(path), nil
}

// Grid is the fake's file: sst on a lat(4) x lon(4) grid, cell centres at
// -30, -10, 10 and 30 degrees on both axes.
func Grid(path string) *memfile.File {
	root := &ncmodel.Group{}
	lat := &ncmodel.Dim{Name: "lat", Len: 4, Group: root}
	lon := &ncmodel.Dim{Name: "lon", Len: 4, Group: root}
	root.Dims = []*ncmodel.Dim{lat, lon}
	units := func(u string) []ncmodel.Attr { return []ncmodel.Attr{{Name: "units", Type: ncmodel.Char, Value: u}} }
	root.Vars = []*ncmodel.Var{
		{Name: "lat", Type: ncmodel.Float, Dims: []*ncmodel.Dim{lat}, Group: root, Attrs: units("degrees_north")},
		{Name: "lon", Type: ncmodel.Float, Dims: []*ncmodel.Dim{lon}, Group: root, Attrs: units("degrees_east")},
		{Name: "sst", Type: ncmodel.Float, Dims: []*ncmodel.Dim{lat, lon}, Group: root, Attrs: units("K")},
	}
	f := memfile.New(&ncmodel.File{Path: path, Format: ncmodel.FormatNetCDF4, Root: root})
	f.SetFunc("lat", func(i []int) float64 { return float64(-30 + 20*i[0]) })
	f.SetFunc("lon", func(i []int) float64 { return float64(-30 + 20*i[0]) })
	return f
}

func run(ctx context.Context, files []string, req *engine.Request, opt engine.Options) (*engine.Result, error) {
	for _, f := range files {
		if strings.Contains(filepath.Base(f), "corrupt") {
			return nil, errs.E(errs.Unreadable, "%s: NetCDF: Unknown file format", f)
		}
	}
	res := &engine.Result{FilesOpened: len(files)}
	for _, r := range req.Regions {
		switch {
		case strings.HasPrefix(r.Name, "crash"):
			marker := filepath.Join(os.Getenv(CrashDirEnv), r.Name)
			if _, err := os.Stat(marker); err != nil {
				os.WriteFile(marker, nil, 0o644)
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		case strings.HasPrefix(r.Name, "empty"):
			res.Regions = append(res.Regions, engine.RegionResult{Name: r.Name, Status: engine.StatusEmpty, Message: "the region does not intersect the data"})
			continue
		case strings.HasPrefix(r.Name, "fail"):
			res.Regions = append(res.Regions, engine.RegionResult{Name: r.Name, Status: engine.StatusFailed, Message: "the fake engine fails this region"})
			continue
		}
		name := r.Name + ".nc"
		data := []byte(fmt.Sprintf("fake subset of %v for %s with bbox %v\n", files, r.Name, r.BBox))
		if err := os.WriteFile(filepath.Join(opt.OutDir, name), data, 0o644); err != nil {
			return nil, errs.Wrap(errs.Internal, err, "write")
		}
		res.BytesWritten += int64(len(data))
		res.Regions = append(res.Regions, engine.RegionResult{Name: r.Name, Status: engine.StatusSuccessful,
			Files: []engine.OutFile{{Name: name, Size: int64(len(data)), Shape: map[string]int{"lat": 4}}}})
	}
	return res, nil
}
