// Package pool runs tasks in worker processes, a bounded number at a time.
// A task is JSON written to the process's standard input; the reply is JSON
// read from its standard output. RunTask is the parent side of the worker's
// task protocol (worker.Task, worker.Reply); Run takes any JSON. The command
// to run is a parameter, so tests run a fake worker (the test binary
// itself).
//
// Processes run through internal/proc: each gets its own process group, is
// killed with SIGKILL (the whole group) when its context ends, and on Linux
// dies with the server (Pdeathsig). This package knows nothing of jobs or
// River.
package pool
