// Package oracle holds the tests that run the subsetting engine on real
// files through the C readers and compare every cut, value for value, with
// what NCO's ncks produces for the same index box. It has no code of its own.
package oracle
