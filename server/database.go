package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/catalog"
	"github.com/subsetd/subsetd/catalog/index"
	"github.com/subsetd/subsetd/internal/pgsql"
	"github.com/subsetd/subsetd/jobs"
	"github.com/subsetd/subsetd/jobs/pool"
	"github.com/subsetd/subsetd/jobs/queue"
)

// databases are the job store's database and River's: the SQLite file of
// the state directory (one connection, River's SQLite driver), or a
// PostgreSQL database (--database postgres://...) with a pool for the store
// and one of River's own.
type databases struct {
	db        *sql.DB
	rdb       *sql.DB // SQLite only: read-only connections for the store's reads
	store     *jobs.Store
	riverPool *pgxpool.Pool // PostgreSQL only
}

// Postgres reports whether the databases are PostgreSQL's: several nodes
// may share them.
func (d *databases) Postgres() bool { return d.riverPool != nil }

func (d *databases) Close() {
	if d.riverPool != nil {
		d.riverPool.Close()
	}
	if d.rdb != nil {
		d.rdb.Close()
	}
	d.db.Close()
}

// openDatabases opens and migrates the store and River's tables. On
// PostgreSQL the first node to start migrates, under advisory locks.
func openDatabases(ctx context.Context, cfg Config, state string) (*databases, error) {
	if !pgsql.IsURL(cfg.Database) {
		db, err := openDB(ctx, filepath.Join(state, DBFile))
		if err != nil {
			return nil, err
		}
		mig, err := rivermigrate.New(riversqlite.New(db), nil)
		if err == nil {
			_, err = mig.Migrate(ctx, rivermigrate.DirectionUp, nil)
		}
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("river migrations: %w", err)
		}
		store := jobs.NewStore(db)
		if err := store.Migrate(ctx); err != nil {
			db.Close()
			return nil, err
		}
		rdb, err := openReadDB(ctx, filepath.Join(state, DBFile))
		if err != nil {
			db.Close()
			return nil, err
		}
		store.SetReadDB(rdb)
		return &databases{db: db, rdb: rdb, store: store}, nil
	}
	db, err := pgsql.Open(ctx, cfg.Database, cfg.DBPool)
	if err != nil {
		return nil, err
	}
	store := jobs.NewPostgresStore(db)
	if err := store.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	rp, err := pgsql.Pool(ctx, cfg.Database, cfg.RiverPool)
	if err != nil {
		db.Close()
		return nil, err
	}
	if err := queue.MigratePostgres(ctx, rp); err != nil {
		rp.Close()
		db.Close()
		return nil, err
	}
	return &databases{db: db, store: store, riverPool: rp}, nil
}

// newQueue builds the queue service on the databases.
func (d *databases) newQueue(cat *catalog.Catalog, tasks *pool.Pool, cfg queue.Config, log zerolog.Logger, m *queue.Metrics) (*queue.Service, error) {
	if d.Postgres() {
		return queue.NewPostgres(d.riverPool, d.store, cat, tasks, cfg, log, m)
	}
	return queue.New(riversqlite.New(d.db), d.store, cat, tasks, cfg, log, m)
}

// checkDatabase validates the database setting.
func checkDatabase(s string) error {
	if s == "" || pgsql.IsURL(s) {
		return nil
	}
	if strings.Contains(s, "://") {
		return fmt.Errorf("%q: only postgres:// (or postgresql://) URLs; leave it empty for SQLite in the state directory", pgsql.Redact(s))
	}
	return fmt.Errorf("not a postgres:// URL; leave it empty for SQLite in the state directory")
}

// OpenStoreURL is OpenStore on the database of a server's configuration:
// database empty for the SQLite file of state, or a postgres:// URL.
func OpenStoreURL(ctx context.Context, state, database string) (*jobs.Store, *sql.DB, error) {
	if database == "" {
		return OpenStore(ctx, state)
	}
	if err := checkDatabase(database); err != nil {
		return nil, nil, fmt.Errorf("database: %w", err)
	}
	db, err := pgsql.Open(ctx, database, 2)
	if err != nil {
		return nil, nil, err
	}
	store := jobs.NewPostgresStore(db)
	if err := store.Migrate(ctx); err != nil {
		db.Close()
		return nil, nil, err
	}
	return store, db, nil
}

// lockStartup waits for the start-up lock of a state directory that nodes
// share (<state>/subsetd.start.lock) and returns its release: nodes start
// one at a time until they are ready to serve.
func lockStartup(ctx context.Context, state string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(state, "subsetd.start.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock state directory: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock state directory: %w", err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// openIndex opens the file index: <state>/index.db beside SQLite's store,
// or, on PostgreSQL, the index tables of the same database (PostGIS boxes,
// catalog/index/store_pg.go) on a pool of its own, which the nodes share.
func (d *databases) openIndex(ctx context.Context, cfg Config, state string) (*index.Store, error) {
	if !d.Postgres() {
		return index.Open(ctx, state)
	}
	db, err := pgsql.Open(ctx, cfg.Database, 4)
	if err != nil {
		return nil, err
	}
	idx, err := index.OpenPostgres(ctx, db)
	if err != nil {
		db.Close()
		return nil, err
	}
	return idx, nil
}
