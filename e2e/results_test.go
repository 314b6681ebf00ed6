package e2e

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/jobs"
)

// granulesServer serves a granules dataset "passes" of two copies of the
// global grid, and the global grid itself.
func granulesServer(t *testing.T, flags ...string) *server {
	t.Helper()
	data := dataDir(t)
	os.MkdirAll(filepath.Join(data, "passes"), 0o755)
	for _, n := range []string{"day0.nc", "day1.nc"} {
		copyFile(t, global, filepath.Join(data, "passes", n))
	}
	cfg := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(cfg, []byte(`{"datasets": {"passes": {"kind": "granules"}}}`), 0o644)
	return start(t, data, t.TempDir(), nil, append([]string{"--config", cfg, "--index-interval", "0"}, flags...)...)
}

// The packaged results of a granules job through the real binary: the
// archive lists the manifest's files under their names, each member's
// sha256 is the manifest's, unzip and sha256sum -c agree, and downloads
// have names of their own.
func TestPackagedResults(t *testing.T) {
	s := granulesServer(t, "--public-url", "http://subsetd.example:9/base")
	j := s.submit(`{"dataset": "passes", "regions": [{"name": "benguela", "bbox": [8, -35, 20, -15]},
		{"name": "agulhas", "bbox": [20, -40, 35, -30]}], "variables": ["sst"]}`)
	j, _ = s.wait(j.ID, time.Minute, final)
	if j.Status != "successful" {
		t.Fatalf("job %s %q", j.Status, j.Message)
	}
	base := "http://subsetd.example:9/base"
	for _, r := range j.Regions {
		if len(r.Files) != 2 {
			t.Fatalf("region %s: %+v", r.Name, r.Files)
		}
		for _, f := range r.Files {
			if f.Region != r.Name || len(f.Shape) == 0 || len(f.Variables) == 0 || !strings.HasPrefix(f.Href, base+"/v1/jobs/"+j.ID+"/files/") {
				t.Errorf("file object %+v", f)
			}
		}
	}
	var m jobs.Manifest
	s.do("GET", "/v1/jobs/"+j.ID+"/manifest.json", "").json(t, &m)

	r := s.do("GET", "/v1/jobs/"+j.ID+"/files.zip", "")
	if r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("files.zip: %d %s", r.StatusCode, r.body)
	}
	zr, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != len(m.Files) || len(m.Files) != 4 {
		t.Fatalf("%d members, manifest %+v", len(zr.File), m.Files)
	}
	for i, zf := range zr.File {
		e := m.Files[i]
		if zf.Name != e.Name || !strings.HasPrefix(zf.Name, e.Region+"/") || int64(zf.UncompressedSize64) != e.Size || zf.Method != zip.Store {
			t.Errorf("member %s, manifest %+v", zf.Name, e)
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := b.ReadFrom(rc); err != nil {
			t.Fatalf("%s: %v", zf.Name, err)
		}
		rc.Close()
		if sha(b.Bytes()) != e.Sha256 {
			t.Errorf("%s: sha256 %s, manifest %s", zf.Name, sha(b.Bytes()), e.Sha256)
		}
		// The file's own download: the same bytes under a name of its own.
		d := s.do("GET", strings.TrimPrefix(e.Href, base), "")
		want := `attachment; filename=` + strings.ReplaceAll(e.Name, "/", "_")
		if !bytes.Equal(d.body, b.Bytes()) || d.Header.Get("Content-Disposition") != want {
			t.Errorf("%s: download differs or is named %q", e.Name, d.Header.Get("Content-Disposition"))
		}
	}

	dir := t.TempDir()
	zipPath := filepath.Join(dir, "files.zip")
	os.WriteFile(zipPath, r.body, 0o644)
	if out, err := exec.Command("unzip", "-t", zipPath).CombinedOutput(); err != nil || !strings.Contains(string(out), "No errors detected") {
		t.Fatalf("unzip -t: %v\n%s", err, out)
	}
	if out, err := exec.Command("unzip", "-q", zipPath, "-d", filepath.Join(dir, "x")).CombinedOutput(); err != nil {
		t.Fatalf("unzip: %v\n%s", err, out)
	}
	sums := s.do("GET", "/v1/jobs/"+j.ID+"/sha256sums", "")
	os.WriteFile(filepath.Join(dir, "x", "SHA256SUMS"), sums.body, 0o644)
	check := exec.Command("sha256sum", "-c", "SHA256SUMS")
	check.Dir = filepath.Join(dir, "x")
	if out, err := check.CombinedOutput(); err != nil || strings.Count(string(out), ": OK") != 4 {
		t.Fatalf("sha256sum -c: %v\n%s", err, out)
	}
	for _, name := range []string{"benguela/day0.nc", "benguela/day1.nc", "agulhas/day0.nc", "agulhas/day1.nc"} {
		if !bytes.Contains(sums.body, []byte("  "+name+"\n")) {
			t.Errorf("sha256sums lacks %s:\n%s", name, sums.body)
		}
	}
	var doc map[string]any
	json.Unmarshal(s.do("GET", "/v1/jobs/"+j.ID, "").body, &doc)
	if !strings.Contains(string(mustMarshal(doc["links"])), `"href":"`+base+`/v1/jobs/`+j.ID+`/files.zip"`) {
		t.Errorf("job links %s", mustMarshal(doc["links"]))
	}
}

func mustMarshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
