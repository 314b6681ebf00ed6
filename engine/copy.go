package engine

import (
	"context"
	"math"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/regions"
)

// box is one rectangular part of a variable's cut for one region: input
// indices start + m*stride for m < count along each dimension, written at
// out + m in the output. Crossing the seam of a longitude axis makes two.
type box struct {
	start, count, stride, out []int
	shift                     float64 // added to longitude values of this part
}

// boxes returns the boxes of variable v for region rp.
func (p *filePlan) boxes(v *ncmodel.Var, rp *regionPlan) []box {
	result := []box{{}}
	lonDim, isLon := p.lonVars[v]
	for _, d := range v.Dims {
		s := p.selFor(rp, d)
		if s == nil {
			s = &dimSel{runs: []regions.Run{{Start: 0, Count: d.Len}}, stride: 1}
		}
		var next []box
		for _, b := range result {
			off := 0
			for _, r := range s.runs {
				n := outCount(r.Count, s.stride)
				nb := box{
					start:  append(append([]int(nil), b.start...), r.Start),
					count:  append(append([]int(nil), b.count...), n),
					stride: append(append([]int(nil), b.stride...), s.stride),
					out:    append(append([]int(nil), b.out...), off),
					shift:  b.shift,
				}
				if isLon && d == lonDim {
					nb.shift = r.Shift
				}
				off += n
				next = append(next, nb)
			}
		}
		result = next
	}
	return result
}

// readCost estimates the bytes the library must decode to read the index
// span [lo, hi] along each dimension: whole chunks for chunked variables.
func readCost(v *ncmodel.Var, lo, hi []int) float64 {
	c := float64(max(v.Type.Size(), 1))
	for i := range lo {
		n := hi[i] - lo[i] + 1
		if v.Chunks != nil && v.Chunks[i] > 0 {
			ch := v.Chunks[i]
			n = (hi[i]/ch - lo[i]/ch + 1) * ch
		}
		c *= float64(n)
	}
	return c
}

func boxSpan(b box) (lo, hi []int) {
	lo = make([]int, len(b.start))
	hi = make([]int, len(b.start))
	for i := range b.start {
		lo[i] = b.start[i]
		hi[i] = b.start[i] + (b.count[i]-1)*b.stride[i]
	}
	return lo, hi
}

// unionRead is the box copyVar reads once for all the boxes of a
// variable (its first index and count), or nil when it reads them one by
// one: when the union costs no more than the boxes.
func unionRead(v *ncmodel.Var, all []box) (ulo, ucount []int) {
	if len(all) < 2 {
		return nil, nil
	}
	rank := len(v.Dims)
	ulo, uhi := boxSpan(all[0])
	sum := 0.0
	for _, b := range all {
		lo, hi := boxSpan(b)
		for i := 0; i < rank; i++ {
			ulo[i], uhi[i] = min(ulo[i], lo[i]), max(uhi[i], hi[i])
		}
		sum += readCost(v, lo, hi)
	}
	if readCost(v, ulo, uhi) > sum {
		return nil, nil
	}
	ucount = make([]int, rank)
	for i := range ucount {
		ucount[i] = uhi[i] - ulo[i] + 1
	}
	return ulo, ucount
}

// plannedRead are the bytes of values copyVar reads for these boxes of v.
func plannedRead(v *ncmodel.Var, all []box) int64 {
	elem := int64(max(v.Type.Size(), 1))
	if _, ucount := unionRead(v, all); ucount != nil {
		return int64(ncmodel.Product(ucount)) * elem
	}
	var n int64
	for _, b := range all {
		n += int64(ncmodel.Product(b.count)) * elem
	}
	return n
}

// target is where a region's part of a variable goes: its output file
// and its statistics (either may be nil).
type target struct {
	out   *output
	stats *regionAcc
	boxes []box
}

// copyVar copies variable v into the outputs of a cluster of regions. When
// reading the union of every box once costs no more than reading the boxes
// one by one, the union is read once, slab by slab, and each region's parts
// are cut from it in memory.
func (r *runner) copyVar(ctx context.Context, p *filePlan, v *ncmodel.Var, targets []target) error {
	var all []box
	for _, t := range targets {
		all = append(all, t.boxes...)
	}
	if len(all) == 0 {
		return nil
	}
	rank := len(v.Dims)
	if ulo, ucount := unionRead(v, all); ulo != nil {
		return r.slabs(ctx, v, ulo, ucount, nil, func(start, count []int, a *ncmodel.Array) error {
			for _, t := range targets {
				for _, b := range t.boxes {
					t.stats.add(b, start, count, nil, a)
					if t.out == nil {
						continue
					}
					if err := r.cut(v, t.out, b, start, count, a); err != nil {
						return err
					}
				}
			}
			return nil
		})
	}
	for _, t := range targets {
		for _, b := range t.boxes {
			err := r.slabs(ctx, v, b.start, b.count, b.stride, func(start, count []int, a *ncmodel.Array) error {
				t.stats.add(b, start, count, b.stride, a) // before the mask is applied to a
				if t.out == nil {
					return nil
				}
				// Output position of this slab: its first index relative to the box.
				out := make([]int, rank)
				for i := range out {
					out[i] = b.out[i] + (start[i]-b.start[i])/b.stride[i]
				}
				shiftLon(v, a, b.shift)
				return t.out.write(v, out, a)
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// slabs reads the hyperslab start/count/stride of v in pieces that fit the
// memory budget, splitting along the leading dimensions, and calls fn with
// each piece (its input start and count in strided steps).
func (r *runner) slabs(ctx context.Context, v *ncmodel.Var, start, count, stride []int, fn func(start, count []int, a *ncmodel.Array) error) error {
	rank := len(v.Dims)
	if stride == nil {
		stride = make([]int, rank)
		for i := range stride {
			stride[i] = 1
		}
	}
	for _, c := range count {
		if c == 0 {
			return nil
		}
	}
	elem := int64(max(v.Type.Size(), 1))
	budget := max(r.budget/16*3, 1) // the slab, and as much again for the parts cut from it (memory.go)
	// Split along dimension k with step: everything after k is whole.
	k, step := rank, 1
	inner := elem
	for i := rank - 1; i >= 0; i-- {
		if inner*int64(count[i]) > budget {
			k = i
			step = int(max(budget/inner, 1))
			if v.Chunks != nil && stride[i] == 1 && v.Chunks[i] > 1 && step > v.Chunks[i] {
				step -= step % v.Chunks[i]
			}
			break
		}
		inner *= int64(count[i])
	}
	if k == rank { // the whole slab fits
		return r.readSlab(ctx, v, start, count, stride, fn)
	}
	idx := make([]int, k) // position along the dimensions before k
	for {
		for s := 0; s < count[k]; s += step {
			st := make([]int, rank)
			ct := make([]int, rank)
			for i := 0; i < k; i++ {
				st[i], ct[i] = start[i]+idx[i]*stride[i], 1
			}
			st[k], ct[k] = start[k]+s*stride[k], min(step, count[k]-s)
			for i := k + 1; i < rank; i++ {
				st[i], ct[i] = start[i], count[i]
			}
			if err := r.readSlab(ctx, v, st, ct, stride, fn); err != nil {
				return err
			}
		}
		i := k - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < count[i] {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return nil
		}
	}
}

func (r *runner) readSlab(ctx context.Context, v *ncmodel.Var, start, count, stride []int, fn func(start, count []int, a *ncmodel.Array) error) error {
	if err := context.Cause(ctx); err != nil {
		return err
	}
	var st []int
	for _, s := range stride {
		if s != 1 {
			st = stride
		}
	}
	var a *ncmodel.Array
	var err error
	if cs := r.chunkSource(v); cs != nil && st == nil {
		a, err = readChunked(ctx, cs, v, start, count)
	} else {
		a, err = r.src.Read(v, start, count, st)
	}
	if err != nil {
		return errs.Wrap(errs.Unreadable, err, "reading %s from %s", v.Path(), baseName(r.plan.file.Path))
	}
	r.readBytes(len(a.Data))
	return fn(start, count, a)
}

// chunkSource is the source when it decodes the chunks of v itself.
func (r *runner) chunkSource(v *ncmodel.Var) ncmodel.ChunkSource {
	cs, ok := r.src.(ncmodel.ChunkSource)
	if !ok || v.Type == ncmodel.String {
		return nil
	}
	if r.direct == nil {
		r.direct = map[*ncmodel.Var]bool{}
	}
	reads, seen := r.direct[v]
	if !seen {
		reads = cs.ReadsChunks(v)
		r.direct[v] = reads
	}
	if !reads {
		return nil
	}
	return cs
}

// cut copies the part of box b that lies in the slab (start, count; stride
// 1) held in a to the output.
func (r *runner) cut(v *ncmodel.Var, o *output, b box, start, count []int, a *ncmodel.Array) error {
	rank := len(b.start)
	mlo := make([]int, rank)
	shape := make([]int, rank)
	off := make([]int, rank)
	for i := 0; i < rank; i++ {
		end := start[i] + count[i] - 1
		lo := 0
		if start[i] > b.start[i] {
			lo = (start[i] - b.start[i] + b.stride[i] - 1) / b.stride[i]
		}
		hi := b.count[i] - 1
		if last := b.start[i] + hi*b.stride[i]; last > end {
			if end < b.start[i] {
				return nil
			}
			hi = (end - b.start[i]) / b.stride[i]
		}
		if lo > hi {
			return nil
		}
		mlo[i], shape[i] = lo, hi-lo+1
		off[i] = b.start[i] + lo*b.stride[i] - start[i]
	}
	part := gather(a, off, shape, b.stride)
	shiftLon(v, part, b.shift)
	out := make([]int, rank)
	for i := range out {
		out[i] = b.out[i] + mlo[i]
	}
	return o.write(v, out, part)
}

// gather copies the sub-array at offset off with the given shape and
// strides out of a into a new dense array.
func gather(a *ncmodel.Array, off, shape, stride []int) *ncmodel.Array {
	out := ncmodel.NewArray(a.Type, shape)
	n := out.Len()
	if n == 0 {
		return out
	}
	rank := len(shape)
	if rank == 0 {
		copy(out.Data, a.Data)
		copy(out.Strings, a.Strings)
		return out
	}
	es := a.Type.Size()
	// Element strides of the source.
	srcStride := make([]int, rank)
	acc := 1
	for i := rank - 1; i >= 0; i-- {
		srcStride[i] = acc
		acc *= a.Shape[i]
	}
	idx := make([]int, rank-1)
	last := rank - 1
	dst := 0
	for {
		base := 0
		for i := 0; i < last; i++ {
			base += (off[i] + idx[i]*stride[i]) * srcStride[i]
		}
		base += off[last]
		if a.Type == ncmodel.String {
			for j := 0; j < shape[last]; j++ {
				out.Strings[dst+j] = a.Strings[base+j*stride[last]]
			}
		} else if stride[last] == 1 {
			copy(out.Data[dst*es:(dst+shape[last])*es], a.Data[base*es:(base+shape[last])*es])
		} else {
			for j := 0; j < shape[last]; j++ {
				s := (base + j*stride[last]) * es
				copy(out.Data[(dst+j)*es:(dst+j+1)*es], a.Data[s:s+es])
			}
		}
		dst += shape[last]
		i := last - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < shape[i] {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return out
		}
	}
}

// shiftLon adds shift degrees to the non-fill values of a longitude
// coordinate or bounds array, in the variable's packed units.
func shiftLon(v *ncmodel.Var, a *ncmodel.Array, shift float64) {
	if shift == 0 || v == nil || a.Type == ncmodel.String || a.Type == ncmodel.Char {
		return
	}
	raw := shift
	if s, ok := v.Attr("scale_factor"); ok && len(s.Float64s()) == 1 && s.Float64s()[0] != 0 {
		raw = shift / s.Float64s()[0]
	}
	var fills []float64
	for _, name := range []string{"_FillValue", "missing_value"} {
		if f, ok := v.Attr(name); ok {
			fills = append(fills, f.Float64s()...)
		}
	}
	for i := 0; i < a.Len(); i++ {
		x := a.Float64(i)
		if math.IsNaN(x) {
			continue
		}
		skip := false
		for _, f := range fills {
			if x == f {
				skip = true
			}
		}
		if !skip {
			a.SetFloat64(i, x+raw)
		}
	}
}
