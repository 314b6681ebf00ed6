package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/jobs"
)

// Authentication: requests carry "Authorization: Bearer <key>"; the key
// names the caller, whose jobs are its own. A missing or bad key gets 401
// with WWW-Authenticate (RFC 6750); a key that may not do something, 403.

// AuthMode says how callers are known.
type AuthMode string

// Modes: keys (every request but /healthz, /readyz, the OpenAPI document
// and signed links needs a key) or none (no keys: every caller is one
// anonymous operator who sees everything, for a server on the loopback
// address).
const (
	AuthKeys AuthMode = "keys"
	AuthNone AuthMode = "none"
)

// Keys finds the key of a secret; jobs.Store implements it.
type Keys interface {
	Authenticate(ctx context.Context, secret string) (*jobs.Key, error)
}

// caller is who sends a request.
type caller struct {
	name  string // the owner of the jobs it submits ("" without keys)
	admin bool   // sees and manages every job, reindexes, reads metrics
	quota jobs.Quota
	key   bool // known by a key (not the anonymous caller of --auth none)
}

type callerKey struct{}

// callerOf returns the caller of a request, nil when it carries no key.
func callerOf(ctx context.Context) *caller {
	c, _ := ctx.Value(callerKey{}).(*caller)
	return c
}

const realm = `Bearer realm="subsetd"`

// unauthorized answers 401 with the challenge; invalid says that a key was
// given and is not one (RFC 6750's invalid_token).
func unauthorized(w http.ResponseWriter, r *http.Request, err error, invalid bool) {
	challenge := realm
	if invalid {
		challenge += `, error="invalid_token"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	writeError(w, r, err)
}

// authenticate knows the caller of every request: the key of its
// Authorization header (a bad one is a 401 at once), or the anonymous
// operator without keys. Requests without a key go on without a caller:
// requireKey and the job loader decide.
func (h *handler) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.opt.Auth == AuthNone {
			c := &caller{admin: true, quota: h.opt.Quota}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
			return
		}
		hdr := r.Header.Get("Authorization")
		if hdr == "" {
			next.ServeHTTP(w, r)
			return
		}
		scheme, secret, _ := strings.Cut(hdr, " ")
		secret = strings.TrimSpace(secret)
		if !strings.EqualFold(scheme, "Bearer") || secret == "" {
			unauthorized(w, r, errs.E(errs.Unauthorized, "send the key as Authorization: Bearer <key>"), true)
			return
		}
		k, err := h.opt.Keys.Authenticate(r.Context(), secret)
		if err != nil {
			if errs.CodeOf(err) == errs.Unauthorized {
				zerolog.Ctx(r.Context()).Warn().Str("client", clientAddr(r)).Msg("request with an unknown or revoked key")
				unauthorized(w, r, err, true)
				return
			}
			writeError(w, r, err)
			return
		}
		c := &caller{name: k.Name, admin: k.Admin(), quota: k.Quota.Apply(h.opt.Quota), key: true}
		zerolog.Ctx(r.Context()).UpdateContext(func(l zerolog.Context) zerolog.Context { return l.Str("key", k.Name) })
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey{}, c)))
	})
}

// requireKey refuses requests without a caller: 401.
func requireKey(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if callerOf(r.Context()) == nil {
			unauthorized(w, r, errs.E(errs.Unauthorized, "this server needs an API key: send it as Authorization: Bearer <key>"), false)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// requireAdmin refuses callers without the admin role: 401 without a key,
// 403 with one.
func requireAdmin(next http.Handler) http.Handler {
	return requireKey(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !callerOf(r.Context()).admin {
			writeError(w, r, errs.E(errs.Forbidden, "%s %s needs a key with the admin role", r.Method, r.URL.Path))
			return
		}
		next.ServeHTTP(w, r)
	}))
}

// sees reports whether c may see and manage j: its owner, or an admin.
func (c *caller) sees(j *jobs.Job) bool { return c.admin || c.name == j.Owner }
