// Package hdf5 reads plain HDF5 files (products not written by netCDF, such
// as ICESat-2 ATL03) and presents them in the vocabulary of ncmodel: groups,
// dimensions, variables and attributes, with raw hyperslab reads. It is the
// fallback for files that netCDF-C refuses to open (for example when a
// dimension scale is missing), and it implements ncmodel.Source.
//
// Mapping, in short:
//   - HDF5 groups are groups and datasets of a supported type are variables.
//     Soft links, external links and committed datatypes are skipped, and so
//     is every dataset of an unsupported type (compound, enum, opaque,
//     reference, array, bitfield, non-string vlen, odd-sized numbers) or with
//     a null dataspace: they appear nowhere in the model, and never make the
//     whole file fail. An object reachable through several hard links is
//     listed once, at the first path met (groups and datasets in name order).
//   - Types: integers of 1, 2, 4, 8 bytes and floats of 4, 8 bytes, of
//     either byte order, are read with the native memory type. Fixed-length
//     strings of one byte are Char (that is how netCDF-4 stores char
//     variables); longer fixed-length and variable-length strings are String.
//     A string attribute of zero or one element is a Char attribute holding
//     a Go string; one of several elements is a String attribute.
//     Attributes are listed in creation order when the object tracks it (as
//     netCDF-4 does), else by name; internal ones (DIMENSION_LIST,
//     REFERENCE_LIST, CLASS and NAME of scales, _Netcdf4Dimid,
//     _Netcdf4Coordinates, _nc3_strict, _NCProperties) are hidden.
//   - A dimension uses the dimension scale attached to it (DIMENSION_LIST)
//     when that scale is a 1-D dataset of a compatible length; the dimension is
//     defined in the scale's group and named after the scale's NAME attribute
//     (or the dataset's name). An unlimited scale's dimension is as long as
//     the longest dataset attached to it, and Read returns the dataset's fill
//     value past a shorter dataset's extent, as netCDF-C does. Otherwise
//     (no scale, a dangling or non-scale reference, a fixed-size scale of
//     another length) the dimension is a "phony_dim_<k>" of the
//     dataset's group, shared by the datasets of that group with the same
//     length and unlimitedness, the convention netCDF-C follows.
//   - netCDF-4 files are HDF5 files too: their dimension-only scales ("This
//     is a netCDF dimension but not a netCDF variable") become dimensions and
//     no variable, and "_nc4_non_coord_" prefixes are removed, so such a file
//     reads as ncdump shows it.
//
// What it must not do: write to files; let HDF5 print error stacks to
// stderr; panic on a malformed file or on bad Read arguments (those are
// errors); leak an HDF5 identifier or a C string. It is, with readers/netcdf,
// one of the few packages that import "C" (see the "only readers/ imports C"
// rule in DESIGN.md). It calls the HDF5 C library directly rather than through
// gonum.org/v1/hdf5, whose attribute reads with slices and big-endian reads
// are wrong and which cannot list attributes.
//
// Limits: on some deliberately corrupted files the HDF5 library itself
// crashes (SIGSEGV) or loops, as h5dump and h5ls do on the same bytes; no Go
// code can catch that, which is why untrusted files are read in worker
// processes. Lengths and read sizes that could only come from a corrupt file
// are refused with an error rather than a panic. Written against HDF5 1.10
// (Debian 12); 1.12 renamed parts of the object-info API.
//
// Concurrency: Debian's HDF5 is built thread-safe, which means one global
// lock around every API call; a Reader may be used from several goroutines,
// but the calls run one at a time. Real parallelism comes from worker
// processes (see DESIGN.md).
package hdf5
