package webhook

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The example of the Standard Webhooks libraries' tests.
func TestSignKnownVector(t *testing.T) {
	s, err := ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	got := Sign(s, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Fatalf("signature %s, want %s", got, want)
	}
	if s.String() != "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" {
		t.Fatal(s.String())
	}
}

func TestLoadSecretKeepsOne(t *testing.T) {
	dir := t.TempDir()
	a, err := LoadSecret(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadSecret(dir)
	if err != nil || a.String() != b.String() || len(a) != 32 {
		t.Fatalf("%v %v %v", a, b, err)
	}
	st, _ := os.Stat(filepath.Join(dir, SecretFile))
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("files left: %v", ents)
	}
}

func TestPolicy(t *testing.T) {
	def, _ := NewPolicy(nil)
	conf, err := NewPolicy([]string{"hooks.example.org", "*.corp.example", "10.1.0.0/16", "203.0.113.7"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p   *Policy
		url string
		ok  bool
	}{
		{def, "http://127.0.0.1:9000/x", true},
		{def, "http://localhost/x", true},
		{def, "http://[::1]:80/", true},
		{def, "https://hooks.example.org/", false},
		{def, "http://10.0.0.1/", false},
		{def, "http://169.254.169.254/latest/meta-data", false},
		{def, "ftp://127.0.0.1/", false},
		{def, "http://user:pw@127.0.0.1/", false},
		{conf, "https://hooks.example.org/a?b=c", true},
		{conf, "https://HOOKS.example.org./", true},
		{conf, "https://a.b.corp.example/", true},
		{conf, "https://corp.example/", false},
		{conf, "https://evilhooks.example.org/", false},
		{conf, "http://10.1.2.3/", true},
		{conf, "http://10.2.0.1/", false},
		{conf, "http://203.0.113.7/", true},
		{conf, "http://127.0.0.1/", false},
		{conf, "http://[::ffff:127.0.0.1]/", false},
	} {
		err := c.p.CheckURL(c.url)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok=%v", c.url, err, c.ok)
		}
	}
	for _, c := range []struct {
		p  *Policy
		ip string
		ok bool
	}{
		{def, "127.0.0.1", true},
		{def, "93.184.216.34", true}, // public: the name was checked
		{conf, "93.184.216.34", true},
		{conf, "127.0.0.1", false},
		{conf, "::ffff:127.0.0.1", false},
		{conf, "192.168.1.1", false},
		{conf, "100.64.0.1", false},
		{conf, "169.254.169.254", false},
		{conf, "fd00::1", false},
		{conf, "0.0.0.0", false},
		{conf, "10.1.9.9", true},
	} {
		err := c.p.CheckAddr(netip.MustParseAddr(c.ip))
		if (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok=%v", c.ip, err, c.ok)
		}
	}
	if _, err := NewPolicy([]string{"http://x/"}); err == nil || !strings.Contains(err.Error(), "webhook_allow") {
		t.Fatalf("bad entry: %v", err)
	}
}

// A redirect to another host (here another port) is not followed; one on
// the same host is.
func TestClientRedirects(t *testing.T) {
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }))
	defer other.Close()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, other.URL+"/x", http.StatusTemporaryRedirect)
		case "/here":
			http.Redirect(w, r, srv.URL+"/ok", http.StatusTemporaryRedirect)
		default:
			w.WriteHeader(204)
		}
	}))
	defer srv.Close()
	p, _ := NewPolicy(nil)
	c := p.Client(5 * time.Second)
	s := Secret(make([]byte, 32))
	if r := Send(context.Background(), c, s, srv.URL+"/away", "m1", []byte("{}"), time.Now()); r.Err == nil || !strings.Contains(r.Err.Error(), "another host") {
		t.Fatalf("redirect away: %+v", r)
	}
	if r := Send(context.Background(), c, s, srv.URL+"/here", "m1", []byte("{}"), time.Now()); r.Err != nil || r.Status != 204 {
		t.Fatalf("redirect on the same host: %+v", r)
	}
}
