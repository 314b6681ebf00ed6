package engine

// Progress is how a run advances, told to Options.Progress as it goes
// (from the goroutine running the cut, one call at a time): bytes of
// values read from the inputs and bytes of outputs written since the last
// call, and the regions whose cut of an input ended since then (with
// several inputs cut one by one, a region counts once per input: a run of
// R regions over F granules ends R×F cuts).
type Progress struct {
	Read, Written int64
	Done          int
}

// progress tells opt.Progress, when set.
func (opt *Options) progress(p Progress) {
	if opt.Progress != nil && (p.Read != 0 || p.Written != 0 || p.Done != 0) {
		opt.Progress(p)
	}
}

// readBytes counts values read.
func (r *runner) readBytes(n int) {
	r.bytesRead += int64(n)
	r.opt.progress(Progress{Read: int64(n)})
}
