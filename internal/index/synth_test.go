package index

import (
	"math"
	"math/rand"

	"github.com/google/uuid"
	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// northVietnam is where synthetic components are placed (WGS84 degrees).
var northVietnam = orb.Bound{Min: orb.Point{102, 20.5}, Max: orb.Point{108.5, 23.5}}

// synthLayer is a layer synthetic components may be put in, with a kind it
// allows and the geometry classes generated for it.
type synthLayer struct {
	id, kind string
	classes  []zone.GeometryClass
}

var synthLayers = []synthLayer{
	{zone.LayerCombatBases, "combat_base", []zone.GeometryClass{zone.GeomPoint, zone.GeomPolygon}},
	{zone.LayerDefenceWorks, zone.KindDepot, []zone.GeometryClass{zone.GeomPoint, zone.GeomPolygon}},
	{zone.LayerCommuneHQs, "commune_hq", []zone.GeometryClass{zone.GeomPoint}},
	{zone.LayerBorderMarkers, "border_marker", []zone.GeometryClass{zone.GeomPoint}},
	{zone.LayerPatrolRoutes, "patrol_route", []zone.GeometryClass{zone.GeomLine}},
	{zone.LayerProjectSites, "factory", []zone.GeometryClass{zone.GeomPoint, zone.GeomLine, zone.GeomPolygon}},
}

// synthesizer makes random but valid synthetic components; the same seed
// gives the same components.
type synthesizer struct {
	rng *rand.Rand
}

func newSynthesizer(seed int64) *synthesizer {
	return &synthesizer{rng: rand.New(rand.NewSource(seed))}
}

func (s *synthesizer) id() uuid.UUID {
	id, err := uuid.NewRandomFromReader(s.rng)
	if err != nil {
		panic(err) // a math/rand reader never fails
	}
	return id
}

// component returns a new synthetic component with an id, in a random layer.
func (s *synthesizer) component() *zone.Component {
	return s.componentIn(synthLayers[s.rng.Intn(len(synthLayers))])
}

func (s *synthesizer) componentIn(l synthLayer) *zone.Component {
	c := &zone.Component{
		ID:             s.id(),
		Layer:          l.id,
		Kind:           l.kind,
		Name:           "synthetic " + l.id,
		Classification: zone.Classification(s.rng.Intn(4)),
		Synthetic:      true,
		Version:        1,
	}
	c.Geometry = s.geometry(l)
	if l.id == zone.LayerCombatBases || l.id == zone.LayerDefenceWorks {
		s.zones(c)
	}
	return c
}

// geometry returns a random geometry of one of l's classes.
func (s *synthesizer) geometry(l synthLayer) orb.Geometry {
	centre := orb.Point{
		northVietnam.Min[0] + s.rng.Float64()*(northVietnam.Max[0]-northVietnam.Min[0]),
		northVietnam.Min[1] + s.rng.Float64()*(northVietnam.Max[1]-northVietnam.Min[1]),
	}
	switch l.classes[s.rng.Intn(len(l.classes))] {
	case zone.GeomPolygon:
		return square(centre, 50+s.rng.Float64()*2000)
	case zone.GeomLine:
		line := orb.LineString{centre}
		for i := 0; i < 2+s.rng.Intn(6); i++ {
			p := line[len(line)-1]
			line = append(line, offset(p, (s.rng.Float64()-0.5)*3000, (s.rng.Float64()-0.5)*3000))
		}
		return line
	}
	return centre
}

// zones gives a defence work a provisional width, an approved restricted
// area, both or none.
func (s *synthesizer) zones(c *zone.Component) {
	c.Zones = nil
	if s.rng.Intn(3) == 0 {
		c.Zones = append(c.Zones, zone.ProtectionZone{
			Kind:     zone.RestrictedArea,
			Geometry: square(c.Geometry.Bound().Center(), 200+s.rng.Float64()*3000),
			Decision: "synthetic/QĐ-BQP", DecisionDate: "2024-05-01",
		})
	}
	if s.rng.Intn(3) == 0 {
		// A few distinct widths, as a rule set would give.
		c.Zones = append(c.Zones, zone.ProtectionZone{Kind: zone.SafetyBelt, WidthM: float64(100 * (1 + s.rng.Intn(10)))})
	}
}

// metresPerDegreeLat is the length of one degree of latitude near 22°N, close
// enough for making synthetic shapes.
const metresPerDegreeLat = 110_700.0

// offset moves p by dx metres east and dy metres north (approximately).
func offset(p orb.Point, dx, dy float64) orb.Point {
	return orb.Point{
		p[0] + dx/(metresPerDegreeLat*math.Cos(p[1]*math.Pi/180)),
		p[1] + dy/metresPerDegreeLat,
	}
}

// square is a polygon of roughly side metres centred on c, its ring
// counter-clockwise and closed.
func square(c orb.Point, side float64) orb.Polygon {
	h := side / 2
	sw, ne := offset(c, -h, -h), offset(c, h, h)
	return orb.Polygon{{sw, {ne[0], sw[1]}, ne, {sw[0], ne[1]}, sw}}
}

// randomBox is a box inside northern Vietnam of up to size degrees across.
func randomBox(rng *rand.Rand, size float64) orb.Bound {
	w, h := rng.Float64()*size, rng.Float64()*size
	x := northVietnam.Min[0] + rng.Float64()*(northVietnam.Max[0]-northVietnam.Min[0]-w)
	y := northVietnam.Min[1] + rng.Float64()*(northVietnam.Max[1]-northVietnam.Min[1]-h)
	return orb.Bound{Min: orb.Point{x, y}, Max: orb.Point{x + w, y + h}}
}
