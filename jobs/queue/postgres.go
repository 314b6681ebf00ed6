package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/catalog"
	"github.com/subsetd/subsetd/jobs"
	"github.com/subsetd/subsetd/jobs/pool"
)

// NewPostgres builds the service of one node among several on a PostgreSQL
// database (nodes.go). River works the queue with its pgx driver on its
// own pool (LISTEN/NOTIFY tells every node of new tasks; River elects the
// leader that enqueues periodic work and rescues stuck jobs); tasks are
// enqueued in the transaction that inserts their job, through River's
// database/sql driver on the store's database. The store must be a
// PostgreSQL store (jobs.NewPostgresStore), migrated, and River's tables
// migrated (MigratePostgres).
func NewPostgres(riverPool *pgxpool.Pool, store *jobs.Store, cat *catalog.Catalog, p *pool.Pool, cfg Config, log zerolog.Logger, m *Metrics) (*Service, error) {
	if !store.Postgres() {
		return nil, fmt.Errorf("river on PostgreSQL needs a PostgreSQL job store")
	}
	s := newService(store, cat, p, cfg, log, m)
	s.node = newNode(s.cfg.RescueAfter)
	store.Node = s.node.id
	rc, err := s.riverConfig()
	if err != nil {
		return nil, err
	}
	// New tasks are announced (LISTEN/NOTIFY); polling only catches what
	// was not, such as tasks of a stopped node made available again.
	rc.FetchPollInterval = 500 * time.Millisecond
	rc.ID = s.node.id
	if s.cfg.IndexInterval > 0 {
		rc.PeriodicJobs = append(rc.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(s.cfg.IndexInterval),
			func() (river.JobArgs, *river.InsertOpts) { return ScanArgs{}, nil },
			&river.PeriodicJobOpts{ID: "index_scan"}))
		river.AddWorker(rc.Workers, &scanWorker{s: s})
	}
	client, err := river.NewClient(riverpgxv5.New(riverPool), rc)
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	ins, err := river.NewClient(riverdatabasesql.New(store.DB()), &river.Config{MaxAttempts: s.cfg.MaxAttempts})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	s.river, s.inserter = client, ins
	return s, nil
}

// MigratePostgres brings River's tables to its newest migration, under a
// session advisory lock: the first of several nodes starting at once
// migrates, the others wait and find nothing to do.
func MigratePostgres(ctx context.Context, riverPool *pgxpool.Pool) error {
	conn, err := riverPool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext('subsetd_migrate:river'))`); err != nil {
		return fmt.Errorf("river migrations: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtext('subsetd_migrate:river'))`)
	mig, err := rivermigrate.New(riverpgxv5.New(riverPool), nil)
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	if _, err := mig.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	return nil
}

// ScanArgs is the periodic scan of the data directory when several nodes
// share the index: enqueued by River's leader, run by one node.
type ScanArgs struct{}

// Kind is River's job kind.
func (ScanArgs) Kind() string { return "subsetd_index_scan" }

// InsertOpts puts scans on the maintenance queue.
func (ScanArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: queueMaintenance, MaxAttempts: 1}
}

type scanWorker struct {
	river.WorkerDefaults[ScanArgs]
	s *Service
}

// Work asks this node's catalog for a scan of everything: it runs in the
// catalog's scanner, one at a time on this node, and updates the index all
// nodes read.
func (w *scanWorker) Work(context.Context, *river.Job[ScanArgs]) error {
	w.s.catalog.ScanAll()
	return nil
}
