package pool

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Pool runs worker processes, at most Size at a time.
type Pool struct {
	command []string
	env     []string
	slots   chan struct{}

	mu      sync.Mutex
	running map[int]*exec.Cmd // pid -> process, for Kill
}

// New returns a pool that runs command (argv) with env (nil: the server's
// environment) in at most size processes at once.
func New(command []string, env []string, size int) *Pool {
	if size < 1 {
		size = 1
	}
	return &Pool{command: command, env: env, slots: make(chan struct{}, size), running: map[int]*exec.Cmd{}}
}

// Size is the number of slots.
func (p *Pool) Size() int { return cap(p.slots) }

// Busy is the number of slots in use.
func (p *Pool) Busy() int { return len(p.slots) }

// Stats describes one run of a process.
type Stats struct {
	PID      int
	Wait     time.Duration // waiting for a slot
	Duration time.Duration // process run time
	Stderr   string        // the end of the process's standard error
}

// ExitError is a process that did not exit cleanly: killed by a signal
// (Signal != 0), or exited with a non-zero status, or wrote no reply.
type ExitError struct {
	Signal syscall.Signal
	Code   int
	Reason string
	Stderr string
}

func (e *ExitError) Error() string {
	var b strings.Builder
	switch {
	case e.Signal != 0:
		fmt.Fprintf(&b, "worker process killed by signal %s", e.Signal)
	case e.Code != 0:
		fmt.Fprintf(&b, "worker process exited with status %d", e.Code)
	default:
		b.WriteString("worker process failed")
	}
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	if s := lastLine(e.Stderr); s != "" {
		b.WriteString(" (last output: " + s + ")")
	}
	return b.String()
}

const stderrKeep = 16 << 10
const stdoutMax = 64 << 20

// Run starts a process in a free slot (waiting for one while ctx allows),
// writes task as JSON to its standard input and decodes its standard output
// into reply. When ctx ends first, the process group is killed and the
// error is ctx's cause (context.Cause). A process that dies or exits
// non-zero gives an *ExitError.
func (p *Pool) Run(ctx context.Context, task any, reply any) (Stats, error) {
	var st Stats
	in, err := json.Marshal(task)
	if err != nil {
		return st, fmt.Errorf("encode task: %w", err)
	}
	t0 := time.Now()
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return st, context.Cause(ctx)
	}
	defer func() { <-p.slots }()
	st.Wait = time.Since(t0)

	var stdout bytes.Buffer
	stderr := &Tail{Max: stderrKeep}
	type done struct {
		err error
		pid int
	}
	started := make(chan int, 1)
	finished := make(chan done, 1)
	t1 := time.Now()
	// Pdeathsig is tied to the OS thread that forked the child, not to the
	// process: keep this goroutine on its thread until the child is reaped.
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		cmd := exec.Command(p.command[0], p.command[1:]...)
		if p.env != nil {
			cmd.Env = p.env
		}
		cmd.Stdin = bytes.NewReader(in)
		cmd.Stdout = &limitWriter{w: &stdout, n: stdoutMax}
		cmd.Stderr = stderr
		cmd.SysProcAttr = SysProcAttr()
		if err := cmd.Start(); err != nil {
			started <- 0
			finished <- done{err: fmt.Errorf("start worker: %w", err)}
			return
		}
		pid := cmd.Process.Pid
		p.mu.Lock()
		p.running[pid] = cmd
		p.mu.Unlock()
		started <- pid
		err := cmd.Wait()
		p.mu.Lock()
		delete(p.running, pid)
		p.mu.Unlock()
		finished <- done{err: err, pid: pid}
	}()
	st.PID = <-started
	var res done
	select {
	case res = <-finished:
	case <-ctx.Done():
		if st.PID != 0 {
			KillGroup(st.PID)
		}
		res = <-finished
		st.Duration = time.Since(t1)
		st.Stderr = stderr.String()
		return st, context.Cause(ctx)
	}
	st.Duration = time.Since(t1)
	st.Stderr = stderr.String()
	if st.PID == 0 {
		return st, res.err
	}
	if res.err != nil {
		var ee *exec.ExitError
		if errors.As(res.err, &ee) {
			x := &ExitError{Code: ee.ExitCode(), Stderr: st.Stderr}
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				x.Signal = ws.Signal()
				x.Code = 0
			}
			return st, x
		}
		return st, fmt.Errorf("wait for worker: %w", res.err)
	}
	dec := json.NewDecoder(&stdout)
	if err := dec.Decode(reply); err != nil {
		return st, &ExitError{Reason: "unreadable reply: " + err.Error(), Stderr: st.Stderr}
	}
	return st, nil
}

// KillAll kills every running process group now.
func (p *Pool) KillAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for pid := range p.running {
		KillGroup(pid)
	}
}

// Tail keeps the last Max bytes written to it (a child's standard error).
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

type limitWriter struct {
	w io.Writer
	n int
}

func (l *limitWriter) Write(b []byte) (int, error) {
	if len(b) > l.n {
		return 0, errors.New("worker reply too large")
	}
	l.n -= len(b)
	return l.w.Write(b)
}

// lastLine returns the last non-empty line of s, shortened; for JSON log
// lines, their "message" and "error" fields.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	l := strings.TrimSpace(lines[len(lines)-1])
	var m struct {
		Message string `json:"message"`
		Error   string `json:"error"`
	}
	if json.Unmarshal([]byte(l), &m) == nil && (m.Message != "" || m.Error != "") {
		l = strings.TrimSpace(m.Message + " " + m.Error)
	}
	if len(l) > 300 {
		l = l[:300] + "..."
	}
	return l
}
