package open

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/catalog/index"
	"github.com/subsetd/subsetd/internal/proc"
	"github.com/subsetd/subsetd/internal/testutil/fixtures"
	"github.com/subsetd/subsetd/worker"
)

// inspectorEnv makes the test binary an inspector process (the worker
// side of the index's protocol, over these readers) for FuzzOpenFile.
const inspectorEnv = "SUBSETD_FUZZ_INSPECTOR"

func inspectorMain() {
	if os.Getenv(inspectorEnv) == "" {
		return
	}
	env := worker.Env{Open: Source, Create: Sink, Version: "fuzz", Log: zerolog.Nop()}
	if err := worker.Inspect(os.Stdin, os.Stdout, env, false); err != nil {
		os.Exit(1)
	}
	os.Exit(0)
}

// fuzzInspector is one inspector process kept across the inputs of a fuzz
// run, started again when one dies (as the index does).
type fuzzInspector struct {
	p     *proc.Process
	stdin *os.File
	out   *bufio.Reader
}

func startFuzzInspector(t testing.TB) *fuzzInspector {
	exe, _ := os.Executable()
	inR, inW, _ := os.Pipe()
	outR, outW, _ := os.Pipe()
	p, err := proc.Start([]string{exe, "-test.run=^$"}, proc.Options{Env: append(os.Environ(), inspectorEnv+"=1"),
		Stdin: inR, Stdout: outW, CallLimit: 10 * time.Second})
	inR.Close()
	outW.Close()
	if err != nil {
		t.Fatal(err)
	}
	return &fuzzInspector{p: p, stdin: inW, out: bufio.NewReader(outR)}
}

// The bytes of a file, mutated from good classic and NetCDF-4 files, opened
// and described through the path of the server's child processes (an
// inspector: readers/open under proc's bound on each C call): the process
// answers with a description or a clean error, and never crashes or hangs.
func FuzzOpenFile(f *testing.F) {
	for _, name := range []string{"onecell", "file_tiny", "lon360"} {
		b, err := os.ReadFile(fixtures.Build(f, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	dir := f.TempDir()
	var in *fuzzInspector
	f.Cleanup(func() {
		if in != nil {
			in.stdin.Close()
			in.p.Wait(context.Background())
		}
	})
	n := 0
	f.Fuzz(func(t *testing.T, b []byte) {
		n++
		p := filepath.Join(dir, "f"+strings.Repeat("x", n%3)+".nc")
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if in == nil {
			in = startFuzzInspector(t)
		}
		in.stdin.WriteString(p + "\n")
		// Outside the C calls (which proc bounds) nothing may take long
		// either.
		timer := time.AfterFunc(20*time.Second, in.p.Kill)
		line, err := in.out.ReadBytes('\n')
		if !timer.Stop() {
			err = errors.New("no answer within 20 s")
		}
		if err != nil {
			dead := in.p
			in = nil
			werr := dead.Wait(context.Background())
			what, inCall := dead.LastCall()
			t.Fatalf("the inspector died on %d bytes: %v: %v (in a C call on %q: %v; signal %q): %s", len(b), err, werr, what, inCall,
				proc.CrashSignal(werr, dead.Stderr()), proc.Cause(dead.Stderr()))
		}
		var rec index.Record
		if err := json.Unmarshal(line, &rec); err != nil || rec.Path != p {
			t.Fatalf("answer %q: %v", line, err)
		}
		if rec.Description == nil && rec.Error == "" {
			t.Fatalf("neither a description nor an error: %s", line)
		}
		if rec.Error != "" && (strings.Contains(rec.Error, "\n") || strings.Contains(rec.Error, "internal error")) {
			t.Fatalf("error %q", rec.Error)
		}
	})
}
