package catalog

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/testutil/fakeworker"
	"github.com/subsetd/subsetd/ncmodel/memfile"
	"github.com/subsetd/subsetd/regions"
)

// The dataset id of a file and the name of its output when several files
// are cut are one rule: the command line and the server agree, on the
// names their former rules named differently too.
func TestDatasetIDsAreOutputStems(t *testing.T) {
	root := t.TempDir()
	names := []string{"A.NC.GZ", "b.netcdf", "c.h5.zstd", "d.nc4.gzip"}
	st := &memfile.Store{}
	var files []string
	for _, n := range names {
		p := filepath.Join(root, n)
		write(t, p)
		st.Put(p, fakeworker.NewGrid(p, fakeworker.Grid{}))
		files = append(files, p)
	}
	ids := listIDs(t, root)
	if strings.Join(ids, " ") != "A b c d" {
		t.Fatalf("dataset ids %v", ids)
	}
	out := t.TempDir()
	res, err := engine.Run(context.Background(), files, &engine.Request{Regions: []regions.Fixed{{Name: "r", BBox: []float64{-20, -20, 20, 20}}}},
		engine.Options{OutDir: out, Open: st.Open, Create: st.Create, Files: st.Files()})
	if err != nil {
		t.Fatal(err)
	}
	r := res.Regions[0]
	if r.Status != engine.StatusSuccessful || len(r.Files) != len(files) {
		t.Fatalf("%+v", r)
	}
	for i, f := range r.Files {
		if want := "r/" + ids[i] + ".nc"; f.Name != want {
			t.Errorf("%s: output %s, want %s (its dataset id)", names[i], f.Name, want)
		}
		if st.Get(filepath.Join(out, filepath.FromSlash(f.Name))) == nil {
			t.Errorf("no output at %s", f.Name)
		}
	}
	// A server task of granules: the region's files as the index picked them.
	res, err = engine.Granules(context.Background(), engine.Run, files, [][]int{{3, 0}}, &engine.Request{Regions: []regions.Fixed{{Name: "r", BBox: []float64{-20, -20, 20, 20}}}},
		engine.Options{OutDir: t.TempDir(), Open: st.Open, Create: st.Create, Files: st.Files()})
	if err != nil || len(res.Regions[0].Files) != 2 || res.Regions[0].Files[0].Name != "r/A.nc" || res.Regions[0].Files[1].Name != "r/d.nc" {
		t.Fatalf("granules: %+v %v", res, err)
	}
}
