package api

import (
	"context"
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
	// Of a job over its owner's max_output_bytes (413): the limit, the
	// dry run's totals and how to split the job.
	MaxOutputBytes int64         `json:"max_output_bytes,omitempty"`
	Estimate       *DryRunTotals `json:"estimate,omitempty"`
	Split          []jobs.Split  `json:"split,omitempty"`
}

type problemTypesKey struct{}

// problemTypes makes the problems of the routes below it of the codes of
// types have those type URIs (a standard's exception types).
func problemTypes(types map[errs.Code]string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), problemTypesKey{}, types)))
		})
	}
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
	var tl *jobs.TooLargeError
	if errors.As(err, &tl) {
		t := dryRunTotals(tl.Estimate)
		writeProblemDoc(w, r, Problem{Status: statusOf[code], Code: string(code), Detail: detail, MaxOutputBytes: tl.Limit, Estimate: &t, Split: tl.Split})
		return
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
	writeProblemDoc(w, r, Problem{Status: status, Detail: detail, Code: string(code), Field: field})
}

// writeProblemDoc writes p, its type, title and instance filled in.
func writeProblemDoc(w http.ResponseWriter, r *http.Request, p Problem) {
	status := p.Status
	p.Type, p.Title, p.Instance = ProblemType(errs.Code(p.Code)), http.StatusText(status), r.URL.Path
	if t, ok := r.Context().Value(problemTypesKey{}).(map[errs.Code]string); ok && t[errs.Code(p.Code)] != "" {
		p.Type = t[errs.Code(p.Code)]
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}
