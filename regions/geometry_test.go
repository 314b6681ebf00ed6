package regions

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/internal/testutil/fixtures"
)

func poly(t testing.TB, js string) *Polygon {
	t.Helper()
	a, err := ParseGeometry("g", json.RawMessage(js))
	if err != nil {
		t.Fatal(err)
	}
	p, ok := a.(*Polygon)
	if !ok {
		t.Fatalf("%s is a %T", js, a)
	}
	return p
}

// naive is an independent even-odd test over every edge, for longitudes
// already in the ring's own range.
func naive(ring [][2]float64, x, y float64) bool {
	in := false
	for i := range ring {
		a, b := ring[i], ring[(i+1)%len(ring)]
		if (a[1] > y) != (b[1] > y) && a[0]+(y-a[1])*(b[0]-a[0])/(b[1]-a[1]) > x {
			in = !in
		}
	}
	return in
}

func TestPolygonContains(t *testing.T) {
	sq := poly(t, `{"type":"Polygon","coordinates":[[[0,0],[10,0],[10,10],[0,10],[0,0]],[[4,4],[6,4],[6,6],[4,6],[4,4]]]}`)
	for _, tc := range []struct {
		x, y float64
		want bool
	}{{5, 1, true}, {5, 5, false}, {0, 5, true}, {10, 10, true}, {4, 5, true}, {11, 5, false}, {365, 1, true}, {-355, 1, true}, {5, -0.1, false}} {
		if got := sq.Contains(tc.x, tc.y); got != tc.want {
			t.Errorf("square with hole contains (%v, %v) = %v, want %v", tc.x, tc.y, got, tc.want)
		}
	}
	if b := sq.Bounds(); b != (BBox{0, 0, 10, 10}) {
		t.Errorf("bounds %v", b)
	}
}

func TestAntimeridianForms(t *testing.T) {
	// The same area, 170E..170W x 0..10, written three ways.
	forms := map[string]string{
		"ring across the antimeridian": `{"type":"Polygon","coordinates":[[[170,0],[-170,0],[-170,10],[170,10],[170,0]]]}`,
		"longitudes past 180":          `{"type":"Polygon","coordinates":[[[170,0],[190,0],[190,10],[170,10],[170,0]]]}`,
		"split at 180 (RFC 7946)":      `{"type":"MultiPolygon","coordinates":[[[[170,0],[180,0],[180,10],[170,10],[170,0]]],[[[-180,0],[-170,0],[-170,10],[-180,10],[-180,0]]]]}`,
	}
	for name, js := range forms {
		p := poly(t, js)
		if b := p.Bounds(); b.West != 170 || b.East != -170 || b.South != 0 || b.North != 10 {
			t.Errorf("%s: bounds %v, want [170, 0, -170, 10]", name, b)
		}
		for _, tc := range []struct {
			x    float64
			want bool
		}{{175, true}, {-175, true}, {185, true}, {180, true}, {-180, true}, {0, false}, {165, false}, {-165, false}, {535, true}} {
			if got := p.Contains(tc.x, 5); got != tc.want {
				t.Errorf("%s: contains lon %v = %v, want %v", name, tc.x, got, tc.want)
			}
		}
	}
}

func TestNotRegions(t *testing.T) {
	for js, want := range map[string]string{
		`{"type":"LineString","coordinates":[[0,0],[1,1]]}`:                                                      "a LineString is not a region",
		`{"type":"MultiLineString","coordinates":[[[0,0],[1,1]]]}`:                                               "a MultiLineString is not a region",
		`{"type":"Point","coordinates":[0,95]}`:                                                                  "latitude 95 outside [-90, 90]",
		`{"type":"MultiPoint","coordinates":[]}`:                                                                 "at least one position",
		`{"type":"Polygon","coordinates":[[[0,0],[1,1]]]}`:                                                       "regions[0].geometry: ring 0 has 2 positions: a ring needs at least 4, the last the same as the first",
		`{"type":"Polygon","coordinates":[[[0,0],[1,1],[0,1]]]}`:                                                 "ring 0 has 3 positions",
		`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`:                                           "regions[0].geometry: ring 0 is not closed: its last position [0 1] is not its first [0 0]",
		`{"type":"Polygon","coordinates":[[[0,0],[1,1],[2,2],[0,0]]]}`:                                           "regions[0].geometry: polygon 0 ring 0 encloses no area: its positions lie on one line",
		`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]],[[0.2,0.1],[0.3,0.1],[0.2,0.1],[0.2,0.1]]]}`: "polygon 0 ring 1 encloses no area",
		`{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]],[[[5,5],[6,5],[6,6]]]]}`:              "regions[0].geometry: polygon 1 ring 0 has 3 positions",
		`{"type":"Polygon","coordinates":[]}`:                                                                    "has no rings",
		`{"type":"Polygon"}`:                                                                                     "the Polygon has no coordinates",
		`{"TYPE":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}`:                                           "GeoJSON object without a type",
		`{"type":"Feature","Geometry":{"type":"Point","coordinates":[0,0]}}`:                                     "the Feature has no geometry",
		`{"type":["Polygon"]}`:                                                                                   "the GeoJSON type must be a string",
		`{"type":"Polygon","coordinates":[[[0,0],[1,95],[2,0],[0,0]]]}`:                                          "latitude 95 outside [-90, 90]",
		`{"type":"Feature","geometry":null}`:                                                                     "the Feature has no geometry",
		`{"type":"Blob"}`:                                                                                        `unknown GeoJSON type "Blob"`,
		`[1,2]`:                                                                                                  "regions[0].geometry: not a GeoJSON object",
		`null`:                                                                                                   "not a GeoJSON object",
	} {
		_, err := ParseGeometry("regions[0].geometry", json.RawMessage(js))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", js, err, want)
		}
	}
}

// TestRandomPolygons compares the banded test with the naive one.
func TestRandomPolygons(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for k := 0; k < 20; k++ {
		n := 5 + rng.Intn(200)
		ring := make([][2]float64, n)
		var coords []string
		for i := range ring {
			a := 2 * math.Pi * float64(i) / float64(n)
			r := 5 + 20*rng.Float64()
			ring[i] = [2]float64{30 + r*math.Cos(a), r * math.Sin(a) * 0.8}
			coords = append(coords, fmt.Sprintf("[%g,%g]", ring[i][0], ring[i][1]))
		}
		coords = append(coords, coords[0])
		p := poly(t, `{"type":"Polygon","coordinates":[[`+strings.Join(coords, ",")+`]]}`)
		for j := 0; j < 2000; j++ {
			x, y := 30+60*(rng.Float64()-0.5), 60*(rng.Float64()-0.5)
			if got, want := p.Contains(x, y), naive(ring, x, y); got != want {
				t.Fatalf("polygon %d point (%v, %v): %v, naive %v", k, x, y, got, want)
			}
		}
	}
}

func TestSharedPolygons(t *testing.T) {
	dir := filepath.Join(fixtures.RealDataFolder(t), "polygons")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		var fc struct {
			Type     string            `json:"type"`
			Features []json.RawMessage `json:"features"`
		}
		json.Unmarshal(b, &fc)
		for i, f := range fc.Features {
			p, err := ParseGeometry("f", f)
			switch {
			case strings.Contains(e.Name(), "multi_feature") && i == 0:
				// A Point: a station, the cell holding it.
				if _, ok := p.(*Points); !ok || err != nil {
					t.Errorf("%s feature %d: %T %v", e.Name(), i, p, err)
				}
			case strings.Contains(e.Name(), "linestring") || strings.Contains(e.Name(), "multi_feature"):
				if err == nil || !strings.Contains(err.Error(), "not a region") {
					t.Errorf("%s: %v", e.Name(), err)
				}
			case err != nil:
				t.Errorf("%s feature %d: %v", e.Name(), i, err)
			case strings.Contains(e.Name(), "whole_earth"):
				if b := p.Bounds(); b.West != -180 || b.East != 180 || !p.Contains(0, 0) || !p.Contains(179.9, 89) {
					t.Errorf("whole earth: %v", b)
				}
			case strings.Contains(e.Name(), "antimeridian") && i == 0:
				if b := p.Bounds(); b.West < b.East {
					t.Errorf("antimeridian polygon bounds %v do not cross", b)
				}
			}
		}
	}
}

func TestBuiltinSets(t *testing.T) {
	s := GetSet("africa")
	if s == nil || len(s.Regions) < 13 {
		t.Fatalf("africa set: %+v", s)
	}
	r, err := Lookup("africa/benguela_current")
	if err != nil {
		t.Fatal(err)
	}
	// Walvis Bay (22.9S 14.4E) lies in the Benguela zone, Durban (29.9S 31E) does not.
	if !r.Area.Contains(14.0, -22.9) || r.Area.Contains(31.5, -29.9) {
		t.Error("benguela_current misplaced")
	}
	red, _ := Lookup("africa/red_sea")
	if !red.Area.Contains(38.0, 20.0) || red.Area.Contains(30, 20) {
		t.Error("red_sea misplaced")
	}
}

// BenchmarkMask1000 masks an 1800 x 3600 grid with a 1,000-vertex polygon.
func BenchmarkMask1000(b *testing.B) {
	var coords []string
	for i := 0; i < 1000; i++ {
		a := 2 * math.Pi * float64(i) / 1000
		r := 20 + 5*math.Sin(7*a)
		coords = append(coords, fmt.Sprintf("[%g,%g]", 20+r*math.Cos(a), r*math.Sin(a)))
	}
	coords = append(coords, coords[0])
	p := poly(b, `{"type":"Polygon","coordinates":[[`+strings.Join(coords, ",")+`]]}`)
	lats := make([]float64, 1800)
	lons := make([]float64, 3600)
	for i := range lats {
		lats[i] = -90 + (float64(i)+0.5)*0.1
	}
	for j := range lons {
		lons[j] = -180 + (float64(j)+0.5)*0.1
	}
	mask := make([]bool, len(lats)*len(lons))
	for b.Loop() {
		start := time.Now()
		for i, y := range lats {
			for j, x := range lons {
				mask[i*len(lons)+j] = p.Contains(x, y)
			}
		}
		b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms/mask")
	}
}

func TestLonExtent(t *testing.T) {
	seq := func(a, step float64, n int) []float64 {
		var out []float64
		for i := 0; i < n; i++ {
			out = append(out, a+step*float64(i))
		}
		return out
	}
	for _, tc := range []struct {
		name       string
		lons       []float64
		west, east float64
	}{
		{"0..360 cells across 0", append(seq(350.06, 0.5, 20), seq(0.05, 0.5, 20)...), -9.94, 9.55},
		{"-180..180 across 180", append(seq(170, 1, 10), seq(-180, 1, 6)...), 170, -175},
		{"0..360 across 180", seq(170, 1, 16), 170, -175},
		{"one point", []float64{200}, -160, -160},
		{"global 0..360", seq(0, 1.125, 320), -180, 178.875},
		{"global -180..180", seq(-179.5, 1, 360), -179.5, 179.5},
		{"west half, shuffled with NaN", []float64{-100, math.NaN(), -170, -10, -50}, -170, -10},
		{"values past 360", seq(355, 1, 11), -5, 5},
	} {
		w, e, ok := LonExtent(tc.lons)
		if !ok || math.Abs(w-tc.west) > 1e-9 || math.Abs(e-tc.east) > 1e-9 {
			t.Errorf("%s: %v %v %v, want %v %v", tc.name, w, e, ok, tc.west, tc.east)
		}
		// Brute force: no value outside the arc.
		for _, x := range tc.lons {
			if math.IsNaN(x) {
				continue
			}
			x = Normalize180(x)
			if in := w <= e && x >= w-1e-9 && x <= e+1e-9 || w > e && (x >= w-1e-9 || x <= e+1e-9); !in {
				t.Errorf("%s: %v outside %v..%v", tc.name, x, w, e)
			}
		}
	}
	if _, _, ok := LonExtent([]float64{math.NaN()}); ok {
		t.Error("only NaN: ok")
	}
}
