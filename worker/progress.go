package worker

import (
	"encoding/json"
	"io"

	"github.com/subsetd/subsetd/engine"
)

// newProgressLines prints a progress line on out each time the engine
// says the cut of task advanced (every slab read): the share done is the
// bytes read of those planned, or, for granules, the cuts of a region and
// file ended of those the task has, whichever is more.
func newProgressLines(task *Task, out io.Writer) func(engine.Progress) {
	cuts := len(task.Regions)
	if task.RegionFiles != nil {
		cuts = 0
		for _, fs := range task.RegionFiles {
			cuts += len(fs)
		}
	}
	var p Progress
	enc := json.NewEncoder(out)
	return func(e engine.Progress) {
		p.BytesDone += e.Read // statistics read a little besides the plan: kept within it below
		p.BytesTotal += e.Planned
		p.RegionsDone += e.Done
		f := 0.0
		if task.RegionFiles == nil && p.BytesTotal > 0 {
			f = float64(p.BytesDone) / float64(p.BytesTotal)
		}
		if cuts > 0 {
			f = max(f, float64(p.RegionsDone)/float64(cuts))
		}
		p.Fraction = max(p.Fraction, min(f, 0.999))
		p.BytesDone = min(p.BytesDone, p.BytesTotal)
		enc.Encode(Reply{Progress: &p}) // a lost line costs only a progress update
	}
}
