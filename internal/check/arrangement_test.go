package check

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
	sf "github.com/peterstace/simplefeatures/geom"
)

// planarStar is a simple star-shaped polygon ring around c in the plane,
// counter-clockwise, n vertices at radii between rMin and rMax.
func planarStar(rng *rand.Rand, c orb.Point, n int, rMin, rMax float64) orb.Ring {
	ring := make(orb.Ring, 0, n+1)
	for i := 0; i < n; i++ {
		a := (float64(i) + 0.1 + 0.8*rng.Float64()) * 2 * math.Pi / float64(n)
		r := rMin + rng.Float64()*(rMax-rMin)
		ring = append(ring, orb.Point{c[0] + r*math.Cos(a), c[1] + r*math.Sin(a)})
	}
	return append(ring, ring[0])
}

// stadium is the polygon within w of segment ab (a disc when a == b),
// counter-clockwise, arcs of quadSegments(w) chords a quarter circle.
func stadium(a, b orb.Point, w float64) orb.Ring {
	ring := orb.Ring{}
	quad := quadSegments(w)
	step := filletQuantum(w)
	arc := func(c orb.Point, from float64, steps int) {
		for i := 0; i <= steps; i++ {
			s, co := math.Sincos(from + float64(i)*step)
			ring = append(ring, orb.Point{c[0] + w*co, c[1] + w*s})
		}
	}
	if a == b {
		arc(a, 0, 4*quad-1)
	} else {
		theta := math.Atan2(b[1]-a[1], b[0]-a[0])
		arc(b, theta-math.Pi/2, 2*quad)
		arc(a, theta+math.Pi/2, 2*quad)
	}
	return append(ring, ring[0])
}

// randomZone is up to six overlapping polygons: discs, stadiums and
// non-convex polygons, some with a hole.
func randomZone(rng *rand.Rand) []orb.Polygon {
	var parts []orb.Polygon
	for n := 1 + rng.IntN(6); len(parts) < n; {
		at := orb.Point{rng.Float64()*1600 - 800, rng.Float64()*1600 - 800}
		switch rng.IntN(3) {
		case 0: // a disc
			w := 50 + rng.Float64()*500
			parts = append(parts, orb.Polygon{stadium(at, at, w)})
		case 1: // a stadium
			to := orb.Point{at[0] + rng.Float64()*600 - 300, at[1] + rng.Float64()*600 - 300}
			w := 30 + rng.Float64()*300
			parts = append(parts, orb.Polygon{stadium(at, to, w)})
		default: // a non-convex polygon, sometimes with a hole
			p := orb.Polygon{planarStar(rng, at, 5+rng.IntN(20), 100, 500)}
			if rng.IntN(3) == 0 {
				p = append(p, reversed(planarStar(rng, at, 6, 20, 60)))
			}
			parts = append(parts, p)
		}
	}
	return parts
}

func randomPlanarFootprint(rng *rand.Rand) orb.Geometry {
	c := orb.Point{rng.Float64()*400 - 200, rng.Float64()*400 - 200}
	switch rng.IntN(4) {
	case 0:
		return orb.Polygon{planarStar(rng, c, 4+rng.IntN(200), 100, 700)}
	case 1:
		return orb.Polygon{planarStar(rng, c, 30+rng.IntN(100), 300, 700), reversed(planarStar(rng, c, 8+rng.IntN(20), 50, 250))}
	case 2:
		return orb.MultiPolygon{
			{planarStar(rng, c, 10+rng.IntN(50), 100, 300)},
			{planarStar(rng, orb.Point{c[0] + 900, c[1]}, 10+rng.IntN(50), 100, 300)},
		}
	}
	ls := orb.LineString{c}
	for i := 0; i < 2+rng.IntN(30); i++ {
		last := ls[len(ls)-1]
		ls = append(ls, orb.Point{last[0] + rng.Float64()*200 - 100, last[1] + rng.Float64()*200 - 100})
	}
	return ls
}

func identityLL(p orb.Point) orb.Point { return p }

// TestZoneOverlapMatchesSimplefeatures holds the arrangement overlay against
// simplefeatures' general overlay (JTS) on random footprints and zones: the
// same area, the same geometry (symmetric difference of no area), a valid
// result; and the fast path must apply to nearly every random case.
func TestZoneOverlapMatchesSimplefeatures(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	const cases = 600
	fast := 0
	for i := 0; i < cases; i++ {
		fp := randomPlanarFootprint(rng)
		zone := randomZone(rng)
		area, got, ok := zoneOverlap(fp, zone, identityLL)
		if !ok {
			continue
		}
		fast++
		sfParts := make([]sf.Geometry, len(zone))
		for k, p := range zone {
			sfParts[k] = toSF(p)
		}
		union, err := sf.UnionMany(sfParts)
		if err != nil {
			t.Fatal(err)
		}
		want, err := sf.Intersection(toSF(fp), union)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(area-want.Area()) > 1e-6*max(1, want.Area()) {
			t.Fatalf("case %d: area %.6f, simplefeatures %.6f", i, area, want.Area())
		}
		if got == nil {
			if !want.IsEmpty() && (want.Area() > 1e-6 || want.Length() > 1e-6) {
				t.Fatalf("case %d: no overlap, simplefeatures has %s", i, want.Summary())
			}
			continue
		}
		g := toSF(got)
		if err := g.Validate(); err != nil {
			t.Fatalf("case %d: invalid result: %v", i, err)
		}
		if _, lineal := fp.(orb.LineString); lineal {
			if math.Abs(g.Length()-want.Length()) > 1e-6*max(1, want.Length()) {
				t.Fatalf("case %d: length %.6f, simplefeatures %.6f", i, g.Length(), want.Length())
			}
			continue
		}
		diff, err := sf.SymmetricDifference(g, want)
		if err != nil {
			t.Fatal(err)
		}
		if diff.Area() > 1e-6*max(1, want.Area()) {
			t.Fatalf("case %d: geometries differ by %.6f m²", i, diff.Area())
		}
	}
	if fast < cases*95/100 {
		t.Fatalf("the arrangement applied to %d of %d random cases, want at least 95%%", fast, cases)
	}
	t.Logf("%d of %d random cases by the arrangement, all equal to simplefeatures", fast, cases)
}

// TestZoneOverlapDeclinesDegenerateInput: a footprint vertex on a zone
// edge, and an edge shared with the zone, are left to the general overlay.
func TestZoneOverlapDeclinesDegenerateInput(t *testing.T) {
	square := orb.Polygon{{{0, 0}, {10, 0}, {10, 10}, {0, 10}, {0, 0}}}
	for name, fp := range map[string]orb.Geometry{
		"vertex on an edge": orb.Polygon{{{10, 5}, {15, 2}, {15, 8}, {10, 5}}},
		"shared edge":       orb.Polygon{{{10, 0}, {20, 0}, {20, 10}, {10, 10}, {10, 0}}},
		"line along edge":   orb.LineString{{-5, 0}, {5, 0}},
	} {
		if _, _, ok := zoneOverlap(fp, []orb.Polygon{square}, identityLL); ok {
			t.Errorf("%s: the arrangement claimed a degenerate case", name)
		}
	}
	// and the plain cases it does take, with the exact answer
	area, g, ok := zoneOverlap(orb.Polygon{{{5, 5}, {15, 5}, {15, 15}, {5, 15}, {5, 5}}}, []orb.Polygon{square}, identityLL)
	if !ok || math.Abs(area-25) > 1e-9 || g == nil {
		t.Fatalf("overlapping squares: ok %v area %v geometry %v, want 25 m²", ok, area, g)
	}
	_, g, ok = zoneOverlap(orb.LineString{{-5, 5}, {5, 5}, {5, 20}}, []orb.Polygon{square}, identityLL)
	want := orb.LineString{{0, 5}, {5, 5}, {5, 10}}
	if ls, isLine := g.(orb.LineString); !ok || !isLine || len(ls) != 3 || dist(ls[0], want[0]) > 1e-9 || dist(ls[2], want[2]) > 1e-9 {
		t.Fatalf("a line through the square: ok %v, %v, want %v", ok, g, want)
	}
}

// BenchmarkZoneOverlap: the benchmark's footprint (a 200-vertex star about
// 1 km across) overlaid with the outline of a combat base's zone (a
// 12-vertex star, 500 m wide), crossing, inside it, and disjoint.
func BenchmarkZoneOverlap(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 5))
	fp := orb.Polygon{planarStar(rng, orb.Point{}, 200, 300, 600)}
	for _, c := range []struct {
		name string
		at   orb.Point
		w    float64
	}{{"crossing", orb.Point{900, 0}, 500}, {"inside", orb.Point{0, 0}, 1500}, {"apart", orb.Point{3000, 0}, 200}} {
		zone, ok := bufferOutline(orb.Polygon{planarStar(rng, c.at, 12, 100, 400)}, c.w)
		if !ok {
			b.Fatal("no outline")
		}
		prepared := new(preparedFootprint).prepare(fp, nil, identityLL)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, _, ok := prepared.overlap(zone); !ok {
					b.Fatal("not by the arrangement")
				}
			}
		})
	}
}
