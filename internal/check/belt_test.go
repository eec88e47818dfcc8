package check

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
	"github.com/tidwall/geodesic"

	"github.com/zoneplan/zoneplan/data"
	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// The border belt against the real border (data/border_lines.geojson):
// footprints placed along its long edges, whose geodesics bow up to 3 m
// from the straight line in lon/lat, inward and outward of Vietnam.

// borderEdge is one long edge of a border line: its ends, the middle of
// its geodesic, the azimuth there and the azimuth pointing into Vietnam.
type borderEdge struct {
	line      *zone.Component
	a, b      orb.Point
	lengthM   float64
	mid       orb.Point
	along, in float64 // azimuths at mid, degrees
}

// longBorderEdges returns the border's edges of at least minM metres.
func longBorderEdges(tb testing.TB, minM float64) []borderEdge {
	tb.Helper()
	lines, err := data.BorderLines()
	if err != nil {
		tb.Fatal(err)
	}
	land, err := data.VietnamLand()
	if err != nil {
		tb.Fatal(err)
	}
	inVietnam := func(p orb.Point) bool {
		for _, poly := range land {
			if polygonContains(poly, poly.Bound(), p) {
				return true
			}
		}
		return false
	}
	var out []borderEdge
	for _, c := range lines {
		ls := c.Geometry.(orb.LineString)
		for i := 1; i < len(ls); i++ {
			a, b := ls[i-1], ls[i]
			var s12, azi1 float64
			geodesic.WGS84.Inverse(a[1], a[0], b[1], b[0], &s12, &azi1, nil)
			if s12 < minM {
				continue
			}
			var lat, lon, azi2 float64
			geodesic.WGS84.Direct(a[1], a[0], azi1, s12/2, &lat, &lon, &azi2)
			e := borderEdge{line: c, a: a, b: b, lengthM: s12, mid: orb.Point{lon, lat}, along: azi2}
			e.in = azi2 + 90
			if !inVietnam(move(e.mid, e.in, 300)) {
				e.in = azi2 - 90
			}
			if !inVietnam(move(e.mid, e.in, 300)) || inVietnam(move(e.mid, e.in+180, 300)) {
				continue // the land is not on one side only here (a corner of the coast)
			}
			out = append(out, e)
		}
	}
	return out
}

// rectangle returns a rectangle along the edge: from fromM to toM metres
// inward of it (negative: outside Vietnam), halfLenM either side of its
// middle along it. Its corners lie on the true offsets of the edge's
// geodesic (the points of the geodesic, moved square to it), so its long
// sides stay at their distances from the edge to the millimetre.
func (e borderEdge) rectangle(fromM, toM, halfLenM float64) orb.Polygon {
	var s12, azi1 float64
	geodesic.WGS84.Inverse(e.a[1], e.a[0], e.b[1], e.b[0], &s12, &azi1, nil)
	side := e.in - e.along // +90 or -90: Vietnam's side of the edge
	corner := func(d, s float64) orb.Point {
		var lat, lon, azi float64
		geodesic.WGS84.Direct(e.a[1], e.a[0], azi1, s12/2+s, &lat, &lon, &azi)
		if d < 0 {
			return move(orb.Point{lon, lat}, azi+side+180, -d)
		}
		return move(orb.Point{lon, lat}, azi+side, d)
	}
	ring := orb.Ring{corner(fromM, -halfLenM), corner(fromM, halfLenM), corner(toM, halfLenM), corner(toM, -halfLenM)}
	ring = append(ring, ring[0])
	if ringArea(ring) < 0 {
		ring = reversed(ring)
	}
	return orb.Polygon{ring}
}

func beltEngine(tb testing.TB) (*Engine, *treeSource, []borderEdge) {
	tb.Helper()
	lines, err := data.BorderLines()
	if err != nil {
		tb.Fatal(err)
	}
	return New(rules.Default()), newTreeSource(lines...), longBorderEdges(tb, 18_000)
}

func beltFinding(res Result) *Finding {
	for i := range res.Findings {
		if res.Findings[i].Rule == "border-belt" {
			return &res.Findings[i]
		}
	}
	return nil
}

func TestBorderBeltInwardAlongLongEdges(t *testing.T) {
	e, src, edges := beltEngine(t)
	if len(edges) < 5 {
		t.Fatalf("only %d border edges of 18 km or more", len(edges))
	}
	worst := 0.0
	for _, edge := range edges {
		measure := func(p orb.Polygon) float64 { return measure(p).AreaM2 }
		check := func(p orb.Polygon) *Finding {
			return beltFinding(e.Check(src, Footprint{Index: -1, Geometry: p}, cleared))
		}

		// A 300 m square straddling the rim: half of it is in the belt.
		sq := edge.rectangle(850, 1150, 150)
		f := check(sq)
		if f == nil || f.Verdict != rules.Review {
			t.Fatalf("edge %v-%v (%.0f m): square on the rim: %+v", edge.a, edge.b, edge.lengthM, f)
		}
		want := edge.rectangle(850, 1000, 150)
		worst = max(worst, math.Abs(*f.OverlapAreaM2-measure(want))/measure(want))
		if d := math.Abs(*f.OverlapAreaM2 - measure(want)); d > 0.0005*measure(want) {
			t.Errorf("edge %v-%v (%.0f m): square on the rim: overlap %.2f m², the part within 1,000 m is %.2f", edge.a, edge.b, edge.lengthM, *f.OverlapAreaM2, measure(want))
		}

		// A strip 998.6-999.6 m inward: wholly in the belt.
		strip := edge.rectangle(998.6, 999.6, 1000)
		if f := check(strip); f == nil || f.EdgeTolerance || math.Abs(*f.OverlapAreaM2-measure(strip)) > 0.0005*measure(strip) || f.Overlap == nil {
			t.Errorf("edge %v-%v: strip 998.6-999.6 m inward: %+v, its area %.2f", edge.a, edge.b, f, measure(strip))
		}

		// The rim within 5 cm of the true offset of the geodesic: a strip
		// from 999.90 to 999.95 m is wholly in the belt, and one from
		// 1,000.05 to 1,000.10 m is outside it (a notice).
		inner := edge.rectangle(999.90, 999.95, 1000)
		if f := check(inner); f == nil || f.EdgeTolerance || math.Abs(*f.OverlapAreaM2-measure(inner)) > 0.01*measure(inner) {
			t.Errorf("edge %v-%v: strip 999.90-999.95 m inward: %+v, its area %.2f", edge.a, edge.b, f, measure(inner))
		}
		if f := check(edge.rectangle(1000.05, 1000.10, 1000)); f == nil || !f.EdgeTolerance {
			t.Errorf("edge %v-%v: strip 1,000.05-1,000.10 m inward: %+v, want a notice", edge.a, edge.b, f)
		}

		// Straddling the border line: only Vietnam's half counts.
		across := edge.rectangle(-150, 150, 150)
		f = check(across)
		inside := edge.rectangle(0, 150, 150)
		if f == nil || math.Abs(*f.OverlapAreaM2-measure(inside)) > 0.0005*measure(inside) {
			t.Errorf("edge %v-%v: square across the border: %+v, Vietnam's half %.2f m²", edge.a, edge.b, f, measure(inside))
		}

		// Wholly outside Vietnam, 200 m beyond the line: no belt finding
		// (the distance rules still see the line).
		out := edge.rectangle(-500, -200, 150)
		res := e.Check(src, Footprint{Index: -1, Geometry: out}, cleared)
		if f := beltFinding(res); f != nil {
			t.Errorf("edge %v-%v: square in the neighbour's territory has a belt finding %+v", edge.a, edge.b, f)
		}
		if len(res.Findings) == 0 {
			t.Errorf("edge %v-%v: square 200 m beyond the line: no border-area notice", edge.a, edge.b)
		}

		// Just beyond the rim inside Vietnam: a tolerance notice.
		beyond := edge.rectangle(1003, 1100, 150)
		if f := check(beyond); f == nil || !f.EdgeTolerance {
			t.Errorf("edge %v-%v: 3 m beyond the rim: %+v", edge.a, edge.b, f)
		}
	}
	t.Logf("%d edges of 18 km or more; squares on the rim: overlap within %.2e of the part within 1,000 m", len(edges), worst)
}

func TestHighestDimension(t *testing.T) {
	sq := orb.Polygon{{{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 0}}}
	got := highestDimension(orb.Collection{orb.Point{5, 5}, orb.LineString{{2, 2}, {3, 3}}, sq})
	if mp, ok := got.(orb.MultiPolygon); !ok || len(mp) != 1 {
		t.Fatalf("polygon, line and point: %#v", got)
	}
	got = highestDimension(orb.Collection{orb.Point{5, 5}, orb.LineString{{2, 2}, {3, 3}}})
	if ml, ok := got.(orb.MultiLineString); !ok || len(ml) != 1 {
		t.Fatalf("line and point: %#v", got)
	}
	if got := highestDimension(sq); !orb.Equal(got, sq) {
		t.Fatalf("a polygon: %#v", got)
	}
}
