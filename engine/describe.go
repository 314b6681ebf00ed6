package engine

import (
	"math"
	"sort"

	"github.com/subsetd/subsetd/ncmodel"
)

// Description summarises a file for `subsetd inspect` and the catalog.
type Description struct {
	Path       string         `json:"path"`
	Format     string         `json:"format"`
	Groups     []string       `json:"groups"`
	Dimensions []DimInfo      `json:"dimensions"`
	Variables  []VarInfo      `json:"variables"`
	Grids      []GridInfo     `json:"grids"`
	Axes       []AxisInfo     `json:"axes"`
	Extent     *Extent        `json:"extent,omitempty"`
	Time       *TimeCoverage  `json:"time,omitempty"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

// DimInfo describes a dimension.
type DimInfo struct {
	Name      string `json:"name"` // full path below the root: "/Grid/lat"; plain name in the root
	Length    int    `json:"length"`
	Unlimited bool   `json:"unlimited,omitempty"`
	// Axis is what the dimension's 1-D coordinate is: time, lat, lon or
	// vertical ("" for none, and in descriptions written before axes were
	// recorded).
	Axis string `json:"axis,omitempty"`
}

// VarInfo describes a variable.
type VarInfo struct {
	Name         string   `json:"name"`
	Type         string   `json:"type"`
	Dimensions   []string `json:"dimensions"`
	Shape        []int    `json:"shape"`
	Units        string   `json:"units,omitempty"`
	StandardName string   `json:"standard_name,omitempty"`
	LongName     string   `json:"long_name,omitempty"`
	Coordinate   bool     `json:"coordinate,omitempty"`
}

// OutVar is a variable of a written file: its name (the group path below
// the root), type, dimensions and their lengths.
type OutVar struct {
	Name       string   `json:"name"`
	Dtype      string   `json:"dtype"`
	Dimensions []string `json:"dimensions"`
	Shape      []int    `json:"shape"`
}

// OutVars lists the variables of f in the file's order.
func OutVars(f *ncmodel.File) []OutVar {
	var out []OutVar
	for _, v := range f.Vars() {
		o := OutVar{Name: varName(v), Dtype: v.Type.String(), Dimensions: []string{}, Shape: v.Shape()}
		for _, d := range v.Dims {
			o.Dimensions = append(o.Dimensions, d.Name)
		}
		out = append(out, o)
	}
	return out
}

// GridInfo names the latitude and longitude of a horizontal grid.
type GridInfo struct {
	Kind string `json:"kind"`
	Lat  string `json:"lat"`
	Lon  string `json:"lon"`
}

// AxisInfo names a 1-D coordinate and its role.
type AxisInfo struct {
	Axis      string `json:"axis"`
	Variable  string `json:"variable"`
	Dimension string `json:"dimension"`
	Length    int    `json:"length"`
}

// Extent is the range of cell centres, longitudes as in the data.
type Extent struct {
	LatMin float64 `json:"lat_min"`
	LatMax float64 `json:"lat_max"`
	LonMin float64 `json:"lon_min"`
	LonMax float64 `json:"lon_max"`
}

// TimeCoverage is the decoded range of a time axis.
type TimeCoverage struct {
	Start    string `json:"start,omitempty"`
	End      string `json:"end,omitempty"`
	Steps    int    `json:"steps"`
	Units    string `json:"units"`
	Calendar string `json:"calendar"`
	Error    string `json:"error,omitempty"`
}

// DimName names a dimension the way descriptions and OutFile.Shape do: its
// name in the root group, its full path ("/Grid/lat") below it.
func DimName(d *ncmodel.Dim) string {
	if d.Group == nil || d.Group.Parent == nil {
		return d.Name
	}
	return d.Group.Path() + "/" + d.Name
}

func varName(v *ncmodel.Var) string {
	if v.Group.Parent == nil {
		return v.Name
	}
	return v.Path()
}

// describeDims lists the dimensions of every group, with their axes.
func describeDims(f *ncmodel.File, c Coords) []DimInfo {
	var out []DimInfo
	f.Root.Walk(func(g *ncmodel.Group) {
		for _, x := range g.Dims {
			di := DimInfo{Name: DimName(x), Length: x.Len, Unlimited: x.Unlimited}
			if co, ok := c.Axes[x]; ok {
				di.Axis = string(co.Axis)
			}
			out = append(out, di)
		}
	})
	return out
}

// Describe reads a file's structure and coordinate ranges.
func Describe(src ncmodel.Source) (*Description, error) {
	f := src.File()
	d := &Description{Path: f.Path, Format: string(f.Format), Attributes: map[string]any{}}
	f.Root.Walk(func(g *ncmodel.Group) {
		if g.Parent != nil {
			d.Groups = append(d.Groups, g.Path())
		}
	})
	c := FindCoords(f)
	d.Dimensions = describeDims(f, c)
	for _, a := range f.Root.Attrs {
		if a.Type == ncmodel.Char {
			d.Attributes[a.Name] = a.Text()
		} else if vals := a.Float64s(); len(vals) == 1 && !math.IsNaN(vals[0]) && !math.IsInf(vals[0], 0) {
			d.Attributes[a.Name] = vals[0]
		} else {
			d.Attributes[a.Name] = a.Value
		}
	}
	for _, v := range f.Vars() {
		vi := VarInfo{Name: varName(v), Type: v.Type.String(), Shape: v.Shape(), Units: v.AttrString("units"),
			StandardName: v.AttrString("standard_name"), LongName: v.AttrString("long_name"), Coordinate: v.IsCoordinate()}
		vi.Dimensions = []string{}
		for _, x := range v.Dims {
			vi.Dimensions = append(vi.Dimensions, x.Name)
		}
		d.Variables = append(d.Variables, vi)
	}
	for _, g := range c.Grids {
		d.Grids = append(d.Grids, GridInfo{Kind: string(g.Kind), Lat: varName(g.Lat), Lon: varName(g.Lon)})
	}
	for x, co := range c.Axes {
		d.Axes = append(d.Axes, AxisInfo{Axis: string(co.Axis), Variable: varName(co.Var), Dimension: DimName(x), Length: x.Len})
	}
	sort.Slice(d.Axes, func(i, j int) bool {
		if d.Axes[i].Axis != d.Axes[j].Axis {
			return d.Axes[i].Axis < d.Axes[j].Axis
		}
		return d.Axes[i].Variable < d.Axes[j].Variable
	})
	if len(c.Grids) > 0 {
		g := c.Grids[0]
		lat, err1 := CoordValues(src, g.Lat)
		lon, err2 := CoordValues(src, g.Lon)
		if err1 == nil && err2 == nil {
			la0, la1 := minMax(lat)
			lo0, lo1 := minMax(lon)
			if !math.IsNaN(la0) && !math.IsNaN(lo0) {
				d.Extent = &Extent{LatMin: la0, LatMax: la1, LonMin: lo0, LonMax: lo1}
			}
		}
	}
	if tv := c.MainTime(f); tv != nil {
		d.Time = describeTime(src, tv)
	}
	return d, nil
}

// describeTime decodes the coverage of a time coordinate.
func describeTime(src ncmodel.Source, tv *ncmodel.Var) *TimeCoverage {
	cal := "standard"
	if a, ok := tv.Attr("calendar"); ok {
		cal = a.Text()
	}
	tc := &TimeCoverage{Steps: tv.Dims[0].Len, Units: tv.AttrString("units"), Calendar: cal}
	u, err := TimeAxis(tv)
	if err != nil {
		tc.Error = err.Error()
		return tc
	}
	vals, err := CoordValues(src, tv)
	if err != nil {
		tc.Error = err.Error()
		return tc
	}
	lo, hi := minMax(vals)
	if math.IsNaN(lo) {
		return tc
	}
	a, err := u.Decode(lo)
	if err != nil {
		tc.Error = err.Error()
		return tc
	}
	b, err := u.Decode(hi)
	if err != nil {
		tc.Error = err.Error()
		return tc
	}
	tc.Start, tc.End = a.String(), b.String()
	return tc
}
