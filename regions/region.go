package regions

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/subsetd/subsetd/internal/errs"
)

// Region is one area of interest as users write it in requests and region
// files: {"name": "benguela", "bbox": [8, -35, 20, -15]}.
type Region struct {
	Name string    `json:"name,omitempty"`
	BBox []float64 `json:"bbox,omitempty"`
	// Geometry is a GeoJSON Polygon or MultiPolygon (or a Feature holding one).
	Geometry json.RawMessage `json:"geometry,omitempty"`
	// Ref names a region of a named set: "<set>/<name>".
	Ref string `json:"ref,omitempty"`
	// Mask false keeps the whole index box of a polygon (or of a region on
	// a 2-D grid) unmasked; by default cells outside are set to fill.
	Mask *bool `json:"mask,omitempty"`
}

// Resolved is a validated region: its output name and area.
type Resolved struct {
	Name string
	Area Area
	Mask bool
}

// BBox is a validated bounding box in degrees. West > East means the box
// crosses the antimeridian. Longitudes are kept as given (any convention);
// comparisons are made modulo 360.
type BBox struct {
	West, South, East, North float64
}

// MaxNameLen bounds region names, which become file names.
const MaxNameLen = 100

// ValidateName checks that a region name is usable as a file name on every
// system and safe on a command line: letters, digits, '.', '_' and '-', at
// most MaxNameLen of them, not starting with '.' (hidden files, "." and
// "..") nor '-' (read as an option by the tools given the file).
func ValidateName(field, name string) error {
	if name == "" {
		return errs.F(errs.Invalid, field, "a region needs a name")
	}
	if len(name) > MaxNameLen {
		return errs.F(errs.Invalid, field, "region name is longer than %d characters", MaxNameLen)
	}
	if name[0] == '.' || name[0] == '-' {
		return errs.F(errs.Invalid, field, "region name %q must not start with '%c'", name, name[0])
	}
	for _, r := range name {
		ok := r == '.' || r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
		if !ok {
			return errs.F(errs.Invalid, field, "region name %q may hold only letters, digits, '.', '_' and '-'", name)
		}
	}
	return nil
}

// Box validates the region's bbox and returns it.
func (r Region) Box(field string) (BBox, error) {
	if r.BBox == nil {
		return BBox{}, errs.F(errs.Invalid, field, "region %q has no bbox", r.Name)
	}
	if len(r.BBox) != 4 {
		return BBox{}, errs.F(errs.Invalid, field+".bbox", "bbox must have 4 numbers [west, south, east, north], got %d", len(r.BBox))
	}
	return NewBBox(field+".bbox", r.BBox[0], r.BBox[1], r.BBox[2], r.BBox[3])
}

// Resolve validates a region: exactly one of bbox, geometry and ref, a
// usable name (from the ref when none is given).
func (r Region) Resolve(field string) (Resolved, error) {
	res, _, err := r.resolve(field, nil)
	return res, err
}

// resolve is Resolve that also returns the set region a ref names; the
// region's vertices are taken from vb before any polygon is prepared.
func (r Region) resolve(field string, vb *budget) (Resolved, *NamedShape, error) {
	n := 0
	for _, set := range []bool{r.BBox != nil, hasGeometry(r.Geometry), r.Ref != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return Resolved{}, nil, errs.F(errs.Invalid, field, "a region needs exactly one of bbox, geometry or ref (has %d)", n)
	}
	out := Resolved{Name: r.Name, Mask: r.Mask == nil || *r.Mask}
	var shape *NamedShape
	switch {
	case r.BBox != nil:
		b, err := r.Box(field)
		if err != nil {
			return Resolved{}, nil, err
		}
		out.Area = b
	case r.Ref != "":
		ref, err := Lookup(r.Ref)
		if err != nil {
			return Resolved{}, nil, errs.F(errs.Invalid, field+".ref", "%v", err)
		}
		if out.Name == "" {
			out.Name = ref.Name
		}
		if err := vb.take(field+".ref", vertices(ref.Area)); err != nil {
			return Resolved{}, nil, err
		}
		out.Area, shape = ref.Area, &ref
	default:
		p, err := parseGeometry(field+".geometry", r.Geometry, vb)
		if err != nil {
			return Resolved{}, nil, err
		}
		out.Area = p
	}
	if err := ValidateName(field+".name", out.Name); err != nil {
		return Resolved{}, nil, err
	}
	return out, shape, nil
}

func hasGeometry(g json.RawMessage) bool { return len(g) > 0 && string(g) != "null" }

// Fixed is a region with its area written out: a bbox or a GeoJSON
// geometry, never only a reference to a named set. Jobs store their regions
// so (fixed when the job is submitted) and workers and the engine cut them
// so, without looking any set up: editing a set afterwards changes no cut.
// Its fields and JSON are Region's.
//
// Ref, when set, names the set region the geometry was copied from; it is
// kept to show the region as it was asked for (Written). Name is as
// written: empty for a ref named after its set region (OutputName).
type Fixed Region

// Fix validates a region, as Resolve does, and writes out its area: a
// ref's is the geometry of the set region as the set has it now.
func (r Region) Fix(field string) (Fixed, error) {
	_, f, err := r.fix(field, nil)
	return f, err
}

func (r Region) fix(field string, vb *budget) (Resolved, Fixed, error) {
	res, shape, err := r.resolve(field, vb)
	if err != nil {
		return Resolved{}, Fixed{}, err
	}
	f := Fixed(r)
	if shape != nil {
		f.Geometry = shape.Geometry
	}
	return res, f, nil
}

// FixList fixes a list of regions: not empty, each valid, output names
// unique.
func FixList(field string, rs []Region) ([]Fixed, error) { return FixListWithin(field, rs, Limits{}) }

// Limits bound what the regions of one job cost before any is prepared:
// their number, and their vertices (the positions of their polygons and
// points, a ref's those of its set region). Zero: no limit.
type Limits struct {
	Regions  int
	Vertices int
	// RegionsBy and VerticesBy say whose limits they are ("the server's
	// max_regions"), for the messages.
	RegionsBy, VerticesBy string
}

// FixListWithin is FixList within limits: more regions than lim allows is
// a TooLarge error naming field, more vertices one naming the geometry
// (or ref) that went over, each found before a polygon is prepared.
func FixListWithin(field string, rs []Region, lim Limits) ([]Fixed, error) {
	if lim.Regions > 0 && len(rs) > lim.Regions {
		return nil, errs.F(errs.TooLarge, field, "%d regions: at most %d per job, %s", len(rs), lim.Regions, lim.RegionsBy)
	}
	var vb *budget
	if lim.Vertices > 0 {
		vb = &budget{left: lim.Vertices, limit: lim.Vertices, why: lim.VerticesBy}
	}
	out := make([]Fixed, len(rs))
	_, err := resolveAll(field, len(rs), func(i int, f string) (res Resolved, err error) {
		res, out[i], err = rs[i].fix(f, vb)
		return res, err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// vertices counts the positions of an area.
func vertices(a Area) int {
	switch x := a.(type) {
	case *Polygon:
		n := 0
		for _, pt := range x.parts {
			for _, r := range pt.rings {
				n += len(r)
			}
		}
		return n
	case *Points:
		return len(x.pts)
	}
	return 0
}

// HasArea reports whether the region's area is written out. Only a ref
// stored by a server that did not fix regions at submission lacks it.
func (f Fixed) HasArea() bool { return f.BBox != nil || hasGeometry(f.Geometry) }

// OutputName is the name of the region's outputs: its name, or the name
// of the set region its ref names.
func (f Fixed) OutputName() string {
	if f.Name == "" && f.Ref != "" {
		_, name, _ := strings.Cut(f.Ref, "/")
		return name
	}
	return f.Name
}

// Written is the region as it was asked for: a ref without the geometry
// copied into it.
func (f Fixed) Written() Region {
	if f.Ref != "" {
		return Region{Name: f.Name, Ref: f.Ref, Mask: f.Mask}
	}
	return Region{Name: f.Name, BBox: f.BBox, Geometry: f.Geometry, Mask: f.Mask}
}

// Resolve validates a fixed region and returns its area, never looking a
// set up: a region without its area written out is an error.
func (f Fixed) Resolve(field string) (Resolved, error) {
	if f.Ref != "" && !f.HasArea() {
		return Resolved{}, errs.F(errs.Invalid, field+".ref", "region %s has no area: its ref was not looked up when the region was fixed", f.Ref)
	}
	return Region{Name: f.OutputName(), BBox: f.BBox, Geometry: f.Geometry, Mask: f.Mask}.Resolve(field)
}

// boxOrder ends every error about a box: its order surprises users of
// NCO (lon,lon,lat,lat) and CDO (lon1,lon2,lat1,lat2).
const boxOrder = " (a box is W,S,E,N: west, south, east, north)"

// NewBBox validates a box.
func NewBBox(field string, w, s, e, n float64) (BBox, error) {
	for i, v := range []float64{w, s, e, n} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return BBox{}, errs.F(errs.Invalid, field, "bbox %s is %v: coordinates must be finite numbers"+boxOrder, [...]string{"west", "south", "east", "north"}[i], v)
		}
	}
	if s < -90 || s > 90 || n < -90 || n > 90 {
		return BBox{}, errs.F(errs.Invalid, field, "latitude outside [-90, 90]: south %v, north %v"+boxOrder, s, n)
	}
	if s > n {
		return BBox{}, errs.F(errs.Invalid, field, "south (%v) is greater than north (%v)"+boxOrder, s, n)
	}
	if math.Abs(w) > 720 || math.Abs(e) > 720 {
		return BBox{}, errs.F(errs.Invalid, field, "longitude outside [-720, 720]: west %v, east %v"+boxOrder, w, e)
	}
	return BBox{West: w, South: s, East: e, North: n}, nil
}

// ParseBBox parses "W,S,E,N".
func ParseBBox(field, s string) (BBox, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return BBox{}, errs.F(errs.Invalid, field, "bbox %q must be W,S,E,N (4 numbers)", s)
	}
	var v [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return BBox{}, errs.F(errs.Invalid, field, "bbox %q: %q is not a number", s, p)
		}
		v[i] = f
	}
	return NewBBox(field, v[0], v[1], v[2], v[3])
}

// ParseRegionFlag parses the CLI form NAME=W,S,E,N.
func ParseRegionFlag(s string) (Region, error) {
	name, box, ok := strings.Cut(s, "=")
	if !ok {
		return Region{}, errs.F(errs.Invalid, "--region", "%q must be NAME=W,S,E,N", s)
	}
	if err := ValidateName("--region", name); err != nil {
		return Region{}, err
	}
	b, err := ParseBBox("--region "+name, box)
	if err != nil {
		return Region{}, err
	}
	return Region{Name: name, BBox: []float64{b.West, b.South, b.East, b.North}}, nil
}

// Crosses reports whether the box crosses the antimeridian of its own
// convention (west > east).
func (b BBox) Crosses() bool { return b.West > b.East }

// LonWidth is the eastward extent of the box in degrees (0..360].
func (b BBox) LonWidth() float64 {
	w := b.East - b.West
	if w < 0 {
		w += 360
	}
	if b.East-b.West >= 360 {
		return 360
	}
	return w
}

func (b BBox) String() string {
	return fmt.Sprintf("[%g, %g, %g, %g]", b.West, b.South, b.East, b.North)
}

// ResolveFixed checks a list of fixed regions, as FixList checks the
// regions they came from, and returns their areas.
func ResolveFixed(field string, fs []Fixed) ([]Resolved, error) {
	return resolveAll(field, len(fs), func(i int, f string) (Resolved, error) { return fs[i].Resolve(f) })
}

// resolveAll resolves n regions (field[i] each): at least one, output names
// unique whatever their case.
func resolveAll(field string, n int, resolve func(i int, field string) (Resolved, error)) ([]Resolved, error) {
	if n == 0 {
		return nil, errs.F(errs.Invalid, field, "at least one region is needed")
	}
	seen := map[string]int{}
	out := make([]Resolved, n)
	for i := range n {
		f := fmt.Sprintf("%s[%d]", field, i)
		res, err := resolve(i, f)
		if err != nil {
			return nil, err
		}
		if j, dup := seen[strings.ToLower(res.Name)]; dup {
			return nil, errs.F(errs.Invalid, f+".name", "region name %q is used twice (also %s[%d])", res.Name, field, j)
		}
		seen[strings.ToLower(res.Name)] = i
		out[i] = res
	}
	return out, nil
}
