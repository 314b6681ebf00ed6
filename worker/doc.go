// Package worker is the child side of the server's process protocols,
// each over one Env (how to open and create files):
//
//   - the task protocol (Main, `subsetd worker`): it reads one task, runs the
//     engine, checks what was written, and prints one reply; jobs/queue and
//     jobs/pool are its parent side;
//   - the inspector protocol (Inspect, `subsetd inspect --stdin`): it
//     describes each file it is given in one index record; catalog/index is
//     its parent side.
//
// cmd/subsetd wires it to the C readers; tests wire it to the in-memory
// file (internal/testutil/fakeworker). It runs in processes of their own: a
// crash in C code here fails one task or one file, never the server. It
// must not import "C" itself, nor the packages of its parents (jobs).
package worker
