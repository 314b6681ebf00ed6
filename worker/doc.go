// Package worker is the worker side of the protocol in package jobs: it
// reads one task, runs the engine, checks what was
// written, and prints one reply. cmd/subsetd's `worker` command wires it to
// the C readers; tests wire it to fakes.
//
// It runs in a process of its own: a crash in C code here fails one task,
// never the server. It must not import "C" itself.
package worker
