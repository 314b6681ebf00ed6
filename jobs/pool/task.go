package pool

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/internal/proc"
	"github.com/subsetd/subsetd/worker"
)

// RunTask runs one task of the worker's task protocol in a process (Run)
// and returns its result; a reply that carries an error gives that error,
// with its code, and one that carries neither is an internal error.
//
// A process that a C library hung or crashed on while on one of the task's
// files (see ExitError.Call) is not the task's fault: the task runs again
// with that file unreadable (worker.Task.Unreadable: "file x.nc: the C
// library did not answer within 15 s"), as a file the libraries refuse,
// once per such file.
func (p *Pool) RunTask(ctx context.Context, t worker.Task) (*engine.Result, Stats, error) {
	return p.RunTaskProgress(ctx, t, nil)
}

// RunTaskProgress is RunTask telling onProgress of the worker's progress
// lines as they arrive (one call at a time).
func (p *Pool) RunTaskProgress(ctx context.Context, t worker.Task, onProgress func(worker.Progress)) (*engine.Result, Stats, error) {
	var onLine func([]byte)
	if onProgress != nil {
		onLine = func(line []byte) {
			var r worker.Reply
			if json.Unmarshal(line, &r) == nil && r.Progress != nil {
				onProgress(*r.Progress)
			}
		}
	}
	for {
		reply, st, err := p.reply(ctx, t, onLine, func(r *worker.Reply) bool { return r.Result != nil }, "a result")
		file, reason := FileFault(err)
		if file == "" || !slices.Contains(t.Files, file) || t.Unreadable[file] != "" {
			return reply.Result, st, err
		}
		u := maps.Clone(t.Unreadable)
		if u == nil {
			u = map[string]string{}
		}
		u[file] = engine.FileError(file, reason).Error()
		t.Unreadable = u
	}
}

// FileFault says, of a process's error, which file a C library hung or
// crashed on and why, in the engine's words (engine.HungReason,
// CrashReason); "" when the error is not such a fault.
func FileFault(err error) (file, reason string) {
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Call == "" {
		return "", ""
	}
	if ee.Stall != nil {
		return ee.Call, engine.HungReason(ee.Stall.Limit)
	}
	if sig := proc.CrashSignal(&ee.ExitError, ee.Stderr); sig != "" {
		return ee.Call, engine.CrashReason(sig)
	}
	return "", ""
}

// RunStats runs a statistics task (worker.Task.StatsTable) in a process, as
// RunTask runs a cut, and returns the files it wrote.
func (p *Pool) RunStats(ctx context.Context, t worker.Task) ([]engine.OutFile, Stats, error) {
	reply, st, err := p.reply(ctx, t, nil, func(r *worker.Reply) bool { return len(r.Files) > 0 }, "the statistics files")
	return reply.Files, st, err
}

// reply runs t and returns its reply when it holds what is wanted.
func (p *Pool) reply(ctx context.Context, t worker.Task, onLine func([]byte), has func(*worker.Reply) bool, what string) (worker.Reply, Stats, error) {
	var reply worker.Reply
	st, err := p.run(ctx, t, &reply, onLine)
	switch {
	case err != nil:
		return worker.Reply{}, st, err
	case reply.Error != nil:
		return worker.Reply{}, st, reply.Error.Err()
	case !has(&reply):
		return worker.Reply{}, st, errs.E(errs.Internal, "the worker replied without %s", what)
	}
	return reply, st, nil
}
