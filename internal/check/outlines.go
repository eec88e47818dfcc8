package check

import (
	"math"
	"sync/atomic"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/project"
	sf "github.com/peterstace/simplefeatures/geom"

	"github.com/zoneplan/zoneplan/internal/lru"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// A zone drawn from a width around a point or a polygon (a provisional
// restricted area, a safety belt, a rule's distance) is the same whatever
// footprint meets it, and building its outline is most of a dense check's
// work (a 64-vertex depot's belt: a few hundred microseconds). So the
// outline is built once, in a plane of the component's own (a transverse
// Mercator centred on it), kept in an Outlines cache, and carried into
// each footprint's plane by the map between the two planes (zoneOutline.in).
// A check's answer is the same whether the outline was cached or built for
// it: both are the one outline in the component's plane.
//
// Lines are not kept: a border line runs for hundreds of kilometres, and a
// check buffers only its parts near the footprint (footprintRun.image).

// DefaultOutlineBytes is the outline cache's size for each clearance.
const DefaultOutlineBytes = 64 << 20

// Outlines keeps zone outlines, in one part per clearance: a check fills
// and reads only the part of its caller's clearance, so what one caller's
// checks cost never depends on what checks by callers cleared for more
// have kept or evicted (their components included). Safe for concurrent
// use; a nil *Outlines keeps nothing.
type Outlines struct {
	parts        [zone.Secret + 1]*lru.Cache[outlineKey, *zoneOutline]
	hits, misses atomic.Int64
}

// NewOutlines returns a cache of at most perClearance bytes of outlines for
// each clearance; nil when perClearance <= 0.
func NewOutlines(perClearance int64) *Outlines {
	if perClearance <= 0 {
		return nil
	}
	o := &Outlines{}
	for i := range o.parts {
		o.parts[i] = lru.New[outlineKey, *zoneOutline](perClearance, (*zoneOutline).cost)
	}
	return o
}

// Stats returns the cache's hits, misses, entries and bytes held.
func (o *Outlines) Stats() (hits, misses int64, entries int, bytes int64) {
	if o == nil {
		return 0, 0, 0, 0
	}
	for _, p := range o.parts {
		n, b := p.Stats()
		entries += n
		bytes += b
	}
	return o.hits.Load(), o.misses.Load(), entries, bytes
}

// outlineKey names the outline of one component's geometry at one width:
// the component's identity and version, and a hash of its geometry (a test
// may move a component without a new version).
type outlineKey struct {
	comp    [16]byte
	version int64
	geom    uint64
	widthM  float64
}

// zoneOutline is the zone within widthM of a component's geometry, built in
// the component's plane: polygons (nil when the zone is empty or could not
// be built), their box's centre and half-diagonal.
type zoneOutline struct {
	plane  localTM
	polys  orb.MultiPolygon
	image  orb.Geometry // for an image (widthM < 0): the geometry in its plane
	centre orb.Point
	radius float64
	points int
}

func (z *zoneOutline) cost() int64 { return 128 + 16*int64(z.points) + 24*int64(len(z.polys)) }

// cacheable reports whether c's zones are built whole and kept: points and
// polygons, not lines.
func cacheable(c *zone.Component) bool {
	switch c.Geometry.(type) {
	case orb.Point, orb.MultiPoint, orb.Polygon, orb.MultiPolygon:
		return true
	}
	return false
}

// outline returns the zone within w metres of c's geometry, from the part
// for clearance cl or built (with oc's buffers) and kept there.
func (o *Outlines) outline(cl zone.Classification, c *zone.Component, w float64, oc *offsetCurves) *zoneOutline {
	if o == nil {
		return buildOutline(c, w, oc)
	}
	part := o.parts[max(zone.Public, min(cl, zone.Secret))]
	k := outlineKey{comp: c.ID, version: c.Version, geom: geometryHash(c.Geometry), widthM: w}
	if z, ok := part.Get(k); ok {
		o.hits.Add(1)
		return z
	}
	o.misses.Add(1)
	z := buildOutline(c, w, oc)
	part.Put(k, z)
	return z
}

// imageVertices: a component with this many vertices or more is carried
// into a footprint's plane from its own (kept as an outline of width -1),
// fewer are projected vertex by vertex.
const imageVertices = 8

// image returns c's geometry in the plane p, through c's own plane for
// components of imageVertices or more, kept in the part for clearance cl.
func (o *Outlines) image(cl zone.Classification, c *zone.Component, p localTM) orb.Geometry {
	if zone.VertexCount(c.Geometry) < imageVertices {
		return p.project(c.Geometry)
	}
	var z *zoneOutline
	if o == nil {
		z = buildImage(c)
	} else {
		part := o.parts[max(zone.Public, min(cl, zone.Secret))]
		k := outlineKey{comp: c.ID, version: c.Version, geom: geometryHash(c.Geometry), widthM: -1}
		var ok bool
		if z, ok = part.Get(k); ok {
			o.hits.Add(1)
		} else {
			o.misses.Add(1)
			z = buildImage(c)
			part.Put(k, z)
		}
	}
	return project.Geometry(orb.Clone(z.image), planeMap(z.plane, p, z.centre, z.radius))
}

// buildImage is c's geometry in its own plane.
func buildImage(c *zone.Component) *zoneOutline {
	b := c.Geometry.Bound()
	z := &zoneOutline{plane: newLocalTM(b.Center())}
	z.image = z.plane.project(c.Geometry)
	ib := z.image.Bound()
	z.centre = ib.Center()
	z.radius = math.Hypot(ib.Max[0]-ib.Min[0], ib.Max[1]-ib.Min[1]) / 2
	z.points = zone.VertexCount(c.Geometry)
	return z
}

// buildOutline builds the zone within w metres of c's geometry in c's
// plane: by the offset curves (buffer.go), or JTS's buffer where those meet
// input not in general position.
func buildOutline(c *zone.Component, w float64, oc *offsetCurves) *zoneOutline {
	b := c.Geometry.Bound()
	z := &zoneOutline{plane: newLocalTM(b.Center())}
	xy := z.plane.project(c.Geometry)
	polys, ok := oc.outline(xy, w)
	if !ok {
		polys = nil
		// no input simplification (JTS's default drops vertices within 1%
		// of w of their neighbours' chord, which moves the rim by metres)
		if g, err := sf.Buffer(toSF(xy), w, sf.BufferQuadSegments(bufferQuadSegments), sf.BufferSimplifyFactor(0)); err == nil {
			if og, err := fromSF(g); err == nil {
				polys = multiPolygonOf(og)
			}
		}
	}
	z.polys = polys
	if len(polys) == 0 {
		return z
	}
	ob := polys.Bound()
	z.centre = ob.Center()
	z.radius = math.Hypot(ob.Max[0]-ob.Min[0], ob.Max[1]-ob.Min[1]) / 2
	for _, p := range polys {
		for _, r := range p {
			z.points += len(r)
		}
	}
	return z
}

// multiPolygonOf is the polygons of g, nil when it has none.
func multiPolygonOf(g orb.Geometry) orb.MultiPolygon {
	switch g := g.(type) {
	case orb.Polygon:
		return orb.MultiPolygon{g}
	case orb.MultiPolygon:
		return g
	}
	return nil
}

// affineLimitM: the map between two planes is taken as affine across an
// outline when the estimate of its curvature's effect over the outline
// stays under this many metres (half the check's touch slack); otherwise
// each vertex goes through lon/lat.
const affineLimitM = 5e-4

// planeMap returns the map from the plane from (where a geometry of the
// given centre and radius lies) to the plane to.
func planeMap(from, to localTM, centre orb.Point, radius float64) func(orb.Point) orb.Point {
	// The map between two transverse Mercator planes is conformal, so near
	// the geometry's centre q0 it is G(q0) + G'(q0)·(q - q0), a similarity,
	// up to G''·|q - q0|²/2; the three exact images below give G' (central
	// difference) and the size of G''. Planes a few kilometres apart bend
	// a 2 km outline by tens of micrometres.
	exact := func(q orb.Point) orb.Point { return to.Forward(from.Inverse(q)) }
	r := max(radius, 1)
	q0 := centre
	g0 := exact(q0)
	gp := exact(orb.Point{q0[0] + r, q0[1]})
	gm := exact(orb.Point{q0[0] - r, q0[1]})
	a, b := (gp[0]-gm[0])/(2*r), (gp[1]-gm[1])/(2*r)                 // G' = a + ib
	bend := math.Hypot(gp[0]+gm[0]-2*g0[0], gp[1]+gm[1]-2*g0[1]) / 2 // ≈ G''·r²/2
	if 2*bend > affineLimitM {
		return exact
	}
	return func(q orb.Point) orb.Point {
		dx, dy := q[0]-q0[0], q[1]-q0[1]
		return orb.Point{g0[0] + a*dx - b*dy, g0[1] + b*dx + a*dy}
	}
}

// in returns the outline's polygons in the plane p, into buf's storage
// (overwritten by the next call with buf).
func (z *zoneOutline) in(p localTM, buf *planeBuffer) []orb.Polygon {
	if len(z.polys) == 0 {
		return nil
	}
	mapPoint := planeMap(z.plane, p, z.centre, z.radius)
	buf.points = buf.points[:0]
	buf.rings = buf.rings[:0]
	buf.polys = buf.polys[:0]
	for _, poly := range z.polys {
		for _, ring := range poly {
			from := len(buf.points)
			for _, q := range ring {
				buf.points = append(buf.points, mapPoint(q))
			}
			buf.rings = append(buf.rings, orb.Ring(buf.points[from:len(buf.points):len(buf.points)]))
		}
	}
	k := 0
	for _, poly := range z.polys {
		buf.polys = append(buf.polys, orb.Polygon(buf.rings[k:k+len(poly):k+len(poly)]))
		k += len(poly)
	}
	return buf.polys
}

// planeBuffer holds an outline carried into a footprint's plane.
type planeBuffer struct {
	points []orb.Point
	rings  []orb.Ring
	polys  []orb.Polygon
}

// geometryHash is FNV-1a over g's coordinates' bits.
func geometryHash(g orb.Geometry) uint64 {
	h := uint64(14695981039346656037)
	mix := func(v float64) {
		h ^= math.Float64bits(v)
		h *= 1099511628211
	}
	points := func(ps []orb.Point) {
		for _, p := range ps {
			mix(p[0])
			mix(p[1])
		}
		mix(math.NaN()) // a part's end
	}
	switch g := g.(type) {
	case orb.Point:
		points([]orb.Point{g})
	case orb.MultiPoint:
		points(g)
	case orb.Polygon:
		for _, r := range g {
			points(r)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				points(r)
			}
			mix(math.Inf(1))
		}
	}
	return h
}
