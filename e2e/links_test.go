package e2e

import (
	"bytes"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/subsetd/subsetd/api"
)

// Signed links download without a key, with Range and HEAD; tampered with
// or expired they are 403; after a rotation of the secret the links given
// before still work.
func TestSignedLinks(t *testing.T) {
	state := t.TempDir()
	alice := createKey(t, state, "alice")
	s := start(t, dataDir(t), state, nil, "--auth", "keys")
	j := s.submit(jobBody("global", names("a", 1), fourteen()[:1], ""), auth(alice)...)
	j, _ = s.waitAs(alice, j.ID, 60*time.Second, final)
	f := j.Regions[0].Files[0]
	if f.SignedHref == "" {
		t.Fatalf("no signed_href: %+v", f)
	}
	if st, err := os.Stat(filepath.Join(state, "link-secrets.json")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("the link secrets: %v %v", st, err)
	}
	want := s.do("GET", f.Href, "", auth(alice)...).body
	if r := s.do("GET", f.SignedHref, ""); r.StatusCode != 200 || !bytes.Equal(r.body, want) || sha(r.body) != f.Sha256 {
		t.Fatalf("GET of the signed link: %d", r.StatusCode)
	}
	if r := s.do("GET", f.SignedHref, "", "Range", "bytes=4-11"); r.StatusCode != 206 || !bytes.Equal(r.body, want[4:12]) {
		t.Fatalf("Range: %d", r.StatusCode)
	}
	if r := s.do("HEAD", f.SignedHref, ""); r.StatusCode != 200 || r.Header.Get("ETag") != `"`+f.Sha256+`"` {
		t.Fatalf("HEAD: %d %v", r.StatusCode, r.Header)
	}
	u, _ := url.Parse(f.SignedHref)
	q := u.Query()
	q.Set("expires", q.Get("expires")+"9")
	if r := s.do("GET", u.Path+"?"+q.Encode(), ""); r.StatusCode != 403 {
		t.Fatalf("a later expiry: %d %s", r.StatusCode, r.body)
	}
	if r := s.do("GET", "/v1/jobs/"+j.ID+"/files.zip?"+u.RawQuery, ""); r.StatusCode != 403 {
		t.Fatalf("the signature of a file on the archive: %d %s", r.StatusCode, r.body)
	}

	// Minted for a second: works, then expires.
	var ld api.LinksDoc
	r := s.do("POST", "/v1/jobs/"+j.ID+"/links?ttl=2s", "", auth(alice)...)
	r.json(t, &ld)
	if r.StatusCode != 200 || ld.Archive == "" || len(ld.Files) != 1 {
		t.Fatalf("links: %d %s", r.StatusCode, r.body)
	}
	if r := s.do("GET", ld.Archive, ""); r.StatusCode != 200 || r.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("the archive's link: %d", r.StatusCode)
	}
	time.Sleep(time.Until(ld.Expires) + 100*time.Millisecond)
	if r := s.do("GET", ld.Files[0].SignedHref, ""); r.StatusCode != 403 || !bytes.Contains(r.body, []byte("expired")) {
		t.Fatalf("an expired link: %d %s", r.StatusCode, r.body)
	}

	// A new secret: the old links still work, new ones too.
	r = s.do("POST", "/v1/jobs/"+j.ID+"/links", "", auth(alice)...)
	var before api.LinksDoc
	r.json(t, &before)
	if out, err := exec.Command(binary, "keys", "rotate-link-secret", "--state", state).CombinedOutput(); err != nil {
		t.Fatalf("rotate: %v %s", err, out)
	}
	if audit, _ := os.ReadFile(filepath.Join(state, "audit.log")); !bytes.Contains(audit, []byte(`"event":"link_secret.rotated"`)) {
		t.Errorf("no audit line of the rotation:\n%s", audit)
	}
	time.Sleep(1100 * time.Millisecond) // the server looks at the file once a second
	var after api.LinksDoc
	s.do("POST", "/v1/jobs/"+j.ID+"/links", "", auth(alice)...).json(t, &after)
	if after.Files[0].SignedHref == before.Files[0].SignedHref {
		t.Fatal("the same signature after a rotation")
	}
	for _, l := range []string{before.Files[0].SignedHref, after.Files[0].SignedHref, f.SignedHref} {
		if r := s.do("GET", l, ""); r.StatusCode != 200 {
			t.Errorf("after the rotation, %s: %d", l, r.StatusCode)
		}
	}
}
