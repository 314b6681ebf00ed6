package index

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// Data folders are often assembled with symbolic links: a "latest" link,
// datasets on several disks, a curated folder pointing into a big archive.
// A link is followed when its target, every component resolved (a link
// through another link included), lies under one of the allowed roots:
// the data directory and the folders the configuration adds
// (allowed_roots). Other links are refused with a reason the index report,
// the dataset documents and the server's log show. One rule, here, for the
// index's walk and the catalog's listings alike.

// Roots are the folders symbolic links of a data directory may lead into.
type Roots struct {
	data string   // the data directory, resolved
	dirs []string // data first, then the allowed roots, resolved
}

// NewRoots returns the roots of data directory data and the allowed
// folders (which must exist). The data directory is always one.
func NewRoots(data string, allowed []string) (*Roots, error) {
	r := &Roots{}
	for i, d := range append([]string{data}, allowed...) {
		abs, err := filepath.Abs(d)
		if err == nil {
			abs, err = filepath.EvalSymlinks(abs)
		}
		if err == nil {
			var st os.FileInfo
			if st, err = os.Stat(abs); err == nil && !st.IsDir() {
				err = fmt.Errorf("not a directory")
			}
		}
		if err != nil {
			if i == 0 {
				return nil, fmt.Errorf("data directory: %w", err)
			}
			return nil, fmt.Errorf("allowed root %s: %w", d, err)
		}
		if i == 0 {
			r.data = abs
		}
		r.dirs = append(r.dirs, abs)
	}
	return r, nil
}

// Data is the data directory, resolved.
func (r *Roots) Data() string { return r.data }

// Dirs are the roots, resolved: the data directory first.
func (r *Roots) Dirs() []string { return append([]string(nil), r.dirs...) }

// under reports whether the resolved path p lies in one of the roots.
func (r *Roots) under(p string) bool {
	for _, d := range r.dirs {
		rel, err := filepath.Rel(d, p)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel) {
			return true
		}
	}
	return false
}

// LinkError is a symbolic link refused: Reason says why in words that
// name no path, Target is where it leads (resolved as far as it could be).
type LinkError struct {
	Target string
	Reason string
}

func (e *LinkError) Error() string {
	if e.Target == "" {
		return "symbolic link " + e.Reason
	}
	return "symbolic link to " + e.Target + ": " + e.Reason
}

// Link reasons.
const (
	ReasonOutside = "its target lies outside the allowed roots"
	ReasonLoop    = "a loop of symbolic links"
	ReasonBroken  = "broken: its target does not exist"
)

// Resolve resolves every component of p and returns the real path and its
// information; a *LinkError when a link on the way is broken, loops, or
// leads out of the roots. A path without links resolves to itself.
func (r *Roots) Resolve(p string) (string, os.FileInfo, error) {
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		if _, serr := os.Stat(p); errors.Is(serr, syscall.ELOOP) {
			return "", nil, &LinkError{Reason: ReasonLoop}
		}
		if errors.Is(err, fs.ErrNotExist) {
			if _, lerr := os.Lstat(p); lerr == nil {
				target, _ := os.Readlink(p)
				return "", nil, &LinkError{Target: target, Reason: ReasonBroken}
			}
			return "", nil, err // gone meanwhile
		}
		if strings.Contains(err.Error(), "too many links") {
			return "", nil, &LinkError{Reason: ReasonLoop}
		}
		return "", nil, err
	}
	if !r.under(real) {
		return "", nil, &LinkError{Target: real, Reason: ReasonOutside}
	}
	st, err := os.Stat(real)
	if err != nil {
		return "", nil, err
	}
	return real, st, nil
}

// IsLinkError reports whether err refuses a symbolic link.
func IsLinkError(err error) bool {
	var le *LinkError
	return errors.As(err, &le)
}

// holds reports whether folder dir is, or holds, one of the open folders:
// walking it would walk them again.
func holds(dir string, open map[string]bool) bool {
	for o := range open {
		rel, err := filepath.Rel(dir, o)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return true
		}
	}
	return false
}

// Walker is what WalkFolder tells about a dataset folder.
type Walker struct {
	// File is told each data file (by IsData): rel is its name under the
	// data directory ('/'-separated), real its resolved path. Returning
	// false stops the walk.
	File func(rel, real string, st os.FileInfo) bool
	// IsData says whether a name is a data file.
	IsData func(name string) bool
	// Refused is told each entry left out: a refused link (a *LinkError)
	// or a folder that cannot be read.
	Refused func(rel string, err error)
}

// WalkFolder walks the dataset folder named rel (under the data
// directory) whose resolved path is dir, in name order, skipping names
// starting with '.'. Links to files and to folders are followed when
// Resolve accepts them; a folder link leading back to a folder the walk is
// in, or to one holding it, is refused as a loop.
func (r *Roots) WalkFolder(rel, dir string, w Walker) {
	r.walk(rel, dir, w, map[string]bool{dir: true})
}

func (r *Roots) walk(rel, dir string, w Walker, open map[string]bool) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		w.Refused(rel, fmt.Errorf("cannot read: %w", err))
		return true
	}
	sort.Slice(ents, func(i, j int) bool { return ents[i].Name() < ents[j].Name() })
	for _, e := range ents {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		erel, p := rel+"/"+name, filepath.Join(dir, name)
		real, isDir, isFile := p, e.IsDir(), e.Type().IsRegular()
		var st os.FileInfo
		if e.Type()&fs.ModeSymlink != 0 {
			if !w.IsData(name) {
				// A link to a folder, or one to skip: resolved only to
				// know which.
				if t, err := os.Stat(p); err != nil || !t.IsDir() {
					if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ELOOP) {
						continue
					}
					if err != nil {
						if _, _, rerr := r.Resolve(p); rerr != nil && IsLinkError(rerr) {
							w.Refused(erel, rerr)
						}
					}
					continue
				}
			}
			if real, st, err = r.Resolve(p); err != nil {
				if IsLinkError(err) {
					w.Refused(erel, err)
				}
				continue
			}
			isDir, isFile = st.IsDir(), st.Mode().IsRegular()
		}
		switch {
		case isDir:
			if holds(real, open) {
				w.Refused(erel, &LinkError{Target: real, Reason: ReasonLoop + ": it leads back to a folder it is in"})
				continue
			}
			open[real] = true
			more := r.walk(erel, real, w, open)
			delete(open, real)
			if !more {
				return false
			}
		case isFile && w.IsData(name):
			if st == nil {
				if st, err = e.Info(); err != nil {
					continue // gone meanwhile
				}
			}
			if !w.File(erel, real, st) {
				return false
			}
		}
	}
	return true
}
