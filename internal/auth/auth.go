// Package auth issues API tokens and turns a request's bearer token into the
// caller (a zone.Principal).
//
// A token is "zp_" followed by 32 random bytes in base64url; only its SHA-256
// is stored. SHA-256 without a salt is enough because the secret has 256
// bits of entropy: no dictionary can guess it.
//
// The Authenticator caches what the store says of a token. Revocations
// reach the cache at once through the store's revocation feed
// (FollowRevocations), from any server instance; the cache's lifetime only
// spares the store lookups and, while the store cannot answer, lets tokens
// it confirmed recently keep working (MaxStale: the degraded mode's bounded
// staleness).
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

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
	return IssueTo(ctx, s, name, Holder{}, role, clearance, ttl, now)
}

// Holder is the person a token is issued to and their title, as the
// documents zoneplan prints name them (zone.Token.Person, Title).
type Holder struct {
	Person string
	Title  string
}

// maxHolderText bounds a person's name and a title, in characters.
const maxHolderText = 200

// IssueTo is Issue for a token held by a person.
func IssueTo(ctx context.Context, s zone.TokenStore, name string, h Holder, role zone.Role, clearance zone.Classification, ttl time.Duration, now time.Time) (string, *zone.Token, error) {
	name = strings.TrimSpace(name)
	h.Person, h.Title = strings.TrimSpace(h.Person), strings.TrimSpace(h.Title)
	if utf8.RuneCountInString(h.Person) > maxHolderText || utf8.RuneCountInString(h.Title) > maxHolderText {
		return "", nil, zone.Errorf(zone.CodeInvalid, "a token's person and title are at most %d characters each", maxHolderText)
	}
	if h.Title != "" && h.Person == "" {
		return "", nil, zone.Errorf(zone.CodeInvalid, "a token's title needs the person who holds it")
	}
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
		ID: uuid.New(), Name: name, Person: h.Person, Title: h.Title, Role: role, Clearance: clearance,
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
	// asking the store again (0: always ask). It does not bound how long a
	// revoked token keeps working: while FollowRevocations runs, a
	// revocation made anywhere reaches the cache at once, and while its
	// feed is interrupted no cached token is trusted without asking.
	// Without FollowRevocations, a token revoked through another instance
	// works here until its entry is CacheTTL old.
	CacheTTL time.Duration
	// MaxStale is the degraded mode's bounded staleness: while the store
	// cannot answer (CodeUnavailable), a token it confirmed within MaxStale
	// is still honoured. A token seen revoked stays refused, however old
	// that news is. 0: a token needs the store (or a fresh cache entry).
	MaxStale time.Duration
	// LookupPatience bounds asking the store about a token the cache could
	// fall back on (confirmed within MaxStale); past it the cached answer
	// is used, so a stalled store delays such a request by no more than
	// this. 0: DefaultLookupPatience.
	LookupPatience time.Duration
	// OnInactive, when set, is told of every revoked or expired token
	// presented (the audit trail records its use).
	OnInactive func(t *zone.Token, now time.Time)

	cache sync.Map // [sha256.Size]byte -> cachedToken
	// epoch moves on when revocations may have gone unheard (the feed came
	// back after an interruption): entries from an older epoch are asked
	// about again before they are trusted.
	epoch atomic.Uint64
	// unheard: the revocation feed is down, so no entry is trusted without
	// asking the store.
	unheard atomic.Bool
	// heard counts revocations applied, so that a lookup that raced with
	// one does not cache what the store said before it; mu makes checking
	// it and storing one step against Revoked.
	heard atomic.Uint64
	mu    sync.Mutex
}

// DefaultLookupPatience is LookupPatience unless set: far above a healthy
// token lookup (about a millisecond), well under the 3 s in which a request
// must be answered with the database frozen.
const DefaultLookupPatience = 500 * time.Millisecond

type cachedToken struct {
	token   *zone.Token
	checked time.Time // when the store confirmed it, or its revocation was heard
	epoch   uint64
}

// Forget drops every cached token.
func (a *Authenticator) Forget() { a.cache.Clear() }

// Revoked makes the cache refuse token id at once: it is what
// FollowRevocations does for each revocation the feed reports, and what a
// revocation made through this instance does without waiting for the feed.
func (a *Authenticator) Revoked(id uuid.UUID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.heard.Add(1)
	now := a.now()
	a.cache.Range(func(k, v any) bool {
		c := v.(cachedToken)
		if c.token.ID != id {
			return true
		}
		t := *c.token
		if t.RevokedAt == nil {
			at := now.UTC()
			t.RevokedAt = &at
		}
		a.cache.Store(k, cachedToken{token: &t, checked: now, epoch: a.epoch.Load()})
		return true
	})
}

// FollowRevocations applies the revocations feed reports to the cache until
// ctx ends (log may be nil). When the feed is interrupted it watches again
// with backoff; meanwhile no cached token is trusted without asking the
// store, and once the feed is back every token cached before is asked about
// again, since a revocation may have been missed in between.
func (a *Authenticator) FollowRevocations(ctx context.Context, feed zone.RevocationFeed, log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	const backoffMin, backoffMax = 100 * time.Millisecond, 5 * time.Second
	backoff := backoffMin
	for ctx.Err() == nil {
		a.unheard.Store(true)
		revoked, err := feed.WatchRevocations(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			log.Warn("token revocation feed unavailable; asking the store about every token", "err", err, "retry_in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, backoffMax)
			continue
		}
		backoff = backoffMin
		a.epoch.Add(1)
		a.unheard.Store(false)
		for id := range revoked {
			a.Revoked(id)
		}
		if ctx.Err() == nil {
			log.Warn("token revocation feed interrupted; asking the store about every token until it is back")
		}
	}
}

func (a *Authenticator) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// lookup finds a token by its secret's hash: from the cache while its entry
// is trusted, else from the store; when the store cannot answer, from an
// entry the degraded mode may use (confirmed within MaxStale, or revoked).
func (a *Authenticator) lookup(ctx context.Context, secret string, now time.Time) (*zone.Token, error) {
	key := sha256.Sum256([]byte(secret)) // Hash(secret), without the copy
	epoch := a.epoch.Load()
	var cached *cachedToken
	if v, ok := a.cache.Load(key); ok {
		c := v.(cachedToken)
		cached = &c
		if a.CacheTTL > 0 && now.Sub(c.checked) < a.CacheTTL && c.epoch == epoch && !a.unheard.Load() {
			return c.token, nil
		}
	}
	fallback := cached != nil && (cached.token.RevokedAt != nil || (a.MaxStale > 0 && now.Sub(cached.checked) < a.MaxStale))
	if fallback {
		patience := a.LookupPatience
		if patience <= 0 {
			patience = DefaultLookupPatience
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, patience)
		defer cancel()
	}
	heard := a.heard.Load()
	t, err := a.Tokens.TokenByHash(ctx, key[:])
	if err != nil {
		if fallback && zone.ErrorCode(err) == zone.CodeUnavailable {
			return cached.token, nil
		}
		return nil, err
	}
	if a.CacheTTL > 0 || a.MaxStale > 0 {
		a.mu.Lock()
		if a.heard.Load() == heard {
			a.cache.Store(key, cachedToken{token: t, checked: now, epoch: epoch})
		}
		a.mu.Unlock()
	}
	return t, nil
}

// Authenticate returns the caller for an Authorization header value. With no
// header it returns the anonymous principal under PublicRead, and an
// unauthorized error otherwise. A present but wrong, revoked or expired token
// is always unauthorized, so a typo is never silently downgraded to anonymous.
func (a *Authenticator) Authenticate(ctx context.Context, header string) (zone.Principal, error) {
	secret, ok := credentials(header)
	if !ok {
		if header == "" && a.PublicRead {
			return zone.AnonymousPrincipal(), nil
		}
		if header == "" {
			return zone.Principal{}, zone.Errorf(zone.CodeUnauthorized, "a token is required (Authorization: Bearer zp_..., or Basic with the token as the password)")
		}
		return zone.Principal{}, zone.Errorf(zone.CodeUnauthorized, "the Authorization header must be 'Bearer <token>' or 'Basic' with the token as the password")
	}
	now := a.now()
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

// credentials reads the token from an Authorization header: "Bearer
// <token>", or HTTP Basic with the token as the password and any user
// name, which GIS clients that cannot send a bearer header (QGIS 3.22's
// OAPIF provider, GDAL with GDAL_HTTP_AUTH=BASIC) can send.
func credentials(h string) (string, bool) {
	if s, ok := scheme(h, "bearer "); ok {
		return s, true
	}
	if s, ok := scheme(h, "basic "); ok {
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return "", false
		}
		_, password, ok := strings.Cut(string(raw), ":")
		return password, ok && password != ""
	}
	return "", false
}

// scheme returns the credentials after the scheme p (lower case, with its
// space) of header h, compared without regard to case.
func scheme(h, p string) (string, bool) {
	if len(h) <= len(p) || !strings.EqualFold(h[:len(p)], p) {
		return "", false
	}
	s := strings.TrimSpace(h[len(p):])
	return s, s != ""
}

// UsesBasic reports whether an Authorization header is HTTP Basic: a
// refusal then also challenges for Basic, which is what such a client
// answers to.
func UsesBasic(h string) bool {
	_, ok := scheme(h, "basic ")
	return ok
}
