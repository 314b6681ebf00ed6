// Package netcdf reads and writes NetCDF files (netCDF-3 classic and 64-bit
// offset, NetCDF-4 with groups, and HDF5 files netCDF-C understands) through
// the netCDF-C library, presenting them as ncmodel values.
//
// netCDF-C is not thread-safe: every C call here runs under one package
// mutex. Parallelism comes from worker processes, and from the direct
// chunk reads (chunks.go, ncmodel.ChunkSource): the stored chunks of a
// deflated NetCDF-4 variable are read raw from its HDF5 dataset under the
// mutex and decoded by readers/codec in the callers' goroutines. Nothing
// outside readers/ may import "C"; other packages use ncmodel interfaces.
//
// Damaged files: netCDF-C trusts a netCDF-3 header's counts (a flipped byte
// has made it allocate and copy gigabytes for minutes) and reads past the end
// of a truncated file without an error, so Open parses the header in Go
// first (classic.go), checking every count against the bytes left in the
// file, and refuses it before netCDF-C sees it. Errors say what is wrong with
// the file, starting with one of "not a NetCDF or HDF5 file", "truncated
// file", "corrupt netCDF-3 file", "corrupt or truncated NetCDF-4/HDF5 file",
// and give netCDF-C's own words in parentheses (system errors as
// "netCDF-C: argument list too long"); the caller names the file. HDF5 files
// are vetted by readers/open before they reach Open (see readers/hdf5).
package netcdf
