package index

import (
	"github.com/subsetd/subsetd/internal/testutil/pgtest"

	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/subsetd/subsetd/internal/proc"
	"github.com/subsetd/subsetd/regions"
)

// The test binary doubles as a fake inspector: with SUBSETD_FAKE_INSPECTOR
// set it answers paths like `subsetd inspect --stdin`, taking each file's
// content as the record to print (JSON), except for files starting with
// CRASH (it kills itself), HANG (it sleeps), EXIT (it exits 3) or NOISY (it
// prints junk first). It appends every path it is given to
// $SUBSETD_FAKE_LOG.
func TestMain(m *testing.M) {
	if os.Getenv("SUBSETD_FAKE_INSPECTOR") == "1" {
		fakeInspector()
		os.Exit(0)
	}
	code := pgtest.Main(m)
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

func fakeInspector() {
	withSha := slices.Contains(os.Args, "--sha256")
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		p := sc.Text()
		if log := os.Getenv("SUBSETD_FAKE_LOG"); log != "" {
			f, err := os.OpenFile(log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
			if err == nil {
				fmt.Fprintln(f, p)
				f.Close()
			}
		}
		b, err := os.ReadFile(p)
		rec := Record{Path: p}
		switch {
		case err != nil:
			rec.Error = err.Error()
		case bytes.HasPrefix(b, []byte("CRASH")):
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		case bytes.HasPrefix(b, []byte("HANG")):
			time.Sleep(time.Hour)
		case bytes.HasPrefix(b, []byte("SLOW")):
			time.Sleep(2 * time.Second)
			rec.Error = "slow to say it is not a file"
		case bytes.HasPrefix(b, []byte("CALLHANG")): // as readers/open reports a call that never returns
			proc.BeginCall(p)
			time.Sleep(time.Hour)
		case bytes.HasPrefix(b, []byte("CALLABRT")): // a crash in C code, as the Go runtime reports it
			proc.BeginCall(p)
			syscall.Kill(os.Getpid(), syscall.SIGABRT)
			time.Sleep(time.Hour)
		case bytes.HasPrefix(b, []byte("EXIT")):
			fmt.Fprintln(os.Stderr, "fatal error: unexpected signal during runtime execution")
			os.Exit(3)
		default:
			if bytes.HasPrefix(b, []byte("NOISY")) {
				fmt.Println("HDF5-DIAG: Error detected in HDF5 (1.10.8)")
				fmt.Println(`{"path": "someone else"}`)
				b = b[5:]
			}
			if json.Unmarshal(b, &rec) != nil {
				rec = Record{Error: "not a test file"}
			}
			rec.Path = p
		}
		if withSha && rec.Error == "" {
			h := sha256.Sum256(b)
			rec.Sha256 = hex.EncodeToString(h[:])
		}
		out, _ := json.Marshal(rec)
		os.Stdout.Write(append(out, '\n'))
	}
}

// fake is a data directory with the fake inspector.
type fake struct {
	t     *testing.T
	root  string
	log   string
	store *Store
}

func newFake(t *testing.T) *fake {
	t.Setenv("SUBSETD_FAKE_INSPECTOR", "1")
	dir := t.TempDir()
	f := &fake{t: t, root: filepath.Join(dir, "data"), log: filepath.Join(dir, "inspected.log")}
	t.Setenv("SUBSETD_FAKE_LOG", f.log)
	if err := os.MkdirAll(f.root, 0o755); err != nil {
		t.Fatal(err)
	}
	f.store = openTemp(t)
	return f
}

// fileRecord is the content of a readable fake file: a grid at lon..lon+2,
// lat..lat+2 and one day of time.
func fileRecord(lon, lat float64, d int, vars ...string) []byte {
	t0 := day(d)
	if len(vars) == 0 {
		vars = []string{"sst"}
	}
	rec := Record{Description: describe(vars, 3, 3, &t0, 4, 6*time.Hour),
		Geo: GeoOf([]GridCoords{{Kind: "rectilinear", Lat: []float64{lat, lat + 1, lat + 2}, Lon: []float64{lon, lon + 1, lon + 2}}})}
	b, _ := json.Marshal(rec)
	return b
}

func (f *fake) write(rel string, content []byte) {
	f.t.Helper()
	p := filepath.Join(f.root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(p, content, 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fake) scan(opts ScanOptions) (*Report, []string) {
	f.t.Helper()
	os.Remove(f.log)
	opts.Root = f.root
	if opts.Command == nil {
		opts.Command = []string{os.Args[0]}
	}
	if opts.Workers == 0 {
		opts.Workers = 3
	}
	rep, err := f.store.Scan(context.Background(), opts)
	if err != nil {
		f.t.Fatalf("scan: %v", err)
	}
	return rep, f.inspected()
}

// inspected lists the files the inspectors were given, relative, sorted.
func (f *fake) inspected() []string {
	b, _ := os.ReadFile(f.log)
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if l != "" {
			rel, _ := filepath.Rel(f.root, l)
			out = append(out, filepath.ToSlash(rel))
		}
	}
	sort.Strings(out)
	return out
}

type counts struct{ files, new, changed, deleted, skipped, failed, crashed, unread, datasets int }

func countsOf(r *Report) counts {
	return counts{r.Files, r.New, r.Changed, r.Deleted, r.Skipped, r.Failed, r.Crashed, r.Unread, r.Datasets}
}

func TestScanIncremental(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	f.write("daily/d1.nc", fileRecord(10, 10, 1))
	f.write("daily/d2.nc", fileRecord(10, 10, 2))
	f.write("daily/sub/d3.nc4.gz", fileRecord(10, 10, 3))
	f.write("daily/notes.txt", []byte("not data"))
	f.write("daily/.hidden.nc", fileRecord(10, 10, 9))
	f.write("daily/.cache/x.nc", fileRecord(10, 10, 9))
	f.write("swaths/a.h5", fileRecord(100, -20, 1))
	f.write("swaths/b.HDF5", fileRecord(170, 0, 2))
	f.write("swaths/bad.nc", []byte("garbage"))
	f.write("swaths/noisy.nc", append([]byte("NOISY"), fileRecord(-60, 40, 3)...))
	f.write("single.nc.bz2", fileRecord(0, 0, 5))
	f.write("readme.md", []byte("hello"))

	var mu sync.Mutex
	var progress []Progress
	rep, seen := f.scan(ScanOptions{Progress: func(p Progress) { mu.Lock(); progress = append(progress, p); mu.Unlock() }})
	want := []string{"daily/d1.nc", "daily/d2.nc", "daily/sub/d3.nc4.gz", "single.nc.bz2", "swaths/a.h5", "swaths/b.HDF5", "swaths/bad.nc", "swaths/noisy.nc"}
	if !reflect.DeepEqual(seen, want) {
		t.Fatalf("inspected %v\nwant %v", seen, want)
	}
	if c := countsOf(rep); c != (counts{files: 8, new: 8, failed: 1, datasets: 3}) {
		t.Errorf("first scan: %+v", c)
	}
	if len(rep.Failures) != 1 || rep.Failures[0].Path != "swaths/bad.nc" || rep.Failures[0].Error != "not a test file" {
		t.Errorf("failures %+v", rep.Failures)
	}
	last := progress[len(progress)-1]
	if !last.Final || last.Inspected != 8 || last.Errors != 1 || last.Found != 8 || last.Walking {
		t.Errorf("last progress %+v", last)
	}
	ids, _ := f.store.Datasets(ctx)
	if !reflect.DeepEqual(ids, []string{"daily", "single", "swaths"}) {
		t.Errorf("datasets %v", ids)
	}
	files, _, _ := f.store.Search(ctx, "daily", nil, nil, nil, 0, 0)
	if got := paths(files); !reflect.DeepEqual(got, []string{"daily/d1.nc", "daily/d2.nc", "daily/sub/d3.nc4.gz"}) {
		t.Errorf("daily files %v", got)
	}
	if files[0].Size != int64(len(fileRecord(10, 10, 1))) || files[0].BBox == nil || files[0].TimeStart == nil {
		t.Errorf("file %+v", files[0])
	}
	b := regions.BBox{West: 99, South: -19, East: 101, North: -18}
	if got, _, _ := f.store.Search(ctx, "swaths", &b, nil, nil, 0, 0); !reflect.DeepEqual(paths(got), []string{"swaths/a.h5"}) {
		t.Errorf("swaths in %v: %v", b, paths(got))
	}

	// Nothing changed: nothing opened, the unreadable file neither.
	rep, seen = f.scan(ScanOptions{})
	if len(seen) != 0 || countsOf(rep) != (counts{files: 8, skipped: 8, unread: 1, datasets: 3}) {
		t.Errorf("second scan opened %v: %+v", seen, countsOf(rep))
	}

	// Add one, touch one, rewrite one (same size, new time), delete one,
	// fix the bad one.
	f.write("daily/d4.nc", fileRecord(10, 10, 4))
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(f.root, "daily/d1.nc"), later, later); err != nil {
		t.Fatal(err)
	}
	f.write("swaths/a.h5", fileRecord(101, -20, 1)) // same length as before
	os.Chtimes(filepath.Join(f.root, "swaths/a.h5"), later, later)
	os.Remove(filepath.Join(f.root, "daily/d2.nc"))
	f.write("swaths/bad.nc", fileRecord(-100, 0, 1))
	rep, seen = f.scan(ScanOptions{})
	want = []string{"daily/d1.nc", "daily/d4.nc", "swaths/a.h5", "swaths/bad.nc"}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("third scan inspected %v\nwant %v", seen, want)
	}
	if c := countsOf(rep); c != (counts{files: 8, new: 1, changed: 3, deleted: 1, skipped: 4, datasets: 3}) {
		t.Errorf("third scan: %+v", c)
	}
	if fails, _ := f.store.Errors(ctx, ""); len(fails) != 0 {
		t.Errorf("errors after the fix: %+v", fails)
	}
	b = regions.BBox{West: 102.5, South: -19, East: 103, North: -18}
	if got, _, _ := f.store.Search(ctx, "swaths", &b, nil, nil, 0, 0); !reflect.DeepEqual(paths(got), []string{"swaths/a.h5"}) {
		t.Errorf("rewritten a.h5 not where it moved: %v", paths(got))
	}

	// A whole dataset goes: its files and the dataset are dropped.
	os.RemoveAll(filepath.Join(f.root, "swaths"))
	rep, seen = f.scan(ScanOptions{})
	if len(seen) != 0 || rep.Deleted != 4 || rep.Datasets != 2 {
		t.Errorf("after removing swaths: opened %v, %+v", seen, countsOf(rep))
	}
	if _, err := f.store.Dataset(ctx, "swaths", ""); err == nil {
		t.Error("swaths still in the index")
	}

	// Force reads everything; sha256 reads what has none.
	rep, seen = f.scan(ScanOptions{Force: true})
	if len(seen) != 4 || rep.Changed != 4 {
		t.Errorf("force: %v %+v", seen, countsOf(rep))
	}
	rep, seen = f.scan(ScanOptions{Sha256: true})
	if len(seen) != 4 || rep.Hashed != 4 {
		t.Errorf("sha256: %v %+v", seen, countsOf(rep))
	}
	files, _, _ = f.store.Search(ctx, "single", nil, nil, nil, 0, 0)
	h := sha256.Sum256(fileRecord(0, 0, 5))
	if len(files) != 1 || files[0].Sha256 != hex.EncodeToString(h[:]) {
		t.Errorf("sha256 of single: %+v", files)
	}
	if _, seen = f.scan(ScanOptions{Sha256: true}); len(seen) != 0 {
		t.Errorf("hashed files read again: %v", seen)
	}
}

func TestScanCrashAndTimeout(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	for i := 0; i < 12; i++ {
		f.write(fmt.Sprintf("g/ok%02d.nc", i), fileRecord(float64(i), 0, i))
	}
	f.write("g/crash.nc", []byte("CRASH"))
	f.write("g/exit.nc", []byte("EXIT"))
	f.write("g/hang.nc", []byte("HANG"))
	goroutines := runtime.NumGoroutine()
	rep, seen := f.scan(ScanOptions{Workers: 2, Timeout: time.Second})
	// Killed inspectors leave nothing behind.
	for i := 0; runtime.NumGoroutine() > goroutines; i++ {
		if i == 100 {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines after the scan, %d before:\n%s", runtime.NumGoroutine(), goroutines, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(seen) != 15 {
		t.Errorf("inspected %d files: %v", len(seen), seen)
	}
	if c := countsOf(rep); c != (counts{files: 15, new: 15, failed: 3, crashed: 3, datasets: 1}) {
		t.Errorf("scan: %+v", c)
	}
	fails, err := f.store.Errors(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, x := range fails {
		got[x.Path] = x.Error
	}
	want := map[string]string{
		"g/crash.nc": "inspector crashed on this file: killed by SIGKILL",
		"g/exit.nc":  "inspector crashed on this file: exited with status 3 (fatal error: unexpected signal during runtime execution)",
		"g/hang.nc":  "inspection timed out after 1s",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors %v\nwant %v", got, want)
	}
	if _, n, _ := f.store.Search(ctx, "g", nil, nil, nil, 0, 0); n != 12 {
		t.Errorf("%d readable files, want 12", n)
	}
	// Not retried.
	rep, seen = f.scan(ScanOptions{Workers: 2, Timeout: time.Second})
	if len(seen) != 0 || rep.Unread != 3 {
		t.Errorf("rescan opened %v, %+v", seen, countsOf(rep))
	}
}

// A C library that hangs or crashes on a file makes the file unreadable, in
// the engine's words, however many such files come before any answer.
func TestScanFileFaults(t *testing.T) {
	f := newFake(t)
	f.write("g/a1.nc", []byte("CALLHANG"))
	f.write("g/a2.nc", []byte("CALLABRT"))
	f.write("g/a3.nc", []byte("CALLHANG"))
	f.write("g/a4.nc", []byte("CALLABRT"))
	f.write("g/ok.nc", fileRecord(0, 0, 0))
	t0 := time.Now()
	rep, _ := f.scan(ScanOptions{Workers: 1, Timeout: time.Minute, CallLimit: 200 * time.Millisecond})
	if c := countsOf(rep); c != (counts{files: 5, new: 5, failed: 4, crashed: 4, datasets: 1}) {
		t.Errorf("scan: %+v", c)
	}
	if d := time.Since(t0); d > 20*time.Second {
		t.Errorf("scan took %v", d)
	}
	fails, err := f.store.Errors(context.Background(), "g")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, x := range fails {
		got[x.Path] = x.Error
	}
	hung, crashed := "the C library did not answer within 0.2 s", "the C library crashed (SIGABRT) reading it"
	want := map[string]string{"g/a1.nc": hung, "g/a2.nc": crashed, "g/a3.nc": hung, "g/a4.nc": crashed}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors %v\nwant %v", got, want)
	}
}

// A dataset is complete (scanned_at set) as soon as its own files are
// stored, while the scan goes on with the others.
func TestScanCompletesDatasetsOneByOne(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	f.write("a/x.nc", fileRecord(0, 0, 0))
	f.write("b/slow.nc", []byte("SLOW"))
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.store.Scan(ctx, ScanOptions{Root: f.root, Command: []string{os.Args[0]}, Workers: 1, Timeout: time.Minute})
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		sum, err := f.store.Dataset(ctx, "a", "")
		if err == nil && sum.ScannedAt.Unix() > 0 {
			break
		}
		select {
		case <-done:
			t.Fatal("dataset a complete only at the end of the scan")
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("dataset a never complete")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if sum, err := f.store.Dataset(ctx, "b", ""); err == nil && sum.ScannedAt.Unix() > 0 {
		t.Error("dataset b complete before its file was inspected")
	}
	<-done
	if sum, err := f.store.Dataset(ctx, "b", ""); err != nil || sum.ScannedAt.Unix() <= 0 {
		t.Errorf("b after the scan: %+v %v", sum, err)
	}
}

func TestScanBrokenInspector(t *testing.T) {
	f := newFake(t)
	for i := 0; i < 6; i++ {
		f.write(fmt.Sprintf("g/f%d.nc", i), fileRecord(0, 0, i))
	}
	// A command that dies at once: the scan fails, no file is recorded.
	_, err := f.store.Scan(context.Background(), ScanOptions{Root: f.root, Command: []string{"false"}, Workers: 2})
	if err == nil || !strings.Contains(err.Error(), "without answering once") {
		t.Errorf("broken inspector: %v", err)
	}
	if ids, _ := f.store.Datasets(context.Background()); len(ids) != 0 {
		t.Errorf("files recorded with a broken inspector: %v", ids)
	}
	// A command that does not exist.
	_, err = f.store.Scan(context.Background(), ScanOptions{Root: f.root, Command: []string{filepath.Join(f.root, "nope")}})
	if err == nil || !strings.Contains(err.Error(), "start inspector") {
		t.Errorf("missing inspector: %v", err)
	}
	// A data directory that is not there.
	if _, err := f.store.Scan(context.Background(), ScanOptions{Root: filepath.Join(f.root, "nope")}); err == nil {
		t.Error("scan of a missing directory")
	}
}

func TestScanLinksAndNames(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret.nc"), fileRecord(0, 0, 1), 0o644)
	os.MkdirAll(filepath.Join(outside, "dir"), 0o755)
	os.WriteFile(filepath.Join(outside, "dir", "x.nc"), fileRecord(0, 0, 1), 0o644)
	f.write("ds/real.nc", fileRecord(1, 1, 1))
	f.write("other/target.nc", fileRecord(2, 2, 2))
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Symlink(filepath.Join(outside, "secret.nc"), filepath.Join(f.root, "ds", "leak.nc")))
	must(os.Symlink(filepath.Join(outside, "dir"), filepath.Join(f.root, "outdir")))
	must(os.Symlink(filepath.Join(f.root, "other", "target.nc"), filepath.Join(f.root, "ds", "inner.nc")))
	must(os.Symlink(filepath.Join(f.root, "other"), filepath.Join(f.root, "alias")))
	// Same id twice: the folder "dup" comes before "dup.nc" in name order.
	f.write("dup/a.nc", fileRecord(3, 3, 3))
	f.write("dup.nc", fileRecord(4, 4, 4))
	f.write("bad name.nc", fileRecord(5, 5, 5))

	rep, seen := f.scan(ScanOptions{})
	// Inspectors get the targets of links; the index has the names under
	// the data directory.
	want := []string{"ds/real.nc", "dup/a.nc", "other/target.nc", "other/target.nc", "other/target.nc"}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("inspected %v\nwant %v", seen, want)
	}
	all, _, _ := f.store.Search(ctx, "", nil, nil, nil, 0, 0)
	got := paths(all)
	sort.Strings(got)
	if want := []string{"alias/target.nc", "ds/inner.nc", "ds/real.nc", "dup/a.nc", "other/target.nc"}; !reflect.DeepEqual(got, want) {
		t.Errorf("indexed %v\nwant %v", got, want)
	}
	refused := map[string]string{}
	for _, r := range rep.Refused {
		refused[r.Path] = r.Reason
	}
	for _, p := range []string{"ds/leak.nc", "outdir", "dup.nc", "bad name.nc"} {
		if refused[p] == "" {
			t.Errorf("%s not refused: %v", p, refused)
		}
	}
	if refused["ds/leak.nc"] != ReasonOutside || !strings.Contains(refused["dup.nc"], "taken by dup") {
		t.Errorf("reasons: %v", refused)
	}
	// A scan of one dataset leaves the others alone.
	os.Remove(filepath.Join(f.root, "other", "target.nc"))
	f.write("ds/new.nc", fileRecord(6, 6, 6))
	rep, seen = f.scan(ScanOptions{Dataset: "ds"})
	if !reflect.DeepEqual(seen, []string{"ds/new.nc"}) || rep.Deleted != 1 || rep.Datasets != 1 {
		// ds/inner.nc points at the removed file: it is gone from ds.
		t.Errorf("dataset scan: %v %+v", seen, countsOf(rep))
	}
	if _, n, _ := f.store.Search(ctx, "other", nil, nil, nil, 0, 0); n != 1 {
		t.Errorf("other dataset touched by a scan of ds: %d files", n)
	}
	if _, err := f.store.Scan(ctx, ScanOptions{Root: f.root, Dataset: "../etc"}); err == nil {
		t.Error("bad dataset id accepted")
	}
}

func TestScanUnreadableFolder(t *testing.T) {
	if os.Getuid() == 0 {
		t.Skip("root reads every folder")
	}
	f := newFake(t)
	f.write("ds/open/a.nc", fileRecord(0, 0, 1))
	f.write("ds/closed/b.nc", fileRecord(0, 0, 2))
	if rep, _ := f.scan(ScanOptions{}); rep.New != 2 {
		t.Fatalf("first scan: %+v", countsOf(rep))
	}
	closed := filepath.Join(f.root, "ds", "closed")
	os.Chmod(closed, 0)
	defer os.Chmod(closed, 0o755)
	rep, _ := f.scan(ScanOptions{})
	if rep.Deleted != 0 || len(rep.Refused) != 1 || rep.Refused[0].Path != "ds/closed" {
		t.Errorf("files below an unreadable folder dropped: %+v %v", countsOf(rep), rep.Refused)
	}
}

func TestScanCancel(t *testing.T) {
	f := newFake(t)
	for i := 0; i < 5; i++ {
		f.write(fmt.Sprintf("g/ok%d.nc", i), fileRecord(0, 0, i))
	}
	f.write("g/zhang.nc", []byte("HANG"))
	if rep, _ := f.scan(ScanOptions{Workers: 1, Timeout: time.Second}); rep.Failed != 1 {
		t.Fatalf("first: %+v", countsOf(rep))
	}
	// Delete a file, then cancel a scan blocked on a hanging file: nothing
	// is dropped.
	os.Remove(filepath.Join(f.root, "g", "ok0.nc"))
	f.write("g/zhang2.nc", []byte("HANG"))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := f.store.Scan(ctx, ScanOptions{Root: f.root, Command: []string{os.Args[0]}, Workers: 1, Timeout: time.Minute})
	if err == nil {
		t.Fatal("cancelled scan succeeded")
	}
	if _, n, _ := f.store.Search(context.Background(), "g", nil, nil, nil, 0, 0); n != 5 {
		t.Errorf("%d files after a cancelled scan, want 5 (nothing dropped)", n)
	}
}

// A data folder assembled with symbolic links: a "latest" link, a dataset
// on another disk (an allowed root), a curated folder whose links point
// into an archive, chains of links, loops, broken links and links that
// leave the roots directly or through an intermediate link.
func TestScanSymlinkedArchive(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	disk2, archive, secret := t.TempDir(), t.TempDir(), t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	put := func(p string, b []byte) {
		must(os.MkdirAll(filepath.Dir(p), 0o755))
		must(os.WriteFile(p, b, 0o644))
	}
	put(filepath.Join(disk2, "sst", "2020", "d1.nc"), fileRecord(0, 0, 1))
	put(filepath.Join(disk2, "sst", "2021", "d2.nc"), fileRecord(0, 0, 2))
	put(filepath.Join(archive, "big", "a.nc"), fileRecord(1, 1, 3))
	put(filepath.Join(archive, "big", "b.nc"), fileRecord(1, 1, 4))
	put(filepath.Join(secret, "s.nc"), fileRecord(2, 2, 5))
	f.write("runs/r1/x.nc", fileRecord(3, 3, 6))
	f.write("runs/r2/y.nc", fileRecord(3, 3, 7))
	root := f.root
	// A dataset folder on another disk; a "latest" link to a folder of it.
	must(os.Symlink(filepath.Join(disk2, "sst"), filepath.Join(root, "sst")))
	must(os.Symlink("runs/r2", filepath.Join(root, "latest")))
	// A curated folder: a file link into the archive, a chain of two
	// links, a folder link into the archive.
	must(os.MkdirAll(filepath.Join(root, "curated"), 0o755))
	must(os.Symlink(filepath.Join(archive, "big", "a.nc"), filepath.Join(root, "curated", "a.nc")))
	must(os.Symlink(filepath.Join(archive, "hop.nc"), filepath.Join(root, "curated", "chain.nc")))
	must(os.Symlink(filepath.Join(archive, "big", "b.nc"), filepath.Join(archive, "hop.nc")))
	must(os.Symlink(filepath.Join(archive, "big"), filepath.Join(root, "curated", "more")))
	// Refused: out of the roots directly, through an allowed link whose
	// target moved out (an intermediate link in the archive pointing at
	// the secret folder), a loop of two links, a folder link back to its
	// own parent, a broken link.
	must(os.Symlink(filepath.Join(secret, "s.nc"), filepath.Join(root, "curated", "leak.nc")))
	must(os.Symlink(secret, filepath.Join(archive, "escape")))
	must(os.Symlink(filepath.Join(archive, "escape", "s.nc"), filepath.Join(root, "curated", "via.nc")))
	must(os.Symlink("loop2.nc", filepath.Join(root, "curated", "loop1.nc")))
	must(os.Symlink("loop1.nc", filepath.Join(root, "curated", "loop2.nc")))
	must(os.Symlink("..", filepath.Join(root, "curated", "up")))
	must(os.Symlink(filepath.Join(archive, "gone.nc"), filepath.Join(root, "curated", "broken.nc")))
	// A top-level link out of the roots: no dataset.
	must(os.Symlink(secret, filepath.Join(root, "private")))

	check := func(rep *Report, wantIndexed []string, wantRefused map[string]string) {
		t.Helper()
		all, _, _ := f.store.Search(ctx, "", nil, nil, nil, 0, 0)
		got := paths(all)
		sort.Strings(got)
		if !reflect.DeepEqual(got, wantIndexed) {
			t.Errorf("indexed %v\nwant    %v", got, wantIndexed)
		}
		refused := map[string]string{}
		for _, r := range Links(rep.Refused) {
			refused[r.Path] = r.Reason
		}
		if !reflect.DeepEqual(refused, wantRefused) {
			t.Errorf("refused %v\nwant    %v", refused, wantRefused)
		}
	}
	// The data directory alone (the default): only links inside it.
	rep, _ := f.scan(ScanOptions{})
	check(rep, []string{"latest/y.nc", "runs/r1/x.nc", "runs/r2/y.nc"}, map[string]string{
		"sst": ReasonOutside, "private": ReasonOutside,
		"curated/a.nc": ReasonOutside, "curated/chain.nc": ReasonOutside, "curated/more": ReasonOutside,
		"curated/leak.nc": ReasonOutside, "curated/via.nc": ReasonOutside,
		"curated/loop1.nc": ReasonLoop, "curated/loop2.nc": ReasonLoop, "curated/broken.nc": ReasonBroken,
		"curated/up": ReasonLoop + ": it leads back to a folder it is in"})
	for _, r := range rep.Refused {
		if r.Path == "curated/via.nc" && r.Target != filepath.Join(secret, "s.nc") {
			t.Errorf("via.nc: target %q, want the real path %s", r.Target, filepath.Join(secret, "s.nc"))
		}
	}

	// With the other disk and the archive as allowed roots.
	rep, seen := f.scan(ScanOptions{AllowedRoots: []string{disk2, archive}})
	check(rep, []string{"curated/a.nc", "curated/chain.nc", "curated/more/a.nc", "curated/more/b.nc",
		"latest/y.nc", "runs/r1/x.nc", "runs/r2/y.nc", "sst/2020/d1.nc", "sst/2021/d2.nc"}, map[string]string{
		"private": ReasonOutside, "curated/leak.nc": ReasonOutside, "curated/via.nc": ReasonOutside,
		"curated/loop1.nc": ReasonLoop, "curated/loop2.nc": ReasonLoop, "curated/broken.nc": ReasonBroken,
		"curated/up": ReasonLoop + ": it leads back to a folder it is in"})
	// The inspectors open the targets.
	for _, p := range seen {
		if strings.Contains(p, "secret") {
			t.Errorf("a file out of the roots was opened: %s", p)
		}
	}
	// An allowed root that does not exist is an error, not a silent none.
	if _, err := f.store.Scan(ctx, ScanOptions{Root: f.root, AllowedRoots: []string{filepath.Join(archive, "nope")}}); err == nil || !strings.Contains(err.Error(), "allowed root") {
		t.Errorf("missing allowed root: %v", err)
	}
}
