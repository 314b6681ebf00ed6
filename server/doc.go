// Package server wires subsetd serve together: configuration (flags and a
// JSON file), the state directory and its lock, the SQLite database with
// River's and the store's migrations, the pools of worker processes, the
// HTTP server, logging, and the two-phase shutdown.
//
// It must not import the readers: worker processes do the C work, and the
// command they run is part of the configuration.
package server
