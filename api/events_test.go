package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/jobs"
)

// sseEvent is an event as a client parses it (the WHATWG rules: fields
// until a blank line, comments ignored, the id kept until changed).
type sseEvent struct {
	ID, Type, Data string
}

type sseClient struct {
	t        *testing.T
	resp     *http.Response
	rd       *bufio.Reader
	lastID   string
	comments int
}

// openEvents opens the event stream of a job, with Last-Event-ID when
// lastID is not empty.
func openEvents(t *testing.T, c *client, id, lastID string) *sseClient {
	t.Helper()
	req, _ := http.NewRequest("GET", c.srv.URL+"/v1/jobs/"+id+"/events", nil)
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.doc.CheckResponse("GET", req.URL.Path, resp, nil); err != nil {
		t.Errorf("OpenAPI: %v", err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("events: %d %s", resp.StatusCode, b)
	}
	s := &sseClient{t: t, resp: resp, rd: bufio.NewReader(resp.Body), lastID: lastID}
	t.Cleanup(s.close)
	return s
}

func (s *sseClient) close() { s.resp.Body.Close() }

// next reads the next event; io.EOF when the server ended the stream.
func (s *sseClient) next() (sseEvent, error) {
	var ev sseEvent
	var data []string
	for {
		line, err := s.rd.ReadString('\n')
		if err != nil {
			return ev, err
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if len(data) == 0 {
				continue // a comment's or retry's end
			}
			ev.Data = strings.Join(data, "\n")
			if ev.Type == "" {
				ev.Type = "message"
			}
			if ev.ID != "" {
				s.lastID = ev.ID
			}
			return ev, nil
		case strings.HasPrefix(line, ":"):
			s.comments++
		default:
			k, v, _ := strings.Cut(line, ":")
			v = strings.TrimPrefix(v, " ")
			switch k {
			case "id":
				ev.ID = v
			case "event":
				ev.Type = v
			case "data":
				data = append(data, v)
			}
		}
	}
}

// expect reads events until n have come, checking each data against its
// schema in the OpenAPI document, and returns their types.
func (s *sseClient) expect(c *client, n int) ([]string, []sseEvent) {
	s.t.Helper()
	var types []string
	var evs []sseEvent
	done := make(chan struct{})
	timer := time.AfterFunc(10*time.Second, func() { s.close() })
	defer timer.Stop()
	defer close(done)
	for len(evs) < n {
		ev, err := s.next()
		if err != nil {
			s.t.Fatalf("after %v: %v", types, err)
		}
		schema := map[string]string{EventStatus: "StatusEvent", EventProgress: "ProgressEvent", EventRegion: "RegionEvent"}[ev.Type]
		var v any
		if err := json.Unmarshal([]byte(ev.Data), &v); err != nil || schema == "" {
			s.t.Fatalf("event %q: %q %v", ev.Type, ev.Data, err)
		}
		if err := c.doc.ValidateRef(schema, v); err != nil {
			s.t.Errorf("event %s: %v", ev.Data, err)
		}
		types = append(types, ev.Type)
		evs = append(evs, ev)
	}
	return types, evs
}

// copyJob is what a store gives: a job value of its own, so that the hub
// compares two reads and not one value with itself.
func (f *fake) copyJob(ctx context.Context, id string) (*jobs.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	j, ok := f.jobs[id]
	if !ok {
		return nil, errs.E(errs.NotFound, "no job %q", id)
	}
	c := *j
	c.Regions = append([]jobs.Region(nil), j.Regions...)
	return &c, nil
}

// change changes job id under the fake's lock and tells the hub.
func (f *fake) change(hub *Hub, id string, fn func(j *jobs.Job)) {
	f.mu.Lock()
	fn(f.jobs[id])
	f.jobs[id].Updated = f.jobs[id].Updated.Add(time.Second)
	f.mu.Unlock()
	hub.Changed(id)
}

func eventsSetup(t *testing.T, mods ...func(*Options)) (*client, *fake, *Hub) {
	var hub *Hub
	var f *fake
	c, f := setup(t, append([]func(*Options){func(o *Options) {
		hub = NewHub(func(ctx context.Context, id string) (*jobs.Job, error) { return f.copyJob(ctx, id) }, o.PublicURL)
		o.Hub = hub
		t.Cleanup(hub.Close)
	}}, mods...)...)
	return c, f, hub
}

func TestEventsFollowAJobAndResume(t *testing.T) {
	c, f, hub := eventsSetup(t)
	c.do("POST", "/v1/jobs", goodJob)
	s := openEvents(t, c, "job001", "")
	types, evs := s.expect(c, 2)
	if strings.Join(types, ",") != "progress,status" || evs[1].ID != "" || !strings.Contains(evs[1].Data, `"status":"accepted"`) {
		t.Fatalf("state of a new job: %v %+v", types, evs)
	}
	f.change(hub, "job001", func(j *jobs.Job) { j.Status = jobs.Running; j.Started = j.Created })
	types, evs = s.expect(c, 1)
	if types[0] != EventStatus || !strings.Contains(evs[0].Data, `"status":"running"`) || evs[0].ID == "" {
		t.Fatalf("running: %v %+v", types, evs)
	}
	file := jobs.File{Name: "benguela.nc", Size: 5, Sha256: strings.Repeat("a", 64), Md5: strings.Repeat("b", 32), Shape: map[string]int{"lat": 2}}
	f.change(hub, "job001", func(j *jobs.Job) {
		j.Regions[0].Status, j.Regions[0].Files = jobs.Successful, []jobs.File{file}
	})
	types, evs = s.expect(c, 2)
	if strings.Join(types, ",") != "region,progress" {
		t.Fatalf("region: %v", types)
	}
	var re RegionEvent
	json.Unmarshal([]byte(evs[0].Data), &re)
	if re.Index != 0 || re.Name != "benguela" || len(re.Files) != 1 || re.Files[0].Href != "/v1/jobs/job001/files/benguela.nc" || re.Files[0].Shape["lat"] != 2 {
		t.Fatalf("region event %s", evs[0].Data)
	}
	var pe ProgressEvent
	json.Unmarshal([]byte(evs[1].Data), &pe)
	if pe.Progress != 50 || pe.RegionsDone != 1 || pe.RegionsTotal != 2 {
		t.Fatalf("progress event %s", evs[1].Data)
	}
	// The client goes away; the job ends meanwhile.
	last := s.lastID
	s.close()
	f.change(hub, "job001", func(j *jobs.Job) {
		j.Regions[1].Status, j.Regions[1].Message = jobs.Empty, "outside the data"
		j.Status, j.Finished = jobs.Successful, j.Created.Add(time.Minute)
	})
	// Resumed from its last id: what came after, then the end of the stream.
	waitFor(t, func() bool { fd := hub.feedOf("job001"); return fd != nil && fd.status() == jobs.Successful })
	s = openEvents(t, c, "job001", last)
	types, evs = s.expect(c, 3)
	if strings.Join(types, ",") != "region,progress,status" || !strings.Contains(evs[0].Data, `"name":"agulhas"`) || !strings.Contains(evs[2].Data, `"status":"successful"`) {
		t.Fatalf("resumed: %v %+v", types, evs)
	}
	if _, err := s.next(); err != io.EOF {
		t.Fatalf("the stream goes on after the final status: %v", err)
	}
	// Without an id (or with one the hub does not know) the stream starts
	// with the job's state, the last event carrying the newest id.
	for _, id := range []string{"", "12345-1", "garbage"} {
		s = openEvents(t, c, "job001", id)
		types, evs = s.expect(c, 4)
		if strings.Join(types, ",") != "region,region,progress,status" || evs[3].ID == "" || evs[0].ID != "" {
			t.Fatalf("state (Last-Event-ID %q): %v %+v", id, types, evs)
		}
		if _, err := s.next(); err != io.EOF {
			t.Fatalf("a final job's stream goes on: %v", err)
		}
	}
	if r, _ := c.do("GET", "/v1/jobs/nope/events", ""); r.StatusCode != 404 {
		t.Errorf("unknown job: %d", r.StatusCode)
	}
}

func TestEventsHeartbeatAndLaggingStreams(t *testing.T) {
	c, f, hub := eventsSetup(t, func(o *Options) { o.Heartbeat = 20 * time.Millisecond })
	c.do("POST", "/v1/jobs", goodJob)
	s := openEvents(t, c, "job001", "")
	s.expect(c, 2)
	// A heartbeat comes while nothing happens.
	deadline := time.Now().Add(5 * time.Second)
	for s.comments == 0 && time.Now().Before(deadline) {
		line, _ := s.rd.ReadString('\n')
		if strings.HasPrefix(line, ":") {
			s.comments++
		}
	}
	if s.comments == 0 {
		t.Fatal("no heartbeat")
	}

	// A stream that does not read is closed by the hub, never waited for.
	first, ch, stop, err := hub.Subscribe(context.Background(), "job001", "")
	if err != nil || len(first) != 2 {
		t.Fatal(first, err)
	}
	defer stop()
	hub.interval = time.Millisecond
	for i := 0; i <= streamBuffer+1; i++ {
		f.change(hub, "job001", func(j *jobs.Job) { j.Message = "step " + strings.Repeat("x", i) })
		waitFor(t, func() bool { return hub.feedOf("job001").seqNow() > uint64(i) })
	}
	n := 0
	for range ch {
		n++
	}
	if n != streamBuffer {
		t.Fatalf("%d events before the lagging stream was closed, want %d", n, streamBuffer)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met after 10 s")
		}
	}
}

func (h *Hub) feedOf(id string) *feed {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.feeds[id]
}

func (f *feed) status() jobs.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.job == nil {
		return ""
	}
	return f.job.Status
}

func (f *feed) seqNow() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seq
}

// A transition is read at once; progress alone waits for the hub's pace.
func TestEventsTransitionsNotPaced(t *testing.T) {
	c, f, hub := eventsSetup(t)
	hub.interval = time.Hour // before anything wakes the hub
	c.do("POST", "/v1/jobs", goodJob)
	s := openEvents(t, c, "job001", "")
	s.expect(c, 2)
	for i := range 3 {
		f.change(hub, "job001", func(j *jobs.Job) { j.Message = fmt.Sprint("step ", i) })
		waitFor(t, func() bool { return hub.feedOf("job001").seqNow() == uint64(i+1) })
	}
	// Progress alone is read at the next pass: an hour from the last one.
	f.mu.Lock()
	f.jobs["job001"].BytesDone += 100
	f.mu.Unlock()
	hub.Progressed("job001")
	time.Sleep(200 * time.Millisecond)
	if n := hub.feedOf("job001").seqNow(); n != 3 {
		t.Fatalf("progress read within the pause: %d events", n)
	}
	// A transition ends the pause, and the progress goes with it.
	f.change(hub, "job001", func(j *jobs.Job) { j.Message = "done" })
	waitFor(t, func() bool { return hub.feedOf("job001").seqNow() == 5 })
}
