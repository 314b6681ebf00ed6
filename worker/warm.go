package worker

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/regions"
)

// Warm readies a worker started ahead of its task (the pool's warm
// processes, jobs/pool): it writes a small NetCDF-4 file whose variable is
// chunked, shuffled and deflated, cuts a region out of it as a task would
// and removes both. The C libraries are initialised and the code of the
// cut paged in while the process waits, rather than on a small job's
// time (about 10 ms of a 20 ms task measured on a 90 x 180 file). An
// error only costs the task that time: the caller logs it and goes on.
func Warm(env Env) error {
	dir, err := os.MkdirTemp("", "subsetd-warm-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "warm.nc")
	if err := writeWarmFile(in, env); err != nil {
		return fmt.Errorf("warm up: write %s: %w", in, err)
	}
	t := &Task{Files: []string{in}, OutDir: filepath.Join(dir, "out"),
		Regions: []regions.Fixed{{Name: "warm", BBox: []float64{-10, -10, 10, 10}}}}
	res, err := runTask(context.Background(), t, env, func(engine.Progress) {})
	if err != nil {
		return fmt.Errorf("warm up: %w", err)
	}
	if r := res.Regions[0]; r.Status != engine.StatusSuccessful {
		return fmt.Errorf("warm up: region %s: %s", r.Status, r.Message)
	}
	return nil
}

// writeWarmFile writes a 1 x 32 x 64 global grid (lat, lon, time and a
// float32 variable in chunks of 1 x 16 x 32, shuffled and deflated).
func writeWarmFile(path string, env Env) error {
	root := &ncmodel.Group{}
	t := &ncmodel.Dim{Name: "time", Len: 1, Unlimited: true, Group: root}
	lat := &ncmodel.Dim{Name: "lat", Len: 32, Group: root}
	lon := &ncmodel.Dim{Name: "lon", Len: 64, Group: root}
	root.Dims = []*ncmodel.Dim{t, lat, lon}
	str := func(name, v string) ncmodel.Attr { return ncmodel.Attr{Name: name, Type: ncmodel.Char, Value: v} }
	root.Vars = []*ncmodel.Var{
		{Name: "time", Type: ncmodel.Double, Dims: []*ncmodel.Dim{t}, Group: root, Attrs: []ncmodel.Attr{str("units", "days since 2000-01-01"), str("axis", "T")}},
		{Name: "lat", Type: ncmodel.Double, Dims: []*ncmodel.Dim{lat}, Group: root, Attrs: []ncmodel.Attr{str("units", "degrees_north"), str("axis", "Y")}},
		{Name: "lon", Type: ncmodel.Double, Dims: []*ncmodel.Dim{lon}, Group: root, Attrs: []ncmodel.Attr{str("units", "degrees_east"), str("axis", "X")}},
		{Name: "v", Type: ncmodel.Float, Dims: []*ncmodel.Dim{t, lat, lon}, Group: root, Chunks: []int{1, 16, 32}, Deflate: 1, Shuffle: true},
	}
	sink, err := env.Create(path, ncmodel.FormatNetCDF4)
	if err != nil {
		return err
	}
	if err := sink.Define(&ncmodel.File{Path: path, Format: ncmodel.FormatNetCDF4, Root: root}); err != nil {
		sink.Close()
		return err
	}
	axis := func(n int, lo, step float64) *ncmodel.Array {
		a := ncmodel.NewArray(ncmodel.Double, []int{n})
		for i := range n {
			binary.NativeEndian.PutUint64(a.Data[8*i:], math.Float64bits(lo+step*float64(i)))
		}
		return a
	}
	v := ncmodel.NewArray(ncmodel.Float, []int{1, 32, 64})
	for i := range 32 * 64 {
		binary.NativeEndian.PutUint32(v.Data[4*i:], math.Float32bits(float32(i%97)))
	}
	for _, w := range []struct {
		name string
		a    *ncmodel.Array
	}{{"time", axis(1, 0, 1)}, {"lat", axis(32, -87.1875, 5.625)}, {"lon", axis(64, -177.1875, 5.625)}, {"v", v}} {
		if err := sink.Write("/"+w.name, make([]int, len(w.a.Shape)), w.a); err != nil {
			sink.Close()
			return err
		}
	}
	return sink.Close()
}
