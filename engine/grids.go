package engine

import (
	"math"
	"slices"
	"strings"

	"github.com/subsetd/subsetd/cftime"
	"github.com/subsetd/subsetd/ncmodel"
)

// Which grid each variable lies on, and when each cell of a grid was
// observed.

// Dims are the grid's horizontal dimensions: latitude's then longitude's
// on a rectilinear grid, those of its 2-D or along-track coordinates
// otherwise.
func (g Grid) Dims() []*ncmodel.Dim {
	if g.Kind == Rectilinear {
		return []*ncmodel.Dim{g.Lat.Dims[0], g.Lon.Dims[0]}
	}
	return g.Lat.Dims
}

// assignGrids returns, for every variable of the file, the indices in
// grids of the grid whose positions are its own (CF: the auxiliary
// coordinates its `coordinates` attribute names, then its coordinate
// variables); none for a variable off every grid. A variable naming none lies
// on the grid spanning most of its dimensions (the rectilinear grid first
// on a tie): a 20-Hz variable on (time, meas_ind) on the 20-Hz grid, a 1-Hz
// one on (time) on the 1-Hz grid. When several grids span exactly the same
// dimensions and the variable names none of them (NCO's in.cdl: two grids
// stored as 1-D arrays on one dimension), it lies on all of them: it is
// kept where any of them is inside the region.
func assignGrids(f *ncmodel.File, c Coords) map[*ncmodel.Var][]int {
	out := map[*ncmodel.Var][]int{}
	byCoord := map[*ncmodel.Var]int{}
	for i, g := range c.Grids {
		for _, v := range []*ncmodel.Var{g.Lat, g.Lon} {
			byCoord[v] = i
			if b := boundsVar(f, v); b != nil {
				if _, taken := byCoord[b]; !taken {
					byCoord[b] = i
				}
			}
		}
	}
	for _, v := range f.Vars() {
		if i, ok := byCoord[v]; ok {
			out[v] = []int{i}
			continue
		}
		// The coordinates its `coordinates` attribute names (the writer's
		// own statement of its positions), then its coordinate variables.
		var own []*ncmodel.Var
		for _, n := range strings.Fields(v.AttrString("coordinates")) {
			if x := resolveVar(v.Group, n); x != nil {
				own = append(own, x)
			}
		}
		for _, d := range v.Dims {
			if co, ok := c.Axes[d]; ok && (co.Axis == AxisLat || co.Axis == AxisLon) {
				own = append(own, co.Var)
			}
		}
		var set []int
		for _, x := range own {
			if i, ok := byCoord[x]; ok && spans(v, c.Grids[i].Dims()) {
				set = []int{i}
				break
			}
		}
		if set == nil {
			best := -1
			for i, g := range c.Grids {
				if spans(v, g.Dims()) && (best < 0 || len(g.Dims()) > len(c.Grids[best].Dims())) {
					best = i
				}
			}
			if best >= 0 {
				set = []int{best}
				bd := c.Grids[best].Dims()
				for i, g := range c.Grids {
					if i != best && c.Grids[best].Kind != Rectilinear && g.Kind != Rectilinear && slices.Equal(g.Dims(), bd) && spans(v, g.Dims()) {
						set = append(set, i)
					}
				}
			}
		}
		out[v] = set
	}
	return out
}

// cellTime says how the cells of a 2-D or along-track grid get their
// times: a time variable over some of the grid's dimensions (the time
// coordinate of a track, the time of each scan line or pixel of a swath),
// or a reference time plus a per-pixel offset (GHRSST L2P: time + sst_dtime,
// on a time dimension of one step).
type cellTime struct {
	v      *ncmodel.Var // the time variable, or the reference time
	offset *ncmodel.Var // the per-pixel offset, or nil
	scale  float64      // offset units per unit of v
}

// gridTime finds the times of the cells of grid g, or nil when the grid's
// cells have no time of their own (rectilinear grids: time is a dimension
// of its own there, selected as such).
func gridTime(f *ncmodel.File, c Coords, g Grid, member map[*ncmodel.Var][]int, gi int) *cellTime {
	if g.Kind == Rectilinear {
		return nil
	}
	dims := map[*ncmodel.Dim]bool{}
	for _, d := range g.Dims() {
		dims[d] = true
	}
	named := map[*ncmodel.Var]int{}
	for _, v := range f.Vars() {
		if !slices.Contains(member[v], gi) {
			continue
		}
		for _, n := range strings.Fields(v.AttrString("coordinates")) {
			if x := resolveVar(v.Group, n); x != nil {
				named[x]++
			}
		}
	}
	var best *ncmodel.Var
	score := -1
	for _, v := range f.Vars() {
		if len(v.Dims) == 0 || v.Type == ncmodel.String || v.Type == ncmodel.Char || AxisOf(v) != AxisTime {
			continue
		}
		inside := true
		for _, d := range v.Dims {
			inside = inside && dims[d]
		}
		if !inside {
			continue
		}
		// The finest first (a 20-Hz time over the 1-Hz one), then the
		// one the grid's variables name.
		s := 16 * len(v.Dims)
		if named[v] > 0 {
			s += 4
		}
		if v.IsCoordinate() {
			s += 2
		}
		if strings.EqualFold(v.AttrString("standard_name"), "time") {
			s++
		}
		if s > score {
			best, score = v, s
		}
	}
	if best != nil {
		return &cellTime{v: best}
	}
	// A reference time on a dimension of one step plus an offset per pixel.
	for _, v := range f.Vars() {
		if len(v.Dims) != len(g.Dims())+1 || !isTimeOffset(v) {
			continue
		}
		ref, ok := c.Axes[v.Dims[0]]
		if !ok || ref.Axis != AxisTime || v.Dims[0].Len != 1 {
			continue
		}
		same := true
		for i, d := range g.Dims() {
			same = same && v.Dims[i+1] == d
		}
		if !same {
			continue
		}
		ou, err1 := cftime.ParseUnits(v.AttrString("units")+" since 1970-01-01", "")
		ru, err2 := TimeAxis(ref.Var)
		if err1 != nil || err2 != nil || ru.Scale == 0 {
			continue
		}
		return &cellTime{v: ref.Var, offset: v, scale: ou.Scale / ru.Scale}
	}
	return nil
}

// values returns the time of every cell of the grid, in the units of
// t.v, NaN where unknown.
func (t *cellTime) values(src ncmodel.Source, g Grid) ([]float64, error) {
	dims := g.Dims()
	shape := g.Lat.Shape()
	n := ncmodel.Product(shape)
	out := make([]float64, n)
	if t.offset != nil {
		ref, err := CoordValues(src, t.v)
		if err != nil {
			return nil, err
		}
		off, err := CoordValues(src, t.offset)
		if err != nil {
			return nil, err
		}
		if len(ref) != 1 || len(off) != n {
			for i := range out {
				out[i] = math.NaN()
			}
			return out, nil
		}
		for i := range out {
			out[i] = ref[0] + off[i]*t.scale
		}
		return out, nil
	}
	vals, err := CoordValues(src, t.v)
	if err != nil {
		return nil, err
	}
	// Broadcast over the grid: the position of each of t's dimensions.
	pos := make([]int, len(t.v.Dims))
	for i, d := range t.v.Dims {
		for j, x := range dims {
			if x == d {
				pos[i] = j
			}
		}
	}
	tshape := t.v.Shape()
	idx := make([]int, len(dims))
	for k := range out {
		rem := k
		for d := len(dims) - 1; d >= 0; d-- {
			idx[d] = rem % shape[d]
			rem /= shape[d]
		}
		m := 0
		for i := range pos {
			m = m*tshape[i] + idx[pos[i]]
		}
		out[k] = vals[m]
	}
	return out, nil
}
