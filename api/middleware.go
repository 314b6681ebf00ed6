package api

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/internal/errs"
)

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += int64(n)
	return n, err
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// requestLog gives each request an id (the client's X-Request-Id when it is
// sane), a logger carrying it in the context, and one log line at the end.
func requestLog(log zerolog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t0 := time.Now()
			id := r.Header.Get("X-Request-Id")
			if !validRequestID.MatchString(id) {
				var b [8]byte
				rand.Read(b[:])
				id = hex.EncodeToString(b[:])
			}
			w.Header().Set("X-Request-Id", id)
			l := log.With().Str("request_id", id).Logger()
			r = r.WithContext(l.WithContext(r.Context()))
			sw := &statusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r)
			if r.URL.Path == "/metrics" || r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
				return
			}
			lvl := zerolog.InfoLevel
			if sw.status >= 500 {
				lvl = zerolog.ErrorLevel
			}
			zerolog.Ctx(r.Context()).WithLevel(lvl).Str("method", r.Method).Str("path", r.URL.Path).Str("client", clientAddr(r)).
				Int("status", sw.status).Int64("bytes", sw.bytes).Dur("duration", time.Since(t0)).Msg("request")
		})
	}
}

// recoverer turns a panic in a handler into a 500 problem.
func recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				zerolog.Ctx(r.Context()).Error().Str("stack", string(debug.Stack())).Msg(fmt.Sprint("panic: ", p))
				writeProblem(w, r, http.StatusInternalServerError, errs.Internal, "", "internal error: the server's log has the details")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func httpMetrics(reg prometheus.Registerer) func(http.Handler) http.Handler {
	reqs := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "subsetd_http_requests_total", Help: "HTTP requests by route, method and status."}, []string{"route", "method", "code"})
	dur := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "subsetd_http_request_duration_seconds", Help: "HTTP request durations by route.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 3, 12)}, []string{"route"})
	reg.MustRegister(reqs, dur)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t0 := time.Now()
			sw, ok := w.(*statusWriter)
			if !ok {
				sw = &statusWriter{ResponseWriter: w}
			}
			next.ServeHTTP(sw, r)
			route := "unmatched"
			if rc := chi.RouteContext(r.Context()); rc != nil && rc.RoutePattern() != "" {
				route = rc.RoutePattern()
			}
			reqs.WithLabelValues(route, r.Method, strconv.Itoa(max(sw.status, 200))).Inc()
			dur.WithLabelValues(route).Observe(time.Since(t0).Seconds())
		})
	}
}
