package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/ncmodel/memfile"
	"github.com/subsetd/subsetd/regions"
)

// grid is a tiny lat/lon/time file.
func grid(nlat int) *memfile.File {
	root := &ncmodel.Group{}
	lat := &ncmodel.Dim{Name: "lat", Len: nlat, Group: root}
	lon := &ncmodel.Dim{Name: "lon", Len: 3, Group: root}
	tim := &ncmodel.Dim{Name: "time", Len: 2, Group: root, Unlimited: true}
	root.Dims = []*ncmodel.Dim{tim, lat, lon}
	txt := func(n, v string) ncmodel.Attr { return ncmodel.Attr{Name: n, Type: ncmodel.Char, Value: v} }
	root.Vars = []*ncmodel.Var{
		{Name: "time", Type: ncmodel.Double, Dims: []*ncmodel.Dim{tim}, Group: root, Attrs: []ncmodel.Attr{txt("units", "days since 2000-01-01"), txt("standard_name", "time")}},
		{Name: "lat", Type: ncmodel.Float, Dims: []*ncmodel.Dim{lat}, Group: root, Attrs: []ncmodel.Attr{txt("units", "degrees_north")}},
		{Name: "lon", Type: ncmodel.Float, Dims: []*ncmodel.Dim{lon}, Group: root, Attrs: []ncmodel.Attr{txt("units", "degrees_east")}},
		{Name: "sst", Type: ncmodel.Float, Dims: []*ncmodel.Dim{tim, lat, lon}, Group: root, Attrs: []ncmodel.Attr{txt("units", "K")}},
	}
	f := memfile.New(&ncmodel.File{Format: ncmodel.FormatNetCDF4, Root: root})
	f.SetFunc("lat", func(i []int) float64 { return float64(-10 + 5*i[0]) })
	f.SetFunc("lon", func(i []int) float64 { return float64(100 + i[0]) })
	f.SetFunc("time", func(i []int) float64 { return float64(i[0]) })
	return f
}

func run(t *testing.T, env Env, task Task) *Reply {
	t.Helper()
	in, _ := json.Marshal(task)
	var out bytes.Buffer
	if code := Main(context.Background(), bytes.NewReader(in), &out, env); code != 0 {
		t.Fatalf("exit %d", code)
	}
	var r Reply
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("reply %q: %v", out.String(), err)
	}
	return &r
}

func fakeRun(st *memfile.Store, corrupt string) func(context.Context, []string, *engine.Request, engine.Options) (*engine.Result, error) {
	return func(ctx context.Context, files []string, req *engine.Request, opt engine.Options) (*engine.Result, error) {
		res := &engine.Result{}
		for _, r := range req.Regions {
			if r.Name == "empty" {
				res.Regions = append(res.Regions, engine.RegionResult{Name: r.Name, Status: engine.StatusEmpty, Message: "no overlap"})
				continue
			}
			p := filepath.Join(opt.OutDir, r.Name+".nc")
			if err := os.WriteFile(p, []byte("data of "+r.Name), 0o644); err != nil {
				return nil, err
			}
			st.Put(p, grid(2))
			f := engine.OutFile{Name: r.Name + ".nc", Shape: map[string]int{"lat": 2, "lon": 3}}
			if r.Name == corrupt {
				f.Sha256 = "00"
			}
			res.Regions = append(res.Regions, engine.RegionResult{Name: r.Name, Status: engine.StatusSuccessful, Files: []engine.OutFile{f}})
		}
		return res, nil
	}
}

func TestSubsetVerifies(t *testing.T) {
	st := &memfile.Store{}
	out := t.TempDir()
	r := run(t, Env{Open: st.Open, Run: fakeRun(st, "bad")}, Task{OutDir: out, Regions: []regions.Fixed{{Name: "a"}, {Name: "empty"}, {Name: "bad"}}})
	if r.Error != nil || r.Result == nil || len(r.Result.Regions) != 3 {
		t.Fatalf("%+v", r)
	}
	a := r.Result.Regions[0]
	if a.Status != engine.StatusSuccessful || len(a.Files) != 1 || a.Files[0].Size != int64(len("data of a")) ||
		len(a.Files[0].Sha256) != 64 || len(a.Files[0].Md5) != 32 {
		t.Fatalf("region a: %+v", a)
	}
	if r.Result.Regions[1].Status != engine.StatusEmpty {
		t.Fatalf("empty: %+v", r.Result.Regions[1])
	}
	bad := r.Result.Regions[2]
	if bad.Status != engine.StatusFailed || !strings.Contains(bad.Message, "sha256") {
		t.Fatalf("bad: %+v", bad)
	}
	if _, err := os.Stat(filepath.Join(out, "bad.nc")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the file of a failed check was kept: %v", err)
	}
}

func TestVerifyShape(t *testing.T) {
	st := &memfile.Store{}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x.nc"), []byte("x"), 0o644)
	st.Put(filepath.Join(dir, "x.nc"), grid(2))
	// Dimensions below the root are named by their path, as the engine reports them.
	g := grid(2).File()
	ocean := &ncmodel.Group{Name: "ocean", Parent: g.Root}
	ocean.Dims = []*ncmodel.Dim{{Name: "depth", Len: 4, Group: ocean}}
	g.Root.Groups = []*ncmodel.Group{ocean}
	os.WriteFile(filepath.Join(dir, "g.nc"), []byte("x"), 0o644)
	st.Put(filepath.Join(dir, "g.nc"), memfile.New(g))
	for _, c := range []struct {
		f    engine.OutFile
		want string
	}{
		{engine.OutFile{Name: "x.nc", Shape: map[string]int{"lat": 3}}, "lat has length 2, expected 3"},
		{engine.OutFile{Name: "x.nc", Shape: map[string]int{"depth": 3}}, "dimension depth is missing"},
		{engine.OutFile{Name: "../x.nc"}, "not inside"},
		{engine.OutFile{Name: "x.nc", Size: 7}, "size is 1"},
		{engine.OutFile{Name: "x.nc", Shape: map[string]int{"lat": 2}}, ""},
		{engine.OutFile{Name: "g.nc", Shape: map[string]int{"time": 2, "/ocean/depth": 4}}, ""},
		{engine.OutFile{Name: "g.nc", Shape: map[string]int{"/ocean/depth": 5}}, "/ocean/depth has length 4, expected 5"},
	} {
		r := engine.RegionResult{Name: "x", Status: engine.StatusSuccessful, Files: []engine.OutFile{c.f}}
		Verify(dir, &r, st.Open)
		if c.want == "" {
			if r.Status != engine.StatusSuccessful {
				t.Errorf("%+v: %s", c.f, r.Message)
			}
			os.WriteFile(filepath.Join(dir, c.f.Name), []byte("x"), 0o644)
			continue
		}
		if r.Status != engine.StatusFailed || !strings.Contains(r.Message, c.want) {
			t.Errorf("%+v: got %s %q, want %q", c.f, r.Status, r.Message, c.want)
		}
		os.WriteFile(filepath.Join(dir, "x.nc"), []byte("x"), 0o644)
		os.WriteFile(filepath.Join(dir, "g.nc"), []byte("x"), 0o644)
	}
}

func TestErrorsAndPanics(t *testing.T) {
	env := Env{Run: func(context.Context, []string, *engine.Request, engine.Options) (*engine.Result, error) {
		return nil, errs.F(errs.Invalid, "variables[0]", "no variable chl")
	}}
	r := run(t, env, Task{OutDir: t.TempDir()})
	if r.Error == nil || r.Error.Code != errs.Invalid || r.Error.Field != "variables[0]" || errs.Retryable(r.Error.Err()) {
		t.Fatalf("%+v", r.Error)
	}
	env.Run = func(context.Context, []string, *engine.Request, engine.Options) (*engine.Result, error) {
		panic("engine bug")
	}
	r = run(t, env, Task{OutDir: t.TempDir()})
	if r.Error == nil || r.Error.Code != errs.Internal || !strings.Contains(r.Error.Message, "engine bug") {
		t.Fatalf("%+v", r.Error)
	}
	r = run(t, env, Task{Files: []string{"a.nc"}})
	if r.Error == nil || !strings.Contains(r.Error.Message, "without an output directory") {
		t.Fatalf("%+v", r.Error)
	}
	var out bytes.Buffer
	Main(context.Background(), strings.NewReader("{"), &out, env)
	if !strings.Contains(out.String(), "decode task") {
		t.Fatalf("bad input: %s", out.String())
	}
}

// A task with region file lists is cut as granules by the engine, and its
// outputs, <region>/<file stem>.nc, are checked like any other.
func TestGranules(t *testing.T) {
	out := t.TempDir()
	var opened []string
	env := Env{
		Open: func(p string) (ncmodel.Source, error) {
			if _, err := os.Stat(p); err != nil {
				return nil, err
			}
			return grid(2).Open(), nil
		},
		Run: func(ctx context.Context, files []string, req *engine.Request, opt engine.Options) (*engine.Result, error) {
			opened = append(opened, filepath.Base(files[0]))
			res := &engine.Result{FilesOpened: 1}
			for _, r := range req.Regions {
				os.WriteFile(filepath.Join(opt.OutDir, r.Name+".nc"), []byte(r.Name+" of "+files[0]), 0o644)
				res.Regions = append(res.Regions, engine.RegionResult{Name: r.Name, Status: engine.StatusSuccessful,
					Files: []engine.OutFile{{Name: r.Name + ".nc", Shape: map[string]int{"lat": 2}}}})
			}
			return res, nil
		},
	}
	task := Task{OutDir: out, Regions: []regions.Fixed{{Name: "a"}, {Name: "b"}},
		Files:       []string{"/d/s/g1.nc.gz", "/d/s/unused.nc", "/d/t/g1.h5"},
		RegionFiles: [][]int{{0}, {0, 2}}}
	r := run(t, env, task)
	if r.Error != nil || r.Result == nil {
		t.Fatalf("%+v", r.Error)
	}
	if strings.Join(opened, " ") != "g1.nc.gz g1.h5" || r.Result.FilesOpened != 2 {
		t.Fatalf("opened %v (%d)", opened, r.Result.FilesOpened)
	}
	b := r.Result.Regions[1]
	if b.Status != engine.StatusSuccessful || len(b.Files) != 2 || b.Files[0].Name != "b/g1.nc" || b.Files[1].Name != "b/g1-2.nc" {
		t.Fatalf("b %+v", b)
	}
	if got, _ := os.ReadFile(filepath.Join(out, "b", "g1-2.nc")); string(got) != "b of /d/t/g1.h5" || len(b.Files[1].Sha256) != 64 {
		t.Fatalf("b/g1-2.nc: %q %+v", got, b.Files[1])
	}
	// Concat reaches the engine.
	env.Run = func(ctx context.Context, files []string, req *engine.Request, opt engine.Options) (*engine.Result, error) {
		if !opt.Concat || len(files) != 2 {
			t.Errorf("concat %v on %v", opt.Concat, files)
		}
		return &engine.Result{Regions: []engine.RegionResult{{Name: "a", Status: engine.StatusEmpty}}, Notes: []string{"gap"}}, nil
	}
	r = run(t, env, Task{OutDir: t.TempDir(), Regions: task.Regions[:1],
		Files: []string{"/d/1.nc", "/d/2.nc"}, Concat: true})
	if r.Error != nil || len(r.Result.Notes) != 1 {
		t.Fatalf("%+v", r)
	}
}
