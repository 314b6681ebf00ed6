package codec

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"io"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// field is a smooth float32 field with noise, like the sea surface
// temperatures the benchmarks cut: n values.
func field(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, 4*n)
	for i := range n {
		x := 20 + 8*math.Sin(float64(i)/700) + r.Float64()*0.01
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(x)))
	}
	return b
}

func TestInflateReadsZlibStreams(t *testing.T) {
	raw := field(100_000, 1)
	for _, level := range []int{1, 4, 9} {
		var z bytes.Buffer
		w, _ := zlib.NewWriterLevel(&z, level)
		w.Write(raw)
		w.Close()
		got := make([]byte, len(raw))
		if err := Inflate(got, z.Bytes()); err != nil {
			t.Fatalf("level %d: %v", level, err)
		}
		if !bytes.Equal(got, raw) {
			t.Fatalf("level %d: values differ", level)
		}
		if err := Inflate(make([]byte, len(raw)+1), z.Bytes()); err == nil {
			t.Errorf("level %d: a wrong decoded size is not reported", level)
		}
		if err := Inflate(got, z.Bytes()[:z.Len()/2]); err == nil {
			t.Errorf("level %d: a truncated stream is not reported", level)
		}
	}
}

func TestDeflateWritesZlibStreams(t *testing.T) {
	raw := field(50_000, 2)
	for _, level := range []int{1, 5, 9} {
		z := Deflate(nil, raw, level)
		r, err := zlib.NewReader(bytes.NewReader(z))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, raw) {
			t.Fatalf("level %d: zlib reads back %d bytes, %v", level, len(got), err)
		}
		back := make([]byte, len(raw))
		if err := inflateZlib(back, z); err != nil || !bytes.Equal(back, raw) {
			t.Fatalf("level %d: zlib's uncompress: %v", level, err)
		}
	}
}

func TestShuffleIsHDF5s(t *testing.T) {
	for _, size := range []int{1, 2, 4, 8, 3} {
		for _, n := range []int{0, 1, 7, 1000} {
			raw := make([]byte, n*size+size/2) // a tail shorter than an element
			for i := range raw {
				raw[i] = byte(i * 7)
			}
			sh := make([]byte, len(raw))
			Shuffle(sh, raw, size)
			// HDF5's layout, computed plainly: byte j of element i at j*n+i.
			for i := range n {
				for j := range size {
					if size > 1 && sh[j*n+i] != raw[i*size+j] {
						t.Fatalf("size %d n %d: byte %d of element %d misplaced", size, n, j, i)
					}
				}
			}
			back := make([]byte, len(raw))
			Unshuffle(back, sh, size)
			if !bytes.Equal(back, raw) {
				t.Fatalf("size %d n %d: unshuffle does not invert shuffle", size, n)
			}
		}
	}
}

func TestPipelineRoundTripAndMask(t *testing.T) {
	raw := field(4096, 3)
	pipe := []Filter{{ID: FilterShuffle}, {ID: FilterDeflate, Level: 4}}
	stored, err := Encode(pipe, nil, raw, 4)
	if err != nil {
		t.Fatal(err)
	}
	// What HDF5 writes: shuffle, then zlib's compress2.
	sh := make([]byte, len(raw))
	Shuffle(sh, raw, 4)
	for name, s := range map[string][]byte{"libdeflate": stored, "zlib": deflateZlib(sh, 4)} {
		out := make([]byte, len(raw))
		if err := Decode(pipe, 0, s, out, 4); err != nil || !bytes.Equal(out, raw) {
			t.Fatalf("%s stream: %v", name, err)
		}
	}
	// Deflate skipped (mask bit 1): the chunk is only shuffled.
	out := make([]byte, len(raw))
	if err := Decode(pipe, 2, sh, out, 4); err != nil || !bytes.Equal(out, raw) {
		t.Fatalf("deflate masked: %v", err)
	}
	// Both skipped: stored as is.
	if err := Decode(pipe, 3, raw, out, 4); err != nil || !bytes.Equal(out, raw) {
		t.Fatalf("all masked: %v", err)
	}
	if Supported([]Filter{{ID: 4}}) || !Supported(pipe) {
		t.Errorf("Supported is wrong about szip or shuffle+deflate")
	}
}

func TestConcurrentUse(t *testing.T) {
	raw := field(1<<16, 4)
	pipe := []Filter{{ID: FilterShuffle}, {ID: FilterDeflate, Level: 1}}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				s, err := Encode(pipe, nil, raw, 4)
				out := make([]byte, len(raw))
				if err == nil {
					err = Decode(pipe, 0, s, out, 4)
				}
				if err != nil || !bytes.Equal(out, raw) {
					t.Errorf("goroutine %d: %v", g, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// The choice of libdeflate over zlib rests on these: decode and encode one
// 512 x 512 float32 chunk (shuffled, as netCDF-4 stores it).
func benchChunk() (raw, shuffled []byte) {
	raw = field(512*512, 5)
	shuffled = make([]byte, len(raw))
	Shuffle(shuffled, raw, 4)
	return raw, shuffled
}

func BenchmarkInflateLibdeflate(b *testing.B) {
	_, sh := benchChunk()
	z := deflateZlib(sh, 4)
	out := make([]byte, len(sh))
	b.SetBytes(int64(len(sh)))
	for b.Loop() {
		if err := Inflate(out, z); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInflateZlib(b *testing.B) {
	_, sh := benchChunk()
	z := deflateZlib(sh, 4)
	out := make([]byte, len(sh))
	b.SetBytes(int64(len(sh)))
	for b.Loop() {
		if err := inflateZlib(out, z); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDeflateLibdeflate(b *testing.B) {
	_, sh := benchChunk()
	b.SetBytes(int64(len(sh)))
	var dst []byte
	for b.Loop() {
		dst = Deflate(dst, sh, 1)
	}
	b.ReportMetric(float64(len(dst))/float64(len(sh)), "ratio")
}

func BenchmarkDeflateZlib(b *testing.B) {
	_, sh := benchChunk()
	b.SetBytes(int64(len(sh)))
	var dst []byte
	for b.Loop() {
		dst = deflateZlib(sh, 1)
	}
	b.ReportMetric(float64(len(dst))/float64(len(sh)), "ratio")
}

func BenchmarkUnshuffle4(b *testing.B) {
	raw, sh := benchChunk()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		Unshuffle(raw, sh, 4)
	}
}
