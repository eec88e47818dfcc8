package coverage

import (
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/zone"
)

func rect(x0, y0, x1, y1 float64) orb.Polygon {
	return orb.Polygon{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}
}

func cov(layer string, cl zone.Classification, ps ...orb.Polygon) zone.Coverage {
	return zone.Coverage{Layer: layer, Area: "test", Status: zone.CoverageReviewed, AsOf: time.Now(),
		Classification: cl, Geometry: orb.MultiPolygon(ps)}
}

// The edge of a covered area: inside, on the edge, straddling and outside,
// for points, lines and polygons; two adjacent areas cover what straddles
// their shared edge; a hole of the area inside a polygon leaves it
// uncovered.
func TestCoversAtTheEdge(t *testing.T) {
	ring := rect(106.0, 21.0, 107.0, 22.0)
	ring = append(ring, orb.Ring{{106.4, 21.4}, {106.4, 21.6}, {106.6, 21.6}, {106.6, 21.4}, {106.4, 21.4}}) // a hole
	s := New([]zone.Coverage{
		cov(zone.LayerCombatBases, zone.Public, ring),
		cov(zone.LayerCombatBases, zone.Public, rect(107.0, 21.0, 108.0, 22.0)), // adjacent, east
	}, 1)
	cases := []struct {
		name string
		g    orb.Geometry
		want bool
	}{
		{"point inside", orb.Point{106.2, 21.2}, true},
		{"point on the outer edge", orb.Point{106.0, 21.5}, true},
		{"point on a corner", orb.Point{106.0, 21.0}, true},
		{"point just outside", orb.Point{105.9999, 21.5}, false},
		{"point far outside", orb.Point{100, 10}, false},
		{"point in the hole", orb.Point{106.5, 21.5}, false},
		{"point on the hole's edge", orb.Point{106.4, 21.5}, true},
		{"points, one out", orb.MultiPoint{{106.2, 21.2}, {105.5, 21.2}}, false},
		{"line inside", orb.LineString{{106.1, 21.1}, {106.3, 21.2}, {106.2, 21.3}}, true},
		{"line along the edge", orb.LineString{{106.0, 21.1}, {106.0, 21.9}}, true},
		{"line straddling the outer edge", orb.LineString{{106.1, 21.1}, {105.9, 21.1}}, false},
		{"line with both ends inside crossing the hole", orb.LineString{{106.3, 21.5}, {106.7, 21.5}}, false},
		{"line leaving and coming back (notch of the hole)", orb.LineString{{106.3, 21.3}, {106.5, 21.5}, {106.7, 21.3}}, false},
		{"line across the shared edge of two areas", orb.LineString{{106.9, 21.5}, {107.1, 21.5}}, true},
		{"line leaving the east area", orb.LineString{{107.9, 21.5}, {108.1, 21.5}}, false},
		{"polygon inside", rect(106.1, 21.1, 106.3, 21.3), true},
		{"polygon equal to the east area", rect(107.0, 21.0, 108.0, 22.0), true},
		{"polygon touching the edge from inside", rect(106.0, 21.1, 106.2, 21.3), true},
		{"polygon straddling the outer edge", rect(105.9, 21.1, 106.1, 21.3), false},
		{"polygon just outside, touching", rect(105.8, 21.1, 106.0, 21.3), false},
		{"polygon around the hole", rect(106.3, 21.3, 106.7, 21.7), false},
		{"polygon across both areas", rect(106.8, 21.1, 107.2, 21.3), true},
		{"polygon across both areas and out", rect(106.8, 21.1, 107.2, 22.1), false},
		{"polygon outside", rect(110, 10, 111, 11), false},
	}
	for _, c := range cases {
		if got := s.Covers(zone.LayerCombatBases, zone.Public, c.g); got != c.want {
			t.Errorf("%s: Covers = %v, want %v", c.name, got, c.want)
		}
		if got := s.Covers(zone.LayerDefenceWorks, zone.Secret, c.g); got {
			t.Errorf("%s: covered by a layer with no coverage", c.name)
		}
	}
}

// A classified coverage counts only for a caller cleared for it; Missing
// lists the layers not covering, in the order asked, and tests layers
// declared over the same area once.
func TestClearanceAndMissing(t *testing.T) {
	area := rect(106.0, 21.0, 107.0, 22.0)
	s := New([]zone.Coverage{
		cov(zone.LayerCombatBases, zone.Public, area),
		cov(zone.LayerDefenceWorks, zone.Public, area),
		cov(zone.LayerBorderMarkers, zone.Secret, area),
	}, 7)
	if s.Version() != 7 {
		t.Errorf("Version = %d", s.Version())
	}
	if s.levels[zone.Public][zone.LayerCombatBases] != s.levels[zone.Public][zone.LayerDefenceWorks] {
		t.Error("two layers over the same area were merged twice")
	}
	p := orb.Point{106.5, 21.5}
	layers := []string{zone.LayerBorderMarkers, zone.LayerCombatBases, zone.LayerPatrolRoutes, zone.LayerDefenceWorks}
	got := s.Missing(layers, zone.Restricted, p)
	if len(got) != 2 || got[0] != zone.LayerBorderMarkers || got[1] != zone.LayerPatrolRoutes {
		t.Errorf("Missing at restricted = %v", got)
	}
	got = s.Missing(layers, zone.Secret, p)
	if len(got) != 1 || got[0] != zone.LayerPatrolRoutes {
		t.Errorf("Missing at secret = %v", got)
	}
	if got := s.Missing(layers, zone.Secret, orb.Point{100, 10}); len(got) != 4 {
		t.Errorf("Missing outside = %v", got)
	}
}
