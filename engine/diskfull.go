package engine

import (
	"errors"
	"os"
	"syscall"

	"github.com/subsetd/subsetd/internal/errs"
)

// A full disk is told apart from other write failures here. The C
// libraries hide the errno of a failed write ("NetCDF: HDF error"), so
// after a write fails the output folder is probed: a small file written
// and synced there fails with ENOSPC or EDQUOT when the file system (or
// the user's quota) is full. The probe runs before the failed output's
// temporary file is removed, while what filled the disk is still there.

// probeSize is what the probe writes: more than the few blocks a file
// system has left after a write failed for want of space.
const probeSize = 64 << 10

// DiskFull reports whether dir's file system refuses more data: ENOSPC or
// EDQUOT (the errno of the probe's failed write), or nil.
func DiskFull(dir string) error {
	f, err := os.CreateTemp(dir, TempPrefix+"space-")
	if err != nil {
		return spaceErrno(err)
	}
	defer os.Remove(f.Name())
	_, err = f.Write(make([]byte, probeSize))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return spaceErrno(err)
}

// spaceErrno is ENOSPC or EDQUOT when err is one of them, else nil.
func spaceErrno(err error) error {
	for _, e := range []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT} {
		if errors.Is(err, e) {
			return e
		}
	}
	return nil
}

// NoSpace turns err into a NoSpace error when it is, or wraps, ENOSPC or
// EDQUOT: "no space left on device writing <what>". Other errors are
// returned as they are.
func NoSpace(err error, what string) error {
	if e := spaceErrno(err); e != nil {
		return noSpaceErr(e, what, err)
	}
	return err
}

func noSpaceErr(errno error, what string, cause error) error {
	msg := errno.Error()
	if what != "" {
		msg += " writing " + what
	}
	return &errs.Error{Code: errs.NoSpace, Message: msg, Err: cause}
}

// IsNoSpace reports whether err says the disk is full.
func IsNoSpace(err error) bool { return errs.CodeOf(err) == errs.NoSpace }

// spaceCheck is run when writing the outputs of a cluster failed: the
// cluster's error and its outputs' errors become NoSpace errors when the
// output folder's file system is full, and the run remembers it.
func (r *runner) spaceCheck(err *error, outs []*output, what string) {
	writeFailure := func(e error) bool {
		c := errs.CodeOf(e)
		return e != nil && (c == errs.Internal || c == errs.NoSpace)
	}
	failed := writeFailure(*err)
	for _, o := range outs {
		failed = failed || writeFailure(o.err)
	}
	if !failed {
		return
	}
	full := spaceErrno(*err)
	if full == nil {
		full = DiskFull(r.opt.OutDir)
	}
	if full == nil {
		return
	}
	r.noSpace = true
	if writeFailure(*err) && !IsNoSpace(*err) {
		*err = noSpaceErr(full, what, *err)
	}
	for _, o := range outs {
		if writeFailure(o.err) && !IsNoSpace(o.err) {
			o.err = noSpaceErr(full, o.name, o.err)
		}
	}
}
