package oracle

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/internal/testutil/fixtures"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/readers/open"
	"github.com/subsetd/subsetd/regions"
)

// TestDryRunMatchesCut plans every fixture with a dry run and cuts it: the
// regions' statuses, the files' names, dimensions and variables (names,
// types, shapes) and the value bytes the dry run gives are those of the
// files written, read back from disk; the run fails the same way when it
// fails; the bytes the cut reads are those its plan announces
// (Progress.Planned, what progress is measured against), or a little
// more with statistics. Cases: the whole globe, a box, one across the antimeridian, with
// strides, as netCDF-3, and with statistics.
func TestDryRunMatchesCut(t *testing.T) {
	stride := func(r *engine.Request) { r.Stride = map[string]int{"lat": 2, "lon": 3, "time": 2} }
	nc3 := func(r *engine.Request) { r.Output.Format = engine.FormatNetCDF3 }
	stats := func(r *engine.Request) { r.Statistics = &engine.Statistics{Ops: []string{"mean", "max"}} }
	files := 0
	for _, name := range fixtures.List() {
		t.Run(name, func(t *testing.T) {
			in := fixtures.Build(t, name)
			for i, mod := range []func(*engine.Request){nil, stride, nc3, stats} {
				req := &engine.Request{Regions: []regions.Fixed{
					{Name: "globe", BBox: []float64{-180, -90, 180, 90}},
					{Name: "box", BBox: []float64{-30, -20, 30, 20}},
					{Name: "seam", BBox: []float64{170, -40, -170, 40}},
					{Name: "far", BBox: []float64{1, 1, 1.001, 1.001}},
				}}
				if mod != nil {
					mod(req)
				}
				files += checkDryRun(t, fmt.Sprintf("case %d", i), []string{in}, req, false)
			}
		})
	}
	t.Run("granules", func(t *testing.T) {
		req := &engine.Request{Regions: []regions.Fixed{{Name: "box", BBox: []float64{-30, -20, 30, 20}}}}
		ins := []string{fixtures.Build(t, "granule_grid"), fixtures.Build(t, "granule_swath"), fixtures.Build(t, "granule_track")}
		files += checkDryRun(t, "granules", ins, req, false)
	})
	t.Run("concat", func(t *testing.T) {
		req := &engine.Request{Regions: []regions.Fixed{{Name: "box", BBox: []float64{-30, -20, 30, 20}}}}
		a := fixtures.Build(t, "series_daily")
		b := fixtures.Variant(t, "series_daily", fixtures.Values{Data: map[string][]float64{"time": {1}}})
		files += checkDryRun(t, "concat", []string{a, b}, req, true)
	})
	if files < 100 {
		t.Errorf("only %d files were compared", files)
	}
}

// checkDryRun compares a dry run of req with the cut, and returns the
// number of files compared.
func checkDryRun(t *testing.T, what string, ins []string, req *engine.Request, concat bool) int {
	t.Helper()
	ctx := context.Background()
	dry, derr := engine.Run(ctx, ins, req, engine.Options{Open: open.Source, Concat: concat, DryRun: true})
	out := t.TempDir()
	var read, planned int64
	count := func(p engine.Progress) { read, planned = read+p.Read, planned+p.Planned }
	res, err := engine.Run(ctx, ins, req, engine.Options{OutDir: out, Open: open.Source, Create: open.Sink, Version: "test", Concat: concat, Progress: count})
	if (derr == nil) != (err == nil) || errs.CodeOf(derr) != errs.CodeOf(err) {
		t.Fatalf("%s: the dry run gives error %v, the cut %v", what, derr, err)
	}
	if err != nil {
		return 0
	}
	// Statistics read coordinates and cell measures besides; a region
	// that fails reads nothing; strings are counted as stored.
	failed := false
	for _, r := range res.Regions {
		failed = failed || r.Status == engine.StatusFailed
	}
	slack := planned/100 + 64
	if d := read - planned; !failed && (d < -slack || d > slack && req.Statistics == nil) {
		t.Errorf("%s: the cut read %d bytes of values, its plan said %d", what, read, planned)
	}
	n := 0
	for i, r := range res.Regions {
		d := dry.Regions[i]
		if d.Name != r.Name || d.Status != r.Status || d.Statistics != r.Statistics {
			t.Errorf("%s: region %d is %s %s (statistics %v) in the dry run, %s %s (%v) cut: %s", what, i, d.Name, d.Status, d.Statistics, r.Name, r.Status, r.Statistics, r.Message)
			continue
		}
		if len(d.Files) != len(r.Files) {
			t.Errorf("%s: region %s: %d files in the dry run, %d cut", what, r.Name, len(d.Files), len(r.Files))
			continue
		}
		for j, f := range r.Files {
			e := d.Files[j]
			if e.Estimate == nil || e.Path != "" || e.Size != 0 || e.Sha256 != "" {
				t.Errorf("%s: %s: a dry run's file has no estimate or has a path, size or checksum: %+v", what, e.Name, e)
			}
			if e.Name != f.Name || e.Source != f.Source || fmt.Sprint(e.Shape) != fmt.Sprint(f.Shape) {
				t.Errorf("%s: dry run %s %v from %s, cut %s %v from %s", what, e.Name, e.Shape, e.Source, f.Name, f.Shape, f.Source)
			}
			if fmt.Sprint(e.Variables) != fmt.Sprint(f.Variables) {
				t.Errorf("%s: %s: variables\n dry run %v\n cut     %v", what, f.Name, e.Variables, f.Variables)
			}
			if got := writtenValueBytes(t, filepath.Join(out, filepath.FromSlash(f.Name))); e.ValueBytes != got {
				t.Errorf("%s: %s: the dry run gives %d value bytes, the file holds %d", what, f.Name, e.ValueBytes, got)
			}
			if e.Estimate != nil && (e.Estimate.Bytes <= 0 || len(e.Estimate.Box) == 0) {
				t.Errorf("%s: %s: estimate %+v", what, f.Name, e.Estimate)
			}
			n++
		}
	}
	return n
}

// writtenValueBytes reads a written file back and adds up the bytes of
// its variables' values: their shapes times the sizes of their types.
func writtenValueBytes(t *testing.T, path string) int64 {
	src := openT(t, path)
	var n int64
	for _, v := range src.File().Vars() {
		shape := v.Shape()
		if slices.Contains(shape, 0) {
			continue
		}
		n += int64(ncmodel.Product(shape) * v.Type.Size())
	}
	return n
}
