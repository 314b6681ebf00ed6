package index

import (
	"math"
)

// Geo is where a file's data lies, as the inspector reports it.
type Geo struct {
	// BBox is [west, south, east, north] of the cell centres, longitudes in
	// [-180, 180]; west > east when the box crosses the antimeridian.
	BBox []float64 `json:"bbox,omitempty"`
	// Footprint has one ring per 2-D (curvilinear, swath) grid: the outline
	// of its lat/lon arrays, longitudes unwrapped (consecutive points less
	// than 180° apart, so values may pass ±180), the closing point not
	// repeated. A ring around a pole is closed along the pole. Only files
	// whose grids are all 2-D have one.
	Footprint [][][2]float64 `json:"footprint,omitempty"`
	// Tolerance is how far (degrees) a cell centre may lie outside the
	// footprint, which is a subsampled outline; searches widen their box
	// by it so that the footprint never drops a file that intersects.
	Tolerance float64 `json:"tolerance,omitempty"`
}

// GridCoords are the coordinate values of one horizontal grid of a file,
// unpacked, NaN where missing.
type GridCoords struct {
	// Kind is "rectilinear" (Lat and Lon are the 1-D axes), "curvilinear"
	// (2-D Lat and Lon of shape Shape) or "track" (1-D Lat and Lon paired).
	Kind     string
	Lat, Lon []float64
	Shape    []int
}

// maxRing bounds the points of a footprint ring (the pole closure adds 3).
const maxRing = 96

// GeoOf computes the box of every grid's cell centres and, when every grid
// is 2-D, their footprints. It returns nil when no grid has a valid point.
func GeoOf(grids []GridCoords) *Geo {
	latMin, latMax := math.Inf(1), math.Inf(-1)
	var lons lonRange
	addLat := func(v float64) {
		latMin, latMax = math.Min(latMin, v), math.Max(latMax, v)
	}
	var rings [][][2]float64
	tol := 0.0
	footprints := len(grids) > 0
	for _, g := range grids {
		if g.Kind == "rectilinear" {
			footprints = false
			for _, v := range g.Lat {
				if validLat(v) {
					addLat(v)
				}
			}
			for _, v := range g.Lon {
				if validLon(v) {
					lons.add(v)
				}
			}
			continue
		}
		n := min(len(g.Lat), len(g.Lon))
		for i := 0; i < n; i++ {
			if validLat(g.Lat[i]) && validLon(g.Lon[i]) {
				addLat(g.Lat[i])
				lons.add(g.Lon[i])
			}
		}
		if g.Kind != "curvilinear" || len(g.Shape) != 2 {
			footprints = false
			continue
		}
		ring, t, ok := footprint(g.Lat, g.Lon, g.Shape[0], g.Shape[1])
		if !ok {
			footprints = false
			continue
		}
		rings = append(rings, ring)
		tol = math.Max(tol, t)
	}
	w, e, ok := lons.box()
	if !ok || math.IsInf(latMin, 0) {
		return nil
	}
	g := &Geo{BBox: []float64{w, latMin, e, latMax}}
	if footprints && len(rings) > 0 {
		g.Footprint, g.Tolerance = rings, tol
	}
	return g
}

func validLat(v float64) bool { return v >= -90 && v <= 90 } // false for NaN
func validLon(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// norm180 brings a longitude into [-180, 180).
func norm180(x float64) float64 {
	x -= 360 * math.Floor((x+180)/360)
	if x >= 180 { // rounding
		x -= 360
	}
	return x
}

// wrap brings a longitude difference into [-180, 180].
func wrap(d float64) float64 { return d - 360*math.Round(d/360) }

// lonRange finds the shortest longitude interval holding a set of
// longitudes given in any convention: the tighter of their ranges in
// [-180, 180) and in [0, 360). Data on one side of the antimeridian is tight
// in the first, data crossing it in the second.
type lonRange struct {
	n              int
	a0, a1, b0, b1 float64
}

func (r *lonRange) add(x float64) {
	a := norm180(x)
	b := a
	if b < 0 {
		b += 360
	}
	if r.n == 0 {
		r.a0, r.a1, r.b0, r.b1 = a, a, b, b
	} else {
		r.a0, r.a1 = math.Min(r.a0, a), math.Max(r.a1, a)
		r.b0, r.b1 = math.Min(r.b0, b), math.Max(r.b1, b)
	}
	r.n++
}

// box returns west and east in [-180, 180], west > east when the interval
// crosses the antimeridian.
func (r *lonRange) box() (w, e float64, ok bool) {
	if r.n == 0 {
		return 0, 0, false
	}
	if r.a1-r.a0 <= r.b1-r.b0 {
		return r.a0, r.a1, true
	}
	w, e = r.b0, r.b1
	if w >= 180 {
		w -= 360
	}
	if e > 180 {
		e -= 360
	}
	return w, e, true
}

// footprint outlines a 2-D lat/lon grid of ny rows and nx columns: the
// first row, the last valid point of each row, the last row reversed, the
// first valid point of each row upwards (with no missing values: the first
// row, last column, last row reversed, first column reversed). The outline
// is unwrapped in longitude and subsampled to at most maxRing points; tol
// is the largest distance from a cell centre (every outline point and a
// sample of the inside) to the subsampled ring, for the centres outside it.
func footprint(lat, lon []float64, ny, nx int) (ring [][2]float64, tol float64, ok bool) {
	if ny < 1 || nx < 1 || len(lat) != ny*nx || len(lon) != ny*nx {
		return nil, 0, false
	}
	valid := func(k int) bool { return validLat(lat[k]) && validLon(lon[k]) }
	type span struct{ row, lo, hi int }
	var rows []span
	for i := 0; i < ny; i++ {
		lo, hi := -1, -1
		for j := 0; j < nx; j++ {
			if valid(i*nx + j) {
				if lo < 0 {
					lo = j
				}
				hi = j
			}
		}
		if lo >= 0 {
			rows = append(rows, span{i, lo, hi})
		}
	}
	if len(rows) == 0 {
		return nil, 0, false
	}
	// Indices along the outline, and the positions that must be kept
	// (the corners).
	var idx []int
	keep := map[int]bool{0: true}
	top := rows[0]
	for j := top.lo; j <= top.hi; j++ {
		if valid(top.row*nx + j) {
			idx = append(idx, top.row*nx+j)
		}
	}
	keep[len(idx)-1] = true
	if len(rows) > 1 {
		for _, r := range rows[1 : len(rows)-1] {
			idx = append(idx, r.row*nx+r.hi)
		}
		bot := rows[len(rows)-1]
		keep[len(idx)] = true
		for j := bot.hi; j >= bot.lo; j-- {
			if valid(bot.row*nx + j) {
				idx = append(idx, bot.row*nx+j)
			}
		}
		keep[len(idx)-1] = true
		for r := len(rows) - 2; r >= 1; r-- {
			idx = append(idx, rows[r].row*nx+rows[r].lo)
		}
	}
	// Unwrap: each point within 180° of the previous one.
	full := make([][2]float64, len(idx))
	latSum := 0.0
	for k, i := range idx {
		x := norm180(lon[i])
		if k > 0 {
			x = full[k-1][0] + wrap(lon[i]-lon[idx[k-1]])
		}
		full[k] = [2]float64{x, lat[i]}
		latSum += lat[i]
	}
	n := len(full)
	// An outline that goes once around the pole does not close: it ends
	// 360° away from its start. Close it along the pole it encircles.
	end := full[n-1][0] + wrap(lon[idx[0]]-lon[idx[n-1]])
	var polar [][2]float64
	if math.Abs(end-full[0][0]) > 180 {
		pole := 90.0
		if latSum < 0 {
			pole = -90
		}
		polar = [][2]float64{{end, full[0][1]}, {end, pole}, {full[0][0], pole}}
	}
	step := (n + maxRing - 1) / maxRing
	for k, p := range full {
		if k%step == 0 || keep[k] {
			ring = append(ring, round5(p))
		}
	}
	for _, p := range polar {
		ring = append(ring, round5(p))
	}
	if len(ring) < 3 {
		return nil, 0, false
	}
	// How far outside the ring the centres lie: the whole outline, then a
	// sample of the inside (folded or odd grids).
	minX, maxX := math.Inf(1), math.Inf(-1)
	for _, p := range ring {
		minX, maxX = math.Min(minX, p[0]), math.Max(maxX, p[0])
	}
	cx := (minX + maxX) / 2
	for _, p := range full {
		tol = math.Max(tol, outside(ring, p[0], p[1]))
	}
	si, sj := max(1, ny/50), max(1, nx/50)
	for i := 0; i < ny; i += si {
		for j := 0; j < nx; j += sj {
			k := i*nx + j
			if !valid(k) {
				continue
			}
			x := lon[k] + 360*math.Round((cx-lon[k])/360)
			d := math.Inf(1)
			for _, s := range []float64{0, -360, 360} {
				if d = math.Min(d, outside(ring, x+s, lat[k])); d == 0 {
					break
				}
			}
			tol = math.Max(tol, d)
		}
	}
	if tol > 0 {
		tol = math.Ceil(tol*1e6+1) / 1e6
	}
	return ring, tol, true
}

func round5(p [2]float64) [2]float64 {
	return [2]float64{math.Round(p[0]*1e5) / 1e5, math.Round(p[1]*1e5) / 1e5}
}

// outside is 0 for a point in the ring (or on it), else its distance to the
// ring.
func outside(ring [][2]float64, x, y float64) float64 {
	if inRing(ring, x, y) {
		return 0
	}
	d := math.Inf(1)
	for i, j := 0, len(ring)-1; i < len(ring); j, i = i, i+1 {
		d = math.Min(d, segDist(x, y, ring[j][0], ring[j][1], ring[i][0], ring[i][1]))
	}
	return d
}

// inRing is the even-odd point-in-polygon test (points on an edge may go
// either way; callers that care test the edges too).
func inRing(ring [][2]float64, x, y float64) bool {
	in := false
	for i, j := 0, len(ring)-1; i < len(ring); j, i = i, i+1 {
		xi, yi, xj, yj := ring[i][0], ring[i][1], ring[j][0], ring[j][1]
		if (yi > y) != (yj > y) && x < (xj-xi)*(y-yi)/(yj-yi)+xi {
			in = !in
		}
	}
	return in
}

// segDist is the distance from (x, y) to the segment (x1, y1)-(x2, y2).
func segDist(x, y, x1, y1, x2, y2 float64) float64 {
	dx, dy := x2-x1, y2-y1
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = math.Max(0, math.Min(1, ((x-x1)*dx+(y-y1)*dy)/l))
	}
	return math.Hypot(x-(x1+t*dx), y-(y1+t*dy))
}
