// Package index is the catalog of the files of the data directory: what
// each file holds (format, variables, dimensions), where (a lat/lon box, and
// for 2-D coordinates a footprint polygon) and when (decoded time coverage),
// kept in SQLite (modernc.org/sqlite, an R*Tree on the boxes) so that a job
// finds the files it needs without opening any. The schema is the numbered
// files of migrations/, applied when the index is opened (internal/sqlmigrate).
//
// A Scan walks the data directory with one walker, N inspector processes
// (`subsetd inspect --stdin`, the only place files are opened: the C
// libraries are not thread-safe and may crash on corrupt files) and one
// writer. Scans are incremental: files whose size and modification time did
// not change are not opened again, failures included.
//
// The package is pure Go: it must not import "C" nor the readers. The
// inspector's records (Record) and the footprint and extent computations
// (GeoOf) are here, beside the search that uses them; the inspector itself
// is worker.Inspect.
package index
