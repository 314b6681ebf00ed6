package index

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/subsetd/subsetd/cftime"
	"github.com/subsetd/subsetd/engine"
)

// Record is what an inspector prints for one file, as one JSON line: the
// path it was given and either a description (with Geo, and Sha256 when
// asked for) or an error.
type Record struct {
	Path        string              `json:"path"`
	Description *engine.Description `json:"description,omitempty"`
	Geo         *Geo                `json:"geo,omitempty"`
	// Time is the coverage of an auxiliary time variable (the time of each
	// point of a track) when the description has no time axis.
	Time   *engine.TimeCoverage `json:"time,omitempty"`
	Sha256 string               `json:"sha256,omitempty"`
	Error  string               `json:"error,omitempty"`
}

// Entry is one file to store: where it is and what inspecting it gave.
type Entry struct {
	Dataset string
	Path    string // relative to the data root, '/'-separated
	Size    int64
	ModTime time.Time
	Record  Record // Record.Error set: the file failed
}

// row is an Entry flattened into the columns of the files table.
type row struct {
	format, gridKind, errText string
	vars                      []engine.VarInfo
	dims                      []engine.DimInfo
	bbox                      []float64
	footprint                 [][][2]float64
	tol                       float64
	tStart, tEnd              *int64
	tStartISO, tEndISO        string
	steps                     int
	units, calendar, timeErr  string
	sha, sig                  string
}

func flatten(e Entry) row {
	r := row{errText: e.Record.Error, sha: e.Record.Sha256}
	d := e.Record.Description
	if r.errText != "" || d == nil {
		if r.errText == "" {
			r.errText = "the inspector gave no description"
		}
		return r
	}
	r.format = d.Format
	if len(d.Grids) > 0 {
		r.gridKind = d.Grids[0].Kind
	}
	r.vars, r.dims = d.Variables, d.Dimensions
	if g := e.Record.Geo; g != nil && len(g.BBox) == 4 {
		r.bbox = g.BBox
		if len(g.Footprint) > 0 {
			r.footprint, r.tol = g.Footprint, g.Tolerance
		}
	}
	t := d.Time
	if t == nil {
		t = e.Record.Time
	}
	if t != nil {
		r.steps, r.units, r.calendar, r.timeErr = t.Steps, t.Units, t.Calendar, t.Error
		if t.Error == "" && t.Start != "" && t.End != "" {
			a, err1 := unixOf(t.Start, false)
			b, err2 := unixOf(t.End, true)
			switch {
			case err1 != nil:
				r.timeErr = err1.Error()
			case err2 != nil:
				r.timeErr = err2.Error()
			default:
				r.tStart, r.tEnd, r.tStartISO, r.tEndISO = &a, &b, t.Start, t.End
			}
		}
	}
	r.sig = signature(d, r.bbox)
	return r
}

// unixOf converts a decoded date to UTC Unix seconds. Dates of other
// calendars are placed on the proleptic Gregorian one field by field
// (360_day's Feb 30 becomes Mar 2), which keeps their order. Fractions of
// a second round down, or up when up is set (the end of a coverage).
func unixOf(iso string, up bool) (int64, error) {
	d, _, err := cftime.ParseISO(iso)
	if err != nil {
		return 0, fmt.Errorf("time %q: %w", iso, err)
	}
	sec := math.Floor(d.Second)
	if up {
		sec = math.Ceil(d.Second)
	}
	if up {
		sec = math.Ceil(d.Second)
	}
	t := time.Date(d.Year, time.Month(d.Month), d.Day, d.Hour, d.Minute, int(sec), 0, time.UTC)
	return t.Unix(), nil
}

// signature is a digest of what must be equal for files to be one time
// series: variables with their types and dimensions, the lengths of every
// dimension but time, and the lat/lon box.
func signature(d *engine.Description, bbox []float64) string {
	timeDims := map[string]bool{}
	for _, a := range d.Axes {
		if a.Axis == string(engine.AxisTime) {
			timeDims[path.Base(a.Dimension)] = true
		}
	}
	var lines []string
	for _, v := range d.Variables {
		lines = append(lines, fmt.Sprintf("var %s %s (%s)", v.Name, v.Type, strings.Join(v.Dimensions, ",")))
	}
	for _, x := range d.Dimensions {
		if timeDims[path.Base(x.Name)] {
			lines = append(lines, fmt.Sprintf("dim %s time", x.Name))
		} else {
			lines = append(lines, fmt.Sprintf("dim %s %d", x.Name, x.Length))
		}
	}
	sort.Strings(lines)
	if len(bbox) == 4 {
		lines = append(lines, fmt.Sprintf("box %.5f %.5f %.5f %.5f", bbox[0], bbox[1], bbox[2], bbox[3]))
	}
	h := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(h[:12])
}
