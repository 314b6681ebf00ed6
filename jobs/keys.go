package jobs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"time"

	"github.com/subsetd/subsetd/internal/errs"
)

// API keys. A key is a secret of 256 random bits written as "sd_" and 43
// base-62 characters; the store keeps only its SHA-256. A slow password
// hash (bcrypt, argon2) protects secrets people choose, which are guessed
// from small sets; a random 256-bit secret cannot be, so one SHA-256 is as
// safe and lets a request's key be found by an indexed lookup.
//
// A key's name is the identity its jobs belong to. Revoking a key refuses
// its secret from then on (within KeyCacheTTL on a running server); a new
// key of the same name sees the old one's jobs, which is how a secret is
// replaced.

// Role is what a key may do.
type Role string

// Roles: a user sees and manages its own jobs; an admin sees and manages
// every job, reindexes datasets and reads the metrics.
const (
	RoleUser  Role = "user"
	RoleAdmin Role = "admin"
)

// SecretPrefix begins every secret, so that one is recognised where it
// should not be (a log, a repository).
const SecretPrefix = "sd_"

// Key is a stored key: never its secret.
type Key struct {
	Name    string
	Role    Role
	Hint    string // the secret's first characters
	Created time.Time
	Revoked time.Time // zero while active
	Quota   QuotaOverrides
}

// Admin reports whether the key has the admin role.
func (k *Key) Admin() bool { return k.Role == RoleAdmin }

var keyName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// CheckKeyName checks a key name: 1 to 64 letters, digits, '.', '_' and
// '-', starting with a letter or digit.
func CheckKeyName(name string) error {
	if !keyName.MatchString(name) {
		return errs.F(errs.Invalid, "name", "key name %q: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newSecret returns a new secret: the prefix and 256 random bits in base 62.
func newSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random secret: %w", err)
	}
	n := new(big.Int).SetBytes(b[:])
	out := make([]byte, 43) // 62^43 > 2^256
	base, rem := big.NewInt(62), new(big.Int)
	for i := len(out) - 1; i >= 0; i-- {
		n.DivMod(n, base, rem)
		out[i] = base62[rem.Int64()]
	}
	return SecretPrefix + string(out), nil
}

func secretHash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

const keyCols = `name, role, hint, created_ms, revoked_ms, active_jobs, regions_per_job, requests_per_second, burst, output_bytes_per_day, max_output_bytes`

func scanKey(sc interface{ Scan(...any) error }) (*Key, error) {
	var k Key
	var role string
	var c, r int64
	var aj, rpj, burst, obd, mob sql.NullInt64
	var rps sql.NullFloat64
	if err := sc.Scan(&k.Name, &role, &k.Hint, &c, &r, &aj, &rpj, &rps, &burst, &obd, &mob); err != nil {
		return nil, err
	}
	k.Role, k.Created, k.Revoked = Role(role), fromMS(c), fromMS(r)
	k.Quota = QuotaOverrides{ActiveJobs: nullInt(aj), RegionsPerJob: nullInt(rpj), RequestsPerSecond: nullFloat(rps), Burst: nullInt(burst),
		OutputBytesPerDay: nullInt64(obd), MaxOutputBytes: nullInt64(mob)}
	return &k, nil
}

func nullInt(v sql.NullInt64) *int {
	if !v.Valid {
		return nil
	}
	n := int(v.Int64)
	return &n
}

func nullInt64(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	return &v.Int64
}

func nullFloat(v sql.NullFloat64) *float64 {
	if !v.Valid {
		return nil
	}
	return &v.Float64
}

// sqlValue is a nullable override as a query argument.
func sqlValue[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// CreateKey stores a new key and returns its secret, the only time it is
// known. A name with an active key is a Conflict.
func (s *Store) CreateKey(ctx context.Context, name string, role Role, q QuotaOverrides) (string, *Key, error) {
	if err := CheckKeyName(name); err != nil {
		return "", nil, err
	}
	if role != RoleUser && role != RoleAdmin {
		return "", nil, errs.F(errs.Invalid, "role", "role %q: use user or admin", role)
	}
	if err := q.Check(); err != nil {
		return "", nil, err
	}
	secret, err := newSecret()
	if err != nil {
		return "", nil, err
	}
	k := &Key{Name: name, Role: role, Hint: secret[:len(SecretPrefix)+6], Created: s.Now().UTC().Truncate(time.Millisecond), Quota: q}
	err = s.InTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM subsetd_key WHERE name = ? AND revoked_ms = 0`, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return errs.F(errs.Conflict, "name", "a key named %q is active: revoke it first to replace it", name)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO subsetd_key (hash, `+keyCols+`) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)`,
			secretHash(secret), name, string(role), k.Hint, ms(k.Created),
			sqlValue(q.ActiveJobs), sqlValue(q.RegionsPerJob), sqlValue(q.RequestsPerSecond), sqlValue(q.Burst), sqlValue(q.OutputBytesPerDay), sqlValue(q.MaxOutputBytes))
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return secret, k, nil
}

// Keys lists every key, active ones first, each by name.
func (s *Store) Keys(ctx context.Context) ([]*Key, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+keyCols+` FROM subsetd_key ORDER BY revoked_ms <> 0, name, created_ms`)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	defer rows.Close()
	var out []*Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// activeKey reads the active key of a name: NotFound when there is none.
func activeKey(ctx context.Context, tx *sql.Tx, name string) (*Key, error) {
	k, err := scanKey(tx.QueryRowContext(ctx, `SELECT `+keyCols+` FROM subsetd_key WHERE name = ? AND revoked_ms = 0`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.F(errs.NotFound, "name", "no active key named %q", name)
	}
	return k, err
}

// RevokeKey revokes the active key of a name: NotFound when there is none.
func (s *Store) RevokeKey(ctx context.Context, name string) (*Key, error) {
	var k *Key
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if k, err = activeKey(ctx, tx, name); err != nil {
			return err
		}
		k.Revoked = s.Now().UTC().Truncate(time.Millisecond)
		_, err = tx.ExecContext(ctx, `UPDATE subsetd_key SET revoked_ms = ? WHERE name = ? AND revoked_ms = 0`, ms(k.Revoked), name)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.keys.Range(func(h, e any) bool {
		if e.(keyEntry).key.Name == name {
			s.keys.Delete(h)
		}
		return true
	})
	return k, nil
}

// SetQuota changes the quota overrides of the active key of a name: fields
// of q that are set replace the key's; Clear names those that go back to
// the server's defaults.
func (s *Store) SetQuota(ctx context.Context, name string, q QuotaOverrides, clear []string) (*Key, error) {
	if err := q.Check(); err != nil {
		return nil, err
	}
	var k *Key
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if k, err = activeKey(ctx, tx, name); err != nil {
			return err
		}
		if err := k.Quota.clear(clear); err != nil {
			return err
		}
		k.Quota = k.Quota.Merge(q)
		o := k.Quota
		_, err = tx.ExecContext(ctx, `UPDATE subsetd_key SET active_jobs = ?, regions_per_job = ?, requests_per_second = ?, burst = ?, output_bytes_per_day = ?, max_output_bytes = ?
			WHERE name = ? AND revoked_ms = 0`,
			sqlValue(o.ActiveJobs), sqlValue(o.RegionsPerJob), sqlValue(o.RequestsPerSecond), sqlValue(o.Burst), sqlValue(o.OutputBytesPerDay), sqlValue(o.MaxOutputBytes), name)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.keys.Clear()
	return k, nil
}

// KeyCacheTTL is how long Authenticate trusts what it read of a key: a key
// revoked by another process (subsetd keys revoke) is refused after at most
// this long.
const KeyCacheTTL = 5 * time.Second

type keyEntry struct {
	key *Key
	at  time.Time
}

// Authenticate returns the active key of a secret; an errs Unauthorized
// error when the secret is not one.
func (s *Store) Authenticate(ctx context.Context, secret string) (*Key, error) {
	if !strings.HasPrefix(secret, SecretPrefix) {
		return nil, errs.E(errs.Unauthorized, "the key is not a subsetd key (they begin with %s)", SecretPrefix)
	}
	h := secretHash(secret)
	if e, ok := s.keys.Load(h); ok && time.Since(e.(keyEntry).at) < KeyCacheTTL {
		return e.(keyEntry).key, nil
	}
	k, err := scanKey(s.rdb.QueryRowContext(ctx, `SELECT `+keyCols+` FROM subsetd_key WHERE hash = ? AND revoked_ms = 0`, h))
	if errors.Is(err, sql.ErrNoRows) {
		s.keys.Delete(h)
		return nil, errs.E(errs.Unauthorized, "the key is unknown or revoked")
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	s.keys.Store(h, keyEntry{k, time.Now()})
	return k, nil
}
