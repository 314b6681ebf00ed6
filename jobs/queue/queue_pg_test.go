package queue

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/catalog"
	"github.com/subsetd/subsetd/internal/pgsql"
	"github.com/subsetd/subsetd/internal/testutil/pgtest"
	"github.com/subsetd/subsetd/jobs"
	"github.com/subsetd/subsetd/jobs/pool"
)

// onPostgres makes start run the service on PostgreSQL (River's pgx
// driver): set while TestQueueSuiteOnPostgres runs (the tests of this
// package do not run in parallel).
var onPostgres bool

var (
	pgMu  sync.Mutex
	pgURL = map[string]string{} // state directory -> its database: a restart finds its jobs
)

// postgresBackend opens the PostgreSQL database of state (created on first
// use), migrated, and River's pool.
func postgresBackend(t *testing.T, state string) (*sql.DB, *jobs.Store, func(*jobs.Store, *catalog.Catalog, *pool.Pool, Config, zerolog.Logger) (*Service, error)) {
	t.Helper()
	ctx := context.Background()
	pgMu.Lock()
	url, ok := pgURL[state]
	if !ok {
		url = pgtest.Database(t)
		pgURL[state] = url
	}
	pgMu.Unlock()
	db, err := pgsql.Open(ctx, url, 8)
	if err != nil {
		t.Fatal(err)
	}
	store := jobs.NewPostgresStore(db)
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	rp, err := pgsql.Pool(ctx, url, 8)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rp.Close)
	if err := MigratePostgres(ctx, rp); err != nil {
		t.Fatal(err)
	}
	return db, store, func(store *jobs.Store, cat *catalog.Catalog, p *pool.Pool, cfg Config, log zerolog.Logger) (*Service, error) {
		return NewPostgres(rp, store, cat, p, cfg, log, nil)
	}
}

// queueSuite runs on SQLite as itself and on PostgreSQL here. Left out:
// the tests of the single-server start-up reset (a restart on PostgreSQL
// does not reset: other nodes may be running tasks), covered on PostgreSQL
// by the tests of nodes below and e2e's several-node test.
var queueSuite = map[string]func(*testing.T){
	"JobRunsToCompletion":        TestJobRunsToCompletion,
	"SubmitValidates":            TestSubmitValidates,
	"CancelKillsWorkers":         TestCancelKillsWorkers,
	"CrashIsRetriedCorruptIsNot": TestCrashIsRetriedCorruptIsNot,
	"Deadline":                   TestDeadline,
	"TaskTimeout":                TestTaskTimeout,
	"Retention":                  TestRetention,
	"TimeSeriesJob":              TestTimeSeriesJob,
	"GranulesJob":                TestGranulesJob,
	"StatisticsJob":              TestStatisticsJob,
	"FairShares":                 TestFairShares,
	"WebhooksSignedAndRetried":   TestWebhooksSignedAndRetried,
	"StatisticsOnlyAndNoTask":    TestStatisticsOnlyAndNoTask,
}

func TestQueueSuiteOnPostgres(t *testing.T) {
	onPostgres = true
	defer func() { onPostgres = false }()
	for name, fn := range queueSuite {
		t.Run(name, fn)
	}
}

// A node killed after River gave it a job but before the job's task was
// recorded as started leaves a running queue entry that no task names: it
// is made available again once its node is unseen for the rescue delay,
// and entries of live nodes or taken just now are left alone.
func TestReleaseStrandedEntries(t *testing.T) {
	ctx := context.Background()
	db, store, _ := postgresBackend(t, t.TempDir())
	defer db.Close()
	now := time.Now()
	if err := store.Heartbeat(ctx, "alive", "h", 1, now); err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for name, c := range map[string]struct {
		node string
		ago  time.Duration
	}{"dead": {"dead", time.Hour}, "live": {"alive", time.Hour}, "recent": {"dead", 0}} {
		var id int64
		if err := db.QueryRowContext(ctx, `INSERT INTO river_job (args, kind, max_attempts, priority, queue, state, attempt, attempted_at, attempted_by)
			VALUES ('{}', 'subsetd_task', 5, 1, 'default', 'running', 1, ?, ARRAY[?]) RETURNING id`, now.Add(-c.ago), c.node).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[name] = id
	}
	n, err := releaseStranded(ctx, db, now.Add(-3*time.Second))
	if err != nil || n != 1 {
		t.Fatalf("released %d, %v; want 1", n, err)
	}
	for name, want := range map[string]string{"dead": "available", "live": "running", "recent": "running"} {
		var state string
		if err := db.QueryRowContext(ctx, `SELECT state FROM river_job WHERE id = ?`, ids[name]).Scan(&state); err != nil || state != want {
			t.Errorf("%s: %s %v, want %s", name, state, err, want)
		}
	}
}
