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
	var reply worker.Reply
	st, err := p.Run(ctx, t, &reply)
	switch {
	case err != nil:
		return nil, st, err
	case reply.Error != nil:
		return nil, st, reply.Error.Err()
	case reply.Result == nil:
		return nil, st, errs.E(errs.Internal, "the worker replied without a result")
	}
	return reply.Result, st, nil
}

// RunStats runs a statistics task (worker.Task.StatsTable) in a process and
// returns the files it wrote.
func (p *Pool) RunStats(ctx context.Context, t worker.Task) ([]engine.OutFile, Stats, error) {
	var reply worker.Reply
	st, err := p.Run(ctx, t, &reply)
	switch {
	case err != nil:
		return nil, st, err
	case reply.Error != nil:
		return nil, st, reply.Error.Err()
	case len(reply.Files) == 0:
		return nil, st, errs.E(errs.Internal, "the worker replied without the statistics files")
	}
	return reply.Files, st, nil
}
