package postgis

import (
	"testing"

	"github.com/zoneplan/zoneplan/internal/pgtest"
)

// One instance leads at a time; when it lets go (or its connection
// drops), another takes over.
func TestLeadIsExclusive(t *testing.T) {
	dsn := pgtest.New(t)
	if err := Migrate(t.Context(), dsn, nil); err != nil {
		t.Fatal(err)
	}
	a, b := openOn(t, dsn), openOn(t, dsn)
	ledA, releaseA, ok, err := a.Lead(t.Context())
	if err != nil || !ok {
		t.Fatalf("first Lead = %v, %v; want ok", ok, err)
	}
	if _, _, ok, err := b.Lead(t.Context()); err != nil || ok {
		t.Fatalf("second Lead while the first holds = %v, %v; want refused", ok, err)
	}
	releaseA()
	if ledA.Err() == nil {
		t.Error("the released leader's context is still live")
	}
	_, releaseB, ok, err := b.Lead(t.Context())
	if err != nil || !ok {
		t.Fatalf("Lead after release = %v, %v; want ok", ok, err)
	}
	releaseB()
}
