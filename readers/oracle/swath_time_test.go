package oracle

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/engine"
)

// TestSwathExtentAttributes: on a GHRSST L2P-like swath (one reference
// time, per-pixel sst_dtime), time_coverage_* is that of the pixels kept,
// time_coverage_duration, geospatial_bounds and GHRSST's start_time and
// stop_time are recomputed, _ChunkSizes
// that no longer describe the chunks are removed; xarray decodes the
// output's coordinates and times as the source's.
func TestSwathExtentAttributes(t *testing.T) {
	in := fixture(t, "swath_l2p")
	box := []float64{-5, -28, 8, -18}
	// The fixture's formulas (its header), by brute force.
	ref := time.Date(2019, 8, 21, 17, 48, 11, 0, time.UTC)
	lo, hi := math.Inf(1), math.Inf(-1)
	jlo, jhi, ilo, ihi := 99, -1, 99, -1
	west, east, south, north := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for j := 0; j < 6; j++ {
		for i := 0; i < 8; i++ {
			lat, lon := -30+2*float64(j)+float64(i)/2, math.Mod(350+3*float64(i)-float64(j), 360)
			x := lon
			if x >= 180 {
				x -= 360
			}
			if lat < box[1] || lat > box[3] || x < box[0] || x > box[2] {
				continue
			}
			jlo, jhi, ilo, ihi = min(jlo, j), max(jhi, j), min(ilo, i), max(ihi, i)
			west, east, south, north = math.Min(west, x), math.Max(east, x), math.Min(south, lat), math.Max(north, lat)
			if j == 0 && i == 0 { // sst_dtime is fill there
				continue
			}
			dt := float64(60*j + i)
			lo, hi = math.Min(lo, dt), math.Max(hi, dt)
		}
	}
	iso := func(s float64) string { return ref.Add(time.Duration(s) * time.Second).Format("2006-01-02T15:04:05Z") }
	gds := func(s float64) string { return ref.Add(time.Duration(s) * time.Second).Format("20060102T150405Z") }
	_, res := cut(t, in, bboxReq("r", box...))
	r := res.Regions[0]
	if r.Status != engine.StatusSuccessful {
		t.Fatalf("%+v", r)
	}
	out := r.Files[0].Path
	f := openT(t, out).File()
	text := func(name string) string {
		a, ok := f.Root.Attr(name)
		if !ok {
			return "<absent>"
		}
		return a.Text()
	}
	wkt := fmt.Sprintf("POLYGON ((%g %g, %g %g, %g %g, %g %g, %g %g))", west, south, east, south, east, north, west, north, west, south)
	for name, want := range map[string]string{
		"time_coverage_start":    iso(lo),
		"time_coverage_end":      iso(hi),
		"time_coverage_duration": duration(hi - lo),
		"start_time":             gds(lo), // GDS 2's, in the source's format
		"stop_time":              gds(hi),
		"geospatial_bounds":      wkt,
	} {
		if got := text(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	for _, v := range []string{"sst_dtime", "sea_surface_temperature", "lat", "lon"} {
		if a, ok := f.FindVar(v).Attr("_ChunkSizes"); ok && fmt.Sprint(attrInts(a)) != fmt.Sprint(f.FindVar(v).Chunks) {
			t.Errorf("%s:_ChunkSizes = %v, chunks %v", v, a.Float64s(), f.FindVar(v).Chunks)
		}
	}
	if a, ok := f.FindVar("time").Attr("_ChunkSizes"); !ok || fmt.Sprint(a.Float64s()) != "[1]" {
		t.Errorf("time:_ChunkSizes (equal to its chunks) = %v %v, want kept", a, ok)
	}
	// xarray: lat, lon and time of the output are the source's, in the box.
	dec := decode(t, map[string][]string{out: {"/lat", "/lon", "/time"}, in: {"/lat", "/lon", "/time"}})
	for _, name := range []string{"/lat", "/lon"} {
		var want []any
		for j := jlo; j <= jhi; j++ {
			want = append(want, dec[in]["xr:"+name][j*8+ilo:j*8+ihi+1]...)
		}
		if got := dec[out]["xr:"+name]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("xarray %s = %v, want the source's %v", name, got, want)
		}
	}
	if got, want := fmt.Sprint(dec[out]["xr:/time"]), fmt.Sprint(dec[in]["xr:/time"]); got != want || !strings.HasPrefix(want, "[2019-08-21T17:48:11") {
		t.Errorf("xarray time = %s, want the source's %s", got, want)
	}
}

// duration writes whole seconds under an hour as ISO 8601.
func duration(s float64) string {
	out := "PT"
	if m := math.Floor(s / 60); m > 0 {
		out += fmt.Sprintf("%gM", m)
	}
	if r := math.Mod(s, 60); r > 0 || s == 0 {
		out += fmt.Sprintf("%gS", r)
	}
	return out
}

func attrInts(a interface{ Float64s() []float64 }) []int {
	var out []int
	for _, x := range a.Float64s() {
		out = append(out, int(x))
	}
	return out
}

// TestTrackDecodesAsTheSource: an along-track cut across 0 on 0..360
// (packed int latitude/longitude in a group) decodes in xarray to the
// source's positions and times over the range of points inside the box.
func TestTrackDecodesAsTheSource(t *testing.T) {
	in := fixture(t, "track")
	box := []float64{-10, -30, 10, 0}
	_, res := cut(t, in, bboxReq("r", box...))
	r := res.Regions[0]
	if r.Status != engine.StatusSuccessful {
		t.Fatalf("%+v", r)
	}
	out := r.Files[0].Path
	names := []string{"/data_01/latitude", "/data_01/longitude", "/data_01/time"}
	dec := decode(t, map[string][]string{in: names, out: names})
	lat, lon := dec[in]["xr:/data_01/latitude"], dec[in]["xr:/data_01/longitude"]
	first, last := -1, -1
	for k := range lat {
		y, ok1 := lat[k].(float64)
		x, ok2 := lon[k].(float64)
		x = math.Mod(x+540, 360) - 180
		if ok1 && ok2 && y >= box[1] && y <= box[3] && x >= box[0] && x <= box[2] {
			if first < 0 {
				first = k
			}
			last = k
		}
	}
	if first < 0 {
		t.Fatal("no point inside: the test checks nothing")
	}
	for _, name := range names {
		want := dec[in]["xr:"+name][first : last+1]
		if got := dec[out]["xr:"+name]; fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("xarray %s = %v, want the source's %v", name, got, want)
		}
	}
}
