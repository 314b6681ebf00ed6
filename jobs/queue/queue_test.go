package queue

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/rs/zerolog"
	_ "modernc.org/sqlite"

	"github.com/subsetd/subsetd/catalog"
	"github.com/subsetd/subsetd/catalog/index"
	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/internal/testutil/fakeworker"
	"github.com/subsetd/subsetd/internal/testutil/pgtest"
	"github.com/subsetd/subsetd/jobs"
	"github.com/subsetd/subsetd/jobs/pool"
	"github.com/subsetd/subsetd/regions"
	"github.com/subsetd/subsetd/worker"
)

func TestMain(m *testing.M) {
	if os.Getenv(fakeworker.EnvVar) == "1" {
		fakeworker.Main()
	}
	os.Exit(pgtest.Main(m))
}

type env struct {
	state, data string
	db          *sql.DB
	store       *jobs.Store
	svc         *Service
	pool        *pool.Pool
}

// setupData writes the fake worker's files: grids of lat -5..5, lon
// -10..10, with two steps of one day where the index (indexData) says so,
// and files that are not NetCDF.
func setupData(t *testing.T) string {
	data := t.TempDir()
	days := map[string]int{"sst.nc": 0, "bad/good.nc": 1, "ts/d1.nc": 1, "ts/d2.nc.gz": 2, "ts/d3.nc": 3, "sw/g1.nc": 1, "sw/g2.nc.gz": 2, "sw/g3.nc": 3}
	for f, day := range days {
		g := fakeworker.Grid{}
		if day > 0 {
			g = fakeworker.Grid{Start: time.Date(2020, 1, day, 0, 0, 0, 0, time.UTC), Steps: 2}
		}
		if err := fakeworker.WriteGrid(filepath.Join(data, f), g); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(data, "bad", "corrupt.nc"), []byte("garbage"), 0o644)
	os.WriteFile(filepath.Join(data, "sw", "broken.nc"), []byte("garbage"), 0o644)
	return data
}

// entry is the index entry of a fake file: a lat/lon grid of box bbox,
// one day of two steps from day (none when day is 0).
func entry(dataset, path string, bbox []float64, nlat, day int) index.Entry {
	d := &engine.Description{Format: "netcdf4",
		Dimensions: []engine.DimInfo{{Name: "lat", Length: nlat, Axis: "lat"}, {Name: "lon", Length: 4, Axis: "lon"}},
		Grids:      []engine.GridInfo{{Kind: "rectilinear", Lat: "lat", Lon: "lon"}},
		Variables: []engine.VarInfo{{Name: "lat", Type: "float", Dimensions: []string{"lat"}}, {Name: "lon", Type: "float", Dimensions: []string{"lon"}},
			{Name: "sst", Type: "float", Dimensions: []string{"lat", "lon"}}}}
	if day > 0 {
		t0 := time.Date(2020, 1, day, 0, 0, 0, 0, time.UTC)
		d.Dimensions = append(d.Dimensions, engine.DimInfo{Name: "time", Length: 2, Axis: "time"})
		d.Axes = []engine.AxisInfo{{Axis: "time", Variable: "time", Dimension: "time", Length: 2}}
		d.Time = &engine.TimeCoverage{Start: t0.Format(time.RFC3339), End: t0.Add(12 * time.Hour).Format(time.RFC3339), Steps: 2, Units: "hours since 2020-01-01", Calendar: "standard"}
	}
	return index.Entry{Dataset: dataset, Path: path, Size: 10, ModTime: time.Unix(1700000000, 0), Record: index.Record{Path: path, Description: d, Geo: &index.Geo{BBox: bbox}}}
}

// indexData fills the index as a scan of setupData's folder would, except
// that bad/corrupt.nc was fine when it was indexed (it broke since).
func indexData(t *testing.T, idx *index.Store) {
	box := []float64{0, 0, 40, 1}
	es := []index.Entry{
		entry("sst", "sst.nc", box, 4, 0),
		entry("bad", "bad/good.nc", box, 4, 1),
		entry("bad", "bad/corrupt.nc", box, 4, 2),
		entry("ts", "ts/d1.nc", box, 4, 1),
		entry("ts", "ts/d2.nc.gz", box, 4, 2),
		entry("ts", "ts/d3.nc", box, 4, 3),
		entry("sw", "sw/g1.nc", []float64{0, 0, 2, 1}, 4, 1),
		entry("sw", "sw/g2.nc.gz", []float64{1, 0, 3, 1}, 5, 2),
		entry("sw", "sw/g3.nc", []float64{30, 0, 40, 1}, 6, 3),
		{Dataset: "sw", Path: "sw/broken.nc", Size: 12, ModTime: time.Unix(1700000000, 0), Record: index.Record{Error: "NetCDF: HDF error"}},
	}
	if err := idx.Put(context.Background(), es); err != nil {
		t.Fatal(err)
	}
}

// start runs a service on state and data; extra are environment variables
// of the worker processes.
func start(t *testing.T, state, data string, cfg Config, extra ...string) *env {
	t.Helper()
	ctx := context.Background()
	var (
		db    *sql.DB
		store *jobs.Store
		mk    func(*jobs.Store, *catalog.Catalog, *pool.Pool, Config, zerolog.Logger) (*Service, error)
	)
	if onPostgres {
		db, store, mk = postgresBackend(t, state)
	} else {
		var err error
		db, err = sql.Open("sqlite", filepath.Join(state, "subsetd.db")+"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(5000)")
		if err != nil {
			t.Fatal(err)
		}
		db.SetMaxOpenConns(1)
		driver := riversqlite.New(db)
		mig, err := rivermigrate.New(driver, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mig.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
			t.Fatal(err)
		}
		store = jobs.NewStore(db)
		if err := store.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		mk = func(store *jobs.Store, cat *catalog.Catalog, p *pool.Pool, cfg Config, log zerolog.Logger) (*Service, error) {
			return New(driver, store, cat, p, cfg, log, nil)
		}
	}
	penv := append(os.Environ(), fakeworker.EnvVar+"=1", fakeworker.CrashDirEnv+"="+state)
	penv = append(penv, extra...)
	p := pool.New([]string{os.Args[0]}, penv, 2)
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)
	idx, err := index.Open(ctx, state)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	indexData(t, idx)
	cat, err := catalog.New(data, catalog.Options{Index: idx, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	cfg.StateDir = state
	if cfg.Workers == 0 {
		cfg.Workers = 2
	}
	cfg.RetryDelay = 10 * time.Millisecond
	svc, err := mk(store, cat, p, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e := &env{state: state, data: data, db: db, store: store, svc: svc, pool: p}
	t.Cleanup(func() { e.stop() })
	return e
}

func (e *env) stop() {
	if e.svc != nil {
		e.svc.Stop(time.Second)
		e.db.Close()
		e.svc = nil
	}
}

// spec is a job of regions side by side on the fake grid; those named
// empty* lie outside it.
func spec(dataset string, names ...string) *jobs.Spec {
	s := &jobs.Spec{Dataset: dataset}
	for i, n := range names {
		b := []float64{float64(i), 0, float64(i) + 1, 1}
		if strings.HasPrefix(n, "empty") {
			b = []float64{100, 50, 101, 51}
		}
		s.Regions = append(s.Regions, regions.Fixed{Name: n, BBox: b})
	}
	return s
}

// waitManifest waits for job id's manifest.json, written after the commit
// of its final status (and after the writer's sweep of unlisted files).
func (e *env) waitManifest(t *testing.T, id string) {
	t.Helper()
	for i := 0; ; i++ {
		_, err := os.Stat(filepath.Join(e.state, "jobs", id, "manifest.json"))
		if err == nil {
			return
		}
		if i == 200 {
			t.Fatalf("manifest: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (e *env) wait(t *testing.T, id string, ok func(*jobs.Job) bool) *jobs.Job {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		j, err := e.store.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if ok(j) {
			return j
		}
		time.Sleep(20 * time.Millisecond)
	}
	j, _ := e.store.Get(context.Background(), id)
	t.Fatalf("job %s never reached the expected state: %+v", id, j)
	return nil
}

func final(j *jobs.Job) bool { return j.Status.Final() }

func TestJobRunsToCompletion(t *testing.T) {
	e := start(t, t.TempDir(), setupData(t), Config{RegionsPerTask: 2})
	ctx := context.Background()
	j, created, err := e.svc.Submit(ctx, spec("sst", "a", "empty1", "fail1"), jobs.Submitter{}, "")
	// A worker may have started a task before Submit read the job back.
	if err != nil || !created || (j.Status != jobs.Accepted && j.Status != jobs.Running) || j.Tasks != 2 {
		t.Fatalf("submit: %+v %v %v", j, created, err)
	}
	j = e.wait(t, j.ID, final)
	if j.Status != jobs.Successful || j.Message != "1 of 3 regions failed" {
		t.Fatalf("job %s %q", j.Status, j.Message)
	}
	a := j.Regions[0]
	if a.Status != jobs.Successful || len(a.Files) != 1 || a.Files[0].Name != "a.nc" {
		t.Fatalf("region a: %+v", a)
	}
	if j.Regions[1].Status != jobs.Empty || j.Regions[2].Status != jobs.Failed || j.Regions[2].Message == "" {
		t.Fatalf("regions: %+v", j.Regions)
	}
	fh, f, err := e.svc.File(ctx, j.ID, "a.nc")
	if err != nil {
		t.Fatal(err)
	}
	fh.Close()
	p := fh.Name()
	data, _ := os.ReadFile(p)
	sum := sha256.Sum256(data)
	if hex.EncodeToString(sum[:]) != f.Sha256 || int64(len(data)) != f.Size {
		t.Fatalf("file %s does not match its record %+v", p, f)
	}
	// What an archive and a file object need: the CRC-32, the shape and
	// the variables, as the written file has them.
	if f.Crc32 != crc32.ChecksumIEEE(data) || len(f.Shape) == 0 || len(f.Variables) == 0 {
		t.Fatalf("file record %+v", f)
	}
	for _, v := range f.Variables {
		if len(v.Shape) != len(v.Dimensions) || v.Dtype == "" {
			t.Fatalf("variable %+v", v)
		}
		for k, d := range v.Dimensions {
			if f.Shape[d] != v.Shape[k] {
				t.Fatalf("variable %s: %s is %d, the file's shape says %d", v.Name, d, v.Shape[k], f.Shape[d])
			}
		}
	}
	if !strings.HasPrefix(p, filepath.Join(e.state, "jobs", j.ID, "files")) {
		t.Fatalf("file outside the job directory: %s", p)
	}
	for _, bad := range []string{"../a.nc", "/etc/passwd", "b.nc", ".tmp/x", "", "files/../a.nc", "a.nc/"} {
		if fh, _, err := e.svc.File(ctx, j.ID, bad); errs.CodeOf(err) != errs.NotFound {
			fh.Close()
			t.Errorf("File(%q) = %v, want not found", bad, err)
		}
	}
	// The manifest file follows the commit of the final status.
	e.waitManifest(t, j.ID)
	if ents, _ := os.ReadDir(filepath.Join(e.state, "jobs", j.ID, tmpDir)); len(ents) != 0 {
		t.Fatalf("temporary files left: %v", ents)
	}
	// A manifest lost (a disk that was full when the job ended) is
	// written again by maintenance, and a file the job does not list is
	// taken away from its final path.
	manifest := filepath.Join(e.state, "jobs", j.ID, "manifest.json")
	want, _ := os.ReadFile(manifest)
	os.Remove(manifest)
	stray := filepath.Join(e.state, "jobs", j.ID, "files", "stray.nc")
	os.WriteFile(stray, []byte("x"), 0o644)
	if err := e.svc.MaintainAt(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(manifest); err != nil || string(got) != string(want) {
		t.Errorf("manifest after maintenance: %v\n%s\nwant\n%s", err, got, want)
	}
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Errorf("an unlisted file stays at its final path: %v", err)
	}
}

// On SQLite River runs without its polling listener (wake.go): a submit
// wakes it with a job inserted outside the transaction, and no insert
// leaves a notification row for a poller.
func TestSQLiteWakesWithoutListener(t *testing.T) {
	if onPostgres {
		t.Skip("SQLite only")
	}
	e := start(t, t.TempDir(), setupData(t), Config{})
	j, _, err := e.svc.Submit(context.Background(), spec("sst", "a"), jobs.Submitter{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if j = e.wait(t, j.ID, final); j.Status != jobs.Successful {
		t.Fatalf("job %s %q", j.Status, j.Message)
	}
	var wakes, notes int
	if err := e.db.QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'subsetd_wake'`).Scan(&wakes); err != nil {
		t.Fatal(err)
	}
	if err := e.db.QueryRow(`SELECT count(*) FROM river_notification`).Scan(&notes); err != nil {
		t.Fatal(err)
	}
	if wakes != 1 || notes != 0 {
		t.Fatalf("%d wake jobs (want 1), %d notification rows (want 0)", wakes, notes)
	}
}

func TestSubmitValidates(t *testing.T) {
	e := start(t, t.TempDir(), setupData(t), Config{QueueLimit: 2}, "SUBSETD_TEST_TASK_DELAY=5s")
	ctx := context.Background()
	cases := []struct {
		spec        *jobs.Spec
		code        errs.Code
		field       string
		messagePart string
	}{
		{spec("", "a"), errs.Invalid, "dataset", "needed"},
		{spec("nope", "a"), errs.Invalid, "dataset", "unknown dataset"},
		{spec("../sst", "a"), errs.Invalid, "dataset", "unknown dataset"},
		{spec("sst"), errs.Invalid, "regions", "at least one"},
		{spec("sst", "a", "A"), errs.Invalid, "regions[1].name", "twice"},
		{&jobs.Spec{Dataset: "sst", Regions: []regions.Fixed{{Name: "a", BBox: []float64{0, 10, 1, 5}}}}, errs.Invalid, "regions[0].bbox", "south"},
		{&jobs.Spec{Dataset: "sst", Regions: spec("", "a").Regions, Variables: []string{"sst", "chl"}}, errs.Invalid, "variables[1]", "no variable"},
		// What a worker would refuse, refused before: from the index.
		{&jobs.Spec{Dataset: "sst", Regions: spec("", "a").Regions, Stride: map[string]int{"time": 2, "depth": 2}}, errs.Invalid, "stride.depth", `stride.depth: dataset "sst" has no dimension "depth": use time, lat, lon, vertical or one of its dimensions (`},
		{&jobs.Spec{Dataset: "sst", Regions: spec("", "a").Regions, Vertical: &engine.VerticalRange{Max: new(float64)}}, errs.Invalid, "vertical", `vertical: dataset "sst" has no vertical axis: leave out the vertical range`},
	}
	for _, c := range cases {
		_, _, err := e.svc.Submit(ctx, c.spec, jobs.Submitter{}, "")
		if errs.CodeOf(err) != c.code || errs.FieldOf(err) != c.field || !strings.Contains(err.Error(), c.messagePart) {
			t.Errorf("%+v: got %v (%s, %q)", c.spec, err, errs.CodeOf(err), errs.FieldOf(err))
		}
	}
	// Idempotency: same key and request, same job; another request, conflict.
	j1, created, err := e.svc.Submit(ctx, spec("sst", "a"), jobs.Submitter{}, "k1")
	if err != nil || !created {
		t.Fatal(err)
	}
	j2, created, err := e.svc.Submit(ctx, spec("sst", "a"), jobs.Submitter{}, "k1")
	if err != nil || created || j2.ID != j1.ID {
		t.Fatalf("replay: %v %v %v", j2, created, err)
	}
	if _, _, err := e.svc.Submit(ctx, spec("sst", "b"), jobs.Submitter{}, "k1"); errs.CodeOf(err) != errs.Conflict || errs.FieldOf(err) != "Idempotency-Key" {
		t.Fatalf("reuse: %v", err)
	}
	// Queue limit 2.
	if _, _, err := e.svc.Submit(ctx, spec("sst", "b"), jobs.Submitter{}, ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.Submit(ctx, spec("sst", "c"), jobs.Submitter{}, ""); errs.CodeOf(err) != errs.Busy {
		t.Fatalf("queue full: %v", err)
	}
	e.svc.Drain()
	if _, _, err := e.svc.Submit(ctx, spec("sst", "d"), jobs.Submitter{}, ""); errs.CodeOf(err) != errs.Unavailable {
		t.Fatalf("draining: %v", err)
	}
}

func TestCancelKillsWorkers(t *testing.T) {
	e := start(t, t.TempDir(), setupData(t), Config{RegionsPerTask: 2}, "SUBSETD_TEST_TASK_DELAY=30s")
	ctx := context.Background()
	j, _, err := e.svc.Submit(ctx, spec("sst", "a", "b", "c", "d"), jobs.Submitter{}, "")
	if err != nil {
		t.Fatal(err)
	}
	e.wait(t, j.ID, func(j *jobs.Job) bool { return j.Status == jobs.Running && e.pool.Busy() == 2 })
	t0 := time.Now()
	j, err = e.svc.Cancel(ctx, j.ID)
	if err != nil || j.Status != jobs.Dismissed {
		t.Fatalf("cancel: %+v %v", j, err)
	}
	for e.pool.Busy() > 0 {
		if time.Since(t0) > 10*time.Second {
			t.Fatal("workers still running after cancel")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, r := range j.Regions {
		if r.Status != jobs.Dismissed {
			t.Errorf("region %+v", r)
		}
	}
	if _, err := e.svc.Cancel(ctx, j.ID); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("second cancel: %v", err)
	}
	if _, err := e.svc.Cancel(ctx, "nope"); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("unknown: %v", err)
	}
}

func TestCrashIsRetriedCorruptIsNot(t *testing.T) {
	e := start(t, t.TempDir(), setupData(t), Config{Workers: 1})
	ctx := context.Background()
	j, _, _ := e.svc.Submit(ctx, spec("sst", "crash1"), jobs.Submitter{}, "")
	j = e.wait(t, j.ID, final)
	ts, _ := e.store.Tasks(ctx, j.ID)
	if j.Status != jobs.Successful || ts[0].Attempts != 2 {
		t.Fatalf("crash: %s %q attempts %d", j.Status, j.Message, ts[0].Attempts)
	}
	j, _, err := e.svc.Submit(ctx, spec("bad", "a", "b"), jobs.Submitter{}, "")
	if err != nil {
		t.Fatal(err)
	}
	j = e.wait(t, j.ID, final)
	ts, _ = e.store.Tasks(ctx, j.ID)
	if j.Status != jobs.Failed || !strings.Contains(j.Regions[0].Message, "cannot read corrupt.nc: not a NetCDF or HDF5 file") || ts[0].Attempts != 1 {
		t.Fatalf("corrupt: %s %+v %+v", j.Status, j.Regions, ts)
	}
	if strings.Contains(j.Regions[0].Message, e.data) {
		t.Fatalf("message shows the server's paths: %q", j.Regions[0].Message)
	}
}

func TestDeadline(t *testing.T) {
	e := start(t, t.TempDir(), setupData(t), Config{JobDeadline: 500 * time.Millisecond}, "SUBSETD_TEST_TASK_DELAY=30s")
	j, _, _ := e.svc.Submit(context.Background(), spec("sst", "a"), jobs.Submitter{}, "")
	j = e.wait(t, j.ID, final)
	if j.Status != jobs.Failed || !strings.Contains(j.Message, "deadline") || e.pool.Busy() != 0 {
		t.Fatalf("%s %q busy %d", j.Status, j.Message, e.pool.Busy())
	}
}

func TestTaskTimeout(t *testing.T) {
	e := start(t, t.TempDir(), setupData(t), Config{TaskTimeout: 300 * time.Millisecond}, "SUBSETD_TEST_TASK_DELAY=30s")
	j, _, _ := e.svc.Submit(context.Background(), spec("sst", "a"), jobs.Submitter{}, "")
	j = e.wait(t, j.ID, final)
	if j.Status != jobs.Failed || !strings.Contains(j.Regions[0].Message, "timed out") {
		t.Fatalf("%s %+v", j.Status, j.Regions)
	}
}

func TestRestartFinishesJob(t *testing.T) {
	state, data := t.TempDir(), setupData(t)
	e := start(t, state, data, Config{RegionsPerTask: 1}, "SUBSETD_TEST_TASK_DELAY=30s")
	j, _, _ := e.svc.Submit(context.Background(), spec("sst", "a", "b"), jobs.Submitter{}, "")
	e.wait(t, j.ID, func(j *jobs.Job) bool { return j.Status == jobs.Running && e.pool.Busy() == 2 })
	// A stale temporary file, as a killed server leaves.
	os.WriteFile(filepath.Join(state, "jobs", j.ID, "manifest.json.tmp"), nil, 0o644)
	e.stop()
	e2 := start(t, state, data, Config{})
	got := e2.wait(t, j.ID, final)
	if got.Status != jobs.Successful || len(got.Regions[1].Files) != 1 {
		t.Fatalf("after restart: %+v", got)
	}
	if _, err := os.Stat(filepath.Join(state, "jobs", j.ID, "manifest.json.tmp")); !os.IsNotExist(err) {
		t.Fatal("stale temporary file kept")
	}
}

func TestRetention(t *testing.T) {
	e := start(t, t.TempDir(), setupData(t), Config{Retention: time.Hour})
	ctx := context.Background()
	j, _, _ := e.svc.Submit(ctx, spec("sst", "a"), jobs.Submitter{}, "")
	e.wait(t, j.ID, final)
	if err := e.svc.Maintain(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Get(ctx, j.ID); err != nil {
		t.Fatal("deleted too early")
	}
	if err := e.svc.MaintainAt(ctx, time.Now().Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Get(ctx, j.ID); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("expired job still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(e.state, "jobs", j.ID)); !os.IsNotExist(err) {
		t.Fatal(fmt.Sprint("files of an expired job kept: ", err))
	}
}

func boxSpec(dataset string, tr *engine.TimeRange, boxes map[string][]float64, order ...string) *jobs.Spec {
	s := &jobs.Spec{Dataset: dataset, Time: tr}
	for _, n := range order {
		s.Regions = append(s.Regions, regions.Fixed{Name: n, BBox: boxes[n]})
	}
	return s
}

// A time series: the tasks get the files of the time range, joined along
// time; one output per region.
func TestTimeSeriesJob(t *testing.T) {
	e := start(t, t.TempDir(), setupData(t), Config{})
	ctx := context.Background()
	sp := boxSpec("ts", &engine.TimeRange{Start: "2020-01-02", End: "2020-01-03"}, map[string][]float64{"a": {0, 0, 1, 1}, "b": {5, 0, 6, 1}}, "a", "b")
	j, _, err := e.svc.Submit(ctx, sp, jobs.Submitter{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if j.Kind != catalog.KindTimeSeries {
		t.Fatalf("kind %q", j.Kind)
	}
	// Both regions in one task: its files are read once.
	ts, _ := e.store.Tasks(ctx, j.ID)
	if len(ts) != 1 {
		t.Fatalf("%d tasks for 2 regions of a time series", len(ts))
	}
	for _, task := range ts {
		if !task.Concat || strings.Join(task.Files, " ") != "ts/d2.nc.gz ts/d3.nc" || task.RegionFiles != nil {
			t.Fatalf("task %+v", task)
		}
	}
	j = e.wait(t, j.ID, final)
	if j.Status != jobs.Successful || j.FilesOpened != 2 {
		t.Fatalf("job %s %q, %d files opened", j.Status, j.Message, j.FilesOpened)
	}
	fh, _, err := e.svc.File(ctx, j.ID, "b.nc")
	if err != nil {
		t.Fatal(err)
	}
	fh.Close()
	src, err := fakeworker.Open(fh.Name())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if a, _ := src.File().Root.Attr("subsetd_source"); a.Text() != "d2.nc.gz, d3.nc" || src.File().Root.Dim("time").Len != 4 {
		t.Fatalf("b.nc made of %q, %d steps", a.Text(), src.File().Root.Dim("time").Len)
	}
	// Out of the coverage: refused before a job exists.
	sp.Time = &engine.TimeRange{Start: "2021-01-01"}
	if _, _, err := e.svc.Submit(ctx, sp, jobs.Submitter{}, ""); errs.FieldOf(err) != "time" {
		t.Fatalf("outside: %v", err)
	}
}

// Granules: each region gets the files it meets, each cut into
// <region>/<granule>.nc; a region meeting none is empty at once; files no
// region meets and unreadable ones are not opened.
func TestGranulesJob(t *testing.T) {
	e := start(t, t.TempDir(), setupData(t), Config{Workers: 1})
	ctx := context.Background()
	sp := boxSpec("sw", nil, map[string][]float64{"west": {0.5, 0, 0.8, 1}, "both": {1.5, 0, 1.8, 1}, "none": {10, 0, 11, 1}}, "west", "both", "none")
	j, _, err := e.svc.Submit(ctx, sp, jobs.Submitter{}, "")
	if err != nil {
		t.Fatal(err)
	}
	if j.Kind != catalog.KindGranules || j.Regions[2].Status != jobs.Empty || !strings.Contains(j.Regions[2].Message, `no file of dataset "sw" meets the region`) {
		t.Fatalf("submitted: %+v", j)
	}
	if len(j.Notes) != 1 || !strings.Contains(j.Notes[0], "sw/broken.nc (NetCDF: HDF error)") {
		t.Fatalf("notes %q", j.Notes)
	}
	ts, _ := e.store.Tasks(ctx, j.ID)
	if len(ts) != 1 || strings.Join(ts[0].Files, " ") != "sw/g1.nc sw/g2.nc.gz" || fmt.Sprint(ts[0].RegionFiles) != "[[0] [0 1]]" || ts[0].Concat {
		t.Fatalf("tasks %+v", ts)
	}
	j = e.wait(t, j.ID, final)
	var got []string
	for _, r := range j.Regions {
		for _, f := range r.Files {
			got = append(got, f.Name)
		}
	}
	if j.Status != jobs.Successful || strings.Join(got, " ") != "west/g1.nc both/g1.nc both/g2.nc" || j.FilesOpened != 2 {
		t.Fatalf("job %s %q files %v opened %d", j.Status, j.Message, got, j.FilesOpened)
	}
	if fh, _, err := e.svc.File(ctx, j.ID, "both/g2.nc"); err != nil {
		t.Fatal(err)
	} else {
		fh.Close()
	}
	e.waitManifest(t, j.ID) // the manifest's writer is done with the folder
	// A directory of the job replaced by a symbolic link to the same
	// files elsewhere in the state directory: the download resolves
	// beneath the state directory at every component, so it is refused.
	files := filepath.Join(e.state, "jobs", j.ID, "files")
	moved := filepath.Join(e.state, "elsewhere")
	if err := os.Rename(filepath.Join(files, "both"), moved); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../elsewhere", filepath.Join(files, "both")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(files, "both", "g2.nc")); err != nil {
		t.Fatalf("the link does not lead to the file: %v", err)
	}
	if fh, _, err := e.svc.File(ctx, j.ID, "both/g2.nc"); errs.CodeOf(err) != errs.NotFound {
		if fh != nil {
			fh.Close()
		}
		t.Fatalf("file through a directory link: %v, want not found", err)
	}
	// Every region outside: the job ends at once.
	j, _, err = e.svc.Submit(ctx, boxSpec("sw", nil, map[string][]float64{"far": {100, 0, 101, 1}}, "far"), jobs.Submitter{}, "")
	if err != nil || j.Status != jobs.Successful || j.Tasks != 0 || j.Message != "no region intersects the data" {
		t.Fatalf("all empty: %+v %v", j, err)
	}
}

func TestPlanTasks(t *testing.T) {
	rs := make([]regions.Fixed, 5)
	for i := range rs {
		rs[i] = regions.Fixed{Name: fmt.Sprint("r", i), BBox: []float64{float64(10 * i), 0, float64(10*i + 1), 1}}
	}
	sel := &catalog.Selection{Kind: catalog.KindGranules, Files: []string{"a", "b", "c", "d"},
		RegionFiles: [][]int{{0}, {0, 1}, {}, {3}, {1, 3}}, Empty: []string{"", "", "nothing here", "", ""}}
	tasks, decided := planTasks("j", rs, sel, 2, 2)
	if decided[2].Status != jobs.Empty || decided[2].Message != "nothing here" || decided[0].Status != "" {
		t.Fatalf("decided %+v", decided)
	}
	seen := map[int]string{}
	for _, task := range tasks {
		if len(task.RegionFiles) != len(task.Regions) {
			t.Fatalf("task %+v", task)
		}
		for k, i := range task.Regions {
			var fs []string
			for _, f := range task.RegionFiles[k] {
				fs = append(fs, task.Files[f])
			}
			seen[i] = strings.Join(fs, ",")
		}
		// Files in the selection's order, each once, only those needed.
		if got := strings.Join(task.Files, ","); got != "a" && got != "a,b" && got != "d" && got != "b,d" && got != "a,b,d" {
			t.Fatalf("task files %q", got)
		}
	}
	if fmt.Sprint(seen) != "map[0:a 1:a,b 3:d 4:b,d]" {
		t.Fatalf("regions' files %v", seen)
	}
	ts := &catalog.Selection{Kind: catalog.KindTimeSeries, Files: []string{"x", "y"}}
	tasks, decided = planTasks("j", rs, ts, 2, 2)
	if decided != nil || len(tasks) != 3 || !tasks[0].Concat || len(tasks[2].Files) != 2 {
		t.Fatalf("time series tasks %+v", tasks)
	}
	// A file or a time series is not spread over the workers: its tasks
	// would read the same chunks. Granules are.
	for _, kind := range []string{catalog.KindFile, catalog.KindTimeSeries} {
		if tasks, _ := planTasks("j", rs, &catalog.Selection{Kind: kind, Files: []string{"x"}}, 4, 8); len(tasks) != 1 {
			t.Errorf("%s: %d tasks for 5 regions, 4 workers, 8 per task", kind, len(tasks))
		}
	}
	sel.RegionFiles[2] = []int{2}
	if tasks, _ := planTasks("j", rs, sel, 4, 8); len(tasks) != 4 {
		t.Errorf("granules: %d tasks for 5 regions, 4 workers, want 4", len(tasks))
	}
}

// A worker's task holds the regions of its task in the task's order, as
// the job stores them (fixed), and the job's options; a job stored with a
// ref that no set has any more cannot be given to a worker.
func TestWorkerTask(t *testing.T) {
	no, five := false, 5
	red, _ := regions.Region{Ref: "africa/red_sea"}.Fix("r")
	job := &jobs.Job{ID: "j1", Spec: jobs.Spec{Dataset: "sst",
		Regions:   []regions.Fixed{{Name: "a", BBox: []float64{0, 0, 1, 1}}, red, {Name: "c", BBox: []float64{2, 0, 3, 1}, Mask: &no}},
		Variables: []string{"sst"}, Time: &engine.TimeRange{Start: "2020-01-02"}, Vertical: &engine.VerticalRange{Max: new(float64)},
		Stride: map[string]int{"lat": 2}, Select: engine.SelectOverlap, Output: engine.Output{Format: engine.FormatNetCDF4, Deflate: &five},
		Statistics: &engine.Statistics{Ops: []string{engine.OpSum}, Only: true}}}
	task := &jobs.Task{JobID: "j1", ID: 3, Regions: []int{2, 1}, Files: []string{"sw/g1.nc", "sw/g2.nc"}, RegionFiles: [][]int{{0}, {0, 1}}}
	wt, err := workerTask(job, task, []string{"/d/sw/g1.nc", "/d/sw/g2.nc"}, "/s/tmp", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if wt.JobID != "j1" || wt.TaskID != 3 || len(wt.Regions) != 2 || wt.Regions[0].Name != "c" || *wt.Regions[0].Mask ||
		string(wt.Regions[1].Geometry) != string(red.Geometry) || wt.Regions[1].Ref != "africa/red_sea" {
		t.Fatalf("regions %+v", wt.Regions)
	}
	if fmt.Sprint(wt.Files, wt.RegionFiles) != "[/d/sw/g1.nc /d/sw/g2.nc] [[0] [0 1]]" || wt.OutDir != "/s/tmp" || wt.MemoryBudget != 1<<20 ||
		wt.Command != "subsetd serve: job j1" || wt.Concat {
		t.Fatalf("task %+v", wt)
	}
	if wt.Variables[0] != "sst" || wt.Time.Start != "2020-01-02" || *wt.Vertical.Max != 0 || wt.Stride["lat"] != 2 || wt.Select != engine.SelectOverlap || *wt.Output.Deflate != 5 ||
		wt.Statistics == nil || wt.Statistics.Ops[0] != engine.OpSum || !wt.Statistics.Only {
		t.Fatalf("options %+v", wt)
	}
	// What the worker decodes is what was sent.
	b, _ := json.Marshal(wt)
	var got worker.Task
	if err := json.Unmarshal(b, &got); err != nil || !reflect.DeepEqual(got, wt) {
		t.Fatalf("through JSON: %+v %v", got, err)
	}
	job.Spec.Regions[1] = regions.Fixed{Ref: "africa/atlantis"}
	if _, err := workerTask(job, task, nil, "/s/tmp", 0); err == nil || !strings.Contains(err.Error(), `region set africa has no region "atlantis"`) {
		t.Fatalf("unknown ref: %v", err)
	}
}
