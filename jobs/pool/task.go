package pool

import (
	"context"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/worker"
)

// RunTask runs one task of the worker's task protocol in a process (Run)
// and returns its result; a reply that carries an error gives that error,
// with its code, and one that carries neither is an internal error.
func (p *Pool) RunTask(ctx context.Context, t worker.Task) (*engine.Result, Stats, error) {
	reply, st, err := p.reply(ctx, t, func(r *worker.Reply) bool { return r.Result != nil }, "a result")
	return reply.Result, st, err
}

// RunStats runs a statistics task (worker.Task.StatsTable) in a process, as
// RunTask runs a cut, and returns the files it wrote.
func (p *Pool) RunStats(ctx context.Context, t worker.Task) ([]engine.OutFile, Stats, error) {
	reply, st, err := p.reply(ctx, t, func(r *worker.Reply) bool { return len(r.Files) > 0 }, "the statistics files")
	return reply.Files, st, err
}

// reply runs t and returns its reply when it holds what is wanted.
func (p *Pool) reply(ctx context.Context, t worker.Task, has func(*worker.Reply) bool, what string) (worker.Reply, Stats, error) {
	var reply worker.Reply
	st, err := p.Run(ctx, t, &reply)
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
