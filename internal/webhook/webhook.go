// Package webhook sends signed notifications the Standard Webhooks way
// (https://www.standardwebhooks.com, version 1): a JSON POST with the
// headers webhook-id (the same for every attempt at one message),
// webhook-timestamp (Unix seconds of the attempt) and webhook-signature
// ("v1,<base64 of HMAC-SHA256 over id.timestamp.body>"), the key being the
// bytes of a "whsec_<base64>" secret.
//
// Who may be called is a Policy: host names, addresses and prefixes the
// server's operator allows, loopback alone when none are configured. The
// policy is applied to the URL when a job names it and again to every
// address a delivery connects to, after DNS resolution, so that a name
// that resolves to a private or loopback address, or a redirect, reaches
// nothing the policy does not allow.
package webhook

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// SecretPrefix starts a secret written as text.
const SecretPrefix = "whsec_"

// SecretFile is the file of a state directory holding the server's secret.
const SecretFile = "webhook-secret"

// Secret is the key of the signatures.
type Secret []byte

// String is the secret as receivers configure it: whsec_<base64>.
func (s Secret) String() string { return SecretPrefix + base64.StdEncoding.EncodeToString(s) }

// ParseSecret reads "whsec_<base64>".
func ParseSecret(text string) (Secret, error) {
	text = strings.TrimSpace(text)
	if !strings.HasPrefix(text, SecretPrefix) {
		return nil, fmt.Errorf("a webhook secret starts with %s", SecretPrefix)
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(text, SecretPrefix))
	if err != nil {
		return nil, fmt.Errorf("webhook secret: %w", err)
	}
	if len(b) < 24 || len(b) > 64 {
		return nil, fmt.Errorf("webhook secret: %d bytes, need 24 to 64", len(b))
	}
	return Secret(b), nil
}

// LoadSecret reads the secret of state directory dir, creating it (32
// random bytes, readable by the owner only) the first time.
func LoadSecret(dir string) (Secret, error) {
	p := filepath.Join(dir, SecretFile)
	b, err := os.ReadFile(p)
	if err == nil {
		s, err := ParseSecret(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return s, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	s := make(Secret, 32)
	if _, err := rand.Read(s); err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(dir, "."+SecretFile+".*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(s.String() + "\n"); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	// A link, not a rename: of two servers starting at once, one secret wins.
	if err := os.Link(tmp.Name(), p); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, err
	}
	return LoadSecret(dir)
}

// Sign is the webhook-signature header of a message: "v1," and the base64
// HMAC-SHA256, keyed by the secret, of "<id>.<timestamp>.<body>".
func Sign(s Secret, id string, timestamp int64, body []byte) string {
	m := hmac.New(sha256.New, s)
	m.Write([]byte(id + "." + strconv.FormatInt(timestamp, 10) + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Policy says which hosts notifications may go to. Allow holds host names
// ("hooks.example.org"), wildcards of their subdomains ("*.example.org"),
// addresses and CIDR prefixes ("203.0.113.7", "10.1.0.0/16"). An empty
// policy allows loopback alone: "localhost", 127.0.0.0/8 and ::1.
//
// A name allowed by the policy may still resolve only to public addresses:
// loopback, private (RFC 1918, fc00::/7), link-local, shared (100.64/10),
// unspecified and multicast addresses are reached only when a prefix or
// address of Allow holds them.
type Policy struct {
	names    []string // lower case; "*.x" for subdomains of x
	prefixes []netip.Prefix
}

// DefaultAllow is what an empty policy allows.
var DefaultAllow = []string{"localhost", "127.0.0.0/8", "::1"}

// NewPolicy parses the entries of an allow list (empty: DefaultAllow).
func NewPolicy(allow []string) (*Policy, error) {
	if len(allow) == 0 {
		allow = DefaultAllow
	}
	p := &Policy{}
	for _, a := range allow {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == "" {
			continue
		}
		if pf, err := netip.ParsePrefix(a); err == nil {
			p.prefixes = append(p.prefixes, pf.Masked())
			continue
		}
		if ip, err := netip.ParseAddr(a); err == nil {
			p.prefixes = append(p.prefixes, netip.PrefixFrom(ip.Unmap(), ip.Unmap().BitLen()))
			continue
		}
		name := strings.TrimPrefix(a, "*.")
		if name == "" || strings.ContainsAny(name, "/:*@ ") {
			return nil, fmt.Errorf("webhook_allow: %q is not a host name, *.domain, address or CIDR prefix", a)
		}
		p.names = append(p.names, a)
	}
	return p, nil
}

// allowedName reports whether host (a name, not an address) is listed.
func (p *Policy) allowedName(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, n := range p.names {
		if n == host || strings.HasPrefix(n, "*.") && strings.HasSuffix(host, n[1:]) {
			return true
		}
	}
	return false
}

// listed reports whether a prefix of the policy holds ip.
func (p *Policy) listed(ip netip.Addr) bool {
	ip = ip.Unmap()
	for _, pf := range p.prefixes {
		if pf.Contains(ip) {
			return true
		}
	}
	return false
}

var shared = netip.MustParsePrefix("100.64.0.0/10")

// special reports whether ip is an address a name must not lead to unless
// the policy lists it.
func special(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() || ip.IsMulticast() ||
		ip.IsUnspecified() || ip.IsInterfaceLocalMulticast() || shared.Contains(ip) || !ip.IsGlobalUnicast()
}

// CheckAddr reports whether a connection to ip is allowed: a public
// address (the host was checked by CheckURL), or one the policy lists.
func (p *Policy) CheckAddr(ip netip.Addr) error {
	if p.listed(ip) || !special(ip) {
		return nil
	}
	return fmt.Errorf("address %s is not allowed for notifications (webhook_allow)", ip.Unmap())
}

// CheckURL checks a notification URL before it is accepted: http or https,
// no user information, a host the policy allows by name or address.
func (p *Policy) CheckURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("not a URL: %v", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("%q is not an absolute http or https URL", raw)
	}
	if u.User != nil {
		return errors.New("a notification URL has no user information")
	}
	if u.Fragment != "" {
		return errors.New("a notification URL has no fragment")
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if !p.listed(ip) {
			return fmt.Errorf("host %s is not allowed for notifications: the server's webhook_allow does not list it", host)
		}
		return nil
	}
	if !p.allowedName(host) {
		return fmt.Errorf("host %s is not allowed for notifications: the server's webhook_allow does not list it", host)
	}
	return nil
}

// Client is an HTTP client that connects only where the policy allows:
// every address it dials is checked after resolution (the check runs on
// the socket's address, so a name cannot resolve to one address for the
// check and another for the connection), it uses no proxy, and it follows
// a redirect only to the same scheme and host, at most 3 times.
func (p *Policy) Client(timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: timeout, Control: func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("dial %s: %v", address, err)
		}
		return p.CheckAddr(ap.Addr())
	}}
	tr := &http.Transport{Proxy: nil, DialContext: d.DialContext, TLSHandshakeTimeout: timeout, ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost: 2, IdleConnTimeout: 30 * time.Second, ForceAttemptHTTP2: true}
	return &http.Client{Transport: tr, Timeout: timeout, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return errors.New("more than 3 redirects")
		}
		if req.URL.Scheme != via[0].URL.Scheme || !strings.EqualFold(req.URL.Host, via[0].URL.Host) {
			return fmt.Errorf("redirect to another host (%s) refused", req.URL.Host)
		}
		return nil
	}}
}

// Result is the outcome of one attempt.
type Result struct {
	Status   int           // the HTTP status (0: no response)
	Duration time.Duration // from the request to the end of the response
	Err      error         // why the attempt failed (nil: a 2xx answer)
}

// Send POSTs one attempt of message id: body signed with s, the time of
// the attempt as its timestamp.
func Send(ctx context.Context, c *http.Client, s Secret, target, id string, body []byte, now time.Time) Result {
	start := time.Now()
	ts := now.Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return Result{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "subsetd-webhook")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", Sign(s, id, ts, body))
	resp, err := c.Do(req)
	if err != nil {
		return Result{Duration: time.Since(start), Err: err}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	r := Result{Status: resp.StatusCode, Duration: time.Since(start)}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		r.Err = fmt.Errorf("the receiver answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return r
}
