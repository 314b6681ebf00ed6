package worker

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/ncmodel"
)

// Env is what the worker's protocols need from the outside: how to open
// and create files (the C readers; in tests, the in-memory file), the
// version to record in outputs, a logger.
type Env struct {
	Open    func(path string) (ncmodel.Source, error)
	Create  func(path string, format ncmodel.Format) (ncmodel.Sink, error)
	Version string
	Log     zerolog.Logger
}

// TestDelayEnv names an environment variable read only by tests: a duration
// the worker sleeps before running a subset task, so that a test can cancel
// or kill a task while it runs. Unset (the normal case) it does nothing.
const TestDelayEnv = "SUBSETD_TEST_TASK_DELAY"

// Main reads one task from in, runs it and writes the reply to out. It
// returns the process exit status: 0 when a reply was written.
func Main(ctx context.Context, in io.Reader, out io.Writer, env Env) int {
	var task Task
	reply := &Reply{}
	if err := json.NewDecoder(in).Decode(&task); err != nil {
		reply.Error = NewReplyError(errs.Wrap(errs.Internal, err, "decode task"))
		return write(out, reply, env.Log)
	}
	log := env.Log.With().Str("job_id", task.JobID).Int("task_id", task.TaskID).Logger()
	t0 := time.Now()
	func() {
		defer func() {
			if p := recover(); p != nil {
				log.Error().Str("stack", string(debug.Stack())).Msgf("panic: %v", p)
				reply.Result = nil
				reply.Error = NewReplyError(errs.E(errs.Internal, "internal error in the worker: %v", p))
			}
		}()
		engine.LimitMemory(task.MemoryBudget)
		var err error
		if task.StatsTable != "" {
			reply.Files, err = runStats(&task, env)
		} else {
			reply.Result, err = runTask(ctx, &task, env, newProgressLines(&task, out))
		}
		if err != nil {
			reply.Result, reply.Files = nil, nil
			reply.Error = NewReplyError(err)
		}
	}()
	ev := log.Info()
	if reply.Error != nil {
		ev = log.Warn().Str("error", reply.Error.Message).Str("code", string(reply.Error.Code))
	}
	ev.Dur("duration", time.Since(t0)).Msg("task done")
	return write(out, reply, env.Log)
}

func write(out io.Writer, reply *Reply, log zerolog.Logger) int {
	if err := json.NewEncoder(out).Encode(reply); err != nil {
		log.Error().Err(err).Msg("write reply")
		return 1
	}
	return 0
}

func runTask(ctx context.Context, task *Task, env Env, progress func(engine.Progress)) (*engine.Result, error) {
	if task.DryRun {
		return dryRun(ctx, task, env)
	}
	if task.OutDir == "" {
		return nil, errs.E(errs.Internal, "a task without an output directory")
	}
	if d, err := time.ParseDuration(os.Getenv(TestDelayEnv)); err == nil && d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if err := os.MkdirAll(task.OutDir, 0o755); err != nil {
		return nil, errs.Wrap(errs.Internal, err, "create output directory")
	}
	open := env.Open
	if len(task.Unreadable) > 0 {
		open = func(path string) (ncmodel.Source, error) {
			if msg, ok := task.Unreadable[path]; ok {
				return nil, engine.NamedFileError(msg)
			}
			return env.Open(path)
		}
	}
	opt := engine.Options{
		OutDir:       task.OutDir,
		MemoryBudget: task.MemoryBudget,
		Open:         open,
		Create:       env.Create,
		Concat:       task.Concat,
		Version:      env.Version,
		Command:      task.Command,
		Progress:     progress,
		Panic: func(what string, v any, stack []byte) {
			env.Log.Error().Str("job_id", task.JobID).Int("task_id", task.TaskID).Str("stack", string(stack)).Msgf("internal error %s: %v", what, v)
		},
	}
	var res *engine.Result
	var err error
	if task.RegionFiles != nil {
		res, err = engine.Granules(ctx, engine.Run, task.Files, task.RegionFiles, task.Request(), opt)
	} else {
		res, err = engine.Run(ctx, task.Files, task.Request(), opt)
	}
	if err != nil {
		return nil, err
	}
	for i := range res.Regions {
		Verify(task.OutDir, &res.Regions[i], env.Open)
	}
	if task.Statistics != nil {
		if err := writeStatsPart(task, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// dryRun plans a task: the engine's dry run over the task's files.
func dryRun(ctx context.Context, task *Task, env Env) (*engine.Result, error) {
	opt := engine.Options{Open: env.Open, Concat: task.Concat, Version: env.Version, Command: task.Command, DryRun: true}
	if task.RegionFiles != nil {
		return engine.Granules(ctx, engine.Run, task.Files, task.RegionFiles, task.Request(), opt)
	}
	return engine.Run(ctx, task.Files, task.Request(), opt)
}

// Verify checks the files of a region after writing: each is inside outDir,
// has the reported size and checksums (filled in when missing), re-opens,
// has the reported dimension lengths, and a sample of values of every
// variable (first and last element) reads back. A region whose check fails
// becomes failed and its files are removed.
func Verify(outDir string, r *engine.RegionResult, open func(string) (ncmodel.Source, error)) {
	if r.Status != engine.StatusSuccessful {
		return
	}
	for i := range r.Files {
		if err := verifyFile(outDir, &r.Files[i], open); err != nil {
			for _, f := range r.Files {
				_ = os.Remove(filepath.Join(outDir, filepath.FromSlash(f.Name)))
			}
			r.Status = engine.StatusFailed
			r.Message = fmt.Sprintf("output check failed for %s: %v", r.Files[i].Name, err)
			r.Files = nil
			return
		}
	}
}

func verifyFile(outDir string, f *engine.OutFile, open func(string) (ncmodel.Source, error)) error {
	rel := filepath.FromSlash(f.Name)
	if f.Name == "" || filepath.IsAbs(rel) || strings.HasPrefix(filepath.Clean(rel), "..") {
		return fmt.Errorf("file name %q is not inside the output directory", f.Name)
	}
	path := filepath.Join(outDir, rel)
	f.Path = path
	st, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("not a regular file")
	}
	if f.Size != 0 && st.Size() != f.Size {
		return fmt.Errorf("size is %d, the engine reported %d", st.Size(), f.Size)
	}
	f.Size = st.Size()
	sha, md, crc, err := checksums(path)
	if err != nil {
		return err
	}
	if f.Sha256 != "" && f.Sha256 != sha {
		return fmt.Errorf("sha256 is %s, the engine reported %s", sha, f.Sha256)
	}
	if f.Md5 != "" && f.Md5 != md {
		return fmt.Errorf("md5 is %s, the engine reported %s", md, f.Md5)
	}
	if f.Crc32 != 0 && f.Crc32 != crc {
		return fmt.Errorf("crc32 is %08x, the engine reported %08x", crc, f.Crc32)
	}
	f.Sha256, f.Md5, f.Crc32 = sha, md, crc
	src, err := open(path)
	if err != nil {
		return fmt.Errorf("re-open: %w", err)
	}
	defer src.Close()
	file := src.File()
	for name, n := range f.Shape {
		var found *ncmodel.Dim
		file.Root.Walk(func(g *ncmodel.Group) {
			for _, d := range g.Dims {
				if found == nil && engine.DimName(d) == name {
					found = d
				}
			}
		})
		if found == nil {
			return fmt.Errorf("dimension %s is missing", name)
		}
		if found.Len != n {
			return fmt.Errorf("dimension %s has length %d, expected %d", name, found.Len, n)
		}
	}
	for _, v := range file.Vars() {
		shape := v.Shape()
		if ncmodel.Product(shape) == 0 {
			continue
		}
		one := make([]int, len(shape))
		last := make([]int, len(shape))
		for k := range shape {
			one[k] = 1
			last[k] = shape[k] - 1
		}
		for _, start := range [][]int{make([]int, len(shape)), last} {
			if _, err := src.Read(v, start, one, nil); err != nil {
				return fmt.Errorf("read back %s at %v: %w", v.Path(), start, err)
			}
		}
	}
	return nil
}

// checksums returns the sha256, md5 and CRC-32 (IEEE) of a file, read once.
func checksums(path string) (sha, md string, crc uint32, err error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", "", 0, err
	}
	defer fh.Close()
	s, m, c := sha256.New(), md5.New(), crc32.NewIEEE()
	if _, err := io.Copy(io.MultiWriter(s, m, c), fh); err != nil {
		return "", "", 0, err
	}
	return hex.EncodeToString(s.Sum(nil)), hex.EncodeToString(m.Sum(nil)), c.Sum32(), nil
}
