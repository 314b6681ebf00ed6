package index

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/subsetd/subsetd/regions"
)

// benchStores are filled once per size and process: 100k rows take seconds.
var (
	benchMu     sync.Mutex
	benchStores = map[int]*Store{}
	benchDir    string
)

// benchGranule is a 20 x 20 grid at 0.25° anywhere, one step in 2015..2024
// (as bench/index.sh generates).
func benchGranule(rng *rand.Rand, i int) Entry {
	lat0 := -85 + rng.Float64()*165
	lon0 := rng.Float64() * 360
	var lat, lon []float64
	for k := 0; k < 20; k++ {
		lat, lon = append(lat, lat0+float64(k)/4), append(lon, lon0+float64(k)/4)
	}
	t0 := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(10*365*24)) * time.Hour)
	return Entry{Dataset: "granules", Path: fmt.Sprintf("granules/g%07d.nc", i), Size: 3000, ModTime: t0,
		Record: Record{Description: describe([]string{"sst"}, 20, 20, &t0, 1, time.Hour),
			Geo: GeoOf([]GridCoords{{Kind: "rectilinear", Lat: lat, Lon: lon}})}}
}

func benchStore(b *testing.B, n int) *Store {
	benchMu.Lock()
	defer benchMu.Unlock()
	if s := benchStores[n]; s != nil {
		return s
	}
	if benchDir == "" {
		dir, err := os.MkdirTemp("", "index-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchDir = dir
	}
	ctx := context.Background()
	s, err := OpenFile(ctx, filepath.Join(benchDir, fmt.Sprintf("%d.db", n)))
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	var batch []Entry
	for i := 0; i < n; i++ {
		batch = append(batch, benchGranule(rng, i))
		if len(batch) == 1000 {
			if err := s.Put(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := s.Put(ctx, batch); err != nil {
		b.Fatal(err)
	}
	benchStores[n] = s
	return s
}

// BenchmarkSearch: a 10° x 10° box and 30 days (a few files), and a 40° x
// 30° box and a year (hundreds, first page of 100), at 10k and 100k files.
func BenchmarkSearch(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		for _, q := range []struct {
			name  string
			w, h  float64
			days  int
			limit int
		}{{"10x10deg-30days", 10, 10, 30, 0}, {"40x30deg-1year-page100", 40, 30, 365, 100}} {
			b.Run(fmt.Sprintf("files=%d/%s", n, q.name), func(b *testing.B) {
				s := benchStore(b, n)
				rng := rand.New(rand.NewPCG(5, 5))
				ctx := context.Background()
				found := 0
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					w, so := -180+rng.Float64()*360, -80+rng.Float64()*(160-q.h)
					box := regions.BBox{West: w, South: so, East: w + q.w, North: so + q.h}
					t0 := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(3650-q.days))
					t1 := t0.AddDate(0, 0, q.days)
					_, total, err := s.Search(ctx, "granules", &box, &t0, &t1, q.limit, 0)
					if err != nil {
						b.Fatal(err)
					}
					found += total
				}
				b.ReportMetric(float64(found)/float64(b.N), "files/op")
			})
		}
	}
}
