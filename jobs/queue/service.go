package queue

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"
	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/catalog"
	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/internal/webhook"
	"github.com/subsetd/subsetd/jobs"
	"github.com/subsetd/subsetd/jobs/pool"
)

// Config are the limits and timings of the queue.
type Config struct {
	StateDir       string        // jobs' files go to StateDir/jobs/<id>
	Workers        int           // worker processes running tasks at once
	TaskTimeout    time.Duration // a task's worker is killed after this long
	JobDeadline    time.Duration // a job not finished after this long fails (0: none)
	Retention      time.Duration // final jobs and their files are deleted after this long
	QueueLimit     int           // active jobs beyond which submissions get 429
	RegionsPerTask int           // most regions one task groups
	MaxAttempts    int           // runs of a task whose worker died
	MemoryBudget   int64         // bytes of values a worker holds at once (0: engine default)
	Maintenance    time.Duration // how often deadlines and retention are enforced
	RetryDelay     time.Duration // wait before retrying a task, times the attempt number
	// MinFree is the free space the state directory keeps: below it new
	// jobs get 507 and Ready says so. FreeSpace measures it (Statfs when
	// nil; tests give their own).
	MinFree   Reserve
	FreeSpace FreeSpace
	// DiskFullDelay is the wait before a task whose outputs met a full
	// disk runs again, doubled at each attempt (MaxAttempts bounds them).
	DiskFullDelay time.Duration

	// Notifications (webhook.go): who may be called, the secret that
	// signs, attempts per notification and the wait before the first
	// retry (doubled at each retry, at most an hour), and the payload of
	// each event, made by the API (nil: a minimal one).
	Webhooks        *webhook.Policy
	WebhookSecret   webhook.Secret
	WebhookAttempts int
	WebhookBackoff  time.Duration
	WebhookPayload  func(j *jobs.Job, d *jobs.Delivery, now time.Time) ([]byte, error)

	// Planner runs the worker processes of dry runs (Estimate), so that
	// they need not wait for a slot among the tasks; nil: the task pool.
	Planner *pool.Pool

	// Several nodes (PostgreSQL, nodes.go): how long a node may go unseen
	// before its running tasks are handed to others, and how often the
	// leader has the data directory scanned (0: never on schedule).
	RescueAfter   time.Duration
	IndexInterval time.Duration
}

// Defaults fills unset fields.
func (c *Config) Defaults() {
	if c.Workers < 1 {
		c.Workers = 1
	}
	if c.TaskTimeout <= 0 {
		c.TaskTimeout = 30 * time.Minute
	}
	if c.Retention <= 0 {
		c.Retention = 7 * 24 * time.Hour
	}
	if c.QueueLimit < 1 {
		c.QueueLimit = 1000
	}
	if c.RegionsPerTask < 1 {
		c.RegionsPerTask = 16
	}
	if c.MaxAttempts < 1 {
		c.MaxAttempts = 3
	}
	if c.Maintenance <= 0 {
		c.Maintenance = time.Minute
	}
	if c.RetryDelay <= 0 {
		c.RetryDelay = time.Second
	}
	if c.FreeSpace == nil {
		c.FreeSpace = Statfs
	}
	if c.DiskFullDelay <= 0 {
		c.DiskFullDelay = 30 * time.Second
	}
	if c.WebhookAttempts < 1 {
		c.WebhookAttempts = 8
	}
	if c.WebhookBackoff <= 0 {
		c.WebhookBackoff = 10 * time.Second
	}
	if c.RescueAfter <= 0 {
		c.RescueAfter = 30 * time.Second
	}
}

// Service runs jobs and answers the API.
type Service struct {
	cfg      Config
	store    *jobs.Store
	catalog  *catalog.Catalog
	pool     *pool.Pool
	river    riverClient
	inserter inserter // enqueues in the store's transactions (on PostgreSQL a client of River's database/sql driver)
	node     *node    // PostgreSQL: this server among others (nodes.go)
	sqlite   bool
	log      zerolog.Logger
	metrics  *Metrics

	draining atomic.Bool
	speed    speed // tasks' measured throughput, for Estimate

	mu      sync.Mutex
	running map[string]map[int]context.CancelCauseFunc

	manifestMu sync.Mutex

	// retryAt hands the time of a disk-full retry (by River job id) from
	// Work to NextRetry, which River calls right after.
	retryAt sync.Map
	// statsNoSpace counts, by job id, the attempts to write a job's
	// statistics that met a full disk.
	statsNoSpace sync.Map
}

var (
	errDismissed   = errors.New("job dismissed by the user")
	errTaskTimeout = errors.New("task timed out")
	errDeadline    = errors.New("job deadline exceeded")
)

// riverClient is what the service asks of River's client, whatever its
// driver.
type riverClient interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	JobCancel(ctx context.Context, id int64) (*rivertype.JobRow, error)
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// inserter enqueues River jobs in a transaction of the store.
type inserter interface {
	InsertTx(ctx context.Context, tx *sql.Tx, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
}

// New builds the service. The River client uses driver on the store's
// database; its tables must be migrated (rivermigrate) beforehand.
func New(driver riverdriver.Driver[*sql.Tx], store *jobs.Store, cat *catalog.Catalog, p *pool.Pool, cfg Config, log zerolog.Logger, m *Metrics) (*Service, error) {
	s := newService(store, cat, p, cfg, log, m)
	s.sqlite = driver.DatabaseName() == riverdriver.DatabaseNameSQLite
	if s.sqlite {
		driver = pollOnlyDriver{driver} // wake.go
	}
	rc, err := s.riverConfig()
	if err != nil {
		return nil, err
	}
	client, err := river.NewClient(driver, rc)
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	s.river, s.inserter = client, client
	return s, nil
}

func newService(store *jobs.Store, cat *catalog.Catalog, p *pool.Pool, cfg Config, log zerolog.Logger, m *Metrics) *Service {
	cfg.Defaults()
	return &Service{cfg: cfg, store: store, catalog: cat, pool: p, log: log, metrics: m, running: map[string]map[int]context.CancelCauseFunc{}}
}

// riverConfig is the configuration of the River client that works the
// queue.
func (s *Service) riverConfig() (*river.Config, error) {
	cfg := s.cfg
	workers := river.NewWorkers()
	river.AddWorker(workers, &taskWorker{s: s})
	river.AddWorker(workers, &maintenanceWorker{s: s})
	river.AddWorker(workers, wakeWorker{})
	if err := s.initWebhooks(workers); err != nil {
		return nil, err
	}
	rlog := s.log.With().Str("component", "river").Logger().Level(zerolog.WarnLevel)
	return &river.Config{
		Queues: map[string]river.QueueConfig{
			river.QueueDefault: {MaxWorkers: cfg.Workers},
			queueMaintenance:   {MaxWorkers: 1},
			queueWebhooks:      {MaxWorkers: 4},
		},
		Workers:              workers,
		MaxAttempts:          cfg.MaxAttempts,
		JobTimeout:           cfg.TaskTimeout + time.Minute,
		RescueStuckJobsAfter: cfg.TaskTimeout + 5*time.Minute,
		// A fetch River is asked for within the cooldown of the last one
		// waits for its end: a submit right after another job ended waited
		// 20 ms (a one-region job: 1.5-1.9x one ncks call at 20 ms, 1.2-1.5x
		// at 2 ms). Fetches follow submits and task ends, so this bounds
		// them without delaying a job.
		FetchCooldown: 2 * time.Millisecond,
		// On SQLite River has no listener: Submit wakes it (wake.go), and
		// polling finds what nothing announces (retries coming due).
		FetchPollInterval: 250 * time.Millisecond,
		Logger:            slog.New(zerolog.NewSlogHandler(rlog)),
		PeriodicJobs: []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(cfg.Maintenance),
			func() (river.JobArgs, *river.InsertOpts) { return MaintenanceArgs{}, nil },
			&river.PeriodicJobOpts{RunOnStart: true, ID: "maintenance"})},
	}, nil
}

// Recover prepares the state left by a previous server before Start: tasks
// it was running go back to the queue and its temporary files are removed.
// The caller holds the lock of the state directory, so no other server runs
// on it.
func (s *Service) Recover(ctx context.Context) error {
	if s.node != nil {
		// Other nodes may be running tasks: no reset (nodes.go).
		return s.recoverNode(ctx)
	}
	n, err := s.store.ResetOrphans(ctx)
	if err != nil {
		return fmt.Errorf("reset tasks: %w", err)
	}
	if s.sqlite {
		// One server per SQLite database: River jobs left running by a dead
		// server are available again now, not after the rescuer's delay, and
		// its leadership is released. (With PostgreSQL and several nodes,
		// River's rescuer does this.)
		db := s.store.DB()
		res, err := db.ExecContext(ctx, `UPDATE river_job SET state = 'available' WHERE state = 'running'`)
		if err != nil {
			return fmt.Errorf("reset river jobs: %w", err)
		}
		m, _ := res.RowsAffected()
		n += m
		if _, err := db.ExecContext(ctx, `DELETE FROM river_leader`); err != nil {
			return fmt.Errorf("reset river leader: %w", err)
		}
	}
	if n > 0 {
		s.log.Info().Int64("tasks", n).Msg("tasks of a previous run put back in the queue")
	}
	return s.removeStale(ctx, false)
}

// removeStale removes temporary directories and files of interrupted work,
// and job directories whose job is gone. On a server alone (shared false)
// nothing runs yet: every temporary folder and file goes. In a state
// directory other nodes use at the same time (shared), it keeps what a
// running task's attempt owns, temporary files younger than a minute, and
// folders of unknown jobs younger than ten minutes (a job's folder can
// appear a moment before this node sees the job).
func (s *Service) removeStale(ctx context.Context, shared bool) error {
	root := filepath.Join(s.cfg.StateDir, "jobs")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	ids, err := s.store.JobIDs(ctx)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, id := range ids {
		known[id] = true
	}
	var running map[string]int
	var jobGrace, fileGrace time.Duration
	if shared {
		if running, err = s.store.RunningAttempts(ctx); err != nil {
			return err
		}
		jobGrace, fileGrace = 10*time.Minute, time.Minute
	}
	ents, err := os.ReadDir(root)
	if err != nil {
		return err
	}
	now := time.Now()
	old := func(info func() (os.FileInfo, error), grace time.Duration) bool {
		if grace == 0 {
			return true
		}
		st, err := info()
		return err == nil && now.Sub(st.ModTime()) > grace
	}
	removed := 0
	for _, e := range ents {
		p := filepath.Join(root, e.Name())
		if !known[e.Name()] {
			if old(func() (os.FileInfo, error) { return os.Stat(p) }, jobGrace) && os.RemoveAll(p) == nil {
				removed++
			}
			continue
		}
		tmp := filepath.Join(p, tmpDir)
		if shared {
			removed += removeOtherAttempts(tmp, func(task, attempt int) bool {
				return running[fmt.Sprintf("%s/%d", e.Name(), task)] == attempt
			})
		} else if _, err := os.Stat(tmp); err == nil {
			os.RemoveAll(tmp)
			removed++
		}
		_ = filepath.WalkDir(p, func(q string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(d.Name(), ".tmp") && old(d.Info, fileGrace) && os.Remove(q) == nil {
				removed++
			}
			return nil
		})
	}
	if removed > 0 {
		s.log.Info().Int("removed", removed).Msg("stale temporary files removed")
	}
	return nil
}

// Start starts working the queue.
func (s *Service) Start(ctx context.Context) error {
	if err := s.river.Start(ctx); err != nil {
		return err
	}
	if s.node != nil {
		s.node.start(s)
	}
	return nil
}

// Drain refuses new jobs from now on (the first phase of a shutdown).
func (s *Service) Drain() { s.draining.Store(true) }

// Draining reports whether Drain was called.
func (s *Service) Draining() bool { return s.draining.Load() }

// Stop stops fetching tasks and waits for running ones until grace has
// passed; then their workers are killed and the tasks go back to the queue.
func (s *Service) Stop(grace time.Duration) error {
	s.Drain()
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if s.node != nil {
		defer s.node.leave(s)
	}
	err := s.river.Stop(ctx)
	if err == nil {
		return nil
	}
	s.log.Warn().Msg("grace period over: interrupting running tasks")
	hctx, hcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer hcancel()
	return s.river.StopAndCancel(hctx)
}

// Ready reports whether the service takes jobs.
func (s *Service) Ready(ctx context.Context) error {
	if s.draining.Load() {
		return errs.E(errs.Unavailable, "the server is shutting down")
	}
	if err := s.store.DB().PingContext(ctx); err != nil {
		return errs.Wrap(errs.Unavailable, err, "database")
	}
	if err := s.lowSpace(); err != nil {
		return errs.E(errs.Unavailable, "%s: new jobs get 507 until space is freed", err.Error())
	}
	// Scans of the data directory run behind: datasets already indexed
	// are served meanwhile, a job on one being indexed gets 503.
	return nil
}

// Indexed reports whether the first scan of the data directory ended.
func (s *Service) Indexed() bool { return s.catalog.Indexed() }

// Datasets lists the datasets.
func (s *Service) Datasets(ctx context.Context) ([]*catalog.Dataset, error) {
	return s.catalog.Datasets(ctx)
}

// Dataset describes one dataset from the index.
func (s *Service) Dataset(ctx context.Context, id string) (*catalog.Info, error) {
	return s.catalog.Info(ctx, id)
}

// DatasetFiles lists the files of a dataset that match q.
func (s *Service) DatasetFiles(ctx context.Context, id string, q catalog.FileQuery) (*catalog.FilePage, error) {
	return s.catalog.Files(ctx, id, q)
}

// Reindex asks for a scan of one dataset.
func (s *Service) Reindex(ctx context.Context, id string, force bool) (*catalog.IndexStatus, error) {
	return s.catalog.Reindex(ctx, id, force)
}

// IndexStatus is the state of a dataset's indexing.
func (s *Service) IndexStatus(ctx context.Context, id string) (*catalog.IndexStatus, error) {
	return s.catalog.IndexStatus(ctx, id)
}

// Submit validates a job of by.Owner, admits it under the server's limits
// and the owner's quota, stores it and enqueues its tasks. With an
// idempotency key the owner already used for the same request it returns
// that job and created = false.
func (s *Service) Submit(ctx context.Context, spec *jobs.Spec, by jobs.Submitter, idemKey string) (*jobs.Job, bool, error) {
	if s.draining.Load() {
		return nil, false, errs.E(errs.Unavailable, "the server is shutting down: submit the job again later")
	}
	if err := s.validate(spec); err != nil {
		return nil, false, err
	}
	hash := spec.Hash()
	if idemKey != "" {
		if j, err := s.replay(ctx, by.Owner, idemKey, hash); j != nil || err != nil {
			return j, false, err
		}
	}
	if err := s.lowSpace(); err != nil {
		return nil, false, errs.E(errs.NoSpace, "%s: try again later", err.Error())
	}
	sel, err := s.choose(ctx, spec)
	if err != nil {
		return nil, false, err
	}
	if err := s.checkOutput(ctx, spec, sel, by.Quota.MaxOutputBytes); err != nil {
		return nil, false, err
	}
	now := s.store.Now().UTC()
	job := &jobs.Job{ID: uuid.Must(uuid.NewV7()).String(), Owner: by.Owner, Dataset: spec.Dataset, Spec: *spec, Created: now,
		Kind: sel.Kind, Notes: sel.Notes}
	if s.cfg.JobDeadline > 0 {
		job.Deadline = now.Add(s.cfg.JobDeadline)
	}
	var tasks []jobs.Task
	tasks, job.Regions = planTasks(job.ID, spec.Regions, sel, s.cfg.Workers, s.cfg.RegionsPerTask)
	err = s.store.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.store.Admit(ctx, tx, jobs.Admission{QueueLimit: s.cfg.QueueLimit, Owner: by.Owner, Quota: by.Quota}); err != nil {
			return err
		}
		if err := s.store.Insert(ctx, tx, job, tasks, idemKey, hash); err != nil {
			return err
		}
		// Fair shares (fair.go): the priority of each task from the
		// number of the owner's tasks already waiting.
		waiting, err := s.store.QueuedTasks(ctx, tx, by.Owner)
		if err != nil {
			return fmt.Errorf("queued tasks: %w", err)
		}
		for i, t := range tasks {
			res, err := s.inserter.InsertTx(ctx, tx, TaskArgs{JobID: job.ID, TaskID: t.ID}, &river.InsertOpts{Priority: taskPriority(waiting+i, s.cfg.Workers)})
			if err != nil {
				return fmt.Errorf("enqueue task: %w", err)
			}
			if err := s.store.SetRiverID(ctx, tx, job.ID, t.ID, res.Job.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if idemKey != "" {
			// Another request with the same key won the race.
			if j, rerr := s.replay(ctx, by.Owner, idemKey, hash); j != nil || rerr != nil {
				return j, false, rerr
			}
		}
		return nil, false, err
	}
	if len(tasks) > 0 {
		s.wake(ctx, river.QueueDefault)
	}
	s.log.Info().Str("job_id", job.ID).Str("owner", job.Owner).Str("dataset", job.Dataset).Str("kind", job.Kind).Int("regions", len(spec.Regions)).
		Int("tasks", len(tasks)).Int("files", len(sel.Files)).Msg("job accepted")
	if len(tasks) == 0 && spec.Statistics != nil {
		// No input meets a region: the statistics (every region empty)
		// are all there is to do.
		go func() {
			s.assembleStats(context.WithoutCancel(ctx), job.ID)
			s.writeManifest(context.WithoutCancel(ctx), job.ID)
		}()
	}
	j, err := s.store.Get(ctx, job.ID)
	return j, true, err
}

// validate checks a job before any file is chosen: what Submit and
// Estimate do first.
func (s *Service) validate(spec *jobs.Spec) error {
	if spec.Dataset == "" {
		return errs.F(errs.Invalid, "dataset", "a dataset is needed")
	}
	return spec.Validate()
}

// choose chooses a job's files from the index and checks its variables,
// strides and vertical range against the dataset's.
func (s *Service) choose(ctx context.Context, spec *jobs.Spec) (*catalog.Selection, error) {
	sel, err := s.catalog.Select(ctx, spec.Dataset, &engine.Request{Regions: spec.Regions, Time: spec.Time})
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		return nil, errs.F(errs.Invalid, "dataset", "unknown dataset %q", spec.Dataset)
	case err != nil:
		return nil, err
	case sel.Info.FileCount > 0:
		for i, v := range spec.Variables {
			if !sel.Info.HasVariable(v) {
				return nil, errs.F(errs.Invalid, fmt.Sprintf("variables[%d]", i), "dataset %q has no variable %q", spec.Dataset, v)
			}
		}
		// Strides and the vertical range, by the rule each worker's plan
		// applies, against the dimensions the index recorded (without
		// their axes when recorded by an older version: the worker then
		// says whether there is a vertical axis).
		req := engine.Request{Stride: spec.Stride, Vertical: spec.Vertical}
		if !slices.ContainsFunc(sel.Info.Dimensions, func(d engine.DimInfo) bool { return d.Axis != "" }) {
			req.Vertical = nil
		}
		if err := req.CheckData(fmt.Sprintf("dataset %q", spec.Dataset), sel.Info.Dimensions); err != nil {
			return nil, err
		}
	}
	return sel, nil
}

func (s *Service) replay(ctx context.Context, owner, key, hash string) (*jobs.Job, error) {
	id, h, err := s.store.ByIdempotencyKey(ctx, s.store.DB(), owner, key)
	if err != nil || id == "" {
		return nil, err
	}
	if h != hash {
		return nil, errs.F(errs.Conflict, "Idempotency-Key", "this key was used for a different request (job %s)", id)
	}
	return s.store.Get(ctx, id)
}

// Get returns a job.
func (s *Service) Get(ctx context.Context, id string) (*jobs.Job, error) { return s.store.Get(ctx, id) }

// List lists jobs newest first.
func (s *Service) List(ctx context.Context, p jobs.ListParams) ([]*jobs.Job, error) {
	return s.store.List(ctx, p)
}

// Cancel dismisses an active job: queued tasks will not run, running
// workers are killed.
func (s *Service) Cancel(ctx context.Context, id string) (*jobs.Job, error) {
	ids, err := s.store.DismissJob(ctx, id, "dismissed by the user")
	if err != nil {
		return nil, err
	}
	s.stopJob(ctx, id, ids, errDismissed)
	s.log.Info().Str("job_id", id).Msg("job dismissed")
	return s.store.Get(ctx, id)
}

// Delete is a user's DELETE of a job: an active job is dismissed (Cancel)
// and returned; a final one is deleted with its files (deleted = true).
func (s *Service) Delete(ctx context.Context, id string) (j *jobs.Job, deleted bool, err error) {
	j, err = s.Cancel(ctx, id)
	if errs.CodeOf(err) != errs.Conflict {
		return j, false, err
	}
	if err := s.remove(ctx, id); err != nil {
		return nil, false, err
	}
	s.log.Info().Str("job_id", id).Msg("job deleted by its user")
	return nil, true, nil
}

// stopJob kills the running tasks of a job that just ended and takes its
// queued ones out of the queue.
func (s *Service) stopJob(ctx context.Context, id string, riverIDs []int64, cause error) {
	s.mu.Lock()
	for _, cancel := range s.running[id] {
		cancel(cause)
	}
	s.mu.Unlock()
	for _, rid := range riverIDs {
		if rid == 0 {
			continue
		}
		if _, err := s.river.JobCancel(context.WithoutCancel(ctx), rid); err != nil && !errors.Is(err, river.ErrNotFound) {
			s.log.Warn().Err(err).Str("job_id", id).Int64("river_id", rid).Msg("cancel queued task")
		}
	}
	s.writeManifest(ctx, id)
}

// File opens a file of a job, checking that the name is one the job
// produced and that it resolves beneath the state directory at every
// component: each is looked up through an os.Root of that directory, and a
// symbolic link anywhere on the way (outputs are never links) is refused
// as if the file were gone. The caller closes the file.
func (s *Service) File(ctx context.Context, id, name string) (*os.File, *jobs.File, error) {
	if !safeName(name) {
		return nil, nil, errs.E(errs.NotFound, "no file %q in job %s", name, id)
	}
	j, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range append(j.Regions, jobs.Region{Files: j.Files}) {
		for _, f := range r.Files {
			if f.Name != name {
				continue
			}
			fh, err := openBeneath(s.cfg.StateDir, path.Join("jobs", id, "files", name))
			if err != nil {
				return nil, nil, errs.E(errs.NotFound, "file %q of job %s is no longer available", name, id)
			}
			f := f
			return fh, &f, nil
		}
	}
	return nil, nil, errs.E(errs.NotFound, "no file %q in job %s", name, id)
}

// openBeneath opens the regular file name ('/'-separated, safeName) below
// dir through an os.Root, refusing symbolic links at every component, and
// checks that the file opened is the one looked at.
func openBeneath(dir, name string) (*os.File, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	parts := strings.Split(name, "/")
	for i := range parts {
		p := strings.Join(parts[:i+1], "/")
		st, err := root.Lstat(p)
		if err != nil {
			return nil, err
		}
		last := i == len(parts)-1
		if (!last && !st.IsDir()) || (last && !st.Mode().IsRegular()) {
			return nil, fmt.Errorf("%s: not a plain directory or file", p)
		}
	}
	want, _ := root.Lstat(name)
	fh, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	if got, err := fh.Stat(); err != nil || !os.SameFile(got, want) {
		fh.Close()
		return nil, fmt.Errorf("%s changed while it was opened", name)
	}
	return fh, nil
}

// safeName accepts relative slash-separated names without empty, "." or
// ".."-prefixed parts.
func safeName(name string) bool {
	if name == "" || strings.ContainsAny(name, "\\\x00") || path.Clean(name) != name || strings.HasPrefix(name, "/") {
		return false
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" || strings.HasPrefix(part, ".") {
			return false
		}
	}
	return true
}

const tmpDir = ".tmp"

func (s *Service) jobDir(id string) string   { return filepath.Join(s.cfg.StateDir, "jobs", id) }
func (s *Service) filesDir(id string) string { return filepath.Join(s.jobDir(id), "files") }

// writeManifest writes manifest.json beside the files of a final job.
func (s *Service) writeManifest(ctx context.Context, id string) {
	// Under the lock retention deletes under: a job deleted meanwhile
	// must not get its folder back.
	s.manifestMu.Lock()
	defer s.manifestMu.Unlock()
	j, err := s.store.Get(context.WithoutCancel(ctx), id)
	if err != nil || !j.Status.Final() {
		return
	}
	m := jobs.BuildManifest(j)
	s.sweepUnlisted(id, m)
	doc, _ := json.MarshalIndent(m, "", "  ")
	if err := os.MkdirAll(s.jobDir(id), 0o755); err == nil {
		err = writeAtomic(filepath.Join(s.jobDir(id), "manifest.json"), append(doc, '\n'))
		if err != nil {
			s.log.Error().Err(err).Str("job_id", id).Msg("write manifest")
		}
	}
}

// writeAtomic writes a file under a temporary name of its own, syncs and
// renames it, and syncs the directory.
func writeAtomic(p string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(p), filepath.Base(p)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err = f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, p); err != nil {
		return err
	}
	return syncDir(filepath.Dir(p))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// userMessage removes the server's directories from a message shown to users.
func (s *Service) userMessage(msg string) string {
	for _, dir := range []string{s.catalog.Root(), s.cfg.StateDir} {
		if dir != "" {
			msg = strings.ReplaceAll(msg, dir+string(filepath.Separator), "")
		}
	}
	return msg
}
