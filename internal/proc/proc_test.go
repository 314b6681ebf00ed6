package proc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary is its own child: with childEnv set it does what the
// variable says and exits.
const childEnv = "PROC_TEST_CHILD"

func TestMain(m *testing.M) {
	if do := os.Getenv(childEnv); do != "" {
		child(do)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func child(do string) {
	switch verb, arg, _ := strings.Cut(do, " "); verb {
	case "exit":
		n, _ := strconv.Atoi(arg)
		fmt.Fprintln(os.Stderr, "exiting with", n)
		os.Exit(n)
	case "signal": // SIGKILL cannot be caught; Go dies of SIGTERM when not told otherwise
		n, _ := strconv.Atoi(arg)
		fmt.Fprintln(os.Stderr, `{"level":"error","message":"about to die","error":"on purpose"}`)
		syscall.Kill(os.Getpid(), syscall.Signal(n))
		time.Sleep(time.Minute)
	case "echo":
		b := make([]byte, 100)
		n, _ := os.Stdin.Read(b)
		fmt.Printf("echo %s", b[:n])
	case "stderr":
		for i := range 10000 {
			fmt.Fprintf(os.Stderr, "line %05d of noise\n", i)
		}
		fmt.Fprint(os.Stderr, "the end")
	case "sleep":
		time.Sleep(time.Hour)
	case "call-hang": // quick calls, then one that never returns
		for range 20 {
			BeginCall("a.nc")()
		}
		BeginCall(arg)
		time.Sleep(time.Hour)
	case "call-busy": // many short calls for longer than the limit, then out
		for t0 := time.Now(); time.Since(t0) < 1500*time.Millisecond; {
			end := BeginCall(arg)
			time.Sleep(5 * time.Millisecond)
			end()
		}
		time.Sleep(time.Second) // no call open: never killed
	case "call-abort": // a crash inside a call, as C code would
		BeginCall("first.nc")()
		BeginCall(arg)
		syscall.Kill(os.Getpid(), syscall.SIGABRT)
		time.Sleep(time.Minute)
	case "grandchild": // a child in this process's group, then sleep
		c := exec.Command(os.Args[0])
		c.Env = append(os.Environ(), childEnv+"=sleep")
		if err := c.Start(); err != nil {
			os.Exit(7)
		}
		fmt.Println(c.Process.Pid)
		time.Sleep(time.Hour)
	case "parent": // a child through Start, then sleep
		p, err := Start([]string{os.Args[0]}, Options{Env: append(os.Environ(), childEnv+"=sleep")})
		if err != nil {
			os.Exit(7)
		}
		fmt.Println(p.PID)
		p.Wait(context.Background())
	}
}

func self(do string) ([]string, Options) {
	return []string{os.Args[0], "-test.run=^$"}, Options{Env: append(os.Environ(), childEnv+"="+do)}
}

func run(t *testing.T, do string) (*Process, error) {
	t.Helper()
	argv, opt := self(do)
	p, err := Start(argv, opt)
	if err != nil {
		t.Fatal(err)
	}
	return p, p.Wait(context.Background())
}

// gone reports whether pid has ended (a zombie counts: its parent, not
// this test, reaps it).
func gone(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return os.IsNotExist(err)
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && len(s) > i+2 {
		return s[i+2] == 'Z' || s[i+2] == 'X'
	}
	return false
}

// waitGone waits for pid to end, for a while.
func waitGone(t *testing.T, pid int, what string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !gone(pid); {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("%s (pid %d) is still running", what, pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readPID reads the pid a child prints first.
func readPID(t *testing.T, r *os.File) int {
	t.Helper()
	line, err := bufio.NewReader(r).ReadString('\n')
	pid, perr := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || perr != nil || pid <= 0 {
		t.Fatalf("child printed %q: %v %v", line, err, perr)
	}
	return pid
}

func TestExitStatus(t *testing.T) {
	t.Parallel()
	p, err := run(t, "exit 0")
	if err != nil || p.Err() != nil || p.PID <= 0 {
		t.Fatalf("exit 0: %v, pid %d", err, p.PID)
	}
	p, err = run(t, "exit 3")
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 3 || ee.Signal != 0 || err.Error() != "exited with status 3" {
		t.Fatalf("exit 3: %v", err)
	}
	if p.Stderr() != "exiting with 3\n" {
		t.Errorf("stderr %q", p.Stderr())
	}
	if _, err := Start([]string{"/nonexistent/child"}, Options{}); err == nil {
		t.Error("a missing command started")
	}
	if _, err := Start(nil, Options{}); err == nil {
		t.Error("no command started")
	}
}

func TestKilledBySignal(t *testing.T) {
	t.Parallel()
	for sig, want := range map[syscall.Signal]string{syscall.SIGKILL: "killed by SIGKILL", syscall.SIGTERM: "killed by SIGTERM"} {
		p, err := run(t, fmt.Sprintf("signal %d", int(sig)))
		var ee *ExitError
		if !errors.As(err, &ee) || ee.Signal != sig || ee.Code != 0 || err.Error() != want {
			t.Errorf("%v: %v, want %s", sig, err, want)
		}
		if got := Cause(p.Stderr()); got != "about to die on purpose" {
			t.Errorf("%v: cause %q", sig, got)
		}
	}
	if got := (&ExitError{Signal: syscall.SIGSEGV}).Error(); got != "killed by SIGSEGV" {
		t.Errorf("SIGSEGV: %s", got)
	}
	if got := SignalName(syscall.Signal(99)); got != "signal 99" {
		t.Errorf("unknown signal: %s", got)
	}
}

func TestStdio(t *testing.T) {
	t.Parallel()
	argv, opt := self("echo")
	var out strings.Builder
	opt.Stdin, opt.Stdout = strings.NewReader("hello"), &out
	p, err := Start(argv, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(context.Background()); err != nil || out.String() != "echo hello" {
		t.Fatalf("%v: %q", err, out.String())
	}
}

func TestStderrTailIsBounded(t *testing.T) {
	t.Parallel()
	argv, opt := self("stderr")
	opt.StderrMax = 1000
	p, err := Start(argv, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := p.Stderr()
	if len(s) != 1000 || !strings.HasSuffix(s, "line 09999 of noise\nthe end") {
		t.Fatalf("kept %d bytes ending %q", len(s), s[max(0, len(s)-40):])
	}
	if p, _ := run(t, "stderr"); len(p.Stderr()) != DefaultStderrMax {
		t.Fatalf("default: kept %d bytes", len(p.Stderr()))
	}
}

// A timeout kills the whole group: the child's own child dies too, and
// the error is the context's cause.
func TestTimeoutKillsTheGroup(t *testing.T) {
	t.Parallel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	argv, opt := self("grandchild")
	opt.Stdout = w
	p, err := Start(argv, opt)
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	grandchild := readPID(t, r)
	t.Cleanup(func() { syscall.Kill(grandchild, syscall.SIGKILL) })
	errTimeout := errors.New("took too long")
	ctx, cancel := context.WithTimeoutCause(context.Background(), 50*time.Millisecond, errTimeout)
	defer cancel()
	if err := p.Wait(ctx); !errors.Is(err, errTimeout) {
		t.Fatalf("wait: %v, want the timeout's cause", err)
	}
	var ee *ExitError
	if !errors.As(p.Err(), &ee) || ee.Signal != syscall.SIGKILL {
		t.Fatalf("child ended with %v", p.Err())
	}
	waitGone(t, grandchild, "the grandchild")
	p.Kill() // after the end: nothing to kill, no harm
}

func TestKill(t *testing.T) {
	t.Parallel()
	argv, opt := self("sleep")
	p, err := Start(argv, opt)
	if err != nil {
		t.Fatal(err)
	}
	p.Kill()
	select {
	case <-p.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("not killed")
	}
	if err := p.Err(); err == nil || err.Error() != "killed by SIGKILL" {
		t.Fatalf("%v", err)
	}
}

func TestCause(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 200)
	for stderr, want := range map[string]string{
		"":             "",
		"one\ntwo\n\n": "two",
		"x\nfatal error: unexpected signal during runtime execution\n[signal SIGSEGV: segmentation violation]\ngoroutine 1\n": "fatal error: unexpected signal during runtime execution",
		"panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n":                                                                "panic: boom",
		"SIGSEGV: segmentation violation\nPC=0x0\n":                                                                           "SIGSEGV: segmentation violation",
		`{"level":"error","message":"task failed","error":"disk full"}` + "\n":                                                "task failed disk full",
		`{"level":"info"}`: `{"level":"info"}`,
		long:               strings.Repeat("é", 150) + "…",
	} {
		if got := Cause(stderr); got != want {
			t.Errorf("Cause(%.40q) = %q, want %q", stderr, got, want)
		}
	}
}

func TestTail(t *testing.T) {
	t.Parallel()
	tl := &Tail{Max: 5}
	for _, s := range []string{"ab", "cd", "efgh", "i"} {
		if n, err := tl.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatal(n, err)
		}
	}
	if tl.String() != "fghi"[0:0]+"efghi" {
		t.Fatalf("%q", tl.String())
	}
}
