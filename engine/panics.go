package engine

import (
	"errors"
	"fmt"
	"os"
	"runtime/debug"

	"github.com/subsetd/subsetd/internal/errs"
)

// panicked is a panic turned into an error by guard.
type panicked struct {
	what  string
	value any
	stack []byte
}

func (p *panicked) Error() string { return fmt.Sprintf("%v", p.value) }

// guard runs fn and turns a panic in it into an error, so that a bug met on
// one region (or one group of regions read together) fails those regions
// with a message instead of ending the run or the worker process. Users see
// what was being done and the runtime's one-line reason; report gives the
// stack to maintainers.
func guard(what string, fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			p := &panicked{what: what, value: v, stack: debug.Stack()}
			err = &errs.Error{Code: errs.Internal, Message: fmt.Sprintf("internal error %s: %v (a bug: the stack is in the log)", what, v), Err: p}
		}
	}()
	return fn()
}

// report hands the stack of a guarded panic to opt.Panic (standard error
// when nil); other errors are left alone.
func report(opt Options, err error) {
	var p *panicked
	if !errors.As(err, &p) {
		return
	}
	if opt.Panic != nil {
		opt.Panic(p.what, p.value, p.stack)
		return
	}
	fmt.Fprintf(os.Stderr, "subsetd: internal error %s: %v\n%s\n", p.what, p.value, p.stack)
}
