package engine

import "testing"

func TestMemoryLimitLeavesRoomBesidesTheHeap(t *testing.T) {
	for _, c := range []struct{ budget, want int64 }{
		{0, 128 << 20}, {DefaultMemoryBudget, 128 << 20}, {1 << 30, 512 << 20}, {16 << 20, 32 << 20},
	} {
		if got := MemoryLimit(c.budget); got != c.want {
			t.Errorf("MemoryLimit(%d) = %d, want %d", c.budget, got, c.want)
		}
	}
}
