package index

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/subsetd/subsetd/jobs/pool"
)

// An inspector is one `subsetd inspect --stdin` process: it reads paths on
// its standard input and answers each with one JSON line (a Record). It is
// killed when it takes longer than the timeout on a file, and replaced when
// it dies; after maxServed files it is replaced too, so that what the C
// libraries leak does not pile up.
type inspector struct {
	cmd     *exec.Cmd
	stdin   *os.File
	lines   chan []byte   // stdout lines; closed at EOF
	quit    chan struct{} // closed when nobody listens to lines any more
	exited  chan struct{} // closed when the process is reaped
	once    sync.Once
	waitErr error
	stderr  *pool.Tail
	served  int
}

const maxServed = 1000

// errNotSent: the process was gone before it got the path; the file is not
// to blame.
var errNotSent = errors.New("inspector gone before the file was sent")

func startInspector(argv []string) (*inspector, error) {
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	in := &inspector{stdin: inW, lines: make(chan []byte), quit: make(chan struct{}), exited: make(chan struct{}), stderr: &pool.Tail{Max: 16 << 10}}
	in.cmd = exec.Command(argv[0], argv[1:]...)
	in.cmd.Stdin, in.cmd.Stdout, in.cmd.Stderr = inR, outW, in.stderr
	in.cmd.SysProcAttr = pool.SysProcAttr()
	started := make(chan error, 1)
	// Pdeathsig is tied to the thread that forked the child: keep this
	// goroutine on its thread until the child is reaped.
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := in.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		in.waitErr = in.cmd.Wait()
		close(in.exited)
	}()
	err = <-started
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("start inspector %q: %w", strings.Join(argv, " "), err)
	}
	go func() {
		defer close(in.lines)
		defer outR.Close()
		r := bufio.NewReaderSize(outR, 64<<10)
		for {
			line, err := r.ReadBytes('\n')
			if len(bytes.TrimSpace(line)) > 0 {
				select {
				case in.lines <- line:
				case <-in.quit:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return in, nil
}

// inspect asks for one file. An error means no answer: the process died
// (errNotSent when it was gone before), timed out, or ctx ended; the
// caller then kills and replaces it.
func (in *inspector) inspect(ctx context.Context, path string, timeout time.Duration) (Record, error) {
	select {
	case <-in.exited:
		return Record{}, errNotSent
	default:
	}
	if _, err := io.WriteString(in.stdin, path+"\n"); err != nil {
		return Record{}, errNotSent
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case line, ok := <-in.lines:
			if !ok {
				select {
				case <-in.exited:
				case <-time.After(5 * time.Second):
					in.kill()
				}
				return Record{}, in.crash()
			}
			var rec Record
			// Anything else on stdout (a C library talking) is skipped.
			if json.Unmarshal(line, &rec) != nil || rec.Path != path {
				continue
			}
			in.served++
			return rec, nil
		case <-timer.C:
			return Record{}, fmt.Errorf("inspection timed out after %s", timeout)
		case <-ctx.Done():
			return Record{}, context.Cause(ctx)
		}
	}
}

// crash describes how the process ended.
func (in *inspector) crash() error {
	var b strings.Builder
	b.WriteString("inspector crashed on this file: ")
	var ee *exec.ExitError
	switch {
	case errors.As(in.waitErr, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			fmt.Fprintf(&b, "%v (signal %d)", ws.Signal(), int(ws.Signal()))
		} else {
			fmt.Fprintf(&b, "exit status %d", ee.ExitCode())
		}
	case in.waitErr != nil:
		b.WriteString(in.waitErr.Error())
	default:
		b.WriteString("it exited without answering")
	}
	if s := crashCause(in.stderr); s != "" {
		b.WriteString(" (" + s + ")")
	}
	return errors.New(b.String())
}

// kill kills the process group and waits for the process.
func (in *inspector) kill() {
	pool.KillGroup(in.cmd.Process.Pid)
	<-in.exited
	in.release()
}

// close ends the process: end of input, then a kill if it lingers.
func (in *inspector) close() {
	in.stdin.Close()
	select {
	case <-in.exited:
		in.release()
	case <-time.After(5 * time.Second):
		in.kill()
	}
}

// release frees the pipes and the reader of a process that has exited.
func (in *inspector) release() {
	in.once.Do(func() {
		close(in.quit)
		in.stdin.Close()
	})
}

// cause picks the line of standard error that best says why a process
// died: Go's fatal error or signal line, else the last line.
func crashCause(t *pool.Tail) string {
	var last string
	for _, l := range strings.Split(t.String(), "\n") {
		l = strings.TrimSpace(l)
		for _, p := range []string{"fatal error:", "panic:", "SIGSEGV", "SIGABRT", "SIGBUS", "SIGFPE", "SIGILL"} {
			if strings.HasPrefix(l, p) {
				return trim(l, 200)
			}
		}
		if l != "" {
			last = l
		}
	}
	return trim(last, 200)
}

func trim(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
