// Package api is the HTTP interface of subsetd: chi handlers, the JSON
// documents they send, errors as application/problem+json (RFC 9457) mapped
// from internal/errs codes in one table, and the OpenAPI document that
// describes it all (openapi.json, embedded and served).
//
// Handlers are thin: they decode, call the Backend and encode. They never
// change a job's status; the Backend (jobs/queue) does. Everything here is
// testable with a fake Backend and httptest.
package api
