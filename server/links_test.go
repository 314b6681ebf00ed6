package server

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
)

// The newest secret signs; one replaced less than link_max_ttl (and the
// hour of documents) ago still verifies, an older one no longer.
func TestLinkSecretsRotate(t *testing.T) {
	state := t.TempDir()
	k, err := openLinkKeys(state, 48*time.Hour, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	first, verify := k.Secrets()
	if len(first) != 32 || len(verify) != 1 {
		t.Fatalf("first secret: %d bytes, %d verifying", len(first), len(verify))
	}
	if st, _ := os.Stat(filepath.Join(state, LinkSecretsFile)); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	if err := RotateLinkSecret(state); err != nil {
		t.Fatal(err)
	}
	k.checked = time.Time{}
	sign, verify := k.Secrets()
	if bytes.Equal(sign, first) || len(verify) != 2 || !bytes.Equal(verify[1], first) {
		t.Fatalf("after a rotation: %d verifying", len(verify))
	}
	// The rotation was 50 hours ago: past 48 h + 1 h, the first is retired.
	path := filepath.Join(state, LinkSecretsFile)
	d, err := readLinkSecrets(path)
	if err != nil {
		t.Fatal(err)
	}
	d.Secrets[0].Created = time.Now().Add(-50 * time.Hour)
	if err := writeLinkSecrets(path, d); err != nil {
		t.Fatal(err)
	}
	k.checked = time.Time{}
	if sign2, verify := k.Secrets(); !bytes.Equal(sign2, sign) || len(verify) != 1 {
		t.Fatalf("after the grace: %d verifying", len(verify))
	}
	// A server started later reads the same secrets.
	k2, err := openLinkKeys(state, 48*time.Hour, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := k2.Secrets(); !bytes.Equal(s, sign) {
		t.Fatal("another secret after a restart")
	}
}
