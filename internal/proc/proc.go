// Package proc runs the child processes of the server (the worker pool's
// workers, the index's inspectors) so that none outlives its welcome: each
// child leads a process group of its own, is killed with SIGKILL as a
// whole group (grandchildren too) when its context ends or on Kill, and on
// Linux dies with the server even when the server is killed with SIGKILL
// (Pdeathsig). It keeps the end of each child's standard error and says how
// a child ended ("killed by SIGSEGV", "exited with status 3").
//
// It knows nothing of what the children do, and imports nothing of the
// module.
package proc

import (
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
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// DefaultStderrMax is how much of a child's standard error is kept.
const DefaultStderrMax = 16 << 10

// Options configure a child process.
type Options struct {
	// Env is the child's environment; nil is this process's.
	Env []string
	// Stdin and Stdout are as in os/exec: nil is the null device, an
	// *os.File is handed to the child as it is, anything else is copied
	// through a pipe.
	Stdin  io.Reader
	Stdout io.Writer
	// StderrMax bounds the bytes of standard error kept: the last ones
	// (DefaultStderrMax when 0).
	StderrMax int
	// Stderr, when set, gets a copy of the child's standard error as it
	// comes (besides the end kept for Stderr and Cause).
	Stderr io.Writer
	// CallLimit, when > 0, bounds each call the child reports with
	// BeginCall: a call still running after it gets the process group
	// killed, and Err is a *StallError. See LastCall for crashes.
	CallLimit time.Duration
}

// Process is a started child.
type Process struct {
	PID    int
	stderr *Tail
	done   chan struct{}
	err    error // set before done is closed

	stall    atomic.Pointer[StallError]
	lastCall string // set before done is closed, with CallLimit
	inCall   bool
}

// Start starts argv in a process group of its own. The child is tied to
// this process: on Linux it gets SIGKILL when this process dies.
func Start(argv []string, opt Options) (*Process, error) {
	if len(argv) == 0 {
		return nil, errors.New("no command")
	}
	max := opt.StderrMax
	if max <= 0 {
		max = DefaultStderrMax
	}
	p := &Process{stderr: &Tail{Max: max}, done: make(chan struct{})}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = opt.Env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = opt.Stdin, opt.Stdout, p.stderr
	if opt.Stderr != nil {
		cmd.Stderr = io.MultiWriter(p.stderr, opt.Stderr)
	}
	cmd.SysProcAttr = sysProcAttr()
	var calls *os.File
	var pg page
	if opt.CallLimit > 0 {
		var err error
		if calls, pg, err = newCallsPage(); err != nil {
			return nil, fmt.Errorf("calls page: %w", err)
		}
		defer calls.Close() // the child has its copy; the mapping stays
		if cmd.Env == nil {
			cmd.Env = os.Environ()
		}
		cmd.Env = append(cmd.Env[:len(cmd.Env):len(cmd.Env)], CallsEnv+"=3")
		cmd.ExtraFiles = []*os.File{calls}
	}
	started := make(chan error, 1)
	// Pdeathsig is tied to the OS thread that forked the child, not to the
	// process: keep this goroutine on its thread until the child is reaped.
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		p.PID = cmd.Process.Pid
		exited, watched := make(chan struct{}), make(chan struct{})
		if pg.mem != nil {
			go func() {
				defer close(watched)
				p.watchCalls(pg, opt.CallLimit, exited)
			}()
		} else {
			close(watched)
		}
		started <- nil
		p.err = exitError(cmd.Wait())
		close(exited)
		<-watched // the page is not read any more
		if pg.mem != nil {
			if atomic.LoadInt64(pg.i64(offActive)) > 0 {
				p.lastCall, p.inCall = pg.what(), true
			}
			unix.Munmap(pg.mem)
		}
		if s := p.stall.Load(); s != nil {
			p.err = s
		}
		close(p.done)
	}()
	if err := <-started; err != nil {
		if pg.mem != nil {
			unix.Munmap(pg.mem)
		}
		return nil, err
	}
	return p, nil
}

// Done is closed once the process has ended and been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is how the process ended, once Done is closed: nil for exit status
// 0, an *ExitError for another status or a signal, or the error of copying
// its input or output.
func (p *Process) Err() error {
	<-p.done
	return p.err
}

// Wait waits for the process to end and returns Err. When ctx ends first,
// the process group is killed, the process reaped, and the error is ctx's
// cause (context.Cause): a timeout and a cancellation are told apart by it.
func (p *Process) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		p.Kill()
		<-p.done
		return context.Cause(ctx)
	}
}

// Kill sends SIGKILL to the process group; it does not wait.
func (p *Process) Kill() {
	select {
	case <-p.done: // reaped: the pid may be someone else's now
	default:
		killGroup(p.PID)
	}
}

// Stderr is the end of what the process wrote to its standard error.
func (p *Process) Stderr() string { return p.stderr.String() }

// ExitError is a process that ended other than with exit status 0.
type ExitError struct {
	Code   int            // exit status; 0 when killed by a signal
	Signal syscall.Signal // the signal that killed it, or 0
}

// Error says how the process ended: "killed by SIGSEGV", "exited with
// status 3".
func (e *ExitError) Error() string {
	if e.Signal != 0 {
		return "killed by " + SignalName(e.Signal)
	}
	return fmt.Sprintf("exited with status %d", e.Code)
}

// SignalName is a signal's name, "SIGKILL", or "signal N" for one without.
func SignalName(s syscall.Signal) string {
	if n := unix.SignalName(s); n != "" {
		return n
	}
	return fmt.Sprintf("signal %d", int(s))
}

func exitError(err error) error {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return err
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return &ExitError{Signal: ws.Signal()}
	}
	return &ExitError{Code: ee.ExitCode()}
}

// Tail keeps the last Max bytes written to it.
type Tail struct {
	mu  sync.Mutex
	Max int
	buf []byte
}

func (t *Tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > t.Max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.Max:]...)
	}
	return len(b), nil
}

func (t *Tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}

// causeMax bounds the line Cause returns.
const causeMax = 300

// Cause picks the line of a process's standard error that best says why
// it ended: Go's fatal error, panic or signal line, else the last line; of
// a JSON log line, its "message" and "error" fields. At most 300 bytes.
func Cause(stderr string) string {
	var last string
	for _, l := range strings.Split(stderr, "\n") {
		l = strings.TrimSpace(l)
		for _, p := range []string{"fatal error:", "panic:", "SIGSEGV", "SIGABRT", "SIGBUS", "SIGFPE", "SIGILL"} {
			if strings.HasPrefix(l, p) {
				return shorten(l)
			}
		}
		if l != "" {
			last = l
		}
	}
	var m struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	if strings.HasPrefix(last, "{") && json.Unmarshal([]byte(last), &m) == nil && (m.Message != "" || m.Error != "") {
		last = strings.TrimSpace(m.Message + " " + m.Error)
	}
	return shorten(last)
}

func shorten(s string) string {
	if len(s) <= causeMax {
		return s
	}
	n := causeMax
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
