package check

import (
	"math"
	"slices"

	"github.com/paulmach/orb"
)

// bufferOutline is the zone within w metres of a planar geometry g (metres)
// as polygons: outer rings counter-clockwise, holes clockwise, every arc
// drawn with quadSegments(w) chords per quarter circle at the angles
// JTS and GEOS (PostGIS's ST_Buffer) use, through points placed a little
// outside the true circle so that every arc keeps the true area
// (fanRadius), where JTS's are inscribed in it. ok is false when its construction meets input that is not
// in general position (the caller then uses simplefeatures' buffer).
//
// The construction is JTS's (OffsetCurveBuilder, BufferBuilder): the raw
// offset curve of every part (offsetCurves), which has the zone on its
// left and winds around every point of the zone at least once and around
// no other point (save where a hole's curve turns inside out: see
// outline); its pieces between crossings are kept where the winding number
// is 0 on their right, which leaves exactly the zone's boundary, and
// chained into rings. Unlike a union of one buffer per segment, the
// outline has a few edges per vertex of g plus one circle's worth of arc,
// so the overlay with a footprint stays small.
func bufferOutline(g orb.Geometry, w float64) (orb.MultiPolygon, bool) {
	var oc offsetCurves
	return oc.outline(g, w)
}

// bufferVertexSnap: offset points closer than this fraction of the width
// are one point (JTS's CURVE_VERTEX_SNAP_DISTANCE_FACTOR).
const bufferVertexSnap = 1e-6

// closingSegmentFactor places the closing segment of an inside turn (see
// join): JTS's OffsetSegmentGenerator.MAX_CLOSING_SEG_LEN_FACTOR.
const closingSegmentFactor = 80

// filletQuantum is the angle one arc chord spans at width w (JTS rounds
// each fillet to a whole number of equal chords near this).
func filletQuantum(w float64) float64 { return math.Pi / float64(2*quadSegments(w)) }

// offsetCurves builds buffer outlines. It holds the raw offset curves of a
// geometry at width w, closed rings of points each with the zone on its
// left (ring r is points[ringEnd[r-1]:ringEnd[r]], its last point repeating
// its first); the geometry's segments and isolated points, to check the
// outline against; and buffers kept from one outline to the next.
type offsetCurves struct {
	w       float64
	quantum float64     // filletQuantum(w)
	circle  []orb.Point // the unit circle's vertices at the quantum, from angle 0 counter-clockwise
	holes   bool        // some polygon has a hole whose curve is kept
	points  []orb.Point
	ringEnd []int
	segs    []segment
	pts     []orb.Point
	dirs    []orb.Point

	edges []rawEdge
	cuts  []rawCut
	order []int
	kept  []piece
	pairs boxGrid
	chain chainer
}

// ring returns raw ring r.
func (oc *offsetCurves) ring(r int) []orb.Point {
	from := 0
	if r > 0 {
		from = oc.ringEnd[r-1]
	}
	return oc.points[from:oc.ringEnd[r]]
}

// closeRing ends the ring begun at points[from].
func (oc *offsetCurves) closeRing(from int) {
	oc.points = append(oc.points, oc.points[from])
	oc.ringEnd = append(oc.ringEnd, len(oc.points))
}

func (oc *offsetCurves) add(g orb.Geometry) {
	switch g := g.(type) {
	case orb.Point:
		oc.addPoint(g)
	case orb.MultiPoint:
		for _, p := range g {
			oc.addPoint(p)
		}
	case orb.LineString:
		oc.addLine(g)
	case orb.MultiLineString:
		for _, l := range g {
			oc.addLine(l)
		}
	case orb.Polygon:
		oc.addPolygon(g)
	case orb.MultiPolygon:
		for _, p := range g {
			oc.addPolygon(p)
		}
	}
}

// addPoint adds a circle, counter-clockwise from angle 0 as JTS draws it.
func (oc *offsetCurves) addPoint(p orb.Point) {
	oc.pts = append(oc.pts, p)
	from := len(oc.points)
	r := oc.w * math.Sqrt(oc.quantum/math.Sin(oc.quantum)) // the circle's area: see fanRadius
	for _, u := range oc.circle {
		oc.points = append(oc.points, orb.Point{p[0] + r*u[0], p[1] + r*u[1]})
	}
	oc.closeRing(from)
}

// addLine adds a line's curve: the offset on the right going out and on
// the other side coming back, a half circle round each end. That is the
// offset of the closed walk out and back, whose ends are full reversals.
func (oc *offsetCurves) addLine(ls orb.LineString) {
	pts := dedupe(ls)
	switch len(pts) {
	case 0:
		return
	case 1:
		oc.addPoint(pts[0])
		return
	}
	oc.addSegments(pts)
	walk := make([]orb.Point, 0, 2*len(pts)-2)
	walk = append(walk, pts...)
	for i := len(pts) - 2; i > 0; i-- {
		walk = append(walk, pts[i])
	}
	oc.addLoop(walk)
}

// addPolygon adds the offset of every ring on its outer side: rings are
// oriented so that the polygon's exterior is on their right (outer ring
// counter-clockwise, holes clockwise). A hole narrower than 2w lies wholly
// in the zone and is left out, as JTS does: its offset curve would turn
// inside out and wind the wrong way round the zone about it.
func (oc *offsetCurves) addPolygon(p orb.Polygon) {
	for i, r := range p {
		r = dedupe(r)
		if len(r) < 4 {
			continue
		}
		if b := ringBound(r); i > 0 && min(b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]) < 2*oc.w {
			continue
		}
		if (ringArea(r) > 0) != (i == 0) {
			r = reversed(r)
		}
		oc.holes = oc.holes || i > 0
		oc.addSegments(r)
		oc.addLoop(r[:len(r)-1])
	}
}

// addLoop adds the offset on the right of the closed walk through pts (no
// point repeated at the end): the offset of every edge, joined at each
// vertex by a round fillet where the walk turns left (or reverses), and
// where it turns right by JTS's closing segment near the vertex, which
// lies inside the zone, so that its pieces are never kept.
func (oc *offsetCurves) addLoop(pts []orb.Point) {
	n := len(pts)
	dirs := oc.dirs[:0] // unit direction of the edge leaving pts[i]
	for i, p := range pts {
		q := pts[(i+1)%n]
		l := dist(p, q)
		dirs = append(dirs, orb.Point{(q[0] - p[0]) / l, (q[1] - p[1]) / l})
	}
	oc.dirs = dirs
	from := len(oc.points)
	for i, v := range pts {
		oc.join(v, dirs[(i+n-1)%n], dirs[i])
	}
	oc.closeRing(from)
}

// join appends the points joining the offset of the edge arriving at v
// (direction in) to the offset of the edge leaving it (direction out).
func (oc *offsetCurves) join(v, in, out orb.Point) {
	w := oc.w
	ring := oc.points
	defer func() { oc.points = ring }()
	e := orb.Point{v[0] + w*in[1], v[1] - w*in[0]}   // end of the arriving offset
	s := orb.Point{v[0] + w*out[1], v[1] - w*out[0]} // start of the leaving offset
	if dist(e, s) < w*bufferVertexSnap {
		ring = append(ring, e)
		return
	}
	turn := in[0]*out[1] - in[1]*out[0]
	if turn < 0 {
		// JTS's closing segment, through the points 1/81 of the way from e
		// and from s towards v, as JTS draws it for round joins (its
		// MAX_CLOSING_SEG_LEN_FACTOR): inside the disc of radius w round v,
		// so in the zone, and so close to the rim that it crosses only the
		// curves of its neighbours. (Through the middles of e-v and s-v, the
		// dips of a 64-vertex work's curve at a width beyond its size cross
		// nearly every other edge.) JTS takes the offsets' crossing instead
		// where they cross; on short edges that inverts an offset and the
		// winding then counts wrong.
		const f = closingSegmentFactor
		ring = append(ring, e, orb.Point{(f*e[0] + v[0]) / (f + 1), (f*e[1] + v[1]) / (f + 1)},
			orb.Point{(f*s[0] + v[0]) / (f + 1), (f*s[1] + v[1]) / (f + 1)}, s)
		return
	}
	// left turn or reversal: a fillet from e to s, counter-clockwise round v
	angle := math.Atan2(turn, in[0]*out[0]+in[1]*out[1])
	if turn == 0 {
		angle = math.Pi
	}
	ring = append(ring, e)
	if k := int(angle/oc.quantum + 0.5); k > 1 {
		start := math.Atan2(-in[0], in[1])
		step := angle / float64(k)
		r := fanRadius(w, step, k)
		for j := 1; j < k; j++ {
			sin, cos := math.Sincos(start + float64(j)*step)
			ring = append(ring, orb.Point{v[0] + r*cos, v[1] + r*sin})
		}
	}
	ring = append(ring, s)
}

// fanRadius is the radius at which a fillet of k chords of angle step
// each, from and to points at radius w, places its k-1 inner points so
// that the fan has the true sector's area, w²·k·step/2:
// (k-2)·r² + 2w·r = w²·k·step/sin(step). Chords inscribed in the circle
// would lack about (4/3)·s/w of the zone's area (s the chords' sagitta),
// which no sagitta makes small on a thin overlap across the rim; chords
// through points a little outside the circle cross it, their rim stays
// within about 2s/3 of it on either side, and the areas cut from the zone
// by a footprint's edge agree with the true circle's up to the two chords
// where the edge crosses the rim. A full circle (k chords all round, no
// fixed ends) takes r = w·sqrt(step/sin(step)).
func fanRadius(w, step float64, k int) float64 {
	q := float64(k) * step / math.Sin(step)
	if k == 2 {
		return w * q / 2
	}
	m := float64(k - 2)
	return w * (math.Sqrt(1+m*q) - 1) / m
}

// unitCircle returns the unit circle's vertices at angle step q, from
// angle 0 counter-clockwise, into buf.
func unitCircle(q float64, buf []orb.Point) []orb.Point {
	n := int(math.Round(2 * math.Pi / q))
	buf = buf[:0]
	for i := range n {
		s, c := math.Sincos(float64(i) * q)
		buf = append(buf, orb.Point{c, s})
	}
	return buf
}

// rawEdge is one edge of a raw offset curve: ring r, k-th edge.
type rawEdge struct {
	a, b orb.Point
	box  orb.Bound
	ring int32
	k    int32
}

// rawCut is a crossing on an edge at parameter t; winding is how the
// winding number on the edge's right changes past it: +1 when the edge
// passes there from the crossing edge's right to its left, else -1.
type rawCut struct {
	edge    int32
	node    int32
	t       float64
	at      orb.Point
	winding int8
}

// outline is bufferOutline with oc's buffers: the raw curves of g, cut
// where they cross, and the pieces with winding number 0 on their right.
func (oc *offsetCurves) outline(g orb.Geometry, w float64) (orb.MultiPolygon, bool) {
	if w <= 0 {
		return nil, false
	}
	if q := filletQuantum(w); q != oc.quantum {
		oc.quantum, oc.circle = q, unitCircle(q, oc.circle)
	}
	oc.w, oc.holes = w, false
	oc.points, oc.ringEnd, oc.segs, oc.pts = oc.points[:0], oc.ringEnd[:0], oc.segs[:0], oc.pts[:0]
	oc.add(g)
	rings := len(oc.ringEnd)
	if rings == 0 {
		return nil, true
	}
	edges := slices.Grow(oc.edges[:0], len(oc.points))
	ringFirst := make([]int, rings+1)
	for r := range rings {
		ringFirst[r] = len(edges)
		ring := oc.ring(r)
		for k := 1; k < len(ring); k++ {
			edges = append(edges, rawEdge{a: ring[k-1], b: ring[k], box: newSegment(ring[k-1], ring[k]).box, ring: int32(r), k: int32(k - 1)})
		}
	}
	ringFirst[rings] = len(edges)
	oc.edges = edges
	nodes := len(edges) // ring vertices: node of edge i's start is i

	cuts := oc.cuts[:0]
	defer func() { oc.cuts = cuts[:0] }()
	order := oc.order[:0]
	for i := range edges {
		order = append(order, i)
	}
	oc.order = order
	adjacent := func(e, f *rawEdge) bool {
		if e.ring != f.ring {
			return false
		}
		n := int32(ringFirst[e.ring+1] - ringFirst[e.ring])
		d := (e.k - f.k + n) % n
		return d == 1 || d == n-1
	}
	ok := oc.pairs.pairs(order, func(i int) *orb.Bound { return &edges[i].box }, func(i, j int) bool {
		e, f := &edges[i], &edges[j]
		if adjacent(e, f) {
			return true // they share a vertex; a fillet or connection never folds back on itself
		}
		t, u, at, kind := segmentCrossing(e.a, e.b, f.a, f.b)
		if kind != crossProper {
			return kind == crossNone
		}
		// e passing to f's left (f turning right of e) raises the winding
		// on e's right, and lowers it on f's
		turn := (e.b[0]-e.a[0])*(f.b[1]-f.a[1]) - (e.b[1]-e.a[1])*(f.b[0]-f.a[0])
		we, wf := int8(-1), int8(1)
		if turn < 0 { // f runs to e's right
			we, wf = 1, -1
		}
		cuts = append(cuts, rawCut{edge: int32(i), node: int32(nodes), t: t, at: at, winding: we},
			rawCut{edge: int32(j), node: int32(nodes), t: u, at: at, winding: wf})
		nodes++
		return true
	})
	if !ok {
		return nil, false
	}
	slices.SortFunc(cuts, func(x, y rawCut) int {
		if x.edge != y.edge {
			return int(x.edge - y.edge)
		}
		return cmpFloat(x.t, y.t)
	})
	for i := 1; i < len(cuts); i++ {
		if cuts[i].edge == cuts[i-1].edge && cuts[i].t-cuts[i-1].t < 1e-12 {
			return nil, false // three curves through one point
		}
	}

	kept := oc.kept[:0]
	defer func() { oc.kept = kept[:0] }()
	c := 0 // cuts[c:] are on edges not yet walked
	for r := range rings {
		first, last := ringFirst[r], ringFirst[r+1]
		// the winding number right of the ring's first piece, by a ray from
		// its middle out to the right; then updated at every crossing
		firstCuts := c
		for firstCuts < len(cuts) && int(cuts[firstCuts].edge) < first {
			firstCuts++
		}
		e0 := &edges[first]
		end := e0.b
		if firstCuts < len(cuts) && int(cuts[firstCuts].edge) == first {
			end = cuts[firstCuts].at
		}
		winding := windingRight(edges, first, orb.Point{(e0.a[0] + end[0]) / 2, (e0.a[1] + end[1]) / 2})
		start := winding
		for i := first; i < last; i++ {
			e := &edges[i]
			from, fromAt := i, e.a
			for ; c < len(cuts) && int(cuts[c].edge) == i; c++ {
				if winding == 0 {
					kept = append(kept, piece{from: from, to: int(cuts[c].node), a: fromAt, b: cuts[c].at, ring: r})
				}
				winding += int(cuts[c].winding)
				from, fromAt = int(cuts[c].node), cuts[c].at
			}
			to := i + 1
			if to == last {
				to = first
			}
			if winding == 0 {
				kept = append(kept, piece{from: from, to: to, a: fromAt, b: e.b, ring: r})
			}
		}
		if winding != start {
			return nil, false // a crossing was missed
		}
	}

	// Winding counts go wrong where a hole's offset curve turns inside out
	// (a hole narrower than 2w that the envelope test above let through):
	// the outline then has pieces closer to the input than the chords'
	// sagitta allows, and the caller falls back. Shells and lines erode
	// only their pockets, whose inverted loops the shell's own curve winds
	// round; TestBufferOutlineMatchesJTS holds every outline to the rule.
	if oc.holes {
		inner := oc.w * math.Cos(0.75*oc.quantum) * (1 - 1e-9)
		for _, p := range kept {
			if oc.closerThan(orb.Point{(p.a[0] + p.b[0]) / 2, (p.a[1] + p.b[1]) / 2}, inner) {
				return nil, false
			}
		}
	}

	chains, ok := oc.chain.chain(kept, nodes)
	if !ok {
		return nil, false
	}
	outRings := make([]orb.Ring, len(chains))
	for i, chain := range chains {
		ring := make(orb.Ring, 1, len(chain)+1)
		ring[0] = kept[chain[0]].a
		for _, k := range chain {
			ring = append(ring, kept[k].b)
		}
		outRings[i] = ring
	}
	nested, _, ok := nestRings(outRings)
	if !ok {
		return nil, false
	}
	out := make(orb.MultiPolygon, len(nested))
	for i, members := range nested {
		for _, k := range members {
			out[i] = append(out[i], outRings[k])
		}
	}
	return out, true
}

// addSegments records the input's segments along pts (a closed ring's
// last point repeats its first), to check the outline against.
func (oc *offsetCurves) addSegments(pts []orb.Point) {
	for i := 1; i < len(pts); i++ {
		oc.segs = append(oc.segs, newSegment(pts[i-1], pts[i]))
	}
}

// closerThan reports whether q is within d of the input geometry.
func (oc *offsetCurves) closerThan(q orb.Point, d float64) bool {
	d2 := d * d
	for _, p := range oc.pts {
		if dist2(p, q) < d2 {
			return true
		}
	}
	for i := range oc.segs {
		s := &oc.segs[i]
		if boxPointDist2(s.box, q) < d2 && dist2(q, closestOnSegment(q, s.a, s.b)) < d2 {
			return true
		}
	}
	return false
}

// windingRight is the winding number of the raw curves round the points
// just right of q, a point of edge skip that no other edge passes through:
// the signed crossings of a ray from q along the edge's right normal.
func windingRight(edges []rawEdge, skip int, q orb.Point) int {
	e := &edges[skip]
	l := dist(e.a, e.b)
	ux, uy := (e.b[0]-e.a[0])/l, (e.b[1]-e.a[1])/l // the ray's "up"
	rx, ry := uy, -ux                              // the ray's direction
	n := 0
	for i := range edges {
		if i == skip {
			continue
		}
		f := &edges[i]
		ax, ay := (f.a[0]-q[0])*rx+(f.a[1]-q[1])*ry, (f.a[0]-q[0])*ux+(f.a[1]-q[1])*uy
		bx, by := (f.b[0]-q[0])*rx+(f.b[1]-q[1])*ry, (f.b[0]-q[0])*ux+(f.b[1]-q[1])*uy
		if (ay <= 0) == (by <= 0) {
			continue
		}
		if ax+(0-ay)*(bx-ax)/(by-ay) <= 0 {
			continue
		}
		if by > ay {
			n++
		} else {
			n--
		}
	}
	return n
}
