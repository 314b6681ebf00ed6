package ncmodeltest

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/subsetd/subsetd/ncmodel"
)

// Sizes of the sample's dimensions. time and obs are unlimited; these are
// the lengths after every write.
const (
	nTime  = 5
	nLat   = 4
	nLon   = 6
	nChar  = 8
	nDepth = 3
	nObs   = 7
)

// classicModel reports whether netCDF-C applies the netCDF-3 data model to
// the format (netcdf4_classic included).
func classicModel(f ncmodel.Format) bool {
	return f.IsNetCDF3() || f == ncmodel.FormatNetCDF4Classic
}

// numericTypes lists the numeric types a format can hold. CDF-5
// (64bit_data) has the unsigned and 64-bit integers; the other netCDF-3
// formats and netcdf4_classic only the six classic types.
func numericTypes(f ncmodel.Format) []ncmodel.Type {
	classic := []ncmodel.Type{ncmodel.Byte, ncmodel.Short, ncmodel.Int, ncmodel.Float, ncmodel.Double}
	if classicModel(f) && f != ncmodel.Format64BitData {
		return classic
	}
	return append(classic, ncmodel.UByte, ncmodel.UShort, ncmodel.UInt, ncmodel.Int64, ncmodel.UInt64)
}

func text(name, value string) ncmodel.Attr {
	return ncmodel.Attr{Name: name, Type: ncmodel.Char, Value: value}
}

// typedAttrs returns, for each numeric type, a three-value attribute
// holding the type's extremes, so a reader that narrows or sign-extends
// wrongly shows up.
func typedAttrs(types []ncmodel.Type) []ncmodel.Attr {
	var out []ncmodel.Attr
	for _, t := range types {
		a := ncmodel.Attr{Name: "att_" + t.String(), Type: t}
		switch t {
		case ncmodel.Byte:
			a.Value = []int8{math.MinInt8, 0, math.MaxInt8}
		case ncmodel.Short:
			a.Value = []int16{math.MinInt16, -1, math.MaxInt16}
		case ncmodel.Int:
			a.Value = []int32{math.MinInt32, 7, math.MaxInt32}
		case ncmodel.Float:
			a.Value = []float32{-math.MaxFloat32, 0.1, math.SmallestNonzeroFloat32}
		case ncmodel.Double:
			a.Value = []float64{-math.MaxFloat64, 0.1, math.SmallestNonzeroFloat64}
		case ncmodel.UByte:
			a.Value = []uint8{0, 128, math.MaxUint8}
		case ncmodel.UShort:
			a.Value = []uint16{0, 40000, math.MaxUint16}
		case ncmodel.UInt:
			a.Value = []uint32{0, 3000000000, math.MaxUint32}
		case ncmodel.Int64:
			a.Value = []int64{math.MinInt64, 1 << 53, math.MaxInt64}
		case ncmodel.UInt64:
			a.Value = []uint64{0, 1<<63 + 1, math.MaxUint64}
		}
		out = append(out, a)
	}
	return out
}

// fillAttr is a _FillValue of the variable's own type, as netCDF-C requires.
func fillAttr(t ncmodel.Type) ncmodel.Attr {
	a := ncmodel.Attr{Name: "_FillValue", Type: t}
	switch t {
	case ncmodel.Byte:
		a.Value = []int8{-128}
	case ncmodel.Short:
		a.Value = []int16{-32767}
	case ncmodel.Int:
		a.Value = []int32{-999999}
	case ncmodel.Float:
		a.Value = []float32{-999}
	case ncmodel.Double:
		a.Value = []float64{-1e30}
	case ncmodel.UByte:
		a.Value = []uint8{255}
	case ncmodel.UShort:
		a.Value = []uint16{65535}
	case ncmodel.UInt:
		a.Value = []uint32{4294967295}
	case ncmodel.Int64:
		a.Value = []int64{-9223372036854775806}
	case ncmodel.UInt64:
		a.Value = []uint64{18446744073709551614}
	}
	return a
}

// sampleFile describes the file the round trip writes: CF-like root
// coordinates with an unlimited time, one (time, lat, lon) variable per
// numeric type of the format, a fixed 2-D variable, a Char variable, a
// scalar with attributes of every type and, for netCDF-4, strings, nested
// groups using their ancestors' dimensions and a second unlimited
// dimension. Unlimited dimensions carry their final lengths.
func sampleFile(format ncmodel.Format) *ncmodel.File {
	types := numericTypes(format)
	nc4 := !classicModel(format)

	root := &ncmodel.Group{}
	time := &ncmodel.Dim{Name: "time", Len: nTime, Unlimited: true, Group: root}
	lat := &ncmodel.Dim{Name: "lat", Len: nLat, Group: root}
	lon := &ncmodel.Dim{Name: "lon", Len: nLon, Group: root}
	nchar := &ncmodel.Dim{Name: "nchar", Len: nChar, Group: root}
	root.Dims = []*ncmodel.Dim{time, lat, lon, nchar}

	root.Attrs = []ncmodel.Attr{
		text("Conventions", "CF-1.8"),
		text("title", "readertest sample"),
		text("comment", ""),
		{Name: "att_special", Type: ncmodel.Double, Value: []float64{math.NaN(), math.Inf(1), math.Inf(-1), -1.5}},
	}
	root.Attrs = append(root.Attrs, typedAttrs(types)...)
	if nc4 {
		root.Attrs = append(root.Attrs, ncmodel.Attr{Name: "keywords", Type: ncmodel.String, Value: []string{"alpha", "beta with spaces", "ünïcødé"}})
	}

	add := func(g *ncmodel.Group, name string, t ncmodel.Type, dims []*ncmodel.Dim, attrs ...ncmodel.Attr) *ncmodel.Var {
		v := &ncmodel.Var{Name: name, Type: t, Dims: dims, Group: g, Attrs: attrs}
		g.Vars = append(g.Vars, v)
		return v
	}
	add(root, "time", ncmodel.Double, []*ncmodel.Dim{time},
		text("standard_name", "time"), text("units", "days since 2000-01-01 00:00:00"),
		text("calendar", "standard"), text("axis", "T"))
	add(root, "lat", ncmodel.Float, []*ncmodel.Dim{lat},
		text("standard_name", "latitude"), text("units", "degrees_north"), text("axis", "Y"))
	add(root, "lon", ncmodel.Double, []*ncmodel.Dim{lon},
		text("standard_name", "longitude"), text("units", "degrees_east"), text("axis", "X"))
	for _, t := range types {
		attrs := []ncmodel.Attr{text("long_name", "values of type "+t.String()), text("units", "1")}
		switch t {
		case ncmodel.Short:
			attrs = append(attrs, fillAttr(t),
				ncmodel.Attr{Name: "missing_value", Type: t, Value: []int16{-32767}},
				ncmodel.Attr{Name: "scale_factor", Type: ncmodel.Float, Value: []float32{0.01}},
				ncmodel.Attr{Name: "add_offset", Type: ncmodel.Float, Value: []float32{20}})
		case ncmodel.Byte:
			attrs = append(attrs, fillAttr(t),
				ncmodel.Attr{Name: "scale_factor", Type: ncmodel.Double, Value: []float64{0.5}},
				ncmodel.Attr{Name: "add_offset", Type: ncmodel.Double, Value: []float64{-3}})
		case ncmodel.Float, ncmodel.Int64, ncmodel.UByte:
			attrs = append(attrs, fillAttr(t))
		}
		add(root, "v_"+t.String(), t, []*ncmodel.Dim{time, lat, lon}, attrs...)
	}
	add(root, "grid", ncmodel.Int, []*ncmodel.Dim{lat, lon}, text("long_name", "fixed-size 2-D"), fillAttr(ncmodel.Int))
	add(root, "name", ncmodel.Char, []*ncmodel.Dim{lat, nchar}, text("long_name", "station name"))
	crs := add(root, "crs", ncmodel.Int, nil,
		text("grid_mapping_name", "latitude_longitude"),
		ncmodel.Attr{Name: "semi_major_axis", Type: ncmodel.Double, Value: []float64{6378137}},
		ncmodel.Attr{Name: "inverse_flattening", Type: ncmodel.Double, Value: []float64{298.257223563}})
	crs.Attrs = append(crs.Attrs, typedAttrs(types)...)

	if nc4 {
		add(root, "label", ncmodel.String, []*ncmodel.Dim{lat}, text("long_name", "labels"))

		ocean := &ncmodel.Group{Name: "ocean", Parent: root, Attrs: []ncmodel.Attr{
			text("comment", "child group"),
			{Name: "sources", Type: ncmodel.String, Value: []string{"buoy", "ship"}},
			{Name: "version", Type: ncmodel.UInt, Value: []uint32{2, 1}},
		}}
		root.Groups = []*ncmodel.Group{ocean}
		depth := &ncmodel.Dim{Name: "depth", Len: nDepth, Group: ocean}
		obs := &ncmodel.Dim{Name: "obs", Len: nObs, Unlimited: true, Group: ocean}
		ocean.Dims = []*ncmodel.Dim{depth, obs}
		add(ocean, "depth", ncmodel.Double, []*ncmodel.Dim{depth},
			text("standard_name", "depth"), text("units", "m"), text("positive", "down"), text("axis", "Z"))
		add(ocean, "temp", ncmodel.Float, []*ncmodel.Dim{time, depth, lat, lon},
			text("standard_name", "sea_water_temperature"), text("units", "K"), fillAttr(ncmodel.Float))
		add(ocean, "track", ncmodel.Int64, []*ncmodel.Dim{obs}, text("long_name", "second unlimited dimension"))

		surface := &ncmodel.Group{Name: "surface", Parent: ocean, Attrs: []ncmodel.Attr{text("comment", "grandchild group")}}
		ocean.Groups = []*ncmodel.Group{surface}
		add(surface, "wind", ncmodel.UShort, []*ncmodel.Dim{time, lat, lon}, text("units", "cm s-1"))
		add(surface, "level", ncmodel.Double, []*ncmodel.Dim{depth}, text("units", "m"))
	}
	return &ncmodel.File{Format: format, Root: root}
}

// seedOf makes each variable's values differ from every other's, so a
// reader that mixes variables up is caught.
func seedOf(v *ncmodel.Var) int {
	s := 0
	for _, c := range v.Path() {
		s = s*31 + int(c)
	}
	return s & 0xffff
}

// put stores value number n of variable v (its C-order position in the
// whole variable) at position k of a. Each type sweeps its whole range,
// and floats include NaN, infinities, denormals, -0 and the fill value.
func put(a *ncmodel.Array, k int, v *ncmodel.Var, n int) {
	seed := seedOf(v)
	u := uint64(n)*0x9E3779B97F4A7C15 + uint64(seed)*0xBF58476D1CE4E5B9
	if v.Type == ncmodel.String {
		a.Strings[k] = fmt.Sprintf("%s %d %s", v.Name, n, []string{"ascii", "ünïcødé", "tab\there"}[n%3])
		return
	}
	b := a.Data[k*v.Type.Size():]
	ne := binary.NativeEndian
	switch v.Type {
	case ncmodel.Byte, ncmodel.UByte:
		b[0] = byte(u >> 56)
	case ncmodel.Char:
		b[0] = byte('a' + (n+seed)%26)
	case ncmodel.Short, ncmodel.UShort:
		ne.PutUint16(b, uint16(u>>48))
	case ncmodel.Int, ncmodel.UInt:
		ne.PutUint32(b, uint32(u>>32))
	case ncmodel.Int64, ncmodel.UInt64:
		ne.PutUint64(b, u)
	case ncmodel.Float:
		ne.PutUint32(b, math.Float32bits(float32(floatValue(v, n))))
	case ncmodel.Double:
		ne.PutUint64(b, math.Float64bits(floatValue(v, n)))
	}
}

func floatValue(v *ncmodel.Var, n int) float64 {
	switch v.Path() {
	case "/time":
		return float64(n) + 0.5
	case "/lat":
		return -60 + 40*float64(n)
	case "/lon":
		return -150 + 60*float64(n)
	}
	switch {
	case n == 1 && v.Type == ncmodel.Float:
		return math.MaxFloat32
	case n == 1:
		return math.MaxFloat64
	case n == 2 && v.Type == ncmodel.Float:
		return math.SmallestNonzeroFloat32
	case n == 2:
		return math.Copysign(0, -1)
	case n == 3:
		return math.Inf(-1)
	case n%11 == 5:
		return math.NaN()
	case n%13 == 7 && v.Type == ncmodel.Float:
		return -999 // the _FillValue: written values may equal it
	}
	return float64(n)*0.25 - float64(seedOf(v)%100)
}

// whole returns every value of v at its final shape.
func whole(v *ncmodel.Var) *ncmodel.Array {
	a := ncmodel.NewArray(v.Type, v.Shape())
	for n := range a.Len() {
		put(a, n, v, n)
	}
	return a
}

// expected computes the hyperslab start/count/stride of v straight from
// the generator, independently of any implementation's slab code.
func expected(v *ncmodel.Var, start, count, stride []int) *ncmodel.Array {
	shape := v.Shape()
	a := ncmodel.NewArray(v.Type, count)
	idx := make([]int, len(count))
	for k := range a.Len() {
		rem := k
		for d := len(count) - 1; d >= 0; d-- {
			idx[d] = rem % count[d]
			rem /= count[d]
		}
		n := 0
		for d := range shape {
			st := 1
			if stride != nil {
				st = stride[d]
			}
			n = n*shape[d] + start[d] + idx[d]*st
		}
		put(a, k, v, n)
	}
	return a
}
