package jobs

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/subsetd/subsetd/regions"
)

func box(name string, w, s, e, n float64) regions.Fixed {
	return regions.Fixed{Name: name, BBox: []float64{w, s, e, n}}
}

func TestPlanGroupsNeighbours(t *testing.T) {
	// Two clusters far apart: with 2 workers each cluster is one task.
	rs := []regions.Fixed{
		box("a1", 10, 10, 11, 11), box("b1", -120, -40, -119, -39),
		box("a2", 11, 10, 12, 11), box("b2", -119, -40, -118, -39),
		box("a3", 10, 11, 11, 12), box("b3", -120, -39, -119, -38),
	}
	got := Plan(rs, 2, 8)
	want := [][]int{{1, 3, 5}, {0, 2, 4}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Plan = %v, want %v", got, want)
	}
}

func TestPlanCoversEveryRegionOnce(t *testing.T) {
	var rs []regions.Fixed
	for i := range 14 {
		rs = append(rs, box(fmt.Sprint("r", i), float64(i*20-170), -10, float64(i*20-165), 10))
	}
	for _, c := range []struct{ workers, per, groups int }{{1, 8, 2}, {2, 8, 2}, {4, 8, 4}, {2, 1, 14}, {100, 8, 14}, {0, 0, 14}} {
		got := Plan(rs, c.workers, c.per)
		if len(got) != c.groups {
			t.Errorf("workers %d per %d: %d groups, want %d", c.workers, c.per, len(got), c.groups)
		}
		var all []int
		for _, g := range got {
			if len(g) == 0 {
				t.Errorf("empty group in %v", got)
			}
			if !slices.IsSorted(g) {
				t.Errorf("group %v not in request order", g)
			}
			all = append(all, g...)
		}
		slices.Sort(all)
		for i, v := range all {
			if v != i {
				t.Fatalf("groups %v do not cover 0..13 once", got)
			}
		}
	}
	if Plan(nil, 2, 8) != nil {
		t.Error("Plan(nil) should be nil")
	}
}

func TestPlanBalancesCost(t *testing.T) {
	// One large box and three small ones in a row: by count the large one
	// would share its task; by cost it is a task alone.
	rs := []regions.Fixed{box("a", 0, -1, 8, 1), box("b", 10, -1, 11, 1), box("c", 12, -1, 13, 1), box("d", 14, -1, 15, 1)}
	if got := fmt.Sprint(Plan(rs, 2, 8)); got != "[[0] [1 2 3]]" {
		t.Fatalf("Plan = %s, want [[0] [1 2 3]]", got)
	}
	// The cap holds even when cost would put more in a group.
	if got := fmt.Sprint(Plan(rs, 2, 2)); got != "[[0 1] [2 3]]" {
		t.Fatalf("Plan with 2 per task = %s, want [[0 1] [2 3]]", got)
	}
	// Random boxes: every split is within a little of the best contiguous
	// split of the same order (found by trying every cut).
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		n := 2 + rng.IntN(12)
		rs := make([]regions.Fixed, n)
		for i := range rs {
			w, s := rng.Float64()*300-170, rng.Float64()*140-80
			rs[i] = box(fmt.Sprint(i), w, s, w+0.5+rng.Float64()*20, s+0.5+rng.Float64()*9)
		}
		workers, per := 1+rng.IntN(4), 1+rng.IntN(n)
		got := Plan(rs, workers, per)
		cost := func(g []int) (c float64) {
			for _, i := range g {
				b := rs[i].BBox
				c += (b[2] - b[0]) * (b[3] - b[1])
			}
			return c
		}
		worst, largest := 0.0, 0.0
		for _, g := range got {
			if len(g) > per {
				t.Fatalf("trial %d: group %v over %d regions", trial, g, per)
			}
			worst = max(worst, cost(g))
			for _, i := range g {
				largest = max(largest, cost([]int{i}))
			}
		}
		best := bestSplit(t, rs, got, per, cost)
		if worst > best+largest {
			t.Errorf("trial %d: slowest task costs %.1f, the best split %.1f (largest region %.1f): %v", trial, worst, best, largest, got)
		}
	}
}

// bestSplit is the smallest cost of the costliest group over every cut of
// Plan's order into len(got) contiguous groups of at most per regions.
func bestSplit(t *testing.T, rs []regions.Fixed, got [][]int, per int, cost func([]int) float64) float64 {
	t.Helper()
	// Plan's order: its groups in turn, each in Z order (recomputed).
	var order []int
	for _, g := range got {
		g = slices.Clone(g)
		slices.SortStableFunc(g, func(a, b int) int {
			ka, _ := placeAndCost(rs[a])
			kb, _ := placeAndCost(rs[b])
			return cmp.Compare(ka, kb)
		})
		order = append(order, g...)
	}
	n, k := len(order), len(got)
	memo := map[[2]int]float64{}
	var f func(start, left int) float64
	f = func(start, left int) float64 {
		if left == 0 {
			if start == n {
				return 0
			}
			return math.Inf(1)
		}
		key := [2]int{start, left}
		if v, ok := memo[key]; ok {
			return v
		}
		best := math.Inf(1)
		for end := start + 1; end <= min(n, start+per); end++ {
			best = min(best, max(cost(order[start:end]), f(end, left-1)))
		}
		memo[key] = best
		return best
	}
	return f(0, k)
}
