package fakeworker

import (
	"bufio"
	"encoding/json"
	"os"

	"github.com/subsetd/subsetd/catalog/index"
	"github.com/subsetd/subsetd/engine"
)

// InspectArg, as the first argument of a test binary, makes it the fake
// inspector of the index (`subsetd inspect --stdin` without the C readers):
// test binaries call InspectMain from TestMain when they see it.
const InspectArg = "fake-inspect"

// InspectMain answers each path read on standard input with one index
// record of the fake grid (or the error of a "corrupt" file) and exits.
func InspectMain() {
	sc := bufio.NewScanner(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	for sc.Scan() {
		path := sc.Text()
		rec := index.Record{Path: path}
		src, err := open(path)
		if err == nil {
			rec.Description, err = engine.Describe(src)
		}
		if err == nil {
			var grids []index.GridCoords
			for _, g := range engine.FindCoords(src.File()).Grids {
				lat, _ := engine.CoordValues(src, g.Lat)
				lon, _ := engine.CoordValues(src, g.Lon)
				grids = append(grids, index.GridCoords{Kind: string(g.Kind), Lat: lat, Lon: lon, Shape: g.Lat.Shape()})
			}
			rec.Geo = index.GeoOf(grids)
		}
		if err != nil {
			rec = index.Record{Path: path, Error: err.Error()}
		}
		if src != nil {
			src.Close()
		}
		if out.Encode(rec) != nil {
			os.Exit(1)
		}
	}
	os.Exit(0)
}
