package demo

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// Scale streams synthetic data for load tests and benchmarks: components
// defence components spread over every defence layer and kind (points,
// patrol-route lines, star-shaped polygons of 8-64 vertices with approved
// and provisional zones), then projects project sites (polygons, roads and
// points), each passed to fn as soon as it is made and not kept, so memory
// stays flat for millions. The same seed gives the same stream. It stops at
// the first error fn returns and returns it.
//
// Positions are drawn in inland discs from north to south Vietnam
// (scaleRegions); vertices are offset with a local flat-earth approximation
// (metres per degree at the vertex's latitude), adequate for synthetic
// shapes under a few kilometres and much faster than geodesics. Every
// component is Synthetic with note = Note; codes are unique per run.
func Scale(seed int64, components, projects int, fn func(*zone.Component) error) error {
	if components < 0 || projects < 0 {
		return zone.Errorf(zone.CodeInvalid, "scale: counts must not be negative (components %d, projects %d)", components, projects)
	}
	s := &scaler{rng: rand.New(rand.NewPCG(uint64(seed), 0x7363616c65)), regions: scaleRegions()}
	for _, r := range s.regions {
		s.totalArea += r.radiusM * r.radiusM
	}
	for i := 0; i < components; i++ {
		if err := fn(s.component(i)); err != nil {
			return err
		}
	}
	for i := 0; i < projects; i++ {
		if err := fn(s.project(i)); err != nil {
			return err
		}
	}
	return nil
}

type scaler struct {
	rng     *rand.Rand
	regions []struct {
		centre  orb.Point
		radiusM float64
	}
	totalArea float64
}

func (s *scaler) between(lo, hi float64) float64 { return lo + s.rng.Float64()*(hi-lo) }

// position draws a point uniformly over the regions' total area.
func (s *scaler) position() orb.Point {
	pick := s.rng.Float64() * s.totalArea
	r := s.regions[len(s.regions)-1]
	for _, x := range s.regions {
		if pick < x.radiusM*x.radiusM {
			r = x
			break
		}
		pick -= x.radiusM * x.radiusM
	}
	return offset(r.centre, s.between(0, 2*math.Pi), r.radiusM*math.Sqrt(s.rng.Float64()))
}

// offset moves p by distM metres along bearing (radians clockwise from
// north), flat-earth.
func offset(p orb.Point, bearing, distM float64) orb.Point {
	sin, cos := math.Sincos(bearing)
	return orb.Point{
		p[0] + distM*sin/(111_320*math.Cos(p[1]*math.Pi/180)),
		p[1] + distM*cos/110_574,
	}
}

// starRing is a star-shaped ring of n vertices around c (counter-clockwise),
// each radius r[i]+plus metres, with the metres per degree of c's latitude.
func starRing(c orb.Point, bearings, r []float64, plus float64) orb.Ring {
	kx := 1 / (111_320 * math.Cos(c[1]*math.Pi/180))
	const ky = 1.0 / 110_574
	ring := make(orb.Ring, len(bearings)+1)
	for i := range bearings {
		sin, cos := math.Sincos(bearings[i])
		d := r[i] + plus
		ring[i] = orb.Point{c[0] + d*sin*kx, c[1] + d*cos*ky}
	}
	ring[len(bearings)] = ring[0]
	return ring
}

func (s *scaler) star(n int, base float64) (bearings, r []float64) {
	bearings = make([]float64, n)
	r = make([]float64, n)
	step := 2 * math.Pi / float64(n)
	start := s.between(0, 2*math.Pi)
	for i := range bearings {
		bearings[i] = start - float64(i)*step - s.between(0, step*0.5)
		r[i] = base * s.between(0.75, 1.2)
	}
	return bearings, r
}

// scaleKind is one slot of the layer mix: 20 slots, cycled by index.
type scaleKind struct{ layer, kind, label string }

func scaleMix() [20]scaleKind {
	dw := func(kind, label string) scaleKind { return scaleKind{zone.LayerDefenceWorks, kind, label} }
	return [20]scaleKind{
		{zone.LayerBorderMarkers, "border_marker", "Mốc tổng hợp"},
		{zone.LayerBorderMarkers, "border_marker", "Mốc tổng hợp"},
		{zone.LayerPatrolRoutes, "patrol_route", "Đường tuần tra tổng hợp"},
		{zone.LayerCombatBases, "combat_base", "Căn cứ chiến đấu tổng hợp"},
		{zone.LayerCombatBases, "combat_base", "Căn cứ chiến đấu tổng hợp"},
		{zone.LayerCommuneHQs, "commune_hq", "Trụ sở Ban CHQS xã tổng hợp"},
		{zone.LayerCommuneHQs, "commune_hq", "Trụ sở Ban CHQS xã tổng hợp"},
		{zone.LayerCommuneHQs, "commune_hq", "Trụ sở Ban CHQS xã tổng hợp"},
		dw(zone.KindCommandPost, "Sở chỉ huy tổng hợp"),
		dw(zone.KindRearBase, "Căn cứ hậu phương tổng hợp"),
		dw(zone.KindLogisticsBase, "Căn cứ hậu cần - kỹ thuật tổng hợp"),
		dw(zone.KindArtilleryPosition, "Trận địa pháo tổng hợp"),
		dw(zone.KindObservationPost, "Đài quan sát tổng hợp"),
		dw(zone.KindDepot, "Kho tổng hợp"),
		dw(zone.KindDepot, "Kho tổng hợp"),
		dw(zone.KindAntennaField, "Trạm ăng-ten tổng hợp"),
		dw(zone.KindShootingRange, "Trường bắn tổng hợp"),
		dw(zone.KindMilitaryZone, "Khu quân sự tổng hợp"),
		dw(zone.KindBorderRestrictedZone, "Vùng cấm biên giới tổng hợp"),
		dw(zone.KindArtilleryPosition, "Trận địa pháo tổng hợp"),
	}
}

func (s *scaler) base(layer, kind, name, code string, geom orb.Geometry) *zone.Component {
	return &zone.Component{
		ID: randomUUID(s.rng), Layer: layer, Kind: kind, Name: name, Code: code,
		Classification: zone.Classification(s.rng.IntN(4)), Geometry: orb.Round(geom, roundFactor),
		Synthetic: true, Properties: map[string]any{PropNote: Note},
	}
}

func (s *scaler) component(i int) *zone.Component {
	k := scaleMix()[i%20]
	code := fmt.Sprintf("S-%08d", i+1)
	c := s.position()
	switch k.layer {
	case zone.LayerBorderMarkers:
		return s.base(k.layer, k.kind, k.label+" "+code, code, c)
	case zone.LayerCommuneHQs:
		comp := s.base(k.layer, k.kind, k.label+" "+code, code, c)
		comp.FunctionType, comp.Group = zone.FunctionD, zone.GroupIII
		comp.Zones = []zone.ProtectionZone{{Kind: zone.RestrictedArea, WidthM: 15}, {Kind: zone.ProtectedArea, WidthM: 100}}
		return comp
	case zone.LayerPatrolRoutes:
		n := 8 + s.rng.IntN(33)
		ls := make(orb.LineString, n)
		ls[0] = c
		heading := s.between(0, 2*math.Pi)
		for j := 1; j < n; j++ {
			heading += s.between(-0.4, 0.4)
			ls[j] = offset(ls[j-1], heading, s.between(150, 300))
		}
		return s.base(k.layer, k.kind, k.label+" "+code, code, ls)
	}
	// Combat bases and defence works: a point (a fifth of them) or a
	// star-shaped polygon of 8-64 vertices.
	comp := s.base(k.layer, k.kind, k.label+" "+code, code, c)
	comp.FunctionType = []zone.FunctionType{zone.FunctionA, zone.FunctionA, zone.FunctionB, zone.FunctionC, zone.FunctionD}[s.rng.IntN(5)]
	comp.Group = []zone.Group{zone.GroupSpecial, zone.GroupI, zone.GroupII, zone.GroupIII}[s.rng.IntN(4)]
	beltM := 0.0
	switch k.kind {
	case zone.KindDepot:
		beltM = math.Round(s.between(300, 1_000))
	case zone.KindAntennaField:
		beltM = 500
	case zone.KindShootingRange:
		beltM = 1_000
	}
	restrictedM := math.Round(s.between(20, 55))
	if s.rng.IntN(5) == 0 || k.kind == zone.KindObservationPost {
		comp.Zones = []zone.ProtectionZone{{Kind: zone.RestrictedArea, WidthM: restrictedM}}
		if beltM > 0 {
			comp.Zones = append(comp.Zones, zone.ProtectionZone{Kind: zone.SafetyBelt, WidthM: beltM})
		}
		return comp
	}
	bearings, r := s.star(8+s.rng.IntN(57), s.between(50, 800))
	comp.Geometry = orb.Round(orb.Polygon{starRing(c, bearings, r, 0)}, roundFactor)
	if k.kind == zone.KindBorderRestrictedZone {
		return comp
	}
	if s.rng.IntN(2) == 0 {
		comp.Zones = []zone.ProtectionZone{{Kind: zone.RestrictedArea, Geometry: orb.Round(orb.Polygon{starRing(c, bearings, r, restrictedM)}, roundFactor),
			Decision: fmt.Sprintf("%d/QĐ-BQP", 100+s.rng.IntN(4900)), DecisionDate: fmt.Sprintf("%d-%02d-%02d", 2012+s.rng.IntN(14), 1+s.rng.IntN(12), 1+s.rng.IntN(28))}}
	} else {
		comp.Zones = []zone.ProtectionZone{{Kind: zone.RestrictedArea, WidthM: restrictedM}}
	}
	if beltM > 0 {
		comp.Zones = append(comp.Zones, zone.ProtectionZone{Kind: zone.SafetyBelt, WidthM: beltM})
	} else {
		comp.Zones = append(comp.Zones, zone.ProtectionZone{Kind: zone.ProtectedArea, WidthM: math.Round(s.between(100, 500))})
	}
	return comp
}

func (s *scaler) project(i int) *zone.Component {
	kinds := []string{"project", "factory", "resort", "mine", "road", "residential", "port", "energy", "agriculture"}
	kind := kinds[i%len(kinds)]
	code := fmt.Sprintf("SP-%08d", i+1)
	c := s.position()
	var geom orb.Geometry
	switch {
	case kind == "road":
		n := 4 + s.rng.IntN(20)
		ls := make(orb.LineString, n)
		ls[0] = c
		heading := s.between(0, 2*math.Pi)
		for j := 1; j < n; j++ {
			heading += s.between(-0.3, 0.3)
			ls[j] = offset(ls[j-1], heading, s.between(100, 500))
		}
		geom = ls
	case kind == "project" && s.rng.IntN(2) == 0:
		geom = c
	default:
		bearings, r := s.star(8+s.rng.IntN(17), s.between(100, 600))
		geom = orb.Polygon{starRing(c, bearings, r, 0)}
	}
	comp := s.base(zone.LayerProjectSites, kind, "Dự án tổng hợp "+code, code, geom)
	comp.Classification = zone.Public
	var acts []any
	switch kind {
	case "mine":
		acts = []any{zone.ActivityBlasting, zone.ActivityMining}
	case "residential":
		acts = []any{zone.ActivityResidential}
	case "resort":
		acts = []any{zone.ActivityCrowd}
	default:
		acts = []any{}
	}
	comp.Properties[zone.PropInvestor] = "Nhà đầu tư tổng hợp " + fmt.Sprint(1+s.rng.IntN(500))
	comp.Properties[zone.PropSector] = kind
	comp.Properties[zone.PropHeightM] = math.Round(s.between(0, 120))
	comp.Properties[zone.PropActivities] = acts
	comp.Properties[zone.PropStatus] = "pending"
	return comp
}
