// Package open picks the reader for a file: netCDF-C first (netCDF-3,
// NetCDF-4 and the HDF5 files it understands), the HDF5 reader for plain
// HDF5 files netCDF-C refuses. It also creates output files.
//
// HDF5 files are vetted by the HDF5 reader (hdf5.Vet) before netCDF-C opens
// them: netCDF-C would loop forever on some damaged heaps. Open errors say
// what is wrong with the file (see readers/netcdf), not which file: every
// caller names it ("cannot read x.nc: truncated file: ...").
package open

import (
	"errors"
	"fmt"
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
	// netCDF-C opens HDF5 files with HDF5's own driver, which would loop
	// forever on some damaged heaps: the HDF5 reader vets them first.
	if err := hdf5.Vet(path); err != nil {
		return nil, fmt.Errorf("%w: %v", netcdf.ErrCorrupt, err)
	}
	r, err := netcdf.Open(path)
	if err == nil {
		return r, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	// netCDF-C refuses some plain HDF5 files (missing or broken dimension
	// scales) or maps them inconsistently; the HDF5 reader copes.
	h, herr := hdf5Open(path)
	if herr == nil {
		return h, nil
	}
	// On a damaged HDF5 file netCDF-C says only "HDF error"; the HDF5
	// reader says what and where.
	if errors.Is(err, netcdf.ErrCorrupt) && errors.Is(herr, hdf5.ErrCorrupt) {
		return nil, fmt.Errorf("%w: %v", netcdf.ErrCorrupt, errors.Unwrap(herr))
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
