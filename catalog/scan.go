package catalog

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/subsetd/subsetd/catalog/index"
	"github.com/subsetd/subsetd/internal/errs"
)

// Index statuses of a dataset.
const (
	IndexIdle    = "idle"    // no scan of the dataset is running or waiting
	IndexQueued  = "queued"  // a scan was asked for and waits for the running one
	IndexRunning = "running" // a scan covering the dataset runs
)

// IndexStatus is the state of a dataset's indexing: what GET
// /v1/datasets/{id}/index shows.
type IndexStatus struct {
	Dataset string
	Status  string
	// Requested is when the last reindex of the dataset was asked for.
	Requested *time.Time
	// ScannedAt is the end of the last scan that completed over the
	// dataset, as the index records it.
	ScannedAt *time.Time
	// LastScan is the last scan that covered the dataset, of it alone
	// (scope "dataset") or of the whole data directory ("all").
	LastScan *ScanInfo
}

// ScanInfo sums up a scan.
type ScanInfo struct {
	Scope    string // "dataset" or "all"
	Force    bool
	Started  time.Time
	Finished time.Time
	Files    int // data files found
	New      int // inspected: not in the index before
	Changed  int // inspected: size or time changed (or force)
	Deleted  int // dropped: gone from the data directory
	Skipped  int // unchanged, not opened
	Failed   int // inspected and unreadable
	// Failures are the files that failed in this scan (at most
	// maxFailures), names relative to the data directory.
	Failures []FileError
	Error    string // why the scan did not complete
}

// FileError is a file that could not be read.
type FileError struct {
	Name  string
	Error string
}

const (
	scopeAll     = "all"
	scopeDataset = "dataset"
	maxFailures  = 100
)

// scanner runs the scans of the index one at a time: the whole data
// directory at start-up and on a schedule, one dataset when asked.
type scanner struct {
	c    *Catalog
	wake chan struct{}
	done chan struct{}

	mu        sync.Mutex
	started   bool
	all       bool            // a scan of everything is wanted
	want      map[string]bool // datasets to scan, with force
	requested map[string]time.Time
	running   string // the dataset being scanned alone
	scanAll   bool   // a scan of everything runs
	progress  index.Progress
	last      map[string]*ScanInfo // the last scan of each dataset alone
	lastAll   *ScanInfo
	firstDone bool // the first scan of everything ended
	gen       int64
	links     map[string][]RefusedLink // refused links of the last scan covering each dataset folder
}

func newScanner(c *Catalog) *scanner {
	return &scanner{c: c, wake: make(chan struct{}, 1), done: make(chan struct{}),
		want: map[string]bool{}, requested: map[string]time.Time{}, last: map[string]*ScanInfo{}, links: map[string][]RefusedLink{}}
}

// Start begins keeping the index up to date in the background: a scan of
// the whole data directory now, then every IndexInterval, and the scans
// Reindex asks for. It stops when ctx ends (a running scan keeps what it
// inspected); Wait waits for that.
func (c *Catalog) Start(ctx context.Context) {
	s := c.scans
	s.mu.Lock()
	if s.started {
		s.mu.Unlock()
		return
	}
	s.started, s.all = true, true
	s.mu.Unlock()
	go s.loop(ctx)
}

// Wait returns when the scans stopped after the end of Start's context.
func (c *Catalog) Wait() {
	s := c.scans
	s.mu.Lock()
	started := s.started
	s.mu.Unlock()
	if started {
		<-s.done
	}
}

// Indexed reports whether the first scan of the data directory ended (or
// the catalog was not started: its index is kept by someone else). Until
// then, datasets the scan has completed are served and a job on another
// gets 503.
func (c *Catalog) Indexed() bool {
	s := c.scans
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.firstDone || !s.started
}

// covers reports whether a running scan covers dataset id.
func (s *scanner) covers(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.scanAll || s.running == id
}

// Reindex asks for a scan of one dataset (force: every file inspected
// again, unreadable ones too) and returns at once. The dataset must be in
// the data directory or in the index (a dataset removed from the data
// directory is dropped by its scan).
func (c *Catalog) Reindex(ctx context.Context, id string, force bool) (*IndexStatus, error) {
	if err := c.known(ctx, id); err != nil {
		return nil, err
	}
	s := c.scans
	s.mu.Lock()
	s.want[id] = s.want[id] || force
	s.requested[id] = time.Now().UTC()
	s.mu.Unlock()
	s.poke()
	c.log.Info().Str("dataset", id).Bool("force", force).Msg("reindex asked for")
	return c.IndexStatus(ctx, id)
}

// IndexStatus returns the state of a dataset's indexing.
func (c *Catalog) IndexStatus(ctx context.Context, id string) (*IndexStatus, error) {
	if err := c.known(ctx, id); err != nil {
		return nil, err
	}
	s := c.scans
	s.mu.Lock()
	st := &IndexStatus{Dataset: id, Status: IndexIdle}
	_, wanted := s.want[id]
	switch {
	case s.running == id || s.scanAll:
		st.Status = IndexRunning
	case wanted || s.all:
		st.Status = IndexQueued
	}
	if t, ok := s.requested[id]; ok {
		st.Requested = &t
	}
	last := s.last[id]
	if s.lastAll != nil && (last == nil || s.lastAll.Finished.After(last.Finished)) {
		last = s.lastAll
	}
	if last != nil {
		cp := *last
		st.LastScan = &cp
	}
	s.mu.Unlock()
	if sum, err := c.idx.Dataset(ctx, id, ""); err == nil && !sum.ScannedAt.IsZero() && sum.ScannedAt.Unix() > 0 {
		t := sum.ScannedAt
		st.ScannedAt = &t
	}
	return st, nil
}

// known checks that a dataset is in the data directory or in the index.
func (c *Catalog) known(ctx context.Context, id string) error {
	if _, err := c.exists(id); err == nil || errs.CodeOf(err) != errs.NotFound {
		return err
	}
	if _, err := c.idx.Dataset(ctx, id, ""); err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return errs.E(errs.NotFound, "no dataset %q", id)
		}
		return err
	}
	return nil
}

// ensure asks for a scan of a dataset the index does not have yet, unless
// one is running or waiting.
func (c *Catalog) ensure(id string) {
	s := c.scans
	s.mu.Lock()
	_, wanted := s.want[id]
	if !wanted && s.running != id {
		s.want[id] = false
	}
	s.mu.Unlock()
	s.poke()
}

// generation changes whenever a scan ends: cached documents made before
// are stale.
func (c *Catalog) generation() int64 {
	s := c.scans
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gen
}

func (s *scanner) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *scanner) loop(ctx context.Context) {
	defer close(s.done)
	var tick <-chan time.Time
	if d := s.c.opt.IndexInterval; d > 0 {
		t := time.NewTicker(d)
		defer t.Stop()
		tick = t.C
	}
	for ctx.Err() == nil {
		if scope, force, ok := s.next(); ok {
			s.run(ctx, scope, force)
			continue
		}
		select {
		case <-ctx.Done():
		case <-s.wake:
		case <-tick:
			s.mu.Lock()
			s.all = true
			s.mu.Unlock()
		}
	}
}

// next picks the next scan: everything (scope "") first, then datasets by
// id.
func (s *scanner) next() (scope string, force, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.all {
		s.all = false
		// A scan of everything covers the datasets waiting, except those
		// asked to be read again whole.
		for id, f := range s.want {
			if !f {
				delete(s.want, id)
			}
		}
		s.scanAll = true
		return "", false, true
	}
	if len(s.want) == 0 {
		return "", false, false
	}
	ids := make([]string, 0, len(s.want))
	for id := range s.want {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	id := ids[0]
	force = s.want[id]
	delete(s.want, id)
	s.running = id
	return id, force, true
}

func (s *scanner) run(ctx context.Context, scope string, force bool) {
	c := s.c
	opts := index.ScanOptions{Root: c.root, AllowedRoots: c.opt.AllowedRoots, Command: c.opt.InspectorCommand, Workers: c.opt.IndexWorkers,
		Timeout: c.opt.InspectTimeout, CallLimit: c.opt.FileTimeout, Force: force, ProgressEvery: 200 * time.Millisecond,
		Progress: func(p index.Progress) {
			s.mu.Lock()
			s.progress = p
			s.mu.Unlock()
		}}
	info := &ScanInfo{Scope: scopeDataset, Force: force, Started: time.Now().UTC()}
	all := scope == ""
	if all {
		info.Scope = scopeAll
	} else {
		opts.Dataset = scope
	}
	rep, err := c.idx.Scan(ctx, opts)
	info.Finished = time.Now().UTC()
	if rep != nil {
		info.Files, info.New, info.Changed, info.Deleted, info.Skipped, info.Failed = rep.Files, rep.New, rep.Changed, rep.Deleted, rep.Skipped, rep.Failed
		for i, f := range rep.Failures {
			if i == maxFailures {
				break
			}
			info.Failures = append(info.Failures, FileError{Name: f.Path, Error: f.Error})
		}
	}
	log := c.log.With().Str("scope", info.Scope).Str("dataset", scope).Dur("duration", info.Finished.Sub(info.Started)).Logger()
	if err != nil {
		info.Error = err.Error()
		if errors.Is(err, context.Canceled) && ctx.Err() != nil {
			info.Error = "interrupted by a shutdown"
		}
		log.Warn().Err(err).Msg("index scan did not complete")
	} else {
		log.Info().Int("files", info.Files).Int("new", info.New).Int("changed", info.Changed).Int("deleted", info.Deleted).
			Int("skipped", info.Skipped).Int("failed", info.Failed).Msg("index scan done")
		for _, f := range info.Failures {
			log.Warn().Str("file", f.Name).Str("error", f.Error).Msg("unreadable file")
		}
	}
	var links []index.Refusal
	if rep != nil {
		links = index.Links(rep.Refused)
	}
	for _, l := range links {
		log.Warn().Str("link", l.Path).Str("target", l.Target).Str("reason", l.Reason).Msg("symbolic link refused")
	}
	s.mu.Lock()
	first := all && !s.firstDone
	if err == nil {
		// By dataset: the folder a link is in.
		if all {
			s.links = map[string][]RefusedLink{}
		} else {
			delete(s.links, scope)
		}
		for _, l := range links {
			if id, _, ok := strings.Cut(l.Path, "/"); ok {
				s.links[id] = append(s.links[id], RefusedLink{Name: l.Path, Reason: l.Reason})
			}
		}
	}
	s.running, s.scanAll = "", false
	s.gen++
	if all {
		s.lastAll = info
		if ctx.Err() == nil {
			s.firstDone = true
		}
	} else {
		s.last[scope] = info
	}
	s.mu.Unlock()
	if first && len(links) > 0 {
		log.Warn().Int("refused_links", len(links)).Strs("allowed_roots", c.Roots()).
			Msgf("%d symbolic links of the data directory refused (outside the allowed roots, broken or loops): their files are served by no dataset; see the dataset documents' refused_links or subsetd index", len(links))
	}
	c.mu.Lock()
	c.infos = map[string]cachedInfo{}
	c.mu.Unlock()
}

// refusedLinks are the links of dataset id the last scan refused.
func (s *scanner) refusedLinks(id string) []RefusedLink {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RefusedLink(nil), s.links[id]...)
}

// ScanAll asks for a scan of the whole data directory and returns at once
// (the schedule of several servers sharing one index: the queue's periodic
// job, run on one of them, asks).
func (c *Catalog) ScanAll() {
	s := c.scans
	s.mu.Lock()
	s.all = true
	s.mu.Unlock()
	s.poke()
}
