package engine

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/regions"
)

// DefaultMemoryBudget bounds the bytes of values held at once.
const DefaultMemoryBudget = 256 << 20

// maxCluster bounds how many regions are written at once (open outputs).
const maxCluster = 64

// TempPrefix starts the names of files being written; a crash may leave
// them behind, and start-up code removes them.
const TempPrefix = ".subsetd-tmp-"

// Options are the environment of a run: where to write, how to reach files.
type Options struct {
	// OutDir receives one file per region: <region>.nc for one input file
	// (or several joined by Concat), <region>/<input stem>.nc for several
	// cut one by one (Granules).
	OutDir string
	// MemoryBudget bounds the bytes of values held at once (DefaultMemoryBudget if 0).
	MemoryBudget int64
	// Open opens an input file; Create creates an output file. The C readers
	// provide them (readers/open); tests may pass the in-memory fake.
	Open   func(path string) (ncmodel.Source, error)
	Create func(path string, format ncmodel.Format) (ncmodel.Sink, error)
	// Files reads back, renames and removes written outputs by path: the
	// operating system's files when nil. It must see the files Create
	// makes, so an in-memory Create (memfile.Store) comes with an
	// in-memory Files.
	Files Files
	// Concat treats several files as one time series split along time:
	// one output per region, concatenated along time in time order (as
	// ncrcat would, then cut). The files must share one grid.
	Concat bool
	// Version and Command are recorded in the outputs' metadata.
	Version string
	Command string
	// Now is the clock for metadata (time.Now if nil).
	Now func() time.Time
	// DryRun plans the request and describes the outputs (OutFile's
	// Estimate) without reading a data value or writing a file
	// (dryrun.go); OutDir is not used.
	DryRun bool
	// Progress, when set, is told how the run advances (Progress).
	Progress func(Progress)
	// Panic is told about a bug met while cutting: what was being done,
	// the value the code panicked with and its stack. The regions
	// concerned fail with a message; the run goes on. Nil writes the
	// stack to standard error.
	Panic func(what string, value any, stack []byte)
}

// Files is where outputs are checksummed and moved into place once their
// Sink is closed.
type Files interface {
	Open(path string) (io.ReadCloser, error)
	Rename(from, to string) error
	Remove(path string) error
}

// osFiles are the operating system's files.
type osFiles struct{}

func (osFiles) Open(path string) (io.ReadCloser, error) { return os.Open(path) }
func (osFiles) Rename(from, to string) error            { return os.Rename(from, to) }
func (osFiles) Remove(path string) error                { return os.Remove(path) }

// Region statuses.
const (
	StatusSuccessful = "successful"
	StatusEmpty      = "empty"
	StatusFailed     = "failed"
)

// Result is the outcome of a run, one entry per region in request order.
type Result struct {
	Regions      []RegionResult `json:"regions"`
	BytesRead    int64          `json:"bytes_read"`
	BytesWritten int64          `json:"bytes_written"`
	FilesOpened  int            `json:"files_opened"`
	// Notes tell what a user should know: overlapping time steps taken
	// once, gaps in a time series, files of several that gave nothing
	// because they hold no step in the time range, how statistics were
	// weighted.
	Notes []string `json:"notes,omitempty"`
	// NoSpace is set when an output could not be written because the
	// disk (or the user's quota) is full: running again later may succeed.
	NoSpace bool `json:"no_space,omitempty"`
	// Stats are the regions' statistics when the request asks for them;
	// WriteStats writes them. Not part of the JSON: a table may be large
	// (a worker writes it to a file of its own).
	Stats *StatsTable `json:"-"`
}

// RegionResult is the outcome for one region.
type RegionResult struct {
	Name    string    `json:"name"`
	Status  string    `json:"status"`
	Message string    `json:"message,omitempty"`
	Files   []OutFile `json:"files,omitempty"`
	// Statistics is set when the region's statistics were computed (by a
	// dry run: would be).
	Statistics bool `json:"statistics,omitempty"`
	// InputBytes, set by a dry run, are the stored bytes of the input
	// chunks the region's cut and statistics read (FileEstimate).
	InputBytes int64 `json:"input_bytes,omitempty"`
}

// OutFile is one written file.
type OutFile struct {
	Name   string         `json:"name"` // relative to OutDir, with '/' separators
	Path   string         `json:"path"`
	Size   int64          `json:"size"`
	Sha256 string         `json:"sha256"`
	Md5    string         `json:"md5"`
	Shape  map[string]int `json:"shape"` // output dimension lengths by name (group path for dims below the root)
	// Source names the input files, comma-separated, as the output's
	// subsetd_source does: the file cut, or of files joined along time
	// those its time steps come from, in time order.
	Source string `json:"source"`
	// Variables are the file's variables with their shapes; Crc32 is the
	// IEEE CRC-32 of its bytes (for ZIP archives of a job's files).
	Variables []OutVar `json:"variables,omitempty"`
	Crc32     uint32   `json:"crc32,omitempty"`
	// AllFill is set when every value of its data variables is fill
	// (AllFillNote).
	AllFill bool `json:"all_fill,omitempty"`
	// ValueBytes are the bytes of the values of its variables,
	// uncompressed (each variable's shape times the size of its type): a
	// dry run gives exactly what the cut writes.
	ValueBytes int64 `json:"value_bytes,omitempty"`
	// Estimate is set instead of Path, Size and checksums by a dry run.
	Estimate *FileEstimate `json:"estimate,omitempty"`
}

// Run cuts every region of req out of files and writes the outputs under
// opt.OutDir. An error is returned for problems that concern the whole run
// (an unreadable file, an unknown variable, a bad time range, an output
// folder that cannot be written); problems of one region are reported in
// its RegionResult. Nothing is left at a final path unless it is complete.
//
// Several files are joined along time with opt.Concat; without it they are
// granules, each cut on its own for every region (Granules): then a file's
// problems are those of its outputs, not of the run.
func Run(ctx context.Context, files []string, req *Request, opt Options) (*Result, error) {
	if err := req.validateOptions(); err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, errs.E(errs.Invalid, "no input file given")
	}
	if opt.MemoryBudget <= 0 {
		opt.MemoryBudget = DefaultMemoryBudget
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Files == nil {
		opt.Files = osFiles{}
	}
	areas, err := regions.ResolveFixed("regions", req.Regions)
	if err != nil {
		return nil, err
	}
	if err := checkStatsNames(req, areas); err != nil {
		return nil, err
	}
	if !opt.DryRun {
		if err := checkWritable(opt.OutDir); err != nil {
			return nil, err
		}
	}
	res := &Result{Regions: make([]RegionResult, len(req.Regions))}
	emptyMsgs := make([][]string, len(req.Regions))
	for i, a := range areas {
		res.Regions[i] = RegionResult{Name: a.Name}
	}
	if len(files) > 1 {
		if opt.Concat {
			return runConcat(ctx, files, req, areas, opt, res, emptyMsgs)
		}
		return Granules(ctx, Run, files, everyFile(len(req.Regions), len(files)), req, opt)
	}
	src, err := opt.Open(files[0])
	if err != nil {
		return res, openError(files[0], err)
	}
	res.FilesOpened++
	err = runFile(ctx, src, req, areas, opt, res, emptyMsgs)
	src.Close()
	if err != nil {
		return res, err
	}
	finishStatus(res, emptyMsgs)
	return res, nil
}

// finishStatus sets each region's status from what it produced.
func finishStatus(res *Result, emptyMsgs [][]string) {
	for i := range res.Regions {
		r := &res.Regions[i]
		switch {
		case r.Status == StatusFailed:
		case len(r.Files) > 0 || r.Statistics:
			r.Status = StatusSuccessful
			noteAllFill(r)
		default:
			r.Status = StatusEmpty
			r.Message = strings.Join(emptyMsgs[i], "; ")
		}
	}
}

// runConcat cuts files that split one time series as if they were one.
func runConcat(ctx context.Context, files []string, req *Request, areas []regions.Resolved, opt Options, res *Result, emptyMsgs [][]string) (*Result, error) {
	var srcs []ncmodel.Source
	closeAll := func() {
		for _, s := range srcs {
			s.Close()
		}
	}
	for _, path := range files {
		src, err := opt.Open(path)
		if err != nil {
			closeAll()
			return res, openError(path, err)
		}
		srcs = append(srcs, src)
		res.FilesOpened++
	}
	c, err := newConcat(srcs)
	if err != nil {
		closeAll()
		return res, err
	}
	defer c.Close()
	res.Notes = append(res.Notes, c.notes...)
	if err := runFile(ctx, c, req, areas, opt, res, emptyMsgs); err != nil {
		return res, err
	}
	finishStatus(res, emptyMsgs)
	return res, nil
}

func runFile(ctx context.Context, src ncmodel.Source, req *Request, areas []regions.Resolved, opt Options, res *Result, emptyMsgs [][]string) error {
	var p *filePlan
	err := guard("planning the cut of "+baseName(src.File().Path), func() (err error) {
		p, err = plan(src, req, areas)
		return err
	})
	var pe *panicked
	if errors.As(err, &pe) { // a bug: every region of the file fails, the run goes on
		report(opt, err)
		for i := range res.Regions {
			res.Regions[i].Status, res.Regions[i].Message = StatusFailed, err.Error()
		}
		return nil
	}
	if err != nil {
		return err
	}
	res.Notes = append(res.Notes, p.notes...)
	r := &runner{src: src, plan: p, budget: opt.MemoryBudget, opt: opt, req: req}
	if req.Statistics != nil {
		if r.stats, err = newStatsRun(p, req, areas, r.read); err != nil {
			return err
		}
	}
	var live []*regionPlan
	for _, rp := range p.regions {
		if rp.failed != nil {
			report(opt, rp.failed)
			rr := &res.Regions[rp.index]
			rr.Status, rr.Message = StatusFailed, rp.failed.Error()
			continue
		}
		if rp.empty != "" {
			emptyMsgs[rp.index] = append(emptyMsgs[rp.index], rp.empty)
			continue
		}
		live = append(live, rp)
	}
	opt.progress(Progress{Done: len(p.regions) - len(live)}) // failed or empty from the plan
	queue := p.clusters(live)
	if opt.Progress != nil && !opt.DryRun {
		var planned int64
		for _, cl := range queue {
			planned += r.plannedBytes(cl)
		}
		opt.progress(Progress{Planned: planned})
	}
	for len(queue) > 0 {
		cl := queue[0]
		queue = queue[1:]
		var outs []*output
		err := guard("cutting "+regionNames(cl)+" from "+baseName(p.file.Path), func() (err error) {
			if opt.DryRun {
				outs = r.estimateCluster(cl, res)
				return nil
			}
			outs, err = r.writeCluster(ctx, cl)
			return err
		})
		if err != nil {
			r.stats.drop(cl) // its regions are cut again alone, or fail
		}
		var pe *panicked
		if errors.As(err, &pe) && len(cl) > 1 {
			// Find the region the bug is about: cut each alone.
			for _, rp := range cl {
				queue = append(queue, []*regionPlan{rp})
			}
			continue
		}
		report(opt, err)
		if err != nil {
			if errs.CodeOf(err) == errs.Unreadable || context.Cause(ctx) != nil {
				return err
			}
			for _, rp := range cl {
				rr := &res.Regions[rp.index]
				rr.Status, rr.Message = StatusFailed, err.Error()
			}
			opt.progress(Progress{Done: len(cl)})
			continue
		}
		var written int64
		for _, o := range outs {
			rr := &res.Regions[o.rp.index]
			if o.err != nil {
				rr.Status, rr.Message = StatusFailed, o.err.Error()
				continue
			}
			rr.Files = append(rr.Files, o.file)
			res.BytesWritten += o.file.Size
			written += o.file.Size
		}
		opt.progress(Progress{Written: written, Done: len(cl)})
	}
	res.BytesRead += r.bytesRead
	res.NoSpace = res.NoSpace || r.noSpace
	if r.stats != nil && !opt.DryRun {
		res.Stats = r.stats.finish()
		res.Notes = append(res.Notes, r.stats.notes...)
		for i, rs := range res.Stats.Regions {
			if rs.Moments != nil && res.Regions[i].Status != StatusFailed {
				res.Regions[i].Statistics = true
			}
		}
	}
	return nil
}

// regionNames names the regions of a cluster for messages.
func regionNames(cl []*regionPlan) string {
	if len(cl) == 1 {
		return "region " + cl[0].name
	}
	names := make([]string, len(cl))
	for i, rp := range cl {
		names[i] = rp.name
	}
	return "regions " + strings.Join(names, ", ")
}

// runner cuts the regions of one plan.
type runner struct {
	src       ncmodel.Source
	plan      *filePlan
	budget    int64
	opt       Options
	req       *Request
	stats     *statsRun // nil without statistics
	bytesRead int64
	direct    map[*ncmodel.Var]bool // whether the source reads v's chunks itself
	noSpace   bool                  // an output failed because the disk is full
}

// read reads a hyperslab for the statistics, counted as the cut's reads.
func (r *runner) read(v *ncmodel.Var, start, count, stride []int) (*ncmodel.Array, error) {
	a, err := r.src.Read(v, start, count, stride)
	if err != nil {
		return nil, errs.Wrap(errs.Unreadable, err, "reading %s from %s", v.Path(), baseName(r.plan.file.Path))
	}
	r.readBytes(len(a.Data))
	return a, nil
}

// output is one region's file being written.
type output struct {
	rp      *regionPlan
	name    string // relative final name
	final   string
	tmp     string
	sink    ncmodel.Sink
	desc    *ncmodel.File
	vars    map[*ncmodel.Var]*ncmodel.Var
	first   map[string][]byte        // first value written per variable, checked after writing
	fills   map[*ncmodel.Var][]byte  // raw fill of the variables the region's masks apply to
	enc     *encoder                 // writes whole chunks (chunkwrite.go)
	chunked map[string]bool          // whether the sink writes a variable's chunks itself
	missing map[*ncmodel.Var]missing // the data variables, with what reads as missing in each (fill.go)
	valued  bool                     // a value that is not missing was written
	sources []string                 // the input files, as subsetd_source and file.Source name them
	file    OutFile
	err     error
}

func (o *output) write(v *ncmodel.Var, at []int, a *ncmodel.Array) error {
	ov := o.vars[v]
	if fill := o.fills[v]; fill != nil {
		for _, m := range o.rp.masks {
			m.apply(v, at, a, fill)
		}
	}
	if m, ok := o.missing[v]; ok && !o.valued {
		o.valued = m.anyValue(a)
	}
	if o.first != nil && a.Len() > 0 && a.Type != ncmodel.String {
		zero := true
		for _, x := range at {
			zero = zero && x == 0
		}
		if zero {
			o.first[ov.Path()] = append([]byte(nil), a.Data[:a.Type.Size()]...)
		}
	}
	if err := o.put(ov, at, a); err != nil {
		return errs.Wrap(errs.Internal, err, "writing %s", o.name)
	}
	return nil
}

// writeCluster writes the outputs of a group of regions read together.
func (r *runner) writeCluster(ctx context.Context, cl []*regionPlan) (outs []*output, err error) {
	p := r.plan
	done := false // false while panicking too: nothing half-written is kept
	enc := newEncoder()
	defer func() {
		enc.stop()
		for _, o := range outs {
			if o.sink != nil {
				o.sink.Close()
			}
			if !done || err != nil || o.err != nil {
				r.opt.Files.Remove(o.tmp)
			}
			if !done && o.file.Path != "" { // moved into place before the panic: the region fails, so no file
				r.opt.Files.Remove(o.final)
			}
		}
	}()
	// Run before the removals above: a full disk is seen while what filled
	// it is still there.
	defer func() {
		if done || err != nil {
			r.spaceCheck(&err, outs, "the outputs of "+regionNames(cl))
		}
	}()
	format := r.req.Output.FileFormat()
	for _, rp := range cl {
		if r.stats.only() {
			break
		}
		name := rp.name + ".nc"
		final := filepath.Join(r.opt.OutDir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
			return outs, errs.Wrap(errs.Internal, err, "output folder")
		}
		o := &output{rp: rp, name: name, final: final, tmp: filepath.Join(filepath.Dir(final), TempPrefix+randomHex()+".nc"), first: map[string][]byte{}, enc: enc}
		outs = append(outs, o)
		var notes []string
		o.desc, o.vars, o.fills, notes = p.outputFile(rp, format, r.req.Output.DeflateLevel())
		o.missing = p.valueVars(o.vars)
		o.sources = p.sourceNames(rp)
		setGlobalAttrs(o.desc.Root, p.extentOf(rp, p.coordValuesFor()), r.req, r.req.Regions[rp.index], rp.name, o.sources, notes, r.opt, r.opt.Now())
		sink, err := r.opt.Create(o.tmp, format)
		if err != nil {
			return outs, errs.Wrap(errs.Internal, err, "creating output for region %s", rp.name)
		}
		o.sink = sink
		if err := sink.Define(o.desc); err != nil {
			o.err = errs.Wrap(errs.Invalid, err, "region %s: cannot write %s", rp.name, format)
		}
	}
	for _, v := range r.readVars() {
		var targets []target
		for _, rp := range cl {
			t := target{out: outFor(outs, rp, v)}
			if t.stats, err = r.stats.accFor(rp, v); err != nil {
				return outs, err
			}
			if t.out != nil || t.stats != nil {
				t.boxes = p.boxes(v, rp)
				targets = append(targets, t)
			}
		}
		if err := r.copyVar(ctx, p, v, targets); err != nil {
			return outs, err
		}
	}
	enc.wait()
	for _, o := range outs {
		if err := enc.err(o); err != nil && o.err == nil {
			o.err = errs.Wrap(errs.Internal, err, "writing %s", o.name)
		}
		if o.err != nil {
			continue
		}
		sink := o.sink
		o.sink = nil
		if err := sink.Close(); err != nil {
			o.err = errs.Wrap(errs.Internal, err, "closing output of region %s", o.rp.name)
			continue
		}
		o.err = r.finish(o)
	}
	// The renames reach stable storage with one fsync of each folder.
	synced := map[string]bool{}
	for _, o := range outs {
		if dir := filepath.Dir(o.final); o.err == nil && !synced[dir] {
			synced[dir] = true
			syncDir(dir)
		}
	}
	done = true
	return outs, nil
}

// outFor is region rp's output when it keeps variable v, or nil: a region
// that misses one of the file's grids has none of that grid's variables.
func outFor(outs []*output, rp *regionPlan, v *ncmodel.Var) *output {
	for _, o := range outs {
		if _, kept := o.vars[v]; o.rp == rp && o.err == nil && kept {
			return o
		}
	}
	return nil
}

// finish checks a written file by reading it back, checksums it and moves
// it to its final name.
func (r *runner) finish(o *output) error {
	if err := readBack(r.opt.Open, o.tmp, o.desc, o.first); err != nil {
		return errs.Wrap(errs.Internal, err, "checking output of region %s", o.rp.name)
	}
	sum, err := checksums(r.opt.Files, o.tmp)
	if err != nil {
		return err
	}
	if err := r.opt.Files.Rename(o.tmp, o.final); err != nil {
		return errs.Wrap(errs.Internal, err, "moving output into place")
	}
	o.file = OutFile{Name: o.name, Path: o.final, Size: sum.n, Sha256: sum.sha, Md5: sum.md5, Crc32: sum.crc, Shape: shapeOf(o.desc),
		Source: joinNames(o.sources), Variables: OutVars(o.desc), ValueBytes: valueBytes(o.desc), AllFill: len(o.missing) > 0 && !o.valued}
	return nil
}

// shapeOf is what OutFile.Shape holds of a description: every dimension's
// length by name (DimName).
func shapeOf(desc *ncmodel.File) map[string]int {
	shape := map[string]int{}
	desc.Root.Walk(func(g *ncmodel.Group) {
		for _, d := range g.Dims {
			shape[DimName(d)] = d.Len
		}
	})
	return shape
}

// sums are a written file's size and checksums, read once.
type sums struct {
	n        int64
	sha, md5 string
	crc      uint32
}

// checksums returns the size, sha256, md5 and CRC-32 of a written file.
func checksums(files Files, path string) (sums, error) {
	f, err := files.Open(path)
	if err != nil {
		return sums{}, errs.Wrap(errs.Internal, err, "checksum")
	}
	defer f.Close()
	sh, m5, c := sha256.New(), md5.New(), crc32.NewIEEE()
	n, err := io.Copy(io.MultiWriter(sh, m5, c), f)
	if err != nil {
		return sums{}, errs.Wrap(errs.Internal, err, "checksum")
	}
	return sums{n: n, sha: hex.EncodeToString(sh.Sum(nil)), md5: hex.EncodeToString(m5.Sum(nil)), crc: c.Sum32()}, nil
}

// readBack is the check of every file the engine writes, before it is
// moved to its final name: it re-opens with want's dimensions and
// variables, each variable of its shape; the first value of each
// variable in first reads back as written, and the last value of every
// variable reads.
func readBack(open func(string) (ncmodel.Source, error), path string, want *ncmodel.File, first map[string][]byte) error {
	src, err := open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	got := src.File()
	gotDims := shapeOf(got)
	for name, n := range shapeOf(want) {
		m, ok := gotDims[name]
		if !ok {
			return fmt.Errorf("dimension %s missing", name)
		}
		if m != n {
			return fmt.Errorf("dimension %s has length %d, want %d", name, m, n)
		}
	}
	for _, w := range want.Vars() {
		v := got.FindVar(w.Path())
		if v == nil {
			return fmt.Errorf("variable %s missing", w.Path())
		}
		ws, gs := w.Shape(), v.Shape()
		if fmt.Sprint(ws) != fmt.Sprint(gs) {
			return fmt.Errorf("variable %s has shape %v, want %v", w.Path(), gs, ws)
		}
		if ncmodel.Product(gs) == 0 {
			continue
		}
		one := make([]int, len(gs))
		last := make([]int, len(gs))
		for i := range gs {
			one[i], last[i] = 1, gs[i]-1
		}
		if b, ok := first[w.Path()]; ok {
			a, err := src.Read(v, make([]int, len(gs)), one, nil)
			if err != nil {
				return fmt.Errorf("read back %s: %w", w.Path(), err)
			}
			if !bytes.Equal(a.Data, b) {
				return fmt.Errorf("variable %s: first value reads back as %x, wrote %x", w.Path(), a.Data, b)
			}
		}
		if _, err := src.Read(v, last, one, nil); err != nil {
			return fmt.Errorf("read back %s at %v: %w", w.Path(), last, err)
		}
	}
	return nil
}

// clusters groups regions whose reads overlap enough that reading their
// union once costs no more than reading them separately.
func (p *filePlan) clusters(rps []*regionPlan) [][]*regionPlan {
	main := p.mainVar()
	if main == nil {
		out := make([][]*regionPlan, len(rps))
		for i, rp := range rps {
			out[i] = []*regionPlan{rp}
		}
		return out
	}
	type cl struct {
		rps   []*regionPlan
		boxes []box
		cost  float64
	}
	cost := func(bs []box) float64 {
		lo, hi := boxSpan(bs[0])
		sum := 0.0
		for _, b := range bs {
			l, h := boxSpan(b)
			for i := range lo {
				lo[i], hi[i] = min(lo[i], l[i]), max(hi[i], h[i])
			}
			sum += readCost(main, l, h)
		}
		return min(sum, readCost(main, lo, hi))
	}
	var cls []*cl
	for _, rp := range rps {
		bs := p.boxes(main, rp)
		c0 := cost(bs)
		best, gain := -1, 0.0
		for i, c := range cls {
			if len(c.rps) >= maxCluster {
				continue
			}
			merged := cost(append(append([]box(nil), c.boxes...), bs...))
			if g := c.cost + c0 - merged; g >= 0 && (best < 0 || g > gain) {
				best, gain = i, g
			}
		}
		if best < 0 {
			cls = append(cls, &cl{rps: []*regionPlan{rp}, boxes: bs, cost: c0})
			continue
		}
		c := cls[best]
		c.rps = append(c.rps, rp)
		c.boxes = append(c.boxes, bs...)
		c.cost = cost(c.boxes)
	}
	out := make([][]*regionPlan, len(cls))
	for i, c := range cls {
		out[i] = c.rps
	}
	return out
}

// mainVar is the largest output variable on a horizontal grid: the one
// whose reads dominate the cost.
func (p *filePlan) mainVar() *ncmodel.Var {
	var best *ncmodel.Var
	size := 0
	for _, v := range p.vars {
		onGrid := false
		for _, d := range v.Dims {
			onGrid = onGrid || p.gridDims[d]
		}
		if n := ncmodel.Product(v.Shape()) * v.Type.Size(); onGrid && n > size {
			best, size = v, n
		}
	}
	return best
}

// coordValuesFor returns the unpacked values of the file's 1-D coordinates,
// read once.
func (p *filePlan) coordValuesFor() map[*ncmodel.Var][]float64 {
	if p.coordVals != nil {
		return p.coordVals
	}
	p.coordVals = map[*ncmodel.Var][]float64{}
	for _, c := range p.coords.Axes {
		if vals, err := CoordValues(p.src, c.Var); err == nil {
			p.coordVals[c.Var] = vals
		}
	}
	return p.coordVals
}

func checkWritable(dir string) error {
	if dir == "" {
		return errs.E(errs.Invalid, "no output folder given")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return errs.Wrap(errs.Internal, err, "output folder %q is not writable", dir)
	}
	f, err := os.CreateTemp(dir, TempPrefix+"probe-")
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return NoSpace(errs.Wrap(errs.Internal, err, "output folder %q is not writable", dir), "the output folder")
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// sourceNames names the input files of region rp's output: the file cut,
// or, of files joined along time, those its time steps come from, in time
// order (the earliest of them when it keeps no time step).
func (p *filePlan) sourceNames(rp *regionPlan) []string {
	c, ok := p.src.(*concatSource)
	if !ok {
		return []string{baseName(p.file.Path)}
	}
	var sel *dimSel
	if c.otdim != nil {
		sel = p.selFor(rp, c.otdim)
	}
	if out := c.stepFiles(sel); len(out) > 0 && (c.otdim == nil || !p.noTime[c.otdim]) {
		return out
	}
	return []string{baseName(c.srcs[c.ref].File().Path)}
}

func randomHex() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}
