// Package queue runs jobs: it enqueues a job's tasks in River (the durable
// queue) in the transaction that stores the job, works them by handing each
// to a worker process of the pool, moves the files into place and records
// the outcome through the state machine of package jobs. Service is what
// the HTTP API calls: submit, get, list, cancel, files, datasets.
//
// The database is behind River's driver: SQLite (riversqlite) by default;
// PostgreSQL through riverdatabasesql shares the same *sql.Tx code.
package queue
