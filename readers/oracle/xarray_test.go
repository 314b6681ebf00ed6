package oracle

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/testutil/fixtures"
	"github.com/subsetd/subsetd/regions"
)

// What a notebook sees: outputs opened with xarray (python3-xarray) decode
// to the source's times and coordinates at the cells kept.

const xarrayCheck = `
import json, sys
import numpy as np
import xarray as xr
bad = []
for a in json.load(sys.stdin):
  src = xr.open_dataset(a["src"], group=a.get("group"))
  out = xr.open_dataset(a["out"], group=a.get("group"))
  sel = src.isel({k: v for k, v in a["isel"].items()})
  for v in a["vars"]:
      x, y = out[v].values, sel[v].values
      where = "%s %s" % (a["name"], v)
      if x.shape != y.shape:
          bad.append("%s: shape %s, source %s" % (where, x.shape, y.shape))
          continue
      if v in a.get("times", []):
          # datetime64, or cftime objects for calendars numpy lacks
          if x.dtype.kind not in "MO" or y.dtype.kind not in "MO" or x.dtype.kind == "O" and not hasattr(x.ravel()[0], "calendar"):
              bad.append("%s: not decoded to dates (%s, %s)" % (where, x.dtype, y.dtype))
          elif not np.array_equal(x, y):
              bad.append("%s: %s vs %s" % (where, x.ravel()[:3], y.ravel()[:3]))
          continue
      if v in a.get("mod360", []):
          x, y = np.mod(x, 360), np.mod(y, 360)
          d = np.abs(x - y)
          ok = np.all((np.minimum(d, 360 - d) < 1e-4) | (np.isnan(x) & np.isnan(y)))
      else:
          ok = np.allclose(x, y, equal_nan=True)
      if not ok:
          bad.append("%s: %s vs %s" % (where, x.ravel()[:3], y.ravel()[:3]))
print(json.dumps(bad))
`

type xarrayCase struct {
	Name   string           `json:"name"`
	Src    string           `json:"src"`
	Out    string           `json:"out"`
	Group  string           `json:"group,omitempty"`
	Isel   map[string][]int `json:"isel"`
	Vars   []string         `json:"vars"`
	Times  []string         `json:"times,omitempty"`
	Mod360 []string         `json:"mod360,omitempty"`
}

// checkXarray runs every case in one python process (importing xarray
// takes seconds).
func checkXarray(t *testing.T, cs []xarrayCase) {
	t.Helper()
	py := fixtures.NeedPython(t, "xarray", "netCDF4")
	in, _ := json.Marshal(cs)
	cmd := exec.Command(py, "-c", xarrayCheck)
	cmd.Stdin = bytes.NewReader(in)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("xarray: %v\n%s", err, out)
	}
	var bad []string
	if err := json.Unmarshal(out[bytes.LastIndexByte(bytes.TrimRight(out, "\n"), '\n')+1:], &bad); err != nil {
		t.Fatalf("xarray: %v\n%s", err, out)
	}
	if len(bad) > 0 {
		t.Errorf("xarray decodes outputs differently from their sources:\n  %s", strings.Join(bad, "\n  "))
	}
}

func seqInts(a, b int) []int {
	var out []int
	for i := a; i <= b; i++ {
		out = append(out, i)
	}
	return out
}

func TestXarrayDecodesCuts(t *testing.T) {
	var cases []xarrayCase
	// The outputs outlive their subtests (whose folders go at their end).
	keep := t.TempDir()
	add := func(c xarrayCase) {
		b, err := os.ReadFile(c.Out)
		if err != nil {
			t.Fatal(err)
		}
		c.Out = filepath.Join(keep, fmt.Sprintf("%d.nc", len(cases)))
		if err := os.WriteFile(c.Out, b, 0o644); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, c)
	}
	t.Run("track in time", func(t *testing.T) {
		in := fixture(t, "track_20hz")
		req := bboxReq("t", -180, -90, 180, 90)
		req.Time = &engine.TimeRange{Start: "2021-03-25T15:06:50", End: "2021-03-25T15:07:00"}
		_, res := cut(t, in, req)
		add(xarrayCase{Name: t.Name(), Src: in, Out: res.Regions[0].Files[0].Path, Isel: map[string][]int{"time": seqInts(10, 20)},
			Vars: []string{"time", "latitude", "longitude", "time_20hz", "lat_20hz", "lon_20hz"}, Times: []string{"time", "time_20hz"}})
	})
	t.Run("Sentinel-6 track in time", func(t *testing.T) {
		in := realFile(t, "podaac+concise__S6A_P4_2__HR_RED__NR_014_191_20210403T004056_20210403T005056_F00.nc")
		src := openT(t, in)
		tt, units, cal := timeAt(t, src, "/data_01/time")
		lo, hi := spanOf(pythonInRange(t, tt, units, cal, "2021-04-03T00:45:00.0", "2021-04-03T00:46:00.0"))
		req := bboxReq("t", -180, -90, 180, 90)
		req.Time = &engine.TimeRange{Start: "2021-04-03T00:45:00", End: "2021-04-03T00:46:00"}
		_, res := cut(t, in, req)
		add(xarrayCase{Name: t.Name(), Src: in, Out: res.Regions[0].Files[0].Path, Group: "data_01", Isel: map[string][]int{"time": seqInts(lo, hi)},
			Vars: []string{"time", "latitude", "longitude"}, Times: []string{"time"}})
	})
	t.Run("L2P swath in time", func(t *testing.T) {
		in := fixture(t, "swath_l2p_time")
		req := bboxReq("t", -180, -90, 180, 90)
		req.Time = &engine.TimeRange{Start: "2019-08-22T17:01:45", End: "2019-08-22T17:03:20"}
		_, res := cut(t, in, req)
		// Pixels 10j + i seconds after 17:00: rows 10 (from i = 5) to 20.
		add(xarrayCase{Name: t.Name(), Src: in, Out: res.Regions[0].Files[0].Path, Isel: map[string][]int{"nj": seqInts(10, 20)},
			Vars: []string{"time", "lat", "lon"}, Times: []string{"time"}})
	})
	t.Run("scatterometer swath with 2-D time", func(t *testing.T) {
		in := fixture(t, "swath_time2d")
		req := bboxReq("t", -180, -90, 180, 90)
		req.Time = &engine.TimeRange{Start: "2018-07-09T16:00:50", End: "2018-07-09T16:01:35"}
		_, res := cut(t, in, req)
		// 5r + 0.1c seconds after 16:00: rows 10 to 19.
		add(xarrayCase{Name: t.Name(), Src: in, Out: res.Regions[0].Files[0].Path, Isel: map[string][]int{"NUMROWS": seqInts(10, 19)},
			Vars: []string{"time", "lat", "lon"}, Times: []string{"time"}})
	})
	t.Run("AMSR2 swath", func(t *testing.T) {
		in := realFile(t, "podaac+l2ss-py__SS_AMSR2-L2B_v08_r38622-v02.0-fv01.0.nc")
		_, res := cut(t, in, bboxReq("b", -60, -60, -40, -40))
		r := res.Regions[0]
		src := openT(t, in)
		lat := allValues(t, src, src.File().FindVar("lat"))
		lon := allValues(t, src, src.File().FindVar("lon"))
		ni := src.File().FindVar("lat").Shape()[1]
		j0, j1, i0, i1 := len(lat), -1, ni, -1
		for k := range lat {
			if lat[k] >= -60 && lat[k] <= -40 && lon[k] >= -60 && lon[k] <= -40 {
				j0, j1, i0, i1 = min(j0, k/ni), max(j1, k/ni), min(i0, k%ni), max(i1, k%ni)
			}
		}
		add(xarrayCase{Name: t.Name(), Src: in, Out: r.Files[0].Path, Isel: map[string][]int{"nj": seqInts(j0, j1), "ni": seqInts(i0, i1)},
			Vars: []string{"time", "lat", "lon"}, Times: []string{"time"}})
	})
	t.Run("shifted longitudes across 0 on 0..360", func(t *testing.T) {
		in := fixture(t, "lon360")
		_, res := cut(t, in, bboxReq("g", -20, -20, 20, 20))
		src := openT(t, in)
		_, lat := coordValues(t, src, "lat")
		_, lon := coordValues(t, src, "lon")
		s, _ := expectLat(lat, -20, 20)
		var idx []int
		for _, r := range expectLon(lon, -20, 20) {
			idx = append(idx, seqInts(r.lo, r.hi)...)
		}
		add(xarrayCase{Name: t.Name(), Src: in, Out: res.Regions[0].Files[0].Path, Isel: map[string][]int{"lat": seqInts(s.lo, s.hi), "lon": idx},
			Vars: []string{"time", "lat", "lon"}, Times: []string{"time"}, Mod360: []string{"lon"}})
	})
	t.Run("rolled columns of a periodic grid", func(t *testing.T) {
		in := fixture(t, "ocean_periodic")
		_, res := cut(t, in, bboxReq("seam", 60, -20, 110, 20))
		// lat = -85 + 10j: rows 7..10; columns 34, 35 then 0, 1, 2.
		add(xarrayCase{Name: t.Name(), Src: in, Out: res.Regions[0].Files[0].Path, Isel: map[string][]int{"j": seqInts(7, 10), "i": {34, 35, 0, 1, 2}},
			Vars: []string{"time", "latitude", "longitude", "siconc"}, Times: []string{"time"}})
	})
	t.Run("a station's cell", func(t *testing.T) {
		in := fixture(t, "grid_quarter")
		_, res := cut(t, in, &engine.Request{Regions: []regions.Fixed{{Name: "p", Geometry: json.RawMessage(`{"type":"Point","coordinates":[-29.99,45.01]}`)}}})
		add(xarrayCase{Name: t.Name(), Src: in, Out: res.Regions[0].Files[0].Path, Isel: map[string][]int{"lat": {540}, "lon": {1320}},
			Vars: []string{"lat", "lon", "row", "col"}})
	})
	checkXarray(t, cases)
}
