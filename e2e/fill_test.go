package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/engine"
)

// A region whose kept cells are all fill (the global grid's northernmost
// row, lat 89) is successful with its file and the note, in the job
// document as in the CLI's output; a region with values has no note.
func TestAllFillNote(t *testing.T) {
	s := start(t, dataDir(t), t.TempDir(), nil)
	j := s.submit(`{"dataset": "global", "variables": ["sst"], "regions": [
		{"name": "north_row", "bbox": [-20, 88, 20, 90]}, {"name": "tropics", "bbox": [-20, -10, 20, 10]}]}`)
	j, _ = s.wait(j.ID, 60*time.Second, final)
	if j.Status != "successful" || len(j.Regions) != 2 {
		t.Fatalf("%+v", j)
	}
	north, tropics := j.Regions[0], j.Regions[1]
	if north.Status != "successful" || len(north.Files) != 1 || north.Message != engine.AllFillNote {
		t.Errorf("north_row: %+v", north)
	}
	if tropics.Status != "successful" || tropics.Message != "" {
		t.Errorf("tropics: %+v", tropics)
	}
	// The file holds the row, all -999 (ncdump prints fill as "_").
	path := filepath.Join(t.TempDir(), "north_row.nc")
	if err := os.WriteFile(path, s.download(north.Files[0].Href), 0o644); err != nil {
		t.Fatal(err)
	}
	data := ncdumpData(t, path, "sst")
	_, vals, _ := strings.Cut(data, "sst =")
	cells := strings.FieldsFunc(vals, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '}' })
	if len(cells) != 20 || strings.Count(vals, "_") != 20 {
		t.Errorf("north_row values (want 20 fills):\n%s", data)
	}

	// The CLI: the same note, exit 0.
	out := t.TempDir()
	cmd := exec.Command(binary, "subset", "--out", out, "--region", "north_row=-20,88,20,90", "--region", "tropics=-20,-10,20,10", global)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("subset: %v\n%s", err, b)
	}
	if !strings.Contains(string(b), "note: region north_row: "+engine.AllFillNote) || strings.Contains(string(b), "region tropics:") {
		t.Errorf("subset output:\n%s", b)
	}
}
