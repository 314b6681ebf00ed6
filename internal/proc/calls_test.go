package proc

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func runCalls(t *testing.T, do string, limit time.Duration) (*Process, error) {
	t.Helper()
	argv, opt := self(do)
	opt.CallLimit = limit
	p, err := Start(argv, opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return p, p.Wait(ctx)
}

// A call that does not return is killed at the limit, named.
func TestCallLimitKillsAStalledCall(t *testing.T) {
	t0 := time.Now()
	_, err := runCalls(t, "call-hang /data/bad file.nc", 300*time.Millisecond)
	var se *StallError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a StallError", err)
	}
	if se.What != "/data/bad file.nc" || se.Limit != 300*time.Millisecond {
		t.Errorf("stall = %+v", se)
	}
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("killed after %v", d)
	}
}

// Calls that each return in time do not add up to a stall, and time
// outside calls is not bounded.
func TestCallLimitBoundsEachCall(t *testing.T) {
	// A limit well above one call, so a loaded machine pausing one is not a stall.
	p, err := runCalls(t, "call-busy b.nc", 500*time.Millisecond)
	if err != nil {
		t.Fatalf("err = %v (%s)", err, p.Stderr())
	}
	if what, in := p.LastCall(); in {
		t.Errorf("in a call at the end: %q", what)
	}
}

// A crash in a call: the runner knows which call, and the signal.
func TestLastCallOfACrash(t *testing.T) {
	p, err := runCalls(t, "call-abort crash.nc", time.Minute)
	what, in := p.LastCall()
	if !in || what != "crash.nc" {
		t.Errorf("LastCall = %q, %v", what, in)
	}
	if sig := CrashSignal(err, p.Stderr()); sig != "SIGABRT" {
		t.Errorf("CrashSignal = %q (err %v, stderr %.200q)", sig, err, p.Stderr())
	}
}

func TestCrashSignal(t *testing.T) {
	for _, c := range []struct {
		err    error
		stderr string
		want   string
	}{
		{&ExitError{Signal: 11}, "", "SIGSEGV"},
		{&ExitError{Signal: 9}, "", ""},
		{&ExitError{Code: 2}, "SIGSEGV: segmentation violation\nPC=0x7f m=0 sigcode=1\nsignal arrived during cgo execution", "SIGSEGV"},
		{&ExitError{Code: 2}, "fatal error: unexpected signal during runtime execution\n[signal SIGBUS: bus error code=0x2 addr=0x0 pc=0x0]", "SIGBUS"},
		{&ExitError{Code: 2}, "flag provided but not defined: -x", ""},
		{&ExitError{Code: 1}, "SIGSEGV: no", ""},
		{errors.New("copy stdout"), "", ""},
		{nil, "", ""},
	} {
		if got := CrashSignal(c.err, c.stderr); got != c.want {
			t.Errorf("CrashSignal(%v, %q) = %q, want %q", c.err, strings.SplitN(c.stderr, "\n", 2)[0], got, c.want)
		}
	}
}

// Outside a child started with CallLimit, BeginCall does nothing.
func TestBeginCallWithoutRunner(t *testing.T) {
	BeginCall("x.nc")()
}
