package oracle

import (
	"context"
	"encoding/json"
	"math"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/ncmodel/memfile"
	"github.com/subsetd/subsetd/ncmodel/nccompare"
	"github.com/subsetd/subsetd/readers/netcdf"
	"github.com/subsetd/subsetd/readers/open"
	"github.com/subsetd/subsetd/regions"
)

// deflatedGrid writes a global 1-degree NetCDF-4 file stored as archives
// store it: chunks that do not divide the grid, shuffle and deflate on a
// float and a packed short, deflate alone on a double, an unlimited time,
// and a 2-D float variable left contiguous.
func deflatedGrid(t *testing.T) string {
	t.Helper()
	root := &ncmodel.Group{}
	time := &ncmodel.Dim{Name: "time", Len: 3, Unlimited: true, Group: root}
	lat := &ncmodel.Dim{Name: "lat", Len: 180, Group: root}
	lon := &ncmodel.Dim{Name: "lon", Len: 360, Group: root}
	root.Dims = []*ncmodel.Dim{time, lat, lon}
	txt := func(n, v string) ncmodel.Attr { return ncmodel.Attr{Name: n, Type: ncmodel.Char, Value: v} }
	tll := []*ncmodel.Dim{time, lat, lon}
	root.Vars = []*ncmodel.Var{
		{Name: "time", Type: ncmodel.Double, Dims: []*ncmodel.Dim{time}, Attrs: []ncmodel.Attr{txt("units", "days since 2020-01-01"), txt("calendar", "standard"), txt("axis", "T")}, Chunks: []int{16}},
		{Name: "lat", Type: ncmodel.Float, Dims: []*ncmodel.Dim{lat}, Attrs: []ncmodel.Attr{txt("units", "degrees_north"), txt("axis", "Y")}},
		{Name: "lon", Type: ncmodel.Float, Dims: []*ncmodel.Dim{lon}, Attrs: []ncmodel.Attr{txt("units", "degrees_east"), txt("axis", "X")}},
		{Name: "sst", Type: ncmodel.Float, Dims: tll, Chunks: []int{1, 50, 70}, Deflate: 4, Shuffle: true,
			Attrs: []ncmodel.Attr{txt("units", "degC"), {Name: "_FillValue", Type: ncmodel.Float, Value: []float32{-999}}}},
		{Name: "sla", Type: ncmodel.Short, Dims: tll, Chunks: []int{2, 64, 64}, Deflate: 2, Shuffle: true,
			Attrs: []ncmodel.Attr{txt("units", "m"), {Name: "scale_factor", Type: ncmodel.Double, Value: []float64{1e-4}}, {Name: "_FillValue", Type: ncmodel.Short, Value: []int16{-32767}}}},
		{Name: "depth", Type: ncmodel.Double, Dims: []*ncmodel.Dim{lat, lon}, Chunks: []int{90, 100}, Deflate: 1},
		{Name: "flag", Type: ncmodel.Float, Dims: []*ncmodel.Dim{lat, lon}},
	}
	for _, v := range root.Vars {
		v.Group = root
	}
	desc := &ncmodel.File{Format: ncmodel.FormatNetCDF4, Root: root}
	m := memfile.New(desc)
	m.SetFunc("time", func(i []int) float64 { return float64(i[0]) })
	m.SetFunc("lat", func(i []int) float64 { return -89.5 + float64(i[0]) })
	m.SetFunc("lon", func(i []int) float64 { return -179.5 + float64(i[0]) })
	field := func(i []int) float64 {
		return 15 + 10*math.Cos(float64(i[1])/57) + math.Sin(float64(i[2])/20+float64(i[0])) + float64((i[1]*7+i[2]*3)%11)/1000
	}
	m.SetFunc("sst", field)
	m.SetFunc("sla", func(i []int) float64 { return math.Round(field(i) * 100) })
	m.SetFunc("depth", func(i []int) float64 { return float64(i[0]*360+i[1]) / 7 })
	m.SetFunc("flag", func(i []int) float64 { return float64(i[0] + i[1]%5) })
	path := filepath.Join(t.TempDir(), "deflated.nc")
	w, err := netcdf.Create(path, ncmodel.FormatNetCDF4)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Define(desc); err != nil {
		t.Fatal(err)
	}
	for _, v := range m.File().Vars() {
		if err := w.Write(v.Path(), make([]int, len(v.Dims)), m.Data(v.Path())); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// plainSource hides a source's direct chunk reads: the library's own path.
type plainSource struct{ ncmodel.Source }

// plainSink hides a sink's direct chunk writes.
type plainSink struct{ ncmodel.Sink }

var directRegions = func() []regions.Fixed {
	poly, _ := json.Marshal(map[string]any{"type": "Polygon", "coordinates": [][][2]float64{{{-20, -10}, {30, -30}, {40, 25}, {-20, -10}}}})
	return []regions.Fixed{
		{Name: "box", BBox: []float64{-12.3, 20.2, 41, 64.7}},
		{Name: "seam", BBox: []float64{150, -40, -160, 10}},
		{Name: "poly", Geometry: poly},
		{Name: "tiny", BBox: []float64{3, 3, 3.9, 3.9}},
	}
}()

// TestDirectChunkPathsMatchTheLibrary cuts the same regions with the
// direct chunk reads and writes and with netCDF-C's own paths: the outputs
// hold the same values with the same filters and chunk shapes (ncdump -hs),
// and the box holds what ncks cuts.
func TestDirectChunkPathsMatchTheLibrary(t *testing.T) {
	needNCO(t)
	in := deflatedGrid(t)
	src, err := open.Source(in)
	if err != nil {
		t.Fatal(err)
	}
	cs, ok := src.(ncmodel.ChunkSource)
	if !ok || !cs.ReadsChunks(src.File().FindVar("sst")) || !cs.ReadsChunks(src.File().FindVar("depth")) || cs.ReadsChunks(src.File().FindVar("flag")) {
		t.Fatalf("the NetCDF-4 reader does not read the deflated variables' chunks directly (or does for a contiguous one)")
	}
	src.Close()
	for _, deflate := range []int{1, 5} {
		req := &engine.Request{Regions: directRegions, Output: engine.Output{Deflate: &deflate}}
		run := func(openFn func(string) (ncmodel.Source, error), createFn func(string, ncmodel.Format) (ncmodel.Sink, error)) string {
			out := t.TempDir()
			res, err := engine.Run(context.Background(), []string{in}, req, engine.Options{OutDir: out, Open: openFn, Create: createFn, Version: "test"})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range res.Regions {
				if r.Status != engine.StatusSuccessful {
					t.Fatalf("region %s: %s %s", r.Name, r.Status, r.Message)
				}
			}
			return out
		}
		direct := run(open.Source, open.Sink)
		library := run(func(p string) (ncmodel.Source, error) {
			s, err := open.Source(p)
			return plainSource{s}, err
		}, func(p string, f ncmodel.Format) (ncmodel.Sink, error) {
			s, err := open.Sink(p, f)
			return plainSink{s}, err
		})
		for _, r := range directRegions {
			a, b := filepath.Join(direct, r.Name+".nc"), filepath.Join(library, r.Name+".nc")
			if diffs := nccompare.Compare(openT(t, a), openT(t, b), nccompare.Options{IgnoreGlobalAttrs: ignoredGlobals}); len(diffs) > 0 {
				t.Errorf("deflate %d, region %s: the direct paths differ from the library's:\n  %s", deflate, r.Name, strings.Join(diffs, "\n  "))
			}
			if ha, hb := storageHeader(t, a), storageHeader(t, b); ha != hb {
				t.Errorf("deflate %d, region %s: storage differs:\n%s\nvs the library's\n%s", deflate, r.Name, ha, hb)
			}
		}
		want := ncks(t, in, "-4", "-L", "1", "-d", "lat,20.2,64.7", "-d", "lon,-12.3,41.")
		compare(t, filepath.Join(direct, "box.nc"), want, nccompare.Options{IgnoreVarAttrs: map[string]bool{"_ChunkSizes": true}})
	}
}

var unstable = regexp.MustCompile(`(?m)^\s*:(history|_NCProperties|subsetd_\w+|date_created) = .*$\n?`)

// storageHeader is ncdump -hs without the attributes that name times and
// commands.
func storageHeader(t *testing.T, path string) string {
	t.Helper()
	b, err := exec.Command("ncdump", "-hs", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ncdump -hs %s: %v\n%s", path, err, b)
	}
	s := unstable.ReplaceAllString(string(b), "")
	return strings.Replace(s, "netcdf "+strings.TrimSuffix(filepath.Base(path), ".nc"), "netcdf X", 1)
}
