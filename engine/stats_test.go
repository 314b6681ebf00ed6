package engine

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/regions"
)

// onePass computes the statistics of values and weights directly: the
// definition the moments must agree with however they are split.
func onePass(xs, ws []float64) (n int, mean, std, lo, hi, sum float64) {
	var sw, swx float64
	lo, hi = math.Inf(1), math.Inf(-1)
	for i, x := range xs {
		n++
		sw += ws[i]
		swx += ws[i] * x
		sum += x
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	mean = swx / sw
	var m2 float64
	for i, x := range xs {
		m2 += ws[i] * (x - mean) * (x - mean)
	}
	return n, mean, math.Sqrt(m2 / sw), lo, hi, sum
}

func TestMomentsMergeAnySplit(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 50 {
		n := 1 + r.IntN(500)
		xs, ws := make([]float64, n), make([]float64, n)
		for i := range xs {
			xs[i] = 1e4 + 3*r.NormFloat64() // a large mean: cancellation would show
			ws[i] = r.Float64()
		}
		ra := &regionAcc{run: &statsRun{needM2: true}, xs: make([]float64, n)}
		var m Moments
		for i := 0; i < n; {
			k := min(n, i+1+r.IntN(40))
			ra.addRow(&m, xs[i:k], append([]float64(nil), ws[i:k]...))
			i = k
		}
		// Moments that went through JSON merge the same.
		b, _ := json.Marshal(m)
		var back Moments
		if err := json.Unmarshal(b, &back); err != nil || back != m {
			t.Fatalf("JSON round trip: %v %+v %+v", err, back, m)
		}
		cnt, mean, std, lo, hi, sum := onePass(xs, ws)
		for op, want := range map[string]float64{OpCount: float64(cnt), OpMean: mean, OpStd: std, OpMin: lo, OpMax: hi, OpSum: sum} {
			got, ok := m.Value(op)
			if !ok || math.Abs(got-want) > 1e-12*math.Abs(want) {
				t.Fatalf("trial %d, %d values: %s %.17g, want %.17g", trial, n, op, got, want)
			}
		}
	}
}

func TestMomentsEmpty(t *testing.T) {
	var m Moments
	for _, op := range []string{OpMean, OpStd, OpMin, OpMax, OpSum} {
		if _, ok := m.Value(op); ok {
			t.Errorf("%s of no cell has a value", op)
		}
	}
	if c, ok := m.Value(OpCount); !ok || c != 0 {
		t.Errorf("count %v %v", c, ok)
	}
	if b, _ := json.Marshal(m); string(b) != "[0]" {
		t.Errorf("%s", b)
	}
	// Cells without weight: a count, extremes and a sum, no mean.
	ra := &regionAcc{run: &statsRun{needM2: true}, xs: make([]float64, 2)}
	ra.addRow(&m, []float64{1, 3}, []float64{0, 0})
	if _, ok := m.Value(OpMean); ok || m.N != 2 {
		t.Errorf("weightless cells: %+v", m)
	}
}

func TestStatsTableMerge(t *testing.T) {
	one := func(x float64) []Moments {
		var m Moments
		ra := &regionAcc{run: &statsRun{needM2: true}, xs: make([]float64, 1)}
		ra.addRow(&m, []float64{x}, []float64{1})
		return []Moments{m}
	}
	cat := func(ms ...[]Moments) []Moments {
		var out []Moments
		for _, m := range ms {
			out = append(out, m...)
		}
		return out
	}
	a := &StatsTable{Ops: []string{OpMean}, Weights: WeightsArea,
		Time:    &StatsTime{Units: "days since 2020-01-01", Values: []float64{0, 2}, ISO: []string{"2020-01-01T00:00:00Z", "2020-01-03T00:00:00Z"}},
		Vars:    []StatsVar{{Name: "sst", Time: true, Weighting: "x"}},
		Regions: []RegionStats{{Name: "r1", Moments: [][]Moments{cat(one(1), one(3))}}}}
	// Another file in other units: a step of a's, one between, one after;
	// a region of its own.
	b := &StatsTable{Ops: []string{OpMean}, Weights: WeightsArea,
		Time: &StatsTime{Units: "hours since 2020-01-02", Values: []float64{24, 0, 48}, ISO: []string{"2020-01-03T00:00:00Z", "2020-01-02T00:00:00Z", "2020-01-04T00:00:00Z"}},
		Vars: []StatsVar{{Name: "sst", Time: true, Weighting: "y"}},
		Regions: []RegionStats{
			{Name: "r1", Moments: [][]Moments{cat(one(5), one(7), one(9))}},
			{Name: "r2", Masked: true, Moments: [][]Moments{cat(one(10), one(20), one(30))}},
		}}
	tab := NewStatsTable(&Statistics{}, []RegionStats{{Name: "r2"}, {Name: "r1"}})
	for _, x := range []*StatsTable{a, b} {
		if err := tab.Merge(x); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(tab.Time.ISO, " "); got != "2020-01-01T00:00:00Z 2020-01-02T00:00:00Z 2020-01-03T00:00:00Z 2020-01-04T00:00:00Z" {
		t.Fatalf("time axis %s", got)
	}
	if got := tab.Time.Values; got[1] != 1 || got[3] != 3 || tab.Time.Units != "days since 2020-01-01" {
		t.Errorf("values rebased to the first table's units: %v %s", got, tab.Time.Units)
	}
	if tab.Vars[0].Weighting != "x; y" {
		t.Errorf("weighting %q", tab.Vars[0].Weighting)
	}
	want := map[string][]string{ // region -> mean per step ("-": none)
		"r1": {"1", "7", "4", "9"}, // 3 and 5 at 2020-01-03 merge
		"r2": {"-", "20", "10", "30"},
	}
	rows := tab.Rows()
	if len(rows) != 8 || rows[0].Region != "r2" {
		t.Fatalf("rows in the table's region order: %+v", rows)
	}
	for _, r := range rows {
		i := strings.Index(strings.Join(tab.Time.ISO, ","), r.Time) / len("2020-01-01T00:00:00Z,")
		got := "-"
		if r.Value != nil {
			got = FormatStat(*r.Value)
		}
		if got != want[r.Region][i] {
			t.Errorf("%s at %s: %s, want %s", r.Region, r.Time, got, want[r.Region][i])
		}
	}
	if !tab.Regions[0].Masked {
		t.Error("masked is kept")
	}
	// A variable with a time axis in one table and none in another.
	c := &StatsTable{Vars: []StatsVar{{Name: "sst"}}, Regions: []RegionStats{{Name: "r1", Moments: [][]Moments{one(1)}}}}
	if err := tab.Merge(c); err == nil {
		t.Error("merged a variable with and without time")
	}
}

func TestStatisticsValidation(t *testing.T) {
	g := grid{lat0: -10, dlat: 1, nlat: 21, lon0: 0, dlon: 1, nlon: 30, ntime: 2, dt: 1}
	for _, c := range []struct {
		st      Statistics
		regions []regions.Fixed
		field   string
		code    errs.Code
	}{
		{Statistics{Ops: []string{"median"}}, nil, "statistics.ops[0]", errs.Invalid},
		{Statistics{Ops: []string{"mean", "mean"}}, nil, "statistics.ops[1]", errs.Invalid},
		{Statistics{Weights: "cosine"}, nil, "statistics.weights", errs.Invalid},
		{Statistics{Variables: []string{""}}, nil, "statistics.variables[0]", errs.Invalid},
		{Statistics{Variables: []string{"nope"}}, nil, "statistics.variables[0]", errs.NotFound},
		{Statistics{Variables: []string{"lat"}}, nil, "statistics.variables[0]", errs.Invalid},
		{Statistics{}, []regions.Fixed{bbox("Stats", 0, 0, 5, 5)}, "regions[0].name", errs.Invalid},
	} {
		e := newEnv(t)
		in := e.put("/in/g.nc", g.file("/in/g.nc"))
		rs := c.regions
		if rs == nil {
			rs = []regions.Fixed{bbox("a", 0, 0, 5, 5)}
		}
		st := c.st
		_, err := Run(t.Context(), []string{in}, &Request{Regions: rs, Statistics: &st}, e.opt)
		if errs.FieldOf(err) != c.field || errs.CodeOf(err) != c.code {
			t.Errorf("%+v: %v (field %q, code %s), want field %s code %s", c.st, err, errs.FieldOf(err), errs.CodeOf(err), c.field, c.code)
		}
	}
	// Statistics only: no file is written, so a region may be called stats.
	e := newEnv(t)
	in := e.put("/in/g.nc", g.file("/in/g.nc"))
	res := e.run(t, &Request{Regions: []regions.Fixed{bbox("stats", 0, 0, 5, 5)}, Statistics: &Statistics{Only: true}}, in)
	if r := res.Regions[0]; r.Status != StatusSuccessful || !r.Statistics || len(r.Files) != 0 {
		t.Errorf("statistics only: %+v", r)
	}
}

// TestStatsLayouts checks that the statistics do not depend on how a
// variable's dimensions are laid out, nor on whether regions are read
// together: sst(time, lat, lon), sst(lat, lon, time) (every value its
// own accumulator) and sst(lon, lat, time) give the same moments as the
// values computed here from the formula.
func TestStatsLayouts(t *testing.T) {
	g := grid{lat0: -10, dlat: 2, nlat: 11, lon0: 0, dlon: 3, nlon: 40, ntime: 3, dt: 1}
	val := func(k, j, i int) float64 { return sstAt(k, j, i) + 0.25*float64(j*j) }
	regionsOf := []regions.Fixed{bbox("near1", 3, -5, 30, 5), bbox("near2", 6, -3, 33, 7), bbox("far", 90, -9, 110, 9),
		polygon("tri", [2]float64{20.5, -9.5}, [2]float64{60.5, -9.5}, [2]float64{40.5, 9.5})}
	inside := func(r regions.Fixed, lon, lat float64) bool {
		a, _ := r.Resolve("")
		return a.Area.Contains(lon, lat)
	}
	for _, layout := range []struct {
		dims string
		at   func(idx []int) (int, int, int)
	}{
		{"time lat lon", func(x []int) (int, int, int) { return x[0], x[1], x[2] }},
		{"lat lon time", func(x []int) (int, int, int) { return x[2], x[0], x[1] }},
		{"lon lat time", func(x []int) (int, int, int) { return x[2], x[1], x[0] }},
	} {
		e := newEnv(t)
		b := g.nc("/in/g.nc")
		b.f.Root.Vars = b.f.Root.Vars[:3]
		b.funcs = b.funcs[:3]
		at := layout.at
		b.v("sst", ncmodel.Double, layout.dims, func(idx []int) float64 { return val(at(idx)) }, txt("units", "K"))
		in := e.put("/in/g.nc", b.build())
		res := e.run(t, &Request{Regions: regionsOf, Statistics: &Statistics{Ops: []string{OpMean, OpStd, OpSum}, Weights: WeightsNone}}, in)
		for ri, r := range regionsOf {
			ms := res.Stats.Regions[ri].Moments[0]
			for k := 0; k < g.ntime; k++ {
				var xs, ws []float64
				for j := 0; j < g.nlat; j++ {
					for i := 0; i < g.nlon; i++ {
						if inside(r, g.lon(i), g.lat(j)) {
							xs, ws = append(xs, val(k, j, i)), append(ws, 1)
						}
					}
				}
				n, mean, std, _, _, sum := onePass(xs, ws)
				m := ms[k]
				gm, _ := m.Value(OpMean)
				gs, _ := m.Value(OpStd)
				gsum, _ := m.Value(OpSum)
				if int(m.N) != n || math.Abs(gm-mean) > 1e-9*math.Abs(mean) || math.Abs(gs-std) > 1e-9*std || gsum != sum {
					t.Errorf("%s, %s step %d: n %d mean %v std %v sum %v, want %d %v %v %v", layout.dims, r.Name, k, m.N, gm, gs, gsum, n, mean, std, sum)
				}
			}
		}
		e.noTemp(t)
	}
}
