// Package fakeworker runs the worker of the server's tests without the C
// readers: the real worker (worker.Main, worker.Inspect) and the real
// engine over an Env whose files are in-memory files (ncmodel/memfile) kept
// on disk in memfile's encoding (File.Bytes, Decode). What the engine
// writes is a real file, checksummed, moved into place, opened again and
// checked by the worker as an output of the C writers is. Test binaries call
// Main from TestMain when the Env variable is set (InspectMain for the
// index's inspector) and point the pool at themselves.
//
// Inputs are files written by WriteGrid; any other file is not NetCDF, as
// the C readers would say. The tests steer the rest at the Env's boundary,
// by the region an output is for (its subsetd_request attribute, which the
// engine writes before the output's first value):
//
//	fail*   defining the output fails: the region fails, the others of
//	        the task go on;
//	crash*  the process kills itself with SIGKILL when the output is
//	        defined, once per marker file in $FAKEWORKER_CRASH_DIR (named
//	        after the region), then the region is cut.
//
// A region is empty when it misses the grid (see Grid). The worker's
// SUBSETD_TEST_TASK_DELAY delays a task as in the real worker.
package fakeworker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/internal/proc"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/ncmodel/memfile"
	"github.com/subsetd/subsetd/regions"
	"github.com/subsetd/subsetd/worker"
)

// EnvVar is the variable that makes a test binary act as the fake worker.
const EnvVar = "SUBSETD_FAKE_WORKER"

// CrashDirEnv names a directory for the crash-once markers.
const CrashDirEnv = "FAKEWORKER_CRASH_DIR"

// InspectArg, as the first argument of a test binary, makes it the fake
// inspector of the index (`subsetd inspect --stdin` without the C readers).
const InspectArg = "fake-inspect"

// Files starting with these stand for files a C library hangs on (its
// opening never returns) or crashes on (SIGABRT): the opening is reported
// as a call on the file (proc.BeginCall), as readers/open reports it.
const (
	CallHang  = "CALLHANG"
	CallAbort = "CALLABRT"
)

// Env is the worker's environment over the fake files.
func Env(log zerolog.Logger) worker.Env {
	return worker.Env{Open: Open, Create: Create, Version: "fake", Log: log}
}

// Main runs one task with worker.Main and exits.
func Main() {
	log := zerolog.New(os.Stderr).With().Timestamp().Logger()
	os.Exit(worker.Main(context.Background(), os.Stdin, os.Stdout, Env(log)))
}

// InspectMain runs worker.Inspect until its input ends, and exits.
func InspectMain() {
	log := zerolog.New(os.Stderr).With().Timestamp().Logger()
	if err := worker.Inspect(os.Stdin, os.Stdout, Env(log), slices.Contains(os.Args, "--sha256")); err != nil {
		log.Error().Err(err).Msg("inspect")
		os.Exit(1)
	}
	os.Exit(0)
}

// Open opens a file written by WriteGrid or by Create.
func Open(path string) (ncmodel.Source, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(b, []byte(CallHang)):
		proc.BeginCall(path)
		select {}
	case bytes.HasPrefix(b, []byte(CallAbort)):
		proc.BeginCall(path)
		syscall.Kill(os.Getpid(), syscall.SIGABRT)
		select {}
	}
	f, err := memfile.Decode(path, b)
	if errors.Is(err, memfile.ErrNotMemfile) {
		return nil, errs.E(errs.Unreadable, "not a NetCDF or HDF5 file (NetCDF: Unknown file format)")
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Create creates a file that is written to path, in memfile's encoding,
// when its Sink is closed.
func Create(path string, format ncmodel.Format) (ncmodel.Sink, error) {
	var st memfile.Store
	w, err := st.Create(path, format)
	if err != nil {
		return nil, err
	}
	return &sink{Sink: w, store: &st, path: path}, nil
}

type sink struct {
	ncmodel.Sink
	store *memfile.Store
	path  string
}

// Define steers the fate of the output's region.
func (s *sink) Define(f *ncmodel.File) error {
	switch region := regionOf(f); {
	case strings.HasPrefix(region, "fail"):
		return fmt.Errorf("the fake files refuse the output of region %s", region)
	case strings.HasPrefix(region, "crash"):
		marker := filepath.Join(os.Getenv(CrashDirEnv), region)
		if _, err := os.Stat(marker); err != nil {
			os.WriteFile(marker, nil, 0o644)
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}
	return s.Sink.Define(f)
}

// Close writes the file to disk.
func (s *sink) Close() error {
	if err := s.Sink.Close(); err != nil {
		return err
	}
	return os.WriteFile(s.path, s.store.Get(s.path).Bytes(), 0o644)
}

// regionOf is the output name of the region an output is for, as its
// subsetd_request attribute has it.
func regionOf(f *ncmodel.File) string {
	a, ok := f.Root.Attr("subsetd_request")
	if !ok {
		return ""
	}
	var req struct{ Regions []regions.Region }
	if json.Unmarshal([]byte(a.Text()), &req) != nil || len(req.Regions) != 1 {
		return ""
	}
	return regions.Fixed(req.Regions[0]).OutputName()
}

// Grid is an input file of the fake: sst(time, lat, lon) in K on cell
// centres every 0.25° of latitude -5..5 and longitude -10..10, and Steps
// time steps 12 hours apart from Start (no time dimension when Steps is 0).
// A value is 273.15 + lat + lon/100 + step/10.
type Grid struct {
	Start time.Time
	Steps int
}

// The grid's axes.
const (
	gridStep         = 0.25
	gridLat, gridLon = -5.0, -10.0
	gridNLat         = 41
	gridNLon         = 81
)

// WriteGrid writes an input file.
func WriteGrid(path string, g Grid) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, NewGrid(path, g).Bytes(), 0o644)
}

// NewGrid is the in-memory file WriteGrid writes, for tests that keep it in
// a memfile.Store.
func NewGrid(path string, g Grid) *memfile.File {
	root := &ncmodel.Group{Attrs: []ncmodel.Attr{text("Conventions", "CF-1.8"), text("title", "fake grid")}}
	lat := &ncmodel.Dim{Name: "lat", Len: gridNLat, Group: root}
	lon := &ncmodel.Dim{Name: "lon", Len: gridNLon, Group: root}
	root.Dims = []*ncmodel.Dim{lat, lon}
	root.Vars = []*ncmodel.Var{
		{Name: "lat", Type: ncmodel.Float, Dims: []*ncmodel.Dim{lat}, Group: root, Attrs: []ncmodel.Attr{text("units", "degrees_north"), text("standard_name", "latitude")}},
		{Name: "lon", Type: ncmodel.Float, Dims: []*ncmodel.Dim{lon}, Group: root, Attrs: []ncmodel.Attr{text("units", "degrees_east"), text("standard_name", "longitude")}},
	}
	sst := &ncmodel.Var{Name: "sst", Type: ncmodel.Float, Dims: []*ncmodel.Dim{lat, lon}, Group: root,
		Attrs: []ncmodel.Attr{text("units", "K"), {Name: "_FillValue", Type: ncmodel.Float, Value: []float32{float32(math.NaN())}}}}
	if g.Steps > 0 {
		tim := &ncmodel.Dim{Name: "time", Len: g.Steps, Unlimited: true, Group: root}
		root.Dims = append([]*ncmodel.Dim{tim}, root.Dims...)
		root.Vars = append(root.Vars, &ncmodel.Var{Name: "time", Type: ncmodel.Double, Dims: []*ncmodel.Dim{tim}, Group: root,
			Attrs: []ncmodel.Attr{text("units", "hours since "+g.Start.UTC().Format("2006-01-02 15:04:05")), text("standard_name", "time"), text("calendar", "standard")}})
		sst.Dims = append([]*ncmodel.Dim{tim}, sst.Dims...)
	}
	root.Vars = append(root.Vars, sst)
	f := memfile.New(&ncmodel.File{Path: path, Format: ncmodel.FormatNetCDF4, Root: root})
	f.SetFunc("lat", func(i []int) float64 { return gridLat + gridStep*float64(i[0]) })
	f.SetFunc("lon", func(i []int) float64 { return gridLon + gridStep*float64(i[0]) })
	if g.Steps > 0 {
		f.SetFunc("time", func(i []int) float64 { return 12 * float64(i[0]) })
		f.SetFunc("sst", func(i []int) float64 { return value(i[0], i[1], i[2]) })
	} else {
		f.SetFunc("sst", func(i []int) float64 { return value(0, i[0], i[1]) })
	}
	return f
}

func value(step, i, j int) float64 {
	return 273.15 + (gridLat + gridStep*float64(i)) + (gridLon+gridStep*float64(j))/100 + float64(step)/10
}

func text(name, value string) ncmodel.Attr {
	return ncmodel.Attr{Name: name, Type: ncmodel.Char, Value: value}
}
