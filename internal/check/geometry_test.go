package check

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"
	sf "github.com/peterstace/simplefeatures/geom"
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

// The zone within w of a line: the union of segment buffers and, where no
// vertex is shallow, JTS's offset-curve buffer, agree within the chord
// error; bufferSafe refuses lines with a vertex JTS would drop.
func TestBufferPartsAndSafety(t *testing.T) {
	const w = 500
	zigzag := orb.LineString{{0, 0}, {300, 200}, {600, 0}, {900, 250}, {1200, 0}}
	shallow := orb.LineString{{0, 0}, {300, 2}, {600, 0}}
	if !bufferSafe(zigzag, w) || bufferSafe(shallow, w) {
		t.Fatalf("bufferSafe: zigzag %v, shallow %v", bufferSafe(zigzag, w), bufferSafe(shallow, w))
	}
	if !bufferSafe(orb.Point{1, 2}, w) {
		t.Fatalf("a point is always safe")
	}
	near := orb.Bound{Min: orb.Point{-1000, -1000}, Max: orb.Point{2200, 1300}}
	var parts []sf.Geometry
	for _, p := range bufferParts(zigzag, w, near) {
		parts = append(parts, toSF(p.zonePart(w).polygon))
	}
	union, err := sf.UnionMany(parts)
	if err != nil {
		t.Fatal(err)
	}
	jts, err := sf.Buffer(toSF(zigzag), w, sf.BufferQuadSegments(bufferQuadSegments))
	if err != nil {
		t.Fatal(err)
	}
	sagitta := w * (1 - math.Cos(math.Pi/(4*bufferQuadSegments)))
	rim := 2*1200.0 + 2*math.Pi*w // generous bound of the outline's length
	if d := math.Abs(union.Area() - jts.Area()); d > sagitta*rim {
		t.Fatalf("union %f vs JTS %f m² differ by %f, more than %f", union.Area(), jts.Area(), d, sagitta*rim)
	}
	// and both are close to the true area: Minkowski sum of the zigzag and a disc
	if a := union.Area(); a < 1200*2*w || a > 1500*2*w+math.Pi*w*w {
		t.Fatalf("buffer area %f out of range", a)
	}
}
