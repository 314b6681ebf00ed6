package corrupt

import (
	"bytes"
	"context"
	"crypto/sha256"
	"slices"
	"strings"
	"testing"
	"time"
)

func digest(files []File) [32]byte {
	h := sha256.New()
	for _, f := range files {
		h.Write([]byte(f.Name))
		h.Write([]byte(f.What))
		h.Write(f.Data)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// Same seed, same bytes; another seed, other bytes; every mutation
// changes its source; names are unique; the default corpus is large
// enough for the corpus tests.
func TestGenerateIsDeterministic(t *testing.T) {
	src := Sources(t)
	a := append(Generate(1, src, DefaultCounts), Extras(1)...)
	b := append(Generate(1, src, DefaultCounts), Extras(1)...)
	c := append(Generate(2, src, DefaultCounts), Extras(2)...)
	if digest(a) != digest(b) {
		t.Fatal("two corpora of seed 1 differ")
	}
	if digest(a) == digest(c) {
		t.Fatal("seeds 1 and 2 give the same corpus")
	}
	if len(a) < 300 {
		t.Fatalf("%d files, want at least 300", len(a))
	}
	good := map[string][]byte{}
	for _, s := range src {
		good[s.Name] = s.Data
	}
	names := map[string]bool{}
	kinds := map[string]int{}
	for _, f := range a {
		if names[f.Name] {
			t.Errorf("name %s twice", f.Name)
		}
		names[f.Name] = true
		kinds[f.Kind]++
		if f.Source != "" && bytes.Equal(f.Data, good[f.Source]) {
			t.Errorf("%s (%s) is its source unchanged", f.Name, f.What)
		}
		if f.Kind == "trunc" && (len(f.Data) == 0 || len(f.Data) >= len(good[f.Source])) {
			t.Errorf("%s: truncated to %d of %d bytes", f.Name, len(f.Data), len(good[f.Source]))
		}
	}
	for _, k := range []string{"flip", "trunc", "zero", "swap", "empty", "tiny", "random", "magic+random"} {
		if kinds[k] == 0 {
			t.Errorf("no file of kind %s", k)
		}
	}
	// Adding a source does not change the files of the others.
	d := Generate(1, src[:1], DefaultCounts)
	if digest(d) != digest(a[:len(d)]) {
		t.Error("the files of the first source depend on the others")
	}
}

func TestHeapMutations(t *testing.T) {
	var b []byte
	for _, s := range Sources(t) {
		if s.Name == "groups" {
			b = s.Data
		}
	}
	at, objs, err := HeapObjects(b)
	if err != nil || len(objs) < 2 {
		t.Fatalf("HeapObjects: %d objects, %v", len(objs), err)
	}
	z, at2, err := ZeroHeapObject(b, 1)
	if err != nil || at2 != at || !bytes.Equal(z[objs[1]:objs[1]+16], make([]byte, 16)) || bytes.Equal(z, b) {
		t.Fatalf("ZeroHeapObject: %v", err)
	}
	if _, _, err := ZeroHeapObject(b, len(objs)); err == nil {
		t.Error("an object past the last one: no error")
	}
	if _, _, err := HeapObjects([]byte("CDF\x01")); err == nil {
		t.Error("a netCDF-3 file has no heap: no error")
	}
}

func sh(script string) Command { return Exec("sh", "-c", script, "sh") }

// Each way a child can end is told apart.
func TestClassify(t *testing.T) {
	for _, c := range []struct {
		script string
		want   Outcome
		signal string
		msg    string
	}{
		{`exit 0`, Opened, "", ""},
		{`echo "corrupt: $1" >&2; exit 1`, Failed, "", "corrupt: x.nc"},
		{`sleep 30`, Hang, "", "no answer within 300ms"},
		{`kill -SEGV $$`, Crash, "SIGSEGV", ""},
		{`printf 'SIGSEGV: segmentation violation\nPC=0x7f m=0 sigcode=1\nsignal arrived during cgo execution\n\ngoroutine 1\n' >&2; exit 2`,
			Crash, "SIGSEGV", "SIGSEGV: segmentation violation | PC=0x7f m=0 sigcode=1 | signal arrived during cgo execution"},
		{`printf 'panic: runtime error: index out of range\n\ngoroutine 1\n' >&2; exit 2`, Panic, "", "panic: runtime error: index out of range"},
		{`exit 3`, Exited, "", ""},
	} {
		r := Classify(context.Background(), []string{"x.nc"}, Config{Command: sh(c.script), Timeout: 300 * time.Millisecond})[0]
		if r.Outcome != c.want || r.Signal != c.signal || c.msg != "" && !strings.HasPrefix(r.Message, c.msg) {
			t.Errorf("%s: %s %s %q, want %s %s %q", c.script, r.Outcome, r.Signal, r.Message, c.want, c.signal, c.msg)
		}
	}
	rs := Classify(context.Background(), []string{"a", "b", "c"}, Config{Command: sh(`[ "$1" = b ] && exit 1; exit 0`)})
	if got := Summary(rs); got != "3 files: 2 opened, 1 clean error, 0 hang, 0 crash, 0 panic, 0 other exit" {
		t.Errorf("summary: %s", got)
	}
	if rs[1].Path != "b" || rs[1].Outcome != Failed {
		t.Errorf("results out of order: %+v", rs)
	}
}

// The C frames of the thread in a cgo call, innermost first, down to the
// Go side.
func TestCFrames(t *testing.T) {
	gdb := `
Thread 2 (Thread 0x7f (LWP 12) "subsetd"):
#0  runtime.futex () at /usr/local/go/src/runtime/sys_linux_amd64.s:557
#1  0x000000000043 in runtime.futexsleep (addr=0x1, val=0) at /usr/local/go/src/runtime/os_linux.go:69

Thread 1 (Thread 0x7e (LWP 11) "subsetd"):
#0  0x00007fcd32b698e6 in ?? () from /lib/x86_64-linux-gnu/libhdf5_serial.so.103
#1  0x00007fcd32a8d9fd in H5C_protect () from /lib/x86_64-linux-gnu/libhdf5_serial.so.103
#2  0x00007fcd32b67b33 in H5HG_read () from /lib/x86_64-linux-gnu/libhdf5_serial.so.103
#3  0x0000000000a1 in sd_dimlist (dset=1, rank=2, refs=0x0) at h5shim.c:170
#4  0x0000000000a2 in _cgo_0b_Cfunc_sd_dimlist (v=0xc0) at /tmp/cgo-gcc-prolog:90
#5  0x0000000000a3 in runtime.asmcgocall () at /usr/local/go/src/runtime/asm_amd64.s:918
`
	want := []string{
		"?? (/lib/x86_64-linux-gnu/libhdf5_serial.so.103)",
		"H5C_protect (/lib/x86_64-linux-gnu/libhdf5_serial.so.103)",
		"H5HG_read (/lib/x86_64-linux-gnu/libhdf5_serial.so.103)",
		"sd_dimlist (h5shim.c:170)",
	}
	if got := cFrames(gdb); !slices.Equal(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}
