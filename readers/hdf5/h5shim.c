// h5shim.c holds the few HDF5 calls that Go cannot make directly: macros
// that expand to expressions (H5F_ACC_RDONLY, H5T_NATIVE_*), callbacks
// (H5Ewalk2) and the hvl_t handling of DIMENSION_LIST. Everything else is
// called from Go, but for the file driver (h5guard.c). Written against HDF5 1.10 (Debian 12: 1.10.8), where
// H5O_info_t carries the object address.

#include <string.h>
#include "h5shim.h"

// sd_silence turns off HDF5's automatic printing of error stacks and forgets
// the guard driver's last refusal. The setting is per thread in a
// thread-safe build, so it is called at the start of every Go operation, on
// an OS thread locked for that operation.
void sd_silence(void) {
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	char discard[8];
	sd_guard_refusal(discard, sizeof discard);
}

static herr_t sd_walk_cb(unsigned n, const H5E_error2_t *e, void *data) {
	(void)n;
	char *out = (char *)data;
	// The walk goes downward, from the API call to the place where the
	// error was detected: the last description is the most specific one.
	if (e->desc != NULL && e->desc[0] != '\0') {
		strncpy(out, e->desc, 511);
		out[511] = '\0';
	}
	return 0;
}

// sd_last_error copies the most specific message of this thread's error
// stack into out (at least 512 bytes), then clears the stack.
void sd_last_error(char *out, size_t n) {
	char buf[512];
	buf[0] = '\0';
	H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, sd_walk_cb, buf);
	H5Eclear2(H5E_DEFAULT);
	strncpy(out, buf, n - 1);
	out[n - 1] = '\0';
}

// sd_open_rdonly opens a file read-only through the guard driver (h5guard.c).
hid_t sd_open_rdonly(const char *path) {
	hid_t fapl = sd_guard_fapl();
	if (fapl < 0) return -1;
	return H5Fopen(path, H5F_ACC_RDONLY, fapl);
}

hsize_t sd_unlimited(void) { return H5S_UNLIMITED; }

haddr_t sd_haddr_undef(void) { return HADDR_UNDEF; }

// sd_native returns the native memory type for a netCDF type number
// (ncmodel.Type), or -1. The result is a predefined type: do not close it.
hid_t sd_native(int nctype) {
	switch (nctype) {
	case 1: return H5T_NATIVE_INT8;
	case 3: return H5T_NATIVE_INT16;
	case 4: return H5T_NATIVE_INT32;
	case 5: return H5T_NATIVE_FLOAT;
	case 6: return H5T_NATIVE_DOUBLE;
	case 7: return H5T_NATIVE_UINT8;
	case 8: return H5T_NATIVE_UINT16;
	case 9: return H5T_NATIVE_UINT32;
	case 10: return H5T_NATIVE_INT64;
	case 11: return H5T_NATIVE_UINT64;
	}
	return -1;
}

// sd_c_s1 returns a new copy of H5T_C_S1 (close it).
hid_t sd_c_s1(void) { return H5Tcopy(H5T_C_S1); }

// sd_vlen_str returns a new variable-length C string type (close it).
hid_t sd_vlen_str(H5T_cset_t cset) {
	hid_t t = H5Tcopy(H5T_C_S1);
	if (t < 0) return t;
	if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, cset) < 0) {
		H5Tclose(t);
		return -1;
	}
	return t;
}

// sd_link_info describes link idx (name order) of grp: its kind and, for
// hard links, the object's file number and address (its identity). A hard
// link to an address at or past eof (the file's size) is not followed: it
// can only come from a corrupt file, and HDF5 would parse whatever bytes it
// finds there as an object header.
int sd_link_info(hid_t grp, hsize_t idx, haddr_t eof, int *kind, unsigned long *fileno, haddr_t *addr) {
	H5L_info_t li;
	H5O_info_t oi;
	*kind = SD_LINK_OTHER;
	*fileno = 0;
	*addr = HADDR_UNDEF;
	if (H5Lget_info_by_idx(grp, ".", H5_INDEX_NAME, H5_ITER_INC, idx, &li, H5P_DEFAULT) < 0) return -1;
	if (li.type != H5L_TYPE_HARD) return 0;
	if (li.u.address == HADDR_UNDEF || li.u.address >= eof) {
		*kind = SD_LINK_BAD;
		*addr = li.u.address;
		return 0;
	}
	if (H5Oget_info_by_idx2(grp, ".", H5_INDEX_NAME, H5_ITER_INC, idx, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0)
		return -1;
	*fileno = oi.fileno;
	*addr = oi.addr;
	switch (oi.type) {
	case H5O_TYPE_GROUP: *kind = SD_LINK_GROUP; break;
	case H5O_TYPE_DATASET: *kind = SD_LINK_DATASET; break;
	default: *kind = SD_LINK_HARD_OTHER;
	}
	return 0;
}

// sd_link_name returns the name of link idx (name order) of grp, malloc'ed
// (free it), or NULL.
char *sd_link_name(hid_t grp, hsize_t idx) {
	ssize_t n = H5Lget_name_by_idx(grp, ".", H5_INDEX_NAME, H5_ITER_INC, idx, NULL, 0, H5P_DEFAULT);
	if (n < 0) return NULL;
	char *s = malloc((size_t)n + 1);
	if (s == NULL) return NULL;
	if (H5Lget_name_by_idx(grp, ".", H5_INDEX_NAME, H5_ITER_INC, idx, s, (size_t)n + 1, H5P_DEFAULT) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

// sd_attr_order returns the index to list obj's attributes by: creation
// order when the object tracks it (netCDF-4 files do, so attributes come
// out in the order ncdump shows), name order otherwise.
int sd_attr_order(hid_t obj) {
	H5I_type_t t = H5Iget_type(obj);
	hid_t pl = -1;
	unsigned flags = 0;
	if (t == H5I_GROUP) pl = H5Gget_create_plist(obj);
	else if (t == H5I_DATASET) pl = H5Dget_create_plist(obj);
	if (pl < 0) return H5_INDEX_NAME;
	herr_t err = H5Pget_attr_creation_order(pl, &flags);
	H5Pclose(pl);
	if (err < 0 || !(flags & H5P_CRT_ORDER_TRACKED)) return H5_INDEX_NAME;
	// Check that listing by creation order works for this object.
	if (H5Aget_name_by_idx(obj, ".", H5_INDEX_CRT_ORDER, H5_ITER_INC, 0, NULL, 0, H5P_DEFAULT) < 0) {
		H5Eclear2(H5E_DEFAULT);
		return H5_INDEX_NAME;
	}
	return H5_INDEX_CRT_ORDER;
}

// sd_attr_name returns the name of attribute idx of obj in the given order,
// malloc'ed (free it), or NULL.
char *sd_attr_name(hid_t obj, int order, hsize_t idx) {
	ssize_t n = H5Aget_name_by_idx(obj, ".", (H5_index_t)order, H5_ITER_INC, idx, NULL, 0, H5P_DEFAULT);
	if (n < 0) return NULL;
	char *s = malloc((size_t)n + 1);
	if (s == NULL) return NULL;
	if (H5Aget_name_by_idx(obj, ".", (H5_index_t)order, H5_ITER_INC, idx, s, (size_t)n + 1, H5P_DEFAULT) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

// sd_dimlist reads the DIMENSION_LIST attribute of dset (rank entries, each
// a variable-length list of object references) and sets refs[i] to the
// first reference of dimension i, HADDR_UNDEF when there is none. The
// references are not followed: in HDF5 1.10 an object reference is the
// address of the object's header, which the caller matches against the
// addresses of the datasets it has met, so a corrupt reference never makes
// HDF5 parse arbitrary bytes as an object. It returns 1 when the attribute
// is absent, 0 when read, -1 when it is present but not a list of object
// references of the dataset's rank, or unreadable (all refs are then
// HADDR_UNDEF).
int sd_dimlist(hid_t dset, int rank, haddr_t *refs) {
	for (int i = 0; i < rank; i++) refs[i] = HADDR_UNDEF;
	htri_t ex = H5Aexists(dset, "DIMENSION_LIST");
	if (ex == 0) return 1;
	if (ex < 0) return -1;
	int ret = -1;
	hid_t attr = -1, space = -1, ftype = -1, fsuper = -1, mtype = -1;
	hvl_t *buf = NULL;
	attr = H5Aopen(dset, "DIMENSION_LIST", H5P_DEFAULT);
	if (attr < 0) goto done;
	space = H5Aget_space(attr);
	if (space < 0) goto done;
	if (H5Sget_simple_extent_type(space) != H5S_SIMPLE || H5Sget_simple_extent_npoints(space) != rank) goto done;
	// A vlen of object references, nothing else: another type would be
	// converted (or refused) by rules that know nothing of scales.
	ftype = H5Aget_type(attr);
	if (ftype < 0 || H5Tget_class(ftype) != H5T_VLEN) goto done;
	fsuper = H5Tget_super(ftype);
	if (fsuper < 0 || H5Tget_class(fsuper) != H5T_REFERENCE || H5Tequal(fsuper, H5T_STD_REF_OBJ) <= 0) goto done;
	mtype = H5Tvlen_create(H5T_STD_REF_OBJ);
	if (mtype < 0) goto done;
	buf = calloc((size_t)rank, sizeof(hvl_t));
	if (buf == NULL) goto done;
	if (H5Aread(attr, mtype, buf) < 0) goto done;
	for (int i = 0; i < rank; i++) {
		if (buf[i].len < 1 || buf[i].p == NULL) continue;
		hobj_ref_t ref = ((hobj_ref_t *)buf[i].p)[0];
		if (ref != 0) refs[i] = (haddr_t)ref;
	}
	H5Dvlen_reclaim(mtype, space, H5P_DEFAULT, buf);
	ret = 0;
done:
	H5Eclear2(H5E_DEFAULT);
	free(buf);
	if (mtype >= 0) H5Tclose(mtype);
	if (fsuper >= 0) H5Tclose(fsuper);
	if (ftype >= 0) H5Tclose(ftype);
	if (space >= 0) H5Sclose(space);
	if (attr >= 0) H5Aclose(attr);
	return ret;
}

// sd_filters reports the deflate level (0 when absent) and whether the
// shuffle filter is in the pipeline of a dataset creation property list.
int sd_filters(hid_t dcpl, int *deflate, int *shuffle) {
	*deflate = 0;
	*shuffle = 0;
	int n = H5Pget_nfilters(dcpl);
	if (n < 0) return -1;
	for (int i = 0; i < n; i++) {
		unsigned flags = 0, conf = 0;
		unsigned cd[8] = {0};
		size_t ncd = 8;
		char name[64];
		H5Z_filter_t f = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, sizeof name, name, &conf);
		if (f == H5Z_FILTER_DEFLATE) *deflate = ncd > 0 ? (int)cd[0] : 1;
		if (f == H5Z_FILTER_SHUFFLE) *shuffle = 1;
	}
	return 0;
}
