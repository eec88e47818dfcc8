package zone

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/paulmach/orb/planar"
	sfgeom "github.com/peterstace/simplefeatures/geom"
)

// VertexCount is the number of vertices of a geometry, closing points of
// rings included.
func VertexCount(g orb.Geometry) int {
	switch g := g.(type) {
	case orb.Point:
		return 1
	case orb.MultiPoint:
		return len(g)
	case orb.LineString:
		return len(g)
	case orb.Ring:
		return len(g)
	case orb.MultiLineString:
		n := 0
		for _, l := range g {
			n += len(l)
		}
		return n
	case orb.Polygon:
		n := 0
		for _, r := range g {
			n += len(r)
		}
		return n
	case orb.MultiPolygon:
		n := 0
		for _, p := range g {
			n += VertexCount(p)
		}
		return n
	}
	return 0
}

// ValidateGeometry checks a WGS84 geometry and returns every problem with a
// pointer into its GeoJSON coordinates ("coordinates[0][3]" is ring 0,
// vertex 3 of a polygon): missing or empty geometry, an unsupported type,
// NaN or out-of-range coordinates, too few points, an unclosed ring, more
// than MaxVertices vertices, and topological faults (self-intersection)
// found by simplefeatures, the pure-Go JTS port.
func ValidateGeometry(g orb.Geometry) []Detail {
	var probs []Detail
	bad := func(ptr, format string, args ...any) {
		probs = append(probs, Detail{Index: -1, Pointer: ptr, Reason: fmt.Sprintf(format, args...)})
	}
	if g == nil {
		bad("", "geometry is missing")
		return probs
	}
	points := func(ptr string, ps []orb.Point) {
		for i, p := range ps {
			if math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0) {
				bad(fmt.Sprintf("%s[%d]", ptr, i), "coordinate is not a number")
			} else if !wgs84Bound.Contains(p) {
				bad(fmt.Sprintf("%s[%d]", ptr, i), "coordinate [%g, %g] is outside longitude -180..180, latitude -90..90 (is it in another CRS?)", p[0], p[1])
			}
		}
	}
	line := func(ptr string, ls orb.LineString) {
		if len(ls) < 2 {
			bad(ptr, "a line needs at least 2 points, has %d", len(ls))
		}
		points(ptr, ls)
	}
	ring := func(ptr string, r orb.Ring) {
		if len(r) < 4 {
			bad(ptr, "a polygon ring needs at least 4 points (3 distinct, closed), has %d", len(r))
		} else if r[0] != r[len(r)-1] {
			bad(ptr, "ring is not closed: first point %v differs from last %v", r[0], r[len(r)-1])
		}
		points(ptr, r)
	}
	polygon := func(ptr string, p orb.Polygon) {
		if len(p) == 0 {
			bad(ptr, "polygon is empty")
		}
		for i, r := range p {
			ring(fmt.Sprintf("%s[%d]", ptr, i), r)
		}
	}
	switch g := g.(type) {
	case orb.Point:
		points("coordinates", []orb.Point{g})
	case orb.MultiPoint:
		if len(g) == 0 {
			bad("coordinates", "geometry is empty")
		}
		points("coordinates", g)
	case orb.LineString:
		line("coordinates", g)
	case orb.MultiLineString:
		if len(g) == 0 {
			bad("coordinates", "geometry is empty")
		}
		for i, l := range g {
			line(fmt.Sprintf("coordinates[%d]", i), l)
		}
	case orb.Polygon:
		polygon("coordinates", g)
	case orb.MultiPolygon:
		if len(g) == 0 {
			bad("coordinates", "geometry is empty")
		}
		for i, p := range g {
			polygon(fmt.Sprintf("coordinates[%d]", i), p)
		}
	default:
		bad("type", "geometry type %s is not supported (use Point, LineString, Polygon or their Multi forms)", g.GeoJSONType())
		return probs
	}
	if vertices := VertexCount(g); vertices > MaxVertices {
		bad("coordinates", "geometry has %d vertices, more than the %d allowed", vertices, MaxVertices)
	}
	if len(probs) > 0 {
		return probs
	}
	if err := topology(g); err != nil {
		probs = append(probs, *err)
	}
	return probs
}

// topology runs the full OGC validity check and, for a polygon fault, names
// the first ring that is not simple.
func topology(g orb.Geometry) *Detail {
	_, err := toSF(g)
	if err == nil {
		return nil
	}
	d := &Detail{Index: -1, Pointer: "coordinates", Reason: "invalid geometry: " + err.Error()}
	var polys []orb.Polygon
	switch g := g.(type) {
	case orb.Polygon:
		polys = []orb.Polygon{g}
	case orb.MultiPolygon:
		polys = g
	}
	for pi, p := range polys {
		for ri, r := range p {
			ls, lerr := toSF(orb.LineString(r))
			if simple, _ := ls.IsSimple(); lerr == nil && !simple {
				if len(polys) == 1 && isPolygon(g) {
					d.Pointer = fmt.Sprintf("coordinates[%d]", ri)
				} else {
					d.Pointer = fmt.Sprintf("coordinates[%d][%d]", pi, ri)
				}
				d.Reason = "ring intersects itself: " + err.Error()
				return d
			}
		}
	}
	return d
}

func isPolygon(g orb.Geometry) bool { _, ok := g.(orb.Polygon); return ok }

// toSF converts an orb geometry to a validated simplefeatures geometry.
func toSF(g orb.Geometry) (sfgeom.Geometry, error) {
	b, err := wkb.Marshal(g)
	if err != nil {
		return sfgeom.Geometry{}, err
	}
	return sfgeom.UnmarshalWKB(b)
}

// IntersectsBound reports whether geometry g (WGS84 degrees), whose bound is
// gb, shares at least one point with box b; touching counts, as with
// PostGIS ST_Intersects against ST_MakeEnvelope.
func IntersectsBound(g orb.Geometry, gb, b orb.Bound) bool {
	if g == nil {
		return false
	}
	if p, ok := g.(orb.Point); ok {
		return b.Contains(p)
	}
	if !gb.Intersects(b) {
		return false
	}
	if b.Contains(gb.Min) && b.Contains(gb.Max) {
		return true
	}
	switch g := g.(type) {
	case orb.Point:
		return b.Contains(g)
	case orb.MultiPoint:
		for _, p := range g {
			if b.Contains(p) {
				return true
			}
		}
	case orb.LineString:
		return pathIntersectsBox(g, b)
	case orb.MultiLineString:
		for _, ls := range g {
			if IntersectsBound(ls, ls.Bound(), b) {
				return true
			}
		}
	case orb.Ring:
		return IntersectsBound(orb.Polygon{g}, gb, b)
	case orb.Polygon:
		for _, ring := range g {
			if pathIntersectsBox(orb.LineString(ring), b) {
				return true
			}
		}
		// No edge meets the box, so the box lies wholly inside or
		// wholly outside the polygon (a hole counts as outside).
		return planar.PolygonContains(g, b.Min)
	case orb.MultiPolygon:
		for _, p := range g {
			if IntersectsBound(p, p.Bound(), b) {
				return true
			}
		}
	case orb.Collection:
		for _, x := range g {
			if IntersectsBound(x, x.Bound(), b) {
				return true
			}
		}
	case orb.Bound:
		return g.Intersects(b)
	}
	return false
}

// pathIntersectsBox reports whether any segment of a path meets box b
// (Liang-Barsky clipping; boundaries included).
func pathIntersectsBox(path orb.LineString, b orb.Bound) bool {
	if len(path) == 1 {
		return b.Contains(path[0])
	}
	for i := 0; i+1 < len(path); i++ {
		if segmentIntersectsBox(path[i], path[i+1], b) {
			return true
		}
	}
	return false
}

func segmentIntersectsBox(p, q orb.Point, b orb.Bound) bool {
	t0, t1 := 0.0, 1.0
	dx, dy := q[0]-p[0], q[1]-p[1]
	clip := func(den, num float64) bool {
		// The segment is inside where den*t <= num.
		switch {
		case den == 0:
			return num >= 0
		case den > 0:
			t := num / den
			if t < t0 {
				return false
			}
			t1 = min(t1, t)
		default:
			t := num / den
			if t > t1 {
				return false
			}
			t0 = max(t0, t)
		}
		return t0 <= t1
	}
	return clip(-dx, p[0]-b.Min[0]) && clip(dx, b.Max[0]-p[0]) &&
		clip(-dy, p[1]-b.Min[1]) && clip(dy, b.Max[1]-p[1])
}
