package consult

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/project"
	"github.com/tidwall/geodesic"
)

func geodesicM(a, b orb.Point) float64 {
	var s float64
	geodesic.WGS84.Inverse(a[1], a[0], b[1], b[0], &s, nil, nil)
	return s
}

// Every cell is at least CellM tall and wide (measured on the ellipsoid
// along its shortest edge), from the equator to the far north of Vietnam
// and beyond.
func TestCellsAreAtLeastTheCellSize(t *testing.T) {
	for _, cellM := range []float64{500, 2000, 5000} {
		g := NewGrid(cellM)
		for lat := -60.0; lat <= 60; lat += 0.37 {
			for _, lon := range []float64{-179.5, 0.1, 102.3, 107.9} {
				c := Cell{g.row(lat), int32(math.Floor(lon / g.dLon(g.row(lat))))}
				b := g.Bound(c)
				if !b.Contains(orb.Point{lon, lat}) {
					t.Fatalf("cell %v %v does not contain its point %v,%v", c, b, lon, lat)
				}
				poleward := b.Max[1]
				if lat < 0 {
					poleward = b.Min[1]
				}
				w := geodesicM(orb.Point{b.Min[0], poleward}, orb.Point{b.Max[0], poleward})
				h := geodesicM(orb.Point{b.Min[0], b.Min[1]}, orb.Point{b.Min[0], b.Max[1]})
				if w < cellM || h < cellM {
					t.Fatalf("cell at %.2f°: %.1f x %.1f m, smaller than %g m", lat, w, h, cellM)
				}
				if w > 1.2*cellM/math.Cos(math.Abs(lat+1)*math.Pi/180) || h > 1.02*cellM {
					t.Fatalf("cell at %.2f°: %.1f x %.1f m, much larger than %g m", lat, w, h, cellM)
				}
			}
		}
	}
}

func TestKeyRoundTrip(t *testing.T) {
	for _, c := range []Cell{{0, 0}, {-1, -1}, {1234, -98765}, {math.MaxInt32, math.MinInt32}} {
		if got := CellOf(c.Key()); got != c {
			t.Fatalf("CellOf(%v.Key()) = %v", c, got)
		}
	}
}

// Covering contains every point within the reach of the geometry: the
// property a consultation area must have, or a hidden component's zone
// could lie outside its referral.
func TestCoveringContainsTheReach(t *testing.T) {
	g := NewGrid(2000)
	rng := rand.New(rand.NewPCG(1, 2))
	line := orb.LineString{{103.01, 22.31}, {103.2, 22.4}, {103.25, 22.1}}
	poly := orb.Polygon{{{105.5, 21.5}, {105.52, 21.5}, {105.52, 21.51}, {105.5, 21.51}, {105.5, 21.5}}}
	pt := orb.Point{106.7, 22.8}
	for _, tc := range []struct {
		g     orb.Geometry
		reach float64
	}{{line, 1000}, {poly, 500}, {pt, 55}, {pt, 4000}, {line, 0}} {
		area := g.Covering(tc.reach, tc.g)
		inArea := func(p orb.Point) bool {
			n := 0
			g.Cover(orb.Bound{Min: p, Max: p}, func(c Cell) {
				if _, ok := area[c.Key()]; ok {
					n++
				}
			})
			return n > 0
		}
		b := Widen(tc.g.Bound(), tc.reach+100)
		tested := 0
		for range 3000 {
			p := orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
			if distanceTo(tc.g, p) > tc.reach {
				continue
			}
			tested++
			if !inArea(p) {
				t.Fatalf("%T reach %g: point %v within reach lies outside the covering", tc.g, tc.reach, p)
			}
		}
		if tested == 0 && tc.reach > 0 {
			t.Fatalf("%T reach %g: no sample point within reach", tc.g, tc.reach)
		}
	}
}

// distanceTo is the geodesic distance from p to g, by dense sampling of
// g's edges (good to a metre here): independent of the code under test.
func distanceTo(g orb.Geometry, p orb.Point) float64 {
	best := math.Inf(1)
	seg := func(a, b orb.Point) {
		for i := 0; i <= 200; i++ {
			f := float64(i) / 200
			best = math.Min(best, geodesicM(p, orb.Point{a[0] + f*(b[0]-a[0]), a[1] + f*(b[1]-a[1])}))
		}
	}
	switch g := g.(type) {
	case orb.Point:
		best = geodesicM(p, g)
	case orb.LineString:
		for i := 0; i+1 < len(g); i++ {
			seg(g[i], g[i+1])
		}
	case orb.Polygon:
		if g.Bound().Contains(p) {
			return 0 // the test polygon is its box
		}
		r := g[0]
		for i := 0; i+1 < len(r); i++ {
			seg(r[i], r[i+1])
		}
	}
	return best
}

// A box edge exactly on a cell edge meets the cells on both sides.
func TestRowsIncludeTouchingCells(t *testing.T) {
	g := NewGrid(2000)
	b := g.Bound(Cell{1000, 5000})
	var cells []Cell
	g.Cover(orb.Bound{Min: b.Min, Max: b.Min}, func(c Cell) { cells = append(cells, c) })
	want := map[Cell]bool{{1000, 5000}: true, {999, 5000}: true, {1000, 4999}: true}
	found := 0
	for _, c := range cells {
		if want[c] {
			found++
		}
	}
	if found < 3 {
		t.Fatalf("a point on a cell corner meets %v, want at least %v", cells, want)
	}
}

func TestDeterministic(t *testing.T) {
	g1, g2 := NewGrid(2000), NewGrid(2000)
	line := orb.LineString{{103.01, 22.31}, {103.2, 22.4}}
	a, b := g1.Covering(700, line), g2.Covering(700, line)
	if len(a) != len(b) || len(a) == 0 {
		t.Fatalf("coverings differ: %d and %d cells", len(a), len(b))
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			t.Fatalf("cell %v in one covering only", CellOf(k))
		}
	}
}

func TestKeysSortLikeCells(t *testing.T) {
	cells := []Cell{{-5, -3}, {-5, 2}, {-1, math.MinInt32}, {0, -1}, {0, 0}, {0, 7}, {3, -100}, {3, 100}}
	for i := 1; i < len(cells); i++ {
		if cells[i-1].Key() >= cells[i].Key() {
			t.Fatalf("key of %v >= key of %v", cells[i-1], cells[i])
		}
	}
}

// The bound: a component's area depends on its position only through its
// anchor cell (the cell holding the centre of its box). Any move that
// keeps the anchor in its cell keeps every cell; points, lines and
// polygons with zones, all over the cell, and a reach under and over a
// cell.
func TestCoveringDependsOnlyOnTheAnchorCell(t *testing.T) {
	g := NewGrid(2000)
	rng := rand.New(rand.NewPCG(3, 4))
	shapes := []func(p orb.Point) []orb.Geometry{
		func(p orb.Point) []orb.Geometry { return []orb.Geometry{p} },
		func(p orb.Point) []orb.Geometry {
			return []orb.Geometry{orb.LineString{{p[0] - 0.03, p[1] - 0.01}, {p[0] + 0.01, p[1] + 0.02}, {p[0] + 0.04, p[1]}}}
		},
		func(p orb.Point) []orb.Geometry {
			sq := func(h float64) orb.Polygon {
				return orb.Polygon{{{p[0] - h, p[1] - h}, {p[0] + h, p[1] - h}, {p[0] + h, p[1] + h}, {p[0] - h, p[1] + h}, {p[0] - h, p[1] - h}}}
			}
			return []orb.Geometry{sq(0.0007), sq(0.0013)}
		},
	}
	moved := func(gs []orb.Geometry, dx, dy float64) []orb.Geometry {
		out := make([]orb.Geometry, len(gs))
		for i, x := range gs {
			out[i] = project.Geometry(orb.Clone(x), func(p orb.Point) orb.Point { return orb.Point{p[0] + dx, p[1] + dy} })
		}
		return out
	}
	keys := func(a Area) string {
		ks := a.Keys()
		slices.Sort(ks)
		return fmt.Sprint(ks)
	}
	for trial := range 300 {
		shape := shapes[trial%len(shapes)]
		reach := []float64{60, 540, 1040, 2600}[trial%4]
		p := orb.Point{102.5 + 7*rng.Float64(), 8.5 + 14.5*rng.Float64()}
		gs := shape(p)
		area := g.Covering(reach, gs...)
		// The anchor: the centre of the box of all parts.
		var b orb.Bound
		for i, x := range gs {
			if i == 0 {
				b = x.Bound()
			} else {
				b = b.Union(x.Bound())
			}
		}
		anchor := b.Center()
		home := g.Bound(g.CellAt(anchor))
		if !home.Contains(anchor) {
			t.Fatalf("CellAt(%v) = %v, which does not hold it", anchor, home)
		}
		// Moves to random places in the anchor cell, and next to its
		// corners (not onto them: floating point may put the moved anchor
		// a hair across the edge).
		for k := range 20 {
			u, v := rng.Float64(), rng.Float64()
			if k < 4 {
				u, v = 1e-6+float64(k&1)*0.999998, 1e-6+float64(k>>1)*0.999998
			}
			to := orb.Point{home.Min[0] + u*(home.Max[0]-home.Min[0]), home.Min[1] + v*(home.Max[1]-home.Min[1])}
			m := g.Covering(reach, moved(gs, to[0]-anchor[0], to[1]-anchor[1])...)
			if keys(m) != keys(area) {
				t.Fatalf("trial %d (reach %g): moving the anchor within its cell, from %v to %v, changes the area from %d to %d cells",
					trial, reach, anchor, to, len(area), len(m))
			}
		}
		// Out of the cell, the area moves with it.
		if m := g.Covering(reach, moved(gs, home.Max[0]-home.Min[0], 0)...); keys(m) == keys(area) {
			t.Fatalf("trial %d: a move of a whole cell eastwards leaves the area as it was", trial)
		}
	}
}

// BenchmarkCovering is the cost of one component's area (what the index
// pays per classified component on load and on a rule-set change).
func BenchmarkCovering(b *testing.B) {
	g := NewGrid(2000)
	p := orb.Point{106.3, 21.5}
	sq := func(h float64) orb.Polygon {
		return orb.Polygon{{{p[0] - h, p[1] - h}, {p[0] + h, p[1] - h}, {p[0] + h, p[1] + h}, {p[0] - h, p[1] + h}, {p[0] - h, p[1] - h}}}
	}
	var route orb.LineString
	for i := range 12 {
		route = append(route, orb.Point{p[0] + 0.008*float64(i), p[1] + 0.004*float64(i%3)})
	}
	for _, c := range []struct {
		name  string
		reach float64
		geoms []orb.Geometry
	}{
		{"point", 540, []orb.Geometry{p}},
		{"depot with zones", 1040, []orb.Geometry{sq(0.0007), sq(0.0013)}},
		{"10 km route", 540, []orb.Geometry{route}},
	} {
		b.Run(c.name, func(b *testing.B) {
			cells := 0
			for b.Loop() {
				cells = len(g.Covering(c.reach, c.geoms...))
			}
			b.ReportMetric(float64(cells), "cells")
		})
	}
}
