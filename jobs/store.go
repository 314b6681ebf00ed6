package jobs

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/internal/sqlmigrate"
)

// Store keeps jobs, their regions and tasks in SQL tables beside River's,
// so that creating a job and enqueueing its tasks is one transaction. The SQL
// is plain (? placeholders, ON CONFLICT, no JSON functions) so that it runs
// on SQLite and, through a placeholder rewrite, on PostgreSQL.
//
// The database may have a single connection (SQLite): a method never uses
// the pool while it holds a transaction.
type Store struct {
	db      *sql.DB
	rdb     *sql.DB            // reads outside transactions: db, or a pool of read-only connections (SetReadDB)
	dialect sqlmigrate.Dialect // SQLite unless NewPostgresStore (store_pg.go)
	Now     func() time.Time
	// Changed, when set, is told the id of a job after each transaction
	// that changed it is committed (the API's event hub listens). It is
	// called on the transition's goroutine and must not block.
	Changed func(jobID string)
	// Progressed, when set, is told instead of Changed when only the
	// progress of a job's running task changed: a listener may read such
	// changes at its own pace.
	Progressed func(jobID string)
	// Enqueue, when set, is given each notification a change of a job
	// owes (Spec.Notify), in the transaction of the change: the queue
	// inserts the task that delivers it.
	Enqueue func(ctx context.Context, tx *sql.Tx, jobID, deliveryID string) error

	gen atomic.Int64 // counts changes of final jobs (their notifications), so that a Get racing one caches nothing stale
	// Node names the server using the store among several (PostgreSQL):
	// StartTask records it on the task, for the rescue of a node that
	// stopped (nodes.go). Empty on a single server.
	Node string

	final  sync.Map // id -> *Job: final jobs never change until deleted
	listed sync.Map // id -> *Job without its regions: final jobs as List returns them
	stmts  sync.Map // query -> *sql.Stmt on rdb: the shapes of List's page query (maxStmts at most)
	nstmts atomic.Int64
	keys   sync.Map // secret hash -> keyEntry: what Authenticate read, for KeyCacheTTL

	// OnJobEvent, when set before the store is used, is called after each
	// transaction that changed a job's status, once per change, in order:
	// the audit log.
	OnJobEvent func(JobEvent)
	evMu       sync.Mutex
	events     map[*sql.Tx][]JobEvent // changes of transactions not yet committed
}

// JobEvent is a change of a job: To is its new status, or "deleted".
type JobEvent struct {
	Job     string
	Owner   string
	To      string
	Message string
}

// NewStore returns a store on db. Call Migrate before use.
func NewStore(db *sql.DB) *Store {
	return &Store{db: db, rdb: db, dialect: sqlmigrate.SQLite, Now: time.Now}
}

// SetReadDB gives the store a pool of read-only connections to the same
// database for the reads the API makes outside transactions (documents,
// listings, keys, counts): SQLite's write connection is a single one that
// River shares, while readers of a WAL database run side by side and see
// every committed transaction. Call it before the store is used.
func (s *Store) SetReadDB(db *sql.DB) {
	s.rdb = db
	s.stmts.Clear()
	s.nstmts.Store(0)
}

// maxStmts bounds the statements readStmt keeps.
const maxStmts = 128

// readStmt runs query on the read connections, prepared once: preparing
// List's page query took a tenth of a listing's time.
func (s *Store) readStmt(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st, ok := s.stmts.Load(query); ok {
		return st.(*sql.Stmt).QueryContext(ctx, args...)
	}
	if s.nstmts.Load() >= maxStmts {
		return s.rdb.QueryContext(ctx, query, args...)
	}
	st, err := s.rdb.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if old, loaded := s.stmts.LoadOrStore(query, st); loaded {
		st.Close()
		st = old.(*sql.Stmt)
	} else {
		s.nstmts.Add(1)
	}
	return st.QueryContext(ctx, args...)
}

// DB is the store's database.
func (s *Store) DB() *sql.DB { return s.db }

//go:embed migrations
var migrationFiles embed.FS

// Migrate brings the store's tables to the newest of migrations/ (numbered,
// one folder per SQL dialect; a database written before the version table
// is adopted).
func (s *Store) Migrate(ctx context.Context) error {
	files, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	set := sqlmigrate.Set{Table: "subsetd_job_migration", FS: files, Baseline: 1}
	if err := sqlmigrate.Migrate(ctx, s.db, s.dialect, set); err != nil {
		return fmt.Errorf("job store: %w", err)
	}
	return nil
}

// ErrNotActive is returned by transitions that found the job or task in a
// state they do not apply to (a cancel raced a completion, a task was
// delivered twice...).
var ErrNotActive = errors.New("not in an active state")

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// InTx runs fn in a transaction, committed when fn returns nil; then the
// job events it recorded are reported to OnJobEvent.
func (s *Store) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	err = fn(tx)
	if err == nil {
		if err = tx.Commit(); err != nil {
			err = fmt.Errorf("commit: %w", err)
		}
	} else {
		_ = tx.Rollback()
	}
	s.evMu.Lock()
	evs := s.events[tx]
	delete(s.events, tx)
	s.evMu.Unlock()
	if err != nil {
		return err
	}
	for _, ev := range evs {
		s.OnJobEvent(ev)
	}
	return nil
}

// event records, in tx, that job jobID became to.
func (s *Store) event(ctx context.Context, tx *sql.Tx, jobID, to, msg string) error {
	if s.OnJobEvent == nil {
		return nil
	}
	var owner string
	if err := tx.QueryRowContext(ctx, `SELECT owner FROM subsetd_job WHERE id = ?`, jobID).Scan(&owner); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("job event: %w", err)
	}
	s.evMu.Lock()
	defer s.evMu.Unlock()
	if s.events == nil {
		s.events = map[*sql.Tx][]JobEvent{}
	}
	s.events[tx] = append(s.events[tx], JobEvent{Job: jobID, Owner: owner, To: to, Message: msg})
	return nil
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// Insert stores a new job of j.Owner with its regions and tasks, all
// accepted, inside tx. The caller enqueues the tasks in the same
// transaction, after Admit.
func (s *Store) Insert(ctx context.Context, tx *sql.Tx, j *Job, tasks []Task, idemKey, idemHash string) error {
	spec, err := json.Marshal(j.Spec)
	if err != nil {
		return fmt.Errorf("encode spec: %w", err)
	}
	var key any
	if idemKey != "" {
		key = idemKey
	}
	now := ms(j.Created)
	notes, _ := json.Marshal(orEmpty(j.Notes))
	var stats StatsState
	if j.Spec.Statistics != nil {
		stats = StatsPending
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO subsetd_job
		(id, owner, dataset, status, spec, tasks, idem_key, idem_hash, created_ms, updated_ms, deadline_ms, kind, notes, stats)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		j.ID, j.Owner, j.Dataset, string(Accepted), string(spec), len(tasks), key, idemHash, now, now, ms(j.Deadline), j.Kind, string(notes), string(stats)); err != nil {
		return fmt.Errorf("insert job: %w", err)
	}
	if err := s.event(ctx, tx, j.ID, string(Accepted), ""); err != nil {
		return err
	}
	taskOf := map[int]int{}
	for _, t := range tasks {
		for _, r := range t.Regions {
			taskOf[r] = t.ID
		}
		if t.RegionFiles != nil && len(t.RegionFiles) != len(t.Regions) {
			return fmt.Errorf("insert task %d: %d region file lists for %d regions", t.ID, len(t.RegionFiles), len(t.Regions))
		}
		rs, _ := json.Marshal(t.Regions)
		fs, _ := json.Marshal(orEmpty(t.Files))
		rf, _ := json.Marshal(t.RegionFiles)
		if _, err := tx.ExecContext(ctx, `INSERT INTO subsetd_task (job_id, task_id, status, regions, river_id, files, region_files, concat) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			j.ID, t.ID, string(Accepted), string(rs), t.RiverID, string(fs), string(rf), boolInt(t.Concat)); err != nil {
			return fmt.Errorf("insert task: %w", err)
		}
	}
	for i, r := range j.Spec.Regions {
		// A region without a task was decided at submission (no input
		// meets it): it is final from the start.
		task, status, msg := taskOf[i], Accepted, ""
		if _, ok := taskOf[i]; !ok {
			task, status, msg = -1, Empty, "no input file meets the region"
			if i < len(j.Regions) && j.Regions[i].Message != "" {
				msg = j.Regions[i].Message
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO subsetd_region (job_id, idx, name, task_id, status, message) VALUES (?, ?, ?, ?, ?, ?)`,
			j.ID, i, r.OutputName(), task, string(status), msg); err != nil {
			return fmt.Errorf("insert region: %w", err)
		}
	}
	if len(tasks) == 0 {
		if err := s.finalize(ctx, tx, j.ID); err != nil {
			return err
		}
	}
	return s.queueNotices(ctx, tx, j.ID)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func orEmpty[T any](x []T) []T {
	if x == nil {
		return []T{}
	}
	return x
}

// SetRiverID records the queue's id of a task's queue entry.
func (s *Store) SetRiverID(ctx context.Context, tx *sql.Tx, jobID string, taskID int, riverID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE subsetd_task SET river_id = ? WHERE job_id = ? AND task_id = ?`, riverID, jobID, taskID)
	return err
}

// ByIdempotencyKey returns the id and request hash of the job owner
// submitted with key, or "" when there is none.
func (s *Store) ByIdempotencyKey(ctx context.Context, q querier, owner, key string) (id, hash string, err error) {
	err = q.QueryRowContext(ctx, `SELECT id, idem_hash FROM subsetd_job WHERE owner = ? AND idem_key = ?`, owner, key).Scan(&id, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	return id, hash, err
}

const jobCols = `id, owner, dataset, status, message, spec, tasks, created_ms, started_ms, finished_ms, updated_ms, deadline_ms, kind, notes, files_opened, stats, files`

func scanJob(sc interface{ Scan(...any) error }) (*Job, error) {
	var j Job
	var status, spec, notes, stats, files string
	var c, st, f, u, d int64
	if err := sc.Scan(&j.ID, &j.Owner, &j.Dataset, &status, &j.Message, &spec, &j.Tasks, &c, &st, &f, &u, &d, &j.Kind, &notes, &j.FilesOpened, &stats, &files); err != nil {
		return nil, err
	}
	j.Stats = StatsState(stats)
	if err := json.Unmarshal([]byte(files), &j.Files); err != nil {
		return nil, fmt.Errorf("decode files of job %s: %w", j.ID, err)
	}
	j.Status = Status(status)
	if err := json.Unmarshal([]byte(spec), &j.Spec); err != nil {
		return nil, fmt.Errorf("decode spec of job %s: %w", j.ID, err)
	}
	_ = j.Spec.FixRefs() // specs stored before regions were fixed at submission

	if err := json.Unmarshal([]byte(notes), &j.Notes); err != nil {
		return nil, fmt.Errorf("decode notes of job %s: %w", j.ID, err)
	}
	j.Created, j.Started, j.Finished, j.Updated, j.Deadline = fromMS(c), fromMS(st), fromMS(f), fromMS(u), fromMS(d)
	return &j, nil
}

// Get returns a job with its regions; an errs NotFound error when there is none.
func (s *Store) Get(ctx context.Context, id string) (*Job, error) {
	if j, ok := s.final.Load(id); ok {
		return j.(*Job), nil
	}
	gen := s.gen.Load()
	j, err := s.get(ctx, s.rdb, id)
	if err != nil {
		return nil, err
	}
	if j.Status.Final() && s.gen.Load() == gen {
		s.final.Store(id, j)
	}
	return j, nil
}

func (s *Store) get(ctx context.Context, q querier, id string) (*Job, error) {
	j, err := scanJob(q.QueryRowContext(ctx, `SELECT `+jobCols+` FROM subsetd_job WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(errs.NotFound, "no job %q", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get job: %w", err)
	}
	rows, err := q.QueryContext(ctx, `SELECT idx, name, task_id, status, message, files FROM subsetd_region WHERE job_id = ? ORDER BY idx`, id)
	if err != nil {
		return nil, fmt.Errorf("get regions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Region
		var status, files string
		if err := rows.Scan(&r.Index, &r.Name, &r.Task, &status, &r.Message, &files); err != nil {
			return nil, err
		}
		r.Status = Status(status)
		if err := json.Unmarshal([]byte(files), &r.Files); err != nil {
			return nil, fmt.Errorf("decode files: %w", err)
		}
		j.Regions = append(j.Regions, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if j.Spec.Notify != nil {
		if j.Deliveries, err = s.deliveries(ctx, q, id); err != nil {
			return nil, err
		}
	}
	if err := s.taskProgress(ctx, q, j); err != nil {
		return nil, err
	}
	if j.Status == Accepted {
		if err := q.QueryRowContext(ctx, `SELECT count(*) + 1 FROM subsetd_job WHERE status = 'accepted' AND id < ?`, j.ID).Scan(&j.QueuePosition); err != nil {
			return nil, fmt.Errorf("queue position: %w", err)
		}
	}
	return j, nil
}

// ListParams filter and page a listing.
type ListParams struct {
	Owner    string // the jobs of this owner...
	AnyOwner bool   // ...or of every owner
	Statuses []Status
	Dataset  string
	Before   string // list ids smaller (older) than this one
	Limit    int
}

// List returns jobs newest first, without their regions. Job ids sort by
// creation time, so paging is by id.
func (s *Store) List(ctx context.Context, p ListParams) ([]*Job, error) {
	// The page's ids and statuses first: final jobs come from the cache,
	// the rest (and final jobs not seen yet) from one more query.
	q := `SELECT id, status FROM subsetd_job WHERE 1=1`
	var args []any
	if !p.AnyOwner {
		q += ` AND owner = ?`
		args = append(args, p.Owner)
	}
	if len(p.Statuses) > 0 {
		q += ` AND status IN (?` + strings.Repeat(",?", len(p.Statuses)-1) + `)`
		for _, st := range p.Statuses {
			args = append(args, string(st))
		}
	}
	if p.Dataset != "" {
		q += ` AND dataset = ?`
		args = append(args, p.Dataset)
	}
	if p.Before != "" {
		q += ` AND id < ?`
		args = append(args, p.Before)
	}
	// The limit written out: SQLite plans a statement again at each run
	// when its LIMIT is a parameter (a third of the query's time).
	q += ` ORDER BY id DESC LIMIT ` + strconv.Itoa(max(p.Limit, 0))
	rows, err := s.readStmt(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	var out []*Job
	var missing []any
	at := map[string]int{}
	for rows.Next() {
		var id, status string
		if err := rows.Scan(&id, &status); err != nil {
			rows.Close()
			return nil, err
		}
		if j, ok := s.listed.Load(id); ok && Status(status).Final() {
			out = append(out, j.(*Job))
			continue
		}
		at[id] = len(out)
		out = append(out, nil)
		missing = append(missing, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(missing) == 0 {
		return out, nil
	}
	rows, err = s.rdb.QueryContext(ctx, `SELECT `+jobCols+` FROM subsetd_job WHERE id IN (?`+strings.Repeat(",?", len(missing)-1)+`)`, missing...)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		if j.Status.Final() {
			s.listed.Store(j.ID, j)
		}
		out[at[j.ID]] = j
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// A job deleted between the two queries is left out.
	return slices.DeleteFunc(out, func(j *Job) bool { return j == nil }), nil
}

// Tasks returns the tasks of a job.
func (s *Store) Tasks(ctx context.Context, jobID string) ([]Task, error) {
	return s.tasks(ctx, s.rdb, jobID, "")
}

func (s *Store) tasks(ctx context.Context, q querier, jobID string, only string) ([]Task, error) {
	query := `SELECT task_id, status, regions, attempts, river_id, message, files, region_files, concat FROM subsetd_task WHERE job_id = ?`
	args := []any{jobID}
	if only != "" {
		query += ` AND task_id = ?`
		args = append(args, only)
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY task_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("get tasks: %w", err)
	}
	defer rows.Close()
	var out []Task
	for rows.Next() {
		t := Task{JobID: jobID}
		var status, rs, fs, rf string
		if err := rows.Scan(&t.ID, &status, &rs, &t.Attempts, &t.RiverID, &t.Message, &fs, &rf, &t.Concat); err != nil {
			return nil, err
		}
		t.Status = Status(status)
		if err := json.Unmarshal([]byte(rs), &t.Regions); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(fs), &t.Files); err != nil {
			return nil, fmt.Errorf("decode files of task %s/%d: %w", jobID, t.ID, err)
		}
		if len(t.Files) == 0 {
			t.Files = nil
		}
		if err := json.Unmarshal([]byte(rf), &t.RegionFiles); err != nil {
			return nil, fmt.Errorf("decode region files of task %s/%d: %w", jobID, t.ID, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Counts returns the number of jobs by status and of tasks waiting to run.
func (s *Store) Counts(ctx context.Context) (jobs map[Status]int, queued int, err error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT status, count(*) FROM subsetd_job GROUP BY status`)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	jobs = map[Status]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, 0, err
		}
		jobs[Status(st)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	err = s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM subsetd_task WHERE status = ?`, string(Accepted)).Scan(&queued)
	return jobs, queued, err
}

// QueuedTasks counts the tasks of owner's jobs waiting for a worker, in
// tx (the submission's, so that the count and the new tasks agree).
func (s *Store) QueuedTasks(ctx context.Context, tx *sql.Tx, owner string) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM subsetd_task t JOIN subsetd_job j ON j.id = t.job_id WHERE j.owner = ? AND t.status = ?`,
		owner, string(Accepted)).Scan(&n)
	return n, err
}

// Expired lists final jobs finished before t.
func (s *Store) Expired(ctx context.Context, t time.Time) ([]string, error) {
	return s.ids(ctx, `SELECT id FROM subsetd_job WHERE status NOT IN (?, ?) AND finished_ms < ?`, string(Accepted), string(Running), ms(t))
}

// Overdue lists active jobs whose deadline is before t.
func (s *Store) Overdue(ctx context.Context, t time.Time) ([]string, error) {
	return s.ids(ctx, `SELECT id FROM subsetd_job WHERE status IN (?, ?) AND deadline_ms > 0 AND deadline_ms < ?`, string(Accepted), string(Running), ms(t))
}

// JobIDs lists every job id.
func (s *Store) JobIDs(ctx context.Context) ([]string, error) {
	return s.ids(ctx, `SELECT id FROM subsetd_job`)
}

// FinalJobIDs lists the ids of the jobs that ended.
func (s *Store) FinalJobIDs(ctx context.Context) ([]string, error) {
	return s.ids(ctx, `SELECT id FROM subsetd_job WHERE status NOT IN `+active)
}

func (s *Store) ids(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// Delete removes a final job's rows: NotFound when there is no such job,
// Conflict when it is active.
func (s *Store) Delete(ctx context.Context, id string) error {
	s.final.Delete(id)
	s.listed.Delete(id)
	return s.change(ctx, id, func(tx *sql.Tx) error {
		if err := s.event(ctx, tx, id, "deleted", ""); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM subsetd_job WHERE id = ? AND status NOT IN `+active, id)
		if err != nil {
			return fmt.Errorf("delete job %s: %w", id, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("delete job %s: %w", id, err)
		} else if n == 0 {
			var st string
			if err := tx.QueryRowContext(ctx, `SELECT status FROM subsetd_job WHERE id = ?`, id).Scan(&st); errors.Is(err, sql.ErrNoRows) {
				return errs.E(errs.NotFound, "no job %q", id)
			} else if err != nil {
				return err
			}
			return errs.E(errs.Conflict, "job %s is %s: dismiss it first", id, st)
		}
		for _, q := range []string{`DELETE FROM subsetd_region WHERE job_id = ?`, `DELETE FROM subsetd_task WHERE job_id = ?`, `DELETE FROM subsetd_delivery WHERE job_id = ?`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("delete job %s: %w", id, err)
			}
		}
		return nil
	})
}
