package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a certificate for 127.0.0.1 and localhost and its key.
func selfSigned(t *testing.T, dir string) (cert, key string) {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "subsetd test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"}, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, key
}

// tlsClient trusts the certificate of a file only.
func tlsClient(t *testing.T, certFile string) *http.Client {
	t.Helper()
	b, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatal("no certificate in " + certFile)
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// --tls-cert and --tls-key serve HTTPS: a job runs and downloads over it;
// plain HTTP on the port is refused; a key without a certificate is a
// configuration error.
func TestTLS(t *testing.T) {
	cert, key := selfSigned(t, t.TempDir())
	state := t.TempDir()
	alice := createKey(t, state, "alice")
	s := start(t, dataDir(t), state, nil, "--auth", "keys", "--tls-cert", cert, "--tls-key", key)
	if !strings.HasPrefix(s.url, "https://") {
		t.Fatal(s.url)
	}
	j := s.submit(jobBody("global", names("a", 1), fourteen()[:1], ""), auth(alice)...)
	j, _ = s.waitAs(alice, j.ID, 60*time.Second, final)
	f := j.Regions[0].Files[0]
	if r := s.do("GET", f.SignedHref, ""); r.StatusCode != 200 || sha(r.body) != f.Sha256 || r.TLS == nil || r.TLS.Version < tls.VersionTLS12 {
		t.Fatalf("download over TLS: %d %v", r.StatusCode, r.TLS)
	}
	// Plain HTTP: Go's server answers 400 to it, never the API.
	r, err := http.Get("http://" + strings.TrimPrefix(s.url, "https://") + "/v1/datasets")
	if err == nil {
		r.Body.Close()
		if r.StatusCode != 400 {
			t.Fatalf("plain HTTP to the TLS port: %d", r.StatusCode)
		}
	}
	// An untrusting client fails the handshake.
	if _, err := http.Get(s.url + "/healthz"); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a client not trusting the certificate: %v", err)
	}
	out, err := exec.Command(binary, "serve", "--data", t.TempDir(), "--state", t.TempDir(), "--tls-key", key).CombinedOutput()
	if exitCode(err) != 2 || !strings.Contains(string(out), "tls_cert and tls_key") {
		t.Fatalf("--tls-key alone: %v %s", err, out)
	}
}
