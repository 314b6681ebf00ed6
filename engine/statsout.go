package engine

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/ncmodel"
	"github.com/subsetd/subsetd/regions"
)

// cfMethods are the CF cell_methods names of the ops.
var cfMethods = map[string]string{OpMean: "mean", OpMin: "minimum", OpMax: "maximum", OpStd: "standard_deviation", OpSum: "sum"}

// opWords say what an op is in long names.
var opWords = map[string]string{OpMean: "mean", OpMin: "minimum", OpMax: "maximum", OpStd: "standard deviation", OpSum: "sum"}

// WriteStats writes a table as StatsName.nc and StatsName.csv into
// opt.OutDir, each under a temporary name, synced, checked and renamed
// (the NetCDF file through opt.Create, opt.Open and opt.Files), and returns
// them in that order. sources names the input files in the NetCDF
// file's metadata.
//
// stats.nc is a CF discrete sampling geometry (featureType timeSeries,
// orthogonal multidimensional arrays): dimensions region, time and level
// (those the table has), a region name coordinate with each region's
// bounds (lat/lon with lat_bnds/lon_bnds), one variable per variable and
// op (sst_mean: cell_methods "area: mean", "where region" when cells were
// selected by outlines) and one count variable per variable. stats.csv has
// one row per value: region,time[,level],variable,op,value,count.
func WriteStats(t *StatsTable, sources []string, opt Options) ([]OutFile, error) {
	if opt.Files == nil {
		opt.Files = osFiles{}
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if err := os.MkdirAll(opt.OutDir, 0o755); err != nil {
		return nil, errs.Wrap(errs.Internal, err, "output folder")
	}
	nc, err := writeStatsNC(t, sources, opt)
	if err != nil {
		return nil, err
	}
	cs, err := writeStatsCSV(t, opt.OutDir)
	if err != nil {
		opt.Files.Remove(nc.Path)
		return nil, err
	}
	return []OutFile{nc, cs}, nil
}

// StatsColumns is the header of stats.csv; level follows time when the
// table has a vertical axis.
func StatsColumns(level bool) []string {
	if level {
		return []string{"region", "time", "level", "variable", "op", "value", "count"}
	}
	return []string{"region", "time", "variable", "op", "value", "count"}
}

// FormatStat writes a value as stats.csv does: the shortest decimal that
// reads back the same float64.
func FormatStat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

func writeStatsCSV(t *StatsTable, dir string) (OutFile, error) {
	name := StatsName + ".csv"
	final := filepath.Join(dir, name)
	f, err := os.CreateTemp(dir, TempPrefix+"*.csv")
	if err != nil {
		return OutFile{}, errs.Wrap(errs.Internal, err, "creating %s", name)
	}
	tmp := f.Name()
	fail := func(err error) (OutFile, error) {
		f.Close()
		os.Remove(tmp)
		return OutFile{}, errs.Wrap(errs.Internal, err, "writing %s", name)
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	w := csv.NewWriter(bw)
	level := t.Level != nil
	if err := w.Write(StatsColumns(level)); err != nil {
		return fail(err)
	}
	rows := t.Rows()
	rec := make([]string, 0, 7)
	for _, r := range rows {
		rec = append(rec[:0], r.Region, r.Time)
		if level {
			lv := ""
			if r.Level != nil {
				lv = FormatStat(*r.Level)
			}
			rec = append(rec, lv)
		}
		val := ""
		if r.Value != nil {
			val = FormatStat(*r.Value)
		}
		rec = append(rec, r.Variable, r.Op, val, strconv.FormatInt(r.Count, 10))
		if err := w.Write(rec); err != nil {
			return fail(err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fail(err)
	}
	if err := bw.Flush(); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return OutFile{}, errs.Wrap(errs.Internal, err, "writing %s", name)
	}
	sum, err := checksums(osFiles{}, tmp)
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		os.Remove(tmp)
		return OutFile{}, errs.Wrap(errs.Internal, err, "moving %s into place", name)
	}
	syncDir(dir)
	return OutFile{Name: name, Path: final, Size: sum.n, Sha256: sum.sha, Md5: sum.md5, Crc32: sum.crc, Shape: map[string]int{"rows": len(rows)}}, nil
}

// statsVarName is the NetCDF name of a variable's statistic: its path
// with '/' as '_', then the op.
func statsVarName(v StatsVar, op string) string {
	return strings.ReplaceAll(v.Name, "/", "_") + "_" + op
}

func writeStatsNC(t *StatsTable, sources []string, opt Options) (OutFile, error) {
	name := StatsName + ".nc"
	final := filepath.Join(opt.OutDir, name)
	tmp := filepath.Join(opt.OutDir, TempPrefix+randomHex()+".nc")
	desc, data := statsFile(t, sources, opt)
	sink, err := opt.Create(tmp, ncmodel.FormatNetCDF4)
	if err != nil {
		return OutFile{}, errs.Wrap(errs.Internal, err, "creating %s", name)
	}
	fail := func(err error) (OutFile, error) {
		if sink != nil {
			sink.Close()
		}
		opt.Files.Remove(tmp)
		return OutFile{}, errs.Wrap(errs.Internal, err, "writing %s", name)
	}
	if err := sink.Define(desc); err != nil {
		return fail(err)
	}
	for _, w := range data {
		if err := sink.Write(w.path, w.start, w.a); err != nil {
			return fail(err)
		}
	}
	s := sink
	sink = nil
	if err := s.Close(); err != nil {
		return fail(err)
	}
	if err := readBack(opt.Open, tmp, desc, nil); err != nil {
		return fail(fmt.Errorf("checking it: %w", err))
	}
	sum, err := checksums(opt.Files, tmp)
	if err == nil {
		err = opt.Files.Rename(tmp, final)
	}
	if err != nil {
		return fail(err)
	}
	syncDir(opt.OutDir)
	return OutFile{Name: name, Path: final, Size: sum.n, Sha256: sum.sha, Md5: sum.md5, Crc32: sum.crc, Shape: shapeOf(desc), Source: strings.Join(sources, ", "),
		Variables: OutVars(desc)}, nil
}

// statsWrite is one write of stats.nc.
type statsWrite struct {
	path  string
	start []int
	a     *ncmodel.Array
}

// statsFile describes stats.nc and the writes that fill it.
func statsFile(t *StatsTable, sources []string, opt Options) (*ncmodel.File, []statsWrite) {
	root := &ncmodel.Group{}
	f := &ncmodel.File{Format: ncmodel.FormatNetCDF4, Root: root}
	text := func(n, v string) ncmodel.Attr { return ncmodel.Attr{Name: n, Type: ncmodel.Char, Value: v} }
	dim := func(n string, l int) *ncmodel.Dim {
		d := &ncmodel.Dim{Name: n, Len: l, Group: root}
		root.Dims = append(root.Dims, d)
		return d
	}
	var writes []statsWrite
	addVar := func(n string, typ ncmodel.Type, dims []*ncmodel.Dim, attrs ...ncmodel.Attr) *ncmodel.Var {
		v := &ncmodel.Var{Name: n, Type: typ, Dims: dims, Attrs: attrs, Group: root}
		root.Vars = append(root.Vars, v)
		return v
	}
	whole := func(v *ncmodel.Var, fill func(a *ncmodel.Array)) {
		a := ncmodel.NewArray(v.Type, v.Shape())
		fill(a)
		writes = append(writes, statsWrite{v.Path(), make([]int, len(v.Dims)), a})
	}
	nr := len(t.Regions)
	rd := dim("region", nr)
	var td, ld *ncmodel.Dim
	if t.Time != nil {
		td = dim("time", len(t.Time.Values))
	}
	if t.Level != nil {
		ld = dim("level", len(t.Level.Values))
	}
	nv := dim("nv", 2)

	rv := addVar("region", ncmodel.String, []*ncmodel.Dim{rd}, text("long_name", "region name"), text("cf_role", "timeseries_id"))
	whole(rv, func(a *ncmodel.Array) {
		for i, r := range t.Regions {
			a.Strings[i] = r.Name
		}
	})
	lat := addVar("lat", ncmodel.Double, []*ncmodel.Dim{rd}, text("standard_name", "latitude"), text("long_name", "latitude of the centre of the region's bounding box"), text("units", "degrees_north"), text("bounds", "lat_bnds"))
	lon := addVar("lon", ncmodel.Double, []*ncmodel.Dim{rd}, text("standard_name", "longitude"), text("long_name", "longitude of the centre of the region's bounding box"), text("units", "degrees_east"), text("bounds", "lon_bnds"))
	latB := addVar("lat_bnds", ncmodel.Double, []*ncmodel.Dim{rd, nv}, text("long_name", "south and north of the region's bounding box"), text("units", "degrees_north"))
	lonB := addVar("lon_bnds", ncmodel.Double, []*ncmodel.Dim{rd, nv}, text("long_name", "west and east of the region's bounding box (west > east: across the antimeridian)"), text("units", "degrees_east"))
	whole(lat, func(a *ncmodel.Array) {
		for i, r := range t.Regions {
			a.SetFloat64(i, (r.Bounds[1]+r.Bounds[3])/2)
		}
	})
	whole(lon, func(a *ncmodel.Array) {
		for i, r := range t.Regions {
			b := regions.BBox{West: r.Bounds[0], South: r.Bounds[1], East: r.Bounds[2], North: r.Bounds[3]}
			a.SetFloat64(i, regions.Normalize180(b.West+b.LonWidth()/2))
		}
	})
	whole(latB, func(a *ncmodel.Array) {
		for i, r := range t.Regions {
			a.SetFloat64(2*i, r.Bounds[1])
			a.SetFloat64(2*i+1, r.Bounds[3])
		}
	})
	whole(lonB, func(a *ncmodel.Array) {
		for i, r := range t.Regions {
			a.SetFloat64(2*i, r.Bounds[0])
			a.SetFloat64(2*i+1, r.Bounds[2])
		}
	})
	if td != nil {
		attrs := []ncmodel.Attr{text("standard_name", "time"), text("long_name", "time"), text("axis", "T")}
		if t.Time.Units != "" {
			attrs = append(attrs, text("units", t.Time.Units))
		}
		if t.Time.Calendar != "" {
			attrs = append(attrs, text("calendar", t.Time.Calendar))
		}
		tv := addVar("time", ncmodel.Double, []*ncmodel.Dim{td}, attrs...)
		whole(tv, func(a *ncmodel.Array) {
			for i, x := range t.Time.Values {
				a.SetFloat64(i, x)
			}
		})
	}
	if ld != nil {
		attrs := []ncmodel.Attr{text("axis", "Z")}
		for _, kv := range [][2]string{{"standard_name", t.Level.StandardName}, {"long_name", t.Level.LongName}, {"units", t.Level.Units}, {"positive", t.Level.Positive}} {
			if kv[1] != "" {
				attrs = append(attrs, text(kv[0], kv[1]))
			}
		}
		if t.Level.LongName == "" {
			attrs = append(attrs, text("long_name", "vertical coordinate "+t.Level.Name))
		}
		lv := addVar("level", ncmodel.Double, []*ncmodel.Dim{ld}, attrs...)
		whole(lv, func(a *ncmodel.Array) {
			for i, x := range t.Level.Values {
				a.SetFloat64(i, x)
			}
		})
	}
	masked := false
	for _, r := range t.Regions {
		masked = masked || r.Masked
	}
	fillRaw := ncmodel.DefaultFill(ncmodel.Double)
	fill := ncmodel.DecodeValues(ncmodel.Double, fillRaw)
	for vi, sv := range t.Vars {
		dims := []*ncmodel.Dim{rd}
		if sv.Time && td != nil {
			dims = append(dims, td)
		}
		if sv.Level && ld != nil {
			dims = append(dims, ld)
		}
		what := sv.LongName
		if what == "" {
			what = sv.Name
		}
		coords := text("coordinates", "lat lon region")
		per := t.steps(vi) * t.levels(vi) // values per region
		for _, op := range t.Ops {
			if op == OpCount {
				continue
			}
			method := "area: " + cfMethods[op]
			if masked {
				method += " where region"
			}
			if sv.CellMethods != "" {
				method = sv.CellMethods + " " + method
			}
			attrs := []ncmodel.Attr{{Name: "_FillValue", Type: ncmodel.Double, Value: fill}, text("long_name", what+", "+opWords[op]+" over the region")}
			if sv.StandardName != "" {
				attrs = append(attrs, text("standard_name", sv.StandardName))
			}
			if sv.Units != "" {
				attrs = append(attrs, text("units", sv.Units))
			}
			comment := "cells weighted by " + sv.Weighting
			if op == OpSum || op == OpMin || op == OpMax {
				comment = "not weighted"
			}
			if masked {
				comment += "; where region: over the cells whose centre lies inside the region (its polygon, or its box)"
			}
			attrs = append(attrs, text("cell_methods", method), coords, text("comment", comment))
			v := addVar(statsVarName(sv, op), ncmodel.Double, dims, attrs...)
			v.Chunks, v.Deflate, v.Shuffle = chunkShape(v, chunkTarget), 1, true
			for ri, r := range t.Regions {
				a := ncmodel.NewArray(ncmodel.Double, append([]int{1}, v.Shape()[1:]...))
				for k := 0; k < per; k++ {
					var x float64
					ok := false
					if r.Moments != nil && r.Moments[vi] != nil {
						x, ok = r.Moments[vi][k].Value(op)
					}
					if ok {
						a.SetFloat64(k, x)
					} else {
						copy(a.Data[8*k:8*k+8], fillRaw)
					}
				}
				writes = append(writes, statsWrite{v.Path(), append([]int{ri}, make([]int, len(dims)-1)...), a})
			}
		}
		cv := addVar(statsVarName(sv, OpCount), ncmodel.Int, dims, text("long_name", "number of valid cells of "+what+" in the region"), text("units", "1"), coords)
		cv.Chunks, cv.Deflate, cv.Shuffle = chunkShape(cv, chunkTarget), 1, true
		for ri, r := range t.Regions {
			a := ncmodel.NewArray(ncmodel.Int, append([]int{1}, cv.Shape()[1:]...))
			if r.Moments != nil && r.Moments[vi] != nil {
				for k := 0; k < per; k++ {
					a.SetFloat64(k, float64(r.Moments[vi][k].N))
				}
			}
			writes = append(writes, statsWrite{cv.Path(), append([]int{ri}, make([]int, len(dims)-1)...), a})
		}
	}
	cmd := opt.Command
	if cmd == "" {
		cmd = "subsetd subset"
	}
	root.Attrs = []ncmodel.Attr{
		text("Conventions", "CF-1.8"),
		text("featureType", "timeSeries"),
		text("title", "Statistics of regions"),
		text("source", strings.Join(sources, ", ")),
		text("history", opt.Now().UTC().Format("2006-01-02T15:04:05Z")+": "+cmd+" (subsetd "+opt.Version+", statistics)"),
		text("subsetd_version", opt.Version),
		text("subsetd_weights", t.Weights),
	}
	return f, writes
}
