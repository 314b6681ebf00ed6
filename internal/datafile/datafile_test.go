package datafile

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// Every name the index, the catalog, the engine and the readers see,
// including those on which their former copies of the rule disagreed
// ("b.netcdf", "A.NC.GZ", ".zstd").
func TestNames(t *testing.T) {
	for _, c := range []struct {
		name  string
		data  bool
		stem  string
		comp  Compression
		id    string // "" when the entry is no dataset
		idErr string
	}{
		{"sst.nc", true, "sst", "", "sst", ""},
		{"sst.nc.gz", true, "sst", Gzip, "sst", ""},
		{"b.netcdf", true, "b", "", "b", ""},
		{"A.NC.GZ", true, "A", Gzip, "A", ""},
		{"Swath.H5", true, "Swath", "", "Swath", ""},
		{"g.nc4.bz2", true, "g", Bzip2, "g", ""},
		{"g.cdf.zst", true, "g", Zstd, "g", ""},
		{"g.hdf5.zstd", true, "g", Zstd, "g", ""},
		{"g.he5.ZSTD", true, "g", Zstd, "g", ""},
		{"g.hdf.gzip", true, "g", Gzip, "g", ""},
		{"x.h5.nc", true, "x.h5", "", "x.h5", ""},
		{"sst.nc.nc", true, "sst.nc", "", "sst.nc", ""},
		{"2020-01-01.v2.nc", true, "2020-01-01.v2", "", "2020-01-01.v2", ""},
		{"/data/dir/day1.nc.gz", true, "day1", Gzip, "day1", ""},
		{"notes.txt", false, "notes.txt", "", "", "not a NetCDF"},
		{"archive.tar.gz", false, "archive.tar", Gzip, "", "not a NetCDF"},
		{"data.gz", false, "data", Gzip, "", "not a NetCDF"},
		{"plain", false, "plain", "", "", "not a NetCDF"},
		{".nc", false, ".nc", "", "", "not a NetCDF"},
		{".nc.gz", false, ".nc", Gzip, "", "not a NetCDF"},
		{"nc", false, "nc", "", "", "not a NetCDF"},
		{"bad name.nc", true, "bad name", "", "", "cannot be a dataset id"},
		{"a..b.nc", true, "a..b", "", "", "cannot be a dataset id"},
		{"-x.nc", true, "-x", "", "", "cannot be a dataset id"},
		{strings.Repeat("l", 128) + ".nc", true, strings.Repeat("l", 128), "", strings.Repeat("l", 128), ""},
		{strings.Repeat("l", 129) + ".nc", true, strings.Repeat("l", 129), "", "", "cannot be a dataset id"},
	} {
		if got := IsDataFile(c.name); got != c.data {
			t.Errorf("IsDataFile(%q) = %v", c.name, got)
		}
		if got := Stem(c.name); got != c.stem {
			t.Errorf("Stem(%q) = %q, want %q", c.name, got, c.stem)
		}
		if got := CompressionOf(c.name); got != c.comp {
			t.Errorf("CompressionOf(%q) = %q, want %q", c.name, got, c.comp)
		}
		id, err := DatasetID(c.name, false)
		if c.idErr == "" {
			if err != nil || id != c.id {
				t.Errorf("DatasetID(%q) = %q, %v, want %q", c.name, id, err, c.id)
			}
		} else if err == nil || !strings.Contains(err.Error(), c.idErr) {
			t.Errorf("DatasetID(%q) = %q, %v, want an error %q", c.name, id, err, c.idErr)
		}
	}
	if _, err := DatasetID("notes.txt", false); !errors.Is(err, ErrNotDataFile) {
		t.Errorf("notes.txt: %v", err)
	}
}

func TestFolderIDs(t *testing.T) {
	for name, ok := range map[string]bool{
		"sst": true, "multi.v2": true, "Ocean_Colour-1": true, "sst.nc": true,
		"": false, ".hidden": false, "..": false, "a..b": false, "bad name": false, "sub/dir": false, "é": false,
	} {
		id, err := DatasetID(name, true)
		if (err == nil) != ok || id != name || ValidID(name) != ok {
			t.Errorf("folder %q: id %q, error %v, want valid %v", name, id, err, ok)
		}
	}
}

func TestSplitCompression(t *testing.T) {
	for name, want := range map[string]string{
		"a.nc.gz": "a.nc", "A.NC.GZ": "A.NC", "a.nc.zstd": "a.nc", "a.nc.Zst": "a.nc", "a.h5.bz2": "a.h5",
		"a.nc": "a.nc", "a.gz.nc": "a.gz.nc", ".gz": ".gz",
	} {
		if got, _ := SplitCompression(name); got != want {
			t.Errorf("SplitCompression(%q) = %q, want %q", name, got, want)
		}
	}
	if got := CompressionSuffixes(); !reflect.DeepEqual(got, []string{".gz", ".gzip", ".bz2", ".zst", ".zstd"}) {
		t.Errorf("suffixes %v", got)
	}
}

func TestOutputNames(t *testing.T) {
	for _, c := range []struct{ files, want []string }{
		{[]string{"/d/s/g1.nc.gz", "/d/s/g2.nc", "/d/t/g1.h5"}, []string{"g1", "g2", "g1-2"}},
		{[]string{"b.netcdf", "A.NC.GZ", "c.nc.zstd"}, []string{"b", "A", "c"}},
		{[]string{"a.nc", "a.h5", "a.nc4", "a.cdf"}, []string{"a", "a-2", "a-3", "a-4"}},
		{[]string{"/x/a.nc", "/y/a.nc", "/z/a.nc4", "b.nc.bz2", "c.he5.zst", "d.cdf"}, []string{"a", "a-2", "a-3", "b", "c", "d"}},
		// A file's own stem is never given to another file.
		{[]string{"a.nc", "a.h5", "a-2.nc"}, []string{"a", "a-3", "a-2"}},
		{[]string{"a-2.nc", "a.nc", "a.h5"}, []string{"a-2", "a", "a-3"}},
		{[]string{"a.nc", "a-2.nc", "a-2.h5", "a.h5"}, []string{"a", "a-2", "a-2-2", "a-3"}},
		// Names differing in case only would meet on some file systems.
		{[]string{"A.nc", "a.nc", "a-2.NC"}, []string{"A", "a-3", "a-2"}},
		{[]string{"/d/s/g1.nc.gz", "/d/t/G1.H5"}, []string{"g1", "G1-2"}},
		{[]string{"x/one.nc"}, []string{"one"}},
		{nil, []string{}},
	} {
		got := OutputNames(c.files)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("OutputNames(%q) = %q, want %q", c.files, got, c.want)
		}
		seen := map[string]bool{}
		for _, n := range got {
			if seen[strings.ToLower(n)] {
				t.Errorf("OutputNames(%q): %q twice", c.files, n)
			}
			seen[strings.ToLower(n)] = true
		}
	}
}

func ExampleOutputNames() {
	files := []string{"/data/passes/b.netcdf", "/data/passes/A.NC.GZ", "/data/more/b.h5.zstd"}
	fmt.Println(OutputNames(files))
	id, _ := DatasetID("A.NC.GZ", false)
	fmt.Println(id)
	// Output:
	// [b A b-2]
	// A
}
