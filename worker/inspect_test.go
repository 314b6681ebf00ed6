package worker

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/catalog/index"
	"github.com/subsetd/subsetd/ncmodel"
)

// The inspector answers every path with one record, in order: a
// description with its box and time, an error for a file it cannot open,
// an error (not a crash) for a panic while describing.
func TestInspect(t *testing.T) {
	dir := t.TempDir()
	good, gone, boom := filepath.Join(dir, "good.nc"), filepath.Join(dir, "gone.nc"), filepath.Join(dir, "boom.nc")
	os.WriteFile(good, []byte("the bytes of good.nc"), 0o644)
	env := Env{Log: zerolog.Nop(), Open: func(p string) (ncmodel.Source, error) {
		switch p {
		case good:
			return grid(3), nil
		case boom:
			panic("the reader fell over")
		}
		return nil, errors.New("NetCDF: No such file or directory")
	}}
	var out strings.Builder
	if err := Inspect(strings.NewReader(good+"\n\n"+gone+"\r\n"+boom+"\n"), &out, env, true); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines:\n%s", len(lines), out.String())
	}
	var recs [3]index.Record
	for i, l := range lines {
		if err := json.Unmarshal([]byte(l), &recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	sum := sha256.Sum256([]byte("the bytes of good.nc"))
	if r := recs[0]; r.Path != good || r.Error != "" || r.Description == nil || r.Description.Time == nil || r.Description.Time.Steps != 2 ||
		r.Geo == nil || !reflect.DeepEqual(r.Geo.BBox, []float64{100, -10, 102, 0}) || r.Sha256 != hex.EncodeToString(sum[:]) {
		t.Errorf("good: %s", lines[0])
	}
	if r := recs[1]; r.Path != gone || r.Description != nil || !strings.Contains(r.Error, "No such file") {
		t.Errorf("gone: %s", lines[1])
	}
	if r := recs[2]; r.Path != boom || r.Description != nil || r.Error != "internal error: the reader fell over" {
		t.Errorf("panic: %s", lines[2])
	}
}
