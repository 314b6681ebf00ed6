// Package ncmodeltest is the conformance suite every ncmodel Sink/Source
// pair must pass: the in-memory fake (ncmodel/memfile) and the netCDF-C
// reader and writer alike, so that a unit test passing against the fake
// means the same against real files. Call Exercise from a _test.go file of
// each implementation.
//
// The suite holds implementations to what netCDF-C does, and only to what
// it does reliably: where the library's behaviour depends on its version or
// settings (fill mode, chunking, strided reads past the end, one-element
// string attributes) it asserts nothing. It must not import "C" and must
// not depend on any implementation but the fake.
package ncmodeltest
