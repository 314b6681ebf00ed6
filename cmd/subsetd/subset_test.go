package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/testutil/fixtures"
)

// smallFile is the grid_small case as small.nc, the name the messages
// below mention.
func smallFile(t *testing.T) string {
	t.Helper()
	return fixtures.CopyTo(t, fixtures.Build(t, "grid_small"), filepath.Join(t.TempDir(), "small.nc"))
}

func runCLI(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestSubsetJSON(t *testing.T) {
	in := smallFile(t)
	out := t.TempDir()
	code, stdout, stderr := runCLI("subset", "--json", "--out", out, "--time", "2020-02/2020-03",
		"--region", "east=20,-40,160,0", "--region", "wrap=330,0,30,40", "--region", "none=0,60,10,70", in)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res engine.Result
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	want := []struct {
		name, status string
		shape        map[string]int
	}{
		{"east", "successful", map[string]int{"time": 2, "lat": 2, "lon": 4}},
		{"wrap", "successful", map[string]int{"time": 2, "lat": 2, "lon": 2}},
		{"none", "empty", nil},
	}
	for i, w := range want {
		r := res.Regions[i]
		if r.Name != w.name || r.Status != w.status {
			t.Errorf("region %d: %s %s (%s), want %s %s", i, r.Name, r.Status, r.Message, w.name, w.status)
			continue
		}
		if w.shape == nil {
			if len(r.Files) != 0 || !strings.Contains(r.Message, "does not intersect") {
				t.Errorf("empty region: %+v", r)
			}
			continue
		}
		f := r.Files[0]
		for k, n := range w.shape {
			if f.Shape[k] != n {
				t.Errorf("%s: shape %v, want %v", w.name, f.Shape, w.shape)
			}
		}
		if len(f.Sha256) != 64 || f.Size == 0 || f.Name != w.name+".nc" {
			t.Errorf("%s: file %+v", w.name, f)
		}
	}
	// The wrapped region's longitudes are made monotonic: 337.5 then 382.5.
	dump, err := exec.Command("ncdump", "-v", "lon,sst", filepath.Join(out, "wrap.nc")).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(dump), "lon = 337.5, 382.5 ;") {
		t.Errorf("wrapped longitudes:\n%s", dump)
	}
	// time 31 and 59 (Feb 1, Mar 1 in noleap), lat 10 and 30, lon 337.5 then 22.5.
	if !strings.Contains(string(dump), "sst =\n  124, 117,\n  132, 125,\n  224, 217,\n  232, 225 ;") {
		t.Errorf("wrapped values:\n%s", dump)
	}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

// TestSubsetSelectRule: --select says which cells a box takes; a box
// between latitude centres takes the rows containing it under either rule,
// and a GeoJSON Point the cell holding it.
func TestSubsetSelectRule(t *testing.T) {
	in := smallFile(t)
	// Cells (from the mid-points): lat -10 spans -20..0 and 10 0..20; lon
	// 22.5 spans 0..45 and 67.5 45..90. The box [30, -5, 80, 5] holds the
	// centre 67.5 only and no latitude centre.
	points := filepath.Join(t.TempDir(), "points.geojson")
	if err := os.WriteFile(points, []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"gauge"},"geometry":{"type":"Point","coordinates":[50,12]}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args  []string
		shape map[string]int
	}{
		{[]string{"--region", "b=30,-5,80,5"}, map[string]int{"time": 3, "lat": 2, "lon": 1}},
		{[]string{"--select", "overlap", "--region", "b=30,-5,80,5"}, map[string]int{"time": 3, "lat": 2, "lon": 2}},
		{[]string{"--regions", points}, map[string]int{"time": 3, "lat": 1, "lon": 1}},
	} {
		args := append([]string{"subset", "--json", "--out", t.TempDir()}, tc.args...)
		code, stdout, stderr := runCLI(append(args, in)...)
		var res engine.Result
		if code != 0 || json.Unmarshal([]byte(stdout), &res) != nil {
			t.Fatalf("%v: exit %d %s", tc.args, code, stderr)
		}
		if r := res.Regions[0]; r.Status != engine.StatusSuccessful || fmt.Sprint(r.Files[0].Shape) != fmt.Sprint(tc.shape) {
			t.Errorf("%v: %+v, want shape %v", tc.args, r, tc.shape)
		}
	}
}

func TestSubsetErrors(t *testing.T) {
	in := smallFile(t)
	dir := t.TempDir()
	random := filepath.Join(dir, "random.nc")
	os.WriteFile(random, bytes.Repeat([]byte{0xde, 0xad, 0xbe, 0xef, 0x01}, 2000), 0o644)
	truncated := filepath.Join(dir, "truncated.nc")
	data, _ := os.ReadFile(in)
	os.WriteFile(truncated, data[:len(data)/2], 0o644)
	classic := filepath.Join(dir, "classic.nc")
	if out, err := exec.Command("ncks", "-O", "-3", in, classic).CombinedOutput(); err != nil {
		t.Fatalf("ncks: %v %s", err, out)
	}
	data, _ = os.ReadFile(classic)
	truncated3 := filepath.Join(dir, "truncated3.nc")
	os.WriteFile(truncated3, data[:len(data)-40], 0o644)
	readonly := filepath.Join(dir, "readonly")
	os.Mkdir(readonly, 0o555)
	notDir := filepath.Join(dir, "file")
	os.WriteFile(notDir, nil, 0o644)

	regionsFile := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	caseFolded := regionsFile("folded.json", `{"regions": [{"Name": "a", "bbox": [0, 0, 10, 10]}]}`)
	twice := regionsFile("twice.json", `{"regions": [{"name": "a", "name": "b", "bbox": [0, 0, 10, 10]}]}`)
	dash := regionsFile("dash.json", `{"regions": [{"name": "-rf", "bbox": [0, 0, 10, 10]}]}`)
	unclosed := regionsFile("unclosed.geojson", `{"type": "Polygon", "coordinates": [[[0, 0], [10, 0], [10, 10], [0, 10]]]}`)
	ok := "--region=a=0,-40,180,40"
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"random bytes", []string{ok, random}, 1, "cannot read random.nc: not a NetCDF or HDF5 file"},
		{"truncated netCDF-4", []string{ok, truncated}, 1, "cannot read truncated.nc: corrupt or truncated"},
		{"truncated netCDF-3", []string{ok, truncated3}, 1, "cannot read truncated3.nc: truncated file"},
		{"missing file", []string{ok, filepath.Join(dir, "nope.nc")}, 1, "cannot read nope.nc: no such file or directory"},
		{"unknown variable", []string{ok, "--vars", "sst,salinity", in}, 2, `--vars: unknown variable "salinity" in small.nc; it has: time, lat, lon, sst`},
		{"latitude outside", []string{"--region", "a=0,-95,10,10", in}, 2, "--region a: latitude outside [-90, 90]: south -95, north 10 (a box is W,S,E,N: west, south, east, north)"},
		{"south > north", []string{"--region", "a=0,10,10,-10", in}, 2, "south (10) is greater than north (-10) (a box is W,S,E,N"},
		{"NaN", []string{"--region", "a=0,NaN,10,10", in}, 2, "bbox south is NaN"},
		{"Inf", []string{"--region", "a=-Inf,0,10,10", in}, 2, "bbox west is -Inf"},
		{"bad time", []string{ok, "--time", "2020-02-30x/2020-03", in}, 2, `bad time "2020-02-30x"`},
		{"time not a range", []string{ok, "--time", "2020-02-01", in}, 2, "must be START/END"},
		{"date not in calendar", []string{ok, "--time", "2020-02-29/2020-03-01", in}, 2, "2020-02-29 does not exist in the noleap calendar"},
		{"time outside data", []string{ok, "--time", "2030-01-01/2030-12-31", in}, 2, "--time: time range 2030-01-01/2030-12-31 is outside the data of small.nc (time coverage 2020-01-01T00:00:00Z..2020-03-01T00:00:00Z)"},
		{"start after end", []string{ok, "--time", "2020-03-01/2020-01-01", in}, 2, "start 2020-03-01 is after end 2020-01-01"},
		{"output not writable", []string{ok, "--out", filepath.Join(notDir, "sub"), in}, 1, "is not writable"},
		{"bad deflate", []string{ok, "--deflate", "12", in}, 2, "--deflate: deflate level must be 0..9"},
		{"bad format", []string{ok, "--format", "zarr", in}, 2, `unknown format "zarr"`},
		{"bad stride", []string{ok, "--stride", "depth=2", in}, 2, `--stride: small.nc has no dimension "depth": use time, lat, lon, vertical or one of its dimensions (time, lat, lon)`},
		{"bad select", []string{ok, "--select", "nearest", in}, 2, `--select: unknown selection rule "nearest"`},
		{"duplicate names", []string{"--region", "a=0,0,1,1", "--region", "a=2,2,3,3", in}, 2, `--region a: region name "a" is used twice (also --region a)`},
		{"unknown statistic", []string{ok, "--stats", "mean,median", in}, 2, `--stats: unknown statistic "median"`},
		{"bad weights", []string{ok, "--stats", "mean", "--weights", "cos", in}, 2, `unknown weights "cos"`},
		{"statistics of a coordinate", []string{ok, "--stats", "mean", "--stats-vars", "lat", in}, 2, "no statistics of lat: it is a coordinate"},
		{"region named stats", []string{"--region", "stats=0,0,10,10", "--stats", "mean", in}, 2, `region name "stats" is the name of the statistics file stats.nc`},
		{"stats flags without --stats", []string{ok, "--stats-only", in}, 2, "--stats-only: needs --stats"},
		{"no region", []string{in}, 2, "give at least one --region"},
		// What a server refuses of a job, refused by the same rules.
		{"case-folded name", []string{"--regions", caseFolded, in}, 2, `regions[0].Name: unknown field "Name": names are case-sensitive ("name")`},
		{"name twice", []string{"--regions", twice, in}, 2, `regions[0].name: "name" is given twice in one object`},
		{"name starting with -", []string{"--regions", dash, in}, 2, `region name "-rf" must not start with '-'`},
		{"region flag starting with -", []string{"--region", "-rf=0,0,10,10", in}, 2, `region name "-rf" must not start with '-'`},
		{"unclosed ring", []string{"--regions", unclosed, in}, 2, "ring 0 is not closed: its last position [0 10] is not its first [0 0]"},
		{"no file", []string{ok}, 2, "no input FILE"},
	}
	if os.Getuid() != 0 {
		tests = append(tests, struct {
			name string
			args []string
			code int
			want string
		}{"read-only output", []string{ok, "--out", readonly, in}, 1, "is not writable: permission denied"})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"subset", "--out", t.TempDir()}, tc.args...)
			code, _, stderr := runCLI(args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tc.code, tc.want)
			}
		})
	}
}

func TestSubsetStatistics(t *testing.T) {
	in := smallFile(t)
	out := t.TempDir()
	code, stdout, stderr := runCLI("subset", "--json", "--out", out, "--stats", "mean,count", "--stats-only",
		"--region", "east=20,-40,160,0", "--region", "none=0,60,10,70", in)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res struct {
		engine.Result
		Statistics []engine.OutFile `json:"statistics"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Statistics) != 2 || res.Statistics[0].Name != "stats.nc" || res.Statistics[1].Name != "stats.csv" {
		t.Fatalf("statistics files %+v", res.Statistics)
	}
	ents, _ := os.ReadDir(out)
	if len(ents) != 2 {
		t.Errorf("--stats-only wrote %v", ents)
	}
	if res.Regions[0].Status != engine.StatusSuccessful || res.Regions[1].Status != engine.StatusEmpty {
		t.Errorf("regions %+v", res.Regions)
	}
	csv, err := os.ReadFile(filepath.Join(out, "stats.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(csv)), "\n")
	// 2 regions x 3 steps x 1 variable x 2 ops, the empty region's without values.
	if lines[0] != "region,time,variable,op,value,count" || len(lines) != 1+12 || lines[7] != "none,2020-01-01T00:00:00Z,sst,mean,,0" {
		t.Errorf("stats.csv:\n%s", csv)
	}
	// With the cut: the files of both, listed.
	out = t.TempDir()
	code, stdout, stderr = runCLI("subset", "--out", out, "--stats", "mean", "--region", "east=20,-40,160,0", in)
	if code != 0 || !strings.Contains(stdout, filepath.Join(out, "east.nc")) || !strings.Contains(stdout, filepath.Join(out, "stats.csv")) {
		t.Errorf("exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestNetCDF3Output(t *testing.T) {
	in := smallFile(t)
	out := t.TempDir()
	code, _, stderr := runCLI("subset", "--format", "netcdf3", "--out", out, "--region", "a=0,-40,180,40", in)
	if code != 0 {
		t.Fatal(stderr)
	}
	kind, err := exec.Command("ncdump", "-k", filepath.Join(out, "a.nc")).Output()
	if err != nil || strings.TrimSpace(string(kind)) != "64-bit offset" {
		t.Errorf("format %q %v", kind, err)
	}
	head, _ := exec.Command("ncdump", "-h", filepath.Join(out, "a.nc")).Output()
	if !strings.Contains(string(head), "time = UNLIMITED ; // (3 currently)") {
		t.Errorf("unlimited time lost:\n%s", head)
	}
}

func TestHelp(t *testing.T) {
	for _, cmd := range commands() {
		code, stdout, stderr := runCLI(cmd.name, "--help")
		if code != 0 || !strings.Contains(stdout, "Usage: subsetd "+cmd.name) || stderr != "" || strings.Count(stdout, "Usage:") != 1 {
			t.Errorf("%s --help: exit %d\nstdout:\n%s\nstderr:\n%s", cmd.name, code, stdout, stderr)
		}
	}
	code, stdout, _ := runCLI("--help")
	if code != 0 || !strings.Contains(stdout, "subset") {
		t.Errorf("--help: %d %s", code, stdout)
	}
	if code, _, _ := runCLI("frobnicate"); code != 2 {
		t.Errorf("unknown command: exit %d", code)
	}
}

func TestInspect(t *testing.T) {
	in := smallFile(t)
	code, stdout, stderr := runCLI("inspect", "--json", in)
	if code != 0 {
		t.Fatal(stderr)
	}
	var d engine.Description
	if err := json.Unmarshal([]byte(stdout), &d); err != nil {
		t.Fatal(err)
	}
	if d.Format != "netcdf4" || d.Extent == nil || d.Extent.LatMin != -30 || d.Extent.LonMax != 337.5 ||
		d.Time == nil || d.Time.Start != "2020-01-01T00:00:00Z" || d.Time.End != "2020-03-01T00:00:00Z" || d.Time.Calendar != "noleap" {
		t.Errorf("description: %s", stdout)
	}
	code, stdout, _ = runCLI("inspect", in)
	if code != 0 || !strings.Contains(stdout, "grid: rectilinear, lat lat, lon lon") {
		t.Errorf("text inspect:\n%s", stdout)
	}
}

// The child's standard error reaches the user as it comes, progress lines
// included, and the Go runtime's report of a crash in C code does not.
func TestCrashFilter(t *testing.T) {
	var b strings.Builder
	f := &crashFilter{w: &b}
	for _, s := range []string{"note: a\n", "\rregions 1/2", "\rregions 2/2", "\r\n", "SI", "GSEGV: segmentation violation\n", "PC=0x0 m=0\n", "rax 0x0\n"} {
		f.Write([]byte(s))
		if s == "\rregions 1/2" && b.String() != "note: a\n\rregions 1/2" {
			t.Errorf("progress held: %q", b.String())
		}
	}
	f.flush()
	if b.String() != "note: a\n\rregions 1/2\rregions 2/2\r\n" {
		t.Errorf("copied %q", b.String())
	}
	b.Reset()
	f = &crashFilter{w: &b}
	f.Write([]byte("Signal strength\nfatal error: unexpected signal during runtime execution\n[signal SIGSEGV: segmentation violation]\n"))
	f.flush()
	if b.String() != "Signal strength\n" {
		t.Errorf("copied %q", b.String())
	}
}
