// h5guard.c is the file driver the reader opens files with: HDF5's sec2
// driver (POSIX pread, read-only) plus checks of the metadata structures
// that make HDF5 1.10 loop forever or read outside its buffers when they
// are corrupt. HDF5 parses those structures right after reading them, so a
// driver that refuses to return a malformed one turns a hang into an error
// ("unable to load global heap collection").
//
// Checked today: global heap collections (signature "GCOL"), which hold
// variable-length data (strings, the DIMENSION_LIST of dimension scales).
// HDF5 walks a collection's objects by their sizes (H5HG__cache_heap_
// deserialize): an object of index 0 and size 0 never advances the walk,
// and an object larger than the rest of the collection makes H5HG_read copy
// from outside it. A collection is refused when its objects do not tile it
// exactly, which every collection HDF5 writes does.

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "h5shim.h"

typedef struct {
	H5FD_t pub; // first: HDF5 casts between the two
	int fd;
	haddr_t eoa, eof;
	dev_t dev;
	ino_t ino;
	unsigned sizeof_size; // "size of lengths" from the superblock; 8 until seen
} guard_t;

static hid_t guard_id = -1;

// refusal is the last structure the driver refused on this thread, for the
// error message: HDF5 reports only that the read failed. Reads run on the
// thread of the API call (a Go operation locked to its thread, see cgoOp).
static _Thread_local char refusal[200];

static H5FD_t *guard_open(const char *name, unsigned flags, hid_t fapl, haddr_t maxaddr) {
	(void)fapl;
	if (flags & (H5F_ACC_RDWR | H5F_ACC_TRUNC | H5F_ACC_CREAT)) return NULL; // read-only driver
	if (maxaddr == 0 || maxaddr == HADDR_UNDEF) maxaddr = (haddr_t)INT64_MAX;
	int fd = open(name, O_RDONLY);
	if (fd < 0) return NULL;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return NULL;
	}
	guard_t *g = calloc(1, sizeof *g);
	if (g == NULL) {
		close(fd);
		return NULL;
	}
	g->fd = fd;
	g->eof = (haddr_t)st.st_size;
	g->dev = st.st_dev;
	g->ino = st.st_ino;
	g->sizeof_size = 8;
	return &g->pub;
}

static herr_t guard_close(H5FD_t *f) {
	guard_t *g = (guard_t *)f;
	int err = close(g->fd);
	free(g);
	return err < 0 ? -1 : 0;
}

static int guard_cmp(const H5FD_t *a, const H5FD_t *b) {
	const guard_t *x = (const guard_t *)a, *y = (const guard_t *)b;
	if (x->dev != y->dev) return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino) return x->ino < y->ino ? -1 : 1;
	return 0;
}

static herr_t guard_query(const H5FD_t *f, unsigned long *flags) {
	(void)f;
	// As sec2 (read side): metadata aggregation and accumulation, data
	// sieving, small-data aggregation, a POSIX handle.
	*flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA | H5FD_FEAT_DATA_SIEVE |
	         H5FD_FEAT_AGGREGATE_SMALLDATA | H5FD_FEAT_POSIX_COMPAT_HANDLE;
	return 0;
}

static haddr_t guard_get_eoa(const H5FD_t *f, H5FD_mem_t type) {
	(void)type;
	return ((const guard_t *)f)->eoa;
}

static herr_t guard_set_eoa(H5FD_t *f, H5FD_mem_t type, haddr_t addr) {
	(void)type;
	((guard_t *)f)->eoa = addr;
	return 0;
}

static haddr_t guard_get_eof(const H5FD_t *f, H5FD_mem_t type) {
	(void)type;
	return ((const guard_t *)f)->eof;
}

static herr_t guard_get_handle(H5FD_t *f, hid_t fapl, void **handle) {
	(void)fapl;
	*handle = &((guard_t *)f)->fd;
	return 0;
}

static uint64_t le(const unsigned char *p, unsigned n) {
	uint64_t v = 0;
	for (unsigned i = n; i > 0; i--) v = v << 8 | p[i - 1];
	return v;
}

static void refuse(const char *what, haddr_t addr, const char *why) {
	snprintf(refusal, sizeof refusal, "the %s at byte %llu %s", what, (unsigned long long)addr, why);
}

// superblock notes the size of lengths, which global heap objects use.
static void superblock(guard_t *g, const unsigned char *b, size_t n) {
	if (n < 16 || memcmp(b, "\211HDF\r\n\032\n", 8) != 0) return;
	unsigned v = b[8], s = 0;
	if (v <= 1) s = b[14];
	else if (v <= 3) s = b[10];
	if (s == 2 || s == 4 || s == 8) g->sizeof_size = s;
}

#define ALIGN8(x) (((x) + 7) & ~(uint64_t)7)

// gheap checks a global heap collection image of n bytes read at addr, when
// it holds the whole collection. It returns 0 to refuse it.
static int gheap(guard_t *g, haddr_t addr, const unsigned char *b, size_t n) {
	unsigned L = g->sizeof_size;
	size_t hdr = ALIGN8(8 + L), objhdr = ALIGN8(8 + L);
	if (n < hdr || memcmp(b, "GCOL", 4) != 0 || b[4] != 1) return 1;
	uint64_t size = le(b + 8, L);
	if (size > n) return 1; // a first, partial read: HDF5 reads the whole collection next
	if (size < hdr) {
		refuse("global heap collection", addr, "is smaller than its header");
		return 0;
	}
	uint64_t p = hdr;
	while (p < size) {
		if (p + objhdr > size) return 1; // free space too small for an object header
		unsigned idx = (unsigned)le(b + p, 2);
		uint64_t osize = le(b + p + 8, L), need;
		if (idx > 0) {
			if (osize > size) {
				refuse("global heap collection", addr, "holds an object larger than itself");
				return 0;
			}
			need = objhdr + ALIGN8(osize);
		} else {
			need = osize; // the free space: its size includes its header
		}
		if (need == 0) {
			refuse("global heap collection", addr, "holds an object of size 0, on which HDF5 would loop forever");
			return 0;
		}
		if (need > size - p) {
			refuse("global heap collection", addr, "holds an object that runs past its end");
			return 0;
		}
		p += need;
	}
	return 1;
}

static herr_t guard_read(H5FD_t *f, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t size, void *buf) {
	(void)dxpl;
	guard_t *g = (guard_t *)f;
	if (addr == HADDR_UNDEF || addr > g->eoa || size > g->eoa - addr) return -1;
	unsigned char *p = buf;
	size_t left = size;
	haddr_t at = addr;
	while (left > 0 && at < g->eof) {
		size_t want = left;
		if (want > (size_t)1 << 30) want = (size_t)1 << 30;
		ssize_t got = pread(g->fd, p, want, (off_t)at);
		if (got < 0) {
			if (errno == EINTR) continue;
			return -1;
		}
		if (got == 0) break;
		p += got;
		at += (haddr_t)got;
		left -= (size_t)got;
	}
	memset(p, 0, left); // past the end of the file: zeros, as sec2 gives
	switch (type) {
	case H5FD_MEM_SUPER:
		superblock(g, buf, size);
		break;
	case H5FD_MEM_DRAW: // HDF5 1.10 reads global heaps as raw data
	case H5FD_MEM_GHEAP:
		if (!gheap(g, addr, buf, size)) return -1;
		break;
	default:
		break;
	}
	return 0;
}

static herr_t guard_write(H5FD_t *f, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t size, const void *buf) {
	(void)f, (void)type, (void)dxpl, (void)addr, (void)size, (void)buf;
	return -1;
}

static herr_t guard_truncate(H5FD_t *f, hid_t dxpl, hbool_t closing) {
	(void)f, (void)dxpl, (void)closing;
	return 0; // read-only: nothing to do
}

static const H5FD_class_t guard_class = {
	.name = "subsetd-guard",
	.maxaddr = (haddr_t)INT64_MAX,
	.fc_degree = H5F_CLOSE_WEAK,
	.open = guard_open,
	.close = guard_close,
	.cmp = guard_cmp,
	.query = guard_query,
	.get_eoa = guard_get_eoa,
	.set_eoa = guard_set_eoa,
	.get_eof = guard_get_eof,
	.get_handle = guard_get_handle,
	.read = guard_read,
	.write = guard_write,
	.truncate = guard_truncate,
	.fl_map = H5FD_FLMAP_DICHOTOMY,
};

static hid_t guard_fapl = -1;
static pthread_once_t guard_once = PTHREAD_ONCE_INIT;

static void guard_init(void) {
	guard_id = H5FDregister(&guard_class);
	if (guard_id < 0) return;
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
	if (fapl < 0) return;
	if (H5Pset_driver(fapl, guard_id, NULL) < 0 || H5Pset_fclose_degree(fapl, H5F_CLOSE_WEAK) < 0) {
		H5Pclose(fapl);
		return;
	}
	guard_fapl = fapl;
}

// sd_guard_fapl returns the file access property list that selects the
// guard driver, made once and never closed (an API call after H5Fopen, such
// as closing a list, would clear the error stack of a failed open), or -1.
hid_t sd_guard_fapl(void) {
	pthread_once(&guard_once, guard_init);
	return guard_fapl;
}

// sd_guard_refused reports whether the guard refused a structure since the
// last sd_guard_refusal on this thread.
int sd_guard_refused(void) { return refusal[0] != '\0'; }

// sd_guard_refusal copies into out (n bytes) the last structure the guard
// driver refused on this thread, and forgets it; "" when none.
void sd_guard_refusal(char *out, size_t n) {
	snprintf(out, n, "%s", refusal);
	refusal[0] = '\0';
}

// The vetting pass of sd_vet: every variable-length value that netCDF-C
// reads when it opens and describes a file, read once through the guard
// driver. Values are read and freed; nothing is kept.
//
// A variable-length attribute or fill value that HDF5 fails to read is
// refused too: netCDF-C 4.9 leaves the half-filled buffer of a failed read
// in its attribute list and frees its garbage pointers when the file is
// closed (free(): invalid pointer, SIGABRT in nc_reclaim_data under
// nc_close), and the read fails the same way for it.
typedef struct {
	haddr_t size;     // the file's size, to bound counts
	hsize_t maxstr;   // vlen datasets up to this many values are read whole
	const char *path; // the object being vetted, for messages
	int refused;      // a structure was refused: stop
} vet_t;

// unreadable refuses a value HDF5 failed to read, in the reader's words:
// "/ocean: attribute "comment": bad global heap collection signature".
static void unreadable(vet_t *v, const char *what) {
	char why[512];
	sd_last_error(why, sizeof why);
	if (why[0] == '\0') snprintf(why, sizeof why, "read failed");
	if (v->path[0] == '\0') snprintf(refusal, sizeof refusal, "root group: %s: %s", what, why);
	else snprintf(refusal, sizeof refusal, "/%s: %s: %s", v->path, what, why);
}

static herr_t read_attr(hid_t a, hid_t t, void *buf) { return H5Aread(a, t, buf); }
static herr_t read_dset(hid_t d, hid_t t, void *buf) { return H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf); }

// vet_values reads the n values of obj (read: an attribute or a dataset)
// of memory type t into a temporary buffer and frees what HDF5 allocated.
// It returns the read's status.
static herr_t vet_values(vet_t *v, hid_t t, hid_t space, hssize_t n, herr_t (*read)(hid_t, hid_t, void *), hid_t obj) {
	size_t sz = H5Tget_size(t);
	if (n <= 0 || sz == 0 || (haddr_t)n > v->size / 16) return 0; // more values than a file of this size holds
	void *buf = calloc((size_t)n, sz);
	if (buf == NULL) return 0;
	herr_t err = read(obj, t, buf);
	if (err >= 0) H5Dvlen_reclaim(t, space, H5P_DEFAULT, buf);
	free(buf);
	return err;
}

static int has_vlen(hid_t t) { return H5Tdetect_class(t, H5T_VLEN) > 0 || H5Tis_variable_str(t) > 0; }

static herr_t vet_attr(hid_t loc, const char *name, const H5A_info_t *ai, void *op) {
	(void)ai;
	vet_t *v = op;
	hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
	if (a < 0) {
		H5Eclear2(H5E_DEFAULT);
		return sd_guard_refused() ? (v->refused = 1, -1) : 0;
	}
	hid_t t = H5Aget_type(a), s = H5Aget_space(a);
	if (t >= 0 && s >= 0 && has_vlen(t) &&
	    vet_values(v, t, s, H5Sget_simple_extent_npoints(s), read_attr, a) < 0 && !sd_guard_refused()) {
		char what[300];
		snprintf(what, sizeof what, "attribute \"%s\"", name);
		unreadable(v, what);
	}
	if (sd_guard_refused()) v->refused = 1;
	if (s >= 0) H5Sclose(s);
	if (t >= 0) H5Tclose(t);
	H5Aclose(a);
	return v->refused ? -1 : 0;
}

static void vet_dataset(vet_t *v, hid_t d) {
	hid_t t = H5Dget_type(d), s = H5Dget_space(d), pl = H5Dget_create_plist(d);
	if (t >= 0 && s >= 0 && pl >= 0 && has_vlen(t)) {
		// The fill value: netCDF-C reads it for every variable.
		H5D_fill_value_t st;
		if (H5Pfill_value_defined(pl, &st) >= 0 && st == H5D_FILL_VALUE_USER_DEFINED) {
			hid_t scalar = H5Screate(H5S_SCALAR);
			size_t sz = H5Tget_size(t);
			void *buf = sz > 0 ? calloc(1, sz) : NULL;
			if (buf != NULL && scalar >= 0) {
				if (H5Pget_fill_value(pl, t, buf) >= 0) H5Dvlen_reclaim(t, scalar, H5P_DEFAULT, buf);
				else if (!sd_guard_refused()) unreadable(v, "fill value");
			}
			free(buf);
			if (scalar >= 0) H5Sclose(scalar);
		}
		// The values of small ones (names, flags): what a cut reads. A
		// failed read is netCDF-C's to report.
		hssize_t n = H5Sget_simple_extent_npoints(s);
		if (!sd_guard_refused() && n > 0 && (hsize_t)n <= v->maxstr) vet_values(v, t, s, n, read_dset, d);
	}
	if (sd_guard_refused()) v->refused = 1;
	if (pl >= 0) H5Pclose(pl);
	if (s >= 0) H5Sclose(s);
	if (t >= 0) H5Tclose(t);
}

static herr_t vet_object(hid_t root, const char *name, const H5O_info_t *oi, void *op) {
	vet_t *v = op;
	v->path = strcmp(name, ".") == 0 ? "" : name;
	if (oi->num_attrs > 0 && (haddr_t)oi->num_attrs <= v->size / 8)
		H5Aiterate_by_name(root, name, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, vet_attr, op, H5P_DEFAULT);
	if (!v->refused && oi->type == H5O_TYPE_DATASET) {
		hid_t d = H5Dopen2(root, name, H5P_DEFAULT);
		if (d >= 0) {
			vet_dataset(v, d);
			H5Dclose(d);
		}
	}
	H5Eclear2(H5E_DEFAULT);
	if (sd_guard_refused()) v->refused = 1;
	return v->refused ? 1 : 0; // 1 stops the visit
}

// sd_vet opens path through the guard driver and reads every
// variable-length value netCDF-C would (attributes, fill values, datasets
// of up to maxstr values). It returns 1 when a structure is refused
// (sd_guard_refusal says which), 0 otherwise: other failures are for the
// readers to report.
int sd_vet(const char *path, haddr_t size, hsize_t maxstr) {
	hid_t fapl = sd_guard_fapl();
	if (fapl < 0) return 0;
	hid_t fid = H5Fopen(path, H5F_ACC_RDONLY, fapl);
	if (fid < 0) {
		H5Eclear2(H5E_DEFAULT);
		return sd_guard_refused();
	}
	vet_t v = {.size = size, .maxstr = maxstr, .path = ""};
	H5Ovisit2(fid, H5_INDEX_NAME, H5_ITER_NATIVE, vet_object, &v, H5O_INFO_BASIC | H5O_INFO_NUM_ATTRS);
	H5Eclear2(H5E_DEFAULT);
	H5Fclose(fid);
	return sd_guard_refused();
}
