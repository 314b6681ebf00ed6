package corrupt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/subsetd/subsetd/internal/testutil/fixtures"
	"github.com/subsetd/subsetd/ncmodel"
)

// File is one file of a corpus.
type File struct {
	Name   string // file name, unique in the corpus: <source>-<kind>-<index>.nc
	Source string // the good file it was made from; "" for extras
	Kind   string // flip, trunc, zero, swap; empty, tiny, random, magic+random
	What   string // what was done, e.g. "3 bytes flipped at 0x1a0 0x2f3 0x88c"
	Data   []byte
}

// Source is a good file to mutate.
type Source struct {
	Name string
	Data []byte
}

// Counts says how many files of each kind Generate makes per source.
type Counts struct {
	Flips, Truncations, Zeroes, Swaps int
}

// Region is the part of a file the flips, zeroed and swapped blocks fall in:
// the superblock, object headers, B-trees and heaps of a small NetCDF-4
// file, the whole header of a netCDF-3 one.
const Region = 16 << 10

// DefaultCounts gives 100 files per source.
var DefaultCounts = Counts{Flips: 60, Truncations: 16, Zeroes: 12, Swaps: 12}

// The fixture cases Sources takes: a deflated, chunked NetCDF-4 file, a
// NetCDF-4 file with groups, a classic and a 64-bit-offset one.
var sourceCases = []string{"global2deg", "groups", "lon360", "onecell"}

// Sources builds the good files of a corpus from the fixtures.
func Sources(t testing.TB) []Source {
	t.Helper()
	var out []Source
	for _, name := range sourceCases {
		b, err := os.ReadFile(fixtures.Build(t, name))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, Source{Name: name, Data: b})
	}
	return out
}

// rng is the generator of one (seed, source, kind): adding a source or a
// kind does not change the files of the others.
func rng(seed uint64, parts ...string) *rand.Rand {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// Generate mutates each source n times per kind (see Counts) with seed.
func Generate(seed uint64, sources []Source, n Counts) []File {
	var out []File
	for _, s := range sources {
		out = append(out, mutations(seed, s, n)...)
	}
	return out
}

func mutations(seed uint64, s Source, n Counts) []File {
	var out []File
	add := func(kind string, i int, what string, b []byte) {
		out = append(out, File{Name: fmt.Sprintf("%s-%s-%03d.nc", s.Name, kind, i), Source: s.Name, Kind: kind, What: what, Data: b})
	}
	size := len(s.Data)
	region := min(size, Region)
	if region < 16 {
		return nil
	}

	r := rng(seed, s.Name, "flip")
	for i := range n.Flips {
		b := bytes.Clone(s.Data)
		// Half the files are hit in the first KiB (the superblock, the
		// root group's header, a netCDF-3 header's counts), half anywhere
		// in the region; 1 to 4 bytes each, XORed with a non-zero value so
		// that every flip changes the byte.
		span := region
		if i%2 == 0 {
			span = min(region, 1<<10)
		}
		k := 1 + r.IntN(4)
		what := fmt.Sprintf("%d bytes flipped at", k)
		for range k {
			off := r.IntN(span)
			b[off] ^= byte(1 + r.IntN(255))
			what += fmt.Sprintf(" %#x", off)
		}
		add("flip", i, what, b)
	}

	r = rng(seed, s.Name, "trunc")
	for i := range n.Truncations {
		// Evenly over the file, jittered: cuts in the header, in the
		// metadata and in the data.
		at := (i*size + r.IntN(size)) / max(n.Truncations, 1)
		at = min(max(at, 1), size-1)
		add("trunc", i, fmt.Sprintf("truncated to %d of %d bytes", at, size), bytes.Clone(s.Data[:at]))
	}

	r = rng(seed, s.Name, "zero")
	for i := range n.Zeroes {
		b := bytes.Clone(s.Data)
		var off, l int
		for try := 0; try < 100; try++ {
			l = min(8<<r.IntN(7), region) // 8 .. 512 bytes
			off = r.IntN(region - l + 1)
			if !allZero(b[off : off+l]) {
				break
			}
		}
		clear(b[off : off+l])
		add("zero", i, fmt.Sprintf("%d bytes zeroed at %#x", l, off), b)
	}

	r = rng(seed, s.Name, "swap")
	for i := range n.Swaps {
		b := bytes.Clone(s.Data)
		var x, y, l int
		for try := 0; try < 100; try++ {
			l = 8 << r.IntN(6) // 8 .. 256 bytes
			if 2*l > region {
				l = region / 2
			}
			x = r.IntN(region - 2*l + 1)
			y = x + l + r.IntN(region-x-2*l+1)
			if !bytes.Equal(b[x:x+l], b[y:y+l]) {
				break
			}
		}
		tmp := bytes.Clone(b[x : x+l])
		copy(b[x:x+l], b[y:y+l])
		copy(b[y:y+l], tmp)
		add("swap", i, fmt.Sprintf("%d-byte blocks at %#x and %#x swapped", l, x, y), b)
	}
	return out
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// The signatures a reader decides the format by.
var magics = []struct{ name, magic string }{
	{"hdf5", "\x89HDF\r\n\x1a\n"},
	{"cdf1", "CDF\x01"},
	{"cdf2", "CDF\x02"},
	{"cdf5", "CDF\x05"},
}

// Extras are files made from nothing: an empty file, files of 1 to 8 bytes,
// random bytes, and random bytes behind each format's signature (the reader
// trusts the signature and parses garbage).
func Extras(seed uint64) []File {
	out := []File{{Name: "empty.nc", Kind: "empty", What: "zero bytes"}}
	r := rng(seed, "extras")
	for _, n := range []int{1, 3, 4, 8} {
		b := make([]byte, n)
		fill(r, b)
		out = append(out, File{Name: fmt.Sprintf("tiny-%d.nc", n), Kind: "tiny", What: fmt.Sprintf("%d random bytes", n), Data: b})
	}
	for i, n := range []int{512, 64 << 10} {
		b := make([]byte, n)
		fill(r, b)
		out = append(out, File{Name: fmt.Sprintf("random-%03d.nc", i), Kind: "random", What: fmt.Sprintf("%d random bytes", n), Data: b})
	}
	for _, m := range magics {
		for i, n := range []int{0, 64, 4096} {
			b := make([]byte, len(m.magic)+n)
			copy(b, m.magic)
			fill(r, b[len(m.magic):])
			out = append(out, File{
				Name: fmt.Sprintf("%s-random-%03d.nc", m.name, i), Kind: "magic+random",
				What: fmt.Sprintf("%s signature and %d random bytes", m.name, n), Data: b,
			})
		}
	}
	return out
}

func fill(r *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(r.Uint32())
	}
}

// Corpus writes Generate(seed, Sources(t), n) and Extras(seed) to a
// temporary directory and returns it with the files, in order.
func Corpus(t testing.TB, seed uint64, n Counts) (dir string, files []File) {
	t.Helper()
	files = append(Generate(seed, Sources(t), n), Extras(seed)...)
	dir = t.TempDir()
	if err := Write(dir, files); err != nil {
		t.Fatal(err)
	}
	return dir, files
}

// Write writes the files into dir, under their names.
func Write(dir string, files []File) error {
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// HeapObjects finds the first global heap collection of an HDF5 file (the
// signature "GCOL", version 1, 8-byte lengths as netCDF-4 writes them) and
// returns its offset and the offsets of its objects' headers, free space
// excluded.
func HeapObjects(b []byte) (at int, objs []int, err error) {
	at = bytes.Index(b, []byte("GCOL\x01"))
	if at < 0 || at+16 > len(b) {
		return 0, nil, fmt.Errorf("no global heap collection in the file")
	}
	size := int(min(binary.LittleEndian.Uint64(b[at+8:]), uint64(len(b)-at)))
	for p := 16; p+16 <= size; {
		idx := binary.LittleEndian.Uint16(b[at+p:])
		n := binary.LittleEndian.Uint64(b[at+p+8:])
		if idx == 0 || n > uint64(size) {
			break // the free space, to the end
		}
		objs = append(objs, at+p)
		p += 16 + int(n+7)&^7
	}
	return at, objs, nil
}

// ZeroHeapObject returns a copy of an HDF5 file whose first global heap
// collection has the header of its object k zeroed: an object of index 0
// and size 0, over which HDF5 1.10 loops forever when it loads the
// collection (any variable-length value stored there: strings, dimension
// lists). It also returns the collection's offset.
func ZeroHeapObject(b []byte, k int) ([]byte, int, error) {
	return editHeapObject(b, k, func(hdr []byte) { clear(hdr) })
}

// OversizeHeapObject returns a copy of an HDF5 file whose first global heap
// collection's object k claims 1 MiB, more than the collection holds: HDF5
// 1.10 would copy it from beyond the collection's buffer. It also returns
// the collection's offset.
func OversizeHeapObject(b []byte, k int) ([]byte, int, error) {
	return editHeapObject(b, k, func(hdr []byte) { binary.LittleEndian.PutUint64(hdr[8:], 1<<20) })
}

// editHeapObject applies edit to the 16-byte header of object k of the
// first global heap collection of a copy of b.
func editHeapObject(b []byte, k int, edit func(hdr []byte)) ([]byte, int, error) {
	at, objs, err := HeapObjects(b)
	if err != nil {
		return nil, 0, err
	}
	if k >= len(objs) {
		return nil, 0, fmt.Errorf("the collection at %d has %d objects, not %d", at, len(objs), k+1)
	}
	b = bytes.Clone(b)
	edit(b[objs[k] : objs[k]+16])
	return b, at, nil
}

// BreakHeapSignature returns a copy of an HDF5 file whose first global heap
// collection's signature reads "GCOX": HDF5 fails to read every value stored
// in it, and netCDF-C 4.9, having failed to read a string attribute, frees
// the garbage pointers of its half-filled buffer when the file is closed
// (SIGABRT). It also returns the collection's offset.
func BreakHeapSignature(b []byte) ([]byte, int, error) {
	at, _, err := HeapObjects(b)
	if err != nil {
		return nil, 0, err
	}
	b = bytes.Clone(b)
	b[at+3] = 'X'
	return b, at, nil
}

// ReadAll is what a child does with a file once open: read a slab of every
// variable, as a cut would, from its start and of at most 2^20 values (a
// damaged file's dimensions may claim far more than it holds).
func ReadAll(src ncmodel.Source) error {
	for _, v := range src.File().Vars() {
		shape := v.Shape()
		start := make([]int, len(shape))
		count := make([]int, len(shape))
		per := 1 << 20
		for i, n := range shape {
			count[i] = min(n, max(per, 1))
			per /= max(count[i], 1)
		}
		if _, err := src.Read(v, start, count, nil); err != nil {
			return err // the readers say "read /sst: ..."
		}
	}
	return nil
}
