// Package datafile is the one rule for the names of data files: which
// names are NetCDF/HDF5 files (possibly compressed), which compression a
// name says, a file's stem, the dataset id of an entry of the data
// directory, and the names of the outputs cut from several files. The
// index, the catalog, the engine and the readers all ask it, so that the
// server and the command line name things alike.
//
// It looks at names only, never at contents or the file system, and
// imports nothing of the module.
package datafile

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// Extensions are the extensions of data files (compared without regard
// to case), each possibly followed by a compression suffix.
var Extensions = []string{".nc", ".nc4", ".netcdf", ".cdf", ".h5", ".hdf5", ".he5", ".hdf"}

// Compression is a compression a file name says; "" is none.
type Compression string

// The compressions the readers decompress.
const (
	Gzip  Compression = "gz"
	Bzip2 Compression = "bz2"
	Zstd  Compression = "zst"
)

// compressionSuffixes are the suffixes of compressed files (compared
// without regard to case) and what they say.
var compressionSuffixes = []struct {
	suffix string
	c      Compression
}{
	{".gz", Gzip}, {".gzip", Gzip}, {".bz2", Bzip2}, {".zst", Zstd}, {".zstd", Zstd},
}

// CompressionSuffixes are the compression suffixes, in lower case.
func CompressionSuffixes() []string {
	out := make([]string, len(compressionSuffixes))
	for i, s := range compressionSuffixes {
		out[i] = s.suffix
	}
	return out
}

// base is the last element of a path, with '/' or the system's separator.
func base(name string) string {
	if i := strings.LastIndexAny(name, "/"+string(filepath.Separator)); i >= 0 {
		return name[i+1:]
	}
	return name
}

// cutSuffix removes suffix from name, compared without regard to case,
// when something is left before it.
func cutSuffix(name, suffix string) (string, bool) {
	if len(name) > len(suffix) && strings.EqualFold(name[len(name)-len(suffix):], suffix) {
		return name[:len(name)-len(suffix)], true
	}
	return name, false
}

// SplitCompression returns a file name without its compression suffix and
// the compression the suffix says ("sst.nc.GZ" -> "sst.nc", Gzip), or the
// name unchanged and "".
func SplitCompression(name string) (string, Compression) {
	for _, s := range compressionSuffixes {
		if rest, ok := cutSuffix(name, s.suffix); ok {
			return rest, s.c
		}
	}
	return name, ""
}

// CompressionOf returns the compression a file name says, or "".
func CompressionOf(name string) Compression {
	_, c := SplitCompression(base(name))
	return c
}

// split returns the base name of a path without its compression suffix
// and data extension, and whether it had a data extension.
func split(name string) (string, bool) {
	plain, _ := SplitCompression(base(name))
	for _, e := range Extensions {
		if stem, ok := cutSuffix(plain, e); ok {
			return stem, true
		}
	}
	return plain, false
}

// IsDataFile reports whether a file name is that of a NetCDF/HDF5 file,
// possibly compressed: "sst.nc", "A.NC.GZ", "swath.h5.zstd".
func IsDataFile(name string) bool {
	_, ok := split(name)
	return ok
}

// Stem is the name of a file without its directory, compression suffix and
// data extension, each compared without regard to case and the rest kept
// as written: "dir/A.NC.GZ" -> "A", "b.netcdf" -> "b", "x.h5.nc" -> "x.h5".
// A name with no data extension loses its compression suffix only
// ("notes.txt.gz" -> "notes.txt").
func Stem(name string) string {
	stem, _ := split(name)
	return stem
}

var validID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// ValidID reports whether id can name a dataset: letters, digits, '.', '_'
// and '-', starting with a letter or digit, at most 128 characters, no "..".
func ValidID(id string) bool { return validID.MatchString(id) && !strings.Contains(id, "..") }

// CheckID is ValidID as an error that says the rule.
func CheckID(id string) error {
	if !ValidID(id) {
		return fmt.Errorf("%q cannot be a dataset id (letters, digits, '.', '_', '-')", id)
	}
	return nil
}

// ErrNotDataFile is DatasetID's answer for a file that is not a data file.
var ErrNotDataFile = errors.New("not a NetCDF or HDF5 file name")

// DatasetID returns the dataset id of an entry directly in the data
// directory: a folder's name, a data file's stem ("sst.nc.gz" -> "sst").
// The error says why the entry cannot be a dataset (ErrNotDataFile, or an
// id CheckID refuses); the id is returned with it, for messages.
func DatasetID(name string, dir bool) (string, error) {
	id := name
	if !dir {
		stem, ok := split(name)
		if !ok {
			return "", ErrNotDataFile
		}
		id = stem
	}
	return id, CheckID(id)
}

// OutputNames returns, for files cut one by one into one folder, the stem
// of each one's output: its Stem, and when an earlier file took that name
// the stem followed by -2, -3... (the first number that no file's own stem
// and no earlier output takes). Names are compared without regard to case,
// as region names are, so that outputs stay apart on every file system:
// [g1.nc.gz g2.nc G1.h5] -> [g1 g2 G1-2]. The same list always gives the
// same names.
func OutputNames(files []string) []string {
	out := make([]string, len(files))
	own := map[string]bool{}
	for i, f := range files {
		out[i] = Stem(f)
		own[strings.ToLower(out[i])] = true
	}
	taken := map[string]bool{}
	for i, stem := range out {
		name := stem
		for n := 2; taken[strings.ToLower(name)]; n++ {
			if name = fmt.Sprintf("%s-%d", stem, n); own[strings.ToLower(name)] {
				name = stem // a file's own stem: keep looking
			}
		}
		taken[strings.ToLower(name)] = true
		out[i] = name
	}
	return out
}
