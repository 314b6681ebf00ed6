package oracle

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/subsetd/subsetd/engine"
)

// ncoFile builds one of NCO's CDL edge-case files of the real-data folder.
func ncoFile(t *testing.T, cdl, kind string) string {
	t.Helper()
	src := realFile(t, cdl)
	in := filepath.Join(t.TempDir(), "in.nc")
	if b, err := exec.Command("ncgen", "-k", kind, "-o", in, src).CombinedOutput(); err != nil {
		t.Fatalf("ncgen %s: %v %s", cdl, err, b)
	}
	return in
}

// TestNCOEdgeCasesDoNotPanic: regions of NCO's in.cdl that crashed the
// engine (a nil pointer on a grid the region misses; an index out of range
// when two grids stored as 1-D arrays share one dimension) cut cleanly.
func TestNCOEdgeCasesDoNotPanic(t *testing.T) {
	in := ncoFile(t, "nco+nco__in.cdl", "classic")
	for _, tc := range []struct {
		box  []float64
		vars []string
		dim  string
		want int
	}{
		{[]float64{90, -90, 90, 90}, nil, "lon", 1},
		{[]float64{0, -90, 0, 90}, []string{"var_1D_rct"}, "lat_times_lon", 8},
		{[]float64{0, -90, 0, 90}, nil, "lat_times_lon", 8},
	} {
		req := bboxReq("n", tc.box...)
		req.Variables = tc.vars
		_, res := cut(t, in, req)
		r := res.Regions[0]
		if r.Status != engine.StatusSuccessful || r.Files[0].Shape[tc.dim] != tc.want {
			t.Errorf("%v %v: %+v, want %s = %d", tc.box, tc.vars, r, tc.dim, tc.want)
		}
	}
}
