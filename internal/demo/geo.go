package demo

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
	"github.com/paulmach/orb/project"
	"github.com/tidwall/geodesic"
)

// Geodesy on the WGS84 ellipsoid. Points are orb.Point{lon, lat} in degrees;
// distances are metres; azimuths are degrees clockwise from north.

// destination is the point distM metres from p along azimuth az.
func destination(p orb.Point, az, distM float64) orb.Point {
	var lat, lon float64
	geodesic.WGS84.Direct(p[1], p[0], az, distM, &lat, &lon, nil)
	return orb.Point{lon, lat}
}

// distance is the geodesic distance between two points, in metres.
func distance(a, b orb.Point) float64 {
	var s float64
	geodesic.WGS84.Inverse(a[1], a[0], b[1], b[0], &s, nil, nil)
	return s
}

// azimuth is the initial azimuth from a to b.
func azimuth(a, b orb.Point) float64 {
	var az float64
	geodesic.WGS84.Inverse(a[1], a[0], b[1], b[0], nil, &az, nil)
	return az
}

// LengthM is the geodesic length of a line or the perimeter of a polygon's
// rings, in metres; 0 for points.
func LengthM(g orb.Geometry) float64 {
	var sum float64
	line := func(ls []orb.Point) {
		for i := 1; i < len(ls); i++ {
			sum += distance(ls[i-1], ls[i])
		}
	}
	switch g := g.(type) {
	case orb.LineString:
		line(g)
	case orb.MultiLineString:
		for _, l := range g {
			line(l)
		}
	case orb.Ring:
		line(g)
	case orb.Polygon:
		for _, r := range g {
			line(r)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				line(r)
			}
		}
	}
	return sum
}

// localFrame is an azimuthal equidistant projection centred on origin: a
// point maps to (s sin az, s cos az), metres east and north, where s and az
// are the geodesic distance and azimuth from origin. Distances from origin
// are exact; between two other points within 10 km of origin the error is
// centimetres, so it suits distances between nearby geometries.
type localFrame struct{ origin orb.Point }

func (f localFrame) project(p orb.Point) orb.Point {
	var s, az float64
	geodesic.WGS84.Inverse(f.origin[1], f.origin[0], p[1], p[0], &s, &az, nil)
	rad := az * math.Pi / 180
	return orb.Point{s * math.Sin(rad), s * math.Cos(rad)}
}

// projectGeometry maps every vertex of g into the frame (a copy; g is
// not changed).
func (f localFrame) projectGeometry(g orb.Geometry) orb.Geometry {
	return project.Geometry(orb.Clone(g), f.project)
}

// DistanceM is the distance in metres between two WGS84 geometries: 0 when
// they intersect or touch (a point on a boundary counts as inside), otherwise
// the shortest distance between them. It is computed in an azimuthal
// equidistant frame centred on a's bounding box, accurate to well under a
// metre for geometries within tens of kilometres of each other; far apart
// geometries get a distance that is only approximately right, but still large.
func DistanceM(a, b orb.Geometry) float64 {
	f := localFrame{origin: a.Bound().Center()}
	return planarDistance(f.projectGeometry(a), f.projectGeometry(b))
}

// planarDistance is the Euclidean distance between two planar geometries,
// 0 when they intersect.
func planarDistance(a, b orb.Geometry) float64 {
	pa, sa, va := parts(a)
	pb, sb, vb := parts(b)
	for _, poly := range pa {
		for _, v := range vb {
			if planar.PolygonContains(poly, v) {
				return 0
			}
		}
	}
	for _, poly := range pb {
		for _, v := range va {
			if planar.PolygonContains(poly, v) {
				return 0
			}
		}
	}
	best := math.Inf(1)
	for _, s := range sa {
		for _, t := range sb {
			d := segmentDistance(s[0], s[1], t[0], t[1])
			if d == 0 {
				return 0
			}
			best = min(best, d)
		}
	}
	return best
}

// parts splits a geometry into its polygons (for containment), its segments
// (a point is a segment of length zero) and its vertices.
func parts(g orb.Geometry) (polys []orb.Polygon, segs [][2]orb.Point, verts []orb.Point) {
	line := func(ls []orb.Point) {
		verts = append(verts, ls...)
		if len(ls) == 1 {
			segs = append(segs, [2]orb.Point{ls[0], ls[0]})
		}
		for i := 1; i < len(ls); i++ {
			segs = append(segs, [2]orb.Point{ls[i-1], ls[i]})
		}
	}
	switch g := g.(type) {
	case orb.Point:
		line([]orb.Point{g})
	case orb.MultiPoint:
		for _, p := range g {
			line([]orb.Point{p})
		}
	case orb.LineString:
		line(g)
	case orb.MultiLineString:
		for _, l := range g {
			line(l)
		}
	case orb.Polygon:
		polys = append(polys, g)
		for _, r := range g {
			line(r)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			polys = append(polys, p)
			for _, r := range p {
				line(r)
			}
		}
	}
	return polys, segs, verts
}

// segmentDistance is the distance between segments ab and cd, 0 when they
// cross or touch.
func segmentDistance(a, b, c, d orb.Point) float64 {
	if segmentsIntersect(a, b, c, d) {
		return 0
	}
	return min(
		planar.DistanceFromSegment(c, d, a), planar.DistanceFromSegment(c, d, b),
		planar.DistanceFromSegment(a, b, c), planar.DistanceFromSegment(a, b, d),
	)
}

func cross(o, a, b orb.Point) float64 {
	return (a[0]-o[0])*(b[1]-o[1]) - (a[1]-o[1])*(b[0]-o[0])
}

func onSegment(a, b, p orb.Point) bool {
	return min(a[0], b[0]) <= p[0] && p[0] <= max(a[0], b[0]) && min(a[1], b[1]) <= p[1] && p[1] <= max(a[1], b[1])
}

func segmentsIntersect(a, b, c, d orb.Point) bool {
	d1, d2 := cross(c, d, a), cross(c, d, b)
	d3, d4 := cross(a, b, c), cross(a, b, d)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		return true
	}
	return (d1 == 0 && onSegment(c, d, a)) || (d2 == 0 && onSegment(c, d, b)) ||
		(d3 == 0 && onSegment(a, b, c)) || (d4 == 0 && onSegment(a, b, d))
}

// degreesFor converts a distance in metres to a conservative (larger)
// span in degrees of longitude and latitude at latitude lat, for bounding
// box pre-filters.
func degreesFor(m, lat float64) (dlon, dlat float64) {
	dlat = m / 110_000
	dlon = m / (110_000 * math.Cos(lat*math.Pi/180))
	return dlon, dlat
}

// expand grows a bound by m metres on every side (conservatively).
func expand(b orb.Bound, m float64) orb.Bound {
	dlon, dlat := degreesFor(m, max(math.Abs(b.Min[1]), math.Abs(b.Max[1])))
	return orb.Bound{Min: orb.Point{b.Min[0] - dlon, b.Min[1] - dlat}, Max: orb.Point{b.Max[0] + dlon, b.Max[1] + dlat}}
}

// lineIndex holds long lines (the border) cut into short chunks with their
// bounds, so a distance query only measures the chunks near the point.
type lineIndex struct {
	chunks []orb.LineString
	bounds []orb.Bound
}

func newLineIndex(lines []orb.LineString) *lineIndex {
	const chunkLen = 16
	idx := &lineIndex{}
	for _, ls := range lines {
		for i := 0; i < len(ls)-1; i += chunkLen {
			j := min(i+chunkLen+1, len(ls))
			c := ls[i:j]
			idx.chunks = append(idx.chunks, c)
			idx.bounds = append(idx.bounds, c.Bound())
		}
	}
	return idx
}

// distanceWithin returns the distance in metres from g to the indexed lines
// when it is at most maxM, and +Inf otherwise.
func (idx *lineIndex) distanceWithin(g orb.Geometry, maxM float64) float64 {
	b := expand(g.Bound(), maxM)
	best := math.Inf(1)
	for i, cb := range idx.bounds {
		if !b.Intersects(cb) {
			continue
		}
		best = min(best, DistanceM(g, idx.chunks[i]))
	}
	if best > maxM {
		return math.Inf(1)
	}
	return best
}
