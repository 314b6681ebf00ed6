package subset

import (
	"context"
	"os"
	"path/filepath"

	"github.com/subsetd/subsetd/jobs/errs"
	"github.com/subsetd/subsetd/readers/ncmodel"
)

// Merge joins the files one region got from runs over time parts (Options.
// TimePart), given in part order, into its final file at OutDir/name: the
// parts concatenated along time, as the run over every step would have
// written it. The parts are left in place; the caller removes them.
func Merge(ctx context.Context, parts []string, name string, opt Options) (OutFile, error) {
	if opt.MemoryBudget <= 0 {
		opt.MemoryBudget = DefaultMemoryBudget
	}
	if len(parts) == 0 {
		return OutFile{}, errs.E(errs.Internal, "merge %s: no parts", name)
	}
	var srcs []ncmodel.Source
	for _, p := range parts {
		src, err := opt.Open(p)
		if err != nil {
			for _, s := range srcs {
				s.Close()
			}
			return OutFile{}, errs.Wrap(errs.Internal, err, "merge %s: reading a part", name)
		}
		srcs = append(srcs, src)
	}
	var src ncmodel.Source = srcs[0]
	if len(srcs) > 1 {
		c, err := newConcat(srcs)
		if err != nil {
			for _, s := range srcs {
				s.Close()
			}
			return OutFile{}, errs.Wrap(errs.Internal, err, "merge %s", name)
		}
		src = c
	}
	defer src.Close()
	desc := cloneFile(src.File())
	// The time coverage runs from the first part's start to the last's end.
	if len(srcs) > 1 {
		if a, ok := srcs[len(srcs)-1].File().Root.Attr("time_coverage_end"); ok {
			for i := range desc.Root.Attrs {
				if desc.Root.Attrs[i].Name == "time_coverage_end" {
					desc.Root.Attrs[i] = a
				}
			}
		}
	}
	format := desc.Format
	r := &runner{src: src, plan: &filePlan{file: desc}, budget: opt.MemoryBudget, opt: opt}
	final := filepath.Join(opt.OutDir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return OutFile{}, errs.Wrap(errs.Internal, err, "output folder")
	}
	vars := map[*ncmodel.Var]*ncmodel.Var{}
	for _, v := range desc.Vars() {
		vars[v] = v
	}
	o := &output{rp: &regionPlan{name: name}, name: name, final: final, tmp: filepath.Join(filepath.Dir(final), TempPrefix+randomHex()+".nc"),
		desc: desc, vars: vars, first: map[string][]byte{}}
	defer os.Remove(o.tmp) // gone by rename when all went well
	sink, err := opt.Create(o.tmp, format)
	if err != nil {
		return OutFile{}, errs.Wrap(errs.Internal, err, "merge %s", name)
	}
	o.sink = sink
	if err := sink.Define(desc); err != nil {
		sink.Close()
		return OutFile{}, errs.Wrap(errs.Internal, err, "merge %s", name)
	}
	for _, v := range desc.Vars() {
		in := src.File().FindVar(v.Path())
		err := r.slabs(ctx, in, make([]int, len(in.Dims)), in.Shape(), nil, func(start, _ []int, a *ncmodel.Array) error {
			return o.write(v, start, a)
		})
		if err != nil {
			sink.Close()
			return OutFile{}, err
		}
	}
	if err := sink.Close(); err != nil {
		return OutFile{}, errs.Wrap(errs.Internal, err, "merge %s", name)
	}
	if err := r.finish(o); err != nil {
		return OutFile{}, err
	}
	if a, ok := desc.Root.Attr("subsetd_source"); ok {
		o.file.Source = a.Text()
	}
	return o.file, nil
}
