package oracle

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/testutil/fixtures"
	"github.com/subsetd/subsetd/readers/open"
	"github.com/subsetd/subsetd/regions"
)

// The statistics are checked against an independent computation
// (testdata/stats_ref.py: numpy over python3-netcdf4, its own masks and its
// own cell areas by L'Huilier's theorem) to 1e-9 relative, and against
// CDO's fldmean/fldmin/fldmax of sellonlatbox on rectilinear boxes to 1e-5
// relative (CDO computes cell areas from the bounds, or from the midpoints
// between coordinates when there are none, as the engine does).

const (
	refTol = 1e-9
	cdoTol = 1e-5
)

// refRegion is a region for the reference: a box or an unwrapped ring.
type refRegion struct {
	Name string       `json:"name"`
	BBox []float64    `json:"bbox,omitempty"`
	Ring [][2]float64 `json:"ring,omitempty"`
}

func (r refRegion) fixed() regions.Fixed {
	if r.BBox != nil {
		return regions.Fixed{Name: r.Name, BBox: r.BBox}
	}
	return regions.Fixed{Name: r.Name, Geometry: ringJSON(r.Ring)}
}

// refCase is one variable of one file for the reference script.
type refCase struct {
	File    string            `json:"file"`
	Var     string            `json:"var"`
	Lat     string            `json:"lat"`
	Lon     string            `json:"lon"`
	Layout  string            `json:"layout"`
	Weights map[string]string `json:"weights"`
	Regions []refRegion       `json:"regions"`
	Extra   int               `json:"extra"`
}

// refValues are n, mean, std, min, max and sum per leading index.
type refValues [][6]*float64

// reference runs testdata/stats_ref.py.
func reference(t *testing.T, c refCase) map[string]refValues {
	t.Helper()
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import numpy, netCDF4").Run(); err != nil {
		t.Skipf("the reference needs Debian's python3-numpy and python3-netcdf4: %v", err)
	}
	arg, _ := json.Marshal(c)
	out, err := exec.Command(py, "testdata/stats_ref.py", string(arg)).CombinedOutput()
	if err != nil {
		t.Fatalf("stats_ref.py: %v\n%s", err, out)
	}
	var res map[string]refValues
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("stats_ref.py output: %v\n%s", err, out)
	}
	return res
}

// statsRun computes statistics with the real readers.
func statsRun(t *testing.T, files []string, req *engine.Request, concat bool) (*engine.Result, string) {
	t.Helper()
	out := t.TempDir()
	res, err := engine.Run(context.Background(), files, req, engine.Options{OutDir: out, Open: open.Source, Create: open.Sink, Version: "test", Concat: concat})
	if err != nil {
		t.Fatalf("statistics of %v: %v", files, err)
	}
	return res, out
}

func statsReq(st engine.Statistics, rs ...refRegion) *engine.Request {
	req := &engine.Request{Statistics: &st}
	for _, r := range rs {
		req.Regions = append(req.Regions, r.fixed())
	}
	return req
}

var allOps = []string{engine.OpMean, engine.OpStd, engine.OpMin, engine.OpMax, engine.OpSum, engine.OpCount}

// moments returns the moments of one region and variable.
func moments(t *testing.T, tab *engine.StatsTable, region, variable string) []engine.Moments {
	t.Helper()
	vi := -1
	for i, v := range tab.Vars {
		if v.Name == variable {
			vi = i
		}
	}
	if vi < 0 {
		t.Fatalf("no statistics of %s in %+v", variable, tab.Vars)
	}
	for _, r := range tab.Regions {
		if r.Name == region {
			if r.Moments == nil || r.Moments[vi] == nil {
				return nil
			}
			return r.Moments[vi]
		}
	}
	t.Fatalf("no region %s", region)
	return nil
}

func near(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(math.Abs(a), math.Abs(b)) || math.Abs(a-b) < 1e-13
}

// checkAgainstReference compares every op of every region with the
// reference.
func checkAgainstReference(t *testing.T, tab *engine.StatsTable, c refCase, name string) {
	t.Helper()
	want := reference(t, c)
	for _, r := range c.Regions {
		ms := moments(t, tab, r.Name, name)
		w := want[r.Name]
		if ms == nil {
			ms = make([]engine.Moments, len(w))
		}
		if len(ms) != len(w) {
			t.Fatalf("%s %s: %d steps, reference %d", r.Name, name, len(ms), len(w))
		}
		cells := 0
		for k := range w {
			m := ms[k]
			if n := int64(*w[k][0]); m.N != n {
				t.Errorf("%s %s [%d]: count %d, reference %d", r.Name, name, k, m.N, n)
				continue
			}
			cells += int(m.N)
			for i, op := range []string{engine.OpMean, engine.OpStd, engine.OpMin, engine.OpMax, engine.OpSum} {
				got, ok := m.Value(op)
				ref := w[k][i+1]
				switch {
				case ref == nil && ok:
					t.Errorf("%s %s [%d] %s: %v, reference has none", r.Name, name, k, op, got)
				case ref != nil && !ok:
					t.Errorf("%s %s [%d] %s: none, reference %v", r.Name, name, k, op, *ref)
				case ref != nil && !near(got, *ref, refTol):
					t.Errorf("%s %s [%d] %s: %.17g, reference %.17g (relative %.2g)", r.Name, name, k, op, got, *ref, math.Abs(got-*ref)/math.Abs(*ref))
				}
			}
		}
		if cells == 0 && r.Name != "empty" {
			t.Errorf("%s %s: no cell at all: the case tests nothing", r.Name, name)
		}
	}
}

var rectRegions = []refRegion{
	{Name: "west_africa", BBox: []float64{-40, -30, 50, 35}},
	{Name: "dateline", BBox: []float64{150, -20, -150, 20}},
	{Name: "patch", BBox: []float64{25, 12, 75, 38}}, // all fill at the third step
	{Name: "empty", BBox: []float64{0, -89, 10, -80}},
	{Name: "triangle", Ring: [][2]float64{{-61.3, -41.7}, {58.9, -38.2}, {-2.1, 51.4}}},
	{Name: "across", Ring: [][2]float64{{170.3, -30.6}, {199.1, -28.2}, {189.7, 25.3}, {160.2, 9.8}}},
}

func TestStatsRectilinearAgainstReference(t *testing.T) {
	in := fixtures.Build(t, "stats_rect")
	res, _ := statsRun(t, []string{in}, statsReq(engine.Statistics{Ops: allOps}, rectRegions...), false)
	bounds := map[string]string{"kind": "bounds", "lat_bnds": "lat_bnds", "lon_bnds": "lon_bnds"}
	for _, v := range []struct {
		name  string
		extra int
	}{{"sst", 1}, {"temp", 2}} {
		checkAgainstReference(t, res.Stats, refCase{File: in, Var: v.name, Lat: "lat", Lon: "lon", Layout: "rect", Weights: bounds, Regions: rectRegions, Extra: v.extra}, v.name)
	}
	if got := res.Stats.Vars[0].Weighting; !strings.Contains(got, "bounds lat_bnds") {
		t.Errorf("weighting %q", got)
	}
	// Unweighted.
	res, _ = statsRun(t, []string{in}, statsReq(engine.Statistics{Ops: allOps, Weights: engine.WeightsNone, Variables: []string{"sst"}}, rectRegions...), false)
	checkAgainstReference(t, res.Stats, refCase{File: in, Var: "sst", Lat: "lat", Lon: "lon", Layout: "rect", Weights: map[string]string{"kind": "none"}, Regions: rectRegions, Extra: 1}, "sst")
	for i, r := range res.Regions {
		want := engine.StatusSuccessful
		if rectRegions[i].Name == "empty" {
			want = engine.StatusEmpty
		}
		if r.Status != want || len(r.Files) != 1 && want == engine.StatusSuccessful {
			t.Errorf("region %s: %s %v, want %s with its cut", r.Name, r.Status, r.Files, want)
		}
	}
}

var regularRegions = []refRegion{
	{Name: "greenwich", BBox: []float64{-20, -31, 20, 41}},
	{Name: "wide", BBox: []float64{100, -80, 300, 80}},
	{Name: "pole", BBox: []float64{-180, 70, 180, 90}},
	{Name: "poly", Ring: [][2]float64{{-30.4, -50.3}, {40.6, -45.1}, {10.2, 60.7}}},
}

func TestStatsMidpointsAgainstReference(t *testing.T) {
	in := fixtures.Build(t, "stats_regular")
	res, _ := statsRun(t, []string{in}, statsReq(engine.Statistics{Ops: allOps}, regularRegions...), false)
	checkAgainstReference(t, res.Stats, refCase{File: in, Var: "sla", Lat: "lat", Lon: "lon", Layout: "rect", Weights: map[string]string{"kind": "midpoints"}, Regions: regularRegions, Extra: 1}, "sla")
	if got := res.Stats.Vars[0].Weighting; !strings.Contains(got, "midpoints of lat") {
		t.Errorf("weighting %q", got)
	}
}

// cdoField runs cdo -<op> -sellonlatbox and returns one value per record
// (time steps, levels within them).
func cdoField(t *testing.T, in, variable, op string, b []float64) []float64 {
	t.Helper()
	if _, err := exec.LookPath("cdo"); err != nil {
		t.Fatal("cdo not found: run scripts/setup.sh (CDO is the test oracle of field statistics)")
	}
	east := b[2]
	if east < b[0] {
		east += 360
	}
	box := fmt.Sprintf("%g,%g,%g,%g", b[0], east, b[1], b[3])
	out, err := exec.Command("cdo", "-s", "-outputf,%.17g,1", "-"+op, "-sellonlatbox,"+box, "-selname,"+variable, in).CombinedOutput()
	if err != nil {
		t.Fatalf("cdo %s %s: %v\n%s", op, box, err, out)
	}
	var vals []float64
	for _, f := range strings.Fields(string(out)) {
		x, err := strconv.ParseFloat(f, 64)
		if err != nil {
			t.Fatalf("cdo output %q: %v", out, err)
		}
		vals = append(vals, x)
	}
	return vals
}

func TestStatsAgainstCDO(t *testing.T) {
	for _, c := range []struct {
		fixture string
		vars    []string
		missing float64
		regions []refRegion
	}{
		{"stats_rect", []string{"sst", "temp"}, -999, rectRegions[:3]},
		{"stats_regular", []string{"sla"}, 1e20, regularRegions[:3]},
	} {
		in := fixtures.Build(t, c.fixture)
		res, _ := statsRun(t, []string{in}, statsReq(engine.Statistics{Ops: allOps, Variables: c.vars}, c.regions...), false)
		for _, v := range c.vars {
			for _, r := range c.regions {
				ms := moments(t, res.Stats, r.Name, v)
				for cdoOp, op := range map[string]string{"fldmean": engine.OpMean, "fldmin": engine.OpMin, "fldmax": engine.OpMax} {
					want := cdoField(t, in, v, cdoOp, r.BBox)
					if len(want) != len(ms) {
						t.Fatalf("%s %s %s: %d values, cdo %d", c.fixture, r.Name, v, len(ms), len(want))
					}
					for k, m := range ms {
						got, ok := m.Value(op)
						switch {
						case !ok && want[k] != c.missing:
							t.Errorf("%s %s %s [%d] %s: none, cdo %v", c.fixture, r.Name, v, k, op, want[k])
						case ok && !near(got, want[k], cdoTol):
							t.Errorf("%s %s %s [%d] %s: %.17g, cdo %.17g", c.fixture, r.Name, v, k, op, got, want[k])
						}
					}
				}
			}
		}
	}
}

func TestStatsCellMeasures(t *testing.T) {
	in := fixtures.Build(t, "curvilinear")
	rs := []refRegion{
		{Name: "box", BBox: []float64{165, -5, -170, 10}},
		{Name: "poly", Ring: [][2]float64{{163.1, -7.2}, {195.3, -2.4}, {180.6, 14.9}}},
	}
	res, _ := statsRun(t, []string{in}, statsReq(engine.Statistics{Ops: allOps}, rs...), false)
	checkAgainstReference(t, res.Stats, refCase{File: in, Var: "sst", Lat: "lat", Lon: "lon", Layout: "2d", Weights: map[string]string{"kind": "measure", "var": "cell_area"}, Regions: rs, Extra: 1}, "sst")
	if w := res.Stats.Vars[0].Weighting; w != "cell_measures area: cell_area" {
		t.Errorf("weighting %q", w)
	}
	if !res.Stats.Regions[0].Masked {
		t.Error("a region on a 2-D grid selects cells by its outline: masked")
	}
}

func TestStats2DBounds(t *testing.T) {
	in := fixtures.Build(t, "stats_curv_bounds")
	rs := []refRegion{{Name: "box", BBox: []float64{2, 22, 19, 37}}, {Name: "all", BBox: []float64{-20, 0, 40, 60}}}
	res, _ := statsRun(t, []string{in}, statsReq(engine.Statistics{Ops: allOps}, rs...), false)
	checkAgainstReference(t, res.Stats, refCase{File: in, Var: "chl", Lat: "lat", Lon: "lon", Layout: "2d", Weights: map[string]string{"kind": "bounds2d", "lat_bnds": "lat_bnds", "lon_bnds": "lon_bnds"}, Regions: rs, Extra: 1}, "chl")
}

func TestStatsCosLatSwathsAndTracks(t *testing.T) {
	box := []refRegion{{Name: "box", BBox: []float64{0, -25, 20, 0}}}
	// A 2-D grid without bounds or measures: cos(latitude), with a note.
	in := fixtures.Build(t, "swath")
	res, _ := statsRun(t, []string{in}, statsReq(engine.Statistics{Ops: allOps}, box...), false)
	if len(res.Stats.Vars) != 1 || res.Stats.Vars[0].Name != "sea_surface_temperature" {
		t.Fatalf("default variables: %+v (flags have no statistics)", res.Stats.Vars)
	}
	checkAgainstReference(t, res.Stats, refCase{File: in, Var: "sea_surface_temperature", Lat: "lat", Lon: "lon", Layout: "2d", Weights: map[string]string{"kind": "cos"}, Regions: box, Extra: 1}, "sea_surface_temperature")
	if !strings.Contains(strings.Join(res.Notes, "\n"), "cos(latitude)") {
		t.Errorf("no note on the cos(latitude) weights: %q", res.Notes)
	}
	// Declared a swath: not weighted, with a note.
	in = fixtures.Variant(t, "swath", fixtures.Values{Attrs: map[string]any{":cdm_data_type": "Swath"}})
	res, _ = statsRun(t, []string{in}, statsReq(engine.Statistics{Ops: allOps}, box...), false)
	checkAgainstReference(t, res.Stats, refCase{File: in, Var: "sea_surface_temperature", Lat: "lat", Lon: "lon", Layout: "2d", Weights: map[string]string{"kind": "none"}, Regions: box, Extra: 1}, "sea_surface_temperature")
	if !strings.Contains(strings.Join(res.Notes, "\n"), "swath") {
		t.Errorf("no note on the unweighted swath: %q", res.Notes)
	}
	// Along-track data: not weighted, no time axis of its own.
	in = fixtures.Build(t, "track")
	track := []refRegion{{Name: "box", BBox: []float64{-10, -20, 30, 40}}}
	res, _ = statsRun(t, []string{in}, statsReq(engine.Statistics{Ops: allOps, Variables: []string{"data_01/ku/swh_ocean"}}, track...), false)
	checkAgainstReference(t, res.Stats, refCase{File: in, Var: "data_01/ku/swh_ocean", Lat: "data_01/latitude", Lon: "data_01/longitude", Layout: "track", Weights: map[string]string{"kind": "none"}, Regions: track}, "data_01/ku/swh_ocean")
	if res.Stats.Vars[0].Time || !strings.Contains(strings.Join(res.Notes, "\n"), "along-track") {
		t.Errorf("track: %+v, notes %q", res.Stats.Vars[0], res.Notes)
	}
}

// split writes each time step of in to a file of its own.
func split(t *testing.T, in string, n int) []string {
	t.Helper()
	var files []string
	dir := t.TempDir()
	for i := range n {
		out := filepath.Join(dir, fmt.Sprintf("day%d.nc", i))
		if b, err := exec.Command("ncks", "-O", "-d", fmt.Sprintf("time,%d", i), in, out).CombinedOutput(); err != nil {
			t.Fatalf("ncks: %v\n%s", err, b)
		}
		files = append(files, out)
	}
	return files
}

// sameTables checks that two tables hold the same values.
func sameTables(t *testing.T, what string, got, want *engine.StatsTable) {
	t.Helper()
	g, w := got.Rows(), want.Rows()
	if len(g) != len(w) {
		t.Fatalf("%s: %d rows, want %d", what, len(g), len(w))
	}
	for i := range g {
		a, b := g[i], w[i]
		if a.Region != b.Region || a.Time != b.Time || a.Variable != b.Variable || a.Op != b.Op || a.Count != b.Count || (a.Value == nil) != (b.Value == nil) ||
			a.Value != nil && !near(*a.Value, *b.Value, 1e-12) {
			t.Errorf("%s: row %d is %s, want %s", what, i, rowText(a), rowText(b))
		}
	}
}

func rowText(r engine.StatsRow) string {
	v := "none"
	if r.Value != nil {
		v = fmt.Sprint(*r.Value)
	}
	return fmt.Sprintf("%s %s %s %s %s n=%d", r.Region, r.Time, r.Variable, r.Op, v, r.Count)
}

func TestStatsTimeSeriesAndGranules(t *testing.T) {
	needNCO(t)
	in := fixtures.Build(t, "stats_rect")
	req := statsReq(engine.Statistics{Ops: allOps, Only: true}, rectRegions...)
	whole, _ := statsRun(t, []string{in}, req, false)
	days := split(t, in, 4)
	// Days given out of order: the series is put in time order.
	days[0], days[3] = days[3], days[0]
	series, out := statsRun(t, days, req, true)
	sameTables(t, "time series", series.Stats, whole.Stats)
	if series.FilesOpened != 4 {
		t.Errorf("%d files opened", series.FilesOpened)
	}
	if ents, _ := os.ReadDir(out); len(ents) != 0 {
		t.Errorf("statistics only wrote %v", ents)
	}
	// The same files as granules: one table, the steps of every file.
	granules, _ := statsRun(t, days, req, false)
	sameTables(t, "granules", granules.Stats, whole.Stats)
	for _, r := range granules.Regions {
		if r.Name != "empty" && (r.Status != engine.StatusSuccessful || len(r.Files) != 0) {
			t.Errorf("granules, statistics only: %+v", r)
		}
	}
}

func TestStatsFilesAndCut(t *testing.T) {
	in := fixtures.Build(t, "stats_rect")
	// Statistics of a variable that is not cut.
	req := statsReq(engine.Statistics{Ops: allOps, Variables: []string{"sst"}}, rectRegions...)
	req.Variables = []string{"temp"}
	res, out := statsRun(t, []string{in}, req, false)
	src := openT(t, res.Regions[0].Files[0].Path)
	if src.File().FindVar("sst") != nil || src.File().FindVar("temp") == nil {
		t.Errorf("the cut holds the variables of the request, not those of the statistics")
	}
	files, err := engine.WriteStats(res.Stats, []string{"stats_rect.nc"}, engine.Options{OutDir: out, Open: open.Source, Create: open.Sink, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	rows := res.Stats.Rows()
	// stats.csv holds every row.
	f, err := os.Open(files[1].Path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "region,time,variable,op,value,count" || len(recs) != len(rows)+1 {
		t.Fatalf("stats.csv: header %v, %d rows for %d", recs[0], len(recs)-1, len(rows))
	}
	for i, r := range rows {
		val := ""
		if r.Value != nil {
			val = engine.FormatStat(*r.Value)
		}
		want := []string{r.Region, r.Time, r.Variable, r.Op, val, strconv.FormatInt(r.Count, 10)}
		if strings.Join(recs[i+1], ",") != strings.Join(want, ",") {
			t.Errorf("stats.csv row %d: %v, want %v", i+1, recs[i+1], want)
		}
	}
	// stats.nc holds the same values.
	nc := openT(t, files[0].Path)
	fl := nc.File()
	for _, name := range []string{"region", "lat", "lon", "lat_bnds", "lon_bnds", "time", "sst_mean", "sst_std", "sst_count"} {
		if fl.FindVar(name) == nil {
			t.Errorf("stats.nc has no %s", name)
		}
	}
	if a, _ := fl.Root.Attr("featureType"); a.Text() != "timeSeries" {
		t.Errorf("featureType %q", a.Text())
	}
	mean := fl.FindVar("sst_mean")
	if cm := mean.AttrString("cell_methods"); cm != "time: mean area: mean where region" {
		t.Errorf("cell_methods %q", cm)
	}
	vals := allValues(t, nc, mean)
	counts := allValues(t, nc, fl.FindVar("sst_count"))
	k := 0
	for _, r := range rows {
		if r.Op != engine.OpMean {
			continue
		}
		if int64(counts[k]) != r.Count || (r.Value == nil) != math.IsNaN(vals[k]) || r.Value != nil && *r.Value != vals[k] {
			t.Errorf("stats.nc %s %s: %v (count %v), the table %s", r.Region, r.Time, vals[k], counts[k], rowText(r))
		}
		k++
	}
	// The empty region and the all-fill step: rows with count 0 and no value.
	for _, r := range rows {
		if (r.Region == "empty" || r.Region == "patch" && strings.HasPrefix(r.Time, "2021-06-03")) && (r.Count != 0 || r.Op != engine.OpCount && r.Value != nil) {
			t.Errorf("row %s: want count 0 and no value", rowText(r))
		}
	}
}
