// Package open picks the reader for a file: netCDF-C first (netCDF-3,
// NetCDF-4 and the HDF5 files it understands), the HDF5 reader for plain
// HDF5 files netCDF-C refuses. It also creates output files.
package open

import (
	"errors"
	"io/fs"

	"github.com/subsetd/subsetd/internal/datafile"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/readers/hdf5"
	"github.com/subsetd/subsetd/readers/netcdf"
)

// Source opens an input file read-only; compressed files (.gz, .bz2,
// .zst: datafile.CompressionOf) are read through the decompression cache.
func Source(path string) (ncmodel.Source, error) {
	if datafile.CompressionOf(path) != "" {
		plain, err := Decompressed(path)
		if err != nil {
			return nil, err
		}
		src, err := open(plain)
		if err != nil {
			return nil, err
		}
		src.File().Path = path // messages and metadata name the file the user knows
		return src, nil
	}
	return open(path)
}

func open(path string) (ncmodel.Source, error) {
	r, err := netcdf.Open(path)
	if err == nil {
		return r, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	// netCDF-C refuses some plain HDF5 files (missing or broken dimension
	// scales) or maps them inconsistently; the HDF5 reader copes.
	if h, herr := hdf5Open(path); herr == nil {
		return h, nil
	}
	return nil, err
}

// Sink creates an output file (truncating an existing one).
func Sink(path string, format ncmodel.Format) (ncmodel.Sink, error) {
	w, err := netcdf.Create(path, format)
	if err != nil {
		return nil, err
	}
	return w, nil
}

func hdf5Open(path string) (ncmodel.Source, error) {
	r, err := hdf5.Open(path)
	if err != nil {
		return nil, err
	}
	return r, nil
}
