package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/catalog/index"
	"github.com/subsetd/subsetd/internal/testutil/fixtures"
	"github.com/subsetd/subsetd/regions"
	"github.com/subsetd/subsetd/worker"
)

// TestIndexInspectorProcess is not a test: the index tests run the test
// binary as their inspector (`inspect --stdin` after "--"), with
// SUBSETD_TEST_INSPECTOR set. It kills itself when asked for the file named
// by SUBSETD_TEST_CRASH_ON, as the C libraries do on some corrupt files.
func TestIndexInspectorProcess(t *testing.T) {
	if os.Getenv("SUBSETD_TEST_INSPECTOR") != "1" {
		t.Skip("the inspector process of the index tests")
	}
	args := flag.Args()
	if len(args) < 2 || args[0] != "inspect" || args[1] != "--stdin" {
		fmt.Fprintf(os.Stderr, "inspector helper: arguments %q\n", args)
		os.Exit(2)
	}
	crashOn := os.Getenv("SUBSETD_TEST_CRASH_ON")
	pr, pw := io.Pipe()
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			if crashOn != "" && filepath.Base(sc.Text()) == crashOn {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
			fmt.Fprintln(pw, sc.Text())
		}
		pw.Close()
	}()
	if err := worker.Inspect(pr, os.Stdout, readersEnv(zerolog.New(os.Stderr)), slices.Contains(args, "--sha256")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

func useTestInspector(t *testing.T, crashOn string) {
	t.Setenv("SUBSETD_TEST_INSPECTOR", "1")
	t.Setenv("SUBSETD_TEST_CRASH_ON", crashOn)
	inspectorCommand = []string{os.Args[0], "-test.run=^TestIndexInspectorProcess$", "--", "inspect", "--stdin"}
	t.Cleanup(func() { inspectorCommand = nil })
}

// daily writes day d of a daily series (series_daily) at path.
func daily(t *testing.T, path string, day int) {
	t.Helper()
	vals := make([]float64, 32)
	for i := range vals {
		vals[i] = float64(100*day + i)
	}
	fixtures.CopyTo(t, fixtures.Variant(t, "series_daily", fixtures.Values{
		Data: map[string][]float64{"time": {float64(day)}, "sst": vals},
	}), path)
}

// grid writes a granule of day d on the given 3 latitudes and longitudes
// (granule_grid) at path.
func grid(t *testing.T, path string, day int, lats, lons []float64) {
	t.Helper()
	fixtures.CopyTo(t, fixtures.Variant(t, "granule_grid", fixtures.Values{
		Dims: map[string]int{"lon": len(lons)},
		Attrs: map[string]any{":geospatial_lat_min": slices.Min(lats), ":geospatial_lat_max": slices.Max(lats),
			":geospatial_lon_min": slices.Min(lons), ":geospatial_lon_max": slices.Max(lons)},
		Data: map[string][]float64{"time": {float64(day)}, "lat": lats, "lon": lons},
	}), path)
}

func gzipFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	w := gzip.NewWriter(f)
	w.Write(b)
	w.Close()
	f.Close()
	os.Remove(src)
}

func indexRun(t *testing.T, args ...string) *index.Report {
	t.Helper()
	code, stdout, stderr := runCLI(append([]string{"index", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("index %v: exit %d\n%s\n%s", args, code, stdout, stderr)
	}
	var rep index.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("report: %v\n%s", err, stdout)
	}
	return &rep
}

func TestIndexCommand(t *testing.T) {
	fixtures.NeedTool(t, "ncgen")
	useTestInspector(t, "crashme.nc")
	dir := t.TempDir()
	data, state := filepath.Join(dir, "data"), filepath.Join(dir, "state")
	// A time series split by day, one member gzipped.
	for d := 0; d < 3; d++ {
		daily(t, filepath.Join(data, "sst", fmt.Sprintf("day%d.nc", d)), d)
	}
	gzipFile(t, filepath.Join(data, "sst", "day2.nc"), filepath.Join(data, "sst", "day2.nc.gz"))
	os.WriteFile(filepath.Join(data, "sst", "README.txt"), []byte("daily sst"), 0o644)
	// Granules: grids that differ, 0..360 across the antimeridian, a
	// swath, a track, and files that cannot be read.
	g := filepath.Join(data, "granules")
	grid(t, filepath.Join(g, "g1.nc"), 4, []float64{-5, 0, 5}, []float64{170, 175, 180, 185, 190})
	grid(t, filepath.Join(g, "g2.nc"), 5, []float64{30, 35, 40}, []float64{-60, -50, -40})
	grid(t, filepath.Join(g, "crashme.nc"), 5, []float64{30, 35, 40}, []float64{-60, -50, -40})
	fixtures.CopyTo(t, fixtures.Build(t, "granule_swath"), filepath.Join(g, "swath.nc"))
	fixtures.CopyTo(t, fixtures.Build(t, "granule_track"), filepath.Join(g, "track.nc"))
	rng := rand.New(rand.NewPCG(1, 1))
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = byte(rng.IntN(256))
	}
	os.WriteFile(filepath.Join(g, "corrupt.nc"), junk, 0o644)
	os.WriteFile(filepath.Join(g, "fake.nc"), []byte("this is not NetCDF\n"), 0o644)
	grid(t, filepath.Join(g, "full.nc4"), 6, []float64{0, 1, 2}, []float64{0, 1, 2})
	full, _ := os.ReadFile(filepath.Join(g, "full.nc4"))
	os.WriteFile(filepath.Join(g, "trunc.nc4"), full[:len(full)*6/10], 0o644)
	os.Remove(filepath.Join(g, "full.nc4"))
	// A file directly in the data directory is a dataset of its own.
	grid(t, filepath.Join(data, "alone.nc"), 9, []float64{1, 2, 3}, []float64{1, 2, 3})

	rep := indexRun(t, "--data", data, "--state", state, "--workers", "2")
	if rep.Files != 12 || rep.New != 12 || rep.Failed != 4 || rep.Crashed != 1 || rep.Datasets != 3 || rep.Skipped != 0 {
		t.Errorf("first index: %+v", rep)
	}
	failed := map[string]string{}
	for _, f := range rep.Failures {
		failed[f.Path] = f.Error
	}
	wantFailed := map[string]string{
		"granules/corrupt.nc": "not a NetCDF or HDF5 file",
		"granules/fake.nc":    "not a NetCDF or HDF5 file",
		"granules/trunc.nc4":  "corrupt or truncated",
		"granules/crashme.nc": "inspector crashed on this file: killed by SIGKILL",
	}
	for p, msg := range wantFailed {
		if !strings.Contains(failed[p], msg) {
			t.Errorf("%s: error %q, want %q", p, failed[p], msg)
		}
	}
	if len(failed) != len(wantFailed) {
		t.Errorf("failures %v", failed)
	}

	ctx := context.Background()
	store, err := index.Open(ctx, state)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	sum, err := store.Dataset(ctx, "sst", "")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Kind != index.TimeSeries || sum.Files != 3 || sum.Errors != 0 || sum.TimeStartISO != "2020-01-01T00:00:00Z" || sum.TimeEndISO != "2020-01-03T00:00:00Z" ||
		!reflect.DeepEqual(sum.Extent, []float64{-157.5, -30, 157.5, 30}) {
		t.Errorf("sst: %+v", sum)
	}
	sum, err = store.Dataset(ctx, "granules", "")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Kind != index.Granules || sum.Files != 4 || sum.Errors != 4 {
		t.Errorf("granules: %+v", sum)
	}
	if sum, err := store.Dataset(ctx, "alone", ""); err != nil || sum.Files != 1 {
		t.Errorf("alone: %+v %v", sum, err)
	}
	files, _, err := store.Search(ctx, "sst", nil, nil, nil, 0, 0)
	if err != nil || !reflect.DeepEqual(pathsOf(files), []string{"sst/day0.nc", "sst/day1.nc", "sst/day2.nc.gz"}) {
		t.Fatalf("sst files %v %v", pathsOf(files), err)
	}
	if f := files[2]; f.Format != "netcdf4" || f.TimeStart == nil || f.TimeStart.Format(time.RFC3339) != "2020-01-03T00:00:00Z" || len(f.Variables) != 4 {
		t.Errorf("gzipped member: %+v", f)
	}

	// The swath's footprint is its edges: first row, last column, last row
	// reversed, first column reversed.
	swath, _, err := store.Search(ctx, "granules", &regions.BBox{West: 24, South: 14, East: 25, North: 15}, nil, nil, 0, 0)
	if err != nil || len(swath) != 1 || swath[0].Path != "granules/swath.nc" {
		t.Fatalf("box inside the swath: %v %v", pathsOf(swath), err)
	}
	var fp struct {
		Type        string         `json:"type"`
		Coordinates [][][2]float64 `json:"coordinates"`
	}
	if err := json.Unmarshal(swath[0].Footprint, &fp); err != nil {
		t.Fatal(err)
	}
	wantRing := [][2]float64{{20, 10}, {23, 11}, {26, 12}, {29, 13}, {32, 14}, {31, 16}, {30, 18},
		{29, 20}, {26, 19}, {23, 18}, {20, 17}, {17, 16}, {18, 14}, {19, 12}, {20, 10}}
	if fp.Type != "Polygon" || len(fp.Coordinates) != 1 || !reflect.DeepEqual(fp.Coordinates[0], wantRing) {
		t.Errorf("footprint %s", swath[0].Footprint)
	}
	if !reflect.DeepEqual(swath[0].BBox, []float64{17, 10, 32, 20}) || swath[0].GridKind != "curvilinear" {
		t.Errorf("swath bbox %v kind %s", swath[0].BBox, swath[0].GridKind)
	}

	// Searches: the expected files, by name.
	day := func(d int, h int) *time.Time {
		x := time.Date(2020, 1, 1+d, h, 0, 0, 0, time.UTC)
		return &x
	}
	cases := []struct {
		dataset    string
		box        *regions.BBox
		start, end *time.Time
		want       []string
	}{
		{"granules", &regions.BBox{West: 175, South: -10, East: -175, North: 10}, nil, nil, []string{"granules/g1.nc", "granules/track.nc"}},
		{"granules", &regions.BBox{West: 175, South: -10, East: 185, North: 10}, nil, nil, []string{"granules/g1.nc", "granules/track.nc"}},
		{"granules", &regions.BBox{West: -178, South: -5, East: -170, North: 5}, nil, nil, []string{"granules/g1.nc", "granules/track.nc"}},
		{"granules", &regions.BBox{West: -178, South: -5, East: -170, North: 5}, day(7, 0), nil, []string{"granules/track.nc"}},
		{"granules", &regions.BBox{West: 171, South: -5, East: 174, North: 5}, nil, nil, []string{"granules/g1.nc"}}, // in g1's box, between columns
		{"granules", &regions.BBox{West: 30, South: 10, East: 31.5, North: 11}, nil, nil, []string{}},                // the swath's box, not the swath
		{"granules", &regions.BBox{West: 300, South: 34, East: 305, North: 36}, nil, nil, []string{"granules/g2.nc"}},
		{"granules", nil, day(4, 0), day(5, 12), []string{"granules/g1.nc", "granules/g2.nc"}},
		{"granules", nil, day(6, 6), day(6, 6), []string{"granules/swath.nc"}},
		{"sst", &regions.BBox{West: 0, South: 0, East: 30, North: 20}, day(1, 0), day(1, 12), []string{"sst/day1.nc"}},
		{"sst", &regions.BBox{West: 160, South: 0, East: 200, North: 20}, nil, nil, []string{}}, // the gap 157.5..202.5
		{"", &regions.BBox{West: -180, South: -90, East: 180, North: 90}, day(2, 0), day(4, 0), []string{"sst/day2.nc.gz", "granules/g1.nc"}},
		// The track's times are an auxiliary variable: 2020-01-08T00..05.
		{"granules", nil, day(7, 5), nil, []string{"granules/track.nc"}},
		{"granules", nil, day(7, 6), nil, []string{}},
	}
	for _, c := range cases {
		got, total, err := store.Search(ctx, c.dataset, c.box, c.start, c.end, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(pathsOf(got), c.want) || total != len(c.want) {
			t.Errorf("search %q %v %v..%v: %v (total %d), want %v", c.dataset, c.box, c.start, c.end, pathsOf(got), total, c.want)
		}
	}

	// Incremental: touch one, rewrite one, delete one, add one; the text
	// report names them.
	later := time.Now().Add(time.Hour)
	os.Chtimes(filepath.Join(data, "sst", "day0.nc"), later, later)
	grid(t, filepath.Join(g, "g2.nc"), 5, []float64{30, 35, 40}, []float64{-61, -51, -41})
	os.Remove(filepath.Join(g, "fake.nc"))
	daily(t, filepath.Join(data, "sst", "day3.nc"), 3)
	code, stdout, stderr := runCLI("index", "--data", data, "--state", state, "--workers", "2")
	if code != 0 {
		t.Fatalf("second index: %d\n%s\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"3 datasets, 12 files: 1 new, 2 changed, 1 deleted, 9 unchanged (skipped), 0 failed",
		"unreadable and unchanged since", "granules/crashme.nc: inspector crashed on this file"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("second index report lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "files found") {
		t.Errorf("no progress on stderr: %q", stderr)
	}
	got, _, _ := store.Search(ctx, "granules", &regions.BBox{West: -61, South: 30, East: -60.5, North: 40}, nil, nil, 0, 0)
	if !reflect.DeepEqual(pathsOf(got), []string{"granules/g2.nc"}) {
		t.Errorf("rewritten g2 at -61: %v", pathsOf(got))
	}
	if sum, _ := store.Dataset(ctx, "sst", ""); sum.Files != 4 || sum.Kind != index.TimeSeries {
		t.Errorf("sst after adding a day: %+v", sum)
	}
	// Nothing changed: nothing opened.
	if rep := indexRun(t, "--data", data, "--state", state, "--sha256=false"); rep.Inspected() != 0 || rep.Skipped != 12 {
		t.Errorf("third index: %+v", rep)
	}
}

func pathsOf(files []index.File) []string {
	out := []string{}
	for _, f := range files {
		out = append(out, f.Path)
	}
	return out
}

func TestIndexFlags(t *testing.T) {
	code, stdout, _ := runCLI("index", "--help")
	if code != 0 {
		t.Fatalf("help: %d", code)
	}
	for _, flag := range []string{"-data", "-state", "-workers", "-sha256", "-timeout", "-dataset", "-force", "-json", "-quiet"} {
		if !strings.Contains(stdout, flag) {
			t.Errorf("--help does not document %s", flag)
		}
	}
	if code, _, stderr := runCLI("index"); code != 2 || !strings.Contains(stderr, "--data is required") {
		t.Errorf("no --data: %d %s", code, stderr)
	}
	if code, _, _ := runCLI("index", "--data", t.TempDir(), "--workers", "0"); code != 2 {
		t.Errorf("--workers 0: %d", code)
	}
	code, _, stderr := runCLI("index", "--data", filepath.Join(t.TempDir(), "none"), "--state", t.TempDir(), "--quiet")
	if code != 1 || !strings.Contains(stderr, "data directory") {
		t.Errorf("missing data directory: %d %s", code, stderr)
	}
}

// The inspector over the C readers, as `subsetd inspect --stdin` runs it.
func TestInspectStdin(t *testing.T) {
	in := smallFile(t)
	var out strings.Builder
	paths := in + "\n" + filepath.Join(t.TempDir(), "none.nc") + "\n\n"
	if err := worker.Inspect(strings.NewReader(paths), &out, readersEnv(zerolog.Nop()), true); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines:\n%s", len(lines), out.String())
	}
	var ok, bad index.Record
	json.Unmarshal([]byte(lines[0]), &ok)
	json.Unmarshal([]byte(lines[1]), &bad)
	if ok.Path != in || ok.Description == nil || ok.Geo == nil || len(ok.Sha256) != 64 || ok.Error != "" {
		t.Errorf("record %s", lines[0])
	}
	// 22.5..337.5 by 45 in 0..360: as tight in -180..180, which is kept.
	if !reflect.DeepEqual(ok.Geo.BBox, []float64{-157.5, -30, 157.5, 30}) {
		t.Errorf("bbox %v", ok.Geo.BBox)
	}
	if bad.Error == "" || bad.Description != nil {
		t.Errorf("missing file: %s", lines[1])
	}
}
