package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/api"
)

// dtypeSize is the size of a netCDF type's values, for the value bytes
// of a file from its variables.
var dtypeSize = map[string]int64{"byte": 1, "ubyte": 1, "char": 1, "short": 2, "ushort": 2, "int": 4, "uint": 4, "float": 4,
	"int64": 8, "uint64": 8, "double": 8}

// TestDryRunThenRun: a dry run of fourteen regions answers at once, stores
// nothing, and gives the files, shapes, variables and value bytes the job
// then writes; its size estimate is close to the files' sizes.
func TestDryRunThenRun(t *testing.T) {
	s := start(t, dataDir(t), t.TempDir(), nil)
	boxes := fourteen()
	body := jobBody("global", names("r", 14), boxes, "")
	t0 := time.Now()
	r := s.do("POST", "/v1/jobs", strings.Replace(body, "{", `{"dry_run": true, `, 1))
	took := time.Since(t0)
	if r.StatusCode != 200 {
		t.Fatalf("dry run: %d %s", r.StatusCode, r.body)
	}
	if took > 5*time.Second { // a loaded machine; the README gives the figure measured alone
		t.Errorf("the dry run took %s", took)
	}
	var d api.DryRunDoc
	r.json(t, &d)
	var l api.JobList
	s.do("GET", "/v1/jobs", "").json(t, &l)
	if len(l.Jobs) != 0 {
		t.Fatalf("a dry run left a job: %+v", l.Jobs)
	}
	j := s.submit(body)
	j, _ = s.wait(j.ID, 60*time.Second, final)
	if len(d.Regions) != len(j.Regions) || d.Totals.Files != 14 {
		t.Fatalf("dry run of %d regions (%d files) for a job of %d", len(d.Regions), d.Totals.Files, len(j.Regions))
	}
	var size, est int64
	for i, jr := range j.Regions {
		dr := d.Regions[i]
		if dr.Name != jr.Name || dr.Status != string(jr.Status) || len(dr.Files) != len(jr.Files) {
			t.Fatalf("region %d: dry run %s %s %d files, job %s %s %d files", i, dr.Name, dr.Status, len(dr.Files), jr.Name, jr.Status, len(jr.Files))
		}
		for k, f := range jr.Files {
			df := dr.Files[k]
			var vb int64
			for _, v := range f.Variables {
				n := dtypeSize[v.Dtype]
				for _, x := range v.Shape {
					n *= int64(x)
				}
				vb += n
			}
			if df.Name != f.Name || df.OutputBytes != vb || len(df.Variables) != len(f.Variables) {
				t.Errorf("%s: dry run %s with %d value bytes, job %s with %d", jr.Name, df.Name, df.OutputBytes, f.Name, vb)
			}
			for n, v := range f.Variables {
				if dv := df.Variables[n]; dv.Name != v.Name || dv.Dtype != v.Dtype || !equalInts(dv.Shape, v.Shape) {
					t.Errorf("%s: variable %d: dry run %+v, job %+v", f.Name, n, dv, v)
				}
			}
			size += f.Size
			est += df.EstimatedBytes
		}
	}
	if ratio := float64(est) / float64(size); ratio < 0.7 || ratio > 1.3 {
		t.Errorf("estimated %d bytes on disk, the job wrote %d (%.2f)", est, size, ratio)
	}
	t.Logf("dry run in %s; estimated %d bytes, written %d; estimated %.3f s", took, est, size, d.Totals.EstimatedSeconds)
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
