package engine

import (
	"os"
	"runtime/debug"
)

// A process cutting files holds, besides the values of one slab and the
// parts cut from it (at most three sixteenths of the budget each, copy.go), what
// Go's collector lets grow before it runs (by default as much again as is
// live), the C libraries' caches and metadata, and the program itself.
// Bounding the slab alone let a cut of a long series grow to twice its
// budget; the collector is told the budget instead.

// MemoryLimit is the soft limit of the Go heap for a process cutting with
// the given memory budget (DefaultMemoryBudget if 0): half of it, the rest
// left to the C libraries (their caches and metadata of each open input
// and output), the runtime and the program's own pages, and never below
// 32 MiB. Measured at the default budget on 20 GB of values (bench/large.sh:
// 14 regions in one process, 520 steps of 1800 x 3600) the process stays
// near 220 MiB with slabs of three sixteenths and this half; with slabs of
// a quarter and five eighths it reached 243-260 MiB.
func MemoryLimit(budget int64) int64 {
	if budget <= 0 {
		budget = DefaultMemoryBudget
	}
	return max(budget/2, 32<<20)
}

// LimitMemory sets the Go heap's soft limit (runtime/debug.SetMemoryLimit)
// to MemoryLimit(budget), unless the GOMEMLIMIT environment variable sets
// one. The commands that run the engine call it; a library user decides
// for its own process.
func LimitMemory(budget int64) {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(MemoryLimit(budget))
	}
}
