// Package jobs is the job and task model of the server: what a job and its
// tasks are, the state machine that moves them (state.go, the only place a
// status changes), their durable store (SQL tables beside River's, numbered
// migrations), the planner that groups a job's regions into tasks, and the
// manifest of a job's files.
//
// It must not import "C" nor the readers: everything here runs in the server
// process and is tested with fakes. Sub-packages: pool (worker processes)
// and queue (River wiring and the service the API calls). The protocol
// spoken with worker processes is package worker's.
package jobs
