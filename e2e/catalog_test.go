package e2e

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/api"
	"github.com/subsetd/subsetd/internal/testutil/fixtures"
	"github.com/subsetd/subsetd/ncmodel/nccompare"
	"github.com/subsetd/subsetd/readers/open"
)

// gridFile writes at path a lat/lon grid (grid_regular): nlat x nlon cells
// from (lat0, lon0) every step degrees, time values in units;
// sst = base + k*1000 + j*10 + i.
func gridFile(t *testing.T, path, units string, times []float64, lat0, lon0, step float64, nlat, nlon, base int) {
	t.Helper()
	var lats, lons, sst []float64
	for j := range nlat {
		lats = append(lats, lat0+float64(j)*step)
	}
	for i := range nlon {
		lons = append(lons, lon0+float64(i)*step)
	}
	for k := range times {
		for j := range nlat {
			for i := range nlon {
				sst = append(sst, float64(base+k*1000+j*10+i))
			}
		}
	}
	copyFile(t, fixtures.Variant(t, "grid_regular", fixtures.Values{
		Dims: map[string]int{"lat": nlat, "lon": nlon},
		Attrs: map[string]any{"time:units": units,
			":geospatial_lat_min": lats[0], ":geospatial_lat_max": lats[nlat-1], ":geospatial_lon_min": lons[0], ":geospatial_lon_max": lons[nlon-1]},
		Data: map[string][]float64{"time": times, "lat": lats, "lon": lons, "sst": sst},
	}), path)
}

// daily is the time series: lat 0..3, lon 10..14, two steps a file, each
// file with time units of its own. day02-03 holds day 2 12:00 again (an
// overlap) and day 3 00:00; day 4 is missing (a gap).
var daily = []struct {
	name, units string
	times       []float64
}{
	{"day01.nc", "hours since 2020-01-01 00:00:00", []float64{0, 12}},
	{"day02.nc", "hours since 2020-01-02 00:00:00", []float64{0, 12}},
	{"day02-03.nc", "hours since 2020-01-02 00:00:00", []float64{12, 24}},
	{"day05.nc", "days since 2020-01-05 00:00:00", []float64{0, 0.5}},
	{"day06.nc", "minutes since 2020-01-06 00:00:00", []float64{0, 720}},
}

// granule is a file of the granules dataset.
type granule struct {
	name, units string
	time        float64
	lat0, lon0  float64
	step        float64
	nlat, nlon  int
}

var granules = []granule{
	{"west.nc", "hours since 2020-01-01", 0, 0, -40, 1, 10, 10},
	{"east.nc", "hours since 2020-01-01", 6, 0, 20, 0.5, 12, 16}, // served gzipped
	{"north.nc", "days since 2020-01-01", 1, 50, -40, 2, 5, 5},
	{"far.nc", "hours since 2020-01-03", 0, -60, 150, 1, 4, 4},
}

// catalogData writes the data directory of the catalog tests; it returns
// it and the folder of the plain copies of the files.
func catalogData(t *testing.T) (data, plain string) {
	data, plain = t.TempDir(), t.TempDir()
	for k, d := range daily {
		gridFile(t, filepath.Join(data, "daily", d.name), d.units, d.times, 0, 10, 1, 4, 5, 10000*(k+1))
	}
	for k, g := range granules {
		p := filepath.Join(plain, g.name)
		gridFile(t, p, g.units, []float64{g.time}, g.lat0, g.lon0, g.step, g.nlat, g.nlon, 100000*(k+1))
		if g.name == "east.nc" {
			b, _ := os.ReadFile(p)
			var z bytes.Buffer
			w := gzip.NewWriter(&z)
			w.Write(b)
			w.Close()
			os.WriteFile(filepath.Join(data, "swaths", g.name+".gz"), z.Bytes(), 0o644)
			continue
		}
		copyFile(t, p, filepath.Join(data, "swaths", g.name))
	}
	// A swath crossing the antimeridian (2-D lat/lon: a footprint).
	copyFile(t, fixtures.Build(t, "curvilinear"), filepath.Join(data, "swaths", "curvi.nc"))
	os.WriteFile(filepath.Join(data, "swaths", "corrupt.nc"), bytes.Repeat([]byte("not netcdf "), 100), 0o644)
	os.WriteFile(filepath.Join(data, "swaths", "README.txt"), []byte("not data"), 0o644)
	copyFile(t, global, filepath.Join(data, "global.nc"))
	return data, plain
}

// sameFile compares a subsetd output with an NCO result: dimensions,
// variables, attributes and values, except what a subset rewrites on
// purpose and the cell_methods ncrcat adds.
func sameFile(t *testing.T, ours, want string) {
	t.Helper()
	a, err := open.Source(ours)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := open.Source(want)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ignore := map[string]bool{"history": true, "NCO": true, "history_of_appended_files": true, "_NCProperties": true,
		"geospatial_lat_min": true, "geospatial_lat_max": true, "geospatial_lon_min": true, "geospatial_lon_max": true,
		"time_coverage_start": true, "time_coverage_end": true, "subsetd_request": true, "subsetd_version": true, "subsetd_source": true}
	diffs := nccompare.Compare(a, b, nccompare.Options{IgnoreGlobalAttrs: ignore, IgnoreVarAttrs: map[string]bool{"cell_methods": true}})
	if len(diffs) > 0 {
		if len(diffs) > 12 {
			diffs = append(diffs[:12], "...")
		}
		t.Errorf("%s differs from %s:\n  %s", filepath.Base(ours), filepath.Base(want), strings.Join(diffs, "\n  "))
	}
}

// nco runs an NCO command; the last argument is the output.
func nco(t *testing.T, tool string, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), tool+".nc")
	if b, err := exec.Command(tool, append(append([]string{"-O"}, args...), out)...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", tool, args, err, b)
	}
	return out
}

// fetch downloads a file of a job into dir.
func (s *server) fetch(f api.FileDoc, dir string) string {
	s.t.Helper()
	b := s.download(f.Href)
	if sha(b) != f.Sha256 {
		s.t.Fatalf("%s: the download does not match its sha256", f.Name)
	}
	p := filepath.Join(dir, filepath.FromSlash(f.Name))
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, b, 0o644)
	return p
}

func (s *server) files(id, query string) api.FilesDoc {
	s.t.Helper()
	r := s.do("GET", "/v1/datasets/"+id+"/files?"+query, "")
	if r.StatusCode != 200 {
		s.t.Fatalf("files %s?%s: %d %s", id, query, r.StatusCode, r.body)
	}
	var d api.FilesDoc
	r.json(s.t, &d)
	return d
}

func fileNames(d api.FilesDoc) string {
	var out []string
	for _, f := range d.Files {
		out = append(out, strings.TrimPrefix(f.Name, d.Dataset+"/"))
	}
	return strings.Join(out, " ")
}

func regionFiles(j job) map[string]string {
	out := map[string]string{}
	for _, r := range j.Regions {
		var fs []string
		for _, f := range r.Files {
			fs = append(fs, f.Name)
		}
		out[r.Name] = string(r.Status) + ":" + strings.Join(fs, ",")
	}
	return out
}

// The catalog end to end: datasets and their kinds from the index, the
// files endpoint, a time series joined along time equal to ncrcat + ncks, a
// granules job opening only the granules its regions meet (gzipped one
// included), a corrupt file recorded with its error, and a reindex after
// files were added and removed.
func TestCatalog(t *testing.T) {
	data, plain := catalogData(t)
	s := start(t, data, t.TempDir(), nil, "--workers", "1")

	// Datasets and kinds.
	var dl api.DatasetList
	s.do("GET", "/v1/datasets", "").json(t, &dl)
	kinds := map[string]string{}
	for _, d := range dl.Datasets {
		kinds[d.ID] = d.Kind
	}
	if fmt.Sprint(kinds) != "map[daily:timeseries global:file swaths:granules]" {
		t.Fatalf("datasets %+v", dl.Datasets)
	}
	var dd api.DatasetDoc
	s.do("GET", "/v1/datasets/daily", "").json(t, &dd)
	if dd.Kind != "timeseries" || dd.FileCount != 5 || dd.ErrorCount != 0 || dd.Time == nil || dd.Time.Start != "2020-01-01T00:00:00Z" ||
		dd.Time.End != "2020-01-06T12:00:00Z" || dd.Time.Steps != 10 || dd.Extent == nil || dd.Extent.West != 10 || dd.Extent.North != 3 || !slices.ContainsFunc(dd.Variables, func(v api.Variable) bool { return v.Name == "sst" }) {
		t.Fatalf("daily: %+v %+v %+v", dd, dd.Time, dd.Extent)
	}
	var sw api.DatasetDoc
	s.do("GET", "/v1/datasets/swaths", "").json(t, &sw)
	if sw.Kind != "granules" || sw.FileCount != 5 || sw.ErrorCount != 1 || sw.Files[0].Name != "swaths/corrupt.nc" || sw.Files[0].Error == "" {
		t.Fatalf("swaths: %+v", sw)
	}

	// The corrupt file is recorded with its error, by the scan too.
	var ix api.IndexDoc
	s.do("GET", "/v1/datasets/swaths/index", "").json(t, &ix)
	if ix.Status != "idle" || ix.LastScan == nil || ix.LastScan.Scope != "all" || len(ix.LastScan.Failures) != 1 || ix.LastScan.Failures[0].Name != "swaths/corrupt.nc" {
		t.Fatalf("index status %+v %+v", ix, ix.LastScan)
	}

	// Files by place and time.
	for _, c := range []struct{ query, want string }{
		{"", "corrupt.nc curvi.nc west.nc east.nc.gz north.nc far.nc"},
		{"bbox=-38,2,-35,5", "west.nc"},
		{"bbox=22,2,25,5", "east.nc.gz"},
		{"bbox=-45,-5,-25,60&time=2020-01-02/", "north.nc"},
		{"time=2020-01-01", "curvi.nc west.nc east.nc.gz"},
		{"time=2020-01-01T03/2020-01-01T23", "curvi.nc east.nc.gz"},
		{"bbox=175,0,-175,5", "curvi.nc"},
		{"bbox=100,0,110,5", ""},
		{"limit=2&offset=4", "north.nc far.nc"},
	} {
		if got := fileNames(s.files("swaths", c.query)); got != c.want {
			t.Errorf("files?%s: %q, want %q", c.query, got, c.want)
		}
	}
	page := s.files("swaths", "bbox=-38,2,-35,5")
	if f := page.Files[0]; page.Total != 1 || f.Format == "" || len(f.BBox) != 4 || f.BBox[0] != -40 || f.Time == nil || f.Time.Start != "2020-01-01T00:00:00Z" || f.Size == 0 {
		t.Fatalf("west.nc: %+v", page)
	}
	for _, q := range []string{"bbox=1,2,3", "time=2020-02-31x", "limit=0", "offset=-3"} {
		r := s.do("GET", "/v1/datasets/swaths/files?"+q, "")
		if r.StatusCode != 400 {
			t.Errorf("files?%s: %d %s", q, r.StatusCode, r.body)
		}
	}

	dir := t.TempDir()
	// A time series, whole: one file per region, equal to ncrcat of the
	// files (the overlapping step once) then ncks of the same box.
	once := nco(t, "ncks", "-d", "time,1,", filepath.Join(data, "daily", "day02-03.nc"))
	var files []string
	for _, d := range daily {
		files = append(files, filepath.Join(data, "daily", d.name))
	}
	files[2] = once
	all := nco(t, "ncrcat", files...)
	j := s.submit(`{"dataset": "daily", "regions": [{"name": "inner", "bbox": [10.5, 0.5, 13.5, 2.5]}, {"name": "corner", "bbox": [13.5, -0.5, 14.5, 0.5]}]}`)
	if j.Kind != "timeseries" {
		t.Fatalf("kind %q", j.Kind)
	}
	j, _ = s.wait(j.ID, 30*time.Second, final)
	if j.Status != "successful" || j.FilesOpened != 5 || regionFiles(j)["inner"] != "successful:inner.nc" || regionFiles(j)["corner"] != "successful:corner.nc" {
		t.Fatalf("daily job: %s %q %v opened %d", j.Status, j.Message, regionFiles(j), j.FilesOpened)
	}
	notes := strings.Join(j.Notes, "\n")
	if !strings.Contains(notes, "day02-03.nc: 1 time step(s) already in an earlier file") || !strings.Contains(notes, "gap in time between 2020-01-03T00:00:00Z and 2020-01-05T00:00:00Z") {
		t.Fatalf("notes:\n%s", notes)
	}
	sameFile(t, s.fetch(j.Regions[0].Files[0], dir), nco(t, "ncks", "-d", "lat,1,2", "-d", "lon,1,3", all))
	sameFile(t, s.fetch(j.Regions[1].Files[0], dir), nco(t, "ncks", "-d", "lat,0,0", "-d", "lon,4,4", all))

	// A time range: only the files overlapping it are opened.
	j = s.submit(`{"dataset": "daily", "time": {"start": "2020-01-02T12:00", "end": "2020-01-05"}, "regions": [{"name": "inner", "bbox": [10.5, 0.5, 13.5, 2.5]}]}`)
	j, _ = s.wait(j.ID, 30*time.Second, final)
	if j.Status != "successful" || j.FilesOpened != 3 {
		t.Fatalf("daily range: %s %q opened %d", j.Status, j.Message, j.FilesOpened)
	}
	part := nco(t, "ncrcat", filepath.Join(data, "daily", "day02.nc"), once, filepath.Join(data, "daily", "day05.nc"))
	sameFile(t, s.fetch(j.Regions[0].Files[0], t.TempDir()), nco(t, "ncks", "-d", "time,1,", "-d", "lat,1,2", "-d", "lon,1,3", part))
	r := s.do("POST", "/v1/jobs", `{"dataset": "daily", "time": {"start": "2020-01-04", "end": "2020-01-04"}, "regions": [{"name": "a", "bbox": [10, 0, 11, 1]}]}`)
	var p api.Problem
	r.json(t, &p)
	if r.StatusCode != 400 || p.Field != "time" || !strings.Contains(p.Detail, "no file") {
		t.Fatalf("a time range in the gap: %d %s", r.StatusCode, r.body)
	}

	// Granules: after the scan, far.nc is made unreadable behind the
	// index's back (same size and time): no region meets it, so no job may
	// open it.
	sabotage(t, filepath.Join(data, "swaths", "far.nc"))
	j = s.submit(`{"dataset": "swaths", "regions": [{"name": "w", "bbox": [-38, 2, -35, 5]}, {"name": "e", "bbox": [22, 2, 25, 5]},
		{"name": "nowhere", "bbox": [100, 0, 110, 5]}, {"name": "big", "bbox": [-45, -5, -25, 60]}, {"name": "dateline", "bbox": [178, 0, -178, 4]}]}`)
	if j.Kind != "granules" || j.Regions[2].Status != "empty" || !strings.Contains(j.Regions[2].Message, "no file of dataset") {
		t.Fatalf("granules submitted: %+v", j)
	}
	if len(j.Notes) != 1 || !strings.Contains(j.Notes[0], "swaths/corrupt.nc") {
		t.Fatalf("notes %q", j.Notes)
	}
	j, _ = s.wait(j.ID, 30*time.Second, final)
	got := regionFiles(j)
	want := map[string]string{"w": "successful:w/west.nc", "e": "successful:e/east.nc", "nowhere": "empty:",
		"big": "successful:big/west.nc,big/north.nc", "dateline": "successful:dateline/curvi.nc"}
	if j.Status != "successful" || fmt.Sprint(got) != fmt.Sprint(want) || j.FilesOpened != 4 {
		t.Fatalf("granules job: %s %q\n%v\nopened %d", j.Status, j.Message, got, j.FilesOpened)
	}
	for _, reg := range j.Regions {
		if reg.Message != "" && reg.Status != "empty" {
			t.Errorf("region %s: %q", reg.Name, reg.Message)
		}
	}
	// Each output equals ncks of its granule (the gzipped one: of the
	// file before compression); the download path holds the region.
	if href := j.Regions[1].Files[0].Href; href != "/v1/jobs/"+j.ID+"/files/e/east.nc" {
		t.Fatalf("href %s", href)
	}
	gdir := t.TempDir()
	sameFile(t, s.fetch(j.Regions[0].Files[0], gdir), nco(t, "ncks", "-d", "lat,2,5", "-d", "lon,2,5", filepath.Join(plain, "west.nc")))
	sameFile(t, s.fetch(j.Regions[1].Files[0], gdir), nco(t, "ncks", "-d", "lat,4,10", "-d", "lon,4,10", filepath.Join(plain, "east.nc")))
	sameFile(t, s.fetch(j.Regions[3].Files[0], gdir), filepath.Join(plain, "west.nc"))
	sameFile(t, s.fetch(j.Regions[3].Files[1], gdir), filepath.Join(plain, "north.nc"))

	// A time range leaves out the granules outside it: north.nc, made
	// unreadable now, is not opened either.
	sabotage(t, filepath.Join(data, "swaths", "north.nc"))
	j = s.submit(`{"dataset": "swaths", "time": {"start": "2020-01-01", "end": "2020-01-01"}, "regions": [{"name": "big", "bbox": [-45, -5, -25, 60]}]}`)
	j, _ = s.wait(j.ID, 30*time.Second, final)
	if got := regionFiles(j)["big"]; j.Status != "successful" || got != "successful:big/west.nc" || j.FilesOpened != 1 {
		t.Fatalf("granules by time: %s %q %s opened %d", j.Status, j.Message, got, j.FilesOpened)
	}

	// Reindex after adding and removing files.
	gridFile(t, filepath.Join(data, "swaths", "added.nc"), "hours since 2020-01-04", []float64{0}, 0, 100, 1, 5, 10, 900000)
	os.Remove(filepath.Join(data, "swaths", "far.nc"))
	r = s.do("POST", "/v1/datasets/swaths/reindex", "")
	r.json(t, &ix)
	if r.StatusCode != 202 || r.Header.Get("Location") != "/v1/datasets/swaths/index" || ix.Requested == nil {
		t.Fatalf("reindex: %d %s", r.StatusCode, r.body)
	}
	requested := *ix.Requested
	for deadline := time.Now().Add(20 * time.Second); ; {
		s.do("GET", "/v1/datasets/swaths/index", "").json(t, &ix)
		if ix.Status == "idle" && ix.LastScan != nil && !ix.LastScan.Finished.Before(requested) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reindex not done: %+v", ix)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if l := ix.LastScan; l.Scope != "dataset" || l.New != 1 || l.Deleted != 1 || l.Changed != 0 || l.Failed != 0 || l.Error != "" {
		t.Fatalf("reindex scan %+v", l)
	}
	if got := fileNames(s.files("swaths", "")); got != "corrupt.nc curvi.nc west.nc east.nc.gz north.nc added.nc" {
		t.Fatalf("after reindex: %s", got)
	}
	j = s.submit(`{"dataset": "swaths", "regions": [{"name": "nowhere", "bbox": [100, 0, 110, 5]}]}`)
	j, _ = s.wait(j.ID, 30*time.Second, final)
	if got := regionFiles(j)["nowhere"]; got != "successful:nowhere/added.nc" {
		t.Fatalf("after reindex: %s %q %s", j.Status, j.Message, got)
	}
	if r := s.do("POST", "/v1/datasets/nope/reindex", ""); r.StatusCode != 404 {
		t.Fatalf("reindex nope: %d", r.StatusCode)
	}
	if r := s.do("GET", "/v1/datasets/global/files?"+url.Values{"bbox": {"0,0,1,1"}}.Encode(), ""); r.StatusCode != 200 {
		t.Fatalf("global files: %d %s", r.StatusCode, r.body)
	}
}

// sabotage overwrites a file with garbage of the same size and keeps its
// modification time: the index still takes it as it was.
func sabotage(t *testing.T, p string) {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, bytes.Repeat([]byte{'x'}, int(st.Size())), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
}
