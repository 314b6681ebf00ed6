package index

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/internal/sqlmigrate"
	"github.com/subsetd/subsetd/regions"
)

func versions(t *testing.T, s *Store) []string {
	t.Helper()
	rows, err := s.db.Query(`SELECT version, name FROM index_migration ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%d %s", v, name))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// An index written before numbered migrations (PRAGMA user_version 1) is
// adopted with its files: nothing to scan again.
func TestOpenAdoptsRelease(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	text, err := os.ReadFile("testdata/unversioned.sql")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(string(text)); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := OpenFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := versions(t, s); !reflect.DeepEqual(got, []string{"1 0001_init"}) {
		t.Fatalf("versions %v", got)
	}
	if ds, err := s.Datasets(ctx); err != nil || !reflect.DeepEqual(ds, []string{"sst", "swath"}) {
		t.Fatalf("datasets %v, %v", ds, err)
	}
	search := func(dataset string, b *regions.BBox, from int) []string {
		t.Helper()
		start := day(from)
		sp := &start
		if from < 0 {
			sp = nil
		}
		files, n, err := s.Search(ctx, dataset, b, sp, nil, 0, 0)
		if err != nil || n != len(files) {
			t.Fatalf("search %s %v: %d of %d, %v", dataset, b, len(files), n, err)
		}
		return paths(files)
	}
	for _, c := range []struct {
		dataset string
		box     *regions.BBox
		from    int
		want    []string
	}{
		{"sst", nil, -1, []string{"sst/2020-01.nc", "sst/2020-02.nc"}},
		{"sst", &regions.BBox{West: 2, South: 42, East: 3, North: 43}, -1, []string{"sst/2020-01.nc"}},
		{"sst", &regions.BBox{West: 175, South: -5, East: -175, North: 5}, -1, []string{"sst/2020-02.nc"}},
		{"sst", nil, 2, []string{"sst/2020-02.nc"}},
		{"swath", &regions.BBox{West: -29, South: 60.5, East: -28.5, North: 61}, -1, []string{"swath/s1.nc"}},
		{"swath", &regions.BBox{West: 0, South: 60.5, East: 1, North: 61}, -1, []string{}},
	} {
		if got := search(c.dataset, c.box, c.from); !reflect.DeepEqual(got, c.want) {
			t.Errorf("search %s %v from day %d: %v, want %v", c.dataset, c.box, c.from, got, c.want)
		}
	}
	files, _, err := s.Search(ctx, "sst", nil, nil, nil, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if f := files[0]; f.Size != 1000 || f.Sha256 != "aa" || f.TimeSteps != 4 || !reflect.DeepEqual(f.BBox, []float64{0, 40, 10, 50}) || f.Calendar != "standard" {
		t.Fatalf("file %+v", f)
	}
	if fs, err := s.Errors(ctx, "sst"); err != nil || len(fs) != 1 || fs[0].Path != "sst/bad.nc" || fs[0].Error != "not a netCDF or HDF5 file" {
		t.Fatalf("errors %+v, %v", fs, err)
	}

	// Scans go on storing into it.
	t0 := day(40)
	if err := s.Put(ctx, []Entry{{Dataset: "sst", Path: "sst/2020-03.nc", Size: 5, ModTime: day(41),
		Record: Record{Description: describe([]string{"sst"}, 3, 3, &t0, 2, 24*time.Hour), Geo: GeoOf([]GridCoords{{Kind: "rectilinear", Lat: []float64{40, 45, 50}, Lon: []float64{0, 5, 10}}})}}}); err != nil {
		t.Fatal(err)
	}
	if got := search("sst", &regions.BBox{West: 2, South: 42, East: 3, North: 43}, 30); !reflect.DeepEqual(got, []string{"sst/2020-03.nc"}) {
		t.Fatalf("after a put: %v", got)
	}
	s.Close()

	again, err := OpenFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if got := versions(t, again); !reflect.DeepEqual(got, []string{"1 0001_init"}) {
		t.Fatalf("versions after reopening %v", got)
	}
}

// An index migrated by a newer subsetd is refused: the error names the
// file, both versions and the remedy.
func TestOpenRefusesNewer(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	s, err := OpenFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if got := versions(t, s); !reflect.DeepEqual(got, []string{"1 0001_init"}) {
		t.Fatalf("versions of a new index %v", got)
	}
	if _, err := s.db.Exec(`INSERT INTO index_migration (version, name, applied_ms) VALUES (2, '0002_future', 0)`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err = OpenFile(ctx, path)
	if !errors.Is(err, sqlmigrate.ErrNewer) {
		t.Fatalf("got %v, want ErrNewer", err)
	}
	for _, want := range []string{path, "version 2", "knows is 1", "remove it"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
}
