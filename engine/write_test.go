package engine

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/ncmodel/memfile"
	"github.com/subsetd/subsetd/regions"
)

func TestRunWritesMetadata(t *testing.T) {
	t.Parallel()
	g := grid{lat0: -85, dlat: 10, nlat: 18, lon0: 5, dlon: 10, nlon: 36, ntime: 5, dt: 1}
	b := g.nc("/data/sst_2000.nc").attr(txt("history", "2023-01-01: made by hand\n"), txt("Conventions", "CF-1.8"),
		num("geospatial_lat_min", ncmodel.Double, -90))
	e := newEnv(t)
	e.opt.Command = "subsetd subset --region a=..."
	in := e.put("/data/sst_2000.nc", b.build())
	req := &Request{
		Regions:   []regions.Fixed{bbox("pacific", 170, -20, -170, 20), bbox("world", -180, -90, 180, 90)},
		Variables: []string{"sst"},
		Time:      &TimeRange{Start: "2000-01-02", End: "2000-01-04"},
	}
	res := e.run(t, req, in)
	p, w := e.out(t, res.Regions[0]), e.out(t, res.Regions[1])

	if got, want := globalText(p, "history"), "2023-01-01: made by hand\n2024-05-06T07:08:09Z: subsetd subset --region a=... (subsetd 1.2.3, region pacific)"; got != want {
		t.Errorf("history %q, want %q", got, want)
	}
	if got := globalText(p, "Conventions") + "|" + globalText(p, "title"); got != "CF-1.8|test grid" {
		t.Errorf("global attributes of the input lost: %s", got)
	}
	// The extent of the selected cell centres: lat -15..15, lon 175..185,
	// written as -180..180 longitudes.
	for name, want := range map[string]float64{"geospatial_lat_min": -15, "geospatial_lat_max": 15, "geospatial_lon_min": 175, "geospatial_lon_max": -175} {
		if got := globalNum(t, p, name); got != want {
			t.Errorf("pacific %s = %v, want %v", name, got, want)
		}
	}
	// The whole row of centres 5..355 is -175..175 in -180..180: it does
	// not cross the antimeridian (ACDD: a minimum above the maximum would).
	for name, want := range map[string]float64{"geospatial_lat_min": -85, "geospatial_lat_max": 85, "geospatial_lon_min": -175, "geospatial_lon_max": 175} {
		if got := globalNum(t, w, name); got != want {
			t.Errorf("world %s = %v, want %v", name, got, want)
		}
	}
	// Days 2 to 4 are steps 1..3.
	if got := globalText(p, "time_coverage_start") + " " + globalText(p, "time_coverage_end"); got != "2000-01-02T00:00:00Z 2000-01-04T00:00:00Z" {
		t.Errorf("time coverage %s", got)
	}
	var one Request
	if err := json.Unmarshal([]byte(globalText(p, "subsetd_request")), &one); err != nil {
		t.Fatal(err)
	}
	want := *req
	want.Regions = req.Regions[:1]
	if !reflect.DeepEqual(one, want) {
		t.Errorf("subsetd_request %+v, want %+v", one, want)
	}
	if got := globalText(p, "subsetd_version") + " " + globalText(p, "subsetd_source"); got != "1.2.3 sst_2000.nc" {
		t.Errorf("version and source: %s", got)
	}
	e.opt.Command = ""
	res = e.run(t, &Request{Regions: req.Regions[:1]}, in)
	if h := globalText(e.out(t, res.Regions[0]), "history"); !strings.HasSuffix(h, "\n2024-05-06T07:08:09Z: subsetd subset (subsetd 1.2.3, region pacific)") {
		t.Errorf("default command in history: %q", h)
	}
}

func TestRunStorage(t *testing.T) {
	t.Parallel()
	g := grid{lat0: -85, dlat: 10, nlat: 18, lon0: 5, dlon: 10, nlon: 36, ntime: 3, dt: 1}
	level := func(n int) *int { return &n }
	tests := []struct {
		out     Output
		format  ncmodel.Format
		deflate int
	}{
		{Output{}, ncmodel.FormatNetCDF4, DefaultDeflate},
		{Output{Format: FormatNetCDF4, Deflate: level(6)}, ncmodel.FormatNetCDF4, 6},
		{Output{Deflate: level(0)}, ncmodel.FormatNetCDF4, 0},
		{Output{Format: FormatNetCDF3}, ncmodel.Format64BitOffset, 0},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.format, tc.deflate), func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			in := e.put("/data/g.nc", g.file("/data/g.nc"))
			r := bbox("a", 0, 0, 90, 40)
			res := e.run(t, &Request{Regions: []regions.Fixed{r}, Output: tc.out}, in)
			out := e.out(t, res.Regions[0])
			checkGridCut(t, out, g, r, seq(0, 2))
			if f := out.File().Format; f != tc.format {
				t.Errorf("format %s, want %s", f, tc.format)
			}
			for _, v := range out.File().Vars() {
				// Small variables are one chunk each.
				wantChunks := []int(nil)
				if !tc.format.IsNetCDF3() {
					wantChunks = v.Shape()
				}
				if !slices.Equal(v.Chunks, wantChunks) {
					t.Errorf("%s chunks %v, want %v", v.Name, v.Chunks, wantChunks)
				}
				if v.Deflate != tc.deflate || v.Shuffle != (tc.deflate > 0) {
					t.Errorf("%s deflate %d shuffle %v, want %d", v.Name, v.Deflate, v.Shuffle, tc.deflate)
				}
			}
		})
	}
}

func TestRunOutputNamesAndChecksums(t *testing.T) {
	t.Parallel()
	g := grid{lat0: -85, dlat: 10, nlat: 18, lon0: 5, dlon: 10, nlon: 36, ntime: 1, dt: 1}
	e := newEnv(t)
	var files []string
	for _, p := range []string{"/data/a/day1.nc", "/data/b/day1.nc", "/data/day2.nc.gz", "/data/day3.h5"} {
		files = append(files, e.put(p, g.file(p)))
	}
	rs := []regions.Fixed{bbox("r1", 0, 0, 30, 30), bbox("r2", 100, -50, 130, -20)}
	res := e.run(t, &Request{Regions: rs}, files...)
	if res.FilesOpened != 4 {
		t.Errorf("files opened %d", res.FilesOpened)
	}
	wantNames := []string{"day1.nc", "day1-2.nc", "day2.nc", "day3.nc"}
	wantSource := []string{"day1.nc", "day1.nc", "day2.nc.gz", "day3.h5"}
	written := int64(0)
	for k, r := range res.Regions {
		if r.Status != StatusSuccessful || len(r.Files) != len(files) {
			t.Fatalf("%s: %s %q, %d files", r.Name, r.Status, r.Message, len(r.Files))
		}
		for i, f := range r.Files {
			if want := rs[k].Name + "/" + wantNames[i]; f.Name != want {
				t.Errorf("output %q, want %q", f.Name, want)
			}
			if want := filepath.Join(e.opt.OutDir, rs[k].Name, wantNames[i]); f.Path != want {
				t.Errorf("path %s, want %s", f.Path, want)
			}
			if f.Source != wantSource[i] {
				t.Errorf("%s: source %s, want %s", f.Name, f.Source, wantSource[i])
			}
			m := e.st.Get(f.Path)
			if m == nil {
				t.Fatalf("%s not in the store", f.Path)
			}
			checkGridCut(t, m, g, rs[k], []int{0})
			raw := m.Bytes()
			sh, m5 := sha256.Sum256(raw), md5.Sum(raw)
			if f.Size != int64(len(raw)) || f.Sha256 != hex.EncodeToString(sh[:]) || f.Md5 != hex.EncodeToString(m5[:]) {
				t.Errorf("%s: size %d sha256 %s md5 %s, not those of the file", f.Name, f.Size, f.Sha256, f.Md5)
			}
			written += f.Size
		}
	}
	if res.BytesWritten != written {
		t.Errorf("bytes written %d, files sum to %d", res.BytesWritten, written)
	}
	e.noTemp(t)
	// The folder probe leaves nothing either: only the region folders.
	ents, _ := os.ReadDir(e.opt.OutDir)
	var got []string
	for _, d := range ents {
		got = append(got, d.Name())
	}
	if fmt.Sprint(got) != "[r1 r2]" {
		t.Errorf("output folder holds %v", got)
	}
}

func TestRunSelectsVariablesWithWhatTheyReference(t *testing.T) {
	t.Parallel()
	// A 0..360 grid with bounds, a grid mapping, an ancillary variable, a
	// cell measure, auxiliary coordinates and a variable on other dimensions.
	b := newNC("/data/v.nc", ncmodel.FormatNetCDF4).
		dim("time", -2).dim("lat", 6).dim("lon", 12).dim("nv", 2).dim("station", 3).
		v("time", ncmodel.Double, "time", func(i []int) float64 { return float64(i[0]) }, txt("units", "days since 2000-01-01"), txt("bounds", "time_bnds")).
		v("time_bnds", ncmodel.Double, "time nv", func(i []int) float64 { return float64(i[0]) + float64(i[1]) - 0.5 }).
		v("lat", ncmodel.Float, "lat", func(i []int) float64 { return -75 + 30*float64(i[0]) }, txt("units", "degrees_north"), txt("bounds", "lat_bnds")).
		v("lat_bnds", ncmodel.Float, "lat nv", func(i []int) float64 { return -90 + 30*float64(i[0]+i[1]) }).
		v("lon", ncmodel.Float, "lon", func(i []int) float64 { return 15 + 30*float64(i[0]) }, txt("units", "degrees_east"), txt("bounds", "lon_bnds")).
		v("lon_bnds", ncmodel.Float, "lon nv", func(i []int) float64 { return 30 * float64(i[0]+i[1]) }).
		v("crs", ncmodel.Int, "", nil, txt("grid_mapping_name", "latitude_longitude")).
		v("cell_area", ncmodel.Float, "lat lon", func(i []int) float64 { return float64(100*i[0] + i[1]) }).
		v("sst", ncmodel.Float, "time lat lon", func(i []int) float64 { return sstAt(i[0], i[1], i[2]) },
			txt("grid_mapping", "crs"), txt("ancillary_variables", "sst_err"), txt("cell_measures", "area: cell_area"), txt("coordinates", "label")).
		v("sst_err", ncmodel.Float, "time lat lon", nil).
		v("label", ncmodel.Int, "lat lon", nil).
		v("wind", ncmodel.Float, "time lat lon", nil).
		v("station_id", ncmodel.Int, "station", nil)
	e := newEnv(t)
	in := e.put("/data/v.nc", b.build())
	r := bbox("a", 300, -50, 60, 50) // across 0°: 315, 345 then 15, 45 (shifted to 375, 405)
	res := e.run(t, &Request{Regions: []regions.Fixed{r}, Variables: []string{"sst"}}, in)
	out := e.out(t, res.Regions[0])
	want := []string{"time", "time_bnds", "lat", "lat_bnds", "lon", "lon_bnds", "crs", "cell_area", "sst", "sst_err", "label"}
	if got := varNames(out.File()); !reflect.DeepEqual(got, want) {
		t.Errorf("variables %v, want %v", got, want)
	}
	var dims []string
	for _, d := range out.File().Root.Dims {
		dims = append(dims, d.Name)
	}
	if fmt.Sprint(dims) != "[time lat lon nv]" {
		t.Errorf("dimensions %v: unused ones should go", dims)
	}
	lon := values(t, out, "lon")
	if fmt.Sprint(lon) != "[315 345 375 405]" {
		t.Errorf("lon %v", lon)
	}
	// Bounds follow their coordinate across the seam.
	bnds := values(t, out, "lon_bnds")
	for i, x := range lon {
		if bnds[2*i] != x-15 || bnds[2*i+1] != x+15 {
			t.Errorf("lon_bnds[%d] = %v, %v around %v", i, bnds[2*i], bnds[2*i+1], x)
		}
	}
	lat := values(t, out, "lat")
	lb := values(t, out, "lat_bnds")
	for j, y := range lat {
		if lb[2*j] != y-15 || lb[2*j+1] != y+15 {
			t.Errorf("lat_bnds[%d] = %v, %v around %v", j, lb[2*j], lb[2*j+1], y)
		}
	}
	// cell_area follows the cut like data.
	area := values(t, out, "cell_area")
	for jj, y := range lat {
		for ii, x := range lon {
			j, i := int((y+75)/30), int(mod360(x)-15)/30
			if area[jj*len(lon)+ii] != float64(100*j+i) {
				t.Fatalf("cell_area at %v, %v = %v", y, x, area[jj*len(lon)+ii])
			}
		}
	}
	if tb := values(t, out, "time_bnds"); fmt.Sprint(tb) != "[-0.5 0.5 0.5 1.5]" {
		t.Errorf("time_bnds %v", tb)
	}
}

func TestRunGroups(t *testing.T) {
	t.Parallel()
	// An HDF-EOS-like file: the grid and its data in /Grid, a root time.
	b := newNC("/data/gpm.h5", ncmodel.FormatNetCDF4).
		dim("time", 1).
		v("time", ncmodel.Double, "time", func([]int) float64 { return 3 }, txt("units", "hours since 2020-01-01")).
		group("Grid").dim("lat", 10).dim("lon", 20).
		v("lat", ncmodel.Float, "lat", func(i []int) float64 { return -45 + 10*float64(i[0]) }, txt("units", "degrees_north")).
		v("lon", ncmodel.Float, "lon", func(i []int) float64 { return -171 + 18*float64(i[0]) }, txt("units", "degrees_east")).
		v("precip", ncmodel.Float, "time lon lat", func(i []int) float64 { return float64(100*i[1] + i[2]) }).
		v("other", ncmodel.Float, "lat", nil).
		group("/").group("Meta").v("note", ncmodel.Int, "", nil)
	e := newEnv(t)
	in := e.put("/data/gpm.h5", b.build())
	res := e.run(t, &Request{Regions: []regions.Fixed{bbox("a", 0, -10, 60, 30)}, Variables: []string{"/Grid/precip"}}, in)
	out := e.out(t, res.Regions[0])
	if got := varNames(out.File()); fmt.Sprint(got) != "[time Grid/lat Grid/lon Grid/precip]" {
		t.Errorf("variables %v", got)
	}
	// lat -5..25 (indices 4..7), lon 9, 27, 45 (indices 10..12).
	if got := fmt.Sprint(res.Regions[0].Files[0].Shape); got != "map[/Grid/lat:4 /Grid/lon:3 time:1]" {
		t.Errorf("shape %s", got)
	}
	pr := values(t, out, "/Grid/precip")
	n := 0
	for i := 10; i <= 12; i++ {
		for j := 4; j <= 7; j++ {
			if pr[n] != float64(100*i+j) {
				t.Fatalf("precip[%d] = %v, want lon %d lat %d", n, pr[n], i, j)
			}
			n++
		}
	}
	if len(out.File().Root.Groups) != 1 {
		t.Errorf("empty groups kept: %d groups", len(out.File().Root.Groups))
	}
}

// TestRunDefineFailures: what the output format cannot hold fails the
// region with the reason, and leaves nothing behind.
func TestRunDefineFailures(t *testing.T) {
	t.Parallel()
	grouped := newNC("/data/grouped.nc", ncmodel.FormatNetCDF4).
		dim("lat", 3).dim("lon", 3).
		v("lat", ncmodel.Float, "lat", func(i []int) float64 { return float64(i[0]) }, txt("units", "degrees_north")).
		v("lon", ncmodel.Float, "lon", func(i []int) float64 { return float64(i[0]) }, txt("units", "degrees_east")).
		group("extra").v("count", ncmodel.Int, "lat lon", nil)
	wide := newNC("/data/wide.nc", ncmodel.FormatNetCDF4).
		dim("lat", 3).dim("lon", 3).
		v("lat", ncmodel.Float, "lat", func(i []int) float64 { return float64(i[0]) }, txt("units", "degrees_north")).
		v("lon", ncmodel.Float, "lon", func(i []int) float64 { return float64(i[0]) }, txt("units", "degrees_east")).
		v("id", ncmodel.Int64, "lat lon", func(i []int) float64 { return float64(i[0]*3 + i[1]) })
	for name, b := range map[string]*nc{"groups": grouped, "int64": wide} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			in := e.put(b.f.Path, b.build())
			req := &Request{Regions: []regions.Fixed{bbox("a", 0, 0, 1, 1)}, Output: Output{Format: FormatNetCDF3}}
			res := e.run(t, req, in)
			r := res.Regions[0]
			want := map[string]string{"groups": "format 64bit_offset cannot hold groups other than the root", "int64": "format 64bit_offset cannot hold type int64"}[name]
			if r.Status != StatusFailed || !strings.Contains(r.Message, "region a: cannot write 64bit_offset") || !strings.Contains(r.Message, want) || len(r.Files) != 0 {
				t.Errorf("%+v, want failed with %q", r, want)
			}
			if len(e.st.Paths()) != 1 {
				t.Errorf("store holds %v", e.st.Paths())
			}
			// netCDF-4 holds both.
			req.Output = Output{}
			res = e.run(t, req, in)
			if out := e.out(t, res.Regions[0]); len(out.File().Vars()) != 3 {
				t.Errorf("netcdf4 output has %v", varNames(out.File()))
			}
		})
	}
}

// faultySink wraps a Sink to break what the engine must notice: define
// changes a copy of the description, write may change values or drop them.
type faultySink struct {
	ncmodel.Sink
	define func(*ncmodel.File)
	write  func(path string, a *ncmodel.Array) (drop bool)
}

func (s faultySink) Define(f *ncmodel.File) error {
	if s.define != nil {
		f = memfile.Clone(f)
		s.define(f)
	}
	return s.Sink.Define(f)
}

func (s faultySink) Write(path string, start []int, a *ncmodel.Array) error {
	if s.write != nil && s.write(path, a) {
		return nil
	}
	return s.Sink.Write(path, start, a)
}

func TestRunVerifiesWhatItWrote(t *testing.T) {
	t.Parallel()
	g := grid{lat0: -85, dlat: 10, nlat: 18, lon0: 5, dlon: 10, nlon: 36, ntime: 2, dt: 1}
	tests := []struct {
		name string
		sink faultySink
		want string
	}{
		{"value changed", faultySink{write: func(path string, a *ncmodel.Array) bool {
			if path == "/sst" {
				a.SetFloat64(0, a.Float64(0)+1)
			}
			return false
		}}, "first value reads back as"},
		{"variable dropped", faultySink{
			define: func(f *ncmodel.File) {
				f.Root.Vars = slices.DeleteFunc(f.Root.Vars, func(v *ncmodel.Var) bool { return v.Name == "sst" })
			},
			write: func(path string, _ *ncmodel.Array) bool { return path == "/sst" },
		}, "variable /sst missing"},
		{"dimension resized", faultySink{define: func(f *ncmodel.File) {
			f.Root.Dims[1].Len++
		}}, "dimension lat has length"},
		{"dimension renamed", faultySink{define: func(f *ncmodel.File) {
			f.Root.Dims[1].Name += "_x"
		}}, "dimension lat missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			in := e.put("/data/g.nc", g.file("/data/g.nc"))
			e.opt.Create = func(path string, format ncmodel.Format) (ncmodel.Sink, error) {
				s, err := e.st.Create(path, format)
				sink := tc.sink
				sink.Sink = s
				return sink, err
			}
			res := e.run(t, &Request{Regions: []regions.Fixed{bbox("a", 0, 0, 40, 40)}}, in)
			r := res.Regions[0]
			if r.Status != StatusFailed || !strings.Contains(r.Message, "checking output of region a") || !strings.Contains(r.Message, tc.want) {
				t.Errorf("%+v, want a failed check: %s", r, tc.want)
			}
			if len(e.st.Paths()) != 1 {
				t.Errorf("store holds %v", e.st.Paths())
			}
		})
	}
}

func TestRunCreateFailureFailsTheRegions(t *testing.T) {
	t.Parallel()
	g := grid{lat0: -85, dlat: 10, nlat: 18, lon0: 5, dlon: 10, nlon: 36, ntime: 1, dt: 1}
	e := newEnv(t)
	in := e.put("/data/g.nc", g.file("/data/g.nc"))
	e.opt.Create = func(path string, format ncmodel.Format) (ncmodel.Sink, error) {
		return nil, fmt.Errorf("disk full")
	}
	res := e.run(t, &Request{Regions: []regions.Fixed{bbox("a", 0, 0, 40, 40), sliver("none", 0)}}, in)
	if r := res.Regions[0]; r.Status != StatusFailed || r.Message != "creating output for region a: disk full" {
		t.Errorf("%+v", r)
	}
	if r := res.Regions[1]; r.Status != StatusEmpty {
		t.Errorf("%+v", r)
	}
}

func TestRunMovesIntoPlaceLast(t *testing.T) {
	t.Parallel()
	g := grid{lat0: -85, dlat: 10, nlat: 18, lon0: 5, dlon: 10, nlon: 36, ntime: 1, dt: 1}
	e := newEnv(t)
	in := e.put("/data/g.nc", g.file("/data/g.nc"))
	e.opt.Files = renameFails{e.st.Files()}
	res := e.run(t, &Request{Regions: []regions.Fixed{bbox("a", 0, 0, 40, 40)}}, in)
	if r := res.Regions[0]; r.Status != StatusFailed || !strings.Contains(r.Message, "moving output into place") {
		t.Errorf("%+v", r)
	}
	if len(e.st.Paths()) != 1 {
		t.Errorf("store holds %v", e.st.Paths())
	}
}

type renameFails struct{ memfile.Files }

func (renameFails) Rename(from, to string) error {
	return fmt.Errorf("rename %s: read-only file system", from)
}

// An output records its region as it was asked for: a ref, not the
// geometry the region was fixed to (which is what is cut).
func TestRunRecordsRefsAsAsked(t *testing.T) {
	t.Parallel()
	g := grid{lat0: -85, dlat: 10, nlat: 18, lon0: 5, dlon: 10, nlon: 36, ntime: 1, dt: 1}
	e := newEnv(t)
	in := e.put("/data/g.nc", g.nc("/data/g.nc").build())
	red, err := regions.Region{Ref: "africa/red_sea"}.Fix("regions[0]")
	if err != nil {
		t.Fatal(err)
	}
	// Fixed to a box far from the Red Sea: the box is cut, the ref shown.
	red.Geometry = json.RawMessage(`{"type":"Polygon","coordinates":[[[0,0],[20,0],[20,20],[0,20],[0,0]]]}`)
	res := e.run(t, &Request{Regions: []regions.Fixed{red}, Variables: []string{"sst"}}, in)
	out := e.out(t, res.Regions[0])
	if got := globalText(out, "subsetd_request"); got != `{"regions":[{"ref":"africa/red_sea"}],"variables":["sst"]}` {
		t.Errorf("subsetd_request %s", got)
	}
	if res.Regions[0].Name != "red_sea" || globalNum(t, out, "geospatial_lat_max") != 15 || globalNum(t, out, "geospatial_lon_max") != 15 {
		t.Errorf("%+v: lat max %v lon max %v", res.Regions[0], globalNum(t, out, "geospatial_lat_max"), globalNum(t, out, "geospatial_lon_max"))
	}
}
