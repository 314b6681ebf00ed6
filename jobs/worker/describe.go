package worker

import (
	"os"
	"path/filepath"

	"github.com/subsetd/subsetd/jobs"
	"github.com/subsetd/subsetd/jobs/subset"
	"github.com/subsetd/subsetd/readers/ncmodel"
)

// FileDescriber describes one opened file; the engine's subset.Describe.
type FileDescriber func(src ncmodel.Source) (*subset.Description, error)

// Describe describes the files of a dataset: each file is opened and
// described; the dimensions are those of the first readable file, the
// variables those of every file (first seen first); extent and time
// coverage are the union. A file that cannot be opened or described is
// listed with its error. Paths are reported relative to root.
func Describe(files []string, root string, open func(string) (ncmodel.Source, error), describe FileDescriber) *jobs.DatasetInfo {
	info := &jobs.DatasetInfo{Files: []jobs.FileInfo{}, Dimensions: []jobs.DimInfo{}, Variables: []jobs.VarInfo{}}
	seen := map[string]bool{}
	first := true
	for _, p := range files {
		fi := jobs.FileInfo{Name: p}
		if root != "" {
			if rel, err := filepath.Rel(root, p); err == nil {
				fi.Name = filepath.ToSlash(rel)
			}
		}
		if st, err := os.Stat(p); err == nil {
			fi.Size = st.Size()
		}
		d, err := describeOne(p, open, describe)
		if err != nil {
			fi.Error = err.Error()
			info.Files = append(info.Files, fi)
			continue
		}
		fi.Format = d.Format
		info.Files = append(info.Files, fi)
		if first {
			for _, x := range d.Dimensions {
				info.Dimensions = append(info.Dimensions, jobs.DimInfo{Name: x.Name, Size: x.Length, Unlimited: x.Unlimited})
			}
			first = false
		}
		for _, v := range d.Variables {
			if !seen[v.Name] {
				seen[v.Name] = true
				info.Variables = append(info.Variables, jobs.VarInfo{Name: v.Name, Type: v.Type, Dimensions: v.Dimensions,
					Units: v.Units, LongName: v.LongName, StandardName: v.StandardName})
			}
		}
		if e := d.Extent; e != nil {
			if x := info.Extent; x == nil {
				info.Extent = &jobs.Extent{West: e.LonMin, South: e.LatMin, East: e.LonMax, North: e.LatMax}
			} else {
				x.West, x.South, x.East, x.North = min(x.West, e.LonMin), min(x.South, e.LatMin), max(x.East, e.LonMax), max(x.North, e.LatMax)
			}
		}
		if t := d.Time; t != nil {
			if x := info.Time; x == nil {
				info.Time = &jobs.TimeCoverage{Start: t.Start, End: t.End, Steps: t.Steps, Units: t.Units, Calendar: t.Calendar, Error: t.Error}
			} else {
				// ISO strings of one calendar order as text (years 0..9999).
				if t.Start != "" && (x.Start == "" || t.Start < x.Start) {
					x.Start = t.Start
				}
				if t.End > x.End {
					x.End = t.End
				}
				x.Steps += t.Steps
			}
		}
	}
	return info
}

func describeOne(path string, open func(string) (ncmodel.Source, error), describe FileDescriber) (d *subset.Description, err error) {
	src, err := open(path)
	if err != nil {
		return nil, err
	}
	defer src.Close()
	return describe(src)
}
