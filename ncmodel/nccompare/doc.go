// Package nccompare tells how two NetCDF files differ: structure,
// attributes and raw values, as human-readable lines. Tests use it to hold
// a subset against NCO's ncks output of the same index box, and the
// conformance suite uses it to hold a reader against the in-memory fake.
//
// It reads only through ncmodel.Source, in slabs of bounded size, so it
// works on any reader and on files larger than memory. It must not import
// "C", unpack values or apply fill values: equal means the same raw bits,
// except that any NaN equals any NaN. Storage (chunking, deflate) is never
// compared, because the library chooses it for unlimited variables and
// netCDF-3 has none.
package nccompare
