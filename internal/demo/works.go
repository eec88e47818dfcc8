package demo

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// zoneSpec is one protection zone a work gets: its kind, a width range in
// metres and whether it is an approved polygon (the work's outline grown by
// the width, with a decision) or a provisional width.
type zoneSpec struct {
	kind     zone.ZoneKind
	min, max float64
	approved bool
}

// workSpec describes one kind of point or polygon component to place.
type workSpec struct {
	layer, kind string
	name        func(prov *province, num int) string
	code        string // code prefix, followed by the province and a number
	ft          zone.FunctionType
	grp         zone.Group
	cls         zone.Classification
	polygon     bool
	rMin, rMax  float64 // polygon base radius range, metres
	zones       []zoneSpec
	minBorderM  float64 // clearance from the border line beyond the zones
}

// Widths in metres. The restricted area extends at most 55 m beyond a work
// on land (Law 25/2023/QH15 art. 17(1)); the rest are demo values within the
// ranges DOMAIN.md names (an antenna field's 500 m technical corridor,
// Decree 30/2011; a depot's computed safety radius, Decree 148/2006).
func workSpecs(provIndex int) []workSpec {
	restricted := func(lo, hi float64, approved bool) zoneSpec {
		return zoneSpec{zone.RestrictedArea, lo, hi, approved}
	}
	protected := func(lo, hi float64, approved bool) zoneSpec {
		return zoneSpec{zone.ProtectedArea, lo, hi, approved}
	}
	belt := func(lo, hi float64, approved bool) zoneSpec {
		return zoneSpec{zone.SafetyBelt, lo, hi, approved}
	}
	place := func(p *province, n int) string { return p.places[(n*5+provIndex)%len(p.places)] }
	even := provIndex%2 == 0
	// Every other province's head command post is of the special group.
	headGroup := zone.GroupI
	if even {
		headGroup = zone.GroupSpecial
	}
	return []workSpec{
		{layer: zone.LayerDefenceWorks, kind: zone.KindShootingRange, code: "TB", ft: zone.FunctionB, grp: zone.GroupIII, cls: zone.Internal,
			name:    func(p *province, n int) string { return "Trường bắn huấn luyện " + place(p, n) },
			polygon: true, rMin: 500, rMax: 900, zones: []zoneSpec{restricted(55, 55, true), belt(1_000, 1_000, false)}, minBorderM: 3_000},
		{layer: zone.LayerDefenceWorks, kind: zone.KindMilitaryZone, code: "KQS", ft: zone.FunctionA, grp: zone.GroupII, cls: zone.Restricted,
			name:    func(p *province, n int) string { return fmt.Sprintf("Khu quân sự KQS-%02d %s", n, place(p, n)) },
			polygon: true, rMin: 600, rMax: 1_200, zones: []zoneSpec{restricted(40, 55, true)}, minBorderM: 3_000},
		{layer: zone.LayerDefenceWorks, kind: zone.KindRearBase, code: "CCHP", ft: zone.FunctionA, grp: zone.GroupII, cls: zone.Restricted,
			name:    func(p *province, n int) string { return "Căn cứ hậu phương khu vực phòng thủ " + p.title },
			polygon: true, rMin: 500, rMax: 1_000, zones: []zoneSpec{restricted(55, 55, true), protected(400, 600, false)}, minBorderM: 5_000},
		{layer: zone.LayerCombatBases, kind: "combat_base", code: "CCĐ", ft: zone.FunctionA, grp: zone.GroupI, cls: zone.Secret,
			name: func(p *province, n int) string {
				return fmt.Sprintf("Căn cứ chiến đấu CCĐ-%02d khu vực %s", n, place(p, n))
			},
			polygon: true, rMin: 300, rMax: 700, zones: []zoneSpec{restricted(30, 55, true), protected(250, 500, true)}, minBorderM: 2_500},
		{layer: zone.LayerCombatBases, kind: "combat_base", code: "CCĐ", ft: zone.FunctionA, grp: zone.GroupII, cls: zone.Secret,
			name: func(p *province, n int) string {
				return fmt.Sprintf("Căn cứ chiến đấu CCĐ-%02d khu vực %s", n, place(p, n))
			},
			polygon: true, rMin: 300, rMax: 700, zones: []zoneSpec{restricted(30, 55, true), protected(250, 500, true)}, minBorderM: 2_500},
		{layer: zone.LayerCombatBases, kind: "combat_base", code: "CCĐ", ft: zone.FunctionA, grp: zone.GroupII, cls: zone.Restricted,
			name: func(p *province, n int) string {
				return fmt.Sprintf("Căn cứ chiến đấu CCĐ-%02d khu vực %s", n, place(p, n))
			},
			polygon: true, rMin: 250, rMax: 500, zones: []zoneSpec{restricted(55, 55, true), protected(300, 300, false)}, minBorderM: 2_500},
		{layer: zone.LayerCombatBases, kind: "combat_base", code: "CCĐ", ft: zone.FunctionA, grp: zone.GroupIII, cls: zone.Restricted,
			name: func(p *province, n int) string {
				return fmt.Sprintf("Căn cứ chiến đấu CCĐ-%02d khu vực %s", n, place(p, n))
			},
			zones: []zoneSpec{restricted(50, 50, false), protected(300, 300, false)}, minBorderM: 2_500},
		{layer: zone.LayerDefenceWorks, kind: zone.KindCommandPost, code: "SCH", ft: zone.FunctionA, grp: headGroup, cls: zone.Secret,
			name:    func(p *province, n int) string { return "Sở chỉ huy Bộ CHQS " + p.title },
			polygon: true, rMin: 150, rMax: 350, zones: []zoneSpec{restricted(40, 55, true), protected(200, 400, true)}, minBorderM: 5_000},
		{layer: zone.LayerDefenceWorks, kind: zone.KindCommandPost, code: "SCH", ft: zone.FunctionA, grp: zone.GroupII, cls: zone.Secret,
			name: func(p *province, n int) string {
				return "Sở chỉ huy cơ bản khu vực phòng thủ " + place(p, n)
			},
			polygon: true, rMin: 100, rMax: 250, zones: []zoneSpec{restricted(30, 55, true), protected(200, 300, false)}, minBorderM: 4_000},
		{layer: zone.LayerDefenceWorks, kind: zone.KindLogisticsBase, code: "CCHC", ft: zone.FunctionA, grp: zone.GroupII, cls: zone.Restricted,
			name: func(p *province, n int) string {
				return "Căn cứ hậu cần - kỹ thuật khu vực " + place(p, n)
			},
			polygon: true, rMin: 300, rMax: 600, zones: []zoneSpec{restricted(55, 55, true), belt(300, 300, false)}, minBorderM: 4_000},
		{layer: zone.LayerDefenceWorks, kind: zone.KindDepot, code: "K", ft: zone.FunctionC, grp: zone.GroupI, cls: zone.Secret,
			name:    func(p *province, n int) string { return fmt.Sprintf("Kho vũ khí K%d %s", n+provIndex*3, p.name) },
			polygon: true, rMin: 150, rMax: 350, zones: []zoneSpec{restricted(50, 55, true), belt(500, 800, even)}, minBorderM: 4_000},
		{layer: zone.LayerDefenceWorks, kind: zone.KindDepot, code: "K", ft: zone.FunctionC, grp: zone.GroupII, cls: zone.Restricted,
			name: func(p *province, n int) string {
				if n%2 == 0 {
					return fmt.Sprintf("Kho xăng dầu X%d %s", n+provIndex*3, place(p, n))
				}
				return fmt.Sprintf("Kho đạn K%d %s", n+provIndex*3, place(p, n))
			},
			polygon: true, rMin: 120, rMax: 300, zones: []zoneSpec{restricted(30, 55, true), belt(300, 1_000, !even)}, minBorderM: 4_000},
		{layer: zone.LayerDefenceWorks, kind: zone.KindAntennaField, code: "ĂT", ft: zone.FunctionA, grp: zone.GroupII, cls: zone.Internal,
			name:    func(p *province, n int) string { return "Trạm ăng-ten thông tin " + place(p, n) },
			polygon: true, rMin: 100, rMax: 250, zones: []zoneSpec{restricted(20, 55, true), belt(500, 500, even)}, minBorderM: 3_000},
		{layer: zone.LayerDefenceWorks, kind: zone.KindArtilleryPosition, code: "TĐP", ft: zone.FunctionA, grp: zone.GroupII, cls: zone.Secret,
			name: func(p *province, n int) string {
				return fmt.Sprintf("Trận địa pháo phòng không TĐ-%d %s", 10+n, place(p, n))
			},
			zones: []zoneSpec{restricted(50, 50, false), protected(300, 300, false)}, minBorderM: 3_000},
		{layer: zone.LayerDefenceWorks, kind: zone.KindArtilleryPosition, code: "TĐP", ft: zone.FunctionA, grp: zone.GroupII, cls: zone.Secret,
			name: func(p *province, n int) string {
				return fmt.Sprintf("Trận địa pháo mặt đất TĐ-%d %s", 10+n, place(p, n))
			},
			polygon: true, rMin: 80, rMax: 200, zones: []zoneSpec{restricted(30, 50, true)}, minBorderM: 3_000},
		{layer: zone.LayerDefenceWorks, kind: zone.KindObservationPost, code: "ĐQS", ft: zone.FunctionA, grp: zone.GroupIII, cls: zone.Restricted,
			name:  func(p *province, n int) string { return fmt.Sprintf("Đài quan sát ĐQS-%02d %s", n, place(p, n)) },
			zones: []zoneSpec{restricted(30, 30, false)}, minBorderM: 1_200},
		{layer: zone.LayerDefenceWorks, kind: zone.KindObservationPost, code: "ĐQS", ft: zone.FunctionA, grp: zone.GroupIII, cls: zone.Restricted,
			name:  func(p *province, n int) string { return fmt.Sprintf("Đài quan sát ĐQS-%02d %s", n, place(p, n)) },
			zones: []zoneSpec{restricted(30, 30, false), protected(150, 150, false)}, minBorderM: 1_500},
	}
}

// communeHQSpec is the commune military command HQ: a point with a small
// provisional restricted area and protected area.
func communeHQSpec(commune string) workSpec {
	return workSpec{layer: zone.LayerCommuneHQs, kind: "commune_hq", code: "BCH", ft: zone.FunctionD, grp: zone.GroupIII, cls: zone.Internal,
		name:  func(*province, int) string { return "Trụ sở Ban CHQS xã " + commune },
		zones: []zoneSpec{{zone.RestrictedArea, 15, 15, false}, {zone.ProtectedArea, 100, 100, false}}, minBorderM: 800}
}

// provinceWorks places the point and polygon components of every province:
// the largest first, so that the smaller fill the gaps.
func (g *generator) provinceWorks() error {
	provs := provinces()
	for i := range provs {
		prov := &provs[i]
		for _, spec := range workSpecs(i) {
			if err := g.place(spec, prov); err != nil {
				return err
			}
		}
		communes := append([]string(nil), prov.places...)
		g.rng.Shuffle(len(communes), func(a, b int) { communes[a], communes[b] = communes[b], communes[a] })
		for _, commune := range communes[:7] {
			if err := g.place(communeHQSpec(commune), prov); err != nil {
				return err
			}
		}
	}
	return nil
}

// spacingM is the least gap, in metres, between the reaches (work plus
// zones) of two placed components, so their zones never overlap and a
// project placed against one is clear of the others.
const spacingM = 1_500

// place draws positions in prov until one fits: the work and its zones on
// land, clear of the border by spec.minBorderM, spacingM from every placed
// component, clear of patrol routes and border restricted zones.
func (g *generator) place(spec workSpec, prov *province) error {
	for try := 0; try < 2_000; try++ {
		centre := destination(prov.centre, g.between(0, 360), prov.radiusM*math.Sqrt(g.rng.Float64()))
		if !g.onLand(centre) {
			continue
		}
		var az, r []float64
		var geom orb.Geometry = centre
		reach := 0.0
		if spec.polygon {
			az, r = g.star(centre, 10+g.rng.IntN(15), spec.rMin, spec.rMax)
			geom = orb.Polygon{radialRing(centre, az, r, 0)}
			for _, x := range r {
				reach = max(reach, x)
			}
		}
		var zones []zone.ProtectionZone
		var rings []orb.Ring
		widest := 0.0
		for _, zs := range spec.zones {
			w := math.Round(g.between(zs.min, zs.max)/5) * 5
			widest = max(widest, w)
			if !zs.approved {
				zones = append(zones, zone.ProtectionZone{Kind: zs.kind, WidthM: w})
				continue
			}
			var ring orb.Ring
			if spec.polygon {
				ring = radialRing(centre, az, r, w)
			} else {
				ring = circle(centre, w, 24)
			}
			rings = append(rings, ring)
			num, date := g.decision()
			zones = append(zones, zone.ProtectionZone{Kind: zs.kind, Geometry: orb.Round(orb.Polygon{ring}, roundFactor), Decision: num, DecisionDate: date})
		}
		extent := reach + widest
		if !g.fits(centre, extent, spec.minBorderM, geom, rings) {
			continue
		}
		num := g.next(spec.code + ":" + prov.abbr)
		c := g.component(spec.layer, spec.kind, spec.name(prov, num), fmt.Sprintf("%s-%s-%02d", spec.code, prov.abbr, num), spec.cls, geom, prov)
		c.FunctionType, c.Group, c.Zones = spec.ft, spec.grp, zones
		if err := g.add(c); err != nil {
			return err
		}
		g.placed = append(g.placed, &placed{c: c, prov: prov, centre: centre, az: az, r: r, extentM: extent})
		return nil
	}
	return zone.Errorf(zone.CodeInternal, "demo: no room left for %s %s in %s", spec.layer, spec.kind, prov.name)
}

// fits reports whether a component reaching extent metres from centre
// stands where place wants it.
func (g *generator) fits(centre orb.Point, extent, minBorderM float64, geom orb.Geometry, rings []orb.Ring) bool {
	for _, p := range g.placed {
		if distance(centre, p.centre) < extent+p.extentM+spacingM {
			return false
		}
	}
	if !math.IsInf(g.borderIdx.distanceWithin(centre, extent+minBorderM), 1) {
		return false
	}
	reach := expand(orb.Bound{Min: centre, Max: centre}, extent+300)
	for _, l := range g.linear {
		if l.Geometry.Bound().Intersects(reach) && DistanceM(centre, l.Geometry) < extent+300 {
			return false
		}
	}
	if poly, ok := geom.(orb.Polygon); ok && !g.allOnLand(poly[0]) {
		return false
	}
	for _, ring := range rings {
		if !g.allOnLand(ring) {
			return false
		}
	}
	// Provisional widths: the reach all round must be on land as well.
	return g.allOnLand(circle(centre, extent, 16))
}
