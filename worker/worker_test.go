package worker_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/internal/testutil/fakeworker"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/regions"
	"github.com/subsetd/subsetd/worker"
)

// The worker's tests run the real worker and engine over the fake files of
// fakeworker: small grids of lat -5..5, lon -10..10 every 0.25°.

var day1 = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

func input(t *testing.T, path string, g fakeworker.Grid) string {
	t.Helper()
	if err := fakeworker.WriteGrid(path, g); err != nil {
		t.Fatal(err)
	}
	return path
}

func run(t *testing.T, env worker.Env, task worker.Task) *worker.Reply {
	t.Helper()
	in, _ := json.Marshal(task)
	var out bytes.Buffer
	if code := worker.Main(context.Background(), bytes.NewReader(in), &out, env); code != 0 {
		t.Fatalf("exit %d", code)
	}
	// Progress lines, then the reply: its share done only grows, below 1.
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := 0.0
	for _, l := range lines[:len(lines)-1] {
		var p worker.Reply
		if !strings.HasPrefix(l, worker.ProgressPrefix) || json.Unmarshal([]byte(l), &p) != nil || p.Progress == nil ||
			p.Progress.Fraction < last || p.Progress.Fraction >= 1 || p.Progress.BytesDone > p.Progress.BytesTotal {
			t.Fatalf("not a progress line after the last: %q", l)
		}
		last = p.Progress.Fraction
	}
	var r worker.Reply
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil || r.Progress != nil {
		t.Fatalf("reply %q: %v", out.String(), err)
	}
	return &r
}

func box(name string, w, s, e, n float64) regions.Fixed {
	return regions.Fixed{Name: name, BBox: []float64{w, s, e, n}}
}

func sha(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// A task is cut, each output checked (size, checksums, dimensions, values
// read back) and reported; an empty region and a failed one do not stop the
// others.
func TestTaskCutsAndChecks(t *testing.T) {
	in := input(t, filepath.Join(t.TempDir(), "sst.nc"), fakeworker.Grid{Start: day1, Steps: 2})
	out := t.TempDir()
	r := run(t, fakeworker.Env(zerolog.Nop()), worker.Task{Files: []string{in}, OutDir: out, Command: "test",
		Regions: []regions.Fixed{box("a", 1, 0, 2, 0.5), box("empty", 100, 50, 101, 51), box("fail1", 0, 0, 1, 1)}})
	if r.Error != nil || r.Result == nil || len(r.Result.Regions) != 3 {
		t.Fatalf("%+v", r)
	}
	a := r.Result.Regions[0]
	if a.Status != engine.StatusSuccessful || len(a.Files) != 1 || a.Files[0].Name != "a.nc" || a.Files[0].Sha256 != sha(t, filepath.Join(out, "a.nc")) ||
		len(a.Files[0].Md5) != 32 || !reflect.DeepEqual(a.Files[0].Shape, map[string]int{"time": 2, "lat": 3, "lon": 5}) {
		t.Fatalf("region a: %+v", a)
	}
	src, err := fakeworker.Open(filepath.Join(out, "a.nc"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	v := src.File().FindVar("sst")
	vals, err := src.Read(v, []int{1, 2, 4}, []int{1, 1, 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Step 1 at lat 0.5, lon 2.
	if got, want := vals.Float64(0), 273.15+0.5+0.02+0.1; math.Abs(got-want) > 1e-4 {
		t.Errorf("sst %v, want %v", got, want)
	}
	if r.Result.Regions[1].Status != engine.StatusEmpty || r.Result.Regions[1].Message == "" {
		t.Errorf("empty: %+v", r.Result.Regions[1])
	}
	if f := r.Result.Regions[2]; f.Status != engine.StatusFailed || !strings.Contains(f.Message, "refuse the output of region fail1") {
		t.Errorf("fail1: %+v", f)
	}
	if _, err := os.Stat(filepath.Join(out, "fail1.nc")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("fail1.nc: %v", err)
	}
}

// Errors of the engine, panics and bad tasks all come back as replies.
func TestErrorsAndPanics(t *testing.T) {
	in := input(t, filepath.Join(t.TempDir(), "sst.nc"), fakeworker.Grid{})
	env := fakeworker.Env(zerolog.Nop())
	r := run(t, env, worker.Task{Files: []string{in}, OutDir: t.TempDir(), Regions: []regions.Fixed{box("a", 0, 0, 1, 1)}, Variables: []string{"chl"}})
	if r.Error == nil || r.Error.Code != errs.NotFound || r.Error.Field != "variables[0]" || !strings.Contains(r.Error.Message, `unknown variable "chl"`) || errs.Retryable(r.Error.Err()) {
		t.Fatalf("%+v", r.Error)
	}
	r = run(t, env, worker.Task{Files: []string{filepath.Join(t.TempDir(), "gone.nc")}, OutDir: t.TempDir(), Regions: []regions.Fixed{box("a", 0, 0, 1, 1)}})
	if r.Error == nil || r.Error.Code != errs.Unreadable || !strings.Contains(r.Error.Message, "cannot read gone.nc") {
		t.Fatalf("%+v", r.Error)
	}
	r = run(t, env, worker.Task{Files: []string{in}, OutDir: t.TempDir(), Regions: []regions.Fixed{{Ref: "africa/red_sea"}}})
	if r.Error == nil || r.Error.Field != "regions[0].ref" || !strings.Contains(r.Error.Message, "has no area") {
		t.Fatalf("a ref that was not fixed: %+v", r.Error)
	}
	boom := env
	boom.Open = func(string) (ncmodel.Source, error) { panic("reader bug") }
	r = run(t, boom, worker.Task{Files: []string{in}, OutDir: t.TempDir(), Regions: []regions.Fixed{box("a", 0, 0, 1, 1)}})
	if r.Error == nil || r.Error.Code != errs.Internal || !strings.Contains(r.Error.Message, "reader bug") {
		t.Fatalf("%+v", r.Error)
	}
	r = run(t, env, worker.Task{Files: []string{in}})
	if r.Error == nil || !strings.Contains(r.Error.Message, "without an output directory") {
		t.Fatalf("%+v", r.Error)
	}
	var out bytes.Buffer
	worker.Main(context.Background(), strings.NewReader("{"), &out, env)
	if !strings.Contains(out.String(), "decode task") {
		t.Fatalf("bad input: %s", out.String())
	}
}

// A task with region file lists is cut as granules: each file opened once,
// for the regions that need it, into <region>/<file stem>.nc, checked like
// any other output. A time series is joined along time into one output.
func TestGranulesAndConcat(t *testing.T) {
	d := t.TempDir()
	files := []string{input(t, filepath.Join(d, "s", "g1.nc.gz"), fakeworker.Grid{}), input(t, filepath.Join(d, "s", "unused.nc"), fakeworker.Grid{}),
		input(t, filepath.Join(d, "t", "g1.h5"), fakeworker.Grid{})}
	var opened []string
	env := fakeworker.Env(zerolog.Nop())
	env.Open = func(p string) (ncmodel.Source, error) {
		if strings.HasPrefix(p, d) {
			opened = append(opened, filepath.Base(p))
		}
		return fakeworker.Open(p)
	}
	out := t.TempDir()
	r := run(t, env, worker.Task{OutDir: out, Regions: []regions.Fixed{box("a", 0, 0, 1, 1), box("b", 2, 0, 3, 1)}, Files: files, RegionFiles: [][]int{{0}, {0, 2}}})
	if r.Error != nil || r.Result == nil {
		t.Fatalf("%+v", r.Error)
	}
	if strings.Join(opened, " ") != "g1.nc.gz g1.h5" || r.Result.FilesOpened != 2 {
		t.Fatalf("opened %v (%d)", opened, r.Result.FilesOpened)
	}
	b := r.Result.Regions[1]
	if b.Status != engine.StatusSuccessful || len(b.Files) != 2 || b.Files[0].Name != "b/g1.nc" || b.Files[1].Name != "b/g1-2.nc" ||
		b.Files[1].Sha256 != sha(t, filepath.Join(out, "b", "g1-2.nc")) {
		t.Fatalf("b %+v", b)
	}
	src, err := fakeworker.Open(filepath.Join(out, "b", "g1-2.nc"))
	if err != nil {
		t.Fatal(err)
	}
	if a, _ := src.File().Root.Attr("subsetd_source"); a.Text() != "g1.h5" {
		t.Errorf("b/g1-2.nc made of %q", a.Text())
	}
	src.Close()

	series := []string{input(t, filepath.Join(d, "1.nc"), fakeworker.Grid{Start: day1, Steps: 2}), input(t, filepath.Join(d, "2.nc"), fakeworker.Grid{Start: day1.AddDate(0, 0, 1), Steps: 2})}
	r = run(t, fakeworker.Env(zerolog.Nop()), worker.Task{OutDir: t.TempDir(), Regions: []regions.Fixed{box("a", 0, 0, 1, 1)}, Files: series, Concat: true})
	if r.Error != nil || r.Result.Regions[0].Files[0].Name != "a.nc" || r.Result.Regions[0].Files[0].Shape["time"] != 4 || r.Result.FilesOpened != 2 {
		t.Fatalf("%+v %+v", r.Error, r.Result)
	}
}

// The inspector answers every path with one record, in order: a
// description with its box and time, an error for a file it cannot read,
// an error (not a crash) for a panic while describing.
func TestInspect(t *testing.T) {
	dir := t.TempDir()
	good := input(t, filepath.Join(dir, "good.nc"), fakeworker.Grid{Start: day1, Steps: 2})
	gone, junk, boom := filepath.Join(dir, "gone.nc"), filepath.Join(dir, "junk.nc"), filepath.Join(dir, "boom.nc")
	os.WriteFile(junk, []byte("CDF\x01 but not quite"), 0o644)
	env := fakeworker.Env(zerolog.Nop())
	env.Open = func(p string) (ncmodel.Source, error) {
		if p == boom {
			panic("the reader fell over")
		}
		return fakeworker.Open(p)
	}
	var out strings.Builder
	if err := worker.Inspect(strings.NewReader(good+"\n\n"+gone+"\r\n"+junk+"\n"+boom+"\n"), &out, env, true); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d lines:\n%s", len(lines), out.String())
	}
	type record struct {
		Path        string
		Error       string
		Sha256      string
		Description *engine.Description
		Geo         *struct{ BBox []float64 }
	}
	var recs [4]record
	for i, l := range lines {
		if err := json.Unmarshal([]byte(l), &recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if r := recs[0]; r.Path != good || r.Error != "" || r.Description == nil || r.Description.Time == nil || r.Description.Time.Steps != 2 ||
		r.Description.Time.Start != "2020-01-01T00:00:00Z" || r.Geo == nil || !reflect.DeepEqual(r.Geo.BBox, []float64{-10, -5, 10, 5}) || r.Sha256 != sha(t, good) {
		t.Errorf("good: %s", lines[0])
	}
	if r := recs[1]; r.Path != gone || r.Description != nil || !strings.Contains(r.Error, "no such file") {
		t.Errorf("gone: %s", lines[1])
	}
	if r := recs[2]; r.Path != junk || r.Error != "not a NetCDF or HDF5 file (NetCDF: Unknown file format)" {
		t.Errorf("junk: %s", lines[2])
	}
	if r := recs[3]; r.Path != boom || r.Description != nil || r.Error != "internal error: the reader fell over" {
		t.Errorf("panic: %s", lines[3])
	}
}
