// Package netcdf reads and writes NetCDF files (netCDF-3 classic and 64-bit
// offset, NetCDF-4 with groups, and HDF5 files netCDF-C understands) through
// the netCDF-C library, presenting them as ncmodel values.
//
// netCDF-C is not thread-safe: every C call here runs under one package
// mutex. Parallelism comes from worker processes, not goroutines. Nothing
// outside readers/ may import "C"; other packages use ncmodel interfaces.
package netcdf
