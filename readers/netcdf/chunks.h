// Direct chunk I/O on the HDF5 datasets behind netCDF-4 variables: find
// the HDF5 file a netCDF-C open or create made, describe a dataset's
// chunking and filters, read and write stored chunks.
#ifndef SUBSETD_NETCDF_CHUNKS_H
#define SUBSETD_NETCDF_CHUNKS_H

#include <hdf5.h>
#include <stdint.h>

#define SD_MAX_FILTERS 8
#define SD_MAX_RANK 32

// The HDF5 files open in the process: up to max ids into ids; the count.
int sd_open_files(hid_t *ids, int max);

// The name a file was opened with, into buf.
int sd_file_name(hid_t fid, char *buf, size_t size);

typedef struct {
	int rank;
	hsize_t dims[SD_MAX_RANK];
	hsize_t chunk[SD_MAX_RANK];
	int nfilters;
	int filter[SD_MAX_FILTERS];
	int level[SD_MAX_FILTERS]; // deflate level
	size_t type_size;
	int type_class; // H5T_INTEGER, H5T_FLOAT, ...
	int little_endian;
} sd_chunking;

// Opens the dataset at path of file fid and describes it; a negative id
// when it is absent or not chunked.
hid_t sd_open_chunked(hid_t fid, const char *path, sd_chunking *out);

// The stored size of the chunk at offset; 0 when it was never written.
int sd_chunk_size(hid_t did, const hsize_t *offset, hsize_t *size);

// Reads the stored bytes of a chunk and its filter mask.
int sd_read_chunk(hid_t did, const hsize_t *offset, uint32_t *mask, void *buf);

// Grows the dataset to at least dims along every dimension.
int sd_extend(hid_t did, int rank, const hsize_t *dims);

// Writes stored bytes as the chunk at offset.
int sd_write_chunk(hid_t did, const hsize_t *offset, uint32_t mask, const void *buf, size_t size);

#endif
