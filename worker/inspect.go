package worker

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/debug"
	"strings"

	"github.com/subsetd/subsetd/catalog/index"
	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/ncmodel"
)

// Inspect is the child side of the inspector protocol (`subsetd inspect
// --stdin`, started by catalog/index): it reads file paths from in, one per
// line, and answers each with one index.Record as one JSON line on out,
// written whole so that the reader never sees half a line. Files are opened
// with env.Open. A file that cannot be read gives an error record, a panic
// on one file too; a crash of the C libraries kills the process, and the
// index records the file and starts another inspector. With withSha each
// record carries the sha256 of the file.
func Inspect(in io.Reader, out io.Writer, env Env, withSha bool) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		path := strings.TrimRight(sc.Text(), "\r")
		if path == "" {
			continue
		}
		b, err := json.Marshal(inspectRecord(path, env, withSha))
		if err != nil {
			b, _ = json.Marshal(index.Record{Path: path, Error: "encode description: " + err.Error()})
		}
		if _, err := out.Write(append(b, '\n')); err != nil {
			return err
		}
	}
	return sc.Err()
}

func inspectRecord(path string, env Env, withSha bool) (rec index.Record) {
	rec.Path = path
	defer func() {
		if p := recover(); p != nil {
			rec = index.Record{Path: path, Error: fmt.Sprintf("internal error: %v", p)}
			env.Log.Error().Str("path", path).Str("stack", string(debug.Stack())).Msgf("panic: %v", p)
		}
	}()
	src, err := env.Open(path)
	if err != nil {
		rec.Error = err.Error()
		return rec
	}
	defer src.Close()
	d, err := engine.Describe(src)
	if err != nil {
		rec.Error = err.Error()
		return rec
	}
	var grids []index.GridCoords
	for _, g := range engine.FindCoords(src.File()).Grids {
		lat, err1 := engine.CoordValues(src, g.Lat)
		lon, err2 := engine.CoordValues(src, g.Lon)
		if err1 != nil || err2 != nil {
			// A box from the other grids would be too small: no box at all
			// is wrong too. The file fails, as a cut of it would.
			return index.Record{Path: path, Error: fmt.Sprintf("read coordinates %s, %s: %v", g.Lat.Path(), g.Lon.Path(), errors.Join(err1, err2))}
		}
		grids = append(grids, index.GridCoords{Kind: string(g.Kind), Lat: lat, Lon: lon, Shape: g.Lat.Shape()})
	}
	rec.Description, rec.Geo = d, index.GeoOf(grids)
	if d.Time == nil {
		rec.Time = auxTime(src)
	}
	if withSha {
		f, err := os.Open(path)
		if err != nil {
			return index.Record{Path: path, Error: err.Error()}
		}
		defer f.Close()
		h := sha256.New()
		if _, err := io.Copy(h, f); err != nil {
			return index.Record{Path: path, Error: "sha256: " + err.Error()}
		}
		rec.Sha256 = hex.EncodeToString(h.Sum(nil))
	}
	return rec
}

// auxTime is the coverage of an auxiliary time variable (the time of each
// point of a track, of each scan of a swath) for a file without a time
// axis: Describe looks at 1-D coordinate variables only.
func auxTime(src ncmodel.Source) *engine.TimeCoverage {
	for _, v := range src.File().Vars() {
		if v.IsCoordinate() || len(v.Dims) == 0 || len(v.Dims) > 2 || engine.AxisOf(v) != engine.AxisTime {
			continue
		}
		u, err := engine.TimeAxis(v)
		if err != nil {
			continue
		}
		vals, err := engine.CoordValues(src, v)
		if err != nil {
			continue
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, x := range vals {
			if !math.IsNaN(x) && !math.IsInf(x, 0) {
				lo, hi = math.Min(lo, x), math.Max(hi, x)
			}
		}
		if lo > hi {
			continue
		}
		a, err1 := u.Decode(lo)
		b, err2 := u.Decode(hi)
		if err1 != nil || err2 != nil {
			continue
		}
		cal := "standard"
		if c, ok := v.Attr("calendar"); ok {
			cal = c.Text()
		}
		return &engine.TimeCoverage{Start: a.String(), End: b.String(), Steps: len(vals), Units: v.AttrString("units"), Calendar: cal}
	}
	return nil
}
