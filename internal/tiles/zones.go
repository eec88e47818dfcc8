package tiles

import (
	"github.com/google/uuid"
	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/check"
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
// they are, provisional widths as the checker's own outline of the
// component's buffer (check.ZoneOutline), so that the map draws the edge a
// check tests. The outlines are computed once per component version and
// cached.
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
			if outline := check.ZoneOutline(c, z.WidthM); outline != nil {
				zp.geom = outline
			}
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
