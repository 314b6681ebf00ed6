package oracle

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/testutil/fixtures"
	"github.com/subsetd/subsetd/ncmodel/nccompare"
	"github.com/subsetd/subsetd/regions"
)

// dailyFile writes one day of a time series: two steps (00 and 12 h) in
// units relative to that day, as daily products often are.
func dailyFile(t *testing.T, dir string, day int, hours ...int) string {
	t.Helper()
	var times, sst []float64
	var names []string
	for k, h := range hours {
		times = append(times, float64(h))
		names = append(names, fmt.Sprint(h))
		for i := 0; i < 12; i++ {
			sst = append(sst, float64(day*1000+k*100+i))
		}
	}
	built := fixtures.Variant(t, "series_hourly", fixtures.Values{
		Attrs: map[string]any{"time:units": fmt.Sprintf("hours since 2020-01-%02d 00:00:00", day), ":title": fmt.Sprintf("day %d", day)},
		Data:  map[string][]float64{"time": times, "sst": sst},
	})
	return fixtures.CopyTo(t, built, filepath.Join(dir, fmt.Sprintf("day%02d-%s.nc", day, strings.Join(names, "-"))))
}

func concatRun(t *testing.T, files []string, req *engine.Request) *engine.Result {
	t.Helper()
	res, err := engine.Run(t.Context(), files, req, engine.Options{OutDir: t.TempDir(), Open: openSource, Create: openSink, Concat: true})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestConcatEqualsNcrcat(t *testing.T) {
	needNCO(t)
	dir := t.TempDir()
	d1, d2, d3 := dailyFile(t, dir, 1, 0, 12), dailyFile(t, dir, 2, 0, 12), dailyFile(t, dir, 3, 0, 12)
	joined := filepath.Join(dir, "ncrcat.nc")
	if b, err := exec.Command("ncrcat", "-O", d1, d2, d3, joined).CombinedOutput(); err != nil {
		t.Fatalf("ncrcat: %v %s", err, b)
	}
	req := &engine.Request{Regions: []regions.Fixed{{Name: "r", BBox: []float64{10.5, 0.5, 13, 2}}},
		Time: &engine.TimeRange{Start: "2020-01-01T12:00", End: "2020-01-03T00:00"}}
	// Given out of order: the files are put in time order.
	res := concatRun(t, []string{d3, d1, d2}, req)
	r := res.Regions[0]
	if r.Status != engine.StatusSuccessful || len(r.Files) != 1 || r.Files[0].Name != "r.nc" {
		t.Fatalf("%+v", r)
	}
	want := ncks(t, joined, "-d", "lat,1,2", "-d", "lon,1,3", "-d", "time,1,4")
	// ncrcat adds cell_methods = "time: mean" of its own; the rest is equal.
	compare(t, r.Files[0].Path, want, nccompare.Options{IgnoreVarAttrs: map[string]bool{"cell_methods": true}})
	if got := r.Files[0].Shape["time"]; got != 4 {
		t.Errorf("time steps %d, want 4", got)
	}
	// The files of those steps, in ncrcat's (time) order, named alike in
	// the file and in the result.
	wantSrc := strings.Join([]string{filepath.Base(d1), filepath.Base(d2), filepath.Base(d3)}, ", ")
	a, _ := openT(t, r.Files[0].Path).File().Root.Attr("subsetd_source")
	if a.Text() != wantSrc || r.Files[0].Source != wantSrc {
		t.Errorf("subsetd_source %q, source %q, want %q", a.Text(), r.Files[0].Source, wantSrc)
	}
}

func TestConcatOverlapAndGap(t *testing.T) {
	dir := t.TempDir()
	// Day 1 at 00 and 12 h, a file for day 1 at 12 h and day 2 at 00 h
	// (overlapping the first), then day 4: day 3 is missing.
	a := dailyFile(t, dir, 1, 0, 12)
	b := dailyFile(t, dir, 1, 12, 24)
	c := dailyFile(t, dir, 4, 0, 12)
	res := concatRun(t, []string{a, b, c}, bboxReq("r", 0, -90, 360, 90))
	r := res.Regions[0]
	if r.Status != engine.StatusSuccessful {
		t.Fatalf("%+v", r)
	}
	if got := r.Files[0].Shape["time"]; got != 5 {
		t.Errorf("time steps %d, want 5 (00, 12, 24 of day 1-2, then day 4 00 and 12)", got)
	}
	notes := strings.Join(res.Notes, "\n")
	if !strings.Contains(notes, "1 time step(s) already in an earlier file") || !strings.Contains(notes, "gap in time between 2020-01-02T00:00:00Z and 2020-01-04T00:00:00Z (3 missing step(s))") {
		t.Errorf("notes:\n%s", notes)
	}
	out, _ := exec.Command("ncdump", "-v", "time", r.Files[0].Path).Output()
	if !strings.Contains(string(out), "time = 0, 12, 24, 72, 84 ;") {
		t.Errorf("times:\n%s", out)
	}
}

func TestConcatRefusesDifferentGrids(t *testing.T) {
	dir := t.TempDir()
	a := dailyFile(t, dir, 1, 0, 12)
	other := fixture(t, "lon180")
	_, err := engine.Run(t.Context(), []string{a, other}, bboxReq("r", 0, -90, 360, 90), engine.Options{OutDir: t.TempDir(), Open: openSource, Create: openSink, Concat: true})
	if err == nil || !strings.Contains(err.Error(), "do not") {
		t.Errorf("different grids joined: %v", err)
	}
}
