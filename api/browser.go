package api

import (
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/subsetd/subsetd/internal/errs"
)

// What a web page on another origin needs, answered before anything else
// (keys, rates, routes): CORS, OPTIONS, the Allow field of a 405, HEAD on
// every GET route and the media type of request bodies.

// CORS fields of every answer to an allowed origin.
const (
	corsAllowHeaders  = "Authorization, Content-Type, Idempotency-Key, Range, Last-Event-ID"
	corsExposeHeaders = "Location, ETag, Repr-Digest, Retry-After, Content-Disposition, Content-Length, Content-Range, Accept-Ranges, RateLimit, RateLimit-Policy, Idempotent-Replayed, X-Request-Id"
	corsMaxAge        = "600"
)

// routeMethods are the methods a route may have.
var routeMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodDelete}

// allowed lists the methods of the route of path, OPTIONS included; nil
// when no route has that path. (chi's Find does not tell a route of a
// sub-router without the method from one with it, so the routes are
// walked once and matched here.)
func (h *handler) allowed(path string) []string {
	h.routesOnce.Do(func() {
		_ = chi.Walk(h.mux, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
			route = strings.ReplaceAll(route, "/*/", "/")
			if len(route) > 1 {
				route = strings.TrimSuffix(route, "/")
			}
			h.routes = append(h.routes, routeOf{method: method, parts: strings.Split(route, "/")})
			return nil
		})
	})
	var has = map[string]bool{}
	parts := strings.Split(path, "/")
	for _, rt := range h.routes {
		if matchRoute(rt.parts, parts) {
			has[rt.method] = true
		}
	}
	var out []string
	for _, m := range routeMethods {
		if has[m] || m == http.MethodHead && has[http.MethodGet] {
			out = append(out, m)
		}
	}
	if out == nil {
		return nil
	}
	return append(out, http.MethodOptions)
}

// routeOf is a route's method and the parts of its pattern.
type routeOf struct {
	method string
	parts  []string
}

// matchRoute matches the parts of a path to those of a chi pattern:
// {param} is one part, * the rest.
func matchRoute(pattern, parts []string) bool {
	for i, p := range pattern {
		if p == "*" {
			return i < len(parts) && parts[i] != ""
		}
		if i >= len(parts) {
			return false
		}
		if strings.HasPrefix(p, "{") {
			if parts[i] == "" {
				return false
			}
			continue
		}
		if p != parts[i] {
			return false
		}
	}
	return len(pattern) == len(parts)
}

// corsOrigin returns the Access-Control-Allow-Origin of a request's
// Origin: "*" when every origin may call (without credentials), the origin
// itself when it is listed, "" otherwise.
func (h *handler) corsOrigin(origin string) string {
	if origin == "" || len(h.opt.CORSOrigins) == 0 {
		return ""
	}
	if slices.Contains(h.opt.CORSOrigins, "*") {
		return "*"
	}
	for _, o := range h.opt.CORSOrigins {
		if strings.EqualFold(o, origin) {
			return origin
		}
	}
	return ""
}

// browser answers CORS and OPTIONS, lets HEAD through as GET and refuses a
// POST body that is not JSON (a form or text/plain: what any page can send
// cross-site without a preflight) with 415.
func (h *handler) browser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hdr := w.Header()
		if len(h.opt.CORSOrigins) > 0 {
			hdr.Add("Vary", "Origin")
		}
		allow := h.corsOrigin(r.Header.Get("Origin"))
		if allow != "" {
			hdr.Set("Access-Control-Allow-Origin", allow)
			hdr.Set("Access-Control-Expose-Headers", corsExposeHeaders)
			// Keys travel in Authorization, which a page sets itself;
			// credentials (cookies) are never needed, and never with "*".
		}
		switch r.Method {
		case http.MethodOptions:
			methods := h.allowed(r.URL.Path)
			if methods == nil {
				writeProblem(w, r, http.StatusNotFound, errs.NotFound, "", "no such resource: "+r.URL.Path)
				return
			}
			hdr.Set("Allow", strings.Join(methods, ", "))
			if allow != "" && r.Header.Get("Access-Control-Request-Method") != "" {
				hdr.Set("Access-Control-Allow-Methods", strings.Join(methods, ", "))
				hdr.Set("Access-Control-Allow-Headers", corsAllowHeaders)
				hdr.Set("Access-Control-Max-Age", corsMaxAge)
				hdr.Add("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers")
			}
			hdr.Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusNoContent)
			return
		case http.MethodPost:
			if hasBody(r) && !isJSON(r.Header.Get("Content-Type")) && slices.Contains(h.allowed(r.URL.Path), http.MethodPost) {
				hdr.Set("Accept-Post", "application/json")
				writeProblem(w, r, http.StatusUnsupportedMediaType, errs.Invalid, "Content-Type",
					"the request body must be JSON, sent as Content-Type: application/json (curl: --json, or -H 'Content-Type: application/json'), not "+
						quoteOr(r.Header.Get("Content-Type"), "no Content-Type"))
				return
			}
		case http.MethodHead:
			// Every GET route answers HEAD: the handler runs as for GET
			// (net/http sends no body), so the fields are those of GET.
			if rc := chi.RouteContext(r.Context()); rc != nil && slices.Contains(h.allowed(r.URL.Path), http.MethodGet) {
				rc.RouteMethod = http.MethodGet
			}
		}
		next.ServeHTTP(w, r)
	})
}

// methodNotAllowed answers 405 with the route's methods in Allow.
func (h *handler) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	methods := h.allowed(r.URL.Path)
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeProblem(w, r, http.StatusMethodNotAllowed, errs.Invalid, "", "method "+r.Method+" is not allowed on "+r.URL.Path+": use "+strings.Join(methods, ", "))
}

func hasBody(r *http.Request) bool { return r.ContentLength > 0 || r.ContentLength < 0 }

// isJSON accepts application/json and application/<anything>+json.
func isJSON(ctype string) bool {
	mt, _, err := mime.ParseMediaType(ctype)
	return err == nil && (mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json"))
}

func quoteOr(s, none string) string {
	if s == "" {
		return none
	}
	return `"` + s + `"`
}
