package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/jobs"
)

// Server-Sent Events: GET /v1/jobs/{id}/events streams a job's changes as
// `status`, `progress` and `region` events, and ends after the final
// status.
//
// One Hub serves every stream. The store tells it which job changed
// (jobs.Store.Changed); the hub's one loop reads that job once, however
// many streams follow it, compares it with what it saw last and hands the
// differences to each stream's buffer. A stream that cannot keep up is
// closed rather than waited for (its client comes back with
// Last-Event-ID). Jobs nobody follows are not read at all, so open streams
// cost the store nothing while their jobs do not change, and polling does
// not compete with them.
//
// Event ids are "<hub>-<n>": n counts the events of a job, the hub part is
// the time this hub started, so an id of a previous run is never taken for
// one of this run. The hub keeps the last eventLog events of each job it
// follows; a stream opened with a Last-Event-ID among them gets the events
// after it, any other stream (no id, an id of another run, one too old)
// starts with the job's state: a region event for each region already
// final, a progress event and a status event.

// Event types.
const (
	EventStatus   = "status"
	EventProgress = "progress"
	EventRegion   = "region"
)

// StatusEvent is the data of a status event.
type StatusEvent struct {
	Job      string      `json:"job"`
	Status   jobs.Status `json:"status"`
	Message  string      `json:"message,omitempty"`
	Updated  time.Time   `json:"updated"`
	Finished *time.Time  `json:"finished,omitempty"`
}

// ProgressEvent is the data of a progress event.
type ProgressEvent struct {
	Job          string `json:"job"`
	Progress     int    `json:"progress"`
	RegionsDone  int    `json:"regions_done"`
	RegionsTotal int    `json:"regions_total"`
	BytesDone    int64  `json:"bytes_done"`
	BytesTotal   int64  `json:"bytes_total"`
}

// RegionEvent is the data of a region event: a region that reached its
// final status, with its files.
type RegionEvent struct {
	Job   string `json:"job"`
	Index int    `json:"index"` // in the request
	RegionDoc
}

// Event is one event of a stream.
type Event struct {
	ID   string // empty: the event sets no id (the first of a state's events)
	Type string
	Data []byte // JSON, one line
	// Final: the job's final status; the stream ends after it.
	Final bool
}

// Hub timings and sizes.
const (
	eventLog      = 256                    // events kept per job for Last-Event-ID
	streamBuffer  = 64                     // events a stream may lag behind
	loadInterval  = 100 * time.Millisecond // a job whose progress changed is read at most this often
	feedIdle      = 10 * time.Minute       // a job nobody follows is forgotten after this
	hubSweepEvery = time.Minute
)

// Hub turns job changes into events for the streams that follow them.
type Hub struct {
	load     func(ctx context.Context, id string) (*jobs.Job, error)
	u        urls
	boot     string
	interval time.Duration // loadInterval

	mu     sync.Mutex
	feeds  map[string]*feed
	dirty  map[string]bool
	wake   chan struct{}
	urgent chan struct{} // a transition since the last pass: no pause
	closed bool
	done   chan struct{}
}

// feed is the events of one job. Its mutex is held while the job is read,
// so that what it saw only moves forward.
type feed struct {
	mu   sync.Mutex
	job  *jobs.Job // as last read; nil until read
	seq  uint64
	log  []Event // the last eventLog events, oldest first
	subs map[*stream]bool
	idle time.Time // since when nobody follows it
	gone bool      // the job was deleted
}

// state is what events are made of, to compare two reads of a job.
type state struct {
	status   jobs.Status
	message  string
	progress ProgressEvent
	final    []bool // per region
}

// stream is one client's subscription.
type stream struct {
	ch     chan Event
	closed bool // by the hub: it lagged, the job is gone, or the hub stopped
}

// NewHub returns a hub reading jobs with load. Call Changed for every
// change of a job and Close at shutdown.
func NewHub(load func(ctx context.Context, id string) (*jobs.Job, error), publicURL string) *Hub {
	h := &Hub{load: load, u: urls{base: strings.TrimSuffix(publicURL, "/")}, boot: strconv.FormatInt(time.Now().UnixMilli(), 36), interval: loadInterval,
		feeds: map[string]*feed{}, dirty: map[string]bool{}, wake: make(chan struct{}, 1), urgent: make(chan struct{}, 1), done: make(chan struct{})}
	go h.run()
	return h
}

// Changed tells the hub that job id changed (its status, a region): the
// change is read at once, without waiting out loadInterval. It never
// blocks.
func (h *Hub) Changed(id string) { h.mark(id, true) }

// Progressed tells the hub that the progress of job id changed: read at
// most every loadInterval, however often it changes. It never blocks.
func (h *Hub) Progressed(id string) { h.mark(id, false) }

func (h *Hub) mark(id string, urgent bool) {
	h.mu.Lock()
	if _, followed := h.feeds[id]; followed && !h.closed {
		h.dirty[id] = true
		select {
		case h.wake <- struct{}{}:
		default:
		}
		if urgent {
			select {
			case h.urgent <- struct{}{}:
			default:
			}
		}
	}
	h.mu.Unlock()
}

// Close ends every stream and stops the hub.
func (h *Hub) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	feeds := h.feeds
	h.feeds = map[string]*feed{}
	h.mu.Unlock()
	close(h.done)
	for _, f := range feeds {
		f.mu.Lock()
		f.closeAll()
		f.mu.Unlock()
	}
}

// run reads the jobs that changed, and forgets the jobs nobody followed
// for feedIdle. After each pass it waits loadInterval, unless a job's
// status or a region changed meanwhile (Changed): progress alone is read at
// that pace, a transition at once.
func (h *Hub) run() {
	sweep := time.NewTicker(hubSweepEvery)
	defer sweep.Stop()
	for {
		select {
		case <-h.done:
			return
		case <-sweep.C:
			h.sweep(time.Now())
			continue
		case <-h.wake:
		}
		h.mu.Lock()
		ids := h.dirty
		h.dirty = map[string]bool{}
		select {
		case <-h.urgent: // this pass reads it
		default:
		}
		h.mu.Unlock()
		for id := range ids {
			h.refresh(id)
		}
		pause := time.NewTimer(h.interval)
		select {
		case <-h.done:
			pause.Stop()
			return
		case <-pause.C:
		case <-h.urgent:
			pause.Stop()
		}
	}
}

// refresh reads job id and sends its changes to its streams.
func (h *Hub) refresh(id string) {
	h.mu.Lock()
	f := h.feeds[id]
	h.mu.Unlock()
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.job == nil {
		return // not read yet: Subscribe reads it
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	j, err := h.load(ctx, id)
	cancel()
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		f.gone = true
		f.closeAll()
		return
	case err != nil:
		return // read again at its next change
	}
	for _, ev := range h.diff(f.job, j) {
		f.seq++
		ev.ID = h.boot + "-" + strconv.FormatUint(f.seq, 10)
		f.log = append(f.log, ev)
		if len(f.log) > eventLog {
			f.log = f.log[len(f.log)-eventLog:]
		}
		for s := range f.subs {
			select {
			case s.ch <- ev:
			default: // it lags: its client resumes with Last-Event-ID
				f.drop(s)
			}
		}
	}
	f.job = j
}

func (h *Hub) sweep(now time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for id, f := range h.feeds {
		f.mu.Lock()
		if len(f.subs) == 0 && (f.gone || now.Sub(f.idle) > feedIdle) {
			delete(h.feeds, id)
		}
		f.mu.Unlock()
	}
}

// Subscribe follows job id (the caller checked that its client may see
// it). The stream's first events are those after lastID when the hub
// still has them all, else the job's state; then its changes. Call stop
// when done; the channel is closed when the hub stops feeding the stream.
func (h *Hub) Subscribe(ctx context.Context, id, lastID string) (first []Event, events <-chan Event, stop func(), err error) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, nil, nil, errs.E(errs.Unavailable, "the server is shutting down")
	}
	f := h.feeds[id]
	if f == nil {
		f = &feed{subs: map[*stream]bool{}, idle: time.Now()}
		h.feeds[id] = f
	}
	h.mu.Unlock()

	f.mu.Lock()
	defer f.mu.Unlock()
	if f.job == nil || f.gone {
		// Read after the feed is registered: a change from now on is
		// told to the hub, and what came before is in this read.
		j, err := h.load(ctx, id)
		if err != nil {
			return nil, nil, nil, err
		}
		f.job, f.gone = j, false
	}
	first = f.since(h.boot, lastID)
	if first == nil {
		first = h.stateEvents(f)
	}
	s := &stream{ch: make(chan Event, streamBuffer)}
	f.subs[s] = true
	stop = func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.subs[s] {
			delete(f.subs, s)
			if len(f.subs) == 0 {
				f.idle = time.Now()
			}
		}
	}
	return first, s.ch, stop, nil
}

// since returns the events after lastID if the log holds them all (an
// empty list when lastID is the newest), nil otherwise.
func (f *feed) since(boot, lastID string) []Event {
	b, n, ok := strings.Cut(lastID, "-")
	if !ok || b != boot {
		return nil
	}
	seq, err := strconv.ParseUint(n, 10, 64)
	if err != nil || seq > f.seq {
		return nil
	}
	oldest := f.seq - uint64(len(f.log)) // the event before the log's first
	if seq < oldest {
		return nil
	}
	return append([]Event{}, f.log[len(f.log)-int(f.seq-seq):]...)
}

// drop closes a stream the hub no longer feeds.
func (f *feed) drop(s *stream) {
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
	delete(f.subs, s)
	if len(f.subs) == 0 {
		f.idle = time.Now()
	}
}

func (f *feed) closeAll() {
	for s := range f.subs {
		f.drop(s)
	}
}

func stateOf(j *jobs.Job) state {
	st := state{status: j.Status, message: j.Message, final: make([]bool, len(j.Regions))}
	done := 0
	for i, r := range j.Regions {
		st.final[i] = r.Status.Final()
		if st.final[i] {
			done++
		}
	}
	st.progress = ProgressEvent{Job: j.ID, Progress: j.Progress(), RegionsDone: j.RegionsDone(), RegionsTotal: len(j.Regions),
		BytesDone: j.BytesDone, BytesTotal: j.BytesTotal}
	return st
}

// diff is the events between what f saw and j: a region event for each
// region that became final, a progress event if it moved, a status event
// if the status changed. The status comes last, so that a final status
// ends a stream after everything else.
func (h *Hub) diff(was, j *jobs.Job) []Event {
	var out []Event
	before, now := stateOf(was), stateOf(j)
	for i, r := range j.Regions {
		if now.final[i] && (i >= len(before.final) || !before.final[i]) {
			out = append(out, h.regionEvent(j, i, r))
		}
	}
	if now.progress != before.progress {
		out = append(out, event(EventProgress, now.progress, false))
	}
	if now.status != before.status || now.message != before.message {
		out = append(out, h.statusEvent(j))
	}
	return out
}

// stateEvents are the events of the job as f saw it last: its final
// regions, its progress and its status. Only the last carries an id (the
// feed's newest), so that a client cut off half-way through them is given
// them all again.
func (h *Hub) stateEvents(f *feed) []Event {
	j := f.job
	var out []Event
	for i, r := range j.Regions {
		if r.Status.Final() {
			out = append(out, h.regionEvent(j, i, r))
		}
	}
	out = append(out, event(EventProgress, stateOf(j).progress, false), h.statusEvent(j))
	if f.seq > 0 {
		out[len(out)-1].ID = h.boot + "-" + strconv.FormatUint(f.seq, 10)
	}
	return out
}

func (h *Hub) statusEvent(j *jobs.Job) Event {
	return event(EventStatus, StatusEvent{Job: j.ID, Status: j.Status, Message: j.Message, Updated: j.Updated, Finished: ptime(j.Finished)}, j.Status.Final())
}

func (h *Hub) regionEvent(j *jobs.Job, i int, r jobs.Region) Event {
	return event(EventRegion, RegionEvent{Job: j.ID, Index: i, RegionDoc: regionDoc(j.ID, r, h.u)}, false)
}

func event(typ string, v any, final bool) Event {
	b, _ := json.Marshal(v)
	return Event{Type: typ, Data: b, Final: final}
}

// heartbeat is how often a quiet stream sends a comment, so that proxies
// and clients see it alive.
const defaultHeartbeat = 15 * time.Second

func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	j, err := h.b.Get(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	first, ch, stop, err := h.hub.Subscribe(r.Context(), j.ID, r.Header.Get("Last-Event-ID"))
	if err != nil {
		writeError(w, r, err)
		return
	}
	defer stop()
	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream")
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	// Each write (a heartbeat at least) moves the write deadline on.
	w = progressWriter(w, h.opt.WriteTimeout)
	rc := http.NewResponseController(w)
	write := func(b []byte) bool {
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !write([]byte("retry: 2000\n\n")) {
		return
	}
	for _, ev := range first {
		if !write(formatEvent(ev)) || ev.Final {
			return
		}
	}
	beat := h.opt.Heartbeat
	if beat <= 0 {
		beat = defaultHeartbeat
	}
	tick := time.NewTicker(beat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			if !write([]byte(": heartbeat\n\n")) {
				return
			}
		case ev, ok := <-ch:
			if !ok {
				// Closed by the hub: the client lagged (it resumes with
				// Last-Event-ID), the job is gone, or the server stops.
				zerolog.Ctx(r.Context()).Debug().Msg("event stream closed by the hub")
				return
			}
			if !write(formatEvent(ev)) || ev.Final {
				return
			}
		}
	}
}

// formatEvent writes an event in the text/event-stream format.
func formatEvent(ev Event) []byte {
	var b strings.Builder
	if ev.ID != "" {
		fmt.Fprintf(&b, "id: %s\n", ev.ID)
	}
	fmt.Fprintf(&b, "event: %s\ndata: %s\n\n", ev.Type, ev.Data)
	return []byte(b.String())
}
