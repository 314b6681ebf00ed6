package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/subsetd/subsetd/internal/datafile"
)

// ScanOptions configure a scan.
type ScanOptions struct {
	// Root is the data directory: each immediate sub-folder is a dataset
	// of the files below it; a data file directly in it is a dataset of
	// its own.
	Root string
	// AllowedRoots are folders besides Root that symbolic links of the
	// data directory may lead into (see Roots); links elsewhere are
	// refused and reported.
	AllowedRoots []string
	// Dataset limits the scan to one dataset; "" scans them all (and drops
	// the datasets that are gone).
	Dataset string
	// Command is the inspector's argv; "--sha256" is appended when Sha256
	// is set. Default: this executable with "inspect --stdin".
	Command []string
	// Workers is the number of inspector processes (default: the number
	// of CPUs).
	Workers int
	// Sha256 asks for the checksum of every file inspected; files indexed
	// without one are inspected again.
	Sha256 bool
	// CallLimit bounds each call of the C libraries on a file (proc's
	// CallLimit; 0: none): an inspector stuck longer in one is killed and
	// the file recorded as unreadable, "the C library did not answer
	// within 15 s".
	CallLimit time.Duration
	// Timeout bounds the inspection of one file (default 2 minutes); the
	// inspector is then killed and the file recorded as failed.
	Timeout time.Duration
	// Force inspects every file again, changed or not.
	Force bool
	// Progress, when set, is called every ProgressEvery (default 250 ms)
	// and once at the end, from one goroutine.
	Progress      func(Progress)
	ProgressEvery time.Duration
}

// Progress is the state of a running scan.
type Progress struct {
	Found     int           // data files found so far
	Skipped   int           // unchanged files, not opened
	Inspected int           // files inspected so far
	Errors    int           // files among those that failed
	Rate      float64       // files inspected per second
	Elapsed   time.Duration //
	Walking   bool          // still looking for files
	Final     bool          // the last call
}

// Report is the outcome of a scan.
type Report struct {
	Root     string        `json:"root"`
	Roots    []string      `json:"roots"`              // where links may lead: Root, then the allowed roots (resolved)
	Dataset  string        `json:"dataset,omitempty"`  // the one dataset scanned
	Datasets int           `json:"datasets"`           // datasets in the index (of the scope) after the scan
	Files    int           `json:"files"`              // data files found
	New      int           `json:"new"`                // inspected: not in the index before
	Changed  int           `json:"changed"`            // inspected: size or time changed (or Force)
	Hashed   int           `json:"hashed"`             // inspected: unchanged, but without the sha256 asked for
	Deleted  int           `json:"deleted"`            // dropped: gone from the data directory
	Skipped  int           `json:"skipped"`            // unchanged, not opened
	Failed   int           `json:"failed"`             // inspected, unreadable
	Crashed  int           `json:"crashed"`            // of Failed: the inspector died or timed out
	Unread   int           `json:"unread"`             // of Skipped: unchanged files known to be unreadable
	Duration time.Duration `json:"duration_ns"`        //
	Rate     float64       `json:"files_per_second"`   // inspected files per second
	Failures []Failure     `json:"failures,omitempty"` // the files that failed in this scan
	Refused  []Refusal     `json:"refused,omitempty"`  // entries left out
}

// Inspected is the number of files opened by the scan.
func (r *Report) Inspected() int { return r.New + r.Changed + r.Hashed }

// Refusal is an entry of the data directory the scan left out, and why.
// A symbolic link refused has Link set and Target, where it leads (as far
// as it resolves).
type Refusal struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
	Link   bool   `json:"link,omitempty"`
	Target string `json:"target,omitempty"`
}

// String is the refusal in a line: the path, the link's target, the
// reason.
func (r Refusal) String() string {
	if r.Link && r.Target != "" {
		return r.Path + ": symbolic link to " + r.Target + ": " + r.Reason
	}
	if r.Link {
		return r.Path + ": symbolic link: " + r.Reason
	}
	return r.Path + ": " + r.Reason
}

// Links are the refusals of symbolic links among rs.
func Links(rs []Refusal) []Refusal {
	var out []Refusal
	for _, r := range rs {
		if r.Link {
			out = append(out, r)
		}
	}
	return out
}

// known is a file as the index has it.
type known struct {
	id      int64
	size    int64
	mtime   int64
	failed  bool
	hasHash bool
}

type job struct {
	dataset, rel, abs string
	size              int64
	mtime             time.Time
	reason            int // reasonNew, reasonChanged, reasonHashed
}

const (
	reasonNew = iota
	reasonChanged
	reasonHashed
)

type result struct {
	job     job
	rec     Record
	crashed bool
}

type scanner struct {
	store *Store
	opts  ScanOptions
	root  string
	roots *Roots
	argv  []string
	known map[string]known

	ctx    context.Context
	cancel context.CancelCauseFunc

	// walker
	seen     map[string]bool
	walkErrs []string // folders (relative) that could not be read
	refused  []Refusal
	found    atomic.Int64
	skipped  atomic.Int64
	unread   atomic.Int64
	walking  atomic.Bool

	// datasets complete (walker and writer)
	doneMu  sync.Mutex
	pending map[string]int  // files sent for inspection and not stored yet
	listed  map[string]bool // walked, not yet complete

	// inspectors
	answered     atomic.Int64 // answers of any kind, from any inspector
	earlyCrashes atomic.Int64 // crashes before any answer
}

// Scan brings the index up to date with the data directory: new and
// changed files are inspected, deleted ones dropped, unchanged ones (also
// unreadable ones) left alone. One scan runs at a time per Store; another
// waits. When ctx ends, what was inspected is kept and nothing is dropped.
func (s *Store) Scan(ctx context.Context, opts ScanOptions) (*Report, error) {
	select {
	case s.scan <- struct{}{}:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	defer func() { <-s.scan }()
	t0 := time.Now()
	if opts.Dataset != "" && !datafile.ValidID(opts.Dataset) {
		return nil, fmt.Errorf("bad dataset id %q", opts.Dataset)
	}
	roots, err := NewRoots(opts.Root, opts.AllowedRoots)
	if err != nil {
		if strings.HasPrefix(err.Error(), "data directory") {
			return nil, fmt.Errorf("data directory %s is not a readable folder: %w", opts.Root, err)
		}
		return nil, err
	}
	root := roots.Data()
	if opts.Workers <= 0 {
		opts.Workers = runtime.NumCPU()
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Minute
	}
	if opts.ProgressEvery <= 0 {
		opts.ProgressEvery = 250 * time.Millisecond
	}
	argv := append([]string(nil), opts.Command...)
	if len(argv) == 0 {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("inspector: %w", err)
		}
		argv = []string{exe, "inspect", "--stdin"}
	}
	if opts.Sha256 {
		argv = append(argv, "--sha256")
	}
	sc := &scanner{store: s, opts: opts, root: root, roots: roots, argv: argv, seen: map[string]bool{},
		pending: map[string]int{}, listed: map[string]bool{}}
	if sc.known, err = s.loadKnown(ctx, opts.Dataset); err != nil {
		return nil, err
	}
	sc.ctx, sc.cancel = context.WithCancelCause(ctx)
	defer sc.cancel(nil)

	jobs := make(chan job, 2*opts.Workers)
	results := make(chan result, 2*opts.Workers)
	sc.walking.Store(true)
	go func() {
		defer close(jobs)
		defer sc.walking.Store(false)
		sc.walk(jobs, results)
	}()
	var wg sync.WaitGroup
	for range opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc.inspectAll(jobs, results)
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()
	rep := &Report{Root: root, Roots: roots.Dirs(), Dataset: opts.Dataset}
	werr := sc.write(results, rep, t0)

	rep.Files = int(sc.found.Load())
	rep.Skipped = int(sc.skipped.Load())
	rep.Unread = int(sc.unread.Load())
	rep.Refused = sc.refused
	if werr != nil {
		sc.cancel(werr)
	}
	if err := context.Cause(sc.ctx); err != nil {
		rep.Duration = time.Since(t0)
		return rep, err
	}
	// Drop what is gone, except below folders that could not be read.
	var gone []int64
	for rel, k := range sc.known {
		if !sc.seen[rel] && !sc.unreadable(rel) {
			gone = append(gone, k.id)
		}
	}
	if err := s.deleteFiles(ctx, gone); err != nil {
		return rep, fmt.Errorf("drop deleted files: %w", err)
	}
	rep.Deleted = len(gone)
	q, args := "UPDATE datasets SET scanned_at = ?", []any{time.Now().UnixNano()}
	if opts.Dataset != "" {
		q += " WHERE name = ?"
		args = append(args, opts.Dataset)
	}
	if _, err := s.db.ExecContext(ctx, q, args...); err != nil {
		return rep, err
	}
	q, args = "SELECT count(*) FROM datasets", nil
	if opts.Dataset != "" {
		q += " WHERE name = ?"
		args = append(args, opts.Dataset)
	}
	if err := s.db.QueryRowContext(ctx, q, args...).Scan(&rep.Datasets); err != nil {
		return rep, err
	}
	rep.Duration = time.Since(t0)
	if n := rep.Inspected(); n > 0 {
		rep.Rate = float64(n) / rep.Duration.Seconds()
	}
	return rep, nil
}

func (s *Store) loadKnown(ctx context.Context, dataset string) (map[string]known, error) {
	q := "SELECT f.id, f.path, f.size, f.mtime_ns, f.error != '', f.sha256 != '' FROM files f"
	var args []any
	if dataset != "" {
		q += " JOIN datasets d ON d.id = f.dataset_id WHERE d.name = ?"
		args = append(args, dataset)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]known{}
	for rows.Next() {
		var k known
		var p string
		if err := rows.Scan(&k.id, &p, &k.size, &k.mtime, &k.failed, &k.hasHash); err != nil {
			return nil, err
		}
		out[p] = k
	}
	return out, rows.Err()
}

func (sc *scanner) refuse(rel, reason string) {
	sc.refused = append(sc.refused, Refusal{Path: rel, Reason: reason})
}

// refuseErr records an entry left out for err: a refused link with its
// reason and target, anything else with its message.
func (sc *scanner) refuseErr(rel string, err error) {
	var le *LinkError
	if errors.As(err, &le) {
		sc.refused = append(sc.refused, Refusal{Path: rel, Reason: le.Reason, Link: true, Target: le.Target})
		return
	}
	sc.refuse(rel, err.Error())
}

func (sc *scanner) unreadable(rel string) bool {
	for _, p := range sc.walkErrs {
		if rel == p || strings.HasPrefix(rel, p+"/") {
			return true
		}
	}
	return false
}

// walk lists the datasets in name order (the first of two entries with one
// id wins, as in the server's listing) and their files.
func (sc *scanner) walk(jobs chan<- job, results chan<- result) {
	ents, err := os.ReadDir(sc.root)
	if err != nil {
		sc.cancel(fmt.Errorf("read data directory: %w", err))
		return
	}
	ids := map[string]string{}
	for _, e := range ents {
		if sc.ctx.Err() != nil {
			return
		}
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		real, st, err := sc.roots.Resolve(filepath.Join(sc.root, name))
		if err != nil {
			if IsLinkError(err) {
				sc.refuseErr(name, err)
			}
			continue
		}
		if !st.IsDir() && !st.Mode().IsRegular() {
			continue
		}
		if !st.IsDir() && !datafile.IsDataFile(name) {
			continue
		}
		id, err := datafile.DatasetID(name, st.IsDir())
		if err != nil {
			sc.refuse(name, err.Error())
			continue
		}
		if prev, dup := ids[id]; dup {
			sc.refuse(name, fmt.Sprintf("dataset id %q is taken by %s", id, prev))
			continue
		}
		ids[id] = name
		if sc.opts.Dataset != "" && id != sc.opts.Dataset {
			continue
		}
		if !st.IsDir() {
			sc.consider(jobs, results, id, name, real, st)
		} else {
			sc.walkDataset(jobs, results, id, name, real)
		}
		sc.walked(id)
	}
}

// Datasets are complete one by one: once the walker has listed a
// dataset's files and every one it sent for inspection is stored, its
// scanned_at is set, and the catalog serves it while the scan goes on with
// the others (a dataset never scanned to the end is "being indexed").

// sent counts a file of dataset id sent for inspection.
func (sc *scanner) sent(id string) {
	sc.doneMu.Lock()
	sc.pending[id]++
	sc.doneMu.Unlock()
}

// walked says the walker listed every file of dataset id.
func (sc *scanner) walked(id string) {
	sc.doneMu.Lock()
	sc.listed[id] = true
	sc.doneMu.Unlock()
}

// stored counts files of datasets stored by the writer, and returns the
// datasets complete since the last call.
func (sc *scanner) stored(ids []string) []string {
	sc.doneMu.Lock()
	defer sc.doneMu.Unlock()
	for _, id := range ids {
		sc.pending[id]--
	}
	var done []string
	for id := range sc.listed {
		if sc.pending[id] == 0 {
			done = append(done, id)
			delete(sc.listed, id)
		}
	}
	sort.Strings(done)
	return done
}

// markScanned sets the scanned_at of complete datasets.
func (sc *scanner) markScanned(ctx context.Context, ids []string) error {
	now := time.Now().UnixNano()
	for _, id := range ids {
		if _, err := sc.store.db.ExecContext(ctx, "UPDATE datasets SET scanned_at = ? WHERE name = ?", now, id); err != nil {
			return err
		}
	}
	return nil
}

func (sc *scanner) walkDataset(jobs chan<- job, results chan<- result, id, name, dir string) {
	sc.roots.WalkFolder(name, dir, Walker{
		IsData: datafile.IsDataFile,
		File: func(rel, real string, st os.FileInfo) bool {
			sc.consider(jobs, results, id, rel, real, st)
			return sc.ctx.Err() == nil
		},
		Refused: func(rel string, err error) {
			if !IsLinkError(err) {
				// An unreadable folder: its files are not dropped from the index.
				sc.walkErrs = append(sc.walkErrs, rel)
			}
			sc.refuseErr(rel, err)
		},
	})
}

// consider queues a file for inspection unless the index has it as it is.
func (sc *scanner) consider(jobs chan<- job, results chan<- result, id, rel, abs string, st os.FileInfo) {
	sc.seen[rel] = true
	sc.found.Add(1)
	j := job{dataset: id, rel: rel, abs: abs, size: st.Size(), mtime: st.ModTime()}
	k, ok := sc.known[rel]
	switch {
	case !ok:
		j.reason = reasonNew
	case k.size != j.size || k.mtime != j.mtime.UnixNano() || sc.opts.Force:
		j.reason = reasonChanged
	case sc.opts.Sha256 && !k.hasHash && !k.failed:
		j.reason = reasonHashed
	default:
		sc.skipped.Add(1)
		if k.failed {
			sc.unread.Add(1)
		}
		return
	}
	sc.sent(id)
	if strings.ContainsAny(abs, "\n\r") {
		// The inspector protocol is one path per line.
		select {
		case results <- result{job: j, rec: Record{Path: abs, Error: "the file name holds a line break"}}:
		case <-sc.ctx.Done():
		}
		return
	}
	select {
	case jobs <- j:
	case <-sc.ctx.Done():
	}
}

// inspectAll runs one inspector process over jobs.
func (sc *scanner) inspectAll(jobs <-chan job, results chan<- result) {
	var in *inspector
	defer func() {
		if in != nil {
			in.close()
		}
	}()
	for j := range jobs {
		if sc.ctx.Err() != nil {
			continue // drain
		}
		r, ok := sc.inspectOne(&in, j)
		if !ok {
			continue
		}
		select {
		case results <- r:
		case <-sc.ctx.Done():
		}
	}
}

// earlyCrashLimit: an inspector that dies on this many files before any
// inspector ever answered is taken to be broken (a wrong command), not the
// files: the scan stops rather than record every file as failed.
const earlyCrashLimit = 3

func (sc *scanner) inspectOne(in **inspector, j job) (result, bool) {
	for attempt := 0; ; attempt++ {
		if *in == nil {
			p, err := startInspector(sc.argv, sc.opts.CallLimit)
			if err != nil {
				sc.cancel(err)
				return result{}, false
			}
			*in = p
		}
		rec, err := (*in).inspect(sc.ctx, j.abs, sc.opts.Timeout)
		if err == nil {
			sc.answered.Add(1)
			if (*in).served >= maxServed {
				(*in).close()
				*in = nil
			}
			return result{job: j, rec: rec}, true
		}
		(*in).kill()
		crash := (*in).cause()
		*in = nil
		switch {
		case sc.ctx.Err() != nil:
			return result{}, false
		case errors.Is(err, errNotSent) && attempt == 0:
			continue
		}
		var ff *fileFault
		if errors.As(err, &ff) { // the file's fault, certainly
			return result{job: j, rec: Record{Path: j.abs, Error: err.Error()}, crashed: true}, true
		}
		if sc.answered.Load() == 0 && sc.earlyCrashes.Add(1) >= earlyCrashLimit {
			msg := fmt.Sprintf("the inspector (%s) failed on %d files without answering once: %v", strings.Join(sc.argv, " "), earlyCrashLimit, err)
			if crash != "" && !strings.Contains(err.Error(), crash) {
				msg += " (" + crash + ")"
			}
			sc.cancel(errors.New(msg))
			return result{}, false
		}
		return result{job: j, rec: Record{Path: j.abs, Error: err.Error()}, crashed: true}, true
	}
}

// write is the one writer: it stores results in batches (a transaction per
// batch, at least every second) and reports progress.
func (sc *scanner) write(results <-chan result, rep *Report, t0 time.Time) error {
	const batchMax = 256
	var batch []Entry
	var werr error
	lastFlush := time.Now()
	flush := func() {
		if len(batch) == 0 || werr != nil {
			batch = batch[:0]
			return
		}
		// Results already in hand are kept even when the scan is cancelled.
		if err := sc.store.Put(context.WithoutCancel(sc.ctx), batch); err != nil {
			werr = fmt.Errorf("write index: %w", err)
			sc.cancel(werr)
		} else if sc.ctx.Err() == nil {
			ids := make([]string, len(batch))
			for i, e := range batch {
				ids[i] = e.Dataset
			}
			if err := sc.markScanned(sc.ctx, sc.stored(ids)); err != nil {
				werr = fmt.Errorf("write index: %w", err)
				sc.cancel(werr)
			}
		}
		batch, lastFlush = batch[:0], time.Now()
	}
	progress := func(final bool) {
		if sc.opts.Progress == nil {
			return
		}
		p := Progress{Found: int(sc.found.Load()), Skipped: int(sc.skipped.Load()), Inspected: rep.Inspected(),
			Errors: rep.Failed, Elapsed: time.Since(t0), Walking: sc.walking.Load(), Final: final}
		if p.Inspected > 0 {
			p.Rate = float64(p.Inspected) / p.Elapsed.Seconds()
		}
		sc.opts.Progress(p)
	}
	tick := time.NewTicker(sc.opts.ProgressEvery)
	defer tick.Stop()
	// Crashes before any inspector answered wait: if the inspector turns
	// out to be broken, they are not the files' fault.
	var held []Entry
	for {
		select {
		case r, ok := <-results:
			if !ok {
				if sc.ctx.Err() == nil {
					batch = append(batch, held...)
				}
				flush()
				rep.Failures = orEmpty(rep.Failures)
				sort.Slice(rep.Failures, func(i, j int) bool { return rep.Failures[i].Path < rep.Failures[j].Path })
				progress(true)
				return werr
			}
			switch r.job.reason {
			case reasonNew:
				rep.New++
			case reasonChanged:
				rep.Changed++
			case reasonHashed:
				rep.Hashed++
			}
			e := Entry{Dataset: r.job.dataset, Path: r.job.rel, Size: r.job.size, ModTime: r.job.mtime, Record: r.rec}
			if r.rec.Error != "" || r.rec.Description == nil {
				rep.Failed++
				msg := r.rec.Error
				if msg == "" {
					msg = "the inspector gave no description"
				}
				rep.Failures = append(rep.Failures, Failure{Dataset: e.Dataset, Path: e.Path, Error: msg, Size: e.Size, ModTime: e.ModTime.UTC(), IndexedAt: time.Now().UTC()})
			}
			if r.crashed {
				rep.Crashed++
				if sc.answered.Load() == 0 {
					held = append(held, e)
					continue
				}
			}
			batch = append(batch, e)
			if len(held) > 0 {
				batch, held = append(batch, held...), nil
			}
			if len(batch) >= batchMax {
				flush()
			}
		case <-tick.C:
			if time.Since(lastFlush) >= time.Second {
				flush()
			}
			if werr == nil && sc.ctx.Err() == nil { // datasets with nothing to inspect
				if err := sc.markScanned(sc.ctx, sc.stored(nil)); err != nil {
					werr = fmt.Errorf("write index: %w", err)
					sc.cancel(werr)
				}
			}
			progress(false)
		}
	}
}
