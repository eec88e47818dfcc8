package crs

import (
	"fmt"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// TransformToWGS84 returns a copy of g, given in c, in WGS84 longitude,
// latitude. The first vertex that is plainly not in c stops it with a
// zone.Error CodeInvalid whose single Detail points at the vertex in GeoJSON
// terms ("coordinates[0][3]": ring 0, vertex 3 of a polygon) and says the
// likely mistake. A nil c or a WGS84 c returns g unchanged after the same
// check. Supported: Point, MultiPoint, LineString, MultiLineString, Ring,
// Polygon, MultiPolygon, Collection; for a bounding box use
// TransformBoundToWGS84.
func TransformToWGS84(g orb.Geometry, c *CRS) (orb.Geometry, error) {
	if c == nil {
		c = CRS84()
	}
	return transform(g, c.ToWGS84, c, "to WGS84")
}

// TransformFromWGS84 returns a copy of g, given in WGS84 longitude, latitude,
// in c (east first). Errors as in TransformToWGS84.
func TransformFromWGS84(g orb.Geometry, c *CRS) (orb.Geometry, error) {
	if c == nil {
		c = CRS84()
	}
	return transform(g, c.FromWGS84, c, "from WGS84")
}

func transform(g orb.Geometry, f func(orb.Point) (orb.Point, error), c *CRS, dir string) (orb.Geometry, error) {
	var failed error
	pt := func(ptr string, p orb.Point) orb.Point {
		if failed != nil {
			return p
		}
		q, err := f(p)
		if err != nil {
			e := zone.Errorf(zone.CodeInvalid, "coordinates not in %s: %s: %s", c.Code, ptr, zone.ErrorMessage(err))
			e.Details = []zone.Detail{{Index: -1, Pointer: ptr, Reason: zone.ErrorMessage(err)}}
			failed = e
		}
		return q
	}
	pts := func(ptr string, ps []orb.Point) []orb.Point {
		out := make([]orb.Point, len(ps))
		for i, p := range ps {
			out[i] = pt(fmt.Sprintf("%s[%d]", ptr, i), p)
		}
		return out
	}
	poly := func(ptr string, p orb.Polygon) orb.Polygon {
		out := make(orb.Polygon, len(p))
		for i, r := range p {
			out[i] = orb.Ring(pts(fmt.Sprintf("%s[%d]", ptr, i), r))
		}
		return out
	}
	var walk func(ptr string, g orb.Geometry) orb.Geometry
	walk = func(ptr string, g orb.Geometry) orb.Geometry {
		coords := ptr + "coordinates"
		switch g := g.(type) {
		case nil:
			return nil
		case orb.Point:
			return pt(coords, g)
		case orb.MultiPoint:
			return orb.MultiPoint(pts(coords, g))
		case orb.LineString:
			return orb.LineString(pts(coords, g))
		case orb.MultiLineString:
			out := make(orb.MultiLineString, len(g))
			for i, l := range g {
				out[i] = pts(fmt.Sprintf("%s[%d]", coords, i), l)
			}
			return out
		case orb.Ring:
			return orb.Ring(pts(coords, g))
		case orb.Polygon:
			return poly(coords, g)
		case orb.MultiPolygon:
			out := make(orb.MultiPolygon, len(g))
			for i, p := range g {
				out[i] = poly(fmt.Sprintf("%s[%d]", coords, i), p)
			}
			return out
		case orb.Collection:
			out := make(orb.Collection, len(g))
			for i, m := range g {
				out[i] = walk(fmt.Sprintf("%sgeometries[%d].", ptr, i), m)
			}
			return out
		}
		failed = zone.Errorf(zone.CodeInvalid, "cannot transform a %T %s", g, dir)
		return g
	}
	out := walk("", g)
	if failed != nil {
		return nil, failed
	}
	return out, nil
}

// boundSteps is how many segments each edge of a box is cut into when a box
// is transformed: edges of a box in one CRS are curves in another.
const boundSteps = 16

// TransformBoundToWGS84 returns the WGS84 envelope of a box given in c (for
// OGC API bbox-crs), from boundSteps points along each edge. Errors as in
// TransformToWGS84.
func TransformBoundToWGS84(b orb.Bound, c *CRS) (orb.Bound, error) {
	return transformBound(b, c.ToWGS84)
}

// TransformBoundFromWGS84 returns the envelope in c of a WGS84 box.
func TransformBoundFromWGS84(b orb.Bound, c *CRS) (orb.Bound, error) {
	return transformBound(b, c.FromWGS84)
}

func transformBound(b orb.Bound, f func(orb.Point) (orb.Point, error)) (orb.Bound, error) {
	var out orb.Bound
	first := true
	for i := 0; i <= boundSteps; i++ {
		t := float64(i) / boundSteps
		x := b.Min[0] + t*(b.Max[0]-b.Min[0])
		y := b.Min[1] + t*(b.Max[1]-b.Min[1])
		for _, p := range []orb.Point{{x, b.Min[1]}, {x, b.Max[1]}, {b.Min[0], y}, {b.Max[0], y}} {
			q, err := f(p)
			if err != nil {
				return orb.Bound{}, err
			}
			if first {
				out, first = q.Bound(), false
			} else {
				out = out.Extend(q)
			}
		}
	}
	return out, nil
}
