package engine

import (
	"math"
	"strings"

	"github.com/subsetd/subsetd/ncmodel"
)

// Axis is the role of a coordinate.
type Axis string

// The axes subsetd selects on.
const (
	AxisLat      Axis = "lat"
	AxisLon      Axis = "lon"
	AxisTime     Axis = "time"
	AxisVertical Axis = "vertical"
)

// GridKind says how latitude and longitude are laid out.
type GridKind string

// Grid kinds. Rectilinear grids have 1-D latitude and longitude coordinate
// variables on their own dimensions; curvilinear grids (and swaths) have
// 2-D latitude/longitude over two shared dimensions; tracks have 1-D
// latitude/longitude over one shared dimension.
const (
	Rectilinear GridKind = "rectilinear"
	Curvilinear GridKind = "curvilinear"
	Track       GridKind = "track"
)

// Grid is one horizontal grid of a file: its latitude and longitude
// coordinates and the dimensions they span.
type Grid struct {
	Kind     GridKind
	Lat, Lon *ncmodel.Var
}

// Coord is a 1-D coordinate variable with its axis.
type Coord struct {
	Axis Axis
	Var  *ncmodel.Var
}

// Coords is what was found in a file.
type Coords struct {
	Grids []Grid
	// Axes maps a dimension to its 1-D coordinate, for dimensions that are
	// latitude, longitude, time or vertical.
	Axes map[*ncmodel.Dim]Coord
}

var latUnits = map[string]bool{"degrees_north": true, "degree_north": true, "degree_n": true, "degrees_n": true, "degreen": true, "degreesn": true}
var lonUnits = map[string]bool{"degrees_east": true, "degree_east": true, "degree_e": true, "degrees_e": true, "degreee": true, "degreese": true}

// verticalStdNames are the standard names of vertical coordinates: the
// dimensional ones a vertical axis commonly has, and every parametric
// (mostly dimensionless) vertical coordinate of CF's Appendix D, whose
// standard name alone identifies it.
var verticalStdNames = map[string]bool{
	"depth": true, "height": true, "altitude": true, "air_pressure": true, "model_level_number": true,
	"height_above_reference_ellipsoid": true, "height_above_mean_sea_level": true, "depth_below_geoid": true,
	"height_above_geopotential_datum": true,
	// Appendix D, Parametric Vertical Coordinates.
	"atmosphere_ln_pressure_coordinate":           true,
	"atmosphere_sigma_coordinate":                 true,
	"atmosphere_hybrid_sigma_pressure_coordinate": true,
	"atmosphere_hybrid_height_coordinate":         true,
	"atmosphere_sleve_coordinate":                 true,
	"ocean_sigma_coordinate":                      true,
	"ocean_s_coordinate":                          true,
	"ocean_s_coordinate_g1":                       true,
	"ocean_s_coordinate_g2":                       true,
	"ocean_sigma_z_coordinate":                    true,
	"ocean_double_sigma_coordinate":               true,
}

// pressureUnits are the units of pressure (UDUNITS spellings, any case,
// plurals): by CF, units alone that make a coordinate variable vertical.
var pressureUnits = map[string]bool{
	"pa": true, "pascal": true, "pascals": true, "hpa": true, "hectopascal": true, "hectopascals": true,
	"kpa": true, "kilopascal": true, "kilopascals": true, "mbar": true, "millibar": true, "millibars": true,
	"bar": true, "bars": true, "dbar": true, "decibar": true, "decibars": true, "cbar": true, "centibar": true, "centibars": true,
	"atm": true, "atmosphere": true, "atmospheres": true,
}

// levelUnits are COARDS' units of dimensionless vertical coordinates, which
// CF still allows (deprecated).
var levelUnits = map[string]bool{"level": true, "layer": true, "sigma_level": true}

// AxisOf classifies a variable by its CF attributes (standard_name, units,
// axis, positive), then by its name; "" when it is none of the axes.
func AxisOf(v *ncmodel.Var) Axis {
	std := strings.ToLower(v.AttrString("standard_name"))
	units := strings.ToLower(strings.TrimSpace(v.AttrString("units")))
	axis := strings.ToUpper(strings.TrimSpace(v.AttrString("axis")))
	positive := strings.ToLower(strings.TrimSpace(v.AttrString("positive")))
	switch {
	case std == "latitude" || latUnits[units]:
		return AxisLat
	case std == "longitude" || lonUnits[units]:
		return AxisLon
	case std == "time" || axis == "T" || strings.Contains(units, " since "):
		return AxisTime
	case axis == "Z" || positive == "up" || positive == "down" || verticalStdNames[std]:
		// CF 4.3: positive up or down makes any coordinate vertical
		// (lengths, and densities or temperatures of isopycnal and
		// isentropic levels); so does a standard name of Appendix D.
		return AxisVertical
	}
	if axis == "Y" && (units == "" || strings.HasPrefix(units, "degree")) && std != "grid_latitude" && std != "projection_y_coordinate" {
		return AxisLat
	}
	if axis == "X" && (units == "" || strings.HasPrefix(units, "degree")) && std != "grid_longitude" && std != "projection_x_coordinate" {
		return AxisLon
	}
	if std == "" && units == "" || strings.HasPrefix(units, "degree") {
		switch strings.ToLower(v.Name) {
		case "lat", "latitude", "nav_lat":
			return AxisLat
		case "lon", "longitude", "nav_lon":
			return AxisLon
		}
	}
	if (pressureUnits[units] || levelUnits[units]) && v.IsCoordinate() {
		return AxisVertical
	}
	if strings.EqualFold(v.Name, "time") && v.IsCoordinate() {
		return AxisTime
	}
	return ""
}

// FindCoords finds the horizontal grids and the 1-D axes of a file.
func FindCoords(f *ncmodel.File) Coords {
	c := Coords{Axes: map[*ncmodel.Dim]Coord{}}
	var lats, lons []*ncmodel.Var
	for _, v := range f.Vars() {
		if !v.IsCoordinate() || v.Type == ncmodel.String || v.Type == ncmodel.Char {
			continue
		}
		ax := AxisOf(v)
		if ax == "" {
			continue
		}
		if _, dup := c.Axes[v.Dims[0]]; dup {
			continue
		}
		c.Axes[v.Dims[0]] = Coord{Axis: ax, Var: v}
		switch ax {
		case AxisLat:
			lats = append(lats, v)
		case AxisLon:
			lons = append(lons, v)
		}
	}
	// Pair 1-D lat and lon coordinates that some variable uses together;
	// a lone pair in a file pairs by itself.
	paired := map[*ncmodel.Var]bool{}
	for _, v := range f.Vars() {
		var la, lo *ncmodel.Var
		for _, d := range v.Dims {
			if co, ok := c.Axes[d]; ok {
				switch co.Axis {
				case AxisLat:
					la = co.Var
				case AxisLon:
					lo = co.Var
				}
			}
		}
		if la != nil && lo != nil && !paired[la] && !paired[lo] {
			paired[la], paired[lo] = true, true
			c.Grids = append(c.Grids, Grid{Kind: Rectilinear, Lat: la, Lon: lo})
		}
	}
	if len(c.Grids) == 0 && len(lats) == 1 && len(lons) == 1 {
		c.Grids = append(c.Grids, Grid{Kind: Rectilinear, Lat: lats[0], Lon: lons[0]})
	}
	// Auxiliary (multi-dimensional or along-track) latitude/longitude,
	// named by `coordinates` attributes or standard names.
	seen := map[*ncmodel.Var]bool{}
	for _, g := range c.Grids {
		seen[g.Lat], seen[g.Lon] = true, true
	}
	var auxLat, auxLon []*ncmodel.Var
	for _, v := range f.Vars() {
		if seen[v] || v.IsCoordinate() || len(v.Dims) == 0 || len(v.Dims) > 2 {
			continue
		}
		switch AxisOf(v) {
		case AxisLat:
			auxLat = append(auxLat, v)
		case AxisLon:
			auxLon = append(auxLon, v)
		}
	}
	for _, la := range auxLat {
		for _, lo := range auxLon {
			if seen[lo] || !sameDims(la, lo) {
				continue
			}
			kind := Curvilinear
			if len(la.Dims) == 1 {
				kind = Track
			}
			c.Grids = append(c.Grids, Grid{Kind: kind, Lat: la, Lon: lo})
			seen[la], seen[lo] = true, true
			break
		}
	}
	return c
}

// MainTime returns the file's main time axis (nil when it has none): of
// its time coordinates, the one marked standard_name time or axis T, named
// time, on the unlimited dimension, used by the most variables, in that
// order. Other time coordinates (a 360_day lat_cal beside time, the time of
// one group of several) are the time axes of their own variables only.
func (c Coords) MainTime(f *ncmodel.File) *ncmodel.Var {
	users := map[*ncmodel.Dim]int{}
	for _, v := range f.Vars() {
		for _, d := range v.Dims {
			users[d]++
		}
	}
	var best *ncmodel.Var
	bestScore := -1
	for _, d := range sortedDims(c.Axes) {
		co := c.Axes[d]
		if co.Axis != AxisTime {
			continue
		}
		s := 0
		if strings.EqualFold(co.Var.AttrString("standard_name"), "time") || strings.EqualFold(strings.TrimSpace(co.Var.AttrString("axis")), "T") {
			s += 4
		}
		if strings.EqualFold(co.Var.Name, "time") {
			s += 2
		}
		if d.Unlimited {
			s++
		}
		s = s*1_000_000 + users[d]
		if s > bestScore {
			best, bestScore = co.Var, s
		}
	}
	return best
}

func sameDims(a, b *ncmodel.Var) bool {
	if len(a.Dims) != len(b.Dims) {
		return false
	}
	for i := range a.Dims {
		if a.Dims[i] != b.Dims[i] {
			return false
		}
	}
	return true
}

// CoordValues reads a 1-D (or any) coordinate variable whole and returns its
// values unpacked (scale_factor/add_offset), with fill and missing values
// and values outside valid_min/valid_max as NaN.
func CoordValues(src ncmodel.Source, v *ncmodel.Var) ([]float64, error) {
	start := make([]int, len(v.Dims))
	a, err := src.Read(v, start, v.Shape(), nil)
	if err != nil {
		return nil, err
	}
	vals := a.Float64s()
	Unpack(v, vals)
	return vals, nil
}

// Unpack applies a variable's fill, missing, valid range and packing
// attributes to raw values in place.
func Unpack(v *ncmodel.Var, vals []float64) { unpackingOf(v).apply(vals) }

// unpacking is what a variable's attributes say about its raw values:
// which are not data (fill, missing, outside the valid range) and how the
// others unpack. Read once per variable, applied to many values.
type unpacking struct {
	bad           []float64
	lo, hi        float64
	scale, offset float64
}

func unpackingOf(v *ncmodel.Var) unpacking {
	u := unpacking{lo: math.Inf(-1), hi: math.Inf(1), scale: 1}
	for _, name := range []string{"_FillValue", "missing_value"} {
		if a, ok := v.Attr(name); ok {
			u.bad = append(u.bad, a.Float64s()...)
		}
	}
	if a, ok := v.Attr("valid_min"); ok && len(a.Float64s()) == 1 {
		u.lo = a.Float64s()[0]
	}
	if a, ok := v.Attr("valid_max"); ok && len(a.Float64s()) == 1 {
		u.hi = a.Float64s()[0]
	}
	if a, ok := v.Attr("valid_range"); ok && len(a.Float64s()) == 2 {
		u.lo, u.hi = a.Float64s()[0], a.Float64s()[1]
	}
	if a, ok := v.Attr("scale_factor"); ok && len(a.Float64s()) == 1 {
		u.scale = a.Float64s()[0]
	}
	if a, ok := v.Attr("add_offset"); ok && len(a.Float64s()) == 1 {
		u.offset = a.Float64s()[0]
	}
	return u
}

// apply turns raw values into unpacked ones in place, NaN for those that
// are not data.
func (u unpacking) apply(vals []float64) {
	for i, x := range vals {
		isBad := x < u.lo || x > u.hi
		for _, b := range u.bad {
			if x == b {
				isBad = true
			}
		}
		if isBad {
			vals[i] = math.NaN()
			continue
		}
		vals[i] = x*u.scale + u.offset
	}
}
