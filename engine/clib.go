package engine

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/subsetd/subsetd/internal/errs"
)

// The C libraries run on every input in a child process (the server's
// workers and inspectors, the command line's child), whose runner kills it
// when a call on a file does not return in time, or sees it crash in one.
// These are the words for such a file, the same everywhere; the file is
// then unreadable, as a file the libraries refuse is.

// HungReason is why a file is unreadable when a call of the C libraries on
// it did not return within limit: "the C library did not answer within 15 s".
func HungReason(limit time.Duration) string {
	return "the C library did not answer within " + Seconds(limit)
}

// CrashReason is why a file is unreadable when the C libraries crashed on
// it with signal: "the C library crashed (SIGSEGV) reading it".
func CrashReason(signal string) string {
	return "the C library crashed (" + signal + ") reading it"
}

// FileError is the error of a file with such a reason: "file x.nc: the C
// library did not answer within 15 s", unreadable. The engine reports it
// as it is when opening the file fails with it (it names the file).
func FileError(name, reason string) error {
	return NamedFileError(fmt.Sprintf("file %s: %s", name, reason))
}

// NamedFileError is a FileError carried as its message (across a process):
// the error to open the file with.
func NamedFileError(msg string) error {
	return &namedFileError{errs.E(errs.Unreadable, "%s", msg)}
}

// namedFileError is an unreadable file's error that names the file.
type namedFileError struct{ err *errs.Error }

func (e *namedFileError) Error() string { return e.err.Error() }
func (e *namedFileError) Unwrap() error { return e.err }

// Seconds writes a duration in seconds: "15 s", "2.5 s".
func Seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
}

// openError is the error of a file that cannot be opened: the reader's
// error after "cannot read x.nc", or a FileError as it is.
func openError(path string, err error) error {
	var named *namedFileError
	if errors.As(err, &named) {
		return err
	}
	return errs.Wrap(errs.Unreadable, err, "cannot read %s", baseName(path))
}
