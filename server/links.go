package server

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/api"
)

// LinkSecretsFile holds the secrets of signed links in the state directory:
// the newest signs, and each older one still verifies for the longest link
// lifetime (link_max_ttl, plus the hour documents round their links to)
// after the one that replaced it was made.
const LinkSecretsFile = "link-secrets.json"

type linkSecret struct {
	Secret  []byte    `json:"secret"` // 32 random bytes (base64 in the file)
	Created time.Time `json:"created"`
}

type linkSecretsDoc struct {
	Secrets []linkSecret `json:"secrets"` // newest first
}

func readLinkSecrets(path string) (*linkSecretsDoc, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var d linkSecretsDoc
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(d.Secrets) == 0 {
		return nil, fmt.Errorf("%s: no secret", path)
	}
	for _, s := range d.Secrets {
		if len(s.Secret) < 32 {
			return nil, fmt.Errorf("%s: a secret of %d bytes, need 32", path, len(s.Secret))
		}
	}
	return &d, nil
}

// writeLinkSecrets writes d at path atomically, readable by its owner only.
func writeLinkSecrets(path string, d *linkSecretsDoc) error {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".subsetd-tmp-link-secrets-*") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func newLinkSecret(now time.Time) linkSecret {
	s := linkSecret{Secret: make([]byte, 32), Created: now.UTC().Truncate(time.Second)}
	rand.Read(s.Secret)
	return s
}

// RotateLinkSecret makes a new secret for the signed links of a state
// directory: links signed from now on use it, links signed before still
// work until they expire (at most link_max_ttl). A running server reads
// the file again within a second.
func RotateLinkSecret(state string) error {
	path := filepath.Join(state, LinkSecretsFile)
	d, err := readLinkSecrets(path)
	if errors.Is(err, os.ErrNotExist) {
		d, err = &linkSecretsDoc{}, nil
	}
	if err != nil {
		return err
	}
	d.Secrets = append([]linkSecret{newLinkSecret(time.Now())}, d.Secrets...)
	if len(d.Secrets) > 8 { // older ones retired long ago at any sane lifetime
		d.Secrets = d.Secrets[:8]
	}
	return writeLinkSecrets(path, d)
}

// linkKeys are the secrets of a running server, read again when the file
// changes (RotateLinkSecret by another process).
type linkKeys struct {
	path  string
	grace time.Duration
	log   zerolog.Logger

	mu      sync.Mutex
	checked time.Time
	stamp   string // size and modification time of the file read
	sign    []byte
	verify  [][]byte
}

// openLinkKeys reads the secrets of state, making the first one if there is
// none.
func openLinkKeys(state string, maxTTL time.Duration, log zerolog.Logger) (*linkKeys, error) {
	path := filepath.Join(state, LinkSecretsFile)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if err := writeLinkSecrets(path, &linkSecretsDoc{Secrets: []linkSecret{newLinkSecret(time.Now())}}); err != nil {
			return nil, fmt.Errorf("link secrets: %w", err)
		}
	}
	k := &linkKeys{path: path, grace: maxTTL + time.Hour, log: log}
	if err := k.load(); err != nil {
		return nil, fmt.Errorf("link secrets: %w", err)
	}
	return k, nil
}

func fileStamp(st os.FileInfo) string { return fmt.Sprint(st.Size(), st.ModTime().UnixNano()) }

func (k *linkKeys) load() error {
	st, err := os.Stat(k.path)
	if err != nil {
		return err
	}
	d, err := readLinkSecrets(k.path)
	if err != nil {
		return err
	}
	now := time.Now()
	verify := [][]byte{d.Secrets[0].Secret}
	for i := 1; i < len(d.Secrets); i++ {
		// Retired when the one after it was made: it verifies for grace.
		if now.Sub(d.Secrets[i-1].Created) < k.grace {
			verify = append(verify, d.Secrets[i].Secret)
		}
	}
	if k.sign != nil && !bytes.Equal(k.sign, d.Secrets[0].Secret) {
		k.log.Info().Int("verifying", len(verify)).Msg("link secret rotated")
	}
	k.sign, k.verify, k.stamp = d.Secrets[0].Secret, verify, fileStamp(st)
	return nil
}

// Secrets is api.Links.Secrets: the file is looked at once a second at
// most; a file that cannot be read keeps the secrets already known.
func (k *linkKeys) Secrets() ([]byte, [][]byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if now := time.Now(); now.Sub(k.checked) >= time.Second {
		k.checked = now
		st, err := os.Stat(k.path)
		if err != nil || fileStamp(st) != k.stamp || now.Sub(st.ModTime()) < k.grace+time.Minute {
			// Changed, or a retired secret's grace may have ended.
			if err := k.load(); err != nil {
				k.log.Error().Err(err).Msg("cannot read the link secrets again: keeping those known")
			}
		}
	}
	return k.sign, k.verify
}

// links is the api.Links of the configuration.
func (k *linkKeys) links(c Config) *api.Links {
	return &api.Links{Secrets: k.Secrets, TTL: time.Duration(c.LinkTTL), MaxTTL: time.Duration(c.LinkMaxTTL)}
}
