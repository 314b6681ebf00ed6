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
//     when that scale is a 1-D dataset of a compatible length met in the
//     walk; the dimension is
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
// Damaged files. Files come from archives nobody vetted, so every walk is
// bounded and nothing read from the file is trusted before it is checked:
//   - Files are opened through a file driver of this package (h5guard.c:
//     HDF5's sec2 driver, read-only, plus checks), which refuses to hand
//     HDF5 a global heap collection (where variable-length strings and the
//     DIMENSION_LIST of dimension scales are stored) whose objects do not
//     tile it exactly. HDF5 1.10 parses a collection as soon as it reads it
//     (H5HG__cache_heap_deserialize, under H5HG_read): it steps from object
//     to object by each object's size, so an object of index 0 and size 0
//     (a zeroed block, a flipped byte) makes it loop forever, and an object
//     larger than the collection makes H5HG_read copy from outside the
//     buffer (SIGSEGV). That loop is inside HDF5 and cannot be bounded
//     from outside; the driver sees the collection's bytes first, so HDF5
//     never reaches it. The error is a *CorruptError naming the collection
//     and its byte offset. HDF5 1.10 reads global heaps as raw data, so the
//     driver checks raw reads that start with a collection's signature; a
//     dataset whose values begin with "GCOL\x01" and a size that does not
//     tile would be refused too.
//   - Vet runs the same checks over everything netCDF-C reads through the
//     global heap when it opens a file (attributes, dimension lists, fill
//     values, small string variables): netCDF-C opens files with HDF5's own
//     driver, so readers/open vets HDF5 files before netCDF-C sees them. A
//     variable-length attribute or fill value HDF5 cannot read (a heap's
//     signature damaged) is refused too: netCDF-C 4.9 keeps the half-filled
//     buffer of the failed read and frees its garbage pointers when the
//     file is closed (SIGABRT in nc_reclaim_data, under nc_close). It costs
//     about half of netCDF-C's open. Not covered: string variables of
//     more than 65,536 values read through netCDF-C, and a heap met only
//     after a part of the file Vet could not walk (the process-level
//     deadline of the server covers those).
//   - The walk follows hard links only, enters each object once (by address:
//     hard-link cycles end), refuses groups nested more than 256 deep, links
//     to addresses outside the file, and link, attribute and value counts
//     that a file of its size cannot hold (before looping or allocating).
//   - DIMENSION_LIST is read only when it is a list of object references of
//     the dataset's rank, and its references are never dereferenced: an
//     object reference is the address of the object's header (HDF5 1.10),
//     matched against the datasets the walk met; one that matches none is
//     dangling. HDF5 never parses bytes a corrupt reference points at.
//
// Other damage gives HDF5's own error ("incorrect metadata checksum",
// "truncated file: N bytes, but its superblock says M"). HDF5 may still
// crash or loop on damage nobody has met yet (h5dump and h5ls do on some):
// no Go code can catch that, which is why untrusted files are read in
// worker processes. Lengths and read sizes that could only come from a
// corrupt file are refused with an error rather than a panic. Written
// against HDF5 1.10 (Debian 12); 1.12 renamed parts of the object-info API
// and made references tokens.
//
// Concurrency: Debian's HDF5 is built thread-safe, which means one global
// lock around every API call; a Reader may be used from several goroutines,
// but the calls run one at a time. Real parallelism comes from worker
// processes (see DESIGN.md).
package hdf5
