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
package netcdf
