package coverage

import (
	"math"
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

// BenchmarkCovers: one footprint of 200 vertices (about 1 km across)
// against a layer's coverage of 9 provinces of 2,000 vertices each, far
// from their edges (the common case) and across an edge.
func BenchmarkCovers(b *testing.B) {
	var cs []zone.Coverage
	for i := range 3 {
		for j := range 3 {
			x0, y0 := 105.0+float64(i), 21.0+float64(j)
			var ring orb.Ring
			side := func(ax, ay, bx, by float64) {
				for k := range 500 {
					t := float64(k) / 500
					ring = append(ring, orb.Point{ax + t*(bx-ax), ay + t*(by-ay)})
				}
			}
			side(x0, y0, x0+1, y0)
			side(x0+1, y0, x0+1, y0+1)
			side(x0+1, y0+1, x0, y0+1)
			side(x0, y0+1, x0, y0)
			ring = append(ring, ring[0])
			cs = append(cs, cov(zone.LayerCombatBases, zone.Public, orb.Polygon{ring}))
		}
	}
	s := New(cs, 1)
	circle := func(c orb.Point) orb.Polygon {
		var r orb.Ring
		for k := range 200 {
			a := 2 * math.Pi * float64(k) / 200
			r = append(r, orb.Point{c[0] + 0.005*math.Cos(a), c[1] + 0.005*math.Sin(a)})
		}
		return orb.Polygon{append(r, r[0])}
	}
	for _, c := range []struct {
		name string
		g    orb.Polygon
		want bool
	}{
		{"inside", circle(orb.Point{106.5, 22.5}), true},
		{"across-an-inner-edge", circle(orb.Point{106.0, 22.5}), true},
		{"across-the-outer-edge", circle(orb.Point{108.0, 22.5}), false},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if s.Covers(zone.LayerCombatBases, zone.Public, c.g) != c.want {
					b.Fatal("wrong answer")
				}
			}
		})
	}
}
