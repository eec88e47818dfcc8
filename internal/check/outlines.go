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

// Outlines keeps zone outlines and components' images, in one part per
// clearance: a check fills and reads only the part of its caller's
// clearance, so what one caller's checks cost never depends on what checks
// by callers cleared for more have kept or evicted (their components
// included). Safe for concurrent use; a nil *Outlines keeps nothing.
type Outlines struct {
	parts        [zone.Secret + 1]*lru.Cache[shapeKey, keptShape]
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
		o.parts[i] = lru.New[shapeKey, keptShape](perClearance, keptShape.cost)
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

// shapeKey names what is kept of one state of a component: its image
// (widthM 0) or its zone at widthM. A state is the component's id, version
// and update time, as the index names it (a re-created id starts at
// version 1 again, at a new time; every edit moves the version).
type shapeKey struct {
	id      [16]byte
	version int64
	updated int64
	widthM  float64
}

func keyOf(c *zone.Component, widthM float64) shapeKey {
	return shapeKey{id: c.ID, version: c.Version, updated: c.UpdatedAt.UnixNano(), widthM: widthM}
}

// keptShape is an entry: a *componentImage or a *zoneOutline.
type keptShape interface{ cost() int64 }

// kept returns the entry for k from the part for clearance cl, or builds
// it and keeps it there.
func kept[T keptShape](o *Outlines, cl zone.Classification, k shapeKey, build func() T) T {
	if o == nil {
		return build()
	}
	part := o.parts[max(zone.Public, min(cl, zone.Secret))]
	if v, ok := part.Get(k); ok {
		if t, ok := v.(T); ok {
			o.hits.Add(1)
			return t
		}
	}
	o.misses.Add(1)
	t := build()
	part.Put(k, t)
	return t
}

// componentImage is a component's geometry in a plane of its own (a
// transverse Mercator centred on its box), with its box's centre and
// half-diagonal there.
type componentImage struct {
	plane  localTM
	xy     orb.Geometry
	centre orb.Point
	radius float64
}

func (m *componentImage) cost() int64 { return 128 + 16*int64(zone.VertexCount(m.xy)) }

func buildImage(c *zone.Component) *componentImage {
	m := &componentImage{plane: newLocalTM(c.Geometry.Bound().Center())}
	m.xy = m.plane.project(c.Geometry)
	m.centre, m.radius = centreRadius(m.xy.Bound())
	return m
}

// zoneOutline is the zone within some width of a component's geometry,
// built in the component's plane: polygons (nil when the zone is empty or
// could not be built), their box's centre and half-diagonal.
type zoneOutline struct {
	plane  localTM
	polys  orb.MultiPolygon
	centre orb.Point
	radius float64
}

func (z *zoneOutline) cost() int64 {
	return 128 + 16*int64(zone.VertexCount(z.polys)) + 24*int64(len(z.polys))
}

func centreRadius(b orb.Bound) (orb.Point, float64) {
	return b.Center(), math.Hypot(b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]) / 2
}

// cacheable reports whether c's zones are built whole and kept: points and
// polygons, not lines.
func cacheable(c *zone.Component) bool {
	switch c.Geometry.(type) {
	case orb.Point, orb.MultiPoint, orb.Polygon, orb.MultiPolygon:
		return true
	}
	return false
}

// imageVertices: a component with this many vertices or more is carried
// into a footprint's plane from its own, kept; fewer are projected vertex
// by vertex.
const imageVertices = 8

// image returns c's geometry in the plane p: through c's own plane, kept
// in the part for clearance cl, for components of imageVertices or more.
func (o *Outlines) image(cl zone.Classification, c *zone.Component, p localTM) orb.Geometry {
	if zone.VertexCount(c.Geometry) < imageVertices {
		return p.project(c.Geometry)
	}
	m := kept(o, cl, keyOf(c, 0), func() *componentImage { return buildImage(c) })
	return project.Geometry(orb.Clone(m.xy), planeMap(m.plane, p, m.centre, m.radius))
}

// outline returns the zone within w > 0 metres of c's geometry, kept in
// the part for clearance cl, or built from c's image (kept too) with oc's
// buffers: by the offset curves (buffer.go), or JTS's buffer where those
// meet input not in general position.
func (o *Outlines) outline(cl zone.Classification, c *zone.Component, w float64, oc *offsetCurves) *zoneOutline {
	return kept(o, cl, keyOf(c, w), func() *zoneOutline {
		return buildOutline(kept(o, cl, keyOf(c, 0), func() *componentImage { return buildImage(c) }), w, oc)
	})
}

// buildOutline builds the zone within w > 0 metres of image m, in m's
// plane, with oc's buffers: by the offset curves (buffer.go), or JTS's
// buffer where those meet input not in general position.
func buildOutline(m *componentImage, w float64, oc *offsetCurves) *zoneOutline {
	z := &zoneOutline{plane: m.plane}
	polys, ok := oc.outline(m.xy, w)
	if !ok {
		polys = nil
		// no input simplification (JTS's default drops vertices within
		// 1% of w of their neighbours' chord, which moves the rim by
		// metres)
		if g, err := sf.Buffer(toSF(m.xy), w, sf.BufferQuadSegments(quadSegments(w)), sf.BufferSimplifyFactor(0)); err == nil {
			if og, err := fromSF(g); err == nil {
				polys = polygonsOf(og)
			}
		}
	}
	if len(polys) > 0 {
		z.polys = polys
		z.centre, z.radius = centreRadius(polys.Bound())
	}
	return z
}

// ZoneOutline is the zone within widthM metres of c's geometry as WGS84
// polygons (nil when empty): the very outline a check tests footprints
// against (built in c's own plane, carried back to lon/lat vertex by
// vertex), for the map to draw (package tiles).
func ZoneOutline(c *zone.Component, widthM float64) orb.MultiPolygon {
	if widthM <= 0 {
		return nil
	}
	z := buildOutline(buildImage(c), widthM, new(offsetCurves))
	if len(z.polys) == 0 {
		return nil
	}
	return z.plane.unproject(z.polys).(orb.MultiPolygon)
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
