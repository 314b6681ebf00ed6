package e2e

import (
	"bytes"
	"encoding/csv"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/api"
	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/jobs"
	"github.com/subsetd/subsetd/readers/open"
)

// A job with statistics through the server: 14 boxes and a polygon over
// two tasks; the JSON of /v1/jobs/{id}/stats, stats.csv and stats.nc hold
// the same values, listed in the manifest with the checksums of the
// downloads; the means equal CDO's fldmean of sellonlatbox.
func TestStatistics(t *testing.T) {
	s := start(t, dataDir(t), t.TempDir(), nil)
	boxes := fourteen()
	extra := `, "variables": ["sst"], "statistics": {"ops": ["mean", "std", "min", "max", "sum", "count"]}`
	body := jobBody("global", names("r", 14), boxes, extra)
	body = strings.Replace(body, `]`+extra, `, {"name": "tri", "geometry": {"type": "Polygon", "coordinates": [[[-40.5, -30.5], [40.5, -30.5], [0.5, 40.5], [-40.5, -30.5]]]}}]`+extra, 1)
	j := s.submit(body)
	if r := s.do("GET", "/v1/jobs/"+j.ID+"/stats", ""); r.StatusCode != 409 && r.StatusCode != 200 {
		t.Errorf("statistics of a job just submitted: %d %s", r.StatusCode, r.body)
	}
	j, _ = s.wait(j.ID, 90*time.Second, final)
	if j.Status != "successful" || len(j.Files) != 2 || j.Files[0].Name != "stats.nc" || j.Files[1].Name != "stats.csv" {
		t.Fatalf("job %s %q, files %+v", j.Status, j.Message, j.Files)
	}
	var m jobs.Manifest
	s.do("GET", "/v1/jobs/"+j.ID+"/manifest.json", "").json(t, &m)
	dir := t.TempDir()
	got := map[string]string{}
	for _, f := range j.Files {
		b := s.download(f.Href)
		found := false
		for _, e := range m.Files {
			found = found || e.Name == f.Name && e.Region == "" && e.Sha256 == sha(b) && e.Size == int64(len(b))
		}
		if !found || sha(b) != f.Sha256 {
			t.Fatalf("%s: the download does not match the manifest %+v", f.Name, m.Files)
		}
		got[f.Name] = filepath.Join(dir, f.Name)
		os.WriteFile(got[f.Name], b, 0o644)
	}
	var doc api.StatsDoc
	r := s.do("GET", "/v1/jobs/"+j.ID+"/stats", "")
	r.json(t, &doc)
	if r.StatusCode != 200 || len(doc.Rows) != 15*6 || doc.Rows[0].Region != "r00" || doc.Rows[len(doc.Rows)-1].Region != "tri" {
		t.Fatalf("stats: %d, %d rows", r.StatusCode, len(doc.Rows))
	}
	// stats.csv: the same rows.
	b, _ := os.ReadFile(got["stats.csv"])
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(recs) != len(doc.Rows)+1 || strings.Join(recs[0], ",") != "region,time,variable,op,value,count" {
		t.Fatalf("stats.csv: %v\n%s", err, b)
	}
	for i, row := range doc.Rows {
		val := ""
		if row.Value != nil {
			val = engine.FormatStat(*row.Value)
		}
		want := []string{row.Region, row.Time, row.Variable, row.Op, val, strconv.FormatInt(row.Count, 10)}
		if strings.Join(recs[i+1], ",") != strings.Join(want, ",") {
			t.Errorf("stats.csv row %d %v, JSON %v", i+1, recs[i+1], want)
		}
	}
	// stats.nc: the same values, op by op.
	src, err := open.Source(got["stats.nc"])
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for _, op := range []string{"mean", "std", "min", "max", "sum", "count"} {
		v := src.File().FindVar("sst_" + op)
		if v == nil {
			t.Fatalf("stats.nc has no sst_%s", op)
		}
		a, err := src.Read(v, make([]int, len(v.Dims)), v.Shape(), nil)
		if err != nil {
			t.Fatal(err)
		}
		vals := a.Float64s()
		engine.Unpack(v, vals)
		k := 0
		for _, row := range doc.Rows {
			if row.Op != op {
				continue
			}
			if row.Value == nil && !math.IsNaN(vals[k]) || row.Value != nil && *row.Value != vals[k] {
				t.Errorf("stats.nc sst_%s of %s: %v, JSON %v", op, row.Region, vals[k], row.Value)
			}
			k++
		}
	}
	// The boxes' means are CDO's.
	if _, err := exec.LookPath("cdo"); err != nil {
		t.Fatal("cdo not found: run scripts/setup.sh")
	}
	for k, bx := range boxes[:4] {
		bb := bx.bbox()
		lonlat := strings.ReplaceAll(fmtFloats(bb[0], bb[2], bb[1], bb[3]), " ", ",")
		out, err := exec.Command("cdo", "-s", "-outputf,%.17g,1", "-fldmean", "-sellonlatbox,"+lonlat, global).CombinedOutput()
		if err != nil {
			t.Fatalf("cdo: %v %s", err, out)
		}
		want, _ := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
		row := doc.Rows[k*6]
		if row.Op != "mean" || row.Value == nil || math.Abs(*row.Value-want) > 1e-5*math.Abs(want) {
			t.Errorf("%s mean %v, cdo fldmean %v", row.Region, row.Value, want)
		}
	}
}

func fmtFloats(xs ...float64) string {
	var parts []string
	for _, x := range xs {
		parts = append(parts, strconv.FormatFloat(x, 'g', -1, 64))
	}
	return strings.Join(parts, " ")
}
