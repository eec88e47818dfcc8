package auth_test

import (
	"context"
	"encoding/base64"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zoneplan/zoneplan/internal/auth"
	"github.com/zoneplan/zoneplan/internal/embedded"
	"github.com/zoneplan/zoneplan/internal/zone"
)

func openStore(t *testing.T) zone.Store {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "z.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	secret, tok, err := auth.Issue(ctx, st, "Nguyễn Văn A", zone.RoleAppraiser, zone.Restricted, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, auth.Prefix) || len(secret) < 40 {
		t.Fatalf("secret %q is not a zp_ token of 256 bits", secret)
	}
	stored, err := st.TokenByHash(ctx, auth.Hash(secret))
	if err != nil || stored.ID != tok.ID {
		t.Fatalf("token not stored by hash: %v", err)
	}
	a := &auth.Authenticator{Tokens: st, Now: func() time.Time { return now.Add(time.Minute) }}

	p, err := a.Authenticate(ctx, "Bearer "+secret)
	if err != nil || p.Role != zone.RoleAppraiser || p.Clearance != zone.Restricted || p.Name != "Nguyễn Văn A" {
		t.Fatalf("Authenticate = %+v, %v", p, err)
	}
	// HTTP Basic with the token as the password, any user name (QGIS,
	// GDAL with GDAL_HTTP_AUTH=BASIC).
	basic := func(userPassword string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(userPassword))
	}
	for _, h := range []string{basic("qgis:" + secret), basic(":" + secret), "basic  " + base64.StdEncoding.EncodeToString([]byte("Nguyễn:"+secret))} {
		if p, err := a.Authenticate(ctx, h); err != nil || p.Name != "Nguyễn Văn A" || p.Clearance != zone.Restricted {
			t.Fatalf("Authenticate(%q) = %+v, %v", h, p, err)
		}
	}
	cases := []struct{ name, header string }{
		{"missing", ""},
		{"token not base64 in Basic", "Basic " + secret},
		{"token as the Basic user name", basic(secret + ":")},
		{"token without a colon", basic(secret)},
		{"wrong Basic password", basic("qgis:zp_nottherightsecret")},
		{"unknown token", "Bearer zp_nottherightsecret"},
		{"empty bearer", "Bearer "},
		{"other scheme", "Digest " + secret},
	}
	for _, c := range cases {
		if _, err := a.Authenticate(ctx, c.header); zone.ErrorCode(err) != zone.CodeUnauthorized {
			t.Errorf("%s: got %v, want unauthorized", c.name, err)
		}
	}
	expired := &auth.Authenticator{Tokens: st, Now: func() time.Time { return now.Add(2 * time.Hour) }}
	if _, err := expired.Authenticate(ctx, "Bearer "+secret); zone.ErrorCode(err) != zone.CodeUnauthorized {
		t.Errorf("expired token accepted: %v", err)
	}
	if err := st.RevokeToken(ctx, tok.ID, now); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, "Bearer "+secret); zone.ErrorCode(err) != zone.CodeUnauthorized {
		t.Errorf("revoked token accepted: %v", err)
	}
}

func TestPublicRead(t *testing.T) {
	st := openStore(t)
	a := &auth.Authenticator{Tokens: st, PublicRead: true}
	p, err := a.Authenticate(context.Background(), "")
	if err != nil || !p.Anonymous || p.Clearance != zone.Public || p.Can(zone.PermCheck) {
		t.Fatalf("anonymous = %+v, %v", p, err)
	}
	// A wrong token is never silently downgraded to anonymous.
	if _, err := a.Authenticate(context.Background(), "Bearer zp_wrong"); zone.ErrorCode(err) != zone.CodeUnauthorized {
		t.Fatalf("wrong token under public-read: %v", err)
	}
}

func TestEnsureAdminOnlyOnce(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	s1, err := auth.EnsureAdmin(ctx, st, time.Now())
	if err != nil || s1 == "" {
		t.Fatalf("first EnsureAdmin = %q, %v", s1, err)
	}
	s2, err := auth.EnsureAdmin(ctx, st, time.Now())
	if err != nil || s2 != "" {
		t.Fatalf("second EnsureAdmin created another token: %q, %v", s2, err)
	}
	p, err := (&auth.Authenticator{Tokens: st}).Authenticate(ctx, "Bearer "+s1)
	if err != nil || p.Role != zone.RoleAdmin || p.Clearance != zone.Secret {
		t.Fatalf("admin = %+v, %v", p, err)
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"": 0, "30d": 30 * 24 * time.Hour, "12h": 12 * time.Hour} {
		if got, err := auth.ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"-1d", "0d", "abc", "-5h", "d"} {
		if _, err := auth.ParseDuration(in); zone.ErrorCode(err) != zone.CodeInvalid {
			t.Errorf("ParseDuration(%q) accepted", in)
		}
	}
}

func TestCacheTrustsForTTLAndForgets(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := now
	secret, tok, err := auth.Issue(ctx, st, "cached", zone.RoleViewer, zone.Public, 0, now)
	if err != nil {
		t.Fatal(err)
	}
	a := &auth.Authenticator{Tokens: st, CacheTTL: 5 * time.Second, Now: func() time.Time { return clock }}
	if _, err := a.Authenticate(ctx, "Bearer "+secret); err != nil {
		t.Fatal(err)
	}
	// Revoked behind the cache's back (another instance): trusted until the TTL ends.
	if err := st.RevokeToken(ctx, tok.ID, now); err != nil {
		t.Fatal(err)
	}
	clock = now.Add(4 * time.Second)
	if _, err := a.Authenticate(ctx, "Bearer "+secret); err != nil {
		t.Fatalf("within the TTL the cached token should still be trusted: %v", err)
	}
	clock = now.Add(6 * time.Second)
	if _, err := a.Authenticate(ctx, "Bearer "+secret); zone.ErrorCode(err) != zone.CodeUnauthorized {
		t.Fatalf("after the TTL a revoked token must fail: %v", err)
	}
	// Forget drops the cache at once.
	secret2, tok2, _ := auth.Issue(ctx, st, "cached2", zone.RoleViewer, zone.Public, 0, now)
	clock = now
	if _, err := a.Authenticate(ctx, "Bearer "+secret2); err != nil {
		t.Fatal(err)
	}
	_ = st.RevokeToken(ctx, tok2.ID, now)
	a.Forget()
	if _, err := a.Authenticate(ctx, "Bearer "+secret2); zone.ErrorCode(err) != zone.CodeUnauthorized {
		t.Fatalf("after Forget a revoked token must fail: %v", err)
	}
}
