package tiles

import (
	"math"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	sf "github.com/peterstace/simplefeatures/geom"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// zonePolygon is one protection zone of a component, as a WGS84 polygon or
// multipolygon.
type zonePolygon struct {
	kind     zone.ZoneKind
	approved bool
	geom     orb.Geometry
	bound    orb.Bound
}

// zoneKey names a component's zones: an edit increments the version, so a
// stale entry is never found again (and ages out of the LRU).
type zoneKey struct {
	id      uuid.UUID
	version int64
}

// zonePolygons returns c's protection zones as polygons: approved zones as
// they are, provisional widths as buffers of the component's geometry. The
// buffers are computed once per component version and cached.
func (s *Service) zonePolygons(c *zone.Component) []zonePolygon {
	if len(c.Zones) == 0 {
		return nil
	}
	k := zoneKey{c.ID, c.Version}
	if zs, ok := s.zones.Get(k); ok {
		return zs
	}
	zs := make([]zonePolygon, 0, len(c.Zones))
	for _, z := range c.Zones {
		zp := zonePolygon{kind: z.Kind, approved: z.Approved(), geom: z.Geometry}
		if zp.geom == nil && z.WidthM > 0 {
			zp.geom = bufferMetres(c.Geometry, z.WidthM)
		}
		if zp.geom == nil {
			continue
		}
		zp.bound = zp.geom.Bound()
		zs = append(zs, zp)
	}
	s.zones.Put(k, zs)
	return zs
}

// zonesCost is what an entry of the zone cache costs: about 16 bytes per
// vertex plus a fixed overhead.
func zonesCost(zs []zonePolygon) int64 {
	n := int64(64)
	for _, z := range zs {
		n += 64 + 16*int64(zone.VertexCount(z.geom))
	}
	return n
}

// bufferQuadSegments is the number of chords per quarter circle of a
// buffer's round ends: at 1 km a chord strays at most 19 m from the arc,
// under a pixel from zoom 0 to 12 and under 3 pixels at 14.
const bufferQuadSegments = 4

// bufferMetres returns the area within widthM metres of g (WGS84), for
// display. It buffers in a local equirectangular projection centred on g,
// with the WGS84 ellipsoid's radii of curvature at the centre latitude:
// across the few kilometres a component and its zones span, its scale
// error stays below 2e-4 (under 0.2 m at 1 km). nil when the buffer fails.
func bufferMetres(g orb.Geometry, widthM float64) orb.Geometry {
	centre := g.Bound().Center()
	p := newLocalPlane(centre)
	planar, err := toSF(p.forward(g))
	if err != nil {
		return nil
	}
	buf, err := sf.Buffer(planar, widthM, sf.BufferQuadSegments(bufferQuadSegments), sf.BufferSimplifyFactor(0.1))
	if err != nil || buf.IsEmpty() {
		return nil
	}
	out, err := wkb.Unmarshal(buf.AsBinary())
	if err != nil {
		return nil
	}
	return p.inverse(out)
}

func toSF(g orb.Geometry) (sf.Geometry, error) {
	b, err := wkb.Marshal(g)
	if err != nil {
		return sf.Geometry{}, err
	}
	return sf.UnmarshalWKB(b)
}

// localPlane is an equirectangular projection centred on a point: x east, y
// north, in metres, using the meridional (M) and prime-vertical (N) radii of
// curvature of the WGS84 ellipsoid at the centre.
type localPlane struct {
	lon0, lat0 float64
	mx, my     float64 // metres per degree of longitude and of latitude at the centre
}

func newLocalPlane(c orb.Point) localPlane {
	const a, f = 6378137.0, 1 / 298.257223563
	e2 := f * (2 - f)
	phi := c[1] * math.Pi / 180
	s := math.Sin(phi)
	w := math.Sqrt(1 - e2*s*s)
	n := a / w
	m := a * (1 - e2) / (w * w * w)
	return localPlane{lon0: c[0], lat0: c[1], mx: n * math.Cos(phi) * math.Pi / 180, my: m * math.Pi / 180}
}

func (p localPlane) forward(g orb.Geometry) orb.Geometry {
	return mapPoints(orb.Clone(g), func(q orb.Point) orb.Point {
		return orb.Point{(q[0] - p.lon0) * p.mx, (q[1] - p.lat0) * p.my}
	})
}

func (p localPlane) inverse(g orb.Geometry) orb.Geometry {
	return mapPoints(g, func(q orb.Point) orb.Point {
		return orb.Point{p.lon0 + q[0]/p.mx, p.lat0 + q[1]/p.my}
	})
}

// mapPoints applies fn to every vertex of g in place and returns g.
func mapPoints(g orb.Geometry, fn func(orb.Point) orb.Point) orb.Geometry {
	each := func(ps []orb.Point) {
		for i := range ps {
			ps[i] = fn(ps[i])
		}
	}
	switch g := g.(type) {
	case orb.Point:
		return fn(g)
	case orb.MultiPoint:
		each(g)
	case orb.LineString:
		each(g)
	case orb.MultiLineString:
		for _, l := range g {
			each(l)
		}
	case orb.Ring:
		each(g)
	case orb.Polygon:
		for _, r := range g {
			each(r)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			for _, r := range p {
				each(r)
			}
		}
	}
	return g
}
