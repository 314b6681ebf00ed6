package catalog

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/catalog/index"
	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/regions"
)

func openIndex(t *testing.T) *index.Store {
	t.Helper()
	s, err := index.OpenFile(context.Background(), filepath.Join(t.TempDir(), index.FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func day(n int) time.Time { return time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n-1) }

// grid is an index entry of a file on a lat/lon grid of box bbox with steps
// time steps every 12 hours from start (no time axis when steps is 0).
func grid(dataset, path string, bbox []float64, nlat int, start time.Time, steps int, vars ...string) index.Entry {
	d := &engine.Description{Format: "netcdf4",
		Dimensions: []engine.DimInfo{{Name: "lat", Length: nlat}, {Name: "lon", Length: 4}},
		Grids:      []engine.GridInfo{{Kind: "rectilinear", Lat: "lat", Lon: "lon"}},
		Variables: []engine.VarInfo{{Name: "lat", Type: "float", Dimensions: []string{"lat"}, Shape: []int{nlat}},
			{Name: "lon", Type: "float", Dimensions: []string{"lon"}, Shape: []int{4}}}}
	dims := []string{"lat", "lon"}
	if steps > 0 {
		d.Dimensions = append([]engine.DimInfo{{Name: "time", Length: steps, Unlimited: true}}, d.Dimensions...)
		d.Axes = []engine.AxisInfo{{Axis: "time", Variable: "time", Dimension: "time", Length: steps}}
		d.Variables = append(d.Variables, engine.VarInfo{Name: "time", Type: "double", Dimensions: []string{"time"}, Shape: []int{steps}})
		end := start.Add(time.Duration(steps-1) * 12 * time.Hour)
		d.Time = &engine.TimeCoverage{Start: start.Format(time.RFC3339), End: end.Format(time.RFC3339), Steps: steps,
			Units: "hours since " + start.Format("2006-01-02"), Calendar: "standard"}
		dims = []string{"time", "lat", "lon"}
	}
	for _, v := range vars {
		d.Variables = append(d.Variables, engine.VarInfo{Name: v, Type: "float", Dimensions: dims, Units: "K"})
	}
	return index.Entry{Dataset: dataset, Path: path, Size: 100, ModTime: time.Unix(1700000000, 0),
		Record: index.Record{Path: path, Description: d, Geo: &index.Geo{BBox: bbox}}}
}

func failed(dataset, path, msg string) index.Entry {
	return index.Entry{Dataset: dataset, Path: path, Size: 7, ModTime: time.Unix(1700000000, 0), Record: index.Record{Path: path, Error: msg}}
}

// fixture is a data directory with its index filled without inspectors:
//
//	ts/   daily files of one grid, day 3 missing, one unreadable file
//	sw/   granules of different grids, places and days
//	one.nc, dead/ (unreadable files only), fresh/ (not indexed)
func fixture(t *testing.T, meta map[string]Meta) (*Catalog, *index.Store) {
	t.Helper()
	root := t.TempDir()
	idx := openIndex(t)
	box := []float64{10, 0, 13, 2}
	es := []index.Entry{
		grid("ts", "ts/d1.nc", box, 3, day(1), 2, "sst"),
		grid("ts", "ts/d2.nc.gz", box, 3, day(2), 2, "sst"),
		grid("ts", "ts/d4.nc", box, 3, day(4), 2, "sst"),
		failed("ts", "ts/bad.nc", "NetCDF: Unknown file format"),
		grid("sw", "sw/g1.nc", []float64{0, 0, 10, 10}, 5, day(1), 1, "sst"),
		grid("sw", "sw/g2.nc", []float64{20, 0, 30, 10}, 6, day(1), 1, "sst"),
		grid("sw", "sw/g3.nc.gz", []float64{5, 5, 25, 15}, 7, day(2), 1, "sst", "chl"),
		grid("sw", "sw/far.nc", []float64{170, -10, -170, 10}, 8, day(3), 1, "sst"),
		grid("one", "one.nc", box, 3, day(1), 4, "sst"),
		failed("dead", "dead/x.nc", "truncated file"),
	}
	if err := idx.Put(context.Background(), es); err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		write(t, filepath.Join(root, filepath.FromSlash(e.Path)))
	}
	write(t, filepath.Join(root, "fresh", "a.nc"))
	c, err := New(root, Options{Index: idx, Datasets: meta, Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	return c, idx
}

func fileNames(fs []File) string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name)
	}
	return strings.Join(out, " ")
}

func TestInfo(t *testing.T) {
	ctx := context.Background()
	c, _ := fixture(t, map[string]Meta{"sw": {Title: "Swaths", License: "CC-BY-4.0"}})
	ts, err := c.Info(ctx, "ts")
	if err != nil {
		t.Fatal(err)
	}
	if ts.Kind != KindTimeSeries || ts.DetectedKind != KindTimeSeries || ts.FileCount != 3 || ts.ErrorCount != 1 || ts.Size != 307 {
		t.Fatalf("ts: %+v", ts)
	}
	if got := fileNames(ts.Files); got != "ts/bad.nc ts/d1.nc ts/d2.nc.gz ts/d4.nc" || ts.Files[0].Error == "" {
		t.Fatalf("files %s", got)
	}
	if ts.Time == nil || ts.Time.Start != "2020-01-01T00:00:00Z" || ts.Time.End != "2020-01-04T12:00:00Z" || ts.Time.Steps != 6 || ts.Time.Units != "hours since 2020-01-01" {
		t.Fatalf("time %+v", ts.Time)
	}
	if len(ts.Dimensions) != 3 || ts.Dimensions[0].Name != "time" || ts.Extent == nil || ts.Extent.East != 13 || !ts.HasVariable("sst") || ts.HasVariable("chl") {
		t.Fatalf("dims %+v extent %+v vars %+v", ts.Dimensions, ts.Extent, ts.Variables)
	}
	sw, err := c.Info(ctx, "sw")
	if err != nil {
		t.Fatal(err)
	}
	if sw.Kind != KindGranules || sw.Title != "Swaths" || sw.License != "CC-BY-4.0" || !sw.HasVariable("chl") || sw.FileCount != 4 {
		t.Fatalf("sw: %+v", sw)
	}
	if one, err := c.Info(ctx, "one"); err != nil || one.Kind != KindFile || one.FileCount != 1 {
		t.Fatalf("one: %+v %v", one, err)
	}
	if dead, err := c.Info(ctx, "dead"); err != nil || dead.Kind != "" || dead.FileCount != 0 || dead.ErrorCount != 1 {
		t.Fatalf("dead: %+v %v", dead, err)
	}
	// The configured kind wins over the detected one.
	c2, _ := fixture(t, map[string]Meta{"ts": {Kind: KindGranules}})
	if ts, err := c2.Info(ctx, "ts"); err != nil || ts.Kind != KindGranules || ts.DetectedKind != KindTimeSeries {
		t.Fatalf("configured: %+v %v", ts, err)
	}
	// On disk but not indexed: try again later, and a scan is asked for.
	if _, err := c.Info(ctx, "fresh"); errs.CodeOf(err) != errs.Unavailable {
		t.Fatalf("fresh: %v", err)
	}
	if st, _ := c.IndexStatus(ctx, "fresh"); st.Status != IndexQueued {
		t.Fatalf("fresh status %+v", st)
	}
	if _, err := c.Info(ctx, "nope"); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("nope: %v", err)
	}
	ds, err := c.Datasets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, d := range ds {
		kinds = append(kinds, d.ID+":"+d.Kind+":"+d.Title)
	}
	if got := strings.Join(kinds, " "); got != "dead:: fresh:: one:file: sw:granules:Swaths ts:timeseries:" {
		t.Fatalf("datasets %s", got)
	}
}

func TestFiles(t *testing.T) {
	ctx := context.Background()
	c, _ := fixture(t, nil)
	list := func(q FileQuery) (string, int) {
		t.Helper()
		if q.Limit == 0 {
			q.Limit = 100
		}
		p, err := c.Files(ctx, "sw", q)
		if err != nil {
			t.Fatal(err)
		}
		return fileNames(p.Files), p.Total
	}
	b := func(w, s, e, n float64) *regions.BBox { return &regions.BBox{West: w, South: s, East: e, North: n} }
	tp := func(d time.Time) *time.Time { return &d }
	for _, c := range []struct {
		q     FileQuery
		want  string
		total int
	}{
		{FileQuery{}, "sw/g1.nc sw/g2.nc sw/g3.nc.gz sw/far.nc", 4},
		{FileQuery{BBox: b(8, 6, 9, 7)}, "sw/g1.nc sw/g3.nc.gz", 2},
		{FileQuery{BBox: b(175, 0, 185, 1)}, "sw/far.nc", 1},
		{FileQuery{BBox: b(-180, -90, 180, 90), Start: tp(day(2)), End: tp(day(2).Add(time.Hour))}, "sw/g3.nc.gz", 1},
		{FileQuery{Start: tp(day(3))}, "sw/far.nc", 1},
		{FileQuery{BBox: b(40, 40, 50, 50)}, "", 0},
		{FileQuery{Limit: 2, Offset: 1}, "sw/g2.nc sw/g3.nc.gz", 4},
	} {
		if got, total := list(c.q); got != c.want || total != c.total {
			t.Errorf("%+v: %q (%d), want %q (%d)", c.q, got, total, c.want, c.total)
		}
	}
	// Unreadable files come first, then pages go on with the readable ones.
	var all []string
	for off := 0; off < 10; off += 2 {
		p, err := c.Files(ctx, "ts", FileQuery{Limit: 2, Offset: off})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != 4 {
			t.Fatalf("total %d", p.Total)
		}
		all = append(all, fileNames(p.Files))
	}
	if got := strings.Join(all, "|"); got != "ts/bad.nc ts/d1.nc|ts/d2.nc.gz ts/d4.nc|||" {
		t.Fatalf("pages %q", got)
	}
	p, _ := c.Files(ctx, "ts", FileQuery{Limit: 10, Offset: 1})
	if f := p.Files[0]; f.Name != "ts/d1.nc" || f.Time == nil || f.Time.Steps != 2 || len(f.BBox) != 4 || f.Format != "netcdf4" || strings.Join(f.Variables, ",") != "lat,lon,time,sst" {
		t.Fatalf("file %+v", f)
	}
	if _, err := c.Files(ctx, "nope", FileQuery{Limit: 1}); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("nope: %v", err)
	}
}

func req(t *testing.T, start, end string, boxes ...[]float64) *engine.Request {
	r := &engine.Request{}
	if start != "" || end != "" {
		r.Time = &engine.TimeRange{Start: start, End: end}
	}
	for i, b := range boxes {
		r.Regions = append(r.Regions, regions.Fixed{Name: fmt.Sprintf("r%d", i), BBox: b})
	}
	if len(boxes) == 0 {
		r.Regions = []regions.Fixed{{Name: "r", BBox: []float64{0, -10, 20, 10}}}
	}
	return r
}

func TestSelect(t *testing.T) {
	ctx := context.Background()
	c, _ := fixture(t, nil)
	// A time series: the files overlapping the range, in time order.
	sel, err := c.Select(ctx, "ts", req(t, "2020-01-02", "2020-01-04"))
	if err != nil {
		t.Fatal(err)
	}
	if sel.Kind != KindTimeSeries || strings.Join(sel.Files, " ") != "ts/d2.nc.gz ts/d4.nc" || sel.RegionFiles != nil {
		t.Fatalf("ts: %+v", sel)
	}
	if len(sel.Notes) != 1 || !strings.Contains(sel.Notes[0], "ts/bad.nc (NetCDF: Unknown file format)") {
		t.Fatalf("notes %q", sel.Notes)
	}
	sel, _ = c.Select(ctx, "ts", req(t, "", ""))
	if strings.Join(sel.Files, " ") != "ts/d1.nc ts/d2.nc.gz ts/d4.nc" {
		t.Fatalf("no time: %v", sel.Files)
	}
	// 12:00 of day 2 is its last step; 13:00 is after it.
	sel, _ = c.Select(ctx, "ts", req(t, "2020-01-01T12:00", "2020-01-02T12:00"))
	if strings.Join(sel.Files, " ") != "ts/d1.nc ts/d2.nc.gz" {
		t.Fatalf("hours: %v", sel.Files)
	}
	for _, tr := range [][2]string{{"2020-01-03", "2020-01-03"}, {"2019", "2019"}, {"2020-01-05", ""}} {
		_, err := c.Select(ctx, "ts", req(t, tr[0], tr[1]))
		if errs.CodeOf(err) != errs.Invalid || errs.FieldOf(err) != "time" {
			t.Errorf("%v: %v", tr, err)
		}
	}
	// Granules: each region its files; files no region meets are left out.
	sel, err = c.Select(ctx, "sw", req(t, "", "", []float64{8, 6, 9, 7}, []float64{40, 40, 50, 50}, []float64{22, 1, 24, 2}, []float64{-10, 70, 10, 80}))
	if err != nil {
		t.Fatal(err)
	}
	if sel.Kind != KindGranules || strings.Join(sel.Files, " ") != "sw/g1.nc sw/g2.nc sw/g3.nc.gz" {
		t.Fatalf("sw files %v", sel.Files)
	}
	if fmt.Sprint(sel.RegionFiles) != "[[0 2] [] [1] []]" || sel.Empty[1] == "" || sel.Empty[0] != "" || !strings.Contains(sel.Empty[3], "latitudes -10 to 15") {
		t.Fatalf("region files %v, empty %q", sel.RegionFiles, sel.Empty)
	}
	sel, _ = c.Select(ctx, "sw", req(t, "2020-01-02", "", []float64{8, 6, 9, 7}, []float64{175, -1, -175, 1}))
	if strings.Join(sel.Files, " ") != "sw/g3.nc.gz sw/far.nc" || fmt.Sprint(sel.RegionFiles) != "[[0] [1]]" {
		t.Fatalf("sw by time: %v %v", sel.Files, sel.RegionFiles)
	}
	// One file: itself, readable or not.
	if sel, err := c.Select(ctx, "one", req(t, "", "")); err != nil || sel.Kind != KindFile || strings.Join(sel.Files, " ") != "one.nc" {
		t.Fatalf("one: %+v %v", sel, err)
	}
	if _, err := c.Select(ctx, "one", req(t, "2021", "")); errs.FieldOf(err) != "time" {
		t.Fatalf("one outside: %v", err)
	}
	if _, err := c.Select(ctx, "dead", req(t, "", "")); errs.CodeOf(err) != errs.Unreadable || !strings.Contains(err.Error(), "dead/x.nc: truncated file") {
		t.Fatalf("dead: %v", err)
	}
	// A file gone since the scan is left out with a note.
	os.Remove(filepath.Join(c.Root(), "ts", "d1.nc"))
	sel, _ = c.Select(ctx, "ts", req(t, "", ""))
	if strings.Join(sel.Files, " ") != "ts/d2.nc.gz ts/d4.nc" || !strings.Contains(strings.Join(sel.Notes, "|"), "gone from the data directory since it was indexed: ts/d1.nc") {
		t.Fatalf("gone: %+v", sel)
	}
}

func TestTimeBounds(t *testing.T) {
	for _, c := range []struct{ start, end, a, b string }{
		{"2020", "2020", "2020-01-01T00:00:00Z", "2020-12-31T23:59:59Z"},
		{"2020-02", "2020-02", "2020-02-01T00:00:00Z", "2020-02-29T23:59:59Z"},
		{"2020-12-31", "2020-12-31", "2020-12-31T00:00:00Z", "2020-12-31T23:59:59Z"},
		{"2020-01-01T06", "2020-01-01T06", "2020-01-01T06:00:00Z", "2020-01-01T06:59:59Z"},
		{"2020-01-01T06:30:15.5", "2020-01-01T06:30:15.5", "2020-01-01T06:30:15Z", "2020-01-01T06:30:16Z"},
		{"2020-01-01T06:00+02:00", "", "2020-01-01T04:00:00Z", ""},
	} {
		a, b, err := TimeBounds(&engine.TimeRange{Start: c.start, End: c.end})
		if err != nil {
			t.Fatal(err)
		}
		got := func(x *time.Time) string {
			if x == nil {
				return ""
			}
			return x.Format(time.RFC3339)
		}
		if got(a) != c.a || got(b) != c.b {
			t.Errorf("%s/%s: %s/%s, want %s/%s", c.start, c.end, got(a), got(b), c.a, c.b)
		}
	}
	if _, _, err := ParseTimeParam("time", "2020-02-30x"); errs.FieldOf(err) != "time" {
		t.Errorf("bad time: %v", err)
	}
}

// slowIndex is the index with scans that wait to be released.
type slowIndex struct {
	*index.Store
	mu      sync.Mutex
	scans   []index.ScanOptions
	release chan struct{}
}

func (s *slowIndex) Scan(ctx context.Context, o index.ScanOptions) (*index.Report, error) {
	s.mu.Lock()
	s.scans = append(s.scans, o)
	s.mu.Unlock()
	select {
	case <-s.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return &index.Report{Files: 3, New: 1, Skipped: 2, Failures: []index.Failure{{Path: "ts/bad.nc", Error: "boom"}}, Failed: 1}, nil
}

func (s *slowIndex) calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, o := range s.scans {
		out = append(out, fmt.Sprintf("%q/%v", o.Dataset, o.Force))
	}
	return out
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestScans(t *testing.T) {
	ctx := context.Background()
	c, idx := fixture(t, nil)
	slow := &slowIndex{Store: idx, release: make(chan struct{})}
	c.idx, c.opt.IndexInterval, c.opt.IndexWorkers = slow, 50*time.Millisecond, 3
	if _, err := c.Info(ctx, "one"); err != nil || !c.Indexed() {
		t.Fatalf("before start: %v", err) // not started: scans are someone else's business
	}
	sctx, stop := context.WithCancel(ctx)
	c.Start(sctx)
	waitFor(t, "the first scan", func() bool { return len(slow.calls()) == 1 })
	// Never scanned to the end, and in the scan running: being indexed.
	if _, err := c.Info(ctx, "one"); errs.CodeOf(err) != errs.Unavailable || !strings.Contains(err.Error(), "is being indexed") || c.Indexed() {
		t.Fatalf("during the first scan: %v", err)
	}
	if st, _ := c.IndexStatus(ctx, "ts"); st.Status != IndexRunning {
		t.Fatalf("status %+v", st)
	}
	// Asked while the first scan runs: queued, forced later.
	st, err := c.Reindex(ctx, "ts", true)
	if err != nil || st.Status != IndexRunning || st.Requested == nil {
		t.Fatalf("reindex: %+v %v", st, err)
	}
	c.Reindex(ctx, "sw", false) // covered by the next scan of everything
	if _, err := c.Reindex(ctx, "nope", false); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("reindex nope: %v", err)
	}
	slow.release <- struct{}{}
	waitFor(t, "the forced scan", func() bool { return len(slow.calls()) == 2 })
	if !c.Indexed() {
		t.Fatal("not indexed after the first scan")
	}
	if got := slow.calls(); got[0] != `""/false` || got[1] != `"sw"/false` && got[1] != `"ts"/true` {
		t.Fatalf("scans %v", got)
	}
	for len(slow.calls()) < 4 {
		slow.release <- struct{}{}
	}
	calls := strings.Join(slow.calls(), " ")
	if !strings.Contains(calls, `"ts"/true`) || !strings.Contains(calls, `"sw"/false`) {
		t.Fatalf("scans %s", calls)
	}
	// The interval brings scans of everything.
	for !strings.Contains(strings.Join(slow.calls()[2:], " "), `""/false`) {
		slow.release <- struct{}{}
	}
	st, _ = c.IndexStatus(ctx, "ts")
	if st.LastScan == nil || st.LastScan.Files != 3 || len(st.LastScan.Failures) != 1 || st.LastScan.Failures[0].Name != "ts/bad.nc" {
		t.Fatalf("last scan %+v", st.LastScan)
	}
	if o := slow.scans[0]; o.Root != c.Root() || o.Workers != 3 {
		t.Fatalf("scan options %+v", o)
	}
	stop()
	c.Wait()
}

// A file dataset whose file the index recorded as unreadable is refused,
// naming the file and why, until the file changes.
func TestSelectRefusesAnUnreadableFile(t *testing.T) {
	ctx := context.Background()
	c, idx := fixture(t, nil)
	p := filepath.Join(c.Root(), "bad.nc")
	if err := os.WriteFile(p, []byte("1234567"), 0o644); err != nil {
		t.Fatal(err)
	}
	mtime := time.Unix(1700000000, 0)
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	if err := idx.Put(ctx, []index.Entry{failed("bad", "bad.nc", "the C library did not answer within 15 s")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Select(ctx, "bad", req(t, "", ""))
	want := `dataset: file bad.nc of dataset "bad" cannot be read: the C library did not answer within 15 s (found when it was indexed at `
	if errs.CodeOf(err) != errs.Invalid || errs.FieldOf(err) != "dataset" || !strings.HasPrefix(fmt.Sprint(err), want) {
		t.Fatalf("err = %v (%s)\nwant %s...", err, errs.CodeOf(err), want)
	}
	// Changed: accepted (the worker says how it is now).
	if err := os.WriteFile(p, []byte("12345678"), 0o644); err != nil {
		t.Fatal(err)
	}
	if sel, err := c.Select(ctx, "bad", req(t, "", "")); err != nil || strings.Join(sel.Files, " ") != "bad.nc" {
		t.Fatalf("changed: %+v %v", sel, err)
	}
}
