package server

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/api"
)

// validateAccess checks the settings of who may call the server.
func (c *Config) validateAccess() []string {
	var bad []string
	switch api.AuthMode(c.Auth) {
	case api.AuthKeys:
	case api.AuthNone:
		if !c.InsecureNoAuth && !Loopback(c.Addr) {
			bad = append(bad, fmt.Sprintf("auth: none serves every caller as an administrator, so it is allowed only on a loopback address (127.0.0.1, ::1, localhost), not %q: "+
				"use auth keys (subsetd keys create), or insecure_no_auth (--insecure-no-auth) when something in front of the server authenticates its callers", c.Addr))
		}
	default:
		bad = append(bad, fmt.Sprintf("auth: %q, use keys or none", c.Auth))
	}
	if err := c.Quota.Check(); err != nil {
		bad = append(bad, err.Error())
	}
	if _, err := api.ParseProxies(c.TrustedProxies); err != nil {
		bad = append(bad, "trusted_proxies: "+err.Error())
	}
	if c.LinkTTL <= 0 || c.LinkMaxTTL < c.LinkTTL {
		bad = append(bad, fmt.Sprintf("link_ttl %s and link_max_ttl %s: need 0 < link_ttl <= link_max_ttl", time.Duration(c.LinkTTL), time.Duration(c.LinkMaxTTL)))
	}
	if c.MetricsAddr != "" && c.MetricsAddr == c.Addr {
		bad = append(bad, "metrics_addr: the address of the API itself; give another port, or none (/metrics on addr needs an admin key)")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		bad = append(bad, "tls_cert and tls_key: give both (HTTPS) or neither (HTTP)")
	} else if c.TLSCert != "" {
		if _, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey); err != nil {
			bad = append(bad, "tls_cert, tls_key: "+err.Error())
		}
	}
	if err := checkOrigins(c.CORSOrigins); err != nil {
		bad = append(bad, "cors_origins: "+err.Error())
	}
	return bad
}

// checkOrigins accepts ["*"] or origins as browsers send them:
// scheme://host[:port], without path, query or user.
func checkOrigins(origins []string) error {
	for _, o := range origins {
		if o == "*" {
			if len(origins) > 1 {
				return fmt.Errorf("\"*\" (every origin) stands alone, not beside %d other origins", len(origins)-1)
			}
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("%q is not an origin: write scheme://host[:port], e.g. https://maps.example.org", o)
		}
	}
	return nil
}

// Loopback reports whether a listen address (host:port) accepts loopback
// connections only: localhost or a loopback IP. An empty host listens on
// every interface.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// corsOrigins are the origins as browsers send them (no trailing slash).
func corsOrigins(origins []string) []string {
	out := make([]string, len(origins))
	for i, o := range origins {
		out[i] = strings.TrimSuffix(o, "/")
	}
	return out
}

// tlsConfig is the TLS of the server: nil for plain HTTP. The certificate
// and key are read again when either file changes (a renewal needs no
// restart).
func (c *Config) tlsConfig(log zerolog.Logger) (*tls.Config, error) {
	if c.TLSCert == "" {
		return nil, nil
	}
	r := &certReloader{cert: c.TLSCert, key: c.TLSKey, log: log}
	if err := r.load(); err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: r.get}, nil
}

type certReloader struct {
	cert, key string
	log       zerolog.Logger

	mu      sync.Mutex
	checked time.Time
	stamp   string
	pair    *tls.Certificate
}

func (r *certReloader) stampNow() string {
	var b strings.Builder
	for _, p := range []string{r.cert, r.key} {
		if st, err := os.Stat(p); err == nil {
			b.WriteString(fileStamp(st))
		}
		b.WriteByte('/')
	}
	return b.String()
}

func (r *certReloader) load() error {
	stamp := r.stampNow()
	pair, err := tls.LoadX509KeyPair(r.cert, r.key)
	if err != nil {
		return err
	}
	r.pair, r.stamp = &pair, stamp
	return nil
}

func (r *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.checked) >= 10*time.Second {
		r.checked = now
		if r.stampNow() != r.stamp {
			if err := r.load(); err != nil {
				r.log.Error().Err(err).Msg("cannot read the TLS certificate again: keeping the one loaded")
			} else {
				r.log.Info().Str("cert", r.cert).Msg("TLS certificate loaded again")
			}
		}
	}
	return r.pair, nil
}
