package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/subsetd/subsetd/api"
	"github.com/subsetd/subsetd/internal/errs"
)

// The client commands (submit, status, fetch, cancel) talk to a server
// through a remote: its address and key from --server/--key or the
// environment, problem+json answers turned into errors with their code and
// field, 503 answers retried after their Retry-After.

// Environment variables of the client commands.
const (
	serverEnv = "SUBSETD_SERVER"
	keyEnv    = "SUBSETD_KEY"
)

const (
	// retries503 is how many times an answer 503 (indexing, shutting
	// down) is tried again, waiting at most maxRetryAfter each time.
	retries503    = 3
	maxRetryAfter = 30 * time.Second
)

// remoteFlags are --server and --key, shared by the client commands.
type remoteFlags struct {
	server, key *string
}

func addRemoteFlags(fs *flag.FlagSet) *remoteFlags {
	return &remoteFlags{
		server: fs.String("server", "", "the server's `URL`, e.g. http://127.0.0.1:8080 (default: $"+serverEnv+")"),
		key:    fs.String("key", "", "an API `key`, sent as Authorization: Bearer (default: $"+keyEnv+")"),
	}
}

// remote is a subsetd server.
type remote struct {
	base *url.URL
	key  string
	http *http.Client
}

func (f *remoteFlags) remote() (*remote, error) {
	s := *f.server
	if s == "" {
		s = os.Getenv(serverEnv)
	}
	if s == "" {
		return nil, errs.F(errs.Invalid, "--server", "give the server's URL with --server or $%s", serverEnv)
	}
	u, err := url.Parse(strings.TrimRight(s, "/") + "/")
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errs.F(errs.Invalid, "--server", "%q is not an http(s) URL", s)
	}
	key := *f.key
	if key == "" {
		key = os.Getenv(keyEnv)
	}
	return &remote{base: u, key: key, http: &http.Client{}}, nil
}

// url resolves a path or link of the server's against its address: links
// are relative ("/v1/jobs/x") or absolute (a server behind a proxy).
func (r *remote) url(ref string) (*url.URL, error) {
	ref = strings.TrimPrefix(ref, "/")
	if strings.Contains(ref, "://") {
		return url.Parse(ref)
	}
	return r.base.Parse(ref)
}

// do sends a request and returns a 2xx response; any other answer is an
// error made from its problem document. The key goes to the server's own
// origin only.
func (r *remote) do(ctx context.Context, method, ref string, body []byte, hdr http.Header) (*http.Response, error) {
	u, err := r.url(ref)
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
		if err != nil {
			return nil, err
		}
		for k, v := range hdr {
			req.Header[k] = v
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("User-Agent", "subsetd/"+version)
		if r.key != "" && u.Scheme == r.base.Scheme && u.Host == r.base.Host {
			req.Header.Set("Authorization", "Bearer "+r.key)
		}
		resp, err := r.http.Do(req)
		if err != nil {
			return nil, errs.Wrap(errs.Unavailable, err, "cannot reach %s", r.base.Redacted())
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return resp, nil
		}
		wait, retry := retryAfter(resp)
		if resp.StatusCode == http.StatusServiceUnavailable && retry && attempt < retries503 && wait <= maxRetryAfter {
			resp.Body.Close()
			select {
			case <-time.After(wait):
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		defer resp.Body.Close()
		return nil, problemError(method, u, resp)
	}
}

// getJSON GETs a document.
func (r *remote) getJSON(ctx context.Context, ref string, v any) (*http.Response, error) {
	resp, err := r.do(ctx, http.MethodGet, ref, nil, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		return nil, fmt.Errorf("GET %s: not the JSON expected: %w", ref, err)
	}
	return resp, nil
}

// problemError is the error an answer carries: its problem document's
// code, field and detail, or the status when it has none.
func problemError(method string, u *url.URL, resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var p api.Problem
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if (mt == "application/problem+json" || mt == "application/json") && json.Unmarshal(b, &p) == nil && p.Detail != "" {
		code := errs.Code(p.Code)
		if code == "" {
			code = errs.Internal
		}
		e := &errs.Error{Code: code, Field: p.Field, Message: p.Detail}
		if wait, ok := retryAfter(resp); ok && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
			e.Message += fmt.Sprintf(" (try again in %s)", wait)
		}
		return e
	}
	return errs.E(codeOfStatus(resp.StatusCode), "%s %s: %s", method, u.Path, resp.Status)
}

// codeOfStatus is the error code of an answer without a problem document.
func codeOfStatus(status int) errs.Code {
	switch status {
	case http.StatusNotFound:
		return errs.NotFound
	case http.StatusUnauthorized:
		return errs.Unauthorized
	case http.StatusForbidden:
		return errs.Forbidden
	case http.StatusServiceUnavailable:
		return errs.Unavailable
	case http.StatusTooManyRequests:
		return errs.Busy
	}
	if status >= 400 && status < 500 {
		return errs.Invalid
	}
	return errs.Internal
}

// retryAfter is an answer's Retry-After in seconds (the only form the
// server sends; a date is taken as is).
func retryAfter(resp *http.Response) (time.Duration, bool) {
	v := resp.Header.Get("Retry-After")
	if v == "" {
		return 0, false
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

// jobRef is the path of a job given on the command line: its id (or the
// job's URL, whose path is used).
func jobRef(arg string) (string, error) {
	if strings.Contains(arg, "://") {
		u, err := url.Parse(arg)
		if err != nil {
			return "", errs.F(errs.Invalid, "JOB", "%q is not a job id or URL", arg)
		}
		return u.String(), nil
	}
	if arg == "" || strings.ContainsAny(arg, "/?#% ") {
		return "", errs.F(errs.Invalid, "JOB", "%q is not a job id", arg)
	}
	return "/v1/jobs/" + url.PathEscape(arg), nil
}

// clientError prints an error of a client command and returns its exit
// status: 2 for the user's mistakes (flags, a request the server finds
// invalid), 1 otherwise.
func clientError(stderr io.Writer, cmd string, rf *requestFlags, err error) int {
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "subsetd %s: interrupted\n", cmd)
		return 1
	}
	if rf != nil {
		err = rf.flagError(err)
	}
	fmt.Fprintf(stderr, "subsetd %s: %v\n", cmd, err)
	if isUsageError(err) {
		return 2
	}
	return 1
}
