package api

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

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

// setExceeded sets the fields of an answer refused by a limit: Retry-After,
// the policy, and its state (nothing left).
func setExceeded(h http.Header, ex *jobs.ExceededError) {
	h.Set("Retry-After", strconv.FormatInt(max(seconds(ex.RetryAfter), 1), 10))
	h.Add("RateLimit-Policy", policyItem(ex.Limit))
	h.Set("RateLimit", rateLimitItem(ex.Limit, 0, ex.RetryAfter))
}
