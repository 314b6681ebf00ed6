// edge.c writes a small plain-HDF5 file with the cases netCDF tools cannot
// make: datasets without dimension scales, hand-made DIMENSION_LIST
// attributes (good, pointing to a non-scale, dangling, of the wrong length),
// soft, external and duplicate hard links, a link cycle, committed and
// unsupported datatypes, big-endian data, fixed-length strings with every
// padding, null dataspaces. Tests only; see fixture.go for the layout.

#include <string.h>
#include <hdf5.h>
#include "edge.h"

#define CK(x) do { if ((x) < 0) goto fail; } while (0)

static hid_t simple(int rank, const hsize_t *dims) { return H5Screate_simple(rank, dims, NULL); }

// dset writes a dataset with the given file and memory types and shape.
static int dset(hid_t loc, const char *name, hid_t ftype, hid_t mtype, int rank, const hsize_t *dims, const void *data) {
	int ret = -1;
	hid_t s = rank == 0 ? H5Screate(H5S_SCALAR) : simple(rank, dims);
	hid_t d = -1;
	CK(s);
	d = H5Dcreate2(loc, name, ftype, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	CK(d);
	if (data != NULL) CK(H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data));
	ret = 0;
fail:
	if (d >= 0) H5Dclose(d);
	if (s >= 0) H5Sclose(s);
	return ret;
}

// str_attr writes a scalar fixed-length string attribute.
static int str_attr(hid_t loc, const char *name, const char *value) {
	int ret = -1;
	hid_t t = H5Tcopy(H5T_C_S1), s = H5Screate(H5S_SCALAR), a = -1;
	CK(t); CK(s);
	CK(H5Tset_size(t, strlen(value) + 1));
	CK(H5Tset_strpad(t, H5T_STR_NULLTERM));
	a = H5Acreate2(loc, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
	CK(a);
	CK(H5Awrite(a, t, value));
	ret = 0;
fail:
	if (a >= 0) H5Aclose(a);
	if (s >= 0) H5Sclose(s);
	if (t >= 0) H5Tclose(t);
	return ret;
}

// make_scale marks a dataset as a dimension scale named name, as H5DSset_scale does.
static int make_scale(hid_t file, const char *path, const char *name) {
	int ret = -1;
	hid_t d = H5Dopen2(file, path, H5P_DEFAULT);
	CK(d);
	CK(str_attr(d, "CLASS", "DIMENSION_SCALE"));
	if (name != NULL) CK(str_attr(d, "NAME", name));
	ret = 0;
fail:
	if (d >= 0) H5Dclose(d);
	return ret;
}

// dimlist writes a DIMENSION_LIST attribute on dataset path: entry i refers
// to scales[i], or is empty when scales[i] is NULL.
static int dimlist(hid_t file, const char *path, int rank, const char **scales) {
	int ret = -1;
	hobj_ref_t refs[8];
	hvl_t vl[8];
	hid_t d = -1, t = -1, s = -1, a = -1;
	hsize_t n = (hsize_t)rank;
	for (int i = 0; i < rank; i++) {
		vl[i].len = 0;
		vl[i].p = NULL;
		if (scales[i] != NULL) {
			CK(H5Rcreate(&refs[i], file, scales[i], H5R_OBJECT, -1));
			vl[i].len = 1;
			vl[i].p = &refs[i];
		}
	}
	d = H5Dopen2(file, path, H5P_DEFAULT);
	CK(d);
	t = H5Tvlen_create(H5T_STD_REF_OBJ);
	CK(t);
	s = simple(1, &n);
	CK(s);
	a = H5Acreate2(d, "DIMENSION_LIST", t, s, H5P_DEFAULT, H5P_DEFAULT);
	CK(a);
	CK(H5Awrite(a, t, vl));
	ret = 0;
fail:
	if (a >= 0) H5Aclose(a);
	if (s >= 0) H5Sclose(s);
	if (t >= 0) H5Tclose(t);
	if (d >= 0) H5Dclose(d);
	return ret;
}

static int fixed_strings(hid_t loc, const char *name, size_t size, H5T_str_t pad, const char *data, hsize_t n) {
	int ret = -1;
	hid_t t = H5Tcopy(H5T_C_S1);
	CK(t);
	CK(H5Tset_size(t, size));
	CK(H5Tset_strpad(t, pad));
	CK(dset(loc, name, t, t, 1, &n, data));
	ret = 0;
fail:
	if (t >= 0) H5Tclose(t);
	return ret;
}

int sd_write_edge(const char *path) {
	int ret = -1;
	hid_t f = -1, g = -1, t = -1, s = -1, a = -1, dcpl = -1;
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	CK(f);

	// Root attributes.
	{
		const char *v = "hello";
		t = H5Tcopy(H5T_C_S1);
		CK(t);
		CK(H5Tset_size(t, H5T_VARIABLE));
		s = H5Screate(H5S_SCALAR);
		a = H5Acreate2(f, "vstr1", t, s, H5P_DEFAULT, H5P_DEFAULT);
		CK(a);
		CK(H5Awrite(a, t, &v));
		H5Aclose(a); a = -1;
		H5Sclose(s); s = -1;
		const char *vv[3] = {"x", "", "zz"};
		hsize_t n3 = 3;
		s = simple(1, &n3);
		a = H5Acreate2(f, "vstr3", t, s, H5P_DEFAULT, H5P_DEFAULT);
		CK(a);
		CK(H5Awrite(a, t, vv));
		H5Aclose(a); a = -1;
		H5Sclose(s); s = -1;
		H5Tclose(t); t = -1;

		hsize_t n2 = 2;
		t = H5Tcopy(H5T_C_S1);
		CK(H5Tset_size(t, 4));
		CK(H5Tset_strpad(t, H5T_STR_NULLPAD));
		s = simple(1, &n2);
		a = H5Acreate2(f, "fstr2", t, s, H5P_DEFAULT, H5P_DEFAULT);
		CK(a);
		CK(H5Awrite(a, t, "ab\0\0cdef"));
		H5Aclose(a); a = -1;
		H5Sclose(s); s = -1;
		CK(H5Tset_strpad(t, H5T_STR_SPACEPAD));
		CK(H5Tset_size(t, 5));
		s = H5Screate(H5S_SCALAR);
		a = H5Acreate2(f, "spacepad", t, s, H5P_DEFAULT, H5P_DEFAULT);
		CK(a);
		CK(H5Awrite(a, t, "xy   "));
		H5Aclose(a); a = -1;
		H5Sclose(s); s = -1;
		H5Tclose(t); t = -1;

		s = H5Screate(H5S_NULL);
		a = H5Acreate2(f, "nullattr", H5T_STD_I32LE, s, H5P_DEFAULT, H5P_DEFAULT);
		CK(a);
		H5Aclose(a); a = -1;
		H5Sclose(s); s = -1;

		int be[2] = {1, -2};
		s = simple(1, &n2);
		a = H5Acreate2(f, "be_attr", H5T_STD_I32BE, s, H5P_DEFAULT, H5P_DEFAULT);
		CK(a);
		CK(H5Awrite(a, H5T_NATIVE_INT, be));
		H5Aclose(a); a = -1;

		t = H5Tcreate(H5T_COMPOUND, 8);
		CK(H5Tinsert(t, "a", 0, H5T_NATIVE_INT));
		CK(H5Tinsert(t, "b", 4, H5T_NATIVE_FLOAT));
		a = H5Acreate2(f, "cmpd_attr", t, s, H5P_DEFAULT, H5P_DEFAULT);
		CK(a);
		char zero[16] = {0};
		CK(H5Awrite(a, t, zero));
		H5Aclose(a); a = -1;
		H5Sclose(s); s = -1;
		// The compound type, committed: a named datatype to skip.
		CK(H5Tcommit2(f, "named_type", t, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
		CK(dset(f, "cmpd", t, t, 1, &n2, zero));
		H5Tclose(t); t = -1;
	}

	// Datasets without scales: phony dimensions.
	{
		double ns[12];
		for (int i = 0; i < 12; i++) ns[i] = i + 0.5;
		hsize_t d34[2] = {3, 4}, d43[2] = {4, 3}, d33[2] = {3, 3};
		CK(dset(f, "noscale", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, d34, ns));
		short ns2[12];
		for (int i = 0; i < 12; i++) ns2[i] = (short)-i;
		CK(dset(f, "noscale2", H5T_STD_I16LE, H5T_NATIVE_SHORT, 2, d43, ns2));
		signed char sq[9];
		for (int i = 0; i < 9; i++) sq[i] = (signed char)i;
		CK(dset(f, "square", H5T_STD_I8LE, H5T_NATIVE_SCHAR, 2, d33, sq));
	}

	// A scale with a NAME of its own, and its users.
	{
		hsize_t n3 = 3, n2 = 2;
		float sa[3] = {0.5f, 1.5f, 2.5f};
		CK(dset(f, "scale_a", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, &n3, sa));
		CK(make_scale(f, "/scale_a", "alpha"));
		unsigned ua[3] = {7, 8, 9};
		CK(dset(f, "uses_a", H5T_STD_U32LE, H5T_NATIVE_UINT, 1, &n3, ua));
		const char *sc_a[1] = {"/scale_a"};
		CK(dimlist(f, "/uses_a", 1, sc_a));
		// Refers to a dataset that is not a scale.
		CK(dset(f, "notscale_ref", H5T_STD_I32LE, H5T_NATIVE_UINT, 1, &n3, ua));
		const char *sc_ns[1] = {"/square"};
		CK(dimlist(f, "/notscale_ref", 1, sc_ns));
		// Refers to a scale of another length.
		CK(dset(f, "short_ref", H5T_STD_I32LE, H5T_NATIVE_UINT, 1, &n2, ua));
		CK(dimlist(f, "/short_ref", 1, sc_a));
		// First dimension has a scale, the second none.
		hsize_t d32[2] = {3, 2};
		int half[6] = {1, 2, 3, 4, 5, 6};
		CK(dset(f, "half_scaled", H5T_STD_I32LE, H5T_NATIVE_INT, 2, d32, half));
		const char *sc_h[2] = {"/scale_a", NULL};
		CK(dimlist(f, "/half_scaled", 2, sc_h));
	}

	// An unlimited scale and an empty unlimited dataset, chunked.
	{
		hsize_t n4 = 4, unl = H5S_UNLIMITED, ch = 2, n0 = 0;
		s = H5Screate_simple(1, &n4, &unl);
		dcpl = H5Pcreate(H5P_DATASET_CREATE);
		CK(H5Pset_chunk(dcpl, 1, &ch));
		hid_t d = H5Dcreate2(f, "time", H5T_IEEE_F64BE, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
		CK(d);
		double tv[4] = {0, 60, 120, 180};
		herr_t e = H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, tv);
		H5Dclose(d);
		CK(e);
		CK(make_scale(f, "/time", "time"));
		d = H5Dcreate2(f, "data_t", H5T_IEEE_F32LE, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
		CK(d);
		float dv[4] = {1, 2, 3, 4};
		e = H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, dv);
		H5Dclose(d);
		CK(e);
		const char *sc_t[1] = {"/time"};
		CK(dimlist(f, "/data_t", 1, sc_t));
		H5Sclose(s); s = -1;

		// Datasets shorter than the unlimited scale they are attached to,
		// with fill values: Read fills past their extent.
		hsize_t n2 = 2, d23[2] = {2, 3}, unl2[2] = {H5S_UNLIMITED, 3}, ch2[2] = {2, 3};
		float ffill = -1.5f;
		CK(H5Pset_fill_value(dcpl, H5T_NATIVE_FLOAT, &ffill));
		s = H5Screate_simple(1, &n2, &unl);
		d = H5Dcreate2(f, "short_t", H5T_IEEE_F32BE, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
		CK(d);
		float sv[2] = {10, 20};
		e = H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, sv);
		H5Dclose(d);
		CK(e);
		CK(dimlist(f, "/short_t", 1, sc_t));
		H5Sclose(s); s = -1;
		hid_t dcpl2 = H5Pcreate(H5P_DATASET_CREATE);
		CK(dcpl2);
		short sfill = -7;
		if (H5Pset_chunk(dcpl2, 2, ch2) < 0 || H5Pset_fill_value(dcpl2, H5T_NATIVE_SHORT, &sfill) < 0) {
			H5Pclose(dcpl2);
			goto fail;
		}
		s = H5Screate_simple(2, d23, unl2);
		d = H5Dcreate2(f, "grid_t", H5T_STD_I16LE, s, H5P_DEFAULT, dcpl2, H5P_DEFAULT);
		H5Pclose(dcpl2);
		CK(d);
		short gv[6] = {1, 2, 3, 4, 5, 6};
		e = H5Dwrite(d, H5T_NATIVE_SHORT, H5S_ALL, H5S_ALL, H5P_DEFAULT, gv);
		H5Dclose(d);
		CK(e);
		const char *sc_t2[2] = {"/time", NULL};
		CK(dimlist(f, "/grid_t", 2, sc_t2));
		H5Sclose(s); s = -1;
		hsize_t n1 = 1;
		hid_t vt = H5Tcopy(H5T_C_S1);
		CK(vt);
		H5Tset_size(vt, H5T_VARIABLE);
		s = H5Screate_simple(1, &n1, &unl);
		hid_t dcpl3 = H5Pcreate(H5P_DATASET_CREATE);
		H5Pset_chunk(dcpl3, 1, &ch);
		d = H5Dcreate2(f, "names_t", vt, s, H5P_DEFAULT, dcpl3, H5P_DEFAULT);
		H5Pclose(dcpl3);
		if (d >= 0) {
			const char *nv[1] = {"first"};
			e = H5Dwrite(d, vt, H5S_ALL, H5S_ALL, H5P_DEFAULT, nv);
			H5Dclose(d);
		}
		H5Tclose(vt);
		CK(d);
		CK(e);
		CK(dimlist(f, "/names_t", 1, sc_t));
		H5Sclose(s); s = -1;

		s = H5Screate_simple(1, &n0, &unl);
		d = H5Dcreate2(f, "empty_unlim", H5T_STD_I32LE, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
		CK(d);
		H5Dclose(d);
		H5Sclose(s); s = -1;
		H5Pclose(dcpl); dcpl = -1;
	}

	// Big-endian data, strings, a scalar string, unsupported datasets.
	{
		hsize_t n3 = 3, n2 = 2, d22[2] = {2, 2};
		double bd[3] = {1.5, -2.25, 1e300};
		CK(dset(f, "be_f64", H5T_IEEE_F64BE, H5T_NATIVE_DOUBLE, 1, &n3, bd));
		unsigned short bu[3] = {1, 258, 65535};
		CK(dset(f, "be_u16", H5T_STD_U16BE, H5T_NATIVE_USHORT, 1, &n3, bu));
		long long bl[3] = {-1, 72623859790382856LL, -9223372036854775807LL};
		CK(dset(f, "be_i64", H5T_STD_I64BE, H5T_NATIVE_LLONG, 1, &n3, bl));
		CK(fixed_strings(f, "str_nullpad", 5, H5T_STR_NULLPAD, "one\0\0three", n2));
		CK(fixed_strings(f, "str_spacepad", 5, H5T_STR_SPACEPAD, "one  three", n2));
		CK(fixed_strings(f, "str_nullterm", 6, H5T_STR_NULLTERM, "one\0xxthree", n2));
		CK(fixed_strings(f, "char1", 1, H5T_STR_NULLTERM, "ab", n2));
		t = H5Tcopy(H5T_C_S1);
		CK(H5Tset_size(t, H5T_VARIABLE));
		CK(H5Tset_cset(t, H5T_CSET_UTF8));
		const char *vs[4] = {"a", "été", "", "dddd"};
		CK(dset(f, "vstr2d", t, t, 2, d22, vs));
		const char *one = "scalar string";
		CK(dset(f, "scalar_str", t, t, 0, NULL, &one));
		H5Tclose(t); t = -1;

		// A 2-byte float: an HDF5 float size ncmodel has no type for.
		t = H5Tcopy(H5T_IEEE_F32LE);
		CK(H5Tset_fields(t, 15, 10, 5, 0, 10));
		CK(H5Tset_ebias(t, 15));
		CK(H5Tset_size(t, 2));
		CK(dset(f, "half_float", t, t, 1, &n2, NULL));
		H5Tclose(t); t = -1;
		CK(dset(f, "enum_like_bitfield", H5T_STD_B8LE, H5T_NATIVE_B8, 1, &n2, NULL));
		t = H5Tvlen_create(H5T_NATIVE_INT);
		CK(dset(f, "vlen_int", t, t, 1, &n2, NULL));
		H5Tclose(t); t = -1;
		hsize_t adim = 2;
		t = H5Tarray_create2(H5T_NATIVE_INT, 1, &adim);
		CK(dset(f, "array_t", t, t, 1, &n2, NULL));
		H5Tclose(t); t = -1;
		CK(dset(f, "refs", H5T_STD_REF_OBJ, H5T_STD_REF_OBJ, 1, &n2, NULL));
		s = H5Screate(H5S_NULL);
		hid_t d = H5Dcreate2(f, "nullds", H5T_STD_I32LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
		CK(d);
		H5Dclose(d);
		H5Sclose(s); s = -1;
	}

	// A group: a dataset without scale, one using a root scale, a cycle.
	{
		hsize_t n2 = 2, n3 = 3;
		g = H5Gcreate2(f, "grp", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
		CK(g);
		CK(str_attr(g, "kind", "group attr"));
		int in[2] = {11, 12};
		CK(dset(g, "inner", H5T_STD_I32LE, H5T_NATIVE_INT, 1, &n2, in));
		int cr[3] = {21, 22, 23};
		CK(dset(g, "cross", H5T_STD_I32LE, H5T_NATIVE_INT, 1, &n3, cr));
		const char *sc_a[1] = {"/scale_a"};
		CK(dimlist(f, "/grp/cross", 1, sc_a));
		CK(H5Lcreate_hard(f, "/", g, "loop", H5P_DEFAULT, H5P_DEFAULT));
		H5Gclose(g); g = -1;
	}

	// Links: soft, dangling soft, external, a second hard link.
	CK(H5Lcreate_soft("/noscale", f, "soft", H5P_DEFAULT, H5P_DEFAULT));
	CK(H5Lcreate_soft("/nowhere", f, "dangling", H5P_DEFAULT, H5P_DEFAULT));
	CK(H5Lcreate_external("elsewhere.h5", "/x", f, "ext", H5P_DEFAULT, H5P_DEFAULT));
	CK(H5Lcreate_hard(f, "/grp/inner", f, "zz_dup", H5P_DEFAULT, H5P_DEFAULT));

	// Last: a reference to a dataset that is then deleted.
	{
		hsize_t n2 = 2;
		int v[2] = {5, 6};
		CK(dset(f, "gone", H5T_STD_I32LE, H5T_NATIVE_INT, 1, &n2, v));
		CK(make_scale(f, "/gone", "gone"));
		CK(dset(f, "dangling_ref", H5T_STD_I32LE, H5T_NATIVE_INT, 1, &n2, v));
		const char *sc_g[1] = {"/gone"};
		CK(dimlist(f, "/dangling_ref", 1, sc_g));
		CK(H5Ldelete(f, "/gone", H5P_DEFAULT));
	}
	ret = 0;
fail:
	if (dcpl >= 0) H5Pclose(dcpl);
	if (a >= 0) H5Aclose(a);
	if (s >= 0) H5Sclose(s);
	if (t >= 0) H5Tclose(t);
	if (g >= 0) H5Gclose(g);
	if (f >= 0 && H5Fclose(f) < 0) ret = -1;
	return ret;
}
