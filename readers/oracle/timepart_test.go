package oracle

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/subsetd/subsetd/jobs/subset"
	"github.com/subsetd/subsetd/readers/nccompare"
	"github.com/subsetd/subsetd/regions"
)

// TestTimePartsMerge: a job run as time parts and merged gives the files
// the whole run gives (a polygon with a mask, a box across the seam, a
// time range and a stride included), and a part without steps is empty.
func TestTimePartsMerge(t *testing.T) {
	in := gridFile(t, 7, 90, 180, []int{1, 45, 45})
	tri := ringJSON([][2]float64{{-60, -40}, {60, -40}, {0, 50}})
	for _, tc := range []struct {
		name string
		req  subset.Request
		of   int
	}{
		{"boxes", subset.Request{Regions: []regions.Region{{Name: "a", BBox: []float64{-100, -60, 100, 60}}, {Name: "wrap", BBox: []float64{150, -30, -150, 30}}}}, 2},
		{"polygon, range, stride", subset.Request{Regions: []regions.Region{{Name: "p", Geometry: tri}},
			Time: &subset.TimeRange{Start: "2000-01-02", End: "2000-01-07"}, Stride: map[string]int{"time": 2}}, 3},
		{"more parts than steps", subset.Request{Regions: []regions.Region{{Name: "a", BBox: []float64{0, 0, 10, 10}}},
			Time: &subset.TimeRange{Start: "2000-01-02", End: "2000-01-03"}}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, whole := cut(t, in, &tc.req)
			parts := make([]*subset.Result, tc.of)
			for k := range parts {
				res, err := subset.Run(context.Background(), []string{in}, &tc.req, subset.Options{OutDir: t.TempDir(), Open: openSource, Create: openSink, Version: "test",
					TimePart: subset.TimePart{Index: k, Of: tc.of}})
				if err != nil {
					t.Fatal(err)
				}
				parts[k] = res
			}
			out := t.TempDir()
			for i, r := range whole.Regions {
				var files []string
				for _, p := range parts {
					if pr := p.Regions[i]; pr.Status == subset.StatusSuccessful {
						files = append(files, pr.Files[0].Path)
					} else if pr.Status != subset.StatusEmpty {
						t.Fatalf("part: %+v", pr)
					}
				}
				if len(files) == 0 || len(files) == tc.of && tc.name == "more parts than steps" {
					t.Fatalf("%s: %d parts with files", r.Name, len(files))
				}
				f, err := subset.Merge(context.Background(), files, r.Name+".nc", subset.Options{OutDir: out, Open: openSource, Create: openSink})
				if err != nil {
					t.Fatal(err)
				}
				if f.Path != filepath.Join(out, r.Name+".nc") || f.Shape["time"] != r.Files[0].Shape["time"] || len(f.Sha256) != 64 {
					t.Errorf("merged %+v, whole %+v", f, r.Files[0])
				}
				// Everything equal but the history line's time.
				compare(t, f.Path, r.Files[0].Path, nccompare.Options{IgnoreGlobalAttrs: map[string]bool{"history": true, "_NCProperties": true}})
			}
		})
	}
}
