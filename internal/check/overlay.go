package check

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
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

// clipLines keeps the parts of a WGS84 line geometry inside box (lon/lat),
// so that a buffer is built only where it can reach the footprint. Other
// geometries are returned as they are.
func clipLines(g orb.Geometry, box orb.Bound) orb.Geometry {
	switch g.(type) {
	case orb.LineString, orb.MultiLineString:
		c := clip.Geometry(box, g)
		if c == nil {
			return orb.MultiLineString{}
		}
		return c
	}
	return g
}

// bufferPart is one convex piece of a buffer zone: the stadium around a
// segment (a disc when a == b), or, for a polygon, the polygon itself.
type bufferPart struct {
	a, b    orb.Point
	polygon orb.Polygon // set for a polygon's interior, else nil
}

// bufferParts splits the zone within w metres of a planar geometry into
// the pieces whose union it is: a stadium around every segment, a disc
// around every isolated point, and the polygons themselves. Only pieces
// whose box comes within w of near are kept: the zone is exact inside near,
// which holds the footprint.
//
// Why not simplefeatures' Buffer: on bent lines its input simplification
// (1% of the width) moved the rim by metres, a 3% area error against
// PostGIS and against a brute-force grid; the union of segment buffers
// agreed with both.
func bufferParts(g orb.Geometry, w float64, near orb.Bound) []bufferPart {
	var parts []bufferPart
	addSeg := func(a, b orb.Point) {
		if boxDist(newSegment(a, b).box, near) <= w {
			parts = append(parts, bufferPart{a: a, b: b})
		}
	}
	addLine := func(ls []orb.Point) {
		if len(ls) == 1 {
			addSeg(ls[0], ls[0])
		}
		for i := 1; i < len(ls); i++ {
			addSeg(ls[i-1], ls[i])
		}
	}
	addPolygon := func(p orb.Polygon) {
		if len(p) > 0 && boxDist(p.Bound(), near) <= 0 {
			parts = append(parts, bufferPart{polygon: p})
		}
		for _, r := range p {
			addLine(r)
		}
	}
	switch g := g.(type) {
	case orb.Point:
		addSeg(g, g)
	case orb.MultiPoint:
		for _, p := range g {
			addSeg(p, p)
		}
	case orb.LineString:
		addLine(g)
	case orb.MultiLineString:
		for _, l := range g {
			addLine(l)
		}
	case orb.Polygon:
		addPolygon(g)
	case orb.MultiPolygon:
		for _, p := range g {
			addPolygon(p)
		}
	}
	return parts
}

// zonePart returns the part as a planar polygon, arcs drawn with w.
func (p bufferPart) zonePart(w float64) zonePart {
	if p.polygon != nil {
		return zonePart{polygon: p.polygon}
	}
	return zonePart{polygon: orb.Polygon{stadium(p.a, p.b, w)}, a: p.a, b: p.b, w: w}
}

// holds reports whether the part contains every vertex of the shape, and
// so (being convex) the whole shape. Polygon parts never claim to.
func (p bufferPart) holds(s *shape, w float64) bool {
	if p.polygon != nil {
		return false
	}
	for _, q := range s.pts {
		if dist(q, closestOnSegment(q, p.a, p.b)) > w {
			return false
		}
	}
	for _, sg := range s.segs {
		if dist(sg.a, closestOnSegment(sg.a, p.a, p.b)) > w || dist(sg.b, closestOnSegment(sg.b, p.a, p.b)) > w {
			return false
		}
	}
	return true
}

// stadium is the polygon within w of segment ab (a disc when a == b), its
// arcs drawn with bufferQuadSegments chords per quarter circle, vertices at
// the same angles as GEOS and JTS put them (from the segment's normals),
// counter-clockwise.
func stadium(a, b orb.Point, w float64) orb.Ring {
	const n = 2 * bufferQuadSegments // chords per half circle
	ring := make(orb.Ring, 0, 2*(n+1)+1)
	// arc adds k+1 vertices around c from angle from, a step apart: the
	// unit circle's vertices rotated by from, one Sincos per arc.
	arc := func(c orb.Point, from float64, k int) {
		s, co := math.Sincos(from)
		for _, u := range unitArc[:k+1] {
			ring = append(ring, orb.Point{c[0] + w*(u[0]*co-u[1]*s), c[1] + w*(u[0]*s+u[1]*co)})
		}
	}
	if a == b {
		arc(a, 0, 2*n-1)
	} else {
		theta := math.Atan2(b[1]-a[1], b[0]-a[0])
		arc(b, theta-math.Pi/2, n) // counter-clockwise around the far end
		arc(a, theta+math.Pi/2, n) // and back around the near end
	}
	return append(ring, ring[0])
}

// unitArc holds the unit circle's vertices at the stadium's angle step.
var unitArc = func() [4 * bufferQuadSegments]orb.Point {
	var out [4 * bufferQuadSegments]orb.Point
	for i := range out {
		s, c := math.Sincos(float64(i) * math.Pi / (2 * bufferQuadSegments))
		out[i] = orb.Point{c, s}
	}
	return out
}()

// bufferSafe reports whether simplefeatures' (JTS's) Buffer may be used for
// a planar geometry at width w: JTS first drops every vertex that lies
// within 1% of w of the chord between its neighbours (on the concave side),
// which moved the rim by metres in our tests; when no vertex is that close
// to its neighbours' chord nothing is dropped, and the buffer is JTS's (and
// PostGIS's GEOS's) exact offset-curve construction.
func bufferSafe(g orb.Geometry, w float64) bool {
	tol := 0.0101 * w
	line := func(ls []orb.Point, closed bool) bool {
		n := len(ls)
		if closed {
			n-- // the last point repeats the first
		}
		for i := 0; i < n; i++ {
			if !closed && (i == 0 || i == n-1) {
				continue
			}
			prev, next := ls[(i-1+n)%n], ls[(i+1)%n]
			if dist(ls[i], closestOnSegment(ls[i], prev, next)) < tol {
				return false
			}
		}
		return true
	}
	switch g := g.(type) {
	case orb.Point, orb.MultiPoint:
		return true
	case orb.LineString:
		return line(g, false)
	case orb.MultiLineString:
		for _, l := range g {
			if !line(l, false) {
				return false
			}
		}
		return true
	case orb.Polygon:
		for _, r := range g {
			if !line(r, true) {
				return false
			}
		}
		return true
	case orb.MultiPolygon:
		for _, p := range g {
			if !bufferSafe(p, w) {
				return false
			}
		}
		return true
	}
	return false
}
