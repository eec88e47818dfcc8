package index

import (
	"testing"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/consult"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// TestLayerDigest pins what tile caches and data views key on: the digest
// of a layer for a scope moves exactly when a component that scope sees
// changes, and equal contents give equal digests whatever the history.
func TestLayerDigest(t *testing.T) {
	ix := New()
	pub := point(zone.LayerCommuneHQs, zone.Public, 105, 21)
	sec := point(zone.LayerCommuneHQs, zone.Secret, 105.1, 21)
	other := point(zone.LayerBorderMarkers, zone.Public, 106, 22)
	ix.Apply(upserts(pub, sec, other), 3)
	s := ix.Snapshot()
	digest := func(s *Snapshot, layer string, cl zone.Classification) uint64 {
		return s.LayerDigest(layer, zone.ScopeOf(cl))
	}
	for _, c := range zone.Classifications() {
		if digest(s, zone.LayerCommuneHQs, c) == 0 {
			t.Fatalf("after the first batch, %s sees digest 0", c)
		}
	}
	if d := digest(s, "no_such_layer", zone.Secret); d != 0 {
		t.Fatalf("unknown layer has digest %x, want 0", d)
	}
	pubView, secView := s.View(zone.ScopeOf(zone.Public)), s.View(zone.ScopeOf(zone.Secret))
	restricted := digest(s, zone.LayerCommuneHQs, zone.Restricted)

	// A secret edit moves the secret view only.
	sec2 := sec.Clone()
	sec2.Name, sec2.Version = "renamed", 2
	ix.Apply(upserts(sec2), 5)
	s = ix.Snapshot()
	if d := digest(s, zone.LayerCommuneHQs, zone.Restricted); d != restricted {
		t.Errorf("restricted digest moved on a secret edit")
	}
	if s.View(zone.ScopeOf(zone.Public)) != pubView {
		t.Errorf("the public view moved on a secret edit")
	}
	if s.View(zone.ScopeOf(zone.Secret)) == secView {
		t.Errorf("the secret view did not move on a secret edit")
	}

	// The same contents reached another way (other batches, other versions
	// of the store's sequence) have the same digests and views.
	ix2 := New()
	ix2.Apply(upserts(other), 10)
	ix2.Apply(upserts(sec2), 11)
	ix2.Apply(upserts(pub), 12)
	s2 := ix2.Snapshot()
	for _, c := range zone.Classifications() {
		if s.View(zone.ScopeOf(c)) != s2.View(zone.ScopeOf(c)) {
			t.Errorf("%s: the same contents give different views", c)
		}
	}

	// Declassifying moves the public view; deleting moves it again.
	sec3 := sec2.Clone()
	sec3.Classification, sec3.Version = zone.Public, 3
	ix.Apply(upserts(sec3), 7)
	if ix.Snapshot().View(zone.ScopeOf(zone.Public)) == pubView {
		t.Errorf("public view unchanged after a declassification")
	}
	before := ix.Snapshot().View(zone.ScopeOf(zone.Public))
	ix.Apply([]zone.Change{deletion(pub)}, 9)
	if ix.Snapshot().View(zone.ScopeOf(zone.Public)) == before {
		t.Errorf("public view unchanged after a deletion")
	}
}

// An unpublished project site exists only for scopes that may read every
// appraisal: not in searches, counts, extents or digests of the others.
func TestUnpublishedSites(t *testing.T) {
	ix := New()
	site := point(zone.LayerProjectSites, zone.Public, 105, 21)
	site.Properties = map[string]any{zone.PropPublished: false}
	open := point(zone.LayerProjectSites, zone.Public, 105.2, 21)
	ix.Apply(upserts(open), 1)
	withoutDigest := ix.Snapshot().LayerDigest(zone.LayerProjectSites, zone.ScopeOf(zone.Secret))
	ix.Apply(upserts(site), 2)
	s := ix.Snapshot()
	all := box(104, 20, 106, 22)
	plain, reviewer := zone.ScopeOf(zone.Secret), zone.Scope{Clearance: zone.Public, Unpublished: true}
	if got := ids(func(fn func(*zone.Component) bool) { s.SearchLayer(zone.LayerProjectSites, all, plain, fn) }); !sameIDs(got, idsOf(open)) {
		t.Errorf("a secret-cleared appraiser sees %d sites, want only the published one", len(got))
	}
	if got := ids(func(fn func(*zone.Component) bool) { s.SearchLayer(zone.LayerProjectSites, all, reviewer, fn) }); !sameIDs(got, idsOf(open, site)) {
		t.Errorf("a reviewer sees %d sites, want both", len(got))
	}
	if s.Count(zone.LayerProjectSites, plain) != 1 || s.Count(zone.LayerProjectSites, reviewer) != 2 {
		t.Errorf("counts %d and %d, want 1 and 2", s.Count(zone.LayerProjectSites, plain), s.Count(zone.LayerProjectSites, reviewer))
	}
	if e, _ := s.Extent(zone.LayerProjectSites, plain); e.Contains(orb.Point{105, 21}) {
		t.Errorf("the extent %v shows the unpublished site", e)
	}
	if s.LayerDigest(zone.LayerProjectSites, plain) != withoutDigest {
		t.Errorf("the unpublished site moved the digest of a scope that cannot see it")
	}
	// Publishing moves it into the public tree.
	pub := site.Clone()
	pub.Properties[zone.PropPublished], pub.Version = true, 2
	ix.Apply(upserts(pub), 3)
	if n := ix.Snapshot().Count(zone.LayerProjectSites, zone.ScopeOf(zone.Public)); n != 2 {
		t.Errorf("after publishing, public sees %d sites, want 2", n)
	}
}

// The width a check widens its box by comes from the caller's scope only.
func TestMaxZoneWidthIn(t *testing.T) {
	ix := New()
	pub := point(zone.LayerDefenceWorks, zone.Public, 105, 21)
	pub.Zones = []zone.ProtectionZone{{Kind: zone.SafetyBelt, WidthM: 300}}
	sec := point(zone.LayerDefenceWorks, zone.Secret, 106, 21)
	sec.Zones = []zone.ProtectionZone{{Kind: zone.SafetyBelt, WidthM: 2500}}
	ix.Apply(upserts(pub, sec), 1)
	s := ix.Snapshot()
	if w := s.MaxZoneWidthIn(zone.ScopeOf(zone.Restricted)); w != 300 {
		t.Errorf("restricted scope width %v, want 300 (the secret belt is not theirs)", w)
	}
	if w := s.MaxZoneWidthM(); w != 2500 {
		t.Errorf("full width %v, want 2500", w)
	}
}

// Consultation cells: a classified component's cells are consulted by every
// clearance below it and by none at or above; they follow edits and
// deletions, and a rule-set change recomputes them.
func TestConsultationCells(t *testing.T) {
	ix := New()
	grid := consult.NewGrid(2000)
	reach := 500.0
	ix.SetConsultation(testConsultation{grid, "test", func(c *zone.Component) (float64, bool) {
		return reach, c.Layer != zone.LayerBorderMarkers
	}})
	dep := point(zone.LayerDefenceWorks, zone.Restricted, 105.5, 21.5)
	marker := point(zone.LayerBorderMarkers, zone.Secret, 106.5, 22.5)
	pub := point(zone.LayerDefenceWorks, zone.Public, 104.5, 20.5)
	ix.Apply(upserts(dep, marker, pub), 1)
	cells := func(s *Snapshot, b orb.Bound, cl zone.Classification) map[consult.Cell]bool {
		out := map[consult.Cell]bool{}
		s.Consulted(b, cl, func(c consult.Cell) bool { out[c] = true; return true })
		return out
	}
	world := box(100, 8, 110, 24)
	want := map[consult.Cell]bool{}
	for k := range grid.Covering(reach, dep.Geometry) {
		want[consult.CellOf(k)] = true
	}
	s := ix.Snapshot()
	for _, cl := range []zone.Classification{zone.Public, zone.Internal} {
		if got := cells(s, world, cl); !sameCells(got, want) {
			t.Errorf("%s consults %v, want the depot's %v", cl, got, want)
		}
	}
	for _, cl := range []zone.Classification{zone.Restricted, zone.Secret} {
		if got := cells(s, world, cl); len(got) != 0 {
			t.Errorf("%s, cleared for the depot, consults %v", cl, got)
		}
	}
	// Only the cells meeting the box are given.
	home := grid.CellAt(dep.Geometry.(orb.Point))
	if got := cells(s, grid.Bound(home), zone.Public); !got[home] || len(got) > 9 {
		t.Errorf("the depot's own cell box consults %v", got)
	}
	if got := cells(s, box(100, 8, 101, 9), zone.Public); len(got) != 0 {
		t.Errorf("a far box consults %v", got)
	}

	// Moving the depot moves its cells; deleting it removes them.
	moved := dep.Clone()
	moved.Geometry, moved.Version = orb.Point{107.2, 21.1}, 2
	ix.Apply(upserts(moved), 2)
	wantMoved := map[consult.Cell]bool{}
	for k := range grid.Covering(reach, moved.Geometry) {
		wantMoved[consult.CellOf(k)] = true
	}
	if got := cells(ix.Snapshot(), world, zone.Public); !sameCells(got, wantMoved) {
		t.Errorf("after the move public consults %v, want %v", got, wantMoved)
	}
	// A wider rule set recomputes every component's cells.
	reach = 3000
	ix.SetConsultation(testConsultation{grid, "wider", func(c *zone.Component) (float64, bool) { return reach, true }})
	if _, key := ix.Snapshot().Consultation(); key != "wider" {
		t.Fatalf("consultation key %q after the change", key)
	}
	if got := cells(ix.Snapshot(), world, zone.Internal); len(got) <= len(wantMoved) {
		t.Errorf("a wider reach gives %d cells, not more than %d", len(got), len(wantMoved))
	}
	ix.Apply([]zone.Change{deletion(moved), deletion(marker)}, 3)
	if got := cells(ix.Snapshot(), world, zone.Public); len(got) != 0 {
		t.Errorf("after deleting every classified component public consults %v", got)
	}
	// A reload keeps the consultation.
	ix.Apply(upserts(dep), 4)
	ix.writeMu.Lock()
	ix.replace([]*zone.Component{dep}, 5)
	ix.writeMu.Unlock()
	if got := cells(ix.Snapshot(), world, zone.Public); len(got) == 0 {
		t.Errorf("a reload dropped the consultation cells")
	}
}

func sameCells(a, b map[consult.Cell]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for c := range a {
		if !b[c] {
			return false
		}
	}
	return true
}

type testConsultation struct {
	grid  consult.Grid
	key   string
	reach func(*zone.Component) (float64, bool)
}

func (c testConsultation) Grid() consult.Grid                      { return c.grid }
func (c testConsultation) ConsultationKey() string                 { return c.key }
func (c testConsultation) Reach(x *zone.Component) (float64, bool) { return c.reach(x) }
