package engine

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/ncmodel/memfile"
	"github.com/subsetd/subsetd/regions"
)

// damagedGrid is g with _FillValue -999 on lat and lon and that value at
// the given indices of each: a coordinate variable with missing values,
// which CF forbids and some files carry.
func damagedGrid(g grid, latFill, lonFill []int) *memfile.File {
	b := g.nc("/data/damaged.nc")
	for _, c := range []struct {
		name string
		fill []int
		at   func(int) float64
	}{{"lat", latFill, g.lat}, {"lon", lonFill, g.lon}} {
		v := b.f.FindVar(c.name)
		v.Attrs = append(v.Attrs, num("_FillValue", ncmodel.Float, -999))
		b.funcs = append(b.funcs, func(m *memfile.File) {
			m.SetFunc(v.Path(), func(i []int) float64 {
				if slices.Contains(c.fill, i[0]) {
					return -999
				}
				return c.at(i[0])
			})
		})
	}
	return b.build()
}

// TestRunDamagedCoordinates cuts boxes and points out of a global grid
// whose latitude and longitude hold fill values: the cut is the smallest
// (periodic) index range holding the valid cells selected, one contiguous
// strip across the seam, whatever the fill cells' places, and the cells
// without a position in it are masked; the expectation is found here by
// trying every arc of the row.
func TestRunDamagedCoordinates(t *testing.T) {
	t.Parallel()
	g := grid{lat0: -85, dlat: 10, nlat: 18, lon0: 5, dlon: 10, nlon: 36, ntime: 1, dt: 1}
	for _, tc := range []struct {
		name             string
		latFill, lonFill []int
		r                regions.Fixed
		rule             string
	}{
		{"fill inside the box", nil, []int{3}, bbox("b", 10, -20, 60, 20), ""},
		{"fill at the end, box across the seam", nil, []int{35}, bbox("b", 330, -20, 20, 20), ""},
		{"fill at the start, box across the seam", nil, []int{0}, bbox("b", -30, -20, 20, 20), ""},
		{"fills at both ends and inside", nil, []int{0, 17, 35}, bbox("b", 160, -20, 30, 20), ""},
		{"fill at the box's edge", nil, []int{5}, bbox("b", 10, -20, 60, 20), ""},
		{"fill in latitude", []int{0, 9}, []int{35}, bbox("b", 340, -90, 20, 10), ""},
		{"point next to a fill", []int{0}, []int{0}, bbox("p", 11, -79, 11, -79), ""},
		{"overlap next to a fill", []int{0}, []int{35}, bbox("o", 341, -82, 359, -71), SelectOverlap},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			in := e.put("/data/damaged.nc", damagedGrid(g, tc.latFill, tc.lonFill))
			res := e.run(t, &Request{Regions: []regions.Fixed{tc.r}, Select: tc.rule}, in)
			out := e.out(t, res.Regions[0])
			if !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, "coordinate /lon is damaged") }) {
				t.Errorf("no note on the damaged coordinate: %q", res.Notes)
			}
			w, s, east, n := tc.r.BBox[0], tc.r.BBox[1], tc.r.BBox[2], tc.r.BBox[3]
			// The cells a valid coordinate takes: centres inside, or for a
			// point or the overlap rule the 10° cells meeting the box.
			takesLat := func(y float64) bool {
				if tc.rule == SelectOverlap || s == n {
					return y+5 > s && y-5 < n || s == n && math.Abs(y-s) <= 5
				}
				return y >= s && y <= n
			}
			takesLon := func(x float64) bool {
				if tc.rule == SelectOverlap || w == east {
					d := mod360(x - 5 - w)
					width := mod360(east - w)
					return d < width || d > 350 || w == east && mod360(w-x+5) <= 10
				}
				return inLon(x, w, east)
			}
			var rows []int
			for j := 0; j < g.nlat; j++ {
				if !slices.Contains(tc.latFill, j) && takesLat(g.lat(j)) {
					rows = append(rows, j)
				}
			}
			var cols []int
			for i := 0; i < g.nlon; i++ {
				if !slices.Contains(tc.lonFill, i) && takesLon(g.lon(i)) {
					cols = append(cols, i)
				}
			}
			// The shortest arc of the row holding every column taken.
			start, length := 0, g.nlon+1
			for _, s0 := range cols {
				l := 0
				for _, c := range cols {
					l = max(l, (c-s0+g.nlon)%g.nlon+1)
				}
				if l < length {
					start, length = s0, l
				}
			}
			j0, j1 := rows[0], rows[len(rows)-1]
			lat, lon, sst := values(t, out, "lat"), values(t, out, "lon"), values(t, out, "sst")
			if len(lat) != j1-j0+1 || len(lon) != length {
				t.Fatalf("lat %v, lon %v; want rows %d..%d, %d columns from %d", lat, lon, j0, j1, length, start)
			}
			for jj := range lat {
				if want := damagedAt(g.lat, tc.latFill, j0+jj); lat[jj] != want {
					t.Errorf("lat[%d] = %v, want %v", jj, lat[jj], want)
				}
			}
			prev := math.Inf(-1)
			for ii, x := range lon {
				i := (start + ii) % g.nlon
				if slices.Contains(tc.lonFill, i) {
					if x != -999 {
						t.Errorf("lon[%d] = %v, want the fill value (input index %d)", ii, x, i)
					}
					continue
				}
				if !near(mod360(x), mod360(g.lon(i))) || x <= prev || prev == math.Inf(-1) && (x < w-1e-9 || x >= w+360) {
					t.Errorf("lon = %v: lon[%d] is not input %d (%v), increasing, in the convention of %v", lon, ii, i, g.lon(i), w)
				}
				prev = x
			}
			for jj := range lat {
				for ii := range lon {
					j, i := j0+jj, (start+ii)%g.nlon
					want := sstAt(0, j, i)
					if slices.Contains(tc.latFill, j) || slices.Contains(tc.lonFill, i) {
						want = -999 // a cell without a position is not taken: masked
					}
					if got := sst[jj*len(lon)+ii]; got != want {
						t.Fatalf("sst[%d, %d] = %v, want %v", jj, ii, got, want)
					}
				}
			}
		})
	}
}

func damagedAt(at func(int) float64, fill []int, i int) float64 {
	if slices.Contains(fill, i) {
		return -999
	}
	return at(i)
}

// TestRunDamagedCoordinateStatistics: a cell whose longitude is missing
// has no area and is left out of the statistics; its neighbours keep the
// width of their other steps.
func TestRunDamagedCoordinateStatistics(t *testing.T) {
	t.Parallel()
	g := grid{lat0: -85, dlat: 10, nlat: 18, lon0: 5, dlon: 10, nlon: 36, ntime: 1, dt: 1}
	e := newEnv(t)
	in := e.put("/data/damaged.nc", damagedGrid(g, nil, []int{35}))
	req := &Request{Regions: []regions.Fixed{bbox("b", 330, -20, 20, 20)}, Statistics: &Statistics{Ops: []string{OpMean, OpCount}, Only: true}}
	res := e.run(t, req, in)
	if res.Stats == nil || len(res.Stats.Regions) != 1 || len(res.Stats.Regions[0].Moments) != 1 {
		t.Fatalf("statistics %+v", res.Stats)
	}
	// Rows -15..15, columns 335, 345, 15, 25 (of the region's 5 columns,
	// 355 is missing): every column as wide, rows weighted by their band.
	sum, wsum := 0.0, 0.0
	for j := 0; j < g.nlat; j++ {
		y := g.lat(j)
		if y < -20 || y > 20 {
			continue
		}
		w := math.Sin((y+5)*math.Pi/180) - math.Sin((y-5)*math.Pi/180)
		for _, i := range []int{33, 34, 0, 1} {
			sum, wsum = sum+w*sstAt(0, j, i), wsum+w
		}
	}
	m := res.Stats.Regions[0].Moments[0][0]
	mean, _ := m.Value(OpMean)
	count, _ := m.Value(OpCount)
	if math.Abs(mean-sum/wsum) > 1e-9*math.Abs(sum/wsum) || count != 16 {
		t.Errorf("mean %v, count %v; want %v, 16", mean, count, sum/wsum)
	}
}
