// Package corrupt makes corpora of damaged NetCDF and HDF5 files for tests,
// and classifies what a program does when it opens each one.
//
// Generate mutates good files (Sources takes classic, 64-bit-offset and
// deflated NetCDF-4 ones from the fixtures) with a fixed seed: byte flips in
// the header and metadata region (the first 16 KiB), truncations at many
// offsets, zeroed blocks and swapped blocks; Extras adds empty, tiny and
// random files. The same seed and sources give the same bytes, so a file
// that fails names itself (source, kind, index) and is made again by the
// next run.
//
// Classify runs a command per file in a child process under a timeout and
// sorts the outcomes: opened, clean error (exit status 1 with a message),
// hang (killed at the timeout), crash (a signal, or the Go runtime's report
// of one raised in C code), panic (a Go panic) and other exit statuses. For
// crashes and hangs it asks gdb for the C backtrace. The child can be a test
// binary re-executing itself (Self, with ChildMain in its TestMain) or any
// program (Exec), such as `subsetd inspect`: the exit statuses it expects
// (0 opened, 1 a clean error) are the CLI's.
//
// It is for tests only and pure Go: it runs ncgen (through fixtures), gdb
// and the children (through internal/proc); it imports nothing else of the
// module.
package corrupt
