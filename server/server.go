package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/rs/zerolog"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/subsetd/subsetd/api"
	"github.com/subsetd/subsetd/jobs"
	"github.com/subsetd/subsetd/jobs/catalog"
	"github.com/subsetd/subsetd/jobs/pool"
	"github.com/subsetd/subsetd/jobs/queue"
)

// Logger returns the JSON logger of the server at the configured level.
func Logger(level string) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		lvl = zerolog.InfoLevel
	}
	return zerolog.New(os.Stderr).Level(lvl).With().Timestamp().Logger()
}

// Run serves until ctx ends, then shuts down in two phases: new jobs are
// refused while running tasks get ShutdownGrace to finish; tasks still
// running then are killed and handed back to the queue; the HTTP server
// stops last. ready, if not nil, receives the listening address.
func Run(ctx context.Context, cfg Config, log zerolog.Logger, ready func(addr string)) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if len(cfg.WorkerCommand) == 0 {
		return errors.New("no worker command configured")
	}
	state, err := filepath.Abs(cfg.State)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(state, 0o755); err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	unlock, err := lockDir(state)
	if err != nil {
		return err
	}
	defer unlock()

	db, err := openDB(ctx, filepath.Join(state, "subsetd.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	driver := riversqlite.New(db)
	mig, err := rivermigrate.New(driver, nil)
	if err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	if _, err := mig.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("river migrations: %w", err)
	}
	store := jobs.NewStore(db)
	if err := store.Migrate(ctx); err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := queue.NewMetrics(reg, store)

	tasks := pool.New(cfg.WorkerCommand, nil, cfg.Workers)
	describers := pool.New(cfg.WorkerCommand, nil, 2)
	describe := func(ctx context.Context, files []string, root string) (*jobs.DatasetInfo, error) {
		var r jobs.WorkerReply
		if _, err := describers.Run(ctx, jobs.WorkerTask{Kind: jobs.KindDescribe, Files: files, Root: root}, &r); err != nil {
			return nil, err
		}
		if r.Error != nil {
			return nil, r.Error.Err()
		}
		return r.Description, nil
	}
	cat, err := catalog.New(cfg.Data, describe, store, log.With().Str("component", "catalog").Logger())
	if err != nil {
		return err
	}
	svc, err := queue.New(driver, store, cat, tasks, queue.Config{
		StateDir:       state,
		Workers:        cfg.Workers,
		TaskTimeout:    time.Duration(cfg.TaskTimeout),
		JobDeadline:    time.Duration(cfg.JobDeadline),
		Retention:      time.Duration(cfg.Retention),
		QueueLimit:     cfg.QueueLimit,
		MaxRegions:     cfg.MaxRegions,
		RegionsPerTask: cfg.RegionsPerTask,
		MaxAttempts:    cfg.MaxAttempts,
		MemoryBudget:   cfg.MemoryBudget,
	}, log.With().Str("component", "queue").Logger(), metrics)
	if err != nil {
		return err
	}
	if err := svc.Recover(ctx); err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler: api.New(svc, api.Options{MaxBodyBytes: cfg.MaxBodyBytes, Retention: time.Duration(cfg.Retention),
			Log: log.With().Str("component", "http").Logger(), Registry: reg}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	// The queue runs on its own context: the shutdown below stops it.
	if err := svc.Start(context.WithoutCancel(ctx)); err != nil {
		ln.Close()
		return fmt.Errorf("start queue: %w", err)
	}
	httpErr := make(chan error, 1)
	go func() { httpErr <- srv.Serve(ln) }()
	log.Info().Str("addr", ln.Addr().String()).Str("data", cat.Root()).Str("state", state).Int("workers", cfg.Workers).Msg("subsetd serving")
	if ready != nil {
		ready(ln.Addr().String())
	}
	go warm(ctx, cat, log)

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-httpErr:
		log.Error().Err(serveErr).Msg("http server failed")
	}

	// Phase 1: refuse new jobs, let running tasks finish within the grace
	// period; then kill what still runs (back to the queue).
	log.Info().Dur("grace", time.Duration(cfg.ShutdownGrace)).Msg("shutting down: no new jobs, waiting for running tasks")
	svc.Drain()
	if err := svc.Stop(time.Duration(cfg.ShutdownGrace)); err != nil {
		log.Warn().Err(err).Msg("queue stop")
	}
	tasks.KillAll()
	describers.KillAll()
	// Phase 2: stop the HTTP server.
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	log.Info().Msg("subsetd stopped")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return nil
}

// warm describes every dataset in the background so that the first job on
// each does not wait for it.
func warm(ctx context.Context, cat *catalog.Catalog, log zerolog.Logger) {
	ds, err := cat.List()
	if err != nil {
		log.Warn().Err(err).Msg("list datasets")
		return
	}
	for _, d := range ds {
		if ctx.Err() != nil {
			return
		}
		if _, _, err := cat.Describe(ctx, d.ID); err != nil {
			log.Warn().Err(err).Str("dataset", d.ID).Msg("describe dataset")
		}
	}
}

func openDB(ctx context.Context, path string) (*sql.DB, error) {
	// WAL with synchronous=NORMAL survives a killed process; busy_timeout
	// covers the moments another tool holds the file.
	db, err := sql.Open("sqlite", path+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	// River's SQLite driver needs a single connection.
	db.SetMaxOpenConns(1)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("database %s: %w", path, err)
	}
	return db, nil
}

// lockDir takes an exclusive lock on the state directory: one server per
// state directory. The kernel releases it when the process dies.
func lockDir(dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, "subsetd.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock state directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("state directory %s is in use by another subsetd serve", dir)
	}
	return func() { f.Close() }, nil
}
