package api

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/jobs"
)

// jobCtx is the loader of every route under /v1/jobs/{id} (as chi's
// ArticleCtx): it loads the job before the handler runs and answers 404
// unless the caller may see it, so that a route added below gets the same
// ownership rule without a line of its own. Another key's job is 404, not
// 403, with the text of a job that does not exist: a caller learns nothing
// of others' ids. A request without a key is 401.
func (h *handler) jobCtx(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := chi.URLParam(r, "id")
		c := callerOf(r.Context())
		if c == nil {
			unauthorized(w, r, errs.E(errs.Unauthorized, "this server needs an API key: send it as Authorization: Bearer <key>"), false)
			return
		}
		j, err := h.b.Get(r.Context(), id)
		if err == nil && !c.sees(j) {
			err = errs.E(errs.NotFound, "no job %q", id)
		}
		if err != nil {
			writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), jobKey{}, j)))
	})
}

type jobKey struct{}

// jobOf is the job jobCtx loaded.
func jobOf(ctx context.Context) *jobs.Job { return ctx.Value(jobKey{}).(*jobs.Job) }
