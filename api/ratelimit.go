package api

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/jobs"
)

// The RateLimit-Policy and RateLimit fields of the IETF's "RateLimit header
// fields for HTTP" draft (draft-ietf-httpapi-ratelimit-headers-09): a list
// of quota policies, each a string with parameters q (quota), w (window,
// seconds) and qu (quota unit); and the state of one of them, r (remaining)
// and t (seconds until it is available again).

// policyItem is one member of RateLimit-Policy.
func policyItem(l jobs.Limit) string {
	var b strings.Builder
	b.WriteString(strconv.Quote(l.Policy))
	b.WriteString(";q=" + strconv.FormatInt(l.Quota, 10))
	if l.Window > 0 {
		b.WriteString(";w=" + strconv.FormatInt(int64(math.Ceil(l.Window.Seconds())), 10))
	}
	if l.Unit != "" && l.Unit != "requests" {
		b.WriteString(";qu=" + strconv.Quote(l.Unit))
	}
	return b.String()
}

// rateLimitItem is the RateLimit member of a policy with remaining quota
// left, available again in reset.
func rateLimitItem(l jobs.Limit, remaining int64, reset time.Duration) string {
	return strconv.Quote(l.Policy) + ";r=" + strconv.FormatInt(max(remaining, 0), 10) + ";t=" + strconv.FormatInt(seconds(reset), 10)
}

// seconds rounds d up to whole seconds, as Retry-After and t count them.
func seconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64(math.Ceil(d.Seconds()))
}

// addPolicy adds a policy to the list of RateLimit-Policy, on one line.
func addPolicy(h http.Header, l jobs.Limit) {
	if p := h.Get("RateLimit-Policy"); p != "" {
		h.Set("RateLimit-Policy", p+", "+policyItem(l))
		return
	}
	h.Set("RateLimit-Policy", policyItem(l))
}

// setExceeded sets the fields of an answer refused by a limit: Retry-After,
// the policy, and its state (nothing left).
func setExceeded(h http.Header, ex *jobs.ExceededError) {
	h.Set("Retry-After", strconv.FormatInt(max(seconds(ex.RetryAfter), 1), 10))
	addPolicy(h, ex.Limit)
	h.Set("RateLimit", rateLimitItem(ex.Limit, 0, ex.RetryAfter))
}

// The request rate of a caller is a token bucket (quota requests_per_second
// and burst): each request takes a token, tokens come back at the rate, up
// to the burst. Callers are counted by key name, and requests without a key
// (signed links) by client address. The buckets live in this process: with
// several servers behind one balancer each counts its own requests.

type bucket struct {
	tokens float64
	at     time.Time
}

// limiter holds the buckets of the callers seen lately.
type limiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	now     func() time.Time
}

// limiterMax bounds the buckets kept: past it, full buckets (callers idle
// long enough to have all their tokens back) are dropped.
const limiterMax = 10000

// take takes a token of who's bucket under q, and reports what is left and
// how long until the bucket is full again (or, when none was left, until
// the next token).
func (l *limiter) take(who string, q jobs.Quota) (ok bool, remaining int64, reset time.Duration) {
	rate, burst := q.RequestsPerSecond, float64(q.BurstSize())
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[string]*bucket{}
	}
	b := l.buckets[who]
	if b == nil {
		if len(l.buckets) >= limiterMax {
			l.prune(now, rate, burst)
		}
		b = &bucket{tokens: burst, at: now}
		l.buckets[who] = b
	}
	b.tokens = min(burst, b.tokens+now.Sub(b.at).Seconds()*rate)
	b.at = now
	if b.tokens < 1 {
		return false, 0, time.Duration((1 - b.tokens) / rate * float64(time.Second))
	}
	b.tokens--
	return true, int64(b.tokens), time.Duration((burst - b.tokens) / rate * float64(time.Second))
}

func (l *limiter) prune(now time.Time, rate, burst float64) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*rate >= burst {
			delete(l.buckets, k)
		}
	}
}

// requestsLimit is the policy of a request rate, as RateLimit-Policy says
// it: the burst over the time the bucket takes to fill.
func requestsLimit(q jobs.Quota) jobs.Limit {
	burst := q.BurstSize()
	return jobs.Limit{Policy: "requests", Quota: int64(burst), Window: time.Duration(float64(burst) / q.RequestsPerSecond * float64(time.Second)), Unit: "requests"}
}

// rateLimit applies the request rate of the caller (the default quota for
// requests without a key) and tells it in RateLimit-Policy and RateLimit;
// over it, 429 with Retry-After.
func (h *handler) rateLimit(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q, who := h.opt.Quota, "addr "+clientAddr(r)
		if c := callerOf(r.Context()); c != nil && c.key {
			q, who = c.quota, "key "+c.name
		}
		if q.RequestsPerSecond <= 0 {
			next.ServeHTTP(w, r)
			return
		}
		lim := requestsLimit(q)
		ok, remaining, reset := h.limits.take(who, q)
		if !ok {
			writeError(w, r, &jobs.ExceededError{Limit: lim, RetryAfter: reset,
				Err: errs.E(errs.Busy, "more than %g requests per second (bursts of %d): try again in %d s", q.RequestsPerSecond, lim.Quota, max(seconds(reset), 1))})
			return
		}
		addPolicy(w.Header(), lim)
		w.Header().Set("RateLimit", rateLimitItem(lim, remaining, reset))
		next.ServeHTTP(w, r)
	})
}
