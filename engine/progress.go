package engine

import "slices"

// Progress is how a run advances, told to Options.Progress as it goes
// (from the goroutine running the cut, one call at a time): bytes of
// values read from the inputs and bytes of outputs written since the last
// call, and the regions whose cut of an input ended since then (with
// several inputs cut one by one, a region counts once per input: a run of
// R regions over F granules ends R×F cuts).
//
// Planned, told once per input file once it is planned, is the bytes of
// values its cut will read: what Read adds up to when every region of it
// is cut (plannedRead, the reads copyVar makes).
type Progress struct {
	Read, Written int64
	Done          int
	Planned       int64
}

// progress tells opt.Progress, when set.
func (opt *Options) progress(p Progress) {
	if opt.Progress != nil && (p.Read != 0 || p.Written != 0 || p.Done != 0 || p.Planned != 0) {
		opt.Progress(p)
	}
}

// readBytes counts values read.
func (r *runner) readBytes(n int) {
	r.bytesRead += int64(n)
	r.opt.progress(Progress{Read: int64(n)})
}

// plannedBytes are the bytes of values the cut of a cluster reads: the
// variables and boxes writeCluster gives copyVar.
func (r *runner) plannedBytes(cl []*regionPlan) int64 {
	p := r.plan
	var n int64
	for _, v := range r.readVars() {
		var all []box
		for _, rp := range cl {
			acc, _ := r.stats.accFor(rp, v)
			cut := !r.stats.only() && !p.leftOut(rp, v) && slices.Contains(p.vars, v)
			if cut || acc != nil {
				all = append(all, p.boxes(v, rp)...)
			}
		}
		if len(all) > 0 {
			n += plannedRead(v, all)
		}
	}
	return n
}
