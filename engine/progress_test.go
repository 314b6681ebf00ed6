package engine

import (
	"testing"

	"github.com/subsetd/subsetd/regions"
)

// TestRunProgress: the progress told adds up to the run's result: every
// byte read and written, every region's cut, empty ones included.
func TestRunProgress(t *testing.T) {
	t.Parallel()
	g := grid{lat0: -85, dlat: 10, nlat: 18, lon0: -175, dlon: 10, nlon: 36, ntime: 3, dt: 1}
	e := newEnv(t)
	e.opt.MemoryBudget = 64 // many slabs: many calls
	var sum Progress
	calls := 0
	e.opt.Progress = func(p Progress) {
		calls++
		sum.Read += p.Read
		sum.Written += p.Written
		sum.Done += p.Done
	}
	in := e.put("/data/g.nc", g.file("/data/g.nc"))
	res := e.run(t, &Request{Regions: []regions.Fixed{bbox("a", 0, 0, 40, 30), bbox("b", 10, 10, 50, 40), bbox("far", -170, -80, -150, -60)}}, in)
	if sum.Read != res.BytesRead || sum.Written != res.BytesWritten || sum.Done != 3 || res.BytesRead == 0 || calls < 4 {
		t.Errorf("progress %+v in %d calls; the result read %d, wrote %d bytes", sum, calls, res.BytesRead, res.BytesWritten)
	}
}
