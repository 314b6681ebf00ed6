// Package memfile is an in-memory NetCDF file: an ncmodel.Source and an
// ncmodel.Sink backed by Go slices, so the subsetting engine can be unit
// tested without cgo, files or netCDF-C.
//
// It must behave like netCDF-C wherever the engine could notice: the same
// raw C-order values, the same argument checks on hyperslabs, unlimited
// dimensions that grow on write, the netCDF-3 limits on Define. The
// conformance suite in ncmodel/ncmodeltest runs against it and against the
// C readers so the two cannot drift apart; when they disagree, the C
// behaviour wins and this package changes.
//
// File.Bytes encodes a file (description and values) deterministically and
// Decode reads it back: the stand-in for a file's bytes on disk, for sizes
// and checksums, and for fakes that keep in-memory files as real files.
//
// It must not import "C" nor touch the file system: paths are map keys.
package memfile
