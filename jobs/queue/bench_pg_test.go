package queue

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/subsetd/subsetd/internal/pgsql"
	"github.com/subsetd/subsetd/internal/testutil/pgtest"
	"github.com/subsetd/subsetd/jobs"
	"github.com/subsetd/subsetd/regions"
)

// The queue's own cost per task, without worker processes: each task is
// submitted as a job is (its job, region and task rows and its River entry
// in one transaction) and run by a no-op worker that does what a real one
// does in the database (StartTask, FinishTask), on SQLite and on
// PostgreSQL. Reported: tasks per second, and on PostgreSQL the database
// round trips per task (every statement, BEGIN and COMMIT of the node's
// two pools, counted by a pgx tracer), the round trips per second of an
// idle node (River's polling, leadership and maintenance), and the
// connections one node holds. bench/nodes.sh prints them.

type noopArgs struct {
	JobID string `json:"job_id"`
}

func (noopArgs) Kind() string { return "bench_noop" }

type noopWorker struct {
	river.WorkerDefaults[noopArgs]
	store *jobs.Store
	done  *sync.WaitGroup
}

func (w *noopWorker) Work(ctx context.Context, j *river.Job[noopArgs]) error {
	defer w.done.Done()
	if _, _, err := w.store.StartTask(ctx, j.Args.JobID, 0); err != nil {
		return err
	}
	return w.store.FinishTask(ctx, j.Args.JobID, 0, []jobs.RegionOutcome{{Index: 0, Status: jobs.Empty}}, jobs.TaskStats{})
}

// tracer counts round trips.
type tracer struct{ n atomic.Int64 }

func (t *tracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	t.n.Add(1)
	return ctx
}
func (t *tracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}
func (t *tracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceBatchStartData) context.Context {
	t.n.Add(1)
	return ctx
}
func (t *tracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (t *tracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

type queueBench struct {
	store  *jobs.Store
	start  func(ctx context.Context) error
	stop   func(ctx context.Context) error
	insert func(ctx context.Context, tx *sql.Tx, args noopArgs) (int64, error)
	conns  func() int
}

func benchConfig(store *jobs.Store, done *sync.WaitGroup, pg bool) *river.Config {
	workers := river.NewWorkers()
	river.AddWorker(workers, &noopWorker{store: store, done: done})
	cfg := &river.Config{Queues: map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 8}}, Workers: workers,
		FetchCooldown: 20 * time.Millisecond, FetchPollInterval: 25 * time.Millisecond}
	if pg {
		cfg.FetchPollInterval = 500 * time.Millisecond // as NewPostgres
	}
	return cfg
}

func BenchmarkQueueNoop(b *testing.B) {
	const tasks = 300
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			ctx := context.Background()
			var done sync.WaitGroup
			var tr tracer
			var qb queueBench
			if backend == "sqlite" {
				db, err := sql.Open("sqlite", filepath.Join(b.TempDir(), "q.db")+"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)")
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				db.SetMaxOpenConns(1)
				mig, _ := rivermigrate.New(riversqlite.New(db), nil)
				if _, err := mig.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
					b.Fatal(err)
				}
				qb.store = jobs.NewStore(db)
				if err := qb.store.Migrate(ctx); err != nil {
					b.Fatal(err)
				}
				c, err := river.NewClient(riversqlite.New(db), benchConfig(qb.store, &done, false))
				if err != nil {
					b.Fatal(err)
				}
				qb.start, qb.stop = c.Start, c.Stop
				qb.insert = func(ctx context.Context, tx *sql.Tx, a noopArgs) (int64, error) {
					r, err := c.InsertTx(ctx, tx, a, nil)
					if err != nil {
						return 0, err
					}
					return r.Job.ID, nil
				}
				qb.conns = func() int { return db.Stats().OpenConnections }
			} else {
				url := pgtest.Database(b)
				trace := func(c *pgx.ConnConfig) { c.Tracer = &tr }
				db, err := pgsql.Open(ctx, url, 10, trace)
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				rp, err := pgsql.Pool(ctx, url, 8, trace)
				if err != nil {
					b.Fatal(err)
				}
				defer rp.Close()
				if err := MigratePostgres(ctx, rp); err != nil {
					b.Fatal(err)
				}
				qb.store = jobs.NewPostgresStore(db)
				if err := qb.store.Migrate(ctx); err != nil {
					b.Fatal(err)
				}
				c, err := river.NewClient(riverpgxv5.New(rp), benchConfig(qb.store, &done, true))
				if err != nil {
					b.Fatal(err)
				}
				ins, err := river.NewClient(riverdatabasesql.New(db), &river.Config{})
				if err != nil {
					b.Fatal(err)
				}
				qb.start, qb.stop = c.Start, c.Stop
				qb.insert = func(ctx context.Context, tx *sql.Tx, a noopArgs) (int64, error) {
					r, err := ins.InsertTx(ctx, tx, a, nil)
					if err != nil {
						return 0, err
					}
					return r.Job.ID, nil
				}
				qb.conns = func() int { return db.Stats().OpenConnections + int(rp.Stat().TotalConns()) }
			}
			if err := qb.start(ctx); err != nil {
				b.Fatal(err)
			}
			defer qb.stop(ctx)
			// Idle: what one node asks of the database doing nothing.
			time.Sleep(time.Second)
			idle0 := tr.n.Load()
			time.Sleep(3 * time.Second)
			idle := float64(tr.n.Load()-idle0) / 3

			b.ResetTimer()
			var elapsed time.Duration
			var trips int64
			for range b.N {
				done.Add(tasks)
				n0 := tr.n.Load()
				t0 := time.Now()
				var wg sync.WaitGroup
				errc := make(chan error, tasks)
				for g := range 4 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for k := g; k < tasks; k += 4 {
							errc <- submitNoop(ctx, &qb, fmt.Sprintf("%s-%d-%d", backend, t0.UnixNano(), k))
						}
					}()
				}
				wg.Wait()
				close(errc)
				for err := range errc {
					if err != nil {
						b.Fatal(err)
					}
				}
				done.Wait()
				elapsed += time.Since(t0)
				trips += tr.n.Load() - n0
			}
			b.StopTimer()
			per := float64(tasks*b.N) / elapsed.Seconds()
			b.ReportMetric(per, "tasks/s")
			if backend == "postgres" {
				b.ReportMetric(float64(trips)/float64(tasks*b.N), "roundtrips/task")
				b.ReportMetric(idle, "idle-roundtrips/s")
				b.ReportMetric(float64(qb.conns()), "conns/node")
			}
		})
	}
}

// submitNoop stores a job of one region and one task and enqueues it, in
// one transaction, as Submit does.
func submitNoop(ctx context.Context, qb *queueBench, id string) error {
	j := &jobs.Job{ID: id, Dataset: "bench", Spec: jobs.Spec{Dataset: "bench", Regions: []regions.Fixed{{Name: "r", BBox: []float64{0, 0, 1, 1}}}}, Created: time.Now()}
	return qb.store.InTx(ctx, func(tx *sql.Tx) error {
		if err := qb.store.Admit(ctx, tx, jobs.Admission{QueueLimit: 1 << 30}); err != nil {
			return err
		}
		if err := qb.store.Insert(ctx, tx, j, []jobs.Task{{ID: 0, Regions: []int{0}}}, "", ""); err != nil {
			return err
		}
		rid, err := qb.insert(ctx, tx, noopArgs{JobID: id})
		if err != nil {
			return err
		}
		return qb.store.SetRiverID(ctx, tx, id, 0, rid)
	})
}
