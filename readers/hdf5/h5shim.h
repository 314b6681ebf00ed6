/* h5shim.h: the small C helpers of package hdf5 (see h5shim.c). */
#ifndef SUBSETD_H5SHIM_H
#define SUBSETD_H5SHIM_H

#include <stdlib.h>
#include <hdf5.h>

/* Link and object kinds reported by sd_link_info. */
enum {
	SD_LINK_OTHER = 0, /* soft, external, user-defined: skipped */
	SD_LINK_GROUP = 1,
	SD_LINK_DATASET = 2,
	SD_LINK_HARD_OTHER = 3, /* committed datatype or unknown object */
	SD_LINK_BAD = 4        /* a hard link to an address outside the file */
};

void sd_silence(void);
void sd_last_error(char *out, size_t n);

hid_t sd_open_rdonly(const char *path);
hid_t sd_guard_fapl(void);
void sd_guard_refusal(char *out, size_t n);
int sd_guard_refused(void);
int sd_vet(const char *path, haddr_t size, hsize_t maxstr);
hsize_t sd_unlimited(void);
haddr_t sd_haddr_undef(void);
hid_t sd_native(int nctype);
hid_t sd_c_s1(void);
hid_t sd_vlen_str(H5T_cset_t cset);

int sd_link_info(hid_t grp, hsize_t idx, haddr_t eof, int *kind, unsigned long *fileno, haddr_t *addr);
char *sd_link_name(hid_t grp, hsize_t idx);

int sd_attr_order(hid_t obj);
char *sd_attr_name(hid_t obj, int order, hsize_t idx);

int sd_dimlist(hid_t dset, int rank, haddr_t *refs);
int sd_filters(hid_t dcpl, int *deflate, int *shuffle);

#endif
