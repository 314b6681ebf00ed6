// Package e2e holds the end-to-end tests of subsetd serve: they build the
// real binary, start it on a free port with a data directory of NetCDF files
// made with ncgen, and talk to it over HTTP only (plus signals to the
// processes). Every response is checked against the OpenAPI document.
//
// They need cgo, netCDF-C and NCO's ncks/ncdump: run them with
//
//	go test ./e2e/
package e2e
