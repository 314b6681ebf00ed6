package engine_test

import (
	"context"
	"fmt"
	"os"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/ncmodel/memfile"
	"github.com/subsetd/subsetd/regions"
)

// sstFile is a global grid of 30° cells in memory: longitudes 15..345
// (0..360), six time steps a day apart, sst = 100*lat index + lon index.
func sstFile() *memfile.File {
	text := func(name, v string) ncmodel.Attr { return ncmodel.Attr{Name: name, Type: ncmodel.Char, Value: v} }
	root := &ncmodel.Group{Attrs: []ncmodel.Attr{text("title", "daily SST")}}
	t := &ncmodel.Dim{Name: "time", Len: 6, Unlimited: true, Group: root}
	y := &ncmodel.Dim{Name: "lat", Len: 6, Group: root}
	x := &ncmodel.Dim{Name: "lon", Len: 12, Group: root}
	root.Dims = []*ncmodel.Dim{t, y, x}
	root.Vars = []*ncmodel.Var{
		{Name: "time", Type: ncmodel.Double, Dims: []*ncmodel.Dim{t}, Group: root, Attrs: []ncmodel.Attr{text("units", "days since 2020-01-01")}},
		{Name: "lat", Type: ncmodel.Float, Dims: []*ncmodel.Dim{y}, Group: root, Attrs: []ncmodel.Attr{text("units", "degrees_north")}},
		{Name: "lon", Type: ncmodel.Float, Dims: []*ncmodel.Dim{x}, Group: root, Attrs: []ncmodel.Attr{text("units", "degrees_east")}},
		{Name: "sst", Type: ncmodel.Float, Dims: []*ncmodel.Dim{t, y, x}, Group: root, Attrs: []ncmodel.Attr{text("units", "degC")}},
	}
	f := memfile.New(&ncmodel.File{Path: "/data/sst.nc", Format: ncmodel.FormatNetCDF4, Root: root})
	f.SetFunc("time", func(i []int) float64 { return float64(i[0]) })
	f.SetFunc("lat", func(i []int) float64 { return float64(-75 + 30*i[0]) })
	f.SetFunc("lon", func(i []int) float64 { return float64(15 + 30*i[0]) })
	f.SetFunc("sst", func(i []int) float64 { return float64(100*i[1] + i[2]) })
	return f
}

// Run cuts regions out of files: here a box across the antimeridian out
// of a 0..360 grid, and the cell holding a station (a box reduced to a
// point), for three days, written to and read back from the in-memory file
// store that stands for the disk.
func ExampleRun() {
	var store memfile.Store
	store.Put("/data/sst.nc", sstFile())
	out, err := os.MkdirTemp("", "subsetd-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(out)
	req := &engine.Request{
		Regions: []regions.Fixed{
			{Name: "pacific", BBox: []float64{160, -20, -160, 20}},
			{Name: "station", BBox: []float64{20, 70, 20, 70}},
		},
		Time: &engine.TimeRange{Start: "2020-01-02", End: "2020-01-04"},
	}
	res, err := engine.Run(context.Background(), []string{"/data/sst.nc"}, req, engine.Options{
		OutDir: out, Open: store.Open, Create: store.Create, Files: store.Files(),
	})
	if err != nil {
		panic(err)
	}
	p := res.Regions[0]
	fmt.Println(p.Name, p.Status, p.Files[0].Name, p.Files[0].Shape)
	cut := store.Get(p.Files[0].Path)
	fmt.Println("lon", cut.Data("lon").Float64s())
	fmt.Println("sst", cut.Data("sst").Float64s()[:2])
	st := res.Regions[1]
	fmt.Println(st.Name, st.Status, st.Files[0].Shape, store.Get(st.Files[0].Path).Data("sst").Float64s())
	// Output:
	// pacific successful pacific.nc map[lat:2 lon:2 time:3]
	// lon [165 195]
	// sst [205 206]
	// station successful map[lat:1 lon:1 time:3] [500 500 500]
}

// Describe reads what a file holds: its grids, axes, extent and time
// coverage.
func ExampleDescribe() {
	d, err := engine.Describe(sstFile())
	if err != nil {
		panic(err)
	}
	fmt.Println(d.Grids[0].Kind, d.Grids[0].Lat, d.Grids[0].Lon)
	for _, a := range d.Axes {
		fmt.Println(a.Axis, a.Variable, a.Length)
	}
	fmt.Printf("%+v\n", *d.Extent)
	fmt.Println(d.Time.Start, d.Time.End, d.Time.Steps)
	// Output:
	// rectilinear lat lon
	// lat lat 6
	// lon lon 12
	// time time 6
	// {LatMin:-75 LatMax:75 LonMin:15 LonMax:345}
	// 2020-01-01T00:00:00Z 2020-01-06T00:00:00Z 6
}
