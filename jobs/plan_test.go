package jobs

import (
	"fmt"
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
