#include <string.h>
#include "chunks.h"

int sd_open_files(hid_t *ids, int max) {
	ssize_t n = H5Fget_obj_ids(H5F_OBJ_ALL, H5F_OBJ_FILE, (size_t)max, ids);
	return n < 0 ? -1 : (int)n;
}

int sd_file_name(hid_t fid, char *buf, size_t size) {
	return H5Fget_name(fid, buf, size) < 0 ? -1 : 0;
}

hid_t sd_open_chunked(hid_t fid, const char *path, sd_chunking *out) {
	memset(out, 0, sizeof *out);
	if (H5Lexists(fid, path, H5P_DEFAULT) <= 0)
		return -1;
	hid_t did = H5Dopen2(fid, path, H5P_DEFAULT);
	if (did < 0)
		return -1;
	hid_t dcpl = H5Dget_create_plist(did);
	hid_t space = H5Dget_space(did);
	hid_t type = H5Dget_type(did);
	int ok = dcpl >= 0 && space >= 0 && type >= 0 && H5Pget_layout(dcpl) == H5D_CHUNKED;
	if (ok) {
		out->rank = H5Sget_simple_extent_ndims(space);
		ok = out->rank > 0 && out->rank <= SD_MAX_RANK &&
		     H5Sget_simple_extent_dims(space, out->dims, NULL) == out->rank &&
		     H5Pget_chunk(dcpl, out->rank, out->chunk) == out->rank;
	}
	if (ok) {
		out->nfilters = H5Pget_nfilters(dcpl);
		ok = out->nfilters >= 0 && out->nfilters <= SD_MAX_FILTERS;
		for (int i = 0; ok && i < out->nfilters; i++) {
			unsigned int flags, values[8];
			size_t nvalues = 8;
			char name[64];
			unsigned int config;
			H5Z_filter_t f = H5Pget_filter2(dcpl, (unsigned)i, &flags, &nvalues, values, sizeof name, name, &config);
			out->filter[i] = (int)f;
			out->level[i] = (f == H5Z_FILTER_DEFLATE && nvalues > 0) ? (int)values[0] : 0;
			ok = f >= 0;
		}
	}
	if (ok) {
		out->type_size = H5Tget_size(type);
		out->type_class = (int)H5Tget_class(type);
		out->little_endian = H5Tget_order(type) == H5T_ORDER_LE;
	}
	if (type >= 0) H5Tclose(type);
	if (space >= 0) H5Sclose(space);
	if (dcpl >= 0) H5Pclose(dcpl);
	if (!ok) {
		H5Dclose(did);
		return -1;
	}
	return did;
}

int sd_chunk_size(hid_t did, const hsize_t *offset, hsize_t *size) {
	*size = 0;
	return H5Dget_chunk_storage_size(did, offset, size) < 0 ? -1 : 0;
}

int sd_read_chunk(hid_t did, const hsize_t *offset, uint32_t *mask, void *buf) {
	return H5Dread_chunk(did, H5P_DEFAULT, offset, mask, buf) < 0 ? -1 : 0;
}

int sd_extend(hid_t did, int rank, const hsize_t *dims) {
	hid_t space = H5Dget_space(did);
	if (space < 0)
		return -1;
	hsize_t cur[SD_MAX_RANK], want[SD_MAX_RANK];
	int grow = 0;
	if (H5Sget_simple_extent_dims(space, cur, NULL) != rank) {
		H5Sclose(space);
		return -1;
	}
	H5Sclose(space);
	for (int i = 0; i < rank; i++) {
		want[i] = cur[i] < dims[i] ? dims[i] : cur[i];
		grow |= want[i] != cur[i];
	}
	if (!grow)
		return 0;
	return H5Dset_extent(did, want) < 0 ? -1 : 0;
}

int sd_write_chunk(hid_t did, const hsize_t *offset, uint32_t mask, const void *buf, size_t size) {
	return H5Dwrite_chunk(did, H5P_DEFAULT, mask, offset, size, buf) < 0 ? -1 : 0;
}
