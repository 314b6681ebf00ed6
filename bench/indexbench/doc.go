// Command indexbench supports bench/index.sh: it generates many small
// NetCDF granules fast, measures search latency on an index, and fills an
// index with synthetic rows.
//
//	indexbench gen   -out DIR -n 10000       # granules under DIR/granules/YYYY/
//	indexbench query -state DIR -n 2000      # p50/p99 of bbox+time searches
//	indexbench fill  -state DIR -total 100000 # synthetic rows up to a total
//
// gen writes one classic-format (CDF-1) template with ncgen, then copies it
// with each file's latitudes, longitudes, time and values patched in place:
// a classic file stores its arrays as plain big-endian numbers, so a copy
// costs no NetCDF library call.
package main
