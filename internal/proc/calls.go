package proc

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Bounded calls. A child says, around each call that must return soon (a
// call into a C library on an input file), that it is in it and on what
// (BeginCall); the runner of a child started with Options.CallLimit kills
// its process group when one such call lasts longer than the limit, and
// Wait returns a *StallError naming what the call was on. When a child dies
// otherwise (a crash in the C code), LastCall says which call it was in.
//
// The report costs no system call: the runner shares one page of memory
// with the child (a file it hands over as descriptor 3, named by
// CallsEnv), in which the child counts its calls with atomic operations
// and writes what they are on when that changes. The page outlives the
// child, so the runner reads it after a crash too.

// CallsEnv names the environment variable that tells a child the
// descriptor of its calls page.
const CallsEnv = "SUBSETD_CALLS_FD"

const (
	pageSize   = 4096
	pageMagic  = "sdcalls1"
	offSeq     = 8  // uint64: calls begun + calls ended
	offActive  = 16 // int64: calls in progress
	offGen     = 24 // uint64: odd while what is being written
	offWhatLen = 32 // uint64
	offWhat    = 40
	maxWhat    = pageSize - offWhat
)

// page is a mapped calls page.
type page struct{ mem []byte }

func (p page) u64(off int) *uint64 { return (*uint64)(unsafe.Pointer(&p.mem[off])) }
func (p page) i64(off int) *int64  { return (*int64)(unsafe.Pointer(&p.mem[off])) }

func mapPage(f *os.File) (page, error) {
	mem, err := unix.Mmap(int(f.Fd()), 0, pageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return page{}, err
	}
	return page{mem: mem}, nil
}

// what reads what the calls are on, consistently (the writer may be
// dead: after a few tries, what is there).
func (p page) what() string {
	for range 100 {
		g := atomic.LoadUint64(p.u64(offGen))
		n := min(int(atomic.LoadUint64(p.u64(offWhatLen))), maxWhat)
		s := string(p.mem[offWhat : offWhat+n])
		if g%2 == 0 && atomic.LoadUint64(p.u64(offGen)) == g {
			return s
		}
		time.Sleep(time.Millisecond)
	}
	n := min(int(atomic.LoadUint64(p.u64(offWhatLen))), maxWhat)
	return string(p.mem[offWhat : offWhat+n])
}

// newCallsPage makes the page a child will report in: an unlinked
// temporary file, mapped.
func newCallsPage() (*os.File, page, error) {
	f, err := os.CreateTemp("", "subsetd-calls-")
	if err != nil {
		return nil, page{}, err
	}
	os.Remove(f.Name())
	if err := f.Truncate(pageSize); err != nil {
		f.Close()
		return nil, page{}, err
	}
	pg, err := mapPage(f)
	if err != nil {
		f.Close()
		return nil, page{}, err
	}
	copy(pg.mem, pageMagic)
	return f, pg, nil
}

// StallError is a child killed because a call it reported lasted longer
// than Options.CallLimit.
type StallError struct {
	What  string        // what the call was on (BeginCall's argument)
	Limit time.Duration // the limit it passed
}

func (e *StallError) Error() string {
	return fmt.Sprintf("a call on %s did not return within %s", e.What, e.Limit)
}

// watchCalls kills p's group when a call lasts longer than limit: the
// count of calls begun and ended has not moved while one is in progress.
func (p *Process) watchCalls(pg page, limit time.Duration, exited <-chan struct{}) {
	tick := min(max(limit/20, 5*time.Millisecond), 100*time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	seq, since := atomic.LoadUint64(pg.u64(offSeq)), time.Now()
	for {
		select {
		case <-exited:
			return
		case now := <-t.C:
			s := atomic.LoadUint64(pg.u64(offSeq))
			if s != seq {
				seq, since = s, now
				continue
			}
			if atomic.LoadInt64(pg.i64(offActive)) > 0 && now.Sub(since) > limit {
				p.stall.Store(&StallError{What: pg.what(), Limit: limit})
				killGroup(p.PID) // not reaped yet: the pid is still the child's
				return
			}
		}
	}
}

// LastCall is, once the process has ended, what the call it was in when it
// ended was on, and whether it was in one: a child that crashed in a call
// crashed in the C code of that call. Without Options.CallLimit, it is
// never in one.
func (p *Process) LastCall() (string, bool) {
	<-p.done
	return p.lastCall, p.inCall
}

// The child side.

var callsChild struct {
	once sync.Once
	pg   page
	ok   bool
	mu   sync.Mutex // writers of what
	last atomic.Pointer[string]
}

func childPage() (page, bool) {
	callsChild.once.Do(func() {
		fd, err := strconv.Atoi(os.Getenv(CallsEnv))
		if err != nil || fd < 3 {
			return
		}
		// A descriptor inherited by mistake (a grandchild given the
		// variable but not the page) is anything: check it.
		var st unix.Stat_t
		if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size != pageSize {
			return
		}
		mem, err := unix.Mmap(fd, 0, pageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
		if err != nil {
			return
		}
		if !bytes.Equal(mem[:len(pageMagic)], []byte(pageMagic)) {
			unix.Munmap(mem)
			return
		}
		callsChild.pg, callsChild.ok = page{mem: mem}, true
	})
	return callsChild.pg, callsChild.ok
}

func noop() {}

// BeginCall tells the runner that this process enters a call on what (a
// file's path) that must return within the runner's limit; the function it
// returns tells that the call returned. Calls may run at once (the limit
// then bounds the time nothing moves); what is the last one begun. In a
// process not started with Options.CallLimit it does nothing.
func BeginCall(what string) func() {
	pg, ok := childPage()
	if !ok {
		return noop
	}
	if l := callsChild.last.Load(); l == nil || *l != what {
		callsChild.mu.Lock()
		b := what
		if len(b) > maxWhat {
			b = b[:maxWhat]
		}
		atomic.AddUint64(pg.u64(offGen), 1)
		copy(pg.mem[offWhat:], b)
		atomic.StoreUint64(pg.u64(offWhatLen), uint64(len(b)))
		atomic.AddUint64(pg.u64(offGen), 1)
		callsChild.last.Store(&what)
		callsChild.mu.Unlock()
	}
	atomic.AddInt64(pg.i64(offActive), 1)
	atomic.AddUint64(pg.u64(offSeq), 1)
	return func() {
		atomic.AddInt64(pg.i64(offActive), -1)
		atomic.AddUint64(pg.u64(offSeq), 1)
	}
}

// goSignal matches the Go runtime's report of a signal raised in C code,
// "SIGSEGV: segmentation violation" or "[signal SIGSEGV: ...", before it
// exits with status 2.
var goSignal = regexp.MustCompile(`(?m)^\[?(?:signal )?(SIG[A-Z]+)[: ]`)

// CrashSignal is the signal a process crashed with, from how it ended
// (Err) and its standard error: the signal that killed it (SIGKILL is a
// kill, not a crash), or the one the Go runtime reported before exiting
// with status 2 (a fault in C code). "" when it did not crash.
func CrashSignal(err error, stderr string) string {
	var ee *ExitError
	if !errors.As(err, &ee) {
		return ""
	}
	if ee.Signal != 0 {
		if ee.Signal == syscall.SIGKILL {
			return ""
		}
		return SignalName(ee.Signal)
	}
	if ee.Code == 2 {
		if m := goSignal.FindStringSubmatch(stderr); m != nil {
			return m[1]
		}
	}
	return ""
}
