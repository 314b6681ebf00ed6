package pool

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/subsetd/subsetd/internal/proc"
	"github.com/subsetd/subsetd/worker"
)

// Pool runs worker processes, at most Size at a time.
type Pool struct {
	command   []string
	env       []string
	slots     chan struct{}
	callLimit time.Duration
	// replyGrace is how long a process that has replied may take to
	// exit before its group is killed.
	replyGrace time.Duration

	mu       sync.Mutex
	running  map[int]*proc.Process // pid -> process, for KillAll
	warm     chan *warmProc        // processes started ahead (warm.go)
	warmWant int
	closed   bool // KillAll was called: no more warm processes
}

// New returns a pool that runs command (argv) with env (nil: the server's
// environment) in at most size processes at once.
func New(command []string, env []string, size int) *Pool {
	if size < 1 {
		size = 1
	}
	return &Pool{command: command, env: env, slots: make(chan struct{}, size), running: map[int]*proc.Process{}, replyGrace: 10 * time.Second}
}

// LimitCalls bounds each call of a process's C libraries on an input file
// (proc.Options.CallLimit): a process stuck longer in one is killed, and
// RunTask runs its task again without that file. Call it before Warm and
// Run.
func (p *Pool) LimitCalls(d time.Duration) { p.callLimit = d }

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
// (Signal != 0), or exited with a non-zero status, or wrote no reply
// (Reason).
type ExitError struct {
	proc.ExitError
	Reason string
	Stderr string
	// Call is the file a call of the C libraries was on when the process
	// ended in it (killed for taking too long: Stall, or crashed), "" when
	// it was in none.
	Call  string
	Stall *proc.StallError
}

func (e *ExitError) Error() string {
	if e.Stall != nil {
		return "worker process killed: " + e.Stall.Error()
	}
	var b strings.Builder
	if e.Signal != 0 || e.Code != 0 {
		b.WriteString("worker process " + e.ExitError.Error())
	} else {
		b.WriteString("worker process failed")
	}
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	if s := proc.Cause(e.Stderr); s != "" {
		b.WriteString(" (last output: " + s + ")")
	}
	return b.String()
}

// stdoutMax bounds a reply.
const stdoutMax = 64 << 20

// Run starts a process in a free slot (waiting for one while ctx allows),
// writes task as JSON to its standard input and decodes its standard output
// into reply. The reply is one line, the last the process writes: once a
// worker's reply that ends its task well has come whole (takeEarly), Run
// returns without waiting for the process to exit (it is reaped in the
// background, its group killed if it has not exited within 10 s). When
// ctx ends first, the process group is killed and the error is ctx's
// cause (context.Cause). A process that dies or exits non-zero before a
// reply gives an *ExitError.
func (p *Pool) Run(ctx context.Context, task any, reply any) (Stats, error) {
	return p.run(ctx, task, reply, nil)
}

// run is Run telling onLine of each line of the process's standard output
// starting with worker.ProgressPrefix, as it arrives (such lines are not
// part of the reply).
func (p *Pool) run(ctx context.Context, task any, reply any, onLine func([]byte)) (Stats, error) {
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

	t1 := time.Now()
	var pr *proc.Process
	var stdout *replyBuffer
	if wp, othersWait := p.takeWarm(); wp != nil {
		// Its replacement: now when none waits, else when this task ends.
		if othersWait {
			defer func() { go p.startWarm() }()
		} else {
			go p.startWarm()
		}
		pr, stdout = wp.pr, wp.stdout
		stdout.listen(onLine)
		_, werr := wp.stdin.Write(in)
		wp.stdin.Close()
		if werr != nil { // it died after all: the reply check below reports how
			pr.Kill()
		}
	} else {
		stdout = newReplyBuffer(onLine)
		pr, err = proc.Start(p.command, proc.Options{Env: p.env, Stdin: bytes.NewReader(in),
			Stdout: &limitWriter{w: stdout, n: stdoutMax}, CallLimit: p.callLimit})
		if err != nil {
			return st, fmt.Errorf("start worker: %w", err)
		}
	}
	st.PID = pr.PID
	p.mu.Lock()
	p.running[pr.PID] = pr
	p.mu.Unlock()
	select {
	case <-stdout.replied:
		// The process only exits after its reply, which costs a small
		// task a few milliseconds: a reply that ends the task well is
		// taken now and the process reaped apart.
		if takeEarly(reply, stdout.replyBytes()) {
			st.Duration = time.Since(t1)
			st.Stderr = pr.Stderr()
			go p.reap(pr)
			return st, nil
		}
	case <-pr.Done():
	case <-ctx.Done():
	}
	err = pr.Wait(ctx)
	p.mu.Lock()
	delete(p.running, pr.PID)
	p.mu.Unlock()
	st.Duration = time.Since(t1)
	st.Stderr = pr.Stderr()
	if cause := context.Cause(ctx); cause != nil && errors.Is(err, cause) {
		return st, err // ctx ended first: the process was killed for it
	}
	if err != nil {
		call, _ := pr.LastCall()
		var se *proc.StallError
		if errors.As(err, &se) {
			return st, &ExitError{Stall: se, Call: se.What, Stderr: st.Stderr}
		}
		var ee *proc.ExitError
		if errors.As(err, &ee) {
			return st, &ExitError{ExitError: *ee, Call: call, Stderr: st.Stderr}
		}
		return st, fmt.Errorf("wait for worker: %w", err)
	}
	dec := json.NewDecoder(stdout.reply())
	if err := dec.Decode(reply); err != nil {
		return st, &ExitError{Reason: "unreadable reply: " + err.Error(), Stderr: st.Stderr}
	}
	return st, nil
}

// takeEarly decodes line into reply, before the process exits, when it
// is a worker's reply that ends its task well (no error, a disk that was
// not full): such a worker has closed every file it opened or wrote. Any
// other reply waits for the exit, so that what the process held (files
// removed but still open on a full disk, say) is released when the task
// is seen to end.
func takeEarly(reply any, line []byte) bool {
	r, ok := reply.(*worker.Reply)
	if !ok {
		return false
	}
	var got worker.Reply
	if json.Unmarshal(line, &got) != nil || got.Error != nil || (got.Result != nil && got.Result.NoSpace) {
		return false
	}
	*r = got
	return true
}

// reap waits for a process that has replied to exit (killing its group
// after p.replyGrace) and forgets it.
func (p *Pool) reap(pr *proc.Process) {
	select {
	case <-pr.Done():
	case <-time.After(p.replyGrace):
		pr.Kill()
		<-pr.Done()
	}
	p.mu.Lock()
	delete(p.running, pr.PID)
	p.mu.Unlock()
}

// KillAll kills every running process group now, and the warm ones.
func (p *Pool) KillAll() {
	p.killWarm()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pr := range p.running {
		pr.Kill()
	}
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

// replyBuffer keeps a worker's standard output: its progress lines go to
// a listener as they arrive, the rest is the reply.
type replyBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	line   []byte
	onLine func([]byte)
	// replied is closed when the first whole line that is not a progress
	// line has come: the reply, the last thing a worker writes.
	replied chan struct{}
}

func newReplyBuffer(onLine func([]byte)) *replyBuffer {
	return &replyBuffer{onLine: onLine, replied: make(chan struct{})}
}

var progressPrefix = []byte(worker.ProgressPrefix)

func (b *replyBuffer) listen(fn func([]byte)) {
	b.mu.Lock()
	b.onLine = fn
	b.mu.Unlock()
}

func (b *replyBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			b.line = append(b.line, p...)
			break
		}
		b.line = append(b.line, p[:i+1]...)
		p = p[i+1:]
		if bytes.HasPrefix(b.line, progressPrefix) {
			if b.onLine != nil {
				b.onLine(b.line)
			}
		} else {
			b.buf.Write(b.line)
			select {
			case <-b.replied:
			default:
				close(b.replied)
			}
		}
		b.line = b.line[:0]
	}
	return n, nil
}

// replyBytes is a copy of the reply so far.
func (b *replyBuffer) replyBytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// reply is everything but the progress lines.
func (b *replyBuffer) reply() *bytes.Buffer {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(b.line)
	b.line = nil
	return &b.buf
}
