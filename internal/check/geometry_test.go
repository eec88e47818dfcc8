package check

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/paulmach/orb"
	sf "github.com/peterstace/simplefeatures/geom"
	"github.com/tidwall/geodesic"
)

// The local TM must give distances within 1e-5 of geodesics up to 50 km
// from its centre, and round-trip to well under a millimetre.
func TestLocalTMAgainstGeodesics(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		c := orb.Point{102 + rng.Float64()*7.5, 8.5 + rng.Float64()*15}
		p := newLocalTM(c)
		a := move(c, rng.Float64()*360, rng.Float64()*50_000)
		b := move(a, rng.Float64()*360, 1+rng.Float64()*5_000)
		back := p.Inverse(p.Forward(a))
		if d := geodesicDist(a, back); d > 1e-4 {
			t.Fatalf("round trip of %v moved %g m", a, d)
		}
		planar := dist(p.Forward(a), p.Forward(b))
		geo := geodesicDist(a, b)
		if rel := math.Abs(planar-geo) / geo; rel > 4e-5 {
			t.Fatalf("centre %v: planar %f vs geodesic %f m (rel %g)", c, planar, geo, rel)
		}
	}
	// The centre maps to the origin, north is +y, east is +x.
	p := newLocalTM(orb.Point{105.5, 21})
	if o := p.Forward(orb.Point{105.5, 21}); math.Abs(o[0]) > 1e-9 || math.Abs(o[1]) > 1e-9 {
		t.Fatalf("centre projects to %v", o)
	}
	if n := p.Forward(move(orb.Point{105.5, 21}, 0, 1000)); math.Abs(n[1]-1000) > 1e-3 || math.Abs(n[0]) > 1e-6 {
		t.Fatalf("1 km north projects to %v", n)
	}
}

// The footprint's area and length from the local TM agree with Karney's
// geodesic polygon (tidwall/geodesic, as PostGIS's geography measures) for
// footprints from 100 m to 50 km across, lines and polygons with holes.
func TestMeasureAgainstGeodesics(t *testing.T) {
	karney := func(g orb.Geometry) FootprintStats {
		var st FootprintStats
		ring := func(r orb.Ring, closed bool) (area, perim float64) {
			p := geodesic.WGS84.PolygonInit(!closed)
			pts := r
			if closed {
				pts = r[:len(r)-1]
			}
			for _, q := range pts {
				p.AddPoint(q[1], q[0])
			}
			p.Compute(false, true, &area, &perim)
			return math.Abs(area), perim
		}
		switch g := g.(type) {
		case orb.LineString:
			_, st.LengthM = ring(orb.Ring(g), false)
		case orb.Polygon:
			for i, r := range g {
				a, l := ring(r, true)
				if i > 0 {
					a = -a
				}
				st.AreaM2 += a
				st.LengthM += l
			}
		}
		return st
	}
	rng := rand.New(rand.NewPCG(4, 4))
	for i := 0; i < 500; i++ {
		c := orb.Point{102 + rng.Float64()*7.5, 8.5 + rng.Float64()*15}
		size := 100 * math.Pow(500, rng.Float64()) // 100 m to 50 km
		var g orb.Geometry
		switch rng.IntN(3) {
		case 0:
			g = starPolygon(rng, c, 3+rng.IntN(200), size/4, size/2)
		case 1:
			outer := starPolygon(rng, c, 10+rng.IntN(100), size/3, size/2)
			hole := starPolygon(rng, c, 5+rng.IntN(20), size/10, size/5)
			slices.Reverse(hole[0])
			g = orb.Polygon{outer[0], hole[0]}
		default:
			g = randomWalk(rng, c, 2+rng.IntN(50), size/10)
		}
		got, want := measure(g), karney(g)
		if math.Abs(got.AreaM2-want.AreaM2) > max(0.01, 1e-6*want.AreaM2) || math.Abs(got.LengthM-want.LengthM) > max(0.01, 1e-6*want.LengthM) {
			t.Fatalf("%s %.0f m across at %v: area %.2f, length %.2f; Karney %.4f, %.4f", g.GeoJSONType(), size, c, got.AreaM2, got.LengthM, want.AreaM2, want.LengthM)
		}
	}
}

// shapeDistance must agree with simplefeatures' planar distance on random
// points, lines and polygons, including touching and containment.
func TestShapeDistanceAgainstSimplefeatures(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	c := orb.Point{105, 21}
	p := newLocalTM(c)
	randomGeom := func() orb.Geometry {
		centre := move(c, rng.Float64()*360, rng.Float64()*3000)
		switch rng.IntN(4) {
		case 0:
			return centre
		case 1:
			ls := orb.LineString{centre}
			for j := 0; j < 2+rng.IntN(6); j++ {
				ls = append(ls, move(ls[len(ls)-1], rng.Float64()*360, 50+rng.Float64()*800))
			}
			return ls
		case 2:
			return square(centre, 20+rng.Float64()*2000)
		default:
			// a star-shaped polygon, not convex
			n := 5 + rng.IntN(20)
			r := orb.Ring{}
			for j := 0; j < n; j++ {
				r = append(r, move(centre, float64(j)*360/float64(n), 100+rng.Float64()*900))
			}
			r = append(r, r[0])
			return orb.Polygon{r}
		}
	}
	for i := 0; i < 3000; i++ {
		a, b := randomGeom(), randomGeom()
		got, pa, pb := shapeDistance(newShape(p, a, nil), newShape(p, b, nil))
		want, ok := sf.Distance(toSF(p.project(a)), toSF(p.project(b)))
		if !ok {
			t.Fatalf("simplefeatures gave no distance")
		}
		if math.Abs(got-want) > 1e-6 {
			t.Fatalf("case %d: %s vs %s: shapeDistance %f, simplefeatures %f", i, a.GeoJSONType(), b.GeoJSONType(), got, want)
		}
		if math.Abs(dist(pa, pb)-got) > 1e-6 {
			t.Fatalf("closest points %v %v are %f apart, distance %f", pa, pb, dist(pa, pb), got)
		}
	}
}

// A filtered shape gives the exact distance when it is within the filter
// radius.
func TestShapeFilterKeepsNearSegments(t *testing.T) {
	c := orb.Point{105, 21}
	p := newLocalTM(c)
	// a long north-south line 300 m east of the footprint
	var line orb.LineString
	for i := -200; i <= 200; i++ {
		line = append(line, move(move(c, 90, 300), 0, float64(i)*250))
	}
	fp := newShape(p, square(c, 100), nil)
	box := widen(square(c, 100).Bound(), 400)
	filtered := newShape(p, line, &box)
	if len(filtered.segs) > 10 {
		t.Fatalf("filter kept %d of %d segments", len(filtered.segs), len(line)-1)
	}
	d1, _, _ := shapeDistance(fp, filtered)
	d2, _, _ := shapeDistance(fp, newShape(p, line, nil))
	if math.Abs(d1-d2) > 1e-9 || math.Abs(d1-250) > 0.05 {
		t.Fatalf("filtered %f, full %f, want about 250", d1, d2)
	}
}

// randomBufferInput is a planar geometry of the kinds components have:
// points, lines (random walks, which may cross themselves, and zigzags
// with nearly straight vertices), star polygons (some with a hole) and
// multi-geometries of them.
func randomBufferInput(rng *rand.Rand) orb.Geometry {
	c := orb.Point{rng.Float64()*400 - 200, rng.Float64()*400 - 200}
	walk := func(n int, step float64) orb.LineString {
		ls := orb.LineString{c}
		az := rng.Float64() * 2 * math.Pi
		for i := 1; i < n; i++ {
			az += rng.NormFloat64() * 0.6
			last := ls[len(ls)-1]
			l := step * (0.3 + rng.Float64())
			ls = append(ls, orb.Point{last[0] + l*math.Cos(az), last[1] + l*math.Sin(az)})
		}
		return ls
	}
	// surveyed corners are never exactly square: rectilinear shapes are
	// jittered by up to half a metre
	jitter := func(p orb.Polygon) orb.Polygon {
		for _, r := range p {
			for i := range r[:len(r)-1] {
				r[i][0] += rng.Float64() - 0.5
				r[i][1] += rng.Float64() - 0.5
			}
			r[len(r)-1] = r[0]
		}
		return p
	}
	switch rng.IntN(9) {
	case 0:
		return c
	case 7: // a thin L-shaped hole, eroded whole at widths over its half-thickness
		th := 5 + rng.Float64()*60
		return jitter(orb.Polygon{
			{{c[0] - 600, c[1] - 600}, {c[0] + 600, c[1] - 600}, {c[0] + 600, c[1] + 600}, {c[0] - 600, c[1] + 600}, {c[0] - 600, c[1] - 600}},
			{{c[0], c[1]}, {c[0], c[1] + 400}, {c[0] + th, c[1] + 400}, {c[0] + th, c[1] + th}, {c[0] + 400, c[1] + th}, {c[0] + 400, c[1]}, {c[0], c[1]}},
		})
	case 8: // a bottle-shaped inlet: a narrow neck into a small chamber
		nw, ch := 5+rng.Float64()*20, 30+rng.Float64()*150
		return jitter(orb.Polygon{{{c[0] - 500, c[1] - 500}, {c[0] + 500, c[1] - 500}, {c[0] + 500, c[1] + 500},
			{c[0] + nw, c[1] + 500}, {c[0] + nw, c[1] + ch}, {c[0] + ch, c[1] + ch}, {c[0] + ch, c[1] - ch},
			{c[0] - ch, c[1] - ch}, {c[0] - ch, c[1] + ch}, {c[0] - nw, c[1] + ch}, {c[0] - nw, c[1] + 500},
			{c[0] - 500, c[1] + 500}, {c[0] - 500, c[1] - 500}}})
	case 1:
		return orb.MultiPoint{c, {c[0] + rng.Float64()*600, c[1] + rng.Float64()*600}}
	case 2:
		return walk(2+rng.IntN(30), 50+rng.Float64()*250)
	case 3: // nearly straight vertices, which JTS's default simplification drops
		ls := orb.LineString{}
		for i := 0; i < 3+rng.IntN(8); i++ {
			ls = append(ls, orb.Point{c[0] + float64(i)*150, c[1] + rng.Float64()*3})
		}
		return ls
	case 4:
		return orb.MultiLineString{walk(2+rng.IntN(10), 200), walk(2+rng.IntN(10), 200)}
	case 5:
		p := orb.Polygon{planarStar(rng, c, 3+rng.IntN(20), 20+rng.Float64()*100, 100+rng.Float64()*400)}
		if rng.IntN(3) == 0 {
			p[0] = planarStar(rng, c, 8+rng.IntN(20), 300, 500)
			p = append(p, reversed(planarStar(rng, c, 4+rng.IntN(10), 50, 250)))
		}
		return p
	}
	return orb.MultiPolygon{
		{planarStar(rng, c, 5+rng.IntN(10), 50, 150)},
		{planarStar(rng, orb.Point{c[0] + 400 + rng.Float64()*600, c[1]}, 5+rng.IntN(10), 50, 150)},
	}
}

// TestBufferOutlineMatchesJTS holds bufferOutline against the true zone and
// against simplefeatures' buffer (JTS's, with no input simplification) on
// random inputs and widths: a valid outline, every vertex and edge middle
// between the chords' sagitta inside the true rim and the rim itself
// (distance to the input), and the same region as JTS's within the
// sagitta along the rim. It must apply to nearly every random case.
func TestBufferOutlineMatchesJTS(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	const cases = 1500
	built := 0
	for i := 0; i < cases; i++ {
		g := randomBufferInput(rng)
		w := 10 + rng.Float64()*rng.Float64()*2000
		outline, ok := bufferOutline(g, w)
		if !ok {
			continue
		}
		built++
		got := toSF(outline)
		if err := got.Validate(); err != nil {
			t.Fatalf("case %d (%s, w %.1f): invalid outline: %v", i, g.GeoJSONType(), w, err)
		}
		input := newPlanarShape(g)
		// a fillet's chords span up to 1.5 quanta (JTS rounds the number of
		// chords to the nearest whole)
		// and its inner points lie outside the circle to keep the area
		// (fanRadius), most for a fillet of two chords
		inner := w * math.Cos(0.75*filletQuantum(w)) * (1 - 1e-9)
		outer := fanRadius(w, 1.25*filletQuantum(w), 2) * (1 + 1e-9)
		rim := 0.0
		for _, p := range outline {
			for _, r := range p {
				for k := 1; k < len(r); k++ {
					rim += dist(r[k-1], r[k])
					for _, q := range []orb.Point{r[k], {(r[k-1][0] + r[k][0]) / 2, (r[k-1][1] + r[k][1]) / 2}} {
						d, _, _ := shapeDistance(newPlanarShape(q), input)
						if d < inner || d > outer {
							t.Fatalf("case %d (%s, w %.1f): outline point %v is %.6f m from the input, want %.6f to %.6f",
								i, g.GeoJSONType(), w, q, d, inner, outer)
						}
					}
				}
			}
		}
		want, err := sf.Buffer(toSF(g), w, sf.BufferQuadSegments(quadSegments(w)), sf.BufferSimplifyFactor(0))
		if err != nil {
			t.Fatal(err)
		}
		diff, err := sf.SymmetricDifference(got, want)
		if err != nil {
			t.Fatal(err)
		}
		sagitta := w * (1 - math.Cos(0.75*filletQuantum(w)))
		if diff.Area() > sagitta*rim {
			t.Fatalf("case %d (%s, w %.1f): outline and JTS differ by %.3f m², more than the sagitta along the rim %.3f\n%s",
				i, g.GeoJSONType(), w, diff.Area(), sagitta*rim, mustJSON(g))
		}
	}
	if built < cases*99/100 {
		t.Fatalf("the outline was built for %d of %d random cases, want at least 99%%", built, cases)
	}
	t.Logf("%d of %d random outlines built, all within the chords' sagitta of the true zone and of JTS's", built, cases)
}

// Plain cases with known answers, and input not in general position left
// to the caller's fallback.
func TestBufferOutlineKnownCases(t *testing.T) {
	const w = 100
	disc, ok := bufferOutline(orb.Point{5, 7}, w)
	want := math.Pi * w * w // a regular polygon of the circle's area
	if !ok || len(disc) != 1 || math.Abs(ringArea(disc[0][0])-want) > 1e-6 {
		t.Fatalf("disc: ok %v %d polygons, area %v, want %v", ok, len(disc), disc, want)
	}
	// a square with a 60 m wide notch cut into one side: the zone fills
	// the notch, keeps the corners round, and dips between the circles
	// round the notch's corners, which reach y = 400 + sqrt(w² - 30²)
	notched := orb.Polygon{{{0, 0}, {400, 0}, {400, 400}, {230, 400}, {230, 200}, {170, 200}, {170, 400}, {0, 400}, {0, 0}}}
	zone, ok := bufferOutline(notched, w)
	if !ok || len(zone) != 1 || len(zone[0]) != 1 {
		t.Fatalf("notched square: ok %v, %v", ok, zone)
	}
	area := ringArea(zone[0][0])
	dip := 2 * (30*w - (15*math.Sqrt(w*w-30*30) + w*w/2*math.Asin(30.0/w)))
	exact := 400.0*400 + 4*400*w + math.Pi*w*w - dip
	if sagitta := w * (1 - math.Cos(0.75*filletQuantum(w))); math.Abs(area-exact) > sagitta*(2*math.Pi*w)/10 {
		t.Fatalf("notched square: area %f, want %f", area, exact)
	}
	// a ring with a hole wider than 2w keeps a hole
	frame := orb.Polygon{{{0, 0}, {1000, 0}, {1000, 1000}, {0, 1000}, {0, 0}}, {{100, 100}, {100, 900}, {900, 900}, {900, 100}, {100, 100}}}
	zone, ok = bufferOutline(frame, w)
	if !ok || len(zone) != 1 || len(zone[0]) != 2 {
		t.Fatalf("frame: ok %v, want one polygon with a hole, got %v", ok, zone)
	}
	if hole := -ringArea(zone[0][1]); math.Abs(hole-600*600) > 1e-6 {
		t.Fatalf("frame: hole of %f m², want 600 x 600", hole)
	}
	// two identical points: coincident circles are not general position
	if _, ok := bufferOutline(orb.MultiPoint{{0, 0}, {0, 0}}, w); ok {
		t.Fatalf("coincident circles: the outline claimed them")
	}
}

// BenchmarkBufferOutline: the zone of a 12-vertex star polygon (a combat
// base, 100-400 m across) at a rule's widths, of a 64-vertex one (the
// largest `zoneplan gen` makes) at a protected area's and a safety belt's,
// and of a 30-vertex line, with one builder's buffers reused as in a check.
func BenchmarkBufferOutline(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 5))
	star := orb.Polygon{planarStar(rng, orb.Point{}, 12, 100, 400)}
	star64 := orb.Polygon{planarStar(rng, orb.Point{}, 64, 300, 480)}
	line := orb.LineString{}
	for i := 0; i < 30; i++ {
		line = append(line, orb.Point{float64(i) * 200, rng.Float64() * 300})
	}
	for _, c := range []struct {
		name string
		g    orb.Geometry
		w    float64
	}{{"star/w=55", star, 55}, {"star/w=500", star, 500}, {"star64/w=300", star64, 300}, {"star64/w=1000", star64, 1000}, {"line/w=50", line, 50}, {"line/w=1000", line, 1000}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var oc offsetCurves
			for i := 0; i < b.N; i++ {
				if _, ok := oc.outline(c.g, c.w); !ok {
					b.Fatal("not built")
				}
			}
		})
	}
}

// BenchmarkLocalTM: one projection each way, a few km from the centre.
func BenchmarkLocalTM(b *testing.B) {
	c := orb.Point{104.5, 22}
	p := newLocalTM(c)
	q := move(c, 40, 3000)
	xy := p.Forward(q)
	b.Run("forward", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			xy = p.Forward(q)
		}
	})
	b.Run("inverse", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			q = p.Inverse(xy)
		}
	})
}
