package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/jobs"
)

const fetchAbout = `Downloads every file of a job of a subsetd server into --out, laid out as
'subsetd subset' writes its outputs: <region>.nc, the granules of a region in
<region>/<file>.nc, the statistics as stats.nc and stats.csv (the layout of
job.download(dir) in the Python client, too). JOB is the id 'subsetd submit'
printed.

Every file's sha256 is checked against the job's manifest
(GET /v1/jobs/{id}/manifest.json) before the file gets its name; until then
it is <name>.<sha256 prefix>.part. A file already there with the right
sha256 is not fetched again, and an interrupted download is resumed from its
.part file with a Range request (a resumed file whose sha256 is wrong is
fetched again whole). Files come --parallel at a time; progress (files,
bytes, rate, estimated time left) shows on a terminal unless --quiet. The
paths written are printed on standard output, one per line, in the job's
order. A job still running gives the files of its regions finished so far.

--server and --key default to $SUBSETD_SERVER and $SUBSETD_KEY.

Exit status: 0 when every file was fetched and checked, 1 otherwise, 2 for
usage errors.`

func runFetch(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("fetch", "subsetd fetch --server URL [--key KEY] --out DIR JOB", fetchAbout, stderr)
	rem := addRemoteFlags(fs)
	out := fs.String("out", ".", "output `DIR`")
	parallel := fs.Int("parallel", 4, "`files` downloaded at once")
	quiet := fs.Bool("quiet", false, "show neither progress nor the summary")
	r, ref, code := clientArgs(fs, "fetch", rem, args, stdout, stderr)
	if r == nil {
		return code
	}
	if *parallel < 1 {
		usageError(stderr, "fetch", "--parallel must be at least 1, got %d", *parallel)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var m jobs.Manifest
	if _, err := r.getJSON(ctx, strings.TrimRight(ref, "/")+"/manifest.json", &m); err != nil {
		return clientError(stderr, "fetch", nil, err)
	}
	if !*quiet {
		switch {
		case !m.Status.Final():
			fmt.Fprintf(stderr, "subsetd fetch: job %s is %s: fetching the files of the regions finished so far\n", m.Job, m.Status)
		case m.Status != jobs.Successful:
			fmt.Fprintf(stderr, "subsetd fetch: job %s ended %s: fetching the files its regions gave before (%d)\n", m.Job, m.Status, len(m.Files))
		}
	}
	f := &fetcher{r: r, line: newProgressLine(stderr, *quiet), meter: newMeter(), files: len(m.Files)}
	dests := make([]string, len(m.Files))
	for i, e := range m.Files {
		d, err := localPath(*out, e.Name)
		if err != nil {
			return clientError(stderr, "fetch", nil, err)
		}
		dests[i] = d
		f.total += e.Size
	}
	errsOf := make([]error, len(m.Files))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(*parallel, max(len(m.Files), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				errsOf[i] = f.fetch(ctx, m.Files[i], dests[i])
			}
		}()
	}
	for i := range m.Files {
		next <- i
	}
	close(next)
	wg.Wait()
	f.line.done()
	if ctx.Err() != nil {
		fmt.Fprintf(stderr, "subsetd fetch: interrupted; run it again to resume (the .part files are kept)\n")
		return 1
	}
	failed := 0
	for i, err := range errsOf {
		if err != nil {
			failed++
			fmt.Fprintf(stderr, "subsetd fetch: %s: %v\n", m.Files[i].Name, err)
			continue
		}
		fmt.Fprintln(stdout, dests[i])
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "subsetd fetch: %d of %d files failed\n", failed, len(m.Files))
		return 1
	}
	if !*quiet {
		kept := ""
		if n := f.kept.Load(); n > 0 {
			kept = fmt.Sprintf(" (%d already there)", n)
		}
		fmt.Fprintf(stderr, "%d files, %s, sha256 checked, in %s%s\n", len(m.Files), humanBytes(f.total), *out, kept)
	}
	return 0
}

// fetcher downloads the files of one job.
type fetcher struct {
	r            *remote
	line         *progressLine
	meter        *meter
	files        int
	total        int64
	got, fetched atomic.Int64 // bytes in place; bytes that came over the network
	done, kept   atomic.Int64 // files
}

func (f *fetcher) draw(force bool) {
	got := f.got.Load()
	f.line.show(joinParts(fmt.Sprintf("fetch %d/%d files", f.done.Load(), f.files),
		humanBytes(got)+"/"+humanBytes(f.total), f.meter.rate(f.fetched.Load()), f.meter.eta(got, f.total)), force)
}

// partPath is where a download of dest is kept until its sha256 is
// checked; the sha256 in the name keeps parts of different files apart
// (the Python client names them so too).
func partPath(dest, sha string) string {
	return dest + "." + sha[:min(12, len(sha))] + ".part"
}

// localPath is where a file of the job goes: its name is '/'-separated and
// stays beneath dir.
func localPath(dir, name string) (string, error) {
	parts := strings.Split(name, "/")
	bad := name == "" || strings.Contains(name, "\\")
	for _, p := range parts {
		bad = bad || p == "" || p == "." || p == ".."
	}
	if bad {
		return "", errs.E(errs.Invalid, "refusing the file name %q from the server", name)
	}
	return filepath.Join(append([]string{dir}, parts...)...), nil
}

// fetch downloads one file into dest, resuming its .part file.
func (f *fetcher) fetch(ctx context.Context, e jobs.ManifestEntry, dest string) error {
	defer func() { f.done.Add(1); f.draw(false) }()
	if len(e.Sha256) != 64 {
		return fmt.Errorf("the manifest gives no sha256")
	}
	if st, err := os.Stat(dest); err == nil && st.Size() == e.Size {
		if sum, err := fileSha256(dest); err == nil && sum == e.Sha256 {
			f.got.Add(e.Size)
			f.kept.Add(1)
			return nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return err
	}
	part := partPath(dest, e.Sha256)
	resumed, sum, err := f.get(ctx, e, part)
	if err == nil && sum != e.Sha256 && resumed {
		// The bytes of the earlier attempt were wrong: fetch it whole.
		os.Remove(part)
		_, sum, err = f.get(ctx, e, part)
	}
	if err != nil {
		return err
	}
	if sum != e.Sha256 {
		os.Remove(part)
		return fmt.Errorf("sha256 %s, the manifest says %s", sum, e.Sha256)
	}
	return os.Rename(part, dest)
}

// get fetches e into part, resuming what part holds; it returns whether it
// resumed and the sha256 of part.
func (f *fetcher) get(ctx context.Context, e jobs.ManifestEntry, part string) (bool, string, error) {
	var have int64
	if st, err := os.Stat(part); err == nil {
		have = st.Size()
	}
	if have > e.Size {
		os.Remove(part)
		have = 0
	}
	h := sha256.New()
	if have > 0 { // the bytes already there count, and are hashed again
		pf, err := os.Open(part)
		if err != nil {
			return false, "", err
		}
		n, err := io.Copy(h, pf)
		pf.Close()
		if err != nil || n != have {
			return false, "", fmt.Errorf("reading %s: %v", part, err)
		}
		f.got.Add(have)
		if have == e.Size {
			return true, hex.EncodeToString(h.Sum(nil)), nil
		}
	}
	hdr := http.Header{}
	if have > 0 {
		hdr.Set("Range", "bytes="+strconv.FormatInt(have, 10)+"-")
		hdr.Set("If-Range", `"`+e.Sha256+`"`)
	}
	resp, err := f.r.do(ctx, http.MethodGet, e.Href, nil, hdr)
	if err != nil {
		f.got.Add(-have)
		return false, "", err
	}
	defer resp.Body.Close()
	flags := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	if have > 0 && (resp.StatusCode != http.StatusPartialContent || !strings.HasPrefix(resp.Header.Get("Content-Range"), fmt.Sprintf("bytes %d-", have))) {
		// The whole file came back: start again.
		f.got.Add(-have)
		have = 0
		h.Reset()
	}
	if have == 0 {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	out, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		return false, "", err
	}
	_, err = io.Copy(io.MultiWriter(out, h, countWriter{f}), resp.Body)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return false, "", ctx.Err()
		}
		return false, "", fmt.Errorf("download interrupted (run fetch again to resume): %w", err)
	}
	return have > 0, hex.EncodeToString(h.Sum(nil)), nil
}

// countWriter counts the bytes downloaded and redraws the progress line.
type countWriter struct{ f *fetcher }

func (c countWriter) Write(b []byte) (int, error) {
	c.f.got.Add(int64(len(b)))
	c.f.fetched.Add(int64(len(b)))
	c.f.draw(false)
	return len(b), nil
}

func fileSha256(path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	h := sha256.New()
	if _, err := io.Copy(h, fh); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
