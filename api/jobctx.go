package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/jobs"
)

// jobCtx is the loader of every route under /v1/jobs/{id} (as chi's
// ArticleCtx): it loads the job before the handler runs and answers 404
// unless the caller may see it, so that a route added below gets the same
// ownership rule without a line of its own. Another key's job is 404, not
// 403, with the text of a job that does not exist: a caller learns nothing
// of others' ids. A request without a key is 401, unless it is a signed
// link (links.go): then its signature decides, 403 when it does not match.
func (h *handler) jobCtx(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := chi.URLParam(r, "id")
		c := callerOf(r.Context())
		if signed(r) && downloadRoute(r) {
			// A signed link: the server's signature is the permission,
			// with or without a key.
			if err := h.opt.Links.verify(r); err != nil {
				writeError(w, r, err)
				return
			}
			j, err := h.b.Get(r.Context(), id)
			if err != nil {
				writeError(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), jobKey{}, j)))
			return
		}
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

// downloadRoute reports whether r is a download, the routes signed links
// are for (elsewhere a signature is no permission: keys decide).
func downloadRoute(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	rest := chi.RouteContext(r.Context()).RoutePath
	return strings.HasPrefix(rest, "/files/") || rest == "/files.zip" || rest == "/sha256sums"
}

type jobKey struct{}

// jobOf is the job jobCtx loaded.
func jobOf(ctx context.Context) *jobs.Job { return ctx.Value(jobKey{}).(*jobs.Job) }
