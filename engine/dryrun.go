package engine

import (
	"fmt"
	"strings"
	"time"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/ncmodel/memfile"
)

// A dry run (Options.DryRun) plans a request exactly as a cut does — the
// same plan, the same clusters, the same output descriptions — and stops
// before the first value of a data variable is read: each output is
// described (OutFile with Estimate) instead of written. Only coordinates
// are read, as every plan reads them. So the shapes and value bytes a dry
// run gives are those the cut writes; the stored sizes are estimates.

// FileEstimate is what a dry run says of an output it would write.
type FileEstimate struct {
	// Bytes is the file's estimated size on disk: the value bytes
	// compressed as well as the input's chunks touched are (from their
	// stored sizes), plus the file's metadata. Without compressed input
	// to go by, the uncompressed size (an upper bound).
	Bytes int64 `json:"bytes"`
	// InputBytes are the stored (compressed) bytes of the input chunks
	// the cut reads for this file; of contiguous or uncompressed input,
	// the bytes of the values read.
	InputBytes int64 `json:"input_bytes"`
	// Box is the index box of the cut in the input, per dimension kept:
	// two entries for a dimension when the region crosses the seam of a
	// periodic longitude.
	Box []IndexRange `json:"box"`
}

// IndexRange is the part of a dimension of the input a cut takes:
// Count indexes from Start, every Stride.
type IndexRange struct {
	Dimension string `json:"dimension"`
	Start     int    `json:"start"`
	Count     int    `json:"count"`
	Stride    int    `json:"stride"`
}

// The metadata of a netCDF-4 output beyond its values, measured on the
// outputs of the fixtures and the benchmark file: a fixed part (superblock,
// root group), a part per variable (object header, dimension scales) and
// per chunk (its entry in the chunk index), and the attributes.
const (
	metaBytesFile  = 24 << 10
	metaBytesVar   = 1 << 10
	metaBytesChunk = 48
)

// netcdf4MetaBytes estimates the metadata of a netCDF-4 file f.
func netcdf4MetaBytes(f *ncmodel.File) int64 {
	n := int64(metaBytesFile) + attrBytes(f.Root.Attrs)
	for _, v := range f.Vars() {
		n += metaBytesVar + attrBytes(v.Attrs)
		if v.Chunks != nil {
			chunks := 1
			for i, d := range v.Dims {
				chunks *= (d.Len + v.Chunks[i] - 1) / max(v.Chunks[i], 1)
			}
			n += int64(chunks) * metaBytesChunk
		}
	}
	return n
}

// attrBytes are the bytes of the names and values of attributes.
func attrBytes(as []ncmodel.Attr) int64 {
	var n int64
	for _, a := range as {
		size := len(a.Text())
		if a.Type != ncmodel.Char {
			size = len(a.Float64s()) * max(a.Type.Size(), 1)
		}
		n += int64(len(a.Name) + size + 16)
	}
	return n
}

// chunkKey names a chunk of a variable read once per cluster.
type chunkKey struct {
	v  *ncmodel.Var
	at string
}

// storedRead is what reading some boxes of a variable costs.
type storedRead struct {
	stored int64 // stored bytes of the chunks touched (or of the values read)
	raw    int64 // the same chunks decoded
	known  bool  // stored sizes come from the file's chunk layout
}

// estimateCluster describes the outputs of a cluster of regions without
// writing them, and adds what reading them costs to the regions' and the
// run's input bytes.
func (r *runner) estimateCluster(cl []*regionPlan, res *Result) []*output {
	p := r.plan
	format := r.req.Output.FileFormat()
	deflate := r.req.Output.DeflateLevel()
	var outs []*output
	for _, rp := range cl {
		if r.stats.only() {
			break
		}
		o := &output{rp: rp, name: rp.name + ".nc"}
		var notes []string
		o.desc, o.vars, _, notes = p.outputFile(rp, format, deflate)
		o.sources = p.sourceNames(rp)
		now := time.Now
		if r.opt.Now != nil {
			now = r.opt.Now
		}
		setGlobalAttrs(o.desc.Root, p.extentOf(rp, p.coordValuesFor()), r.req, r.req.Regions[rp.index], rp.name, o.sources, notes, r.opt, now())
		// What the format cannot hold fails the region as the sink's
		// Define does.
		if err := memfile.Validate(o.desc, format); err != nil {
			o.err = errs.Wrap(errs.Invalid, err, "region %s: cannot write %s", rp.name, format)
		}
		outs = append(outs, o)
	}
	est := map[*output]*FileEstimate{}
	for _, o := range outs {
		est[o] = &FileEstimate{Box: p.indexBox(o.rp, o.vars)}
	}
	clusterSeen := map[chunkKey]bool{}
	for _, v := range r.readVars() {
		for _, rp := range cl {
			o := outFor(outs, rp, v)
			acc, err := r.stats.accFor(rp, v)
			if err != nil || (o == nil && acc == nil) {
				continue
			}
			if acc != nil {
				res.Regions[rp.index].Statistics = true
			}
			boxes := p.boxes(v, rp)
			in := r.storedOf(v, boxes, map[chunkKey]bool{})
			res.Regions[rp.index].InputBytes += in.stored
			res.BytesRead += r.storedOf(v, boxes, clusterSeen).stored
			if o == nil {
				continue
			}
			e := est[o]
			ov := o.vars[v]
			vb := int64(ncmodel.Product(ov.Shape()) * ov.Type.Size())
			o.file.ValueBytes += vb
			e.InputBytes += in.stored
			e.Bytes += storedEstimate(vb, ov, in)
		}
	}
	for _, o := range outs {
		e := est[o]
		if format == ncmodel.FormatNetCDF4 {
			e.Bytes += netcdf4MetaBytes(o.desc)
		} else {
			e.Bytes += classicHeaderBytes(o.desc)
		}
		shape := map[string]int{}
		o.desc.Root.Walk(func(g *ncmodel.Group) {
			for _, d := range g.Dims {
				shape[DimName(d)] = d.Len
			}
		})
		o.file = OutFile{Name: o.name, Shape: shape, Source: joinNames(o.sources), Variables: OutVars(o.desc), ValueBytes: o.file.ValueBytes, Estimate: e}
	}
	return outs
}

// storedEstimate is the estimated stored size of vb value bytes of output
// variable ov, compressed as the input chunks read for it are.
func storedEstimate(vb int64, ov *ncmodel.Var, in storedRead) int64 {
	if ov.Deflate == 0 || !in.known || in.raw == 0 {
		return vb
	}
	ratio := float64(in.stored) / float64(in.raw)
	return int64(float64(vb) * min(ratio, 1))
}

// storedOf is what reading boxes of v costs: the stored bytes of the
// chunks they touch that seen does not hold yet (which it then holds), or
// the bytes of their values when the source does not tell chunk sizes.
func (r *runner) storedOf(v *ncmodel.Var, boxes []box, seen map[chunkKey]bool) storedRead {
	cs, ok := r.src.(ncmodel.ChunkSizer)
	elem := int64(max(v.Type.Size(), 1))
	var out storedRead
	if ok && v.Chunks != nil && len(v.Chunks) == len(v.Dims) {
		if _, known := cs.StoredChunkSize(v, make([]int, len(v.Dims))); known {
			full := int64(ncmodel.Product(v.Chunks)) * elem
			out.known = true
			for _, b := range boxes {
				forChunks(v, b, func(at []int) {
					k := chunkKey{v, fmt.Sprint(at)}
					if seen[k] {
						return
					}
					seen[k] = true
					n, _ := cs.StoredChunkSize(v, at)
					out.stored += n
					out.raw += full
				})
			}
			return out
		}
	}
	for _, b := range boxes {
		k := chunkKey{v, fmt.Sprint(b.start, b.count, b.stride)}
		if seen[k] {
			continue
		}
		seen[k] = true
		n := int64(ncmodel.Product(b.count)) * elem
		out.stored += n
		out.raw += n
	}
	return out
}

// forChunks calls fn with the first index of every chunk of v that holds
// an index of box b (strides may skip chunks), in C order.
func forChunks(v *ncmodel.Var, b box, fn func(at []int)) {
	per := make([][]int, len(v.Dims))
	for i := range v.Dims {
		ch := v.Chunks[i]
		for m := 0; m < b.count[i]; m++ {
			at := (b.start[i] + m*b.stride[i]) / ch * ch
			if n := len(per[i]); n == 0 || per[i][n-1] != at {
				per[i] = append(per[i], at)
			}
		}
		if len(per[i]) == 0 {
			return
		}
	}
	idx := make([]int, len(per))
	for {
		at := make([]int, len(per))
		for i := range per {
			at[i] = per[i][idx[i]]
		}
		fn(at)
		i := len(per) - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < len(per[i]) {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return
		}
	}
}

// indexBox is the index box of region rp in the input over the dimensions
// of the variables an output keeps, in the file's order of dimensions.
func (p *filePlan) indexBox(rp *regionPlan, vars map[*ncmodel.Var]*ncmodel.Var) []IndexRange {
	used := map[*ncmodel.Dim]bool{}
	for v := range vars {
		for _, d := range v.Dims {
			used[d] = true
		}
	}
	out := []IndexRange{}
	p.file.Root.Walk(func(g *ncmodel.Group) {
		for _, d := range g.Dims {
			if !used[d] {
				continue
			}
			s := p.selFor(rp, d)
			if s == nil {
				out = append(out, IndexRange{Dimension: DimName(d), Start: 0, Count: d.Len, Stride: 1})
				continue
			}
			for _, run := range s.runs {
				out = append(out, IndexRange{Dimension: DimName(d), Start: run.Start, Count: outCount(run.Count, s.stride), Stride: s.stride})
			}
		}
	})
	return out
}

// classicHeaderBytes estimates the header of a netCDF-3 file: names,
// dimensions, attributes, variable entries, with their padding.
func classicHeaderBytes(f *ncmodel.File) int64 {
	pad := func(n int) int64 { return int64((n + 3) / 4 * 4) }
	attrs := func(as []ncmodel.Attr) int64 {
		n := int64(8)
		for _, a := range as {
			size := len(a.Text())
			if a.Type != ncmodel.Char {
				size = len(a.Float64s()) * max(a.Type.Size(), 1)
			}
			n += 12 + pad(len(a.Name)) + pad(size)
		}
		return n
	}
	n := int64(32) + attrs(f.Root.Attrs)
	for _, d := range f.Root.Dims {
		n += 8 + pad(len(d.Name))
	}
	for _, v := range f.Vars() {
		n += 24 + pad(len(v.Name)) + 4*int64(len(v.Dims)) + attrs(v.Attrs)
	}
	return n
}

// valueBytes are the bytes of the values of f's variables, uncompressed.
func valueBytes(f *ncmodel.File) int64 {
	var n int64
	for _, v := range f.Vars() {
		n += int64(ncmodel.Product(v.Shape()) * v.Type.Size())
	}
	return n
}

// joinNames joins the names of input files as OutFile.Source does.
func joinNames(names []string) string { return strings.Join(names, ", ") }
