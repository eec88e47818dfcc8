package storetest

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// runWatchRevocations: every revocation after WatchRevocations returns is
// reported with the token's id, in order, and the channel closes when the
// watcher's context ends.
func runWatchRevocations(t *testing.T, open func(t *testing.T) zone.Store) {
	s := open(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var ids []uuid.UUID
	for _, name := range []string{"Trần Thị Bích", "Lê Văn Cường"} {
		h := sha256.Sum256([]byte(name))
		tok := zone.Token{Name: name, Role: zone.RoleViewer, Clearance: zone.Public, Hash: h[:]}
		if err := s.CreateToken(ctx, &tok); err != nil {
			t.Fatalf("CreateToken: %v", err)
		}
		ids = append(ids, tok.ID)
	}
	revoked, err := s.WatchRevocations(ctx)
	if err != nil {
		t.Fatalf("WatchRevocations: %v", err)
	}
	for _, id := range ids {
		if err := s.RevokeToken(ctx, id, time.Now()); err != nil {
			t.Fatalf("RevokeToken: %v", err)
		}
	}
	for _, want := range ids {
		select {
		case got, ok := <-revoked:
			if !ok {
				t.Fatal("revocation feed closed before its context ended")
			}
			if got != want {
				t.Fatalf("revocation feed reported %s, want %s", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("revocation of %s not reported within 10s", want)
		}
	}
	cancel()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-revoked:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("revocation feed not closed within 10s of its context ending")
		}
	}
}
