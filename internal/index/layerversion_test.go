package index

import (
	"testing"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// TestLayerVersion pins what the tile cache keys on: a layer's version for
// a clearance moves exactly when a component that clearance sees changes.
func TestLayerVersion(t *testing.T) {
	ix := New()
	pub := point(zone.LayerCommuneHQs, zone.Public, 105, 21)
	sec := point(zone.LayerCommuneHQs, zone.Secret, 105.1, 21)
	other := point(zone.LayerBorderMarkers, zone.Public, 106, 22)
	ix.Apply(upserts(pub, sec, other), 3)
	s := ix.Snapshot()
	for _, c := range zone.Classifications() {
		if v := s.LayerVersion(zone.LayerCommuneHQs, c); v != 3 {
			t.Fatalf("after the first batch, %s sees version %d, want 3", c, v)
		}
	}
	if v := s.LayerVersion("no_such_layer", zone.Secret); v != 0 {
		t.Fatalf("unknown layer at version %d, want 0", v)
	}

	// A secret edit moves the secret view only.
	sec2 := sec.Clone()
	sec2.Name = "renamed"
	ix.Apply(upserts(sec2), 5)
	s = ix.Snapshot()
	if v := s.LayerVersion(zone.LayerCommuneHQs, zone.Restricted); v != 3 {
		t.Errorf("restricted view moved to %d on a secret edit, want 3", v)
	}
	if v := s.LayerVersion(zone.LayerCommuneHQs, zone.Secret); v != 5 {
		t.Errorf("secret view at %d after a secret edit, want 5", v)
	}
	if v := s.LayerVersion(zone.LayerBorderMarkers, zone.Secret); v != 3 {
		t.Errorf("untouched layer moved to %d, want 3", v)
	}

	// Declassifying moves both the tier it left and the one it entered.
	sec3 := sec2.Clone()
	sec3.Classification = zone.Public
	ix.Apply(upserts(sec3), 7)
	s = ix.Snapshot()
	if v := s.LayerVersion(zone.LayerCommuneHQs, zone.Public); v != 7 {
		t.Errorf("public view at %d after a declassification, want 7", v)
	}

	// A deletion counts; a reload sets every layer to the loaded version.
	ix.Apply([]zone.Change{deletion(pub)}, 9)
	if v := ix.Snapshot().LayerVersion(zone.LayerCommuneHQs, zone.Public); v != 9 {
		t.Errorf("public view at %d after a deletion, want 9", v)
	}
}
