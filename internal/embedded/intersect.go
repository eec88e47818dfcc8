package embedded

import (
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

// intersectsBound reports whether geometry g and box b share at least one
// point: touching counts, as in PostGIS ST_Intersects. Both are WGS84
// lon/lat and the test is planar in degrees, as ST_Intersects is on a
// geometry(4326) column.
func intersectsBound(g orb.Geometry, b orb.Bound) bool {
	switch g := g.(type) {
	case orb.Point:
		return pointIn(g, b)
	case orb.MultiPoint:
		for _, p := range g {
			if pointIn(p, b) {
				return true
			}
		}
	case orb.LineString:
		return pathIntersects(g, b)
	case orb.MultiLineString:
		for _, l := range g {
			if pathIntersects(l, b) {
				return true
			}
		}
	case orb.Ring:
		return polygonIntersects(orb.Polygon{g}, b)
	case orb.Polygon:
		return polygonIntersects(g, b)
	case orb.MultiPolygon:
		for _, p := range g {
			if polygonIntersects(p, b) {
				return true
			}
		}
	case orb.Collection:
		for _, m := range g {
			if intersectsBound(m, b) {
				return true
			}
		}
	case orb.Bound:
		return boundsTouch(g, b)
	}
	return false
}

func pointIn(p orb.Point, b orb.Bound) bool {
	return p[0] >= b.Min[0] && p[0] <= b.Max[0] && p[1] >= b.Min[1] && p[1] <= b.Max[1]
}

func pathIntersects(ps []orb.Point, b orb.Bound) bool {
	if len(ps) == 1 {
		return pointIn(ps[0], b)
	}
	for i := 1; i < len(ps); i++ {
		if segmentIntersects(ps[i-1], ps[i], b) {
			return true
		}
	}
	return false
}

// polygonIntersects: a polygon meets the box when one of its rings does,
// or else when the box lies wholly inside the polygon's area (outside every
// hole), which one corner of the box then decides.
func polygonIntersects(p orb.Polygon, b orb.Bound) bool {
	if len(p) == 0 {
		return false
	}
	for _, r := range p {
		if pathIntersects(r, b) {
			return true
		}
	}
	return planar.PolygonContains(p, b.Min)
}

// segmentIntersects clips the segment pq against the box (Liang-Barsky),
// edges included.
func segmentIntersects(p, q orb.Point, b orb.Bound) bool {
	if pointIn(p, b) || pointIn(q, b) {
		return true
	}
	t0, t1 := 0.0, 1.0
	clip := func(den, num float64) bool { // keeps the t with den*t <= num
		if den == 0 {
			return num >= 0
		}
		t := num / den
		if den > 0 {
			if t < t0 {
				return false
			}
			if t < t1 {
				t1 = t
			}
		} else {
			if t > t1 {
				return false
			}
			if t > t0 {
				t0 = t
			}
		}
		return true
	}
	dx, dy := q[0]-p[0], q[1]-p[1]
	return clip(-dx, p[0]-b.Min[0]) && clip(dx, b.Max[0]-p[0]) &&
		clip(-dy, p[1]-b.Min[1]) && clip(dy, b.Max[1]-p[1]) && t0 <= t1
}
