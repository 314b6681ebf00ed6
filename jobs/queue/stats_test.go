package queue

import (
	"context"
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/jobs"
)

// fakeMean is the unweighted mean of the fake grid's (float) values over the cells
// of a box (centres inside, edges included) at a step: computed from its
// formula, not by the engine.
func fakeMean(b []float64, step int) (float64, int) {
	sum, n := 0.0, 0
	for i := range 41 {
		lat := -5 + 0.25*float64(i)
		for j := range 81 {
			lon := -10 + 0.25*float64(j)
			if lat >= b[1] && lat <= b[3] && lon >= b[0] && lon <= b[2] {
				sum += float64(float32(273.15 + lat + lon/100 + float64(step)/10)) // stored as float
				n++
			}
		}
	}
	return sum / float64(n), n
}

func TestStatisticsJob(t *testing.T) {
	e := start(t, t.TempDir(), setupData(t), Config{RegionsPerTask: 1})
	ctx := context.Background()
	boxes := map[string][]float64{"a": {0, 0, 1, 1}, "b": {-3, -2, 2.6, 0.3}, "empty1": {100, 50, 101, 51}}
	sp := boxSpec("ts", &engine.TimeRange{Start: "2020-01-02", End: "2020-01-03"}, boxes, "b", "empty1", "a")
	sp.Statistics = &engine.Statistics{Ops: []string{engine.OpMean, engine.OpCount}, Weights: engine.WeightsNone}
	j, _, err := e.svc.Submit(ctx, sp, jobs.Submitter{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Stats(ctx, j.ID); errs.CodeOf(err) != errs.Conflict && !j.Status.Final() {
		t.Errorf("statistics of a running job: %v", err)
	}
	j = e.wait(t, j.ID, final)
	if j.Status != jobs.Successful || j.Stats != jobs.StatsDone || len(j.Files) != 2 || j.Files[0].Name != "stats.nc" || j.Files[1].Name != "stats.csv" {
		t.Fatalf("job %s %q stats %q files %+v", j.Status, j.Message, j.Stats, j.Files)
	}
	if j.Tasks < 2 {
		t.Fatalf("%d tasks: the test wants the statistics of several", j.Tasks)
	}
	for _, name := range []string{"stats.nc", "stats.csv", "a.nc"} {
		fh, _, err := e.svc.File(ctx, j.ID, name)
		if err != nil {
			t.Errorf("file %s: %v", name, err)
			continue
		}
		fh.Close()
	}
	m := jobs.BuildManifest(j)
	if last := m.Files[len(m.Files)-1]; last.Name != "stats.csv" || last.Region != "" || last.Sha256 != j.Files[1].Sha256 {
		t.Errorf("manifest: %+v", m.Files)
	}
	tab, err := e.svc.Stats(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	// Region order, each step of the two days, every op.
	rows := tab.Rows()
	if len(rows) != 3*4*2 || rows[0].Region != "b" || rows[8].Region != "empty1" || rows[16].Region != "a" {
		t.Fatalf("%d rows: %+v", len(rows), rows)
	}
	if got := strings.Join(tab.Time.ISO, " "); got != "2020-01-02T00:00:00Z 2020-01-02T12:00:00Z 2020-01-03T00:00:00Z 2020-01-03T12:00:00Z" {
		t.Errorf("time axis %s", got)
	}
	for _, r := range rows {
		if r.Region == "empty1" {
			if r.Count != 0 || r.Op == engine.OpMean && r.Value != nil {
				t.Errorf("empty region: %+v", r)
			}
			continue
		}
		k := 0
		for i, iso := range tab.Time.ISO {
			if iso == r.Time {
				k = i
			}
		}
		mean, n := fakeMean(boxes[r.Region], k%2)
		if r.Count != int64(n) || r.Op == engine.OpMean && math.Abs(*r.Value-mean) > 1e-9*mean {
			t.Errorf("%s %s %s: %v n=%d, want %v n=%d", r.Region, r.Time, r.Op, *r.Value, r.Count, mean, n)
		}
	}
	// stats.csv holds the same rows.
	f, _, err := e.svc.File(ctx, j.ID, "stats.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) != len(rows)+1 {
		t.Fatalf("stats.csv: %v, %d records", err, len(recs))
	}
	for i, r := range rows {
		if rec := recs[i+1]; rec[0] != r.Region || rec[1] != r.Time || rec[5] != strconv.FormatInt(r.Count, 10) {
			t.Errorf("stats.csv row %d: %v, table %+v", i+1, rec, r)
		}
	}
}

// Statistics only: the regions succeed without files; a job whose regions
// meet no file still gets its (empty) statistics.
func TestStatisticsOnlyAndNoTask(t *testing.T) {
	e := start(t, t.TempDir(), setupData(t), Config{})
	ctx := context.Background()
	sp := spec("sst", "a", "empty1")
	sp.Statistics = &engine.Statistics{Only: true}
	j, _, err := e.svc.Submit(ctx, sp, jobs.Submitter{}, "")
	if err != nil {
		t.Fatal(err)
	}
	j = e.wait(t, j.ID, final)
	if j.Status != jobs.Successful || j.Regions[0].Status != jobs.Successful || len(j.Regions[0].Files) != 0 || len(j.Files) != 2 {
		t.Fatalf("job %s %q regions %+v files %+v", j.Status, j.Message, j.Regions, j.Files)
	}
	sp = boxSpec("sw", nil, map[string][]float64{"far": {100, 0, 101, 1}}, "far")
	sp.Statistics = &engine.Statistics{Ops: []string{engine.OpMean}}
	j, _, err = e.svc.Submit(ctx, sp, jobs.Submitter{}, "")
	if err != nil || j.Tasks != 0 {
		t.Fatalf("%+v %v", j, err)
	}
	j = e.wait(t, j.ID, final)
	tab, err := e.svc.Stats(ctx, j.ID)
	if err != nil || j.Status != jobs.Successful || len(j.Files) != 2 {
		t.Fatalf("job %s %q files %+v: %v", j.Status, j.Message, j.Files, err)
	}
	if rows := tab.Rows(); len(rows) != 0 && (rows[0].Count != 0 || rows[0].Value != nil) {
		t.Errorf("rows of a region meeting no file: %+v", rows)
	}
}

// A server that stopped while writing a job's statistics writes them at
// its next start: ResetOrphans puts them back to pending, maintenance
// writes them.
func TestStatisticsAfterRestart(t *testing.T) {
	state, data := t.TempDir(), setupData(t)
	e := start(t, state, data, Config{})
	ctx := context.Background()
	sp := spec("sst", "a")
	sp.Statistics = &engine.Statistics{}
	j, _, err := e.svc.Submit(ctx, sp, jobs.Submitter{}, "")
	if err != nil {
		t.Fatal(err)
	}
	j = e.wait(t, j.ID, final)
	// As a crash in the middle of writing them would have left the job.
	if _, err := e.db.ExecContext(ctx, `UPDATE subsetd_job SET status = 'running', finished_ms = 0, stats = 'assembling', files = '[]' WHERE id = ?`, j.ID); err != nil {
		t.Fatal(err)
	}
	os.Remove(e.svc.statsTable(j.ID))
	e.stop()
	e = start(t, state, data, Config{Maintenance: 50 * time.Millisecond})
	j = e.wait(t, j.ID, final)
	if j.Status != jobs.Successful || j.Stats != jobs.StatsDone || len(j.Files) != 2 {
		t.Fatalf("after restart: %s %q %q %+v", j.Status, j.Message, j.Stats, j.Files)
	}
	if _, err := e.svc.Stats(ctx, j.ID); err != nil {
		t.Fatal(err)
	}
}
