package oracle

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/ncmodel/nccompare"
	"github.com/subsetd/subsetd/readers/netcdf"
	"github.com/subsetd/subsetd/readers/open"
	"github.com/subsetd/subsetd/regions"
)

// gridFile writes a chunked, deflated NetCDF-4 file of nt x nlat x nlon
// float32 values on a global -180..180 grid.
func gridFile(t testing.TB, nt, nlat, nlon int, chunks []int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), fmt.Sprintf("grid_%dx%dx%d.nc", nt, nlat, nlon))
	root := &ncmodel.Group{}
	dt := &ncmodel.Dim{Name: "time", Len: nt, Unlimited: true, Group: root}
	dy := &ncmodel.Dim{Name: "lat", Len: nlat, Group: root}
	dx := &ncmodel.Dim{Name: "lon", Len: nlon, Group: root}
	root.Dims = []*ncmodel.Dim{dt, dy, dx}
	txt := func(n, v string) ncmodel.Attr { return ncmodel.Attr{Name: n, Type: ncmodel.Char, Value: v} }
	root.Vars = []*ncmodel.Var{
		{Name: "time", Type: ncmodel.Double, Dims: []*ncmodel.Dim{dt}, Group: root, Attrs: []ncmodel.Attr{txt("units", "days since 2000-01-01")}},
		{Name: "lat", Type: ncmodel.Double, Dims: []*ncmodel.Dim{dy}, Group: root, Attrs: []ncmodel.Attr{txt("units", "degrees_north")}},
		{Name: "lon", Type: ncmodel.Double, Dims: []*ncmodel.Dim{dx}, Group: root, Attrs: []ncmodel.Attr{txt("units", "degrees_east")}},
		{Name: "v", Type: ncmodel.Float, Dims: []*ncmodel.Dim{dt, dy, dx}, Group: root, Chunks: chunks, Deflate: 1, Shuffle: true},
	}
	w, err := netcdf.Create(path, ncmodel.FormatNetCDF4)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Define(&ncmodel.File{Root: root}); err != nil {
		t.Fatal(err)
	}
	axis := func(n int, lo, hi float64) *ncmodel.Array {
		a := ncmodel.NewArray(ncmodel.Double, []int{n})
		for i := 0; i < n; i++ {
			a.SetFloat64(i, lo+(float64(i)+0.5)*(hi-lo)/float64(n))
		}
		return a
	}
	for name, a := range map[string]*ncmodel.Array{"/time": axis(nt, 0, float64(nt)), "/lat": axis(nlat, -90, 90), "/lon": axis(nlon, -180, 180)} {
		if err := w.Write(name, []int{0}, a); err != nil {
			t.Fatal(err)
		}
	}
	for k := 0; k < nt; k++ {
		a := ncmodel.NewArray(ncmodel.Float, []int{1, nlat, nlon})
		for i := 0; i < nlat*nlon; i++ {
			a.SetFloat64(i, float64(k*1000000+i))
		}
		if err := w.Write("/v", []int{k, 0, 0}, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// counting wraps a source and records every read of variable "v".
type counting struct {
	ncmodel.Source
	mu      *sync.Mutex
	bytes   *int64
	maxRead *int64
}

func (c counting) Read(v *ncmodel.Var, start, count, stride []int) (*ncmodel.Array, error) {
	a, err := c.Source.Read(v, start, count, stride)
	if err == nil && v.Name == "v" {
		c.mu.Lock()
		*c.bytes += int64(len(a.Data))
		*c.maxRead = max(*c.maxRead, int64(len(a.Data)))
		c.mu.Unlock()
	}
	return a, err
}

type readStats struct {
	mu             sync.Mutex
	bytes, maxRead int64
}

func (s *readStats) open(path string) (ncmodel.Source, error) {
	src, err := open.Source(path)
	if err != nil {
		return nil, err
	}
	return counting{Source: src, mu: &s.mu, bytes: &s.bytes, maxRead: &s.maxRead}, nil
}

func runWith(t *testing.T, in string, req *engine.Request, budget int64, st *readStats) (string, *engine.Result) {
	t.Helper()
	out := t.TempDir()
	res, err := engine.Run(context.Background(), []string{in}, req, engine.Options{
		OutDir: out, Open: st.open, Create: open.Sink, MemoryBudget: budget, Version: "test",
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res.Regions {
		if r.Status != engine.StatusSuccessful {
			t.Fatalf("%s: %s %s", r.Name, r.Status, r.Message)
		}
	}
	return out, res
}

// TestReadOnce: overlapping regions cut together read the union once, and
// give the same files as cutting each region alone.
func TestReadOnce(t *testing.T) {
	in := gridFile(t, 4, 180, 360, []int{1, 90, 90})
	var rs []regions.Fixed
	for i := 0; i < 8; i++ {
		w := float64(-40 + 5*i)
		rs = append(rs, regions.Fixed{Name: fmt.Sprintf("r%d", i), BBox: []float64{w, -20, w + 30, 20}})
	}
	var together readStats
	outAll, _ := runWith(t, in, &engine.Request{Regions: rs}, 0, &together)
	var separate int64
	for _, r := range rs {
		var one readStats
		outOne, _ := runWith(t, in, &engine.Request{Regions: []regions.Fixed{r}}, 0, &one)
		separate += one.bytes
		compare(t, filepath.Join(outAll, r.Name+".nc"), filepath.Join(outOne, r.Name+".nc"), nccompare.Options{})
	}
	// The union is lon -40..25 (65 columns), lat -20..20 (40 rows), 4 steps.
	// Each output is re-opened after writing and its first and last values
	// read back: 8 bytes per region.
	union := int64(4 * 40 * 65 * 4)
	if together.bytes != union+8*int64(len(rs)) {
		t.Errorf("together read %d bytes of v, want the union once: %d (separately: %d)", together.bytes, union, separate)
	}
	if separate < 3*union {
		t.Errorf("separate runs read only %d bytes; the test no longer shows read-once", separate)
	}
}

// TestMemoryBudget: a tiny budget splits reads into small slabs and gives
// the same files.
func TestMemoryBudget(t *testing.T) {
	in := gridFile(t, 6, 90, 180, []int{1, 45, 45})
	req := &engine.Request{Regions: []regions.Fixed{
		{Name: "a", BBox: []float64{-100, -60, 100, 60}},
		{Name: "wrap", BBox: []float64{150, -30, -150, 30}},
	}}
	var big, small readStats
	outBig, _ := runWith(t, in, req, 0, &big)
	const budget = 16 << 10
	outSmall, _ := runWith(t, in, req, budget, &small)
	if small.maxRead > budget/2 {
		t.Errorf("largest read %d bytes with a budget of %d", small.maxRead, budget)
	}
	if big.maxRead <= budget {
		t.Errorf("default budget read only %d bytes at once; the test shows nothing", big.maxRead)
	}
	for _, name := range []string{"a.nc", "wrap.nc"} {
		compare(t, filepath.Join(outSmall, name), filepath.Join(outBig, name), nccompare.Options{})
	}
}

// BenchmarkFourteenRegions times the engine on a synthetic grid.
func BenchmarkFourteenRegions(b *testing.B) {
	in := gridFile(b, 4, 900, 1800, []int{1, 256, 256})
	var rs []regions.Fixed
	for i := 0; i < 14; i++ {
		w := float64(-20 + 5*i)
		rs = append(rs, regions.Fixed{Name: fmt.Sprintf("r%d", i), BBox: []float64{w, -30 + float64(i), w + 10, -20 + float64(i)}})
	}
	for b.Loop() {
		out := b.TempDir()
		if _, err := engine.Run(context.Background(), []string{in}, &engine.Request{Regions: rs}, engine.Options{OutDir: out, Open: open.Source, Create: open.Sink}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPolygonVsBBox cuts a 1,000-vertex polygon and its bounding box
// out of a 1 x 1800 x 3600 grid (target: well under 200 ms for the mask).
func BenchmarkPolygonVsBBox(b *testing.B) {
	in := gridFile(b, 1, 1800, 3600, []int{1, 512, 512})
	var pts []string
	for i := 0; i < 1000; i++ {
		a := 2 * math.Pi * float64(i) / 1000
		r := 20 + 5*math.Sin(7*a)
		pts = append(pts, fmt.Sprintf("[%g,%g]", 20+r*math.Cos(a), r*math.Sin(a)))
	}
	pts = append(pts, pts[0])
	geom := json.RawMessage(`{"type":"Polygon","coordinates":[[` + strings.Join(pts, ",") + `]]}`)
	res, _ := regions.Fixed{Name: "p", Geometry: geom}.Resolve("p")
	bb := res.Area.Bounds()
	for _, tc := range []struct {
		name string
		r    regions.Fixed
	}{
		{"polygon", regions.Fixed{Name: "p", Geometry: geom}},
		{"bbox", regions.Fixed{Name: "p", BBox: []float64{bb.West, bb.South, bb.East, bb.North}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := engine.Run(context.Background(), []string{in}, &engine.Request{Regions: []regions.Fixed{tc.r}}, engine.Options{OutDir: b.TempDir(), Open: open.Source, Create: open.Sink}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
