package engine

import "testing"

func TestMemoryLimitLeavesRoomBesidesTheHeap(t *testing.T) {
	for _, c := range []struct{ budget, want int64 }{
		{0, 160 << 20}, {DefaultMemoryBudget, 160 << 20}, {1 << 30, 640 << 20}, {16 << 20, 32 << 20},
	} {
		if got := MemoryLimit(c.budget); got != c.want {
			t.Errorf("MemoryLimit(%d) = %d, want %d", c.budget, got, c.want)
		}
	}
}
