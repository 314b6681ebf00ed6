package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/jobs"
)

// statusOf maps error codes to HTTP statuses: the one table.
var statusOf = map[errs.Code]int{
	errs.Invalid:      http.StatusBadRequest,
	errs.NotFound:     http.StatusNotFound,
	errs.Conflict:     http.StatusConflict,
	errs.TooLarge:     http.StatusRequestEntityTooLarge,
	errs.Unreadable:   http.StatusUnprocessableEntity,
	errs.Busy:         http.StatusTooManyRequests,
	errs.Unauthorized: http.StatusUnauthorized,
	errs.Forbidden:    http.StatusForbidden,
	errs.Unavailable:  http.StatusServiceUnavailable,
	errs.NoSpace:      http.StatusInsufficientStorage,
	errs.Internal:     http.StatusInternalServerError,
}

// Problem is an RFC 9457 problem document with two extension members:
// code (the errs code) and field (the request field at fault).
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	Code     string `json:"code"`
	Field    string `json:"field,omitempty"`
}

// ProblemType is the type URI of problems of a code.
func ProblemType(code errs.Code) string { return "urn:subsetd:problem:" + string(code) }

const retryAfterSeconds = 5

// retryNoSpaceSeconds is the Retry-After of a 507: space comes back when
// an operator frees some or old jobs expire, not in seconds.
const retryNoSpaceSeconds = 60

// writeError answers with the problem of err. Internal errors are logged in
// full and shown as a generic message.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var ex *jobs.ExceededError
	if errors.As(err, &ex) {
		setExceeded(w.Header(), ex)
	}
	code := errs.CodeOf(err)
	detail := err.Error()
	var e *errs.Error
	switch {
	case code == errs.Internal:
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("internal error")
		detail = "internal error: the server's log has the details"
	case errors.As(err, &e) && e.Field != "":
		detail = e.Message
	}
	writeProblem(w, r, statusOf[code], code, errs.FieldOf(err), detail)
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, code errs.Code, field, detail string) {
	if status == 0 {
		status = http.StatusInternalServerError
	}
	if (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	}
	if status == http.StatusInsufficientStorage && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", strconv.Itoa(retryNoSpaceSeconds))
	}
	p := Problem{Type: ProblemType(code), Title: http.StatusText(status), Status: status, Detail: detail,
		Instance: r.URL.Path, Code: string(code), Field: field}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}
