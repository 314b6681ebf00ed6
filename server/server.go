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
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/subsetd/subsetd/api"
	"github.com/subsetd/subsetd/catalog"
	"github.com/subsetd/subsetd/internal/pgsql"
	"github.com/subsetd/subsetd/internal/webhook"
	"github.com/subsetd/subsetd/jobs"
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
	startedOnce := func() {}
	// One server per state directory on SQLite; on PostgreSQL the nodes
	// share it (database.go).
	// share it (database.go), and take turns to start: the first one
	// creates the files every node must read the same (the secrets of
	// links and webhooks).
	if !pgsql.IsURL(cfg.Database) {
		unlock, err := lockDir(state)
		if err != nil {
			return err
		}
		defer unlock()
	} else {
		started, err := lockStartup(ctx, state)
		if err != nil {
			return err
		}
		startedOnce = sync.OnceFunc(started)
		defer startedOnce()
	}
	dbs, err := openDatabases(ctx, cfg, state)
	if err != nil {
		return err
	}
	defer dbs.Close()
	store := dbs.store
	audit, auditFile, err := jobs.OpenAudit(state, os.Stderr)
	if err != nil {
		return err
	}
	defer auditFile.Close()
	store.OnJobEvent = func(ev jobs.JobEvent) { jobs.AuditJob(audit, ev) }
	if err := warnWithoutKeys(ctx, cfg, store, log); err != nil {
		return err
	}
	proxies, _ := api.ParseProxies(cfg.TrustedProxies) // checked by Validate
	linkKeys, err := openLinkKeys(state, time.Duration(cfg.LinkMaxTTL), log)
	if err != nil {
		return err
	}
	links := linkKeys.links(cfg)
	hooks, _ := webhook.NewPolicy(cfg.WebhookAllow) // checked by Validate
	secret, err := webhook.LoadSecret(state)
	if err != nil {
		return fmt.Errorf("webhook secret: %w", err)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := queue.NewMetrics(reg, store)

	tasks := pool.New(cfg.WorkerCommand, nil, cfg.Workers)
	tasks.LimitCalls(time.Duration(cfg.FileTimeout))
	tasks.Warm(min(cfg.WarmWorkers, cfg.Workers))
	// Dry runs get processes of their own: a plan answers at once even
	// while every worker cuts.
	planners := pool.New(cfg.WorkerCommand, nil, 2)
	defer planners.KillAll()
	idx, err := dbs.openIndex(ctx, cfg, state)
	if err != nil {
		return err
	}
	defer idx.Close()
	// Several nodes share the index: its scans on a schedule are the
	// queue's periodic job, enqueued by River's leader.
	catInterval, queueInterval := time.Duration(cfg.IndexInterval), time.Duration(0)
	if dbs.Postgres() {
		catInterval, queueInterval = 0, catInterval
	}
	cat, err := catalog.New(cfg.Data, catalog.Options{Index: idx, Datasets: cfg.Datasets, AllowedRoots: cfg.AllowedRoots, InspectorCommand: cfg.InspectorCommand,
		IndexWorkers: cfg.IndexWorkers, FileTimeout: time.Duration(cfg.FileTimeout), IndexInterval: catInterval, Log: log.With().Str("component", "index").Logger()})
	if err != nil {
		return err
	}
	for id := range cfg.Datasets {
		if _, err := cat.Get(id); err != nil {
			log.Warn().Str("dataset", id).Msg("the configuration names a dataset that is not in the data directory")
		}
	}
	minFree, _ := queue.ParseReserve(cfg.MinFreeSpace) // checked by Validate
	svc, err := dbs.newQueue(cat, tasks, queue.Config{
		StateDir:       state,
		Workers:        cfg.Workers,
		TaskTimeout:    time.Duration(cfg.TaskTimeout),
		JobDeadline:    time.Duration(cfg.JobDeadline),
		Retention:      time.Duration(cfg.Retention),
		QueueLimit:     cfg.QueueLimit,
		RegionsPerTask: cfg.RegionsPerTask,
		MaxAttempts:    cfg.MaxAttempts,
		MemoryBudget:   cfg.MemoryBudget,
		MinFree:        minFree,
		DiskFullDelay:  time.Duration(cfg.DiskFullDelay),

		Webhooks:        hooks,
		WebhookSecret:   secret,
		WebhookAttempts: cfg.WebhookAttempts,
		WebhookBackoff:  time.Duration(cfg.WebhookBackoff),
		WebhookPayload:  api.WebhookPayload(cfg.PublicURL, time.Duration(cfg.Retention), links),
		Planner:         planners,
		RescueAfter:     time.Duration(cfg.RescueAfter),
		IndexInterval:   queueInterval,
	}, log.With().Str("component", "queue").Logger(), metrics)
	if err != nil {
		return err
	}
	if err := svc.Recover(ctx); err != nil {
		return err
	}
	startedOnce()

	tlsConf, err := cfg.tlsConfig(log)
	if err != nil {
		return err
	}
	if cfg.MetricsAddr != "" {
		stopMetrics, err := serveMetrics(cfg, reg, log)
		if err != nil {
			return err
		}
		defer stopMetrics()
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// One hub feeds every event stream, told by the store of each change.
	hub := api.NewHub(svc.Get, cfg.PublicURL)
	store.Changed, store.Progressed = hub.Changed, hub.Progressed
	srv := &http.Server{
		Handler: api.New(svc, api.Options{MaxBodyBytes: cfg.MaxBodyBytes, MaxRegions: cfg.MaxRegions, MaxVertices: cfg.MaxVertices, Retention: time.Duration(cfg.Retention),
			WriteTimeout: time.Duration(cfg.WriteTimeout), Log: log.With().Str("component", "http").Logger(), Registry: reg, PublicURL: cfg.PublicURL, Hub: hub,
			Auth: api.AuthMode(cfg.Auth), Keys: store, Quota: cfg.Quota, TrustedProxies: proxies, CORSOrigins: corsOrigins(cfg.CORSOrigins), Links: links,
			Webhooks: hooks}),
		ReadHeaderTimeout: time.Duration(cfg.ReadHeaderTimeout),
		ReadTimeout:       time.Duration(cfg.ReadTimeout),
		WriteTimeout:      time.Duration(cfg.WriteTimeout),
		IdleTimeout:       time.Duration(cfg.IdleTimeout),
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		TLSConfig:         tlsConf,
	}
	// Event streams never go idle: they end when the server shuts down.
	srv.RegisterOnShutdown(hub.Close)
	// The queue runs on its own context: the shutdown below stops it.
	if err := svc.Start(context.WithoutCancel(ctx)); err != nil {
		ln.Close()
		return fmt.Errorf("start queue: %w", err)
	}
	httpErr := make(chan error, 1)
	go func() {
		if tlsConf != nil {
			httpErr <- srv.ServeTLS(ln, "", "")
			return
		}
		httpErr <- srv.Serve(ln)
	}()
	// The index is kept up to date in the background: the API answers
	// meanwhile and /readyz says "indexing" until the first scan ends.
	scanCtx, stopScans := context.WithCancel(context.WithoutCancel(ctx))
	defer stopScans()
	cat.Start(scanCtx)
	log.Info().Str("addr", ln.Addr().String()).Bool("tls", tlsConf != nil).Str("data", cat.Root()).Str("state", state).Int("workers", cfg.Workers).
		Str("index", idx.Path()).Dur("index_interval", time.Duration(cfg.IndexInterval)).Msg("subsetd serving")
	if ready != nil {
		ready(ln.Addr().String())
	}

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
	stopScans()
	cat.Wait()
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

// serveMetrics serves /metrics alone, without keys, on the metrics
// address (a port a scraper reaches and callers do not).
func serveMetrics(cfg Config, reg *prometheus.Registry, log zerolog.Logger) (func(), error) {
	ln, err := net.Listen("tcp", cfg.MetricsAddr)
	if err != nil {
		return nil, fmt.Errorf("listen (metrics): %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: time.Duration(cfg.ReadHeaderTimeout), WriteTimeout: time.Duration(cfg.WriteTimeout)}
	go srv.Serve(ln)
	log.Info().Str("metrics_addr", ln.Addr().String()).Msg("metrics served")
	return func() { srv.Close() }, nil
}

// DBFile is the database of jobs, keys and River's queue in the state
// directory.
const DBFile = "subsetd.db"

// OpenStore opens the job store of a state directory, migrated, for the
// commands that work on it beside a server (subsetd keys). Close the
// database when done.
func OpenStore(ctx context.Context, state string) (*jobs.Store, *sql.DB, error) {
	if err := os.MkdirAll(state, 0o755); err != nil {
		return nil, nil, fmt.Errorf("state directory: %w", err)
	}
	db, err := openDB(ctx, filepath.Join(state, DBFile))
	if err != nil {
		return nil, nil, err
	}
	store := jobs.NewStore(db)
	if err := store.Migrate(ctx); err != nil {
		db.Close()
		return nil, nil, err
	}
	return store, db, nil
}

// warnWithoutKeys says at start-up how callers are known, and what to do
// when no key can be used.
func warnWithoutKeys(ctx context.Context, cfg Config, store *jobs.Store, log zerolog.Logger) error {
	if api.AuthMode(cfg.Auth) == api.AuthNone {
		log.Warn().Str("addr", cfg.Addr).Msg("auth none: every caller is an administrator, with no key")
		return nil
	}
	keys, err := store.Keys(ctx)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if k.Revoked.IsZero() {
			return nil
		}
	}
	log.Warn().Str("state", cfg.State).Msg("no API key yet: every request but /healthz and /readyz gets 401; create one with: subsetd keys create --name NAME --state " + cfg.State + dbFlag(cfg.Database))
	return nil
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

// readConns is the size of the pool of read-only connections to SQLite's
// database: readers of a WAL file run side by side, one per core and a few
// waiting on I/O.
var readConns = max(4, 2*runtime.GOMAXPROCS(0))

// openReadDB opens read-only connections to the database at path (openDB
// made it a WAL file): the job store reads documents and listings through
// them, so that they neither wait for nor delay the single connection that
// writes and River polls on.
func openReadDB(ctx context.Context, path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", path+"?_pragma=query_only(1)&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	db.SetMaxOpenConns(readConns)
	db.SetMaxIdleConns(readConns)
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

// dbFlag is the --database flag a command on the same database needs.
func dbFlag(database string) string {
	if database == "" {
		return ""
	}
	return " --database " + pgsql.Redact(database)
}
