package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/api"
)

// TestSymlinkedArchive: a curated dataset whose files are links into an
// archive folder (an allowed root), a "latest" link to a folder of the
// data directory, and links the server refuses (out of the roots, broken,
// a loop): the refused ones are named in the index summary, the dataset
// document and the start-up log; jobs read through the accepted ones.
func TestSymlinkedArchive(t *testing.T) {
	archive, secret := t.TempDir(), t.TempDir()
	data := t.TempDir()
	copyFile(t, global, filepath.Join(archive, "big", "g2020.nc"))
	copyFile(t, global, filepath.Join(secret, "private.nc"))
	copyFile(t, global, filepath.Join(data, "runs", "r1", "g.nc"))
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(data, "curated"), 0o755))
	must(os.Symlink(filepath.Join(archive, "big", "g2020.nc"), filepath.Join(data, "curated", "g2020.nc")))
	must(os.Symlink(filepath.Join(secret, "private.nc"), filepath.Join(data, "curated", "leak.nc")))
	must(os.Symlink(filepath.Join(archive, "gone.nc"), filepath.Join(data, "curated", "broken.nc")))
	must(os.Symlink("..", filepath.Join(data, "curated", "up")))
	must(os.Symlink("runs/r1", filepath.Join(data, "latest")))

	// The index summary names the refused links, their targets and why.
	out, err := exec.Command(binary, "index", "--quiet", "--data", data, "--state", t.TempDir(), "--allowed-roots", archive).CombinedOutput()
	if err != nil {
		t.Fatalf("index: %v\n%s", err, out)
	}
	for _, want := range []string{
		"curated/leak.nc: symbolic link to " + filepath.Join(secret, "private.nc") + ": its target lies outside the allowed roots",
		"curated/broken.nc: symbolic link to " + filepath.Join(archive, "gone.nc") + ": broken: its target does not exist",
		"curated/up: symbolic link to " + data + ": a loop of symbolic links: it leads back to a folder it is in",
		"3 symbolic links refused (allowed roots: " + data + ", " + archive + ")",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("index summary lacks %q:\n%s", want, out)
		}
	}

	s := start(t, data, t.TempDir(), nil, "--allowed-roots", archive, "--workers", "1")
	waitLog(t, s, 20*time.Second, `"refused_links":3`, "3 symbolic links of the data directory refused")

	var dl api.DatasetList
	s.do("GET", "/v1/datasets", "").json(t, &dl)
	var ids []string
	for _, d := range dl.Datasets {
		ids = append(ids, d.ID)
	}
	if strings.Join(ids, ",") != "curated,latest,runs" {
		t.Errorf("datasets %v", ids)
	}
	var dd api.DatasetDoc
	s.do("GET", "/v1/datasets/curated", "").json(t, &dd)
	got := map[string]string{}
	for _, l := range dd.RefusedLinks {
		got[l.Name] = l.Reason
	}
	want := map[string]string{"curated/leak.nc": "its target lies outside the allowed roots", "curated/broken.nc": "broken: its target does not exist",
		"curated/up": "a loop of symbolic links: it leads back to a folder it is in"}
	if dd.FileCount != 1 || len(got) != len(want) || got["curated/leak.nc"] != want["curated/leak.nc"] || got["curated/broken.nc"] != want["curated/broken.nc"] || got["curated/up"] != want["curated/up"] {
		t.Errorf("curated: %d files, refused %v", dd.FileCount, got)
	}
	// No server path in the document.
	if r := s.do("GET", "/v1/datasets/curated", ""); strings.Contains(string(r.body), secret) || strings.Contains(string(r.body), archive) {
		t.Errorf("the dataset document shows a path of the server: %s", r.body)
	}

	// Jobs read through the links, and give the same bytes as the file.
	for _, ds := range []string{"curated", "latest"} {
		j, _ := s.wait(s.submit(`{"dataset": "`+ds+`", "regions": [{"name": "box", "bbox": [0, 0, 20, 20]}]}`).ID, 60*time.Second, final)
		if j.Status != "successful" || len(j.Regions[0].Files) != 1 {
			t.Fatalf("%s: %s %+v", ds, j.Status, j.Regions)
		}
		f := j.Regions[0].Files[0]
		if sha(s.download(f.Href)) != f.Sha256 {
			t.Errorf("%s: download differs from the manifest", ds)
		}
	}
}
