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
	"github.com/subsetd/subsetd/internal/proc"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/readers/hdf5"
	"github.com/subsetd/subsetd/readers/netcdf"
)

// Source opens an input file read-only; compressed files (.gz, .bz2,
// .zst: datafile.CompressionOf) are read through the decompression cache.
//
// Every call into the C libraries on the file (opening it, reading,
// reading chunks, closing) is reported to the process's runner as a call
// on path (proc.BeginCall), which kills the process when one does not
// return in time and says which file a crash was on.
func Source(path string) (ncmodel.Source, error) {
	var src ncmodel.Source
	var err error
	if datafile.CompressionOf(path) != "" {
		// Decompressing is Go: only the opening of the plain file is a call.
		plain, derr := Decompressed(path)
		if derr != nil {
			return nil, derr
		}
		src, err = watchedOpen(path, plain)
		if err != nil {
			return nil, err
		}
		src.File().Path = path // messages and metadata name the file the user knows
	} else if src, err = watchedOpen(path, path); err != nil {
		return nil, err
	}
	w := watched{src: src, path: path}
	if cs, ok := src.(ncmodel.ChunkSource); ok {
		return watchedChunks{watched: w, cs: cs}, nil
	}
	return w, nil
}

func watchedOpen(path, plain string) (ncmodel.Source, error) {
	defer proc.BeginCall(path)()
	injectFault(path)
	return open(plain)
}

// watched is a Source whose calls are reported as calls on path.
type watched struct {
	src  ncmodel.Source
	path string
}

func (w watched) File() *ncmodel.File { return w.src.File() }

func (w watched) Read(v *ncmodel.Var, start, count, stride []int) (*ncmodel.Array, error) {
	defer proc.BeginCall(w.path)()
	return w.src.Read(v, start, count, stride)
}

func (w watched) Close() error {
	defer proc.BeginCall(w.path)()
	return w.src.Close()
}

// watchedChunks is a watched ChunkSource.
type watchedChunks struct {
	watched
	cs ncmodel.ChunkSource
}

func (w watchedChunks) ReadsChunks(v *ncmodel.Var) bool { return w.cs.ReadsChunks(v) }

func (w watchedChunks) ReadChunk(v *ncmodel.Var, at []int) (*ncmodel.Array, error) {
	defer proc.BeginCall(w.path)()
	return w.cs.ReadChunk(v, at)
}

// StoredChunkSize passes the chunk layout on (ncmodel.ChunkSizer), what a
// dry run estimates sizes from.
func (w watchedChunks) StoredChunkSize(v *ncmodel.Var, at []int) (int64, bool) {
	cz, ok := w.cs.(ncmodel.ChunkSizer)
	if !ok {
		return 0, false
	}
	defer proc.BeginCall(w.path)()
	return cz.StoredChunkSize(v, at)
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
