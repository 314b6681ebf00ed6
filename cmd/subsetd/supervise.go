package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/proc"
)

// The command line runs the C libraries as the server does: in a child
// process (this binary again, with childEnv set), watched by the command
// the user started. The child reports each call of the C libraries on an
// input file (readers/open); one that does not return within
// --file-timeout gets the child killed, and a crash in one is seen for
// what it is. Either way the file is unreadable, with the message "file
// x.nc: the C library did not answer within 15 s" (or "crashed (SIGSEGV)
// reading it"), and the command goes on as it does with any unreadable
// file: subset runs again with that file refused (skipEnv), inspect
// describes each file in a child of its own. Exit status 1, never a signal.

// defaultFileTimeout bounds one call of the C libraries on a file.
const defaultFileTimeout = 15 * time.Second

const (
	childEnv    = "SUBSETD_CHILD"          // set in the child: run in this process
	skipEnv     = "SUBSETD_CHILD_SKIP"     // JSON {path: message}: files the child refuses with that message
	terminalEnv = "SUBSETD_CHILD_TERMINAL" // set when the parent's standard error is a terminal: the child draws its progress line
)

// selfExe is this binary, set by main: tests that call run directly cut
// in their own process.
var selfExe string

// supervised reports whether the command is to watch a child instead of
// doing the work itself.
func supervised() bool { return selfExe != "" && os.Getenv(childEnv) == "" }

// childSkips are the files the parent said to refuse, with their messages.
func childSkips() map[string]string {
	var m map[string]string
	if s := os.Getenv(skipEnv); s != "" {
		json.Unmarshal([]byte(s), &m)
	}
	return m
}

// childRun is the end of one child.
type childRun struct {
	code   int    // its exit status, when it exited (0, 1, 2)
	file   string // the file a C library hung or crashed on, if so
	reason string // why, in the engine's words
	err    error  // how it ended otherwise, when not an exit status
}

// runChild runs this binary with args as a child watched with limit, its
// standard output and error copied to stdout and stderr (without a crash
// report of the Go runtime), skip handed over.
func runChild(args []string, skip map[string]string, limit time.Duration, stdout, stderr io.Writer) childRun {
	env := append(os.Environ(), childEnv+"=1")
	if isTerminal(stderr) {
		env = append(env, terminalEnv+"=1")
	}
	if len(skip) > 0 {
		b, _ := json.Marshal(skip)
		env = append(env, skipEnv+"="+string(b))
	}
	filter := &crashFilter{w: stderr}
	p, err := proc.Start(append([]string{selfExe}, args...), proc.Options{Env: env, Stdout: stdout, Stderr: filter, CallLimit: limit})
	if err != nil {
		return childRun{err: err}
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		n := 0
		for {
			select {
			case s := <-sigs: // the child is in a process group of its own: pass it on
				if n++; n > 1 {
					p.Kill()
				} else {
					syscall.Kill(p.PID, s.(syscall.Signal))
				}
			case <-p.Done():
				return
			}
		}
	}()
	err = p.Wait(context.Background())
	filter.flush()
	var se *proc.StallError
	if errors.As(err, &se) {
		return childRun{file: se.What, reason: engine.HungReason(se.Limit), err: err}
	}
	if sig := proc.CrashSignal(err, p.Stderr()); sig != "" {
		if what, in := p.LastCall(); in {
			return childRun{file: what, reason: engine.CrashReason(sig), err: err}
		}
		return childRun{err: fmt.Errorf("the C library crashed (%s)", sig)}
	}
	var ee *proc.ExitError
	if errors.As(err, &ee) && ee.Signal == 0 {
		return childRun{code: ee.Code}
	}
	if err != nil {
		return childRun{err: err}
	}
	return childRun{}
}

// superviseSubset runs `subsetd subset args` in a child; when a C library
// hangs or crashes on one of files, the child runs again with that file
// unreadable. Temporary files a killed child left in out are removed.
func superviseSubset(args, files []string, out string, limit time.Duration, stdout, stderr io.Writer) int {
	skip := map[string]string{}
	inputs := map[string]bool{}
	for _, f := range files {
		inputs[f] = true
	}
	for {
		t0 := time.Now()
		r := runChild(append([]string{"subset"}, args...), skip, limit, stdout, stderr)
		if r.file != "" || r.err != nil {
			removeTemps(out, t0)
		}
		switch {
		case r.file != "" && inputs[r.file] && skip[r.file] == "":
			skip[r.file] = engine.FileError(r.file, r.reason).Error()
			continue
		case r.file != "":
			fmt.Fprintf(stderr, "subsetd subset: %v\n", engine.FileError(r.file, r.reason))
			return 1
		case r.err != nil:
			fmt.Fprintf(stderr, "subsetd subset: %v\n", r.err)
			return 1
		}
		return r.code
	}
}

// superviseInspect describes each file in a child of its own.
func superviseInspect(flags, files []string, limit time.Duration, stdout, stderr io.Writer) int {
	code := 0
	for _, f := range files {
		r := runChild(append(append([]string{"inspect"}, flags...), "--", f), nil, limit, stdout, stderr)
		switch {
		case r.file != "":
			fmt.Fprintf(stderr, "subsetd inspect: %v\n", engine.FileError(f, r.reason))
			code = 1
		case r.err != nil:
			fmt.Fprintf(stderr, "subsetd inspect: %s: %v\n", f, r.err)
			code = 1
		case r.code != 0:
			code = max(code, min(r.code, 1))
		}
	}
	return code
}

// removeTemps removes the temporary outputs (engine.TempPrefix) made since
// t0 in out and the folders below it: what a killed child left.
func removeTemps(out string, t0 time.Time) {
	for _, pattern := range []string{"*", "*/*"} {
		ms, _ := filepath.Glob(filepath.Join(out, pattern))
		for _, m := range ms {
			st, err := os.Lstat(m)
			if err == nil && strings.HasPrefix(filepath.Base(m), engine.TempPrefix) && !st.ModTime().Before(t0.Add(-time.Second)) {
				os.RemoveAll(m)
			}
		}
	}
}

// goCrash starts the Go runtime's report of a signal in C code: the
// register dump and stacks that follow are noise to a user.
var goCrash = regexp.MustCompile(`^(SIG[A-Z]+: |fatal error: unexpected signal|\[signal SIG|signal arrived during cgo execution)`)

// crashFilter copies a child's standard error as it comes (a progress line
// is redrawn without a line break) until the Go runtime's crash report
// begins: a line that may start one is held until it can be told.
type crashFilter struct {
	mu       sync.Mutex
	w        io.Writer
	line     []byte // the current line, held
	passed   bool   // the current line was let through
	crashing bool
}

// crashStarts are what a line of the report starts with.
var crashStarts = []string{"SIG", "fatal error: unexpected signal", "[signal SIG", "signal arrived during cgo execution"}

func mayStartCrash(b []byte) bool {
	for _, p := range crashStarts {
		n := min(len(b), len(p))
		if string(b[:n]) == p[:n] {
			return true
		}
	}
	return false
}

func (f *crashFilter) Write(b []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := len(b)
	for len(b) > 0 && !f.crashing {
		i := bytes.IndexByte(b, '\n')
		part := b
		if i >= 0 {
			part = b[:i+1]
		}
		b = b[len(part):]
		if f.passed {
			f.w.Write(part)
		} else {
			f.line = append(f.line, part...)
			switch {
			case goCrash.Match(f.line):
				f.crashing = true
			case i < 0 && mayStartCrash(f.line) && len(f.line) < 64:
				// wait for more
			default:
				f.w.Write(f.line)
				f.line, f.passed = f.line[:0], i < 0
			}
		}
		if i >= 0 {
			f.line, f.passed = f.line[:0], false
		}
	}
	return n, nil
}

func (f *crashFilter) flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.line) > 0 && !f.crashing && !goCrash.Match(f.line) {
		f.w.Write(f.line)
	}
	f.line = nil
}
