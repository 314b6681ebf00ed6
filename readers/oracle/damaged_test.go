package oracle

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/ncmodel/nccompare"
)

// TestDamagedCoordinates cuts lon_fill (fill values in the latitude and in
// the longitude of a global row, at both its ends and inside) and compares
// each part of the output with ncks of the index range computed here: the
// smallest arc of the row holding the valid centres in the box, the rows
// from the first to the last valid latitude in it. Longitudes of a part
// differ from ncks' by one multiple of 360 (0 unless the cut crosses the seam), fill values excepted; sst is
// ncks' where the cell has both coordinates and masked where it has not.
func TestDamagedCoordinates(t *testing.T) {
	needNCO(t)
	in := fixture(t, "lon_fill")
	src := openT(t, in)
	_, lat := coordValues(t, src, "lat")
	_, lon := coordValues(t, src, "lon")
	missing := func(x float64) bool { return x == -999 }
	for _, box := range [][4]float64{
		{10, -30, 60, 30},      // no seam, no fill
		{330, -30, 20, 30},     // across 0, both end fills inside
		{-30, -60, 30, 60},     // the same in -180..180, a latitude fill inside
		{160, -90, 200, -30},   // the inner fill, the first latitude missing
		{170, -60, 10, 60},     // across 0 and 180: most of the row
		{-179, -80, -171, -60}, // only the inner fill's neighbours
	} {
		t.Run(fmt.Sprint(box), func(t *testing.T) {
			w, s, e, n := box[0], box[1], box[2], box[3]
			width := math.Mod(e-w+720, 360)
			var cols []int
			for i, x := range lon {
				if !missing(x) && math.Mod(x-w+720, 360) <= width {
					cols = append(cols, i)
				}
			}
			j0, j1 := -1, -1
			for j, y := range lat {
				if !missing(y) && y >= s && y <= n {
					if j0 < 0 {
						j0 = j
					}
					j1 = j
				}
			}
			// The shortest arc of the row holding every column, as runs.
			nlon := len(lon)
			start, length := 0, nlon+1
			for _, c0 := range cols {
				l := 0
				for _, c := range cols {
					l = max(l, (c-c0+nlon)%nlon+1)
				}
				if l < length {
					start, length = c0, l
				}
			}
			runs := [][2]int{{start, min(start+length, nlon) - 1}}
			if start+length > nlon {
				runs = append(runs, [2]int{0, start + length - nlon - 1})
			}
			_, res := cut(t, in, bboxReq("r", box[:]...))
			r := res.Regions[0]
			if r.Status != engine.StatusSuccessful || len(r.Files) != 1 {
				t.Fatalf("%s %s", r.Status, r.Message)
			}
			if !slices.ContainsFunc(res.Notes, func(s string) bool {
				return strings.Contains(s, "coordinate /lon is damaged: 3 of its 36 values are missing")
			}) {
				t.Errorf("notes %q", res.Notes)
			}
			ours := r.Files[0].Path
			at := 0
			prev := math.Inf(-1)
			for _, run := range runs {
				nr := run[1] - run[0] + 1
				want := ncks(t, in, "-d", fmt.Sprintf("lat,%d,%d", j0, j1), "-d", fmt.Sprintf("lon,%d,%d", run[0], run[1]))
				part := ncks(t, ours, "-d", fmt.Sprintf("lon,%d,%d", at, at+nr-1))
				at += nr
				compare(t, part, want, nccompare.Options{SkipValues: map[string]bool{"/lon": true, "/sst": true}})
				_, pl := coordValues(t, openT(t, part), "lon")
				_, wl := coordValues(t, openT(t, want), "lon")
				shift := math.NaN()
				for k := range pl {
					if missing(wl[k]) || missing(pl[k]) {
						if pl[k] != wl[k] {
							t.Errorf("lon %v, ncks %v: fill values moved", pl, wl)
						}
						continue
					}
					if math.IsNaN(shift) {
						shift = pl[k] - wl[k]
					}
					if pl[k]-wl[k] != shift || math.Mod(shift, 360) != 0 || pl[k] <= prev || len(runs) == 2 && prev == math.Inf(-1) && (pl[k] < w || pl[k] >= w+360) {
						t.Errorf("lon %v, ncks %v: not one shift by a multiple of 360, increasing (from the west edge %v across the seam)", pl, wl, w)
						break
					}
					prev = pl[k]
				}
				ps, ws := sstOf(t, part), sstOf(t, want)
				nl := len(ws) / 2 / nr
				for k := range ws {
					jj, ii := k/nr%nl, k%nr
					wantV := ws[k] // sst has no fill of its own: NaN is the mask
					if missing(lat[j0+jj]) || missing(lon[run[0]+ii]) {
						wantV = math.NaN()
					}
					if ps[k] != wantV && !(math.IsNaN(ps[k]) && math.IsNaN(wantV)) || math.IsNaN(ws[k]) {
						t.Fatalf("sst[%d] (lat %d, lon %d) = %v, want %v", k, j0+jj, run[0]+ii, ps[k], wantV)
					}
				}
			}
			if at != length {
				t.Errorf("%d columns, want %d", at, length)
			}
		})
	}
}

func sstOf(t *testing.T, path string) []float64 {
	t.Helper()
	src := openT(t, path)
	return allValues(t, src, src.File().FindVar("sst"))
}
