// Package errs gives errors a code that says whose fault they are and how a
// front end shows them (an HTTP status, an exit code, whether a retry can
// help). Messages are for users; codes are for programs.
package errs

import (
	"errors"
	"fmt"
	"strings"
)

// Code classifies an error.
type Code string

// The codes.
const (
	Invalid      Code = "invalid"      // the request is wrong: a bad bbox, an unknown variable...
	NotFound     Code = "not_found"    // a named thing does not exist
	Unreadable   Code = "unreadable"   // an input file cannot be read: corrupt, truncated, not NetCDF/HDF5
	TooLarge     Code = "too_large"    // the request is larger than allowed
	Conflict     Code = "conflict"     // the request conflicts with the current state
	Unavailable  Code = "unavailable"  // try again later: shutting down, a dependency is down
	Busy         Code = "busy"         // too much work queued: try again after a while (HTTP 429)
	Unauthorized Code = "unauthorized" // the request carries no valid key (HTTP 401)
	Forbidden    Code = "forbidden"    // the key may not do it; a signed link tampered with or expired (HTTP 403)
	NoSpace      Code = "no_space"     // the server's disk is full (or below its reserve): try again later (HTTP 507)
	Internal     Code = "internal"     // a bug or an environment failure (disk full, permissions)
)

// Error is an error with a code and a user-facing message. Field names the
// request field at fault, when there is one ("regions[2].bbox").
type Error struct {
	Code    Code
	Field   string
	Message string
	Err     error // the underlying cause, if any; not shown to users
}

// Error is the message after its field, said once: a message that already
// starts with "field: " (one carried across a process boundary as text)
// is not prefixed again.
func (e *Error) Error() string {
	if e.Field != "" && !strings.HasPrefix(e.Message, e.Field+": ") {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// E makes an error with a formatted message.
func E(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// F makes an error about a request field.
func F(code Code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Wrap wraps err with a code and message; the message should say what failed.
func Wrap(code Code, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...) + ": " + err.Error(), Err: err}
}

// CodeOf returns the code of the first *Error in err's chain; Internal when
// there is none, "" for nil.
func CodeOf(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// FieldOf returns the request field named by err's chain, or "".
func FieldOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// Retryable reports whether running the same work again may succeed: only
// errors without a code (environment failures, crashes), Unavailable, Busy
// and NoSpace.
// Deterministic problems with the request or the input are not.
func Retryable(err error) bool {
	switch CodeOf(err) {
	case Internal, Unavailable, Busy, NoSpace:
		return true
	}
	return false
}
