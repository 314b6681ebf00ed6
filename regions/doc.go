// Package regions parses regions of interest (bounding boxes, and later
// polygons and named sets) and turns them into index ranges on a grid's
// coordinates, handling every longitude convention and the antimeridian.
//
// It is pure Go: no file access, no cgo. Callers pass coordinate values in.
package regions
