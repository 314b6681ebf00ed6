package engine

import (
	"math"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/regions"
)

// landGrid is a 1° grid (centres -9.5..9.5 in lat and lon) whose sst is
// fill (or NaN, or missing_value) west of longitude 0 and north of 5°N:
// "land".
func landGrid(path string, missingAttr string) *nc {
	var attrs []ncmodel.Attr
	landValue := -999.0
	switch missingAttr {
	case "_FillValue":
		attrs = append(attrs, num("_FillValue", ncmodel.Float, -999))
	case "missing_value":
		attrs = append(attrs, num("missing_value", ncmodel.Float, -1, -999))
	case "NaN":
		landValue = math.NaN()
	}
	lat := func(j int) float64 { return -9.5 + float64(j) }
	lon := func(i int) float64 { return -9.5 + float64(i) }
	return newNC(path, ncmodel.FormatNetCDF4).
		dim("time", -2).dim("lat", 20).dim("lon", 20).
		v("time", ncmodel.Double, "time", func(i []int) float64 { return float64(i[0]) }, txt("units", "days since 2000-01-01"), txt("standard_name", "time")).
		v("lat", ncmodel.Float, "lat", func(i []int) float64 { return lat(i[0]) }, txt("units", "degrees_north")).
		v("lon", ncmodel.Float, "lon", func(i []int) float64 { return lon(i[0]) }, txt("units", "degrees_east")).
		v("sst", ncmodel.Float, "time lat lon", func(i []int) float64 {
			if lon(i[2]) < 0 || lat(i[1]) > 5 {
				return landValue
			}
			return 20 + float64(i[1])
		}, append(attrs, txt("units", "degree_Celsius"))...)
}

// A region whose kept cells are all fill is successful, with its file, and
// says so; one with a single value does not. The masked cells of a polygon
// (outside it) do not count as values, whatever the input holds there.
func TestRunAllFillNote(t *testing.T) {
	t.Parallel()
	for _, missing := range []string{"_FillValue", "missing_value", "NaN"} {
		t.Run(missing, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			in := e.put("/data/g.nc", landGrid("/data/g.nc", missing).build())
			req := &Request{Regions: []regions.Fixed{
				bbox("land", -8, -5, -1, 5),
				bbox("coast", -8, -5, 0.6, 5), // one column of ocean: 0.5
				// An L over land whose box holds sea: the sea cells are
				// outside the polygon, masked.
				polygon("inland", [2]float64{-9, -5}, [2]float64{-1, -5}, [2]float64{-1, 6}, [2]float64{5, 6},
					[2]float64{5, 8}, [2]float64{-9, 8}, [2]float64{-9, -5}),
				bbox("sea", 1, -5, 8, 5),
			}}
			res := e.run(t, req, in)
			want := map[string]bool{"land": true, "coast": false, "inland": true, "sea": false}
			for _, r := range res.Regions {
				out := e.out(t, r) // successful with its file, noted or not
				all := r.Message == AllFillNote
				if all != want[r.Name] || r.Files[0].AllFill != want[r.Name] || !all && r.Message != "" {
					t.Errorf("%s: message %q, all_fill %v; want the note: %v", r.Name, r.Message, r.Files[0].AllFill, want[r.Name])
				}
				if lons := values(t, out, "lon"); r.Name == "inland" && lons[len(lons)-1] < 0 {
					t.Fatalf("inland's box %v does not reach the sea: the test tests nothing", lons)
				}
				// Checked independently: the note matches the values written.
				valued := false
				for _, x := range values(t, out, "sst") {
					valued = valued || !math.IsNaN(x) && x != -999 && x != -1 && x < 1e30
				}
				if valued == want[r.Name] {
					t.Errorf("%s: the file holds values: %v, yet the note says all fill: %v", r.Name, valued, want[r.Name])
				}
			}
		})
	}
}

// Granules: a region is noted when every file it got is all fill; a
// region with values in one of its granules is not.
func TestGranulesAllFillNote(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.put("/data/a.nc", landGrid("/data/a.nc", "_FillValue").build())
	b := e.put("/data/b.nc", landGrid("/data/b.nc", "_FillValue").build())
	res := e.run(t, &Request{Regions: []regions.Fixed{bbox("land", -8, -5, -1, 5), bbox("coast", -8, -5, 0.6, 5)}}, a, b)
	for _, r := range res.Regions {
		if r.Status != StatusSuccessful || len(r.Files) != 2 {
			t.Fatalf("%s: %s %q, %d files", r.Name, r.Status, r.Message, len(r.Files))
		}
		if got, want := r.Message == AllFillNote, r.Name == "land"; got != want || strings.Contains(r.Message, "; ") {
			t.Errorf("%s: message %q", r.Name, r.Message)
		}
	}
}
