package pool

import (
	"os"

	"github.com/subsetd/subsetd/internal/proc"
)

// Warm processes. Starting a worker and loading the C libraries costs a
// small job a good part of its time, so the pool may keep a few processes
// started ahead, each blocked reading its standard input. A task goes to a
// warm process when there is one (a fresh one is started behind it);
// still one task per process: it exits after its reply, so nothing of one
// task, and no error, outlives it.

// WarmEnv is set to 1 in the environment of a warm process: while it
// waits, it readies the C libraries and the code of a cut (worker.Warm).
const WarmEnv = "SUBSETD_WARM"

// warmProc is a started process waiting for its task.
type warmProc struct {
	pr     *proc.Process
	stdin  *os.File // the write end of its standard input
	stdout *replyBuffer
}

// Warm keeps n processes started ahead (0: none, the default). Call it
// once, before Run.
func (p *Pool) Warm(n int) {
	p.mu.Lock()
	p.warmWant = max(n, 0)
	p.warm = make(chan *warmProc, p.warmWant)
	p.mu.Unlock()
	for range p.warmWant {
		p.startWarm()
	}
}

// startWarm starts one process for the warm list, unless the pool is
// closed or the list is full. Errors are left to the next Run, which
// starts its own process and reports them.
func (p *Pool) startWarm() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.warm == nil || len(p.warm) >= p.warmWant {
		return
	}
	r, w, err := os.Pipe()
	if err != nil {
		return
	}
	out := newReplyBuffer(nil)
	env := p.env
	if env == nil {
		env = os.Environ()
	}
	env = append(env[:len(env):len(env)], WarmEnv+"=1")
	pr, err := proc.Start(p.command, proc.Options{Env: env, Stdin: r, Stdout: &limitWriter{w: out, n: stdoutMax}, CallLimit: p.callLimit})
	r.Close() // the child has its copy
	if err != nil {
		w.Close()
		return
	}
	p.warm <- &warmProc{pr: pr, stdin: w, stdout: out}
}

// takeWarm returns a warm process still alive, or nil, and whether others
// still wait (the caller then starts its replacement once its task ends:
// starting a process and its warm-up take CPU from the task just handed
// out, which a small job feels on a machine of few cores).
func (p *Pool) takeWarm() (wp *warmProc, othersWait bool) {
	p.mu.Lock()
	warm := p.warm
	p.mu.Unlock()
	if warm == nil {
		return nil, false
	}
	for {
		select {
		case wp := <-warm:
			select {
			case <-wp.pr.Done(): // died waiting (killed from outside): not used
				wp.stdin.Close()
				go p.startWarm()
				continue
			default:
				return wp, len(warm) > 0
			}
		default:
			return nil, false
		}
	}
}

// killWarm ends the waiting processes and starts no more.
func (p *Pool) killWarm() {
	p.mu.Lock()
	p.closed = true
	warm := p.warm
	p.mu.Unlock()
	if warm == nil {
		return
	}
	for {
		select {
		case wp := <-warm:
			wp.pr.Kill()
			wp.stdin.Close()
		default:
			return
		}
	}
}
