// Package jobs is the job and task model of the server: what a job and its
// tasks are, the state machine that moves them (state.go, the only place a
// status changes), their durable store (SQL tables beside River's, their
// schema the numbered files of migrations/, applied at start-up by
// internal/sqlmigrate), the planner that groups a job's regions into tasks,
// and the protocol spoken with worker processes.
//
// It must not import "C" nor the readers: everything here runs in the server
// process and is tested with fakes. Sub-packages: pool (worker processes),
// queue (River wiring and the service the API calls).
package jobs
