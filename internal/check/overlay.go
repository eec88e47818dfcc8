package check

import (
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	sf "github.com/peterstace/simplefeatures/geom"
)

// bufferQuadSegments is how many segments approximate a quarter circle when
// a provisional width or a rule distance is turned into a zone polygon for
// the overlap area (PostGIS's quad_segs). With 16 the polygon's edges stay
// within r(1-cos(π/64)) = 0.12% of r inside the true circle (1.2 m at
// 1 km): an overlap area near a rim may be off by that times the rim's
// length (PostGIS's own buffers are off the same way). More segments cost
// time: the overlay work grows with them. The distance test itself
// (inside or not) is exact, it uses no polygon.
const bufferQuadSegments = 16

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
