// Package open picks the reader for a file: netCDF-C first (netCDF-3,
// NetCDF-4 and the HDF5 files it understands), the HDF5 reader for plain
// HDF5 files netCDF-C refuses. It also creates output files.
package open

import (
	"errors"

	"github.com/subsetd/subsetd/readers/ncmodel"
	"github.com/subsetd/subsetd/readers/netcdf"
)

// Source opens an input file read-only.
func Source(path string) (ncmodel.Source, error) {
	r, err := netcdf.Open(path)
	if err == nil {
		return r, nil
	}
	if errors.Is(err, netcdf.ErrNotNetCDF) || errors.Is(err, netcdf.ErrCorrupt) {
		if h, herr := hdf5Open(path); herr == nil {
			return h, nil
		}
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

// hdf5Open is replaced once the HDF5 reader is wired in.
var hdf5Open = func(path string) (ncmodel.Source, error) { return nil, errors.New("no HDF5 reader") }
