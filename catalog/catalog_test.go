package catalog

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/internal/errs"
)

func write(t *testing.T, p string) {
	t.Helper()
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(p), 0o644); err != nil {
		t.Fatal(err)
	}
}

func setup(t *testing.T) (string, string) {
	base := t.TempDir()
	root := filepath.Join(base, "data")
	outside := filepath.Join(base, "secret")
	write(t, filepath.Join(outside, "secret.nc"))
	write(t, filepath.Join(root, "sst.nc"))
	write(t, filepath.Join(root, "chl.h5"))
	write(t, filepath.Join(root, "notes.txt"))
	write(t, filepath.Join(root, ".hidden.nc"))
	write(t, filepath.Join(root, "bad name.nc"))
	write(t, filepath.Join(root, "multi", "2001.nc"))
	write(t, filepath.Join(root, "multi", "sub", "2002.nc4"))
	write(t, filepath.Join(root, "multi", "readme.md"))
	write(t, filepath.Join(root, "multi", "2003.nc.gz"))
	write(t, filepath.Join(root, "zipped.h5.bz2"))
	write(t, filepath.Join(root, "archive.tar.gz"))
	os.Symlink(filepath.Join(outside, "secret.nc"), filepath.Join(root, "leak.nc"))
	os.Symlink(outside, filepath.Join(root, "leakdir"))
	os.Symlink(filepath.Join(outside, "secret.nc"), filepath.Join(root, "multi", "leak.nc"))
	os.Symlink(filepath.Join(root, "sst.nc"), filepath.Join(root, "alias.nc"))
	os.MkdirAll(filepath.Join(root, "emptydir"), 0o755)
	return root, outside
}

// listIDs returns the ids of the datasets of root, in List's order.
func listIDs(t *testing.T, root string) []string {
	t.Helper()
	c, err := New(root, Options{Index: openIndex(t), Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	ds, err := c.List()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	return ids
}

func TestListRefusesWhatIsNotData(t *testing.T) {
	root, _ := setup(t)
	c, err := New(root, Options{Index: openIndex(t), Log: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	ids := listIDs(t, root)
	want := []string{"alias", "chl", "multi", "sst", "zipped"}
	if len(ids) != len(want) {
		t.Fatalf("ids %v, want %v", ids, want)
	}
	for i := range want {
		if ids[i] != want[i] {
			t.Fatalf("ids %v, want %v", ids, want)
		}
	}
	m, err := c.Get("multi")
	if err != nil {
		t.Fatal(err)
	}
	if !m.Dir || len(m.Files) != 3 || filepath.Base(m.Files[0]) != "2001.nc" || filepath.Base(m.Files[1]) != "2003.nc.gz" || filepath.Base(m.Files[2]) != "2002.nc4" {
		t.Fatalf("multi: %+v", m)
	}
	for _, id := range []string{"leak", "leakdir", "../secret/secret", "/etc/passwd", "..", "notes", "", "emptydir", "multi/sub", "zipped.h5", "archive"} {
		if _, err := c.Get(id); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("Get(%q) = %v, want not found", id, err)
		}
	}
	for _, rel := range []string{"multi/sub/2002.nc4", "sst.nc", "alias.nc"} {
		if p, err := c.Resolve(rel); err != nil || !filepath.IsAbs(p) {
			t.Errorf("Resolve(%q) = %q, %v", rel, p, err)
		}
	}
	for _, rel := range []string{"leak.nc", "multi/leak.nc", "../secret/secret.nc", "/etc/passwd", "", "multi", "nope.nc"} {
		if p, err := c.Resolve(rel); errs.CodeOf(err) != errs.NotFound {
			t.Errorf("Resolve(%q) = %q, %v, want not found", rel, p, err)
		}
	}
}
