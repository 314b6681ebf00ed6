package worker

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"runtime/debug"
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
