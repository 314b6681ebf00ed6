package main

import (
	"fmt"
	"io"

	"github.com/subsetd/subsetd/regions"
)

const regionsAbout = `Lists the named region sets (built in, and those of --regions-dir), or with
SET the regions of one set and their bounding boxes, [W, S, E, N] (west,
south, east, north, in degrees). Use a region in a
request as SET/NAME: subsetd subset --region africa/benguela_current ...`

func runRegions(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("regions", "subsetd regions [--regions-dir DIR] [--geojson] [SET]", regionsAbout, stderr)
	dir := fs.String("regions-dir", "", "a `DIR` of GeoJSON region sets (SET.geojson)")
	geo := fs.Bool("geojson", false, "print the set as GeoJSON")
	if code, stop := parseFlags(fs, args, stdout); stop {
		return code
	}
	if *dir != "" {
		if err := regions.LoadDir(*dir); err != nil {
			fmt.Fprintf(stderr, "subsetd regions: %v\n", err)
			return 1
		}
	}
	if fs.NArg() == 0 {
		for _, s := range regions.Sets() {
			fmt.Fprintf(stdout, "%-16s %3d regions  %s (%s)\n", s.Name, len(s.Regions), s.Title, s.Source)
		}
		return 0
	}
	s := regions.GetSet(fs.Arg(0))
	if s == nil {
		fmt.Fprintf(stderr, "subsetd regions: unknown set %q\n", fs.Arg(0))
		return 1
	}
	if *geo {
		stdout.Write(s.GeoJSON())
		return 0
	}
	for _, r := range s.Regions {
		fmt.Fprintf(stdout, "%s/%-26s %-34s %s\n", s.Name, r.Name, r.Box, r.Title)
	}
	return 0
}
