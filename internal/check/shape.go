package check

import (
	"math"

	"github.com/paulmach/orb"
)

// shape is a geometry prepared for distance tests against a footprint:
// its segments and isolated points in the footprint's plane (metres), and
// its polygons in WGS84 lon/lat for containment tests.
//
// A shape may hold only the segments near the footprint (see filter in
// newShape): distances up to the filter radius are then exact, farther ones
// are only known to be farther.
type shape struct {
	pts     []orb.Point   // isolated points, plane
	segs    []segment     // line and ring segments, plane
	polysLL []orb.Polygon // polygons, lon/lat (containment)
	polyBox []orb.Bound   // their outer rings' bounds
	firstLL []orb.Point   // first vertex of every part, lon/lat
	firstXY []orb.Point   // the same, plane
	bound   orb.Bound     // plane bound of pts and segs
	empty   bool          // nothing kept
	segRuns []segRun      // built by runs
}

type segment struct {
	a, b orb.Point
	box  orb.Bound
}

func newSegment(a, b orb.Point) segment {
	return segment{a: a, b: b, box: orb.Bound{Min: orb.Point{min(a[0], b[0]), min(a[1], b[1])}, Max: orb.Point{max(a[0], b[0]), max(a[1], b[1])}}}
}

// newShape prepares g (WGS84) in projection p. When filter is not nil, only
// the points and segments whose lon/lat box meets *filter are projected.
func newShape(p projector, g orb.Geometry, filter *orb.Bound) *shape {
	return new(shape).reset(p, g, filter)
}

// reset makes s the shape of g as newShape does, reusing s's buffers.
func (s *shape) reset(p projector, g orb.Geometry, filter *orb.Bound) *shape {
	return s.build(g, nil, p, filter)
}

// resetImaged makes s the shape of g (WGS84) from its image xy in the
// plane, already computed (the same geometry type and vertices).
func (s *shape) resetImaged(g, xy orb.Geometry) *shape {
	return s.build(g, xy, nil, nil)
}

// build is reset and resetImaged: vertex i of line ll is img[i] when the
// image is given, else projected by p.
func (s *shape) build(g, xy orb.Geometry, p projector, filter *orb.Bound) *shape {
	*s = shape{
		pts: s.pts[:0], segs: s.segs[:0], polysLL: s.polysLL[:0], polyBox: s.polyBox[:0], firstLL: s.firstLL[:0], firstXY: s.firstXY[:0], segRuns: s.segRuns[:0],
		bound: orb.Bound{Min: orb.Point{math.Inf(1), math.Inf(1)}, Max: orb.Point{math.Inf(-1), math.Inf(-1)}}, empty: true,
	}
	at := func(ll, img []orb.Point, i int) orb.Point {
		if img != nil {
			return img[i]
		}
		return p.Forward(ll[i])
	}
	addPoint := func(ll, img []orb.Point, i int) {
		q := ll[i]
		s.firstLL = append(s.firstLL, q)
		s.firstXY = append(s.firstXY, at(ll, img, i))
		if filter != nil && !filter.Contains(q) {
			return
		}
		pq := s.firstXY[len(s.firstXY)-1]
		s.pts = append(s.pts, pq)
		s.extend(pq)
	}
	addLine := func(ls, img []orb.Point) {
		if len(ls) == 0 {
			return
		}
		if len(ls) == 1 {
			addPoint(ls, img, 0)
			return
		}
		s.firstLL = append(s.firstLL, ls[0])
		s.firstXY = append(s.firstXY, at(ls, img, 0))
		prev := s.firstXY[len(s.firstXY)-1]
		havePrev := true
		for i := 1; i < len(ls); i++ {
			a, b := ls[i-1], ls[i]
			if filter != nil && !segmentMeets(a, b, *filter) {
				havePrev = false
				continue
			}
			pa := prev
			if !havePrev {
				pa = at(ls, img, i-1)
			}
			pb := at(ls, img, i)
			s.segs = append(s.segs, newSegment(pa, pb))
			s.extend(pa)
			s.extend(pb)
			prev, havePrev = pb, true
		}
	}
	addPolygon := func(poly, img orb.Polygon) {
		if len(poly) == 0 {
			return
		}
		s.polysLL = append(s.polysLL, poly)
		s.polyBox = append(s.polyBox, ringBound(poly[0]))
		for k, r := range poly {
			var ri []orb.Point
			if img != nil {
				ri = img[k]
			}
			addLine(r, ri)
		}
	}
	switch g := g.(type) {
	case orb.Point:
		var img []orb.Point
		if xy != nil {
			img = []orb.Point{xy.(orb.Point)}
		}
		addPoint([]orb.Point{g}, img, 0)
	case orb.MultiPoint:
		img, _ := xy.(orb.MultiPoint)
		for i := range g {
			addPoint(g, img, i)
		}
	case orb.LineString:
		img, _ := xy.(orb.LineString)
		addLine(g, img)
	case orb.MultiLineString:
		img, _ := xy.(orb.MultiLineString)
		for i, l := range g {
			var li []orb.Point
			if img != nil {
				li = img[i]
			}
			addLine(l, li)
		}
	case orb.Polygon:
		img, _ := xy.(orb.Polygon)
		addPolygon(g, img)
	case orb.MultiPolygon:
		img, _ := xy.(orb.MultiPolygon)
		for i, poly := range g {
			var pi orb.Polygon
			if img != nil {
				pi = img[i]
			}
			addPolygon(poly, pi)
		}
	}
	return s
}

func (s *shape) extend(q orb.Point) {
	s.empty = false
	s.bound.Min[0] = min(s.bound.Min[0], q[0])
	s.bound.Min[1] = min(s.bound.Min[1], q[1])
	s.bound.Max[0] = max(s.bound.Max[0], q[0])
	s.bound.Max[1] = max(s.bound.Max[1], q[1])
}

// segmentMeets reports whether the box of segment ab meets b.
func segmentMeets(a, c orb.Point, b orb.Bound) bool {
	return max(a[0], c[0]) >= b.Min[0] && min(a[0], c[0]) <= b.Max[0] &&
		max(a[1], c[1]) >= b.Min[1] && min(a[1], c[1]) <= b.Max[1]
}

// contains reports whether a lon/lat point lies in one of the shape's
// polygons; a point on a boundary counts as inside.
func (s *shape) contains(q orb.Point) bool {
	for i, poly := range s.polysLL {
		if polygonContains(poly, s.polyBox[i], q) {
			return true
		}
	}
	return false
}

// polygonContains: the even-odd test over every ring (as ringsContain), so
// holes are excluded; points exactly on an edge count as inside. box is
// the bound of the outer ring.
func polygonContains(poly orb.Polygon, box orb.Bound, q orb.Point) bool {
	if len(poly) == 0 || !box.Contains(q) {
		return false
	}
	in := false
	for _, r := range poly {
		for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
			a, b := r[j], r[i]
			if (a[1] > q[1]) != (b[1] > q[1]) && q[0] < a[0]+(q[1]-a[1])*(b[0]-a[0])/(b[1]-a[1]) {
				in = !in
			}
			if q[1] >= min(a[1], b[1]) && q[1] <= max(a[1], b[1]) && q[0] >= min(a[0], b[0]) && q[0] <= max(a[0], b[0]) && cross(a, b, q) == 0 {
				return true // on the boundary
			}
		}
	}
	return in
}

func onSegment(q, a, b orb.Point) bool {
	if cross(a, b, q) != 0 {
		return false
	}
	return q[0] >= min(a[0], b[0]) && q[0] <= max(a[0], b[0]) && q[1] >= min(a[1], b[1]) && q[1] <= max(a[1], b[1])
}

func cross(o, a, b orb.Point) float64 {
	return (a[0]-o[0])*(b[1]-o[1]) - (a[1]-o[1])*(b[0]-o[0])
}

// shapeDistance is the planar distance in metres between a and b and a
// pair of closest points (a's, b's). It is 0 when they touch, cross, or one
// holds the other. Either shape being empty gives +Inf.
func shapeDistance(a, b *shape) (float64, orb.Point, orb.Point) {
	for i, q := range b.firstLL {
		if a.contains(q) {
			return 0, b.firstXY[i], b.firstXY[i]
		}
	}
	for i, q := range a.firstLL {
		if b.contains(q) {
			return 0, a.firstXY[i], a.firstXY[i]
		}
	}
	if a.empty || b.empty {
		return math.Inf(1), orb.Point{}, orb.Point{}
	}
	// squared distances throughout; segments in runs of consecutive ones
	// (spatially close) whose boxes prune whole runs at once
	best := math.Inf(1)
	var pa, pb orb.Point
	try := func(d2 float64, x, y orb.Point) {
		if d2 < best {
			best, pa, pb = d2, x, y
		}
	}
	for _, p := range a.pts {
		for _, q := range b.pts {
			try(dist2(p, q), p, q)
		}
		for _, s := range b.segs {
			if boxPointDist2(s.box, p) >= best {
				continue
			}
			c := closestOnSegment(p, s.a, s.b)
			try(dist2(p, c), p, c)
		}
	}
	for _, s := range a.segs {
		if len(b.pts) == 0 || boxDist2(s.box, b.bound) >= best {
			continue
		}
		for _, q := range b.pts {
			if boxPointDist2(s.box, q) >= best {
				continue
			}
			c := closestOnSegment(q, s.a, s.b)
			try(dist2(q, c), c, q)
		}
	}
	for _, ra := range a.runs() {
		if boxDist2(ra.box, b.bound) >= best {
			continue
		}
		for _, rb := range b.runs() {
			if boxDist2(ra.box, rb.box) >= best {
				continue
			}
			for _, s := range a.segs[ra.from:ra.to] {
				if boxDist2(s.box, rb.box) >= best {
					continue
				}
				for _, t := range b.segs[rb.from:rb.to] {
					if boxDist2(s.box, t.box) >= best {
						continue
					}
					d2, x, y := segmentDistance2(s.a, s.b, t.a, t.b)
					try(d2, x, y)
					if best == 0 {
						return 0, pa, pb
					}
				}
			}
		}
	}
	return math.Sqrt(best), pa, pb
}

// segRun is a run of consecutive segments, segs[from:to], and their bound.
type segRun struct {
	from, to int
	box      orb.Bound
}

// runLength is how many consecutive segments share one box in distance
// searches: a 200-vertex footprint is 25 runs.
const runLength = 8

// runs splits the shape's segments into runs of runLength, computed once.
func (s *shape) runs() []segRun {
	if len(s.segRuns) == 0 && len(s.segs) > 0 {
		for from := 0; from < len(s.segs); from += runLength {
			r := segRun{from: from, to: min(from+runLength, len(s.segs)), box: s.segs[from].box}
			for _, sg := range s.segs[r.from:r.to] {
				r.box = r.box.Union(sg.box)
			}
			s.segRuns = append(s.segRuns, r)
		}
	}
	return s.segRuns
}

func dist(a, b orb.Point) float64 { return math.Sqrt(dist2(a, b)) }

// dist2 is the squared distance: no square root, and no overflow guard
// (math.Hypot's), which plane coordinates in metres never need.
func dist2(a, b orb.Point) float64 {
	dx, dy := a[0]-b[0], a[1]-b[1]
	return dx*dx + dy*dy
}

func boxPointDist2(b orb.Bound, p orb.Point) float64 {
	dx := max(b.Min[0]-p[0], 0, p[0]-b.Max[0])
	dy := max(b.Min[1]-p[1], 0, p[1]-b.Max[1])
	return dx*dx + dy*dy
}

func boxDist2(a, b orb.Bound) float64 {
	dx := max(a.Min[0]-b.Max[0], 0, b.Min[0]-a.Max[0])
	dy := max(a.Min[1]-b.Max[1], 0, b.Min[1]-a.Max[1])
	return dx*dx + dy*dy
}

func closestOnSegment(p, a, b orb.Point) orb.Point {
	dx, dy := b[0]-a[0], b[1]-a[1]
	l2 := dx*dx + dy*dy
	if l2 == 0 {
		return a
	}
	t := ((p[0]-a[0])*dx + (p[1]-a[1])*dy) / l2
	t = max(0, min(1, t))
	return orb.Point{a[0] + t*dx, a[1] + t*dy}
}

// segmentDistance2 is the squared distance between segments ab and cd and
// a closest pair; 0 with the crossing point when they meet.
func segmentDistance2(a, b, c, d orb.Point) (float64, orb.Point, orb.Point) {
	if x, ok := segmentsMeet(a, b, c, d); ok {
		return 0, x, x
	}
	best := math.Inf(1)
	var pa, pb orb.Point
	for _, cand := range [4][2]orb.Point{
		{a, closestOnSegment(a, c, d)},
		{b, closestOnSegment(b, c, d)},
		{closestOnSegment(c, a, b), c},
		{closestOnSegment(d, a, b), d},
	} {
		if dd := dist2(cand[0], cand[1]); dd < best {
			best, pa, pb = dd, cand[0], cand[1]
		}
	}
	return best, pa, pb
}

// segmentsMeet reports whether ab and cd share a point, and one such point.
func segmentsMeet(a, b, c, d orb.Point) (orb.Point, bool) {
	d1, d2 := cross(c, d, a), cross(c, d, b)
	d3, d4 := cross(a, b, c), cross(a, b, d)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		t := d1 / (d1 - d2)
		return orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}, true
	}
	switch {
	case d1 == 0 && onSegment(a, c, d):
		return a, true
	case d2 == 0 && onSegment(b, c, d):
		return b, true
	case d3 == 0 && onSegment(c, a, b):
		return c, true
	case d4 == 0 && onSegment(d, a, b):
		return d, true
	}
	return orb.Point{}, false
}

// newPlanarShape prepares a geometry already in the plane: its polygons
// and first points are planar too, so contains works on plane points.
func newPlanarShape(g orb.Geometry) *shape { return newShape(identity{}, g, nil) }

// projector maps a point to the plane shapes measure in.
type projector interface{ Forward(orb.Point) orb.Point }

// identity is the projector of geometries already in the plane.
type identity struct{}

func (identity) Forward(p orb.Point) orb.Point { return p }

// Relations of a footprint to a zone, both in the plane.
const (
	disjoint = iota
	footprintInside
	zoneInside
	partial
)

// relate tells, cheaply, whether the overlay of footprint fp and zone z is
// trivial: no boundary meets the other and every part of one lies in the
// other (or none does). Touching boundaries count as partial, so the exact
// overlay decides them.
func relate(fp, z *shape) int {
	for _, s := range fp.segs {
		if !s.box.Intersects(z.bound) {
			continue
		}
		for _, t := range z.segs {
			if s.box.Intersects(t.box) {
				if _, ok := segmentsMeet(s.a, s.b, t.a, t.b); ok {
					return partial
				}
			}
		}
	}
	count := func(parts []orb.Point, in *shape) int {
		n := 0
		for _, q := range parts {
			if in.contains(q) {
				n++
			}
		}
		return n
	}
	switch n := count(fp.firstLL, z); {
	case n == len(fp.firstLL) && n > 0:
		return footprintInside
	case n > 0:
		return partial
	}
	switch n := count(z.firstLL, fp); {
	case n == len(z.firstLL) && n > 0:
		return zoneInside
	case n > 0:
		return partial
	}
	return disjoint
}
