package netcdf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/internal/testutil/fixtures"
)

var updateSeeds = flag.Bool("update-seeds", false, "rewrite testdata/fuzz/FuzzClassicHeader from the fixtures")

// seedCases are the fixtures the fuzz seeds come from: classic and 64-bit
// offset files as ncgen builds them, and one of them rebuilt as CDF-5.
var seedCases = []string{"lon360", "packed", "bounds", "onecell", "lon_m280"}

// boundedReader is the file for the parser: it fails the test when asked
// for more bytes than the file has, which is how a corrupt count would
// turn into an allocation.
type boundedReader struct {
	t *testing.T
	b []byte
}

func (r boundedReader) ReadAt(p []byte, off int64) (int, error) {
	if int64(len(p)) > int64(len(r.b)) {
		r.t.Fatalf("read of %d bytes asked of a %d-byte file", len(p), len(r.b))
	}
	return bytes.NewReader(r.b).ReadAt(p, off)
}

// FuzzClassicHeader feeds arbitrary bytes to the netCDF-3 header parser: it
// must never panic, never read (allocate) more than the file holds, and a
// header it accepts must describe data that ends after the header.
//
//	go test ./readers/netcdf -run '^$' -fuzz FuzzClassicHeader -fuzztime 60s
func FuzzClassicHeader(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("CDF\x01"))
	// The smallest file: no records, no dimensions, attributes, variables.
	f.Add(append([]byte("CDF\x01"), make([]byte, 28)...))
	f.Add(append([]byte("CDF\x05"), make([]byte, 48)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		h := &hdr{r: boundedReader{t, b}, size: int64(len(b))}
		end, err := h.dataEnd()
		if err == nil && (end < h.off || h.off > int64(len(b))) {
			t.Fatalf("accepted: data ends at %d, header at %d, file of %d bytes", end, h.off, len(b))
		}
		if err := checkClassic(boundedReader{t, b}, int64(len(b))); err != nil && err.Error() == "" {
			t.Fatal("empty error message")
		}
	})
}

// The seeds under testdata/fuzz/FuzzClassicHeader are the fixture files
// (go test ./readers/netcdf -run TestClassicSeeds -update-seeds rewrites
// them); each must pass the header check, as netCDF-C reads it.
func TestClassicSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzClassicHeader")
	if *updateSeeds {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range seedCases {
			writeSeed(t, dir, name, fixtures.Build(t, name))
		}
		cdf5 := filepath.Join(t.TempDir(), "lon360_cdf5.nc")
		if b, err := exec.Command("ncgen", "-k", "64-bit-data", "-o", cdf5, fixtures.CDL("lon360")).CombinedOutput(); err != nil {
			t.Fatalf("ncgen: %v %s", err, b)
		}
		writeSeed(t, dir, "lon360_cdf5", cdf5)
	}
	seeds, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(seeds) < len(seedCases) {
		t.Fatalf("seeds in %s: %v %v", dir, seeds, err)
	}
	for _, p := range seeds {
		if strings.HasPrefix(filepath.Base(p), "crasher-") {
			continue // inputs the fuzzer found: see TestClassicCrashers
		}
		b := readSeed(t, p)
		if err := checkClassic(bytes.NewReader(b), int64(len(b))); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

func writeSeed(t *testing.T, dir, name, src string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	text := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
	if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readSeed decodes a file of Go's fuzz corpus format holding one []byte.
func readSeed(t *testing.T, p string) []byte {
	t.Helper()
	text, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	body, ok := strings.CutPrefix(string(text), "go test fuzz v1\n[]byte(")
	body, ok2 := strings.CutSuffix(strings.TrimSpace(body), ")")
	if !ok || !ok2 {
		t.Fatalf("%s: not a fuzz corpus file of one []byte", p)
	}
	s, err := strconv.Unquote(body)
	if err != nil {
		t.Fatalf("%s: %v", p, err)
	}
	return []byte(s)
}

// Inputs the fuzzer found that crashed the parser before it checked counts
// against the file: they are in the seed corpus (FuzzClassicHeader runs
// them in every go test) and here with what the parser must say.
func TestClassicCrashers(t *testing.T) {
	for name, want := range map[string]string{
		// A fixture's header, cut to 934 bytes, with 0xf4 over the
		// dimension count's first byte: make([]int64, 4093640704) ran out
		// of memory.
		"crasher-4093640704-dimensions": "the header declares 4093640704 dimensions at byte 12, more than the 922 bytes left in the file hold",
	} {
		b := readSeed(t, filepath.Join("testdata", "fuzz", "FuzzClassicHeader", name))
		if err := checkClassic(boundedReader{t, b}, int64(len(b))); err == nil || err.Error() != want {
			t.Errorf("%s: got %v\nwant %s", name, err, want)
		}
	}
}

// header builds a netCDF-3 header from 32-bit big-endian words and strings
// (padded to 4 bytes).
func header(parts ...any) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			b.WriteString(v)
			for b.Len()%4 != 0 {
				b.WriteByte(0)
			}
		case int:
			binary.Write(&b, binary.BigEndian, uint32(v))
		case uint64:
			binary.Write(&b, binary.BigEndian, v)
		}
	}
	return b.Bytes()
}

// Counts the header claims are checked against the bytes left before the
// parser loops or allocates; each case is a header a corrupt file had.
func TestClassicHeaderCounts(t *testing.T) {
	const (
		dimTag, attTag, varTag = 0x0A, 0x0C, 0x0B
		float                  = 5
	)
	// One dimension x = 4, one float variable v(x) of 16 bytes at 80.
	good := header("CDF\x01", 0, dimTag, 1, 1, "x", 4, 0, 0, varTag, 1, 1, "v", 1, 0, 0, 0, float, 16, 80)
	good = append(good, make([]byte, 80+16-len(good))...)
	for _, c := range []struct {
		name string
		b    []byte
		want string // "" for no error
	}{
		{"good", good, ""},
		{"4 billion dimensions", header("CDF\x01", 0, dimTag, 0xFFFFFFFF, 1, "x", 4),
			"the header declares 4294967295 dimensions at byte 12, more than the 12 bytes left in the file hold"},
		// netCDF-C crashed on such a count (SIGSEGV in NC_hashmapadd under
		// nc_get_NC) and spent minutes copying a name of 2^30 bytes.
		{"3 billion variables", header("CDF\x01", 0, 0, 0, 0, 0, varTag, 3036676100, 1, "v"),
			"the header declares 3036676100 variables at byte 28, more than the 8 bytes left in the file hold"},
		{"CDF-5 count beyond int64", header("CDF\x05", uint64(0), dimTag, uint64(1<<63)),
			"a count of 9223372036854775808 at byte 16"},
		{"name longer than the file", header("CDF\x01", 0, dimTag, 1, 1<<30, "x"),
			"its header runs past the end of the file (24 bytes, from byte 20)"},
		{"attribute values longer than the file", header("CDF\x01", 0, 0, 0, attTag, 1, 1, "a", float, 1<<29),
			"its header runs past the end of the file (40 bytes, from byte 40)"},
		{"variable of 5000 dimensions", append(header("CDF\x01", 0, dimTag, 1, 1, "x", 4, 0, 0, varTag, 1, 1, "v", 5000), make([]byte, 64)...),
			"variable 0 has 5000 dimensions (byte 52), more than netCDF allows (1024)"},
		{"variable of a bad type", header("CDF\x01", 0, dimTag, 1, 1, "x", 4, 0, 0, varTag, 1, 1, "v", 1, 0, 0, 0, 99, 16, 80),
			"variable 0 has a bad type 99 (byte 68)"},
		{"data beyond any file", header("CDF\x02", 0, dimTag, 1, 1, "x", 4, 0, 0, varTag, 1, 1, "v", 1, 0, 0, 0, float, 16, uint64(1<<63-8)),
			"variable 0's data ends beyond any file (begins at 9223372036854775800, 16 bytes)"},
		{"truncated data", good[:90], "truncated file: 90 bytes, but its header describes data up to byte 96"},
	} {
		err := checkClassic(bytes.NewReader(c.b), int64(len(c.b)))
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || err.Error() != c.want):
			t.Errorf("%s: got %v\nwant %s", c.name, err, c.want)
		}
	}
	if err := checkClassic(bytes.NewReader(good[:90]), 90); !errors.Is(err, errTruncated) {
		t.Errorf("truncated data: %v is not errTruncated", err)
	}
}

// Open refuses such headers before netCDF-C sees them, with the category
// first and the parser's words after it.
func TestOpenRefusesCorruptHeaders(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "dims.nc")
	if err := os.WriteFile(p, header("CDF\x01", 0, 0x0A, 0xFFFFFFFF, 1, "x", 4), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Open(p)
	want := fmt.Sprintf("%v: the header declares 4294967295 dimensions at byte 12, more than the 12 bytes left in the file hold", ErrCorruptClassic)
	if err == nil || err.Error() != want || !errors.Is(err, ErrCorruptClassic) {
		t.Errorf("got %v\nwant %s", err, want)
	}
}
