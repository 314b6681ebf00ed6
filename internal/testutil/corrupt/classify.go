package corrupt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/subsetd/subsetd/internal/proc"
	"github.com/subsetd/subsetd/ncmodel"
)

// Outcome is what a child did with one file.
type Outcome string

const (
	Opened Outcome = "opened"      // exit status 0
	Failed Outcome = "clean error" // exit status 1
	Hang   Outcome = "hang"        // still running at the timeout: killed
	Crash  Outcome = "crash"       // a signal (in C code, as the Go runtime reports it)
	Panic  Outcome = "panic"       // a Go panic
	Exited Outcome = "other exit"  // any other exit status
)

// Outcomes in the order reports list them.
var Outcomes = []Outcome{Opened, Failed, Hang, Crash, Panic, Exited}

// Result is the outcome for one file.
type Result struct {
	Path    string
	Outcome Outcome
	// Message is the child's standard error, trimmed: the error of a
	// clean failure, the first lines of a crash or panic report.
	Message string
	Signal  string   // crashes: e.g. SIGSEGV
	Frames  []string // crashes and hangs, when gdb ran: the innermost C frames, innermost first
	Elapsed time.Duration
}

// Command is a child for a path: its argv and environment (nil: this
// process's).
type Command func(path string) (argv, env []string)

// Config says how to run the children.
type Config struct {
	Command Command
	// Timeout kills a child that has not finished: a hang. Default 20 s.
	Timeout time.Duration
	// Parallel children at a time; default 2.
	Parallel int
	// Backtrace asks gdb (when installed) for the C frames of a hung child
	// before it is killed, and of a crash by running the child again under
	// gdb.
	Backtrace bool
}

// Classify runs cfg.Command on each path and sorts the outcomes. The results
// are in the order of paths.
func Classify(ctx context.Context, paths []string, cfg Config) []Result {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 20 * time.Second
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 2
	}
	if _, err := exec.LookPath("gdb"); err != nil {
		cfg.Backtrace = false
	}
	out := make([]Result, len(paths))
	sem := make(chan struct{}, cfg.Parallel)
	var wg sync.WaitGroup
	for i, p := range paths {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			out[i] = classifyOne(ctx, p, cfg)
		}()
	}
	wg.Wait()
	return out
}

// stderrMax keeps the whole head of a Go crash report (the signal line
// comes before the goroutine dump).
const stderrMax = 1 << 20

func classifyOne(ctx context.Context, path string, cfg Config) Result {
	res := Result{Path: path}
	argv, env := cfg.Command(path)
	start := time.Now()
	p, err := proc.Start(argv, proc.Options{Env: env, Stdout: io.Discard, StderrMax: stderrMax})
	if err != nil {
		res.Outcome, res.Message = Exited, "cannot start: "+err.Error()
		return res
	}
	timer := time.NewTimer(cfg.Timeout)
	defer timer.Stop()
	select {
	case <-p.Done():
	case <-ctx.Done():
		p.Kill()
		<-p.Done()
		res.Outcome, res.Message = Exited, "cancelled"
		return res
	case <-timer.C:
		if cfg.Backtrace {
			res.Frames = attachFrames(p.PID)
		}
		p.Kill()
		<-p.Done()
		res.Elapsed = time.Since(start)
		res.Outcome = Hang
		res.Message = fmt.Sprintf("no answer within %v", cfg.Timeout)
		return res
	}
	res.Elapsed = time.Since(start)
	res.Outcome, res.Signal, res.Message = sortExit(p.Err(), p.Stderr())
	if res.Outcome == Crash && cfg.Backtrace {
		res.Frames = rerunFrames(ctx, cfg, argv, env)
	}
	return res
}

// goSignal matches the Go runtime's report of a signal it did not expect,
// e.g. "SIGSEGV: segmentation violation" (raised in C code).
var goSignal = regexp.MustCompile(`(?m)^(SIG[A-Z]+): `)

func sortExit(err error, stderr string) (Outcome, string, string) {
	msg := strings.TrimSpace(stderr)
	if err == nil {
		return Opened, "", msg
	}
	var ee *proc.ExitError
	if !errors.As(err, &ee) {
		return Exited, "", fmt.Sprintf("%v: %s", err, firstLines(msg, 3))
	}
	if ee.Signal != 0 {
		return Crash, proc.SignalName(ee.Signal), firstLines(msg, 3)
	}
	if m := goSignal.FindStringSubmatch(msg); m != nil {
		return Crash, m[1], firstLines(msg[strings.Index(msg, m[0]):], 3)
	}
	if strings.HasPrefix(msg, "panic: ") || strings.Contains(msg, "\npanic: ") || strings.Contains(msg, "fatal error: ") {
		return Panic, "", firstLines(msg, 3)
	}
	if ee.Code == 1 {
		return Failed, "", msg
	}
	return Exited, "", fmt.Sprintf("%v: %s", err, firstLines(msg, 3))
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, " | ")
}

// attachFrames asks gdb for every thread's backtrace of a running process
// and returns the C frames of the thread in a cgo call.
func attachFrames(pid int) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, "gdb", "-p", fmt.Sprint(pid), "-batch", "-nx",
		"-ex", "set pagination off", "-ex", "thread apply all bt 40").CombinedOutput()
	return cFrames(string(out))
}

// rerunFrames runs the child again under gdb, which stops at the fatal
// signal before the Go runtime sees it, and returns the faulting thread's C
// frames.
func rerunFrames(ctx context.Context, cfg Config, argv, env []string) []string {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout+60*time.Second)
	defer cancel()
	args := []string{"-batch", "-nx", "-ex", "set pagination off",
		"-ex", "handle SIGURG nostop noprint pass", "-ex", "handle SIGPIPE nostop noprint pass",
		"-ex", "run", "-ex", "bt 40", "--args"}
	g := exec.CommandContext(ctx, "gdb", append(args, argv...)...)
	g.Env = env
	out, _ := g.CombinedOutput()
	return cFrames(string(out))
}

// frameLine is one frame of a gdb backtrace: "#3  0x... in H5HG_read (..."
// or "#0  H5HG_read (...".
var frameLine = regexp.MustCompile(`^#(\d+)\s+(?:0x[0-9a-f]+ in )?(\S+) \(.*?\)(?: (?:at|from) (\S+))?`)

// cFrames picks, from gdb output holding one or more thread backtraces, the
// thread that is in C code called from Go (a frame of crosscall2,
// runtime.asmcgocall or _cgo_*) or else the first thread, and returns its
// frames below the Go ones, innermost first, as "function (file:line)".
func cFrames(gdb string) []string {
	var threads [][]string
	var cur []string
	for _, line := range strings.Split(gdb, "\n") {
		m := frameLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		if m[1] == "0" && cur != nil {
			threads = append(threads, cur)
			cur = nil
		}
		f := m[2]
		if m[3] != "" {
			f += " (" + m[3] + ")"
		}
		cur = append(cur, f)
	}
	if cur != nil {
		threads = append(threads, cur)
	}
	if len(threads) == 0 {
		return nil
	}
	pick := threads[0]
	for _, th := range threads {
		if cgoDepth(th) >= 0 {
			pick = th
			break
		}
	}
	if d := cgoDepth(pick); d > 0 {
		pick = pick[:d]
	}
	return pick
}

// cgoDepth is the index of the first frame that belongs to the Go side of a
// cgo call, or -1.
func cgoDepth(frames []string) int {
	for i, f := range frames {
		if strings.HasPrefix(f, "_cgo_") || strings.HasPrefix(f, "runtime.asmcgocall") ||
			strings.HasPrefix(f, "crosscall2") || strings.HasPrefix(f, "runtime.cgocall") {
			return i
		}
	}
	return -1
}

// Counts of results by outcome.
func Count(results []Result) map[Outcome]int {
	n := map[Outcome]int{}
	for _, r := range results {
		n[r.Outcome]++
	}
	return n
}

// Summary is one line of counts: "412 files: 130 opened, 280 clean error, ...".
func Summary(results []Result) string {
	n := Count(results)
	parts := []string{}
	for _, o := range Outcomes {
		parts = append(parts, fmt.Sprintf("%d %s", n[o], o))
	}
	return fmt.Sprintf("%d files: %s", len(results), strings.Join(parts, ", "))
}

// Report writes the summary, then every result that is not an opening or a
// clean error (with its frames), then, when errors is set, every clean
// error's message, grouped by message with the paths' count.
func Report(w io.Writer, results []Result, errors bool) {
	fmt.Fprintln(w, Summary(results))
	var slowest Result
	for _, r := range results {
		if r.Outcome != Hang && r.Elapsed > slowest.Elapsed {
			slowest = r
		}
		if r.Outcome == Opened || r.Outcome == Failed {
			continue
		}
		fmt.Fprintf(w, "%s: %s", r.Outcome, r.Path)
		if r.Signal != "" {
			fmt.Fprintf(w, " (%s)", r.Signal)
		}
		fmt.Fprintf(w, ": %s\n", r.Message)
		for i, f := range r.Frames {
			if i == 12 {
				fmt.Fprintf(w, "    ...\n")
				break
			}
			fmt.Fprintf(w, "    #%d %s\n", i, f)
		}
	}
	if slowest.Path != "" {
		fmt.Fprintf(w, "slowest answer: %v (%s)\n", slowest.Elapsed.Round(time.Millisecond), slowest.Path)
	}
	if !errors {
		return
	}
	byMsg := map[string][]string{}
	for _, r := range results {
		if r.Outcome == Failed {
			m := strings.ReplaceAll(r.Message, r.Path, "FILE")
			byMsg[m] = append(byMsg[m], r.Path)
		}
	}
	msgs := make([]string, 0, len(byMsg))
	for m := range byMsg {
		msgs = append(msgs, m)
	}
	sort.Slice(msgs, func(i, j int) bool {
		return len(byMsg[msgs[i]]) > len(byMsg[msgs[j]]) || len(byMsg[msgs[i]]) == len(byMsg[msgs[j]]) && msgs[i] < msgs[j]
	})
	fmt.Fprintln(w, "clean errors by message (FILE is the path):")
	for _, m := range msgs {
		fmt.Fprintf(w, "  %4d  %s\n", len(byMsg[m]), m)
	}
}

// ChildEnv is the variable that makes a test binary a child of Classify
// (see ChildMain and Self).
const ChildEnv = "SUBSETD_CORRUPT_CHILD"

// ChildMain, called from TestMain, returns at once unless ChildEnv is set;
// then it opens the file the variable names with open, reads it (ReadAll)
// and closes it, writes the first error on standard error and exits with
// status 1 on an error, 0 otherwise.
func ChildMain(open func(path string) (ncmodel.Source, error)) {
	path, ok := os.LookupEnv(ChildEnv)
	if !ok {
		return
	}
	src, err := open(path)
	if err == nil {
		err = ReadAll(src)
		if cerr := src.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// Self is a Command that re-executes the running test binary as a child of
// Classify (its TestMain calls ChildMain).
func Self(path string) (argv, env []string) {
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	return []string{exe, "-test.run=^$"}, append(os.Environ(), ChildEnv+"="+path)
}

// Exec is a Command that runs argv with the path appended, e.g.
// Exec("subsetd", "inspect").
func Exec(argv ...string) Command {
	return func(path string) ([]string, []string) {
		return append(append([]string(nil), argv...), path), nil
	}
}
