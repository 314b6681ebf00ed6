package pool

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/internal/testutil/fakeworker"
	"github.com/subsetd/subsetd/regions"
	"github.com/subsetd/subsetd/worker"
)

// The test binary doubles as the worker: with POOL_FAKE_WORKER set it reads
// a task and acts as told.
func TestMain(m *testing.M) {
	if os.Getenv("POOL_FAKE_WORKER") == "1" {
		fakeWorker()
		return
	}
	if os.Getenv(fakeworker.EnvVar) == "1" {
		fakeworker.Main()
	}
	os.Exit(m.Run())
}

type task struct {
	Do    string `json:"do"`
	Value int    `json:"value"`
}

type reply struct {
	Value int `json:"value"`
	PID   int `json:"pid"`
}

func fakeWorker() {
	var t task
	if err := json.NewDecoder(os.Stdin).Decode(&t); err != nil {
		os.Exit(9)
	}
	switch t.Do {
	case "sleep":
		fmt.Fprintf(os.Stderr, "sleeping\n")
		time.Sleep(time.Hour)
	case "crash":
		fmt.Fprintln(os.Stderr, `{"level":"error","message":"about to crash"}`)
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
	case "exit":
		os.Exit(3)
	case "reply, then hang":
		json.NewEncoder(os.Stdout).Encode(worker.Reply{Result: &engine.Result{FilesOpened: os.Getpid()}})
		time.Sleep(time.Hour)
	case "error, then linger":
		json.NewEncoder(os.Stdout).Encode(worker.Reply{Error: &worker.ReplyError{Message: "bad"}})
		time.Sleep(300 * time.Millisecond)
		os.Exit(0)
	case "garbage":
		fmt.Print("not json")
		os.Exit(0)
	}
	json.NewEncoder(os.Stdout).Encode(reply{Value: t.Value * 2, PID: os.Getpid()})
	os.Exit(0)
}

func newPool(size int) *Pool {
	return New([]string{os.Args[0]}, append(os.Environ(), "POOL_FAKE_WORKER=1"), size)
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func TestRunReply(t *testing.T) {
	p := newPool(2)
	var r reply
	st, err := p.Run(context.Background(), task{Value: 21}, &r)
	if err != nil {
		t.Fatal(err)
	}
	if r.Value != 42 || r.PID != st.PID || st.PID == 0 {
		t.Fatalf("reply %+v stats %+v", r, st)
	}
}

// Run returns once a worker's reply that ends its task well has come,
// without waiting for the process to exit; one that does not exit is
// killed after replyGrace. Other replies wait for the exit.
func TestReplyBeforeExit(t *testing.T) {
	p := newPool(1)
	p.replyGrace = 200 * time.Millisecond
	var r worker.Reply
	st, err := p.Run(context.Background(), task{Do: "reply, then hang"}, &r)
	if err != nil || r.Result == nil || r.Result.FilesOpened != st.PID {
		t.Fatalf("reply %+v %v", r, err)
	}
	if !alive(st.PID) {
		t.Fatal("the process had exited: Run waited for it")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		p.mu.Lock()
		_, held := p.running[st.PID]
		p.mu.Unlock()
		if !held && !alive(st.PID) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d not killed after it replied", st.PID)
		}
		time.Sleep(10 * time.Millisecond)
	}
	r = worker.Reply{}
	st, err = p.Run(context.Background(), task{Do: "error, then linger"}, &r)
	if err != nil || r.Error == nil || r.Error.Message != "bad" {
		t.Fatalf("error reply %+v %v", r, err)
	}
	if alive(st.PID) {
		t.Fatal("Run returned an error reply before the process exited")
	}
}

func TestCrashes(t *testing.T) {
	p := newPool(1)
	var r reply
	_, err := p.Run(context.Background(), task{Do: "crash"}, &r)
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Signal != syscall.SIGKILL {
		t.Fatalf("crash: %v", err)
	}
	if !strings.Contains(err.Error(), "about to crash") {
		t.Errorf("message lacks the worker's last words: %v", err)
	}
	_, err = p.Run(context.Background(), task{Do: "exit"}, &r)
	if !errors.As(err, &ee) || ee.Code != 3 || ee.Signal != 0 {
		t.Fatalf("exit: %v", err)
	}
	_, err = p.Run(context.Background(), task{Do: "garbage"}, &r)
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), "unreadable reply") {
		t.Fatalf("garbage: %v", err)
	}
	bad := New([]string{"/nonexistent/worker"}, nil, 1)
	if _, err := bad.Run(context.Background(), task{}, &r); err == nil || !strings.Contains(err.Error(), "start worker") {
		t.Fatalf("missing binary: %v", err)
	}
}

var errCancelled = errors.New("cancelled by the user")

func TestCancelKillsProcess(t *testing.T) {
	p := newPool(1)
	ctx, cancel := context.WithCancelCause(context.Background())
	pids := make(chan int, 1)
	go func() {
		for {
			p.mu.Lock()
			for pid := range p.running {
				pids <- pid
				p.mu.Unlock()
				return
			}
			p.mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	go func() {
		<-pids
		time.Sleep(50 * time.Millisecond)
		cancel(errCancelled)
	}()
	var r reply
	st, err := p.Run(ctx, task{Do: "sleep"}, &r)
	if !errors.Is(err, errCancelled) {
		t.Fatalf("err %v, want the cancel cause", err)
	}
	if alive(st.PID) {
		t.Fatalf("process %d still alive", st.PID)
	}
	// A timeout is told apart by its own cause.
	errTimeout := errors.New("task timed out")
	tctx, tcancel := context.WithTimeoutCause(context.Background(), 100*time.Millisecond, errTimeout)
	defer tcancel()
	if _, err := p.Run(tctx, task{Do: "sleep"}, &r); !errors.Is(err, errTimeout) {
		t.Fatalf("timeout: %v", err)
	}
}

func TestBounded(t *testing.T) {
	p := newPool(2)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var r reply
			p.Run(ctx, task{Do: "sleep"}, &r)
		}()
	}
	deadline := time.Now().Add(10 * time.Second)
	for p.Busy() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	// A third run waits for a slot and gives up with its context.
	wctx, wcancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer wcancel()
	var r reply
	st, err := p.Run(wctx, task{Value: 1}, &r)
	if !errors.Is(err, context.DeadlineExceeded) || st.PID != 0 {
		t.Fatalf("third run: %v %+v", err, st)
	}
	p.KillAll()
	cancel()
	wg.Wait()
	if p.Busy() != 0 {
		t.Fatalf("busy %d after all ended", p.Busy())
	}
}

// A worker.Task runs in the worker (the fake one: the real worker over
// fake files); a reply with an error comes back as that error.
func TestRunTask(t *testing.T) {
	p := New([]string{os.Args[0]}, append(os.Environ(), fakeworker.EnvVar+"=1"), 1)
	in := filepath.Join(t.TempDir(), "in.nc")
	if err := fakeworker.WriteGrid(in, fakeworker.Grid{}); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	task := worker.Task{Files: []string{in}, OutDir: out, Regions: []regions.Fixed{{Name: "a", BBox: []float64{0, 0, 1, 1}}}}
	res, st, err := p.RunTask(context.Background(), task)
	if err != nil || st.PID == 0 || len(res.Regions) != 1 || res.Regions[0].Status != engine.StatusSuccessful || res.Regions[0].Files[0].Path != filepath.Join(out, "a.nc") {
		t.Fatalf("%+v %+v %v", res, st, err)
	}
	task.Variables = []string{"chl"}
	if res, _, err := p.RunTask(context.Background(), task); res != nil || errs.CodeOf(err) != errs.NotFound || errs.FieldOf(err) != "variables[0]" {
		t.Fatalf("%+v %v", res, err)
	}
}

// A file a C library hangs or crashes on fails as an unreadable file: the
// task runs again without it, and the other files of the task are cut.
func TestRunTaskFileFaults(t *testing.T) {
	p := New([]string{os.Args[0]}, append(os.Environ(), fakeworker.EnvVar+"=1"), 1)
	p.LimitCalls(300 * time.Millisecond)
	dir := t.TempDir()
	good, hang, crash := filepath.Join(dir, "good.nc"), filepath.Join(dir, "hang.nc"), filepath.Join(dir, "crash.nc")
	if err := fakeworker.WriteGrid(good, fakeworker.Grid{}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(hang, []byte(fakeworker.CallHang), 0o644)
	os.WriteFile(crash, []byte(fakeworker.CallAbort), 0o644)
	task := worker.Task{Files: []string{hang, good, crash}, OutDir: t.TempDir(), RegionFiles: [][]int{{0, 1, 2}},
		Regions: []regions.Fixed{{Name: "a", BBox: []float64{0, 0, 1, 1}}}}
	t0 := time.Now()
	res, _, err := p.RunTask(context.Background(), task)
	if err != nil {
		t.Fatal(err)
	}
	r := res.Regions[0]
	want := "2 of 3 files failed: file " + hang + ": the C library did not answer within 0.3 s; file " + crash + ": the C library crashed (SIGABRT) reading it"
	if r.Status != engine.StatusSuccessful || len(r.Files) != 1 || r.Message != want {
		t.Errorf("region %+v\nwant message %q", r, want)
	}
	if d := time.Since(t0); d > 20*time.Second {
		t.Errorf("took %v", d)
	}
	// One file: the task fails with its message, not retried.
	task.Files, task.RegionFiles = []string{hang}, nil
	_, _, err = p.RunTask(context.Background(), task)
	if errs.CodeOf(err) != errs.Unreadable || err.Error() != "file "+hang+": the C library did not answer within 0.3 s" {
		t.Errorf("err = %v (%s)", err, errs.CodeOf(err))
	}
}
