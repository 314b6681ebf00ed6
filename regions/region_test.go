package regions

import (
	"encoding/json"
	"github.com/subsetd/subsetd/internal/errs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeSet(t *testing.T, dir, name string, west float64) {
	t.Helper()
	fc := `{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": "box"},
		"geometry": {"type": "Polygon", "coordinates": [[[` + jsonNum(west) + `, 0], [` + jsonNum(west+10) + `, 0], [` + jsonNum(west+10) + `, 10], [` + jsonNum(west) + `, 10], [` + jsonNum(west) + `, 0]]]}}]}`
	if err := os.WriteFile(filepath.Join(dir, name+".geojson"), []byte(fc), 0o644); err != nil {
		t.Fatal(err)
	}
}

func jsonNum(v float64) string { b, _ := json.Marshal(v); return string(b) }

// A ref is fixed to the set's geometry once: editing the set afterwards
// changes the regions fixed from now on, not those fixed before.
func TestFixedRefKeepsItsArea(t *testing.T) {
	dir1, dir2 := t.TempDir(), t.TempDir()
	writeSet(t, dir1, "fixtest", 0)
	writeSet(t, dir2, "fixtest", 100)
	if err := LoadDir(dir1); err != nil {
		t.Fatal(err)
	}
	no := false
	f, err := Region{Ref: "fixtest/box", Mask: &no}.Fix("regions[0]")
	if err != nil {
		t.Fatal(err)
	}
	if f.Ref != "fixtest/box" || f.Name != "" || f.OutputName() != "box" || !f.HasArea() || f.BBox != nil {
		t.Fatalf("fixed %+v", f)
	}
	if err := LoadDir(dir2); err != nil {
		t.Fatal(err)
	}
	res, err := f.Resolve("regions[0]")
	if err != nil {
		t.Fatal(err)
	}
	if res.Name != "box" || res.Mask || !res.Area.Contains(5, 5) || res.Area.Contains(105, 5) {
		t.Fatalf("the fixed region moved with its set: %+v bounds %v", res, res.Area.Bounds())
	}
	again, err := Region{Ref: "fixtest/box"}.Fix("r")
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := again.Resolve("r"); !res.Area.Contains(105, 5) || !res.Mask {
		t.Fatalf("a region fixed after the edit: %+v", res)
	}
	// Shown as asked for, and stored as JSON that reads back the same.
	if w, _ := json.Marshal(f.Written()); string(w) != `{"ref":"fixtest/box","mask":false}` {
		t.Errorf("written %s", w)
	}
	b, _ := json.Marshal(f)
	var back Fixed
	if err := json.Unmarshal(b, &back); err != nil || !strings.Contains(string(b), `"geometry":{"type":"Polygon"`) {
		t.Fatalf("%s: %v", b, err)
	}
	if res, err := back.Resolve("r"); err != nil || !res.Area.Contains(5, 5) {
		t.Fatalf("read back: %+v %v", res, err)
	}
}

func TestFixList(t *testing.T) {
	box := Region{Name: "a", BBox: []float64{0, 0, 1, 1}}
	poly := Region{Name: "p", Geometry: json.RawMessage(`{"type":"Polygon","coordinates":[[[0,0],[8,0],[8,6],[0,6],[0,0]]]}`)}
	fs, err := FixList("regions", []Region{box, poly, {Name: "red", Ref: "africa/red_sea"}})
	if err != nil {
		t.Fatal(err)
	}
	red, _ := Lookup("africa/red_sea")
	if fs[0].Written().Name != "a" || len(fs[0].BBox) != 4 || string(fs[1].Geometry) != string(poly.Geometry) ||
		fs[2].OutputName() != "red" || string(fs[2].Geometry) != string(red.Geometry) {
		t.Fatalf("fixed %+v", fs)
	}
	res, err := ResolveFixed("regions", fs)
	if err != nil || len(res) != 3 || !res[0].Area.IsBox() || res[1].Area.IsBox() || res[2].Area.Bounds() != red.Box {
		t.Fatalf("resolved %+v %v", res, err)
	}
	// The errors of the regions as written, under the same fields.
	tests := []struct {
		rs   []Region
		want string
	}{
		{nil, "regions: at least one region is needed"},
		{[]Region{box, {Name: "A", BBox: []float64{0, 0, 1, 1}}}, `regions[1].name: region name "A" is used twice`},
		{[]Region{{Name: "../x", BBox: []float64{0, 0, 1, 1}}}, "must not start with '.'"},
		{[]Region{{Name: "a/b", BBox: []float64{0, 0, 1, 1}}}, "may hold only letters"},
		{[]Region{{Name: "-rf", BBox: []float64{0, 0, 1, 1}}}, `regions[0].name: region name "-rf" must not start with '-'`},
		{[]Region{{Name: ".", BBox: []float64{0, 0, 1, 1}}}, `region name "." must not start with '.'`},
		{[]Region{{Name: "..", BBox: []float64{0, 0, 1, 1}}}, `region name ".." must not start with '.'`},
		{[]Region{{Name: "a\nb", BBox: []float64{0, 0, 1, 1}}}, `region name "a\nb" may hold only letters`},
		{[]Region{{Name: "a\x00", BBox: []float64{0, 0, 1, 1}}}, `may hold only letters`},
		{[]Region{{Name: "é", BBox: []float64{0, 0, 1, 1}}}, `may hold only letters`},
		{[]Region{{Name: strings.Repeat("a", 101), BBox: []float64{0, 0, 1, 1}}}, "regions[0].name: region name is longer than 100 characters"},
		{[]Region{{Name: "a", BBox: []float64{0, 0, 1}}}, "regions[0].bbox: bbox must have 4 numbers"},
		{[]Region{{Name: "a"}}, "needs exactly one of bbox, geometry or ref (has 0)"},
		{[]Region{{Name: "a", BBox: []float64{0, 0, 1, 1}, Ref: "africa/red_sea"}}, "(has 2)"},
		{[]Region{{Ref: "africa/atlantis"}}, `regions[0].ref: region set africa has no region "atlantis"`},
		{[]Region{{Ref: "mars/x"}}, `unknown region set "mars"`},
		{[]Region{{Ref: "africa/red_sea"}, {Name: "Red_Sea", BBox: []float64{0, 0, 1, 1}}}, `regions[1].name: region name "Red_Sea" is used twice`},
	}
	for _, tc := range tests {
		if _, err := FixList("regions", tc.rs); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want %q", tc.rs, err, tc.want)
		}
	}
	// A stored ref without its area is refused, not looked up.
	if _, err := ResolveFixed("regions", []Fixed{{Ref: "africa/red_sea"}}); err == nil || !strings.Contains(err.Error(), "regions[0].ref: region africa/red_sea has no area") {
		t.Errorf("bare ref: %v", err)
	}
}

// The limits of a job are checked before any polygon is prepared, and
// name the region that went over.
func TestFixListWithinLimits(t *testing.T) {
	sq := func(name string) Region {
		return Region{Name: name, Geometry: json.RawMessage(`{"type":"Polygon","coordinates":[[[0,0],[8,0],[8,6],[0,6],[0,0]]]}`)}
	}
	pts := Region{Name: "pts", Geometry: json.RawMessage(`{"type":"MultiPoint","coordinates":[[0,0],[1,1],[2,2]]}`)}
	lim := Limits{Regions: 3, Vertices: 12, RegionsBy: "the server's max_regions", VerticesBy: "the server's max_vertices"}
	// 5 + 5 + 3 = 13 vertices: the third region goes over.
	if _, err := FixListWithin("regions", []Region{sq("a"), sq("b"), pts}, lim); errs.CodeOf(err) != errs.TooLarge || errs.FieldOf(err) != "regions[2].geometry" ||
		err.Error() != "regions[2].geometry: the job's regions have more than 12 vertices, the server's max_vertices: simplify the polygons or split the job" {
		t.Errorf("vertices: %v (%s)", err, errs.CodeOf(err))
	}
	if fs, err := FixListWithin("regions", []Region{sq("a"), sq("b")}, lim); err != nil || len(fs) != 2 {
		t.Errorf("10 vertices: %v", err)
	}
	if _, err := FixListWithin("regions", []Region{sq("a"), sq("b"), sq("c"), sq("d")}, lim); errs.CodeOf(err) != errs.TooLarge || errs.FieldOf(err) != "regions" ||
		err.Error() != "regions: 4 regions: at most 3 per job, the server's max_regions" {
		t.Errorf("regions: %v", err)
	}
	// A ref counts its set region's vertices.
	red, _ := Lookup("africa/red_sea")
	if n := vertices(red.Area); n < 4 {
		t.Fatalf("red sea has %d vertices", n)
	}
	if _, err := FixListWithin("regions", []Region{{Ref: "africa/red_sea"}}, Limits{Vertices: vertices(red.Area) - 1}); errs.FieldOf(err) != "regions[0].ref" {
		t.Errorf("ref: %v", err)
	}
	if _, err := FixListWithin("regions", []Region{{Ref: "africa/red_sea"}}, Limits{Vertices: vertices(red.Area)}); err != nil {
		t.Errorf("ref at the limit: %v", err)
	}
}
