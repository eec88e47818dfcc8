package auth_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zoneplan/zoneplan/internal/auth"
	"github.com/zoneplan/zoneplan/internal/pgtest"
	"github.com/zoneplan/zoneplan/internal/postgis"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// waitFor polls cond every 10 ms until it holds or limit passes.
func waitFor(limit time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// TestDegradedMode: while the store cannot answer, a token validated within
// MaxStale still works and one older does not; a revocation heard before
// the outage still holds; an unknown token is unavailable (not
// unauthorized: nobody can tell).
func TestDegradedMode(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	start := time.Now()
	var offset atomic.Int64 // how far the authenticator's clock is ahead
	a := &auth.Authenticator{Tokens: st, CacheTTL: time.Minute, MaxStale: 10 * time.Minute,
		Now: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }}
	feedCtx, stopFeed := context.WithCancel(ctx)
	defer stopFeed()
	go a.FollowRevocations(feedCtx, st, nil)

	good, _, err := auth.Issue(ctx, st, "appraiser", zone.RoleAppraiser, zone.Internal, 0, start)
	if err != nil {
		t.Fatal(err)
	}
	bad, badTok, err := auth.Issue(ctx, st, "leaver", zone.RoleViewer, zone.Public, 0, start)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{good, bad} {
		if _, err := a.Authenticate(ctx, "Bearer "+secret); err != nil {
			t.Fatal(err)
		}
	}
	// Revoked through the store: the feed tells the cache at once, long
	// before the cache lifetime.
	if err := st.RevokeToken(ctx, badTok.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if !waitFor(2*time.Second, func() bool {
		_, err := a.Authenticate(ctx, "Bearer "+bad)
		return zone.ErrorCode(err) == zone.CodeUnauthorized
	}) {
		t.Fatal("a token revoked in the store still works after 2 s")
	}

	st.Close() // the store cannot answer from now on
	offset.Store(int64(2 * time.Minute))
	if p, err := a.Authenticate(ctx, "Bearer "+good); err != nil || p.Name != "appraiser" {
		t.Fatalf("a token validated 2 minutes ago, store unreachable: %+v, %v; want it honoured", p, err)
	}
	if _, err := a.Authenticate(ctx, "Bearer "+bad); zone.ErrorCode(err) != zone.CodeUnauthorized {
		t.Fatalf("a token revoked before the outage, store unreachable: %v; want unauthorized", err)
	}
	if _, err := a.Authenticate(ctx, "Bearer zp_neverissued"); zone.ErrorCode(err) != zone.CodeUnavailable {
		t.Fatalf("an unknown token, store unreachable: %v; want unavailable", err)
	}
	offset.Store(int64(11 * time.Minute))
	if _, err := a.Authenticate(ctx, "Bearer "+good); zone.ErrorCode(err) != zone.CodeUnavailable {
		t.Fatalf("a token validated 11 minutes ago, store unreachable: %v; want unavailable (past MaxStale)", err)
	}
	offset.Store(int64(20 * time.Minute))
	if _, err := a.Authenticate(ctx, "Bearer "+bad); zone.ErrorCode(err) != zone.CodeUnauthorized {
		t.Fatalf("a revoked token 20 minutes on, store unreachable: %v; want still unauthorized", err)
	}
}

// TestRevalidateAfterFeedInterruption: a revocation the feed never
// reported (its notification suppressed here, as one made while the feed's
// connection was down would be) is found once the feed reconnects: every
// token cached before is asked about again.
func TestRevalidateAfterFeedInterruption(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.New(t)
	if err := postgis.Migrate(ctx, dsn, nil); err != nil {
		t.Fatal(err)
	}
	st, err := postgis.Open(ctx, dsn, postgis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := &auth.Authenticator{Tokens: st, CacheTTL: time.Hour, MaxStale: time.Hour}
	feedCtx, stopFeed := context.WithCancel(ctx)
	defer stopFeed()
	go a.FollowRevocations(feedCtx, st, nil)
	exec := func(sql string) {
		t.Helper()
		if _, err := st.Pool().Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	listening := func() bool {
		var n int
		err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN zoneplan_tokens'`).Scan(&n)
		return err == nil && n == 1
	}
	if !waitFor(5*time.Second, listening) {
		t.Fatal("the revocation feed is not listening")
	}
	secret, tok, err := auth.Issue(ctx, st, "cached", zone.RoleViewer, zone.Public, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(ctx, "Bearer "+secret); err != nil {
		t.Fatal(err)
	}
	exec(`ALTER TABLE tokens DISABLE TRIGGER tokens_notify_revoked`)
	if err := st.RevokeToken(ctx, tok.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	exec(`ALTER TABLE tokens ENABLE TRIGGER tokens_notify_revoked`)
	if _, err := a.Authenticate(ctx, "Bearer "+secret); err != nil {
		t.Fatalf("with the revocation unreported and the feed up, the cache still trusts the token (as it should): %v", err)
	}
	exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN zoneplan_tokens'`)
	if !waitFor(5*time.Second, func() bool {
		_, err := a.Authenticate(ctx, "Bearer "+secret)
		return zone.ErrorCode(err) == zone.CodeUnauthorized
	}) {
		t.Fatal("after the feed reconnected, the token revoked meanwhile still works")
	}
}
