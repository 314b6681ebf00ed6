package jobs

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/regions"
)

// releaseSpec is a spec as the release before fixed regions stored it
// (json.Marshal of its Spec, which embedded the request): refs alone, the
// set's geometry nowhere.
const releaseSpec = `{"dataset":"sst","regions":[{"ref":"africa/red_sea"},{"name":"cape_box","ref":"africa/cape_peninsula","mask":false},` +
	`{"name":"gone","ref":"africa/atlantis"},{"name":"box","bbox":[8,-35,20,-15]}],"variables":["sst"],` +
	`"time":{"start":"2020-01-03","end":"2020-01-10"},"output":{"format":"netcdf4","deflate":1}}`

// A job stored by the release runs on: its refs are fixed when it is
// loaded, from the sets as they are then; one that no set has is left
// bare, and fixing it again says why. It is shown, and hashed for its
// idempotency key, as it was asked for.
func TestSpecStoredByTheRelease(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	_, err := s.db.ExecContext(ctx, `INSERT INTO subsetd_job (id, dataset, status, spec, tasks, created_ms, updated_ms)
		VALUES ('old', 'sst', 'accepted', ?, 1, 1767225600000, 1767225600000)`, releaseSpec)
	if err != nil {
		t.Fatal(err)
	}
	j := mustGet(t, s, "old")
	rs := j.Spec.Regions
	red, _ := regions.Lookup("africa/red_sea")
	cape, _ := regions.Lookup("africa/cape_peninsula")
	if len(rs) != 4 || string(rs[0].Geometry) != string(red.Geometry) || rs[0].Ref != "africa/red_sea" || rs[0].Name != "" ||
		string(rs[1].Geometry) != string(cape.Geometry) || rs[1].Mask == nil || *rs[1].Mask || rs[2].HasArea() || len(rs[3].BBox) != 4 {
		t.Fatalf("loaded regions %+v", rs)
	}
	if err := j.Spec.FixRefs(); err == nil || !strings.Contains(err.Error(), `regions[2].ref: region set africa has no region "atlantis"`) {
		t.Fatalf("unknown ref: %v", err)
	}
	if _, err := rs[0].Resolve("r"); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(releaseSpec))
	if got := j.Spec.Hash(); got != hex.EncodeToString(sum[:]) {
		t.Errorf("hash %s, the release hashed %x", got, sum)
	}
	var written []regions.Region
	for _, r := range rs {
		written = append(written, r.Written())
	}
	b, _ := json.Marshal(written)
	if !strings.Contains(releaseSpec, `"regions":`+string(b)+`,`) {
		t.Errorf("written back as %s", b)
	}
	// Stored again (as a new job), the spec keeps the geometry.
	j.ID = "new"
	j.Spec.Regions = rs[:2]
	if err := s.InTx(ctx, func(tx *sql.Tx) error { return s.Insert(ctx, tx, j, []Task{{ID: 0, Regions: []int{0, 1}}}, "", "") }); err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, s, "new").Spec.Regions; string(got[0].Geometry) != string(red.Geometry) || got[0].Ref != "africa/red_sea" {
		t.Fatalf("stored again: %+v", got)
	}
}
