package netcdf_test

import (
	"testing"

	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/ncmodel/ncmodeltest"
	"github.com/subsetd/subsetd/readers/netcdf"
)

// TestConformance runs the suite every reader/writer pair passes (the
// in-memory fake runs it too), so the fake and netCDF-C cannot drift apart.
func TestConformance(t *testing.T) {
	ncmodeltest.Exercise(t, ncmodeltest.Impl{
		Name:   "netcdf",
		Create: func(p string, f ncmodel.Format) (ncmodel.Sink, error) { return netcdf.Create(p, f) },
		Open:   func(p string) (ncmodel.Source, error) { return netcdf.Open(p) },
		Formats: []ncmodel.Format{ncmodel.FormatNetCDF4, ncmodel.FormatNetCDF4Classic, ncmodel.Format64BitOffset,
			ncmodel.FormatClassic, ncmodel.Format64BitData},
		ReadsChunks: true, WritesChunks: true,
	})
}
