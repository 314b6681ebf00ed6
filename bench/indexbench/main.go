package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"time"

	"github.com/subsetd/subsetd/catalog/index"
	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/regions"
)

// Each granule is a 20 x 20 grid at 0.25° (a 4.75° box) anywhere on the
// globe, one time step somewhere in 2015..2024.
const (
	side  = 20
	step  = 0.25
	years = 10
)

var epoch = time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: indexbench gen|query|fill [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "query":
		err = query(os.Args[2:])
	case "fill":
		err = fill(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "indexbench:", err)
		os.Exit(1)
	}
}

// granule is where and when one generated file lies.
type granule struct {
	lat0, lon0 float64 // first row and column; lon0 in 0..360 or -180..180
	hours      float64 // since epoch
}

func randomGranule(rng *rand.Rand) granule {
	g := granule{lat0: -85 + rng.Float64()*(170-side*step), hours: float64(rng.IntN(years * 365 * 24))}
	if rng.IntN(2) == 0 {
		g.lon0 = rng.Float64() * 360 // 0..360 data, some across the antimeridian
	} else {
		g.lon0 = -180 + rng.Float64()*(360-side*step)
	}
	return g
}

func (g granule) axes() (lat, lon []float64) {
	for k := 0; k < side; k++ {
		lat = append(lat, g.lat0+float64(k)*step)
		lon = append(lon, g.lon0+float64(k)*step)
	}
	return lat, lon
}

const templateCDL = `netcdf granule {
dimensions:
	time = 1 ;
	lat = %d ;
	lon = %d ;
variables:
	double time(time) ;
		time:units = "hours since 2015-01-01 00:00:00" ;
		time:standard_name = "time" ;
	double lat(lat) ;
		lat:units = "degrees_north" ;
	double lon(lon) ;
		lon:units = "degrees_east" ;
	float sst(time, lat, lon) ;
		sst:units = "K" ;
		sst:_FillValue = -999.f ;
data:
	time = 123456.789 ;
	lat = %s ;
	lon = %s ;
	sst = %s ;
}
`

func beFloat64s(v []float64) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, v)
	return b.Bytes()
}

func beFloat32s(v []float32) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, v)
	return b.Bytes()
}

func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	out := fs.String("out", "", "data directory to create")
	n := fs.Int("n", 10000, "files")
	seed := fs.Uint64("seed", 1, "random seed")
	fs.Parse(args)
	if *out == "" {
		return errors.New("gen: -out is required")
	}
	// Template values that cannot occur elsewhere in the file.
	list := func(v []float64) string {
		var b bytes.Buffer
		for i, x := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%.17g", x)
		}
		return b.String()
	}
	tlat, tlon, tsst := make([]float64, side), make([]float64, side), make([]float64, side*side)
	for k := range tlat {
		tlat[k], tlon[k] = 1.0001+float64(k)*0.0137, 2.0003+float64(k)*0.0171
	}
	for k := range tsst {
		tsst[k] = 271.5 + float64(k)*0.125
	}
	tmp, err := os.MkdirTemp("", "indexbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	cdl := filepath.Join(tmp, "t.cdl")
	os.WriteFile(cdl, []byte(fmt.Sprintf(templateCDL, side, side, list(tlat), list(tlon), list(tsst))), 0o644)
	tpl := filepath.Join(tmp, "t.nc")
	if b, err := exec.Command("ncgen", "-k", "classic", "-o", tpl, cdl).CombinedOutput(); err != nil {
		return fmt.Errorf("ncgen: %v: %s", err, b)
	}
	base, err := os.ReadFile(tpl)
	if err != nil {
		return err
	}
	sst32 := make([]float32, len(tsst))
	for k, x := range tsst {
		sst32[k] = float32(x)
	}
	find := func(what string, b []byte) (int, error) {
		i := bytes.Index(base, b)
		if i < 0 || bytes.Contains(base[i+1:], b) {
			return 0, fmt.Errorf("template: cannot place %s", what)
		}
		return i, nil
	}
	offLat, err1 := find("lat", beFloat64s(tlat))
	offLon, err2 := find("lon", beFloat64s(tlon))
	offTime, err3 := find("time", beFloat64s([]float64{123456.789}))
	offSST, err4 := find("sst", beFloat32s(sst32))
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(*seed, 2))
	t0 := time.Now()
	buf := make([]byte, len(base))
	vals := make([]float32, side*side)
	for i := 0; i < *n; i++ {
		g := randomGranule(rng)
		lat, lon := g.axes()
		copy(buf, base)
		copy(buf[offLat:], beFloat64s(lat))
		copy(buf[offLon:], beFloat64s(lon))
		copy(buf[offTime:], beFloat64s([]float64{g.hours}))
		for k := range vals {
			vals[k] = 270 + 30*rng.Float32()
		}
		copy(buf[offSST:], beFloat32s(vals))
		year := epoch.Add(time.Duration(g.hours) * time.Hour).Year()
		p := filepath.Join(*out, "granules", fmt.Sprint(year), fmt.Sprintf("g%06d.nc", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			return err
		}
	}
	fmt.Printf("generated %d files of %d bytes in %s\n", *n, len(base), time.Since(t0).Round(time.Millisecond))
	return nil
}

// fill adds synthetic rows (granules like gen's) until the dataset has
// total files.
func fill(args []string) error {
	fs := flag.NewFlagSet("fill", flag.ExitOnError)
	state := fs.String("state", "", "state directory")
	dataset := fs.String("dataset", "granules", "dataset")
	total := fs.Int("total", 100000, "files wanted in the dataset")
	seed := fs.Uint64("seed", 2, "random seed")
	fs.Parse(args)
	ctx := context.Background()
	s, err := index.Open(ctx, *state)
	if err != nil {
		return err
	}
	defer s.Close()
	_, have, err := s.Search(ctx, *dataset, nil, nil, nil, 1, 0)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(*seed, 3))
	t0 := time.Now()
	var batch []index.Entry
	for i := have; i < *total; i++ {
		batch = append(batch, synthetic(rng, *dataset, i))
		if len(batch) == 1000 || i == *total-1 {
			if err := s.Put(ctx, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	fmt.Printf("added %d synthetic rows (no files: written through index.Store.Put) in %s: %d files in %q\n",
		max(0, *total-have), time.Since(t0).Round(time.Millisecond), max(have, *total), *dataset)
	return nil
}

// synthetic is the index entry of a granule like gen's, without a file.
func synthetic(rng *rand.Rand, dataset string, i int) index.Entry {
	g := randomGranule(rng)
	lat, lon := g.axes()
	start := epoch.Add(time.Duration(g.hours) * time.Hour).Format(time.RFC3339)
	d := &engine.Description{Format: "classic",
		Dimensions: []engine.DimInfo{{Name: "time", Length: 1}, {Name: "lat", Length: side}, {Name: "lon", Length: side}},
		Variables: []engine.VarInfo{
			{Name: "time", Type: "double", Dimensions: []string{"time"}, Shape: []int{1}},
			{Name: "lat", Type: "double", Dimensions: []string{"lat"}, Shape: []int{side}},
			{Name: "lon", Type: "double", Dimensions: []string{"lon"}, Shape: []int{side}},
			{Name: "sst", Type: "float", Dimensions: []string{"time", "lat", "lon"}, Shape: []int{1, side, side}}},
		Grids: []engine.GridInfo{{Kind: "rectilinear", Lat: "lat", Lon: "lon"}},
		Axes:  []engine.AxisInfo{{Axis: "time", Variable: "time", Dimension: "time", Length: 1}},
		Time:  &engine.TimeCoverage{Start: start, End: start, Steps: 1, Units: "hours since 2015-01-01 00:00:00", Calendar: "standard"},
	}
	rec := index.Record{Description: d, Geo: index.GeoOf([]index.GridCoords{{Kind: "rectilinear", Lat: lat, Lon: lon}})}
	return index.Entry{Dataset: dataset, Path: fmt.Sprintf("%s/synthetic/s%07d.nc", dataset, i), Size: 3000,
		ModTime: time.Unix(1700000000, 0), Record: rec}
}

// query measures Search latency: boxes of 10° x 10° with 30 days (few
// files), and 40° x 30° with a year, first page of 100 (many files).
func query(args []string) error {
	fs := flag.NewFlagSet("query", flag.ExitOnError)
	state := fs.String("state", "", "state directory")
	dataset := fs.String("dataset", "granules", "dataset")
	n := fs.Int("n", 2000, "searches of each kind")
	label := fs.String("label", "", "printed before the figures")
	fs.Parse(args)
	ctx := context.Background()
	s, err := index.Open(ctx, *state)
	if err != nil {
		return err
	}
	defer s.Close()
	_, files, err := s.Search(ctx, *dataset, nil, nil, nil, 1, 0)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(9, 9))
	for _, k := range []struct {
		name      string
		w, h      float64
		days      int
		limit     int
		crossings bool
	}{
		{"10°x10°, 30 days", 10, 10, 30, 0, false},
		{"10°x10° across the antimeridian, 30 days", 10, 10, 30, 0, true},
		{"40°x30°, 1 year, first 100", 40, 30, 365, 100, false},
	} {
		var lat []time.Duration
		hits := 0
		for i := 0; i < *n; i++ {
			w := -180 + rng.Float64()*360
			if k.crossings {
				w = 175 + rng.Float64()*5
			}
			so := -80 + rng.Float64()*(160-k.h)
			b := regions.BBox{West: w, South: so, East: w + k.w, North: so + k.h}
			if b.East > 180 {
				b.East -= 360
			}
			t0 := epoch.Add(time.Duration(rng.IntN(years*365-k.days)) * 24 * time.Hour)
			t1 := t0.Add(time.Duration(k.days) * 24 * time.Hour)
			start := time.Now()
			_, total, err := s.Search(ctx, *dataset, &b, &t0, &t1, k.limit, 0)
			lat = append(lat, time.Since(start))
			if err != nil {
				return err
			}
			hits += total
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		p := func(q float64) string {
			return fmt.Sprintf("%.2f ms", float64(lat[int(math.Min(float64(len(lat)-1), q*float64(len(lat))))].Microseconds())/1000)
		}
		fmt.Printf("%s%d files, %s: p50 %s, p99 %s, max %s (%d searches, %.1f matching files on average)\n",
			*label, files, k.name, p(0.50), p(0.99), p(1), len(lat), float64(hits)/float64(len(lat)))
	}
	return nil
}
