package hdf5_test

import (
	"testing"

	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/ncmodel/ncmodeltest"
	"github.com/subsetd/subsetd/readers/hdf5"
	"github.com/subsetd/subsetd/readers/netcdf"
)

// TestConformance reads NetCDF-4 files written by netCDF-C with the HDF5
// reader: it must see what netCDF-C sees.
func TestConformance(t *testing.T) {
	ncmodeltest.Exercise(t, ncmodeltest.Impl{
		Name:    "hdf5",
		Create:  func(p string, f ncmodel.Format) (ncmodel.Sink, error) { return netcdf.Create(p, f) },
		Open:    func(p string) (ncmodel.Source, error) { return hdf5.Open(p) },
		Formats: []ncmodel.Format{ncmodel.FormatNetCDF4},
	})
}
