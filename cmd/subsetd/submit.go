package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/subsetd/subsetd/api"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/jobs"
)

// The client commands: submit, status and cancel here, fetch in fetch.go.

const submitAbout = `Submits a job to a subsetd server: the regions, variables and time range
given by the same flags as 'subsetd subset', cut out of the server's DATASET
(see GET /v1/datasets). Prints the job's id on standard output, so that

  job=$(subsetd submit --server http://127.0.0.1:8080 --wait \
            --region benguela=8,-35,20,-15 --vars sst --time 2020-01-03/2020-01-10 sst)
  subsetd fetch --server http://127.0.0.1:8080 --out cuts/ "$job"

cuts, waits and downloads. A box is W,S,E,N: west, south, east, north, in
degrees. SET/NAME names a region of one of the server's sets (GET
/v1/regions).

With --wait it follows the job until it ends (its event stream when the
server offers one, else polling as often as the server's Retry-After says),
showing progress on a terminal (regions done, bytes, rate, estimated time
left; nothing when standard error is not a terminal, or with --quiet), then
the regions' results on standard error.

With --dry-run nothing runs: the server plans the job as it would cut it
and answers at once what each region would give (index box, files, shapes,
bytes of values, estimated size on disk, input bytes read, estimated time),
printed as a table (--json: the answer as it is).

--server and --key default to $SUBSETD_SERVER and $SUBSETD_KEY.

Exit status: 0 when the job was accepted (--dry-run: planned without a
region failing) (with --wait: when it ended
successful), 1 when it failed or could not be submitted, 2 for usage errors,
the server's answer to an invalid request included (said with the flag's
name: --vars: unknown variable ...).`

func runSubmit(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("submit", "subsetd submit --server URL [--key KEY] [--wait] [flags] DATASET", submitAbout, stderr)
	rem := addRemoteFlags(fs)
	rf := addRequestFlags(fs)
	wait := fs.Bool("wait", false, "wait until the job ends, showing its progress on a terminal")
	quiet := fs.Bool("quiet", false, "with --wait, show neither progress nor the regions' results")
	dryRun := fs.Bool("dry-run", false, "ask the server what the job would give (per region: index box, files, shapes, bytes read and written, estimated size and time) without running it")
	asJSON := fs.Bool("json", false, "with --dry-run, print the server's answer as JSON")
	if code, stop := parseFlags(fs, args, stdout); stop {
		return code
	}
	switch fs.NArg() {
	case 0:
		usageError(stderr, "submit", "no DATASET given")
		return 2
	case 1:
	default:
		usageError(stderr, "submit", "one DATASET only, got %q", fs.Args())
		return 2
	}
	req, err := rf.request()
	if err != nil {
		usageError(stderr, "submit", "%v", err)
		return 2
	}
	req.Dataset = fs.Arg(0)
	if *dryRun && *wait {
		usageError(stderr, "submit", "--dry-run runs nothing to --wait for")
		return 2
	}
	if *asJSON && !*dryRun {
		usageError(stderr, "submit", "--json goes with --dry-run (the job's id is the answer otherwise; subsetd status --json shows the job)")
		return 2
	}
	req.DryRun = *dryRun
	r, err := rem.remote()
	if err != nil {
		usageError(stderr, "submit", "%v", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	body, _ := json.Marshal(req)
	// One key per submission: a retry of this POST (after a 503) is the
	// same job, never a second one.
	var idem [16]byte
	rand.Read(idem[:])
	resp, err := r.do(ctx, http.MethodPost, "/v1/jobs", body, http.Header{"Idempotency-Key": {"cli-" + hex.EncodeToString(idem[:])}})
	if err != nil {
		return clientError(stderr, "submit", rf, err)
	}
	if *dryRun {
		defer resp.Body.Close()
		return printServerDryRun(ctx, r, resp, *asJSON, stdout, stderr)
	}
	var doc api.JobDoc
	err = json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if err != nil || doc.ID == "" {
		return clientError(stderr, "submit", nil, fmt.Errorf("the server's answer is not a job: %v", err))
	}
	fmt.Fprintln(stdout, doc.ID)
	if !*wait {
		return 0
	}
	ref := selfLink(doc)
	final, err := waitJob(ctx, r, ref, &doc, newProgressLine(stderr, *quiet))
	if err != nil {
		if ctx.Err() != nil { // the job goes on without us
			fmt.Fprintf(stderr, "subsetd submit: stopped waiting; job %s goes on (subsetd status %s, subsetd cancel %s)\n", doc.ID, doc.ID, doc.ID)
			return 1
		}
		return clientError(stderr, "submit", nil, err)
	}
	if !*quiet {
		printJob(stderr, final)
	}
	return jobExit(stderr, "submit", final)
}

const statusAbout = `Prints a job of a subsetd server: its status and progress, then each
region's status, files, size and message (--json: the job document as the
server sends it). JOB is the id 'subsetd submit' printed.

--server and --key default to $SUBSETD_SERVER and $SUBSETD_KEY.

Exit status: 0 when the job was read, whatever its status; 1 when it could
not be; 2 for usage errors.`

func runStatus(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("status", "subsetd status --server URL [--key KEY] [--json] JOB", statusAbout, stderr)
	rem := addRemoteFlags(fs)
	asJSON := fs.Bool("json", false, "print the job document as JSON")
	r, ref, code := clientArgs(fs, "status", rem, args, stdout, stderr)
	if r == nil {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var raw json.RawMessage
	if _, err := r.getJSON(ctx, ref, &raw); err != nil {
		return clientError(stderr, "status", nil, err)
	}
	if *asJSON {
		stdout.Write(append(raw, '\n'))
		return 0
	}
	var doc api.JobDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		return clientError(stderr, "status", nil, fmt.Errorf("the server's answer is not a job: %v", err))
	}
	printJob(stdout, &doc)
	return 0
}

const cancelAbout = `Cancels a job of a subsetd server that is accepted or running: its tasks
are stopped and it ends dismissed (files of regions already finished stay
until the job is deleted or expires). A job that has already ended is left
as it is.

--server and --key default to $SUBSETD_SERVER and $SUBSETD_KEY.

Exit status: 0 when the job is dismissed, 1 when it could not be cancelled
(it had already ended, or is unknown), 2 for usage errors.`

func runCancel(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("cancel", "subsetd cancel --server URL [--key KEY] JOB", cancelAbout, stderr)
	rem := addRemoteFlags(fs)
	r, ref, code := clientArgs(fs, "cancel", rem, args, stdout, stderr)
	if r == nil {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var doc api.JobDoc
	if _, err := r.getJSON(ctx, ref, &doc); err != nil {
		return clientError(stderr, "cancel", nil, err)
	}
	// DELETE of a job that has ended deletes it and its files: a cancel
	// must not.
	if finalStatus(doc.Status) {
		fmt.Fprintf(stderr, "subsetd cancel: job %s has already ended %s: nothing to cancel\n", doc.ID, doc.Status)
		return 1
	}
	resp, err := r.do(ctx, http.MethodDelete, ref, nil, nil)
	if err != nil {
		return clientError(stderr, "cancel", nil, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNoContent {
		fmt.Fprintf(stderr, "subsetd cancel: job %s ended before the cancel arrived, and was deleted\n", doc.ID)
		return 1
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return clientError(stderr, "cancel", nil, fmt.Errorf("the server's answer is not a job: %v", err))
	}
	fmt.Fprintf(stdout, "%s %s\n", doc.ID, doc.Status)
	return 0
}

// clientArgs parses the flags of a command taking one JOB; a nil remote
// means stop with the exit status returned.
func clientArgs(f *flag.FlagSet, cmd string, rem *remoteFlags, args []string, stdout, stderr io.Writer) (*remote, string, int) {
	if code, stop := parseFlags(f, args, stdout); stop {
		return nil, "", code
	}
	if f.NArg() != 1 {
		usageError(stderr, cmd, "give one JOB (its id), got %d arguments", f.NArg())
		return nil, "", 2
	}
	ref, err := jobRef(f.Arg(0))
	if err == nil {
		var r *remote
		if r, err = rem.remote(); err == nil {
			return r, ref, 0
		}
	}
	usageError(stderr, cmd, "%v", err)
	return nil, "", 2
}

func finalStatus(s jobs.Status) bool { return s != "" && s.Final() }

// jobExit is the exit status of a job that ended: 0 when it is
// successful, 1 (with its message) otherwise.
func jobExit(stderr io.Writer, cmd string, doc *api.JobDoc) int {
	if doc.Status == jobs.Successful {
		return 0
	}
	msg := ""
	if doc.Message != "" {
		msg = ": " + doc.Message
	}
	fmt.Fprintf(stderr, "subsetd %s: job %s %s%s\n", cmd, doc.ID, doc.Status, msg)
	return 1
}

func selfLink(doc api.JobDoc) string {
	for _, l := range doc.Links {
		if l.Rel == "self" {
			return l.Href
		}
	}
	ref, _ := jobRef(doc.ID)
	return ref
}

// printJob prints a job and its regions as a table.
func printJob(w io.Writer, doc *api.JobDoc) {
	var size int64
	counts := map[jobs.Status]int{}
	done := 0
	for _, r := range doc.Regions {
		counts[r.Status]++
		if r.Status.Final() {
			done++
		}
		for _, f := range r.Files {
			size += f.Size
		}
	}
	var parts []string
	for _, s := range []jobs.Status{jobs.Successful, jobs.Empty, jobs.Failed, jobs.Dismissed, jobs.Running, jobs.Accepted} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	ds := doc.Dataset
	if doc.Kind != "" {
		ds += " (" + doc.Kind + ")"
	}
	fmt.Fprintf(w, "job %s  %s  %d%%  dataset %s: %d/%d regions done (%s), %s of files\n", doc.ID, doc.Status, doc.Progress,
		ds, done, len(doc.Regions), strings.Join(parts, ", "), humanBytes(size))
	if doc.Message != "" {
		fmt.Fprintf(w, "  %s\n", doc.Message)
	}
	for _, n := range doc.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REGION\tSTATUS\tFILES\tSIZE\tMESSAGE")
	for _, r := range doc.Regions {
		var n int64
		for _, f := range r.Files {
			n += f.Size
		}
		sz := ""
		if len(r.Files) > 0 {
			sz = humanBytes(n)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", r.Name, r.Status, len(r.Files), sz, r.Message)
	}
	for _, f := range doc.Files {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", "(job)", "-", 1, humanBytes(f.Size), f.Name)
	}
	tw.Flush()
	for _, line := range strings.SplitAfter(table.String(), "\n") {
		if line != "" {
			fmt.Fprintln(w, strings.TrimRight(line, " \n"))
		}
	}
}

// Following a job.

const (
	pollFirst = 250 * time.Millisecond // polling without Retry-After: first interval,
	pollMax   = 2 * time.Second        // growing by half up to this
	// eventsSilence: a stream silent this long (the server sends
	// heartbeats) is opened again.
	eventsSilence = 60 * time.Second
	// eventsFailures: streams broken this many times in a row, then poll.
	eventsFailures = 3
)

// follower is what is known of a running job: the document, and the
// counts of its events, which may be newer.
type follower struct {
	r      *remote
	ref    string
	doc    *api.JobDoc
	line   *progressLine
	meter  *meter
	events struct {
		regionsDone, regionsTotal int
		bytesDone, bytesTotal     int64
	}
}

// waitJob follows a job until it ends and returns its final document:
// through its event stream when the server has one, else by polling.
func waitJob(ctx context.Context, r *remote, ref string, doc *api.JobDoc, line *progressLine) (*api.JobDoc, error) {
	f := &follower{r: r, ref: ref, doc: doc, line: line, meter: newMeter()}
	defer line.done()
	f.draw(true)
	if finalStatus(doc.Status) {
		return doc, nil
	}
	offered, err := f.followEvents(ctx)
	if err != nil {
		return nil, err
	}
	if offered && finalStatus(f.doc.Status) {
		return f.doc, nil
	}
	return f.poll(ctx)
}

// refresh reads the job document again.
func (f *follower) refresh(ctx context.Context) (*http.Response, error) {
	var doc api.JobDoc
	resp, err := f.r.getJSON(ctx, f.ref, &doc)
	if err != nil {
		return nil, err
	}
	f.doc = &doc
	f.draw(finalStatus(doc.Status))
	return resp, nil
}

func (f *follower) poll(ctx context.Context) (*api.JobDoc, error) {
	delay := pollFirst
	for {
		resp, err := f.refresh(ctx)
		if err != nil {
			return nil, err
		}
		if finalStatus(f.doc.Status) {
			return f.doc, nil
		}
		wait, ok := retryAfter(resp)
		if !ok {
			wait = delay
			delay = min(delay*3/2, pollMax)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// followEvents reads the job's event stream until its final status,
// opening it again (from the last event) when it breaks. It reports
// whether the server offers a stream; a stream that keeps breaking ends
// it early, the job not yet final.
func (f *follower) followEvents(ctx context.Context) (bool, error) {
	lastID, failures := "", 0
	for failures < eventsFailures {
		hdr := http.Header{"Accept": {"text/event-stream"}, "Cache-Control": {"no-cache"}}
		if lastID != "" {
			hdr.Set("Last-Event-ID", lastID)
		}
		sctx, cancel := context.WithCancel(ctx)
		resp, err := f.r.do(sctx, http.MethodGet, strings.TrimRight(f.ref, "/")+"/events", nil, hdr)
		if err != nil {
			cancel()
			if ctx.Err() != nil {
				return true, ctx.Err()
			}
			if lastID == "" && errs.CodeOf(err) != errs.Unavailable {
				return false, nil // no stream here (404, an older server): poll
			}
			failures++
			continue
		}
		if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
			resp.Body.Close()
			cancel()
			return false, nil
		}
		final, err := f.readEvents(resp.Body, cancel, &lastID)
		resp.Body.Close()
		cancel()
		if ctx.Err() != nil {
			return true, ctx.Err()
		}
		if err != nil {
			return true, err
		}
		// The server ends the stream after the final status; anything
		// else broke it.
		if final {
			_, err := f.refresh(ctx)
			return true, err
		}
		failures++
	}
	return true, nil
}

// sseEvent is one event of a stream.
type sseEvent struct {
	id, typ string
	data    []byte
}

// readEvents handles the events of one stream; it reports whether the
// job's final status came. A stream silent for eventsSilence is cut
// (cancel).
func (f *follower) readEvents(body io.Reader, cancel context.CancelFunc, lastID *string) (bool, error) {
	silence := time.AfterFunc(eventsSilence, cancel)
	defer silence.Stop()
	br := bufio.NewReader(body)
	ev := sseEvent{typ: "message"}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return false, nil // a broken or ended stream: the caller decides
		}
		silence.Reset(eventsSilence)
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			if len(ev.data) > 0 {
				if ev.id != "" {
					*lastID = ev.id
				}
				final, err := f.onEvent(ev)
				if final || err != nil {
					return final, err
				}
			}
			ev = sseEvent{typ: "message"}
			continue
		}
		if strings.HasPrefix(line, ":") {
			continue // a heartbeat
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			ev.typ = value
		case "data":
			if len(ev.data) > 0 {
				ev.data = append(ev.data, '\n')
			}
			ev.data = append(ev.data, value...)
		case "id":
			if !strings.Contains(value, "\x00") {
				ev.id = value
			}
		}
	}
}

// progressData is a progress event; the byte counts are those of servers
// that measure progress in bytes.
type progressData struct {
	api.ProgressEvent
	BytesDone  int64 `json:"bytes_done"`
	BytesTotal int64 `json:"bytes_total"`
}

func (f *follower) onEvent(ev sseEvent) (bool, error) {
	switch ev.typ {
	case api.EventProgress:
		var p progressData
		if json.Unmarshal(ev.data, &p) == nil {
			f.doc.Progress = p.Progress
			e := &f.events
			e.regionsDone, e.regionsTotal = max(e.regionsDone, p.RegionsDone), p.RegionsTotal
			e.bytesDone, e.bytesTotal = max(e.bytesDone, p.BytesDone), p.BytesTotal
		}
	case api.EventRegion:
		var re api.RegionEvent
		if json.Unmarshal(ev.data, &re) == nil && re.Index >= 0 && re.Index < len(f.doc.Regions) {
			f.doc.Regions[re.Index] = re.RegionDoc
		}
	case api.EventStatus:
		var st api.StatusEvent
		if json.Unmarshal(ev.data, &st) == nil {
			f.doc.Status, f.doc.Message = st.Status, st.Message
			if finalStatus(st.Status) {
				return true, nil
			}
		}
	}
	f.draw(false)
	return false, nil
}

// draw shows the job's progress: regions done, bytes (read, when the
// server counts them; else written), rate, estimated time left.
func (f *follower) draw(force bool) {
	if f.line == nil || !f.line.on {
		return
	}
	doc := f.doc
	done, total := 0, len(doc.Regions)
	var written int64
	for _, r := range doc.Regions {
		if r.Status.Final() {
			done++
		}
		for _, fl := range r.Files {
			written += fl.Size
		}
	}
	done = max(done, f.events.regionsDone)
	if total == 0 {
		total = f.events.regionsTotal
	}
	parts := []string{fmt.Sprintf("job %s %s", shortID(doc.ID), doc.Status), fmt.Sprintf("regions %d/%d", done, total)}
	if e := f.events; e.bytesTotal > 0 {
		parts = append(parts, fmt.Sprintf("read %s/%s", humanBytes(e.bytesDone), humanBytes(e.bytesTotal)), f.meter.rate(e.bytesDone), f.meter.eta(e.bytesDone, e.bytesTotal))
	} else {
		parts = append(parts, "written "+humanBytes(written), f.meter.eta(int64(done), int64(total)))
	}
	f.line.show(joinParts(parts...), force)
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12] + "…"
	}
	return id
}

// printServerDryRun prints a server's dry run of a job: a table of what
// each region would give, the totals and the model of the estimated times.
func printServerDryRun(ctx context.Context, r *remote, resp *http.Response, asJSON bool, stdout, stderr io.Writer) int {
	if resp.StatusCode == http.StatusCreated {
		// A server without dry runs started the job: stop it.
		var doc api.JobDoc
		json.NewDecoder(resp.Body).Decode(&doc)
		if doc.ID != "" {
			if del, err := r.do(ctx, http.MethodDelete, selfLink(doc), nil, nil); err == nil {
				del.Body.Close()
			}
		}
		fmt.Fprintf(stderr, "subsetd submit: the server ran job %s instead of planning it (it has no dry runs); the job was cancelled\n", doc.ID)
		return 1
	}
	raw, err := io.ReadAll(resp.Body)
	var d api.DryRunDoc
	if err == nil {
		err = json.Unmarshal(raw, &d)
	}
	if err != nil || !d.DryRun {
		return clientError(stderr, "submit", nil, fmt.Errorf("the server's answer is not a dry run: %v", err))
	}
	failed := 0
	for _, reg := range d.Regions {
		if reg.Status == string(jobs.Failed) {
			failed++
		}
	}
	if asJSON {
		stdout.Write(raw)
	} else {
		var table bytes.Buffer
		tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "REGION\tSTATUS\tFILE\tINDEX BOX\tSHAPE\tVALUES\tEST. SIZE\tINPUT READ\tEST. TIME")
		for _, reg := range d.Regions {
			if len(reg.Files) == 0 {
				what := reg.Message
				if reg.Statistics {
					what = "statistics only"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t-\t-\t-\t-\t%s\t%s\n", reg.Name, reg.Status, cmp.Or(what, "-"), humanBytes(reg.InputBytes), seconds(reg.EstimatedSeconds))
				continue
			}
			for k, f := range reg.Files {
				est := "" // the region's time, on its first file
				if k == 0 {
					est = seconds(reg.EstimatedSeconds)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", reg.Name, reg.Status, f.Name, fmtBox(f.Box), fmtShape(f.Shape),
					humanBytes(f.OutputBytes), humanBytes(f.EstimatedBytes), humanBytes(f.InputBytes), est)
			}
		}
		t := d.Totals
		fmt.Fprintf(tw, "total\t\t%d files\t\t\t%s\t%s\t%s\t%s\n", t.Files, humanBytes(t.OutputBytes), humanBytes(t.EstimatedBytes), humanBytes(t.InputBytes), seconds(t.EstimatedSeconds))
		tw.Flush()
		for _, line := range strings.SplitAfter(table.String(), "\n") {
			if line != "" {
				fmt.Fprintln(stdout, strings.TrimRight(line, " \n"))
			}
		}
		if tp := d.Throughput; tp != nil {
			fmt.Fprintf(stdout, "times for %d workers at %s/s and %.2f s a task (from %d tasks measured)\n", tp.Workers, humanBytes(int64(tp.BytesPerSecond)), tp.OverheadSeconds, tp.MeasuredTasks)
		}
		for _, n := range d.Notes {
			fmt.Fprintf(stderr, "note: %s\n", n)
		}
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "subsetd submit: %d of %d regions would fail\n", failed, len(d.Regions))
		return 1
	}
	return 0
}

// seconds writes an estimated duration.
func seconds(s float64) string {
	if s < 10 {
		return fmt.Sprintf("%.1f s", s)
	}
	return humanDuration(time.Duration(s * float64(time.Second)))
}
