package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/api"
)

type sse struct{ id, typ, data string }

// readSSE parses a text/event-stream until it ends (or stop says so after
// an event) and returns its events.
func readSSE(t *testing.T, r io.Reader, stop func(sse) bool) []sse {
	t.Helper()
	var out []sse
	var cur sse
	var data []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if len(data) > 0 {
				cur.data = strings.Join(data, "\n")
				out = append(out, cur)
				if stop != nil && stop(cur) {
					return out
				}
			}
			cur, data = sse{}, nil
		case strings.HasPrefix(line, ":"):
		case strings.HasPrefix(line, "id: "):
			cur.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			cur.typ = line[7:]
		case strings.HasPrefix(line, "data: "):
			data = append(data, line[6:])
		}
	}
	return out
}

func (s *server) events(t *testing.T, id, lastID string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", s.url+"/v1/jobs/"+id+"/events", nil)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := apiDoc.CheckResponse("GET", req.URL.Path, resp, nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("events: %d %v", resp.StatusCode, err)
	}
	return resp
}

func seqOf(id string) int {
	_, n, _ := strings.Cut(id, "-")
	v, _ := strconv.Atoi(n)
	return v
}

// Follow a job with Server-Sent Events through the real binary: a Go
// client that drops after the first region and resumes with
// Last-Event-ID, and curl -N from start to end, both seeing every region
// once and the final status last.
func TestEventStreams(t *testing.T) {
	s := start(t, dataDir(t), t.TempDir(), []string{"SUBSETD_TEST_TASK_DELAY=700ms"}, "--workers", "1", "--warm-workers", "0", "--regions-per-task", "1")
	j := s.submit(`{"dataset": "global", "regions": [{"name": "a", "bbox": [0, 0, 10, 10]},
		{"name": "b", "bbox": [100, 0, 110, 10]}, {"name": "c", "bbox": [-100, 0, -90, 10]}], "variables": ["sst"]}`)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	curl := exec.CommandContext(ctx, "curl", "-sN", "-H", "Accept: text/event-stream", s.url+"/v1/jobs/"+j.ID+"/events")
	curlOut, err := curl.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := curl.Start(); err != nil {
		t.Fatal(err)
	}
	curlDone := make(chan []sse, 1)
	go func() { curlDone <- readSSE(t, curlOut, nil) }()

	resp := s.events(t, j.ID, "")
	first := readSSE(t, resp.Body, func(e sse) bool { return e.typ == api.EventRegion })
	resp.Body.Close()
	if len(first) < 3 || first[0].typ != api.EventProgress || first[1].typ != api.EventStatus || first[len(first)-1].typ != api.EventRegion {
		t.Fatalf("first stream: %+v", first)
	}
	last := first[len(first)-1].id
	if last == "" {
		t.Fatalf("a change's event without an id: %+v", first)
	}

	resp = s.events(t, j.ID, last)
	rest := readSSE(t, resp.Body, nil) // the server ends it after the final status
	resp.Body.Close()
	if len(rest) == 0 || rest[len(rest)-1].typ != api.EventStatus {
		t.Fatalf("resumed stream: %+v", rest)
	}
	var st api.StatusEvent
	json.Unmarshal([]byte(rest[len(rest)-1].data), &st)
	if st.Status != "successful" || st.Job != j.ID {
		t.Fatalf("final status %+v", st)
	}
	prev := seqOf(last)
	for _, e := range rest {
		if seqOf(e.id) != prev+1 {
			t.Fatalf("resumed after %s: ids %+v", last, rest)
		}
		prev = seqOf(e.id)
	}
	regionsOf := func(evs []sse) []string {
		var names []string
		for _, e := range evs {
			if e.typ == api.EventRegion {
				var re api.RegionEvent
				if err := json.Unmarshal([]byte(e.data), &re); err != nil {
					t.Fatal(err)
				}
				if re.Status != "successful" || len(re.Files) != 1 || re.Files[0].Sha256 == "" {
					t.Errorf("region event %s", e.data)
				}
				names = append(names, re.Name)
			}
		}
		return names
	}
	// Regions end in the order their tasks run.
	sorted := func(names []string) string {
		slices.Sort(names)
		return strings.Join(names, ",")
	}
	if got := sorted(append(regionsOf(first), regionsOf(rest)...)); got != "a,b,c" {
		t.Fatalf("regions over both streams: %s", got)
	}
	var pe api.ProgressEvent
	for _, e := range rest {
		if e.typ == api.EventProgress {
			json.Unmarshal([]byte(e.data), &pe)
		}
	}
	if pe.Progress != 100 || pe.RegionsDone != 3 {
		t.Fatalf("last progress %+v", pe)
	}

	var all []sse
	select {
	case all = <-curlDone:
	case <-ctx.Done():
		t.Fatal("curl -N did not end with the stream")
	}
	if err := curl.Wait(); err != nil {
		t.Fatalf("curl: %v", err)
	}
	if got := sorted(regionsOf(all)); got != "a,b,c" || all[len(all)-1].typ != api.EventStatus ||
		!strings.Contains(all[len(all)-1].data, `"status":"successful"`) {
		t.Fatalf("curl -N saw %+v", all)
	}
	// The stream of a finished job: its state, then the end.
	resp = s.events(t, j.ID, "")
	done := readSSE(t, resp.Body, nil)
	resp.Body.Close()
	if got := sorted(regionsOf(done)); got != "a,b,c" || done[len(done)-1].typ != api.EventStatus {
		t.Fatalf("finished job's stream %+v", done)
	}
}
