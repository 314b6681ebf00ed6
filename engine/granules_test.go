package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/regions"
)

func fileNames(rr RegionResult) string {
	var ns []string
	for _, f := range rr.Files {
		ns = append(ns, f.Name)
	}
	return strings.Join(ns, " ")
}

// Granules: each file is cut once, for the regions that need it only;
// outputs are <region>/<file stem>.nc; a file the engine refuses fails its
// own outputs, not the run.
func TestGranules(t *testing.T) {
	t.Parallel()
	out := t.TempDir()
	var opened []string
	run := func(ctx context.Context, files []string, req *Request, opt Options) (*Result, error) {
		if len(files) != 1 || opt.Concat {
			t.Errorf("run on %v, concat %v", files, opt.Concat)
		}
		opened = append(opened, filepath.Base(files[0]))
		res := &Result{FilesOpened: 1, BytesRead: 10}
		if strings.Contains(files[0], "corrupt") {
			return res, errs.E(errs.Unreadable, "cannot read %s: NetCDF: Unknown file format", filepath.Base(files[0]))
		}
		if strings.Contains(files[0], "later") {
			return res, errs.F(errs.Invalid, "time", "time range 2020/2020 is outside the data of %s", filepath.Base(files[0]))
		}
		for _, r := range req.Regions {
			if strings.HasPrefix(r.Name, "empty") {
				res.Regions = append(res.Regions, RegionResult{Name: r.Name, Status: StatusEmpty, Message: "outside"})
				continue
			}
			os.WriteFile(filepath.Join(opt.OutDir, r.Name+".nc"), []byte(r.Name+" of "+files[0]), 0o644)
			res.Regions = append(res.Regions, RegionResult{Name: r.Name, Status: StatusSuccessful,
				Files: []OutFile{{Name: r.Name + ".nc", Shape: map[string]int{"lat": 2}}}})
		}
		return res, nil
	}
	req := &Request{Regions: []regions.Fixed{{Name: "a"}, {Name: "b"}, {Name: "emptyc"}, {Name: "d"}, {Name: "e"}}}
	files := []string{"/d/s/g1.nc.gz", "/d/s/g2.nc", "/d/s/unused.nc", "/d/t/G1.H5", "/d/s/corrupt.nc", "/d/s/later.nc"}
	res, err := Granules(context.Background(), run, files, [][]int{{0, 1}, {1, 3}, {0}, {4, 1}, {5}}, req, Options{OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(opened, " ") != "g1.nc.gz g2.nc G1.H5 corrupt.nc later.nc" || res.FilesOpened != 5 || res.BytesRead != 50 {
		t.Fatalf("opened %v (%d, %d bytes)", opened, res.FilesOpened, res.BytesRead)
	}
	a, b, c, d, e := res.Regions[0], res.Regions[1], res.Regions[2], res.Regions[3], res.Regions[4]
	if a.Status != StatusSuccessful || fileNames(a) != "a/g1.nc a/g2.nc" || a.Message != "" {
		t.Fatalf("a %+v", a)
	}
	// G1.H5 is g1 too (case aside): its outputs are g1-2.
	if b.Status != StatusSuccessful || fileNames(b) != "b/g2.nc b/G1-2.nc" {
		t.Fatalf("b %+v", b)
	}
	if got, _ := os.ReadFile(filepath.Join(out, "b", "G1-2.nc")); string(got) != "b of /d/t/G1.H5" || b.Files[1].Path != filepath.Join(out, "b", "G1-2.nc") {
		t.Fatalf("b/G1-2.nc: %q %+v", got, b.Files[1])
	}
	if c.Status != StatusEmpty || c.Message != "g1: outside" {
		t.Fatalf("c %+v", c)
	}
	// One file of two failed: successful, and the message says so.
	if d.Status != StatusSuccessful || fileNames(d) != "d/g2.nc" || !strings.Contains(d.Message, "1 of 2 files failed: cannot read corrupt.nc: NetCDF") {
		t.Fatalf("d %+v", d)
	}
	// Outside the time range of its one file: empty, not failed.
	if e.Status != StatusEmpty || !strings.Contains(e.Message, "outside the data of later.nc") {
		t.Fatalf("e %+v", e)
	}
	if ents, _ := filepath.Glob(filepath.Join(out, TempPrefix+"*")); len(ents) != 0 {
		t.Fatalf("staging folders left: %v", ents)
	}

	// Only a region whose every file failed fails; retryable errors and
	// cancellation end the run.
	res, err = Granules(context.Background(), run, []string{"/d/corrupt.nc"}, [][]int{{0}}, &Request{Regions: req.Regions[:1]}, Options{OutDir: out})
	if err != nil || res.Regions[0].Status != StatusFailed || !strings.Contains(res.Regions[0].Message, "corrupt.nc") {
		t.Fatalf("all failed: %+v %v", res, err)
	}
	full := func(context.Context, []string, *Request, Options) (*Result, error) {
		return nil, errs.E(errs.Internal, "no space left on device")
	}
	if _, err := Granules(context.Background(), full, []string{"/d/g.nc"}, [][]int{{0}}, &Request{Regions: req.Regions[:1]}, Options{OutDir: out}); errs.CodeOf(err) != errs.Internal {
		t.Fatalf("retryable: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Granules(ctx, run, []string{"/d/g.nc"}, [][]int{{0}}, &Request{Regions: req.Regions[:1]}, Options{OutDir: out}); err == nil {
		t.Fatal("cancelled run went on")
	}
	for _, need := range [][][]int{{{0}}, {{0}, {1}}} {
		if _, err := Granules(context.Background(), run, []string{"/d/g.nc"}, need, req, Options{OutDir: out}); errs.CodeOf(err) != errs.Internal {
			t.Errorf("need %v: %v", need, err)
		}
	}
}

// Run with several files (the command line) cuts them as granules: every
// region from every file, into <region>/<file stem>.nc, the server's names.
func TestRunSeveralFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	files := []string{"/data/a/day1.nc", "/data/b/day1.NC4.GZ", "/data/b.netcdf", "/data/corrupt.nc"}
	for _, p := range files[:3] {
		e.put(p, testFile())
	}
	req := &Request{Regions: []regions.Fixed{bbox("east", 20, -40, 120, 40), bbox("far", 0, 50, 10, 60)}}
	res := e.run(t, req, files...)
	east, far := res.Regions[0], res.Regions[1]
	if east.Status != StatusSuccessful || fileNames(east) != "east/day1.nc east/day1-2.nc east/b.nc" ||
		!strings.Contains(east.Message, "1 of 4 files failed: cannot read corrupt.nc") {
		t.Fatalf("east %+v", east)
	}
	for _, f := range east.Files {
		if f.Shape["lon"] != 3 || f.Shape["lat"] != 4 {
			t.Errorf("%s: shape %v", f.Name, f.Shape)
		}
		if want := filepath.Join(e.opt.OutDir, filepath.FromSlash(f.Name)); f.Path != want || e.st.Get(want) == nil {
			t.Errorf("%s: at %s, want %s (store has %v)", f.Name, f.Path, want, e.st.Paths())
		}
	}
	if far.Status != StatusFailed || !strings.Contains(far.Message, "corrupt.nc") {
		t.Fatalf("far %+v", far)
	}
	if res.FilesOpened != 3 {
		t.Fatalf("opened %d", res.FilesOpened)
	}
	e.noTemp(t)
}
