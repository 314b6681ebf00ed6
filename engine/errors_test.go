package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/regions"
)

func TestRunErrors(t *testing.T) {
	t.Parallel()
	g := grid{lat0: -85, dlat: 10, nlat: 18, lon0: 5, dlon: 10, nlon: 36, ntime: 3, dt: 1}
	one := []regions.Fixed{bbox("a", 0, 0, 30, 30)}
	noGrid := newNC("/data/table.nc", ncmodel.FormatNetCDF4).dim("n", 3).
		v("x", ncmodel.Float, "n", nil).v("y", ncmodel.Float, "n", nil)
	badUnits := g.nc("/data/bad.nc")
	badUnits.f.Root.Vars[0].Attrs[0] = txt("units", "fortnights since the flood")
	tests := []struct {
		name  string
		req   Request
		files []string
		opt   func(*Options)
		code  errs.Code
		want  string
	}{
		{"unknown variable", Request{Regions: one, Variables: []string{"sst", "salinity"}}, nil, nil, errs.NotFound,
			`variables[1]: unknown variable "salinity" in g.nc; it has: time, lat, lon, sst`},
		{"time range outside", Request{Regions: one, Time: &TimeRange{Start: "1999-01-01", End: "1999-12-31"}}, nil, nil, errs.Invalid,
			"time: time range 1999-01-01/1999-12-31 is outside the data of g.nc (time coverage 2000-01-01T00:00:00Z..2000-01-03T00:00:00Z)"},
		{"time range reversed", Request{Regions: one, Time: &TimeRange{Start: "2000-02-01", End: "2000-01-01"}}, nil, nil, errs.Invalid,
			"time: start 2000-02-01 is after end 2000-01-01"},
		{"time not a date", Request{Regions: one, Time: &TimeRange{Start: "yesterday"}}, nil, nil, errs.Invalid, "time.start: "},
		{"time units unreadable", Request{Regions: one, Time: &TimeRange{Start: "2000-01-01"}}, []string{"/data/bad.nc"}, nil, errs.Invalid,
			"time: bad.nc: cannot decode time coordinate /time"},
		{"no lat/lon", Request{Regions: one}, []string{"/data/table.nc"}, nil, errs.Invalid,
			"table.nc: no latitude/longitude coordinates found"},
		{"no vertical", Request{Regions: one, Vertical: &VerticalRange{Min: new(float64)}}, nil, nil, errs.Invalid,
			"vertical: g.nc has no vertical axis: leave out the vertical range"},
		{"unknown stride", Request{Regions: one, Stride: map[string]int{"depth": 2}}, nil, nil, errs.Invalid,
			`stride.depth: g.nc has no dimension "depth": use time, lat, lon, vertical or one of its dimensions (time, lat, lon)`},
		{"bad format", Request{Regions: one, Output: Output{Format: "zarr"}}, nil, nil, errs.Invalid,
			`output.format: unknown format "zarr"`},
		{"bad region", Request{Regions: []regions.Fixed{{Name: "x/y", BBox: []float64{0, 0, 1, 1}}}}, nil, nil, errs.Invalid,
			"may hold only letters"},
		{"no input", Request{Regions: one}, []string{}, nil, errs.Invalid, "no input file given"},
		{"unreadable input", Request{Regions: one}, []string{"/data/missing.nc"}, nil, errs.Unreadable, "cannot read missing.nc"},
		{"no output folder", Request{Regions: one}, nil, func(o *Options) { o.OutDir = "" }, errs.Invalid, "no output folder given"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			e.put("/data/g.nc", g.file("/data/g.nc"))
			e.put("/data/table.nc", noGrid.build())
			e.put("/data/bad.nc", badUnits.build())
			files := tc.files
			if files == nil {
				files = []string{"/data/g.nc"}
			}
			if tc.opt != nil {
				tc.opt(&e.opt)
			}
			_, err := Run(t.Context(), files, &tc.req, e.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) || errs.CodeOf(err) != tc.code {
				t.Errorf("error %v (code %v), want %s: %q", err, errs.CodeOf(err), tc.code, tc.want)
			}
			if n := len(e.st.Paths()); n != 3 {
				t.Errorf("store holds %v", e.st.Paths())
			}
		})
	}
}

func TestRunOutputFolderNotWritable(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	in := e.put("/data/g.nc", maskGrid.file("/data/g.nc"))
	// A regular file where a folder should be: refused whoever runs the test.
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{filepath.Join(blocker, "out"), blocker} {
		e.opt.OutDir = dir
		_, err := Run(t.Context(), []string{in}, &Request{Regions: lonBoxes[:1]}, e.opt)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("output folder %q is not writable", dir)) || errs.CodeOf(err) != errs.Internal {
			t.Errorf("%s: %v", dir, err)
		}
	}
}

func TestRunOutputSubfolderBlocked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.put("/data/a.nc", maskGrid.file("/data/a.nc"))
	b := e.put("/data/b.nc", maskGrid.file("/data/b.nc"))
	// Several inputs write under <region>/: a file of that name is in the way.
	os.WriteFile(filepath.Join(e.opt.OutDir, "r"), nil, 0o644)
	res := e.run(t, &Request{Regions: []regions.Fixed{bbox("r", 0, 0, 10, 10)}}, a, b)
	if r := res.Regions[0]; r.Status != StatusFailed || !strings.Contains(r.Message, "output folder") {
		t.Errorf("%+v", r)
	}
}

// failingSource fails the reads of one variable.
type failingSource struct {
	ncmodel.Source
	path string
}

func (s failingSource) Read(v *ncmodel.Var, start, count, stride []int) (*ncmodel.Array, error) {
	if v.Path() == s.path {
		return nil, errors.New("NetCDF: HDF error")
	}
	return s.Source.Read(v, start, count, stride)
}

func TestRunReadErrorsEndTheRun(t *testing.T) {
	t.Parallel()
	for path, want := range map[string]string{
		"/sst": "reading /sst from g.nc: NetCDF: HDF error",
		"/lat": "g.nc: reading latitude /lat: NetCDF: HDF error",
		"/lon": "g.nc: reading longitude /lon: NetCDF: HDF error",
	} {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			in := e.put("/data/g.nc", maskGrid.file("/data/g.nc"))
			e.opt.Open = func(p string) (ncmodel.Source, error) {
				s, err := e.st.Open(p)
				if err != nil || p != in {
					return s, err
				}
				return failingSource{s, path}, nil
			}
			_, err := Run(t.Context(), []string{in}, &Request{Regions: lonBoxes[:2]}, e.opt)
			if err == nil || !strings.Contains(err.Error(), want) || errs.CodeOf(err) != errs.Unreadable {
				t.Errorf("error %v, want unreadable: %s", err, want)
			}
			if len(e.st.Paths()) != 1 {
				t.Errorf("store holds %v", e.st.Paths())
			}
		})
	}
}

func TestRunCancelled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	in := e.put("/data/g.nc", maskGrid.file("/data/g.nc"))
	ctx, cancel := context.WithCancelCause(t.Context())
	defer cancel(nil)
	stop := errors.New("job dismissed")
	cancel(stop)
	for _, files := range [][]string{{in}, {in, in}} {
		_, err := Run(ctx, files, &Request{Regions: lonBoxes[:1]}, e.opt)
		if !errors.Is(err, stop) {
			t.Errorf("%d files: %v, want the cause", len(files), err)
		}
	}
	// Cancelled between slabs.
	e.opt.MemoryBudget = 8
	ctx2, cancel2 := context.WithCancelCause(t.Context())
	defer cancel2(nil)
	e.opt.Open = func(p string) (ncmodel.Source, error) {
		s, err := e.st.Open(p)
		return cancelOnRead{s, cancel2}, err
	}
	_, err := Run(ctx2, []string{in}, &Request{Regions: lonBoxes[:1]}, e.opt)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled while reading: %v", err)
	}
	e.noTemp(t)
}

type cancelOnRead struct {
	ncmodel.Source
	cancel context.CancelCauseFunc
}

func (s cancelOnRead) Read(v *ncmodel.Var, start, count, stride []int) (*ncmodel.Array, error) {
	if v.Name == "sst" {
		s.cancel(nil)
	}
	return s.Source.Read(v, start, count, stride)
}
