package e2e

import (
	"fmt"
	"os"
	"path/filepath"
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

// TestMaxOutputBytes: a job whose dry run estimates more output than the
// key's max_output_bytes is refused with 413, the estimate and a split
// into region groups that fit, which are then accepted; a key with a
// larger limit (the configuration's) submits the whole job.
func TestMaxOutputBytes(t *testing.T) {
	state := t.TempDir()
	config := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(config, []byte(`{"quota": {"max_output_bytes": 100000000}}`), 0o644)
	small := createKey(t, state, "small", "--quota", "max_output_bytes=100KiB")
	big := createKey(t, state, "big")
	s := start(t, dataDir(t), state, nil, "--auth", "keys", "--config", config)
	boxes := fourteen()
	body := jobBody("global", names("r", 14), boxes, "")
	r := s.do("POST", "/v1/jobs", body, auth(small)...)
	var p api.Problem
	r.json(t, &p)
	if r.StatusCode != 413 || p.Code != "too_large" || p.MaxOutputBytes != 100<<10 || p.Estimate == nil || p.Estimate.EstimatedBytes <= 100<<10 || len(p.Split) < 2 {
		t.Fatalf("want 413 with an estimate and a split: %d %s", r.StatusCode, r.body)
	}
	var l api.JobList
	s.do("GET", "/v1/jobs", "", auth(small)...).json(t, &l)
	if len(l.Jobs) != 0 {
		t.Fatalf("a refused job was stored: %+v", l.Jobs)
	}
	// The dry run says the same.
	var d api.DryRunDoc
	s.do("POST", "/v1/jobs", strings.Replace(body, "{", `{"dry_run": true, `, 1), auth(small)...).json(t, &d)
	if d.MaxOutputBytes != 100<<10 || len(d.Split) != len(p.Split) {
		t.Fatalf("dry run: limit %d, %d parts; the 413 had %d", d.MaxOutputBytes, len(d.Split), len(p.Split))
	}
	// Every region in one part, in order, and each part accepted.
	k := 0
	for _, part := range p.Split {
		var names []string
		var bs []box
		for _, n := range part.Regions {
			if want := fmt.Sprintf("r%02d", k); n != want {
				t.Fatalf("split %+v: region %s where %s was due", p.Split, n, want)
			}
			names = append(names, n)
			bs = append(bs, boxes[k])
			k++
		}
		if part.EstimatedBytes > 100<<10 {
			t.Errorf("part %v is estimated at %d bytes", part.Regions, part.EstimatedBytes)
		}
		s.submit(jobBody("global", names, bs, ""), auth(small)...)
	}
	if k != 14 {
		t.Fatalf("the split covers %d of 14 regions", k)
	}
	s.submit(body, auth(big)...)
}
