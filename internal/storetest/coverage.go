package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// NewCoverage returns a valid public coverage of layer over the WGS84
// rectangle, reviewed as of 1 December 2026.
func NewCoverage(layer, area string, minLon, minLat, maxLon, maxLat float64) *zone.Coverage {
	return &zone.Coverage{
		Layer: layer, Area: area, Status: zone.CoverageReviewed,
		AsOf:     time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		Geometry: orb.MultiPolygon{Rect(minLon, minLat, maxLon, maxLat)},
	}
}

// runCoverage: coverage is created, read, listed, replaced with version
// checks, deleted; clearance hides a classified coverage in every read and
// write; invalid input is refused with every problem; every change moves
// CoverageVersion and signals the change feed.
func runCoverage(t *testing.T, open func(t *testing.T) zone.Store) {
	ctx := context.Background()
	s := open(t)
	v0, err := s.CoverageVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	feed, err := s.Subscribe(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	drain := func() {
		for {
			select {
			case <-feed:
			default:
				return
			}
		}
	}
	waitSignal := func(what string) {
		t.Helper()
		select {
		case <-feed:
		case <-time.After(5 * time.Second):
			t.Fatalf("no change signal after %s", what)
		}
	}

	drain()
	ls, err := s.PutCoverage(ctx, NewCoverage(zone.LayerCombatBases, "Lạng Sơn", 106.5, 21.7, 106.9, 22.0), 0, zone.Public, "admin")
	if err != nil {
		t.Fatalf("PutCoverage: %v", err)
	}
	waitSignal("a coverage created")
	if ls.ID == uuid.Nil || ls.Version != 1 || ls.UpdatedBy != "admin" || ls.UpdatedAt.IsZero() || ls.Area != "Lạng Sơn" {
		t.Fatalf("stored coverage = %+v", ls)
	}
	v1, _ := s.CoverageVersion(ctx)
	if v1 <= v0 {
		t.Fatalf("CoverageVersion %d -> %d after a create", v0, v1)
	}
	secret := NewCoverage(zone.LayerDefenceWorks, "Cao Bằng", 106.0, 22.5, 106.3, 22.8)
	secret.Classification = zone.Secret
	secret.AsOf = time.Date(2026, 11, 3, 15, 4, 0, 0, time.FixedZone("ICT", 7*3600))
	sec, err := s.PutCoverage(ctx, secret, 0, zone.Secret, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if !sec.AsOf.Equal(time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("as_of kept as %v, want the date alone", sec.AsOf)
	}

	got, err := s.GetCoverage(ctx, ls.ID, zone.Public)
	if err != nil || got.Layer != zone.LayerCombatBases || got.Status != zone.CoverageReviewed || len(got.Geometry) != 1 || got.Geometry.Bound() != ls.Geometry.Bound() {
		t.Fatalf("GetCoverage = %+v, %v", got, err)
	}
	if !got.AsOf.Equal(ls.AsOf) {
		t.Errorf("as_of read back %v, stored %v", got.AsOf, ls.AsOf)
	}
	// Clearance: the secret coverage does not exist below secret.
	if _, err := s.GetCoverage(ctx, sec.ID, zone.Restricted); zone.ErrorCode(err) != zone.CodeNotFound {
		t.Errorf("secret coverage read at restricted: %v", err)
	}
	if list, _ := s.ListCoverage(ctx, zone.Restricted); len(list) != 1 || list[0].ID != ls.ID {
		t.Errorf("restricted list = %+v", list)
	}
	if list, _ := s.ListCoverage(ctx, zone.Secret); len(list) != 2 || list[0].Layer != zone.LayerCombatBases || list[1].ID != sec.ID {
		t.Errorf("secret list (registry order) = %+v", list)
	}
	over := *sec
	over.Classification = zone.Public
	if _, err := s.PutCoverage(ctx, &over, 0, zone.Restricted, "spy"); zone.ErrorCode(err) != zone.CodeNotFound {
		t.Errorf("secret coverage overwritten at restricted: %v", err)
	}
	if err := s.DeleteCoverage(ctx, sec.ID, 0, zone.Restricted, "spy"); zone.ErrorCode(err) != zone.CodeNotFound {
		t.Errorf("secret coverage deleted at restricted: %v", err)
	}

	// Versions.
	upd := *ls
	upd.Status = zone.CoverageLoaded
	if _, err := s.PutCoverage(ctx, &upd, 7, zone.Public, "admin"); zone.ErrorCode(err) != zone.CodeConflict {
		t.Errorf("stale if-version accepted: %v", err)
	}
	drain()
	u, err := s.PutCoverage(ctx, &upd, 1, zone.Public, "editor")
	if err != nil || u.Version != 2 || u.Status != zone.CoverageLoaded || u.UpdatedBy != "editor" {
		t.Fatalf("replace = %+v, %v", u, err)
	}
	waitSignal("a coverage replaced")
	if err := s.DeleteCoverage(ctx, ls.ID, 1, zone.Public, "admin"); zone.ErrorCode(err) != zone.CodeConflict {
		t.Errorf("delete with a stale version: %v", err)
	}
	v2, _ := s.CoverageVersion(ctx)
	drain()
	if err := s.DeleteCoverage(ctx, ls.ID, 2, zone.Public, "admin"); err != nil {
		t.Fatal(err)
	}
	waitSignal("a coverage deleted")
	if v3, _ := s.CoverageVersion(ctx); v3 <= v2 {
		t.Errorf("CoverageVersion %d -> %d after a delete", v2, v3)
	}
	if _, err := s.GetCoverage(ctx, ls.ID, zone.Secret); zone.ErrorCode(err) != zone.CodeNotFound {
		t.Errorf("deleted coverage still there: %v", err)
	}
	if err := s.DeleteCoverage(ctx, ls.ID, 0, zone.Secret, "admin"); zone.ErrorCode(err) != zone.CodeNotFound {
		t.Errorf("second delete: %v", err)
	}

	// Validation: every problem, nothing stored.
	bad := &zone.Coverage{Layer: "nope", Status: "done", Geometry: orb.MultiPolygon{Rect(106.5, 21.7, 106.501, 21.701)}}
	_, err = s.PutCoverage(ctx, bad, 0, zone.Secret, "admin")
	var ze *zone.Error
	if zone.ErrorCode(err) != zone.CodeInvalid {
		t.Fatalf("invalid coverage: %v", err)
	}
	ze = err.(*zone.Error)
	pointers := map[string]bool{}
	for _, d := range ze.Details {
		pointers[d.Pointer] = true
	}
	for _, p := range []string{"layer", "status", "as_of", "area", "geometry"} {
		if !pointers[p] {
			t.Errorf("no problem named at %s: %+v", p, ze.Details)
		}
	}
	if list, _ := s.ListCoverage(ctx, zone.Secret); len(list) != 1 {
		t.Errorf("after the refused put, %d coverages", len(list))
	}
}
