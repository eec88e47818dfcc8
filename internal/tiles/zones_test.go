package tiles

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"

	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// TestZonesAreTheCheckersOutlines: a provisional zone on the map is the
// outline the checker tests footprints against. From ZonesExactZoom on,
// every vertex the tile draws inside its clip box is a vertex of
// check.ZoneOutline rounded to tile units, and every such vertex is drawn;
// below, the zone is a simplification of it (fewer vertices, none off the
// outline by more than the simplification's tolerance and rounding).
func TestZonesAreTheCheckersOutlines(t *testing.T) {
	w := newWorld()
	at := orb.Point{105.8, 21.0}
	depot := comp(zone.LayerDefenceWorks, zone.Public, "depot", at)
	depot.Zones = []zone.ProtectionZone{{Kind: zone.SafetyBelt, WidthM: 500}}
	base := comp(zone.LayerCombatBases, zone.Public, "base", orb.Polygon{{{105.83, 21.0}, {105.836, 21.001}, {105.834, 21.006}, {105.831, 21.004}, {105.83, 21.0}}})
	base.Zones = []zone.ProtectionZone{{Kind: zone.RestrictedArea, WidthM: 55}, {Kind: zone.SafetyBelt, WidthM: 300}}
	w.put(depot, base)
	s := New(w.ix, Options{})
	for _, c := range []*zone.Component{depot, base} {
		for _, z := range c.Zones {
			outline := check.ZoneOutline(c, z.WidthM)
			if outline == nil {
				t.Fatalf("%s %s: no outline", c.Name, z.Kind)
			}
			for zoom := maptile.Zoom(12); zoom <= 17; zoom++ {
				tl := maptile.At(outline[0][0][0], zoom) // a tile on the rim
				_, layers := getTile(t, s, AllLayers, tl, zone.Public)
				drawn := zoneVertices(layers[ZonesLayer].Features, c.ID.String(), string(z.Kind))
				if len(drawn) == 0 {
					t.Fatalf("%s %s z%d: zone not drawn", c.Name, z.Kind, zoom)
				}
				f := newTileFrame(uint32(zoom), tl.X, tl.Y, 4096, 64, 0)
				inside := func(p orb.Point) bool {
					return p[0] > f.clip.Min[0] && p[0] < f.clip.Max[0] && p[1] > f.clip.Min[1] && p[1] < f.clip.Max[1]
				}
				want := map[orb.Point]bool{}
				for _, p := range outline {
					for _, r := range p {
						for _, v := range r {
							q := f.point(v)
							if q = (orb.Point{math.Round(q[0]), math.Round(q[1])}); inside(q) {
								want[q] = true
							}
						}
					}
				}
				if len(want) < 3 {
					t.Fatalf("%s %s z%d: only %d vertices of the outline in the tile", c.Name, z.Kind, zoom, len(want))
				}
				got := map[orb.Point]bool{}
				for _, q := range drawn {
					if inside(q) {
						got[q] = true
					}
				}
				if zoom >= ZonesExactZoom {
					for q := range got {
						if !want[q] {
							t.Errorf("%s %s z%d: drawn vertex %v is no vertex of the checker's outline", c.Name, z.Kind, zoom, q)
						}
					}
					for q := range want {
						if !got[q] {
							t.Errorf("%s %s z%d: the checker's vertex %v is not drawn", c.Name, z.Kind, zoom, q)
						}
					}
					continue
				}
				if len(got) >= len(want) || len(got) == 0 {
					t.Errorf("%s %s z%d: %d vertices drawn of the outline's %d, want a simplification", c.Name, z.Kind, zoom, len(got), len(want))
				}
				for q := range got {
					if !want[q] {
						t.Errorf("%s %s z%d: simplified vertex %v is no vertex of the checker's outline", c.Name, z.Kind, zoom, q)
					}
				}
			}
		}
	}
}

// zoneVertices lists the vertices of the zones layer's features of
// component id and kind, in tile units.
func zoneVertices(fs []*geojson.Feature, id, kind string) []orb.Point {
	var out []orb.Point
	for _, f := range fs {
		if f.Properties["component_id"] != id || f.Properties["kind"] != kind {
			continue
		}
		switch g := f.Geometry.(type) {
		case orb.Polygon:
			for _, r := range g {
				out = append(out, r...)
			}
		case orb.MultiPolygon:
			for _, p := range g {
				for _, r := range p {
					out = append(out, r...)
				}
			}
		}
	}
	return out
}
