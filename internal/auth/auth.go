// Package auth issues API tokens and turns a request's bearer token into the
// caller (a zone.Principal).
//
// A token is "zp_" followed by 32 random bytes in base64url; only its SHA-256
// is stored. SHA-256 without a salt is enough because the secret has 256
// bits of entropy: no dictionary can guess it.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Prefix starts every token, so a leaked one is recognisable in logs and
// secret scanners.
const Prefix = "zp_"

// Hash returns the stored form of a token secret.
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// NewSecret returns a fresh random token secret.
func NewSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", zone.InternalError(err, "generate token")
	}
	return Prefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Issue creates a token in the store and returns its secret, which is shown
// once and never stored. A zero ttl means no expiry.
func Issue(ctx context.Context, s zone.TokenStore, name string, role zone.Role, clearance zone.Classification, ttl time.Duration, now time.Time) (string, *zone.Token, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", nil, zone.Errorf(zone.CodeInvalid, "a token needs a name (who or what uses it)")
	}
	if !role.Valid() {
		return "", nil, zone.Errorf(zone.CodeInvalid, "unknown role %q", role)
	}
	if !clearance.Valid() {
		return "", nil, zone.Errorf(zone.CodeInvalid, "unknown clearance %d", int(clearance))
	}
	if ttl < 0 {
		return "", nil, zone.Errorf(zone.CodeInvalid, "expiry must be in the future")
	}
	secret, err := NewSecret()
	if err != nil {
		return "", nil, err
	}
	t := &zone.Token{
		ID: uuid.New(), Name: name, Role: role, Clearance: clearance,
		Hash: Hash(secret), CreatedAt: now.UTC(),
	}
	if ttl > 0 {
		exp := now.Add(ttl).UTC()
		t.ExpiresAt = &exp
	}
	if err := s.CreateToken(ctx, t); err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// EnsureAdmin creates an admin token when the store has none at all (a new
// store), and returns its secret; it returns "" when tokens already exist.
func EnsureAdmin(ctx context.Context, s zone.TokenStore, now time.Time) (string, error) {
	ts, err := s.ListTokens(ctx)
	if err != nil {
		return "", err
	}
	if len(ts) > 0 {
		return "", nil
	}
	secret, _, err := Issue(ctx, s, "initial admin", zone.RoleAdmin, zone.Secret, 0, now)
	return secret, err
}

// ParseDuration accepts Go durations ("12h", "90m") and whole days ("30d").
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if strings.HasSuffix(s, "d") {
		if days, err := strconv.Atoi(strings.TrimSuffix(s, "d")); err == nil && days > 0 {
			return time.Duration(days) * 24 * time.Hour, nil
		}
		return 0, zone.Errorf(zone.CodeInvalid, "expiry %q: want a positive number of days like 30d, or a duration like 12h", s)
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, zone.Errorf(zone.CodeInvalid, "expiry %q: want a duration like 12h or 30d", s)
	}
	return d, nil
}

// Authenticator resolves bearer tokens to principals.
type Authenticator struct {
	Tokens     zone.TokenStore
	PublicRead bool             // anonymous callers may read public features
	Now        func() time.Time // nil: time.Now
	// CacheTTL is how long a token found in the store is trusted without
	// asking the store again (0: always ask). It bounds how long a token
	// revoked through another server instance keeps working here; Forget
	// drops the cache at once for revocations made through this one.
	CacheTTL time.Duration
	// OnInactive, when set, is told of every revoked or expired token
	// presented (the audit trail records its use).
	OnInactive func(t *zone.Token, now time.Time)

	cache sync.Map // [sha256.Size]byte -> cachedToken
}

type cachedToken struct {
	token   *zone.Token
	fetched time.Time
}

// Forget drops every cached token, so a revocation takes effect at once.
func (a *Authenticator) Forget() { a.cache.Clear() }

// lookup finds a token by its secret's hash, from the cache while fresh.
func (a *Authenticator) lookup(ctx context.Context, secret string, now time.Time) (*zone.Token, error) {
	key := sha256.Sum256([]byte(secret)) // Hash(secret), without the copy
	if a.CacheTTL > 0 {
		if v, ok := a.cache.Load(key); ok {
			if c := v.(cachedToken); now.Sub(c.fetched) < a.CacheTTL {
				return c.token, nil
			}
		}
	}
	t, err := a.Tokens.TokenByHash(ctx, key[:])
	if err != nil {
		return nil, err
	}
	if a.CacheTTL > 0 {
		a.cache.Store(key, cachedToken{token: t, fetched: now})
	}
	return t, nil
}

// Authenticate returns the caller for an Authorization header value. With no
// header it returns the anonymous principal under PublicRead, and an
// unauthorized error otherwise. A present but wrong, revoked or expired token
// is always unauthorized, so a typo is never silently downgraded to anonymous.
func (a *Authenticator) Authenticate(ctx context.Context, header string) (zone.Principal, error) {
	secret, ok := bearer(header)
	if !ok {
		if header == "" && a.PublicRead {
			return zone.AnonymousPrincipal(), nil
		}
		if header == "" {
			return zone.Principal{}, zone.Errorf(zone.CodeUnauthorized, "a bearer token is required (Authorization: Bearer zp_...)")
		}
		return zone.Principal{}, zone.Errorf(zone.CodeUnauthorized, "the Authorization header must be 'Bearer <token>'")
	}
	now := time.Now()
	if a.Now != nil {
		now = a.Now()
	}
	t, err := a.lookup(ctx, secret, now)
	if zone.ErrorCode(err) == zone.CodeNotFound {
		return zone.Principal{}, zone.Errorf(zone.CodeUnauthorized, "unknown token")
	}
	if err != nil {
		return zone.Principal{}, err
	}
	if !t.Active(now) {
		if a.OnInactive != nil {
			a.OnInactive(t, now)
		}
		return zone.Principal{}, zone.Errorf(zone.CodeUnauthorized, "token %q is revoked or expired", t.Name)
	}
	return t.Principal(), nil
}

func bearer(h string) (string, bool) {
	const p = "bearer "
	if len(h) <= len(p) || !strings.EqualFold(h[:len(p)], p) {
		return "", false
	}
	s := strings.TrimSpace(h[len(p):])
	return s, s != ""
}
