// Package engine is the subsetting engine: it plans which hyperslabs of
// which variables each region needs, reads them in slabs under a memory
// budget (reading the union of nearby regions once), and writes one
// CF-compliant file per region through the ncmodel interfaces. Every way of
// combining several files is here: joined along time (Options.Concat), or
// cut one by one as granules (Granules), which the command line and the
// server's workers share.
//
// It does no C calls itself: files are opened through the functions in
// Options, so it runs against the in-memory fake in unit tests.
package engine
