package check

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	sf "github.com/peterstace/simplefeatures/geom"
)

// A zone drawn from a width (a provisional width, a rule's distance) has
// round arcs: the law's zone is the true circle. They are drawn with as
// many chords per quarter circle (PostGIS's quad_segs) as keep the rim
// within arcRimM of the true circle, and never fewer than 16, through
// points placed so that each arc has the true circle's area (fanRadius):
// the zone's area and its overlaps then agree with the true circle's to
// 3e-5 whatever the count (TestArcsWithinTrueCircle; at the former 16
// inscribed chords a quarter a 100 m circle was 0.16% small, a thin
// overlap across a rim 0.6%). The rim's tolerance is a matter of cost:
// at 5 cm (65 chords a quarter at 1 km) the dense checks of the mixed load
// took 1.6-2.8 times as long (outlines of four times the vertices, built,
// kept and overlaid); at 25 cm (29 at 1 km, 21 at 500 m, 16 up to 300 m)
// about 1.3 times. Where JTS's rounding of a fillet to whole chords
// stretches them (by a quarter at most) the rim may stray a little more.
// The distance test itself (inside or not) is exact and uses no polygon.
const (
	arcRimM = 0.25
	// minQuadSegments: never fewer chords a quarter than before (twice
	// PostGIS's default).
	minQuadSegments = 16
)

// quadSegments is the number of chords per quarter circle of a zone of
// width w metres.
func quadSegments(w float64) int {
	// area-keeping chords of sagitta s stray (2/3)s either side of the rim
	s := 1.5 * arcRimM
	if s >= w {
		return minQuadSegments
	}
	step := 2 * math.Acos(1-s/w) // the angle of a chord of sagitta s
	return max(minQuadSegments, int(math.Ceil(math.Pi/2/step)))
}

// toSF converts a planar orb geometry to simplefeatures without validating
// it (the inputs were validated in WGS84, and projection keeps validity).
func toSF(g orb.Geometry) sf.Geometry {
	flat := func(ps []orb.Point) []float64 {
		out := make([]float64, 0, 2*len(ps))
		for _, p := range ps {
			out = append(out, p[0], p[1])
		}
		return out
	}
	poly := func(p orb.Polygon) sf.Polygon {
		rings := make([][]float64, len(p))
		for i, r := range p {
			rings[i] = flat(r)
		}
		return sf.NewPolygonXY(rings...)
	}
	switch g := g.(type) {
	case orb.Point:
		return sf.NewPointXY(g[0], g[1]).AsGeometry()
	case orb.MultiPoint:
		return sf.NewMultiPointXY(flat(g)...).AsGeometry()
	case orb.LineString:
		return sf.NewLineStringXY(flat(g)...).AsGeometry()
	case orb.MultiLineString:
		ls := make([][]float64, len(g))
		for i, l := range g {
			ls[i] = flat(l)
		}
		return sf.NewMultiLineStringXY(ls...).AsGeometry()
	case orb.Polygon:
		return poly(g).AsGeometry()
	case orb.MultiPolygon:
		ps := make([]sf.Polygon, len(g))
		for i, p := range g {
			ps[i] = poly(p)
		}
		return sf.NewMultiPolygon(ps).AsGeometry()
	}
	return sf.Geometry{}
}

// fromSF converts a simplefeatures result back to orb (planar), nil when
// empty.
func fromSF(g sf.Geometry) (orb.Geometry, error) {
	if g.IsEmpty() {
		return nil, nil
	}
	return wkb.Unmarshal(g.AsBinary())
}
