package demo

import (
	"fmt"
	"math"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// siteKind is what a project site is: its layer kind, a Vietnamese name
// pattern (%s is a place), its sector and typical height.
type siteKind struct {
	kind, name, sector string
	heightM            float64
	activities         []string
}

func siteKinds() map[string]siteKind {
	return map[string]siteKind{
		"resort":      {"resort", "Khu nghỉ dưỡng sinh thái %s", "Du lịch", 12, []string{zone.ActivityCrowd}},
		"factory":     {"factory", "Nhà máy chế biến gỗ %s", "Công nghiệp", 15, nil},
		"garment":     {"factory", "Nhà máy may mặc %s", "Công nghiệp", 12, []string{zone.ActivityCrowd}},
		"quarry":      {"mine", "Mỏ đá vôi %s", "Khai khoáng", 0, []string{zone.ActivityBlasting, zone.ActivityMining}},
		"road":        {"road", "Đường giao thông liên xã %s", "Giao thông", 0, nil},
		"markerroad":  {"road", "Đường lên điểm du lịch cột mốc %s", "Du lịch", 0, []string{zone.ActivityCrowd}},
		"residential": {"residential", "Khu dân cư mới %s", "Nhà ở", 20, []string{zone.ActivityResidential}},
		"urban":       {"residential", "Khu đô thị %s", "Nhà ở", 45, []string{zone.ActivityResidential, zone.ActivityCrowd}},
		"port":        {"port", "Cảng hàng hóa %s", "Logistics", 30, nil},
		"wind":        {"energy", "Tua-bin số 1, dự án điện gió %s", "Năng lượng", 150, nil},
		"solar":       {"energy", "Nhà máy điện mặt trời %s", "Năng lượng", 6, nil},
		"tower":       {"project", "Cột thu phát sóng viễn thông %s", "Viễn thông", 45, nil},
		"farm":        {"agriculture", "Trang trại chăn nuôi %s", "Nông nghiệp", 8, nil},
		"tea":         {"agriculture", "Vùng trồng chè tập trung %s", "Nông nghiệp", 0, nil},
		"warehouse":   {"factory", "Kho bãi hàng hóa %s", "Logistics", 12, nil},
		"gate":        {"project", "Khu kinh tế cửa khẩu %s", "Thương mại", 18, []string{zone.ActivityCrowd}},
	}
}

func investors() []string {
	return []string{
		"Công ty CP Đầu tư Phát triển Hưng Thịnh Bắc",
		"Công ty TNHH Xây dựng Đông Bắc Á",
		"Công ty CP Du lịch Sinh thái Non Nước Việt",
		"Công ty TNHH Khoáng sản Tây Bắc Mới",
		"Công ty CP Năng lượng Xanh Miền Bắc",
		"Công ty TNHH Nông nghiệp Công nghệ cao Hồng Hà",
		"Ban Quản lý dự án Đầu tư xây dựng tỉnh",
		"Công ty CP Logistics Cửa Khẩu Việt",
	}
}

// scenario is one project site to place: its kind, the verdict intended, a
// target filter, how to build the site's geometry against a target (or with
// no target, from a free position) and the reason Assess must give.
type scenario struct {
	site     string
	expected string
	reason   string // a substring Assess's reasons must contain
	target   func(p *placed) bool
	build    func(g *generator, t *placed) orb.Geometry
	border   bool // placed against the border rather than a component
}

// projectSites places the project sites: each scenario is tried against
// eligible targets until Assess confirms the intended verdict with
// certainty.
func (g *generator) projectSites() error {
	for i, sc := range g.scenarios() {
		if err := g.placeSite(i, sc); err != nil {
			return err
		}
	}
	return nil
}

func isKind(layer, kind string) func(*placed) bool {
	return func(p *placed) bool { return p.c.Layer == layer && p.c.Kind == kind }
}

func withZone(f func(*placed) bool, k zone.ZoneKind, approved bool, minWidth float64) func(*placed) bool {
	return func(p *placed) bool {
		if !f(p) {
			return false
		}
		z, ok := p.c.Zone(k)
		if !ok || z.Approved() != approved {
			return false
		}
		return approved || z.WidthM >= minWidth
	}
}

func inProvince(f func(*placed) bool, name string) func(*placed) bool {
	return func(p *placed) bool { return f(p) && p.prov.name == name }
}

// zoneReach is how far zone k reaches from t's centre along t's vertex i
// (the work's own radius when k is "").
func zoneReach(t *placed, i int, k zone.ZoneKind) float64 {
	r := 0.0
	if len(t.r) > 0 {
		r = t.r[i]
	}
	if k == "" {
		return r
	}
	z, _ := t.c.Zone(k)
	if z.Approved() {
		// Approved rings are the work's rays grown by a width: recover it.
		if len(t.r) > 0 {
			return distance(t.centre, z.Geometry.(orb.Polygon)[0][i])
		}
		return distance(t.centre, z.Geometry.(orb.Polygon)[0][0])
	}
	return r + z.WidthM
}

// vertex picks a random vertex index of t and its azimuth.
func (g *generator) vertex(t *placed) (int, float64) {
	if len(t.az) == 0 {
		return 0, g.between(0, 360)
	}
	i := g.rng.IntN(len(t.az))
	return i, t.az[i]
}

// straddle builds a polygon site of base radius siteR centred just outside
// the edge of zone k (or of the work itself), so that it crosses that edge.
func straddle(k zone.ZoneKind, siteMin, siteMax float64) func(*generator, *placed) orb.Geometry {
	return func(g *generator, t *placed) orb.Geometry {
		i, az := g.vertex(t)
		siteR := g.between(siteMin, siteMax)
		c := destination(t.centre, az, zoneReach(t, i, k)+0.3*siteR)
		return g.sitePolygon(c, siteR)
	}
}

// beyond builds a polygon site whose near edge is roughly gapM metres
// outside zone k (or the work itself).
func beyond(k zone.ZoneKind, gapMin, gapMax, siteMin, siteMax float64) func(*generator, *placed) orb.Geometry {
	return func(g *generator, t *placed) orb.Geometry {
		i, az := g.vertex(t)
		siteR := g.between(siteMin, siteMax)
		c := destination(t.centre, az, zoneReach(t, i, k)+g.between(gapMin, gapMax)+siteR)
		return g.sitePolygon(c, siteR)
	}
}

// pointBeyond builds a point site gapM metres outside the work.
func pointBeyond(gapMin, gapMax float64) func(*generator, *placed) orb.Geometry {
	return func(g *generator, t *placed) orb.Geometry {
		i, az := g.vertex(t)
		return destination(t.centre, az, zoneReach(t, i, "")+g.between(gapMin, gapMax))
	}
}

// sitePolygon is a star-shaped footprint whose vertices lie 85-100% of
// siteR from c, so its near edge is where the scenario puts it.
func (g *generator) sitePolygon(c orb.Point, siteR float64) orb.Polygon {
	az, r := g.star(c, 8+g.rng.IntN(7), siteR, siteR)
	for i := range r {
		r[i] = siteR * g.between(0.85, 1)
	}
	return orb.Polygon{radialRing(c, az, r, 0)}
}

// road builds a gently bending line of 4-6 vertices from start to end.
func (g *generator) road(start, end orb.Point) orb.LineString {
	n := 3 + g.rng.IntN(3)
	total := distance(start, end)
	ls := orb.LineString{start}
	for k := 1; k < n; k++ {
		t := float64(k) / float64(n)
		p := orb.Point{start[0] + t*(end[0]-start[0]), start[1] + t*(end[1]-start[1])}
		ls = append(ls, destination(p, azimuth(start, end)+90, g.between(-0.05, 0.05)*total))
	}
	return append(ls, end)
}

func (g *generator) scenarios() []scenario {
	combat := isKind(zone.LayerCombatBases, "combat_base")
	depot := isKind(zone.LayerDefenceWorks, zone.KindDepot)
	antenna := isKind(zone.LayerDefenceWorks, zone.KindAntennaField)
	hq := isKind(zone.LayerCommuneHQs, "commune_hq")
	artillery := func(p *placed) bool {
		return isKind(zone.LayerDefenceWorks, zone.KindArtilleryPosition)(p) && len(p.r) == 0
	}
	var out []scenario
	add := func(n int, sc scenario) {
		for i := 0; i < n; i++ {
			out = append(out, sc)
		}
	}
	// The one tied to a province first, before its targets are taken.
	add(1, scenario{site: "warehouse", expected: Review, reason: "safety belt of a depot",
		target: inProvince(depot, "Hải Phòng"), build: beyond(zone.RestrictedArea, 120, 250, 100, 150)})
	// Conflicts.
	add(2, scenario{site: "resort", expected: Conflict, reason: "approved restricted area of a combat base",
		target: withZone(combat, zone.RestrictedArea, true, 0), build: straddle(zone.RestrictedArea, 150, 250)})
	add(1, scenario{site: "urban", expected: Conflict, reason: "approved restricted area of a command post",
		target: withZone(isKind(zone.LayerDefenceWorks, zone.KindCommandPost), zone.RestrictedArea, true, 0), build: straddle(zone.RestrictedArea, 150, 300)})
	add(1, scenario{site: "garment", expected: Conflict, reason: "approved restricted area of a depot",
		target: withZone(depot, zone.RestrictedArea, true, 0), build: straddle(zone.RestrictedArea, 100, 200)})
	add(1, scenario{site: "residential", expected: Conflict, reason: "land of a military zone",
		target: isKind(zone.LayerDefenceWorks, zone.KindMilitaryZone), build: straddle("", 200, 350)})
	add(2, scenario{site: "quarry", expected: Conflict, reason: "blasting or mining inside the approved safety belt of a depot",
		target: withZone(depot, zone.SafetyBelt, true, 0), build: beyond(zone.RestrictedArea, 80, 200, 120, 220)})
	add(1, scenario{site: "wind", expected: Conflict, reason: "100 m or taller inside the approved safety belt of an antenna field",
		target: withZone(antenna, zone.SafetyBelt, true, 0), build: pointBeyond(150, 350)})
	add(1, scenario{site: "road", expected: Conflict, reason: "land of a border restricted zone", border: true,
		build: func(g *generator, _ *placed) orb.Geometry { return g.roadIntoRestrictedZone() }})
	add(1, scenario{site: "markerroad", expected: Conflict, reason: "touches a border marker", border: true,
		build: func(g *generator, _ *placed) orb.Geometry { return g.roadToMarker() }})
	// Reviews.
	add(2, scenario{site: "factory", expected: Review, reason: "safety belt of a depot",
		target: withZone(depot, zone.SafetyBelt, false, 500), build: beyond("", 280, 320, 100, 180)})
	add(1, scenario{site: "factory", expected: Review, reason: "approved safety belt of a depot",
		target: withZone(depot, zone.SafetyBelt, true, 0), build: beyond(zone.RestrictedArea, 100, 250, 80, 150)})
	add(1, scenario{site: "tea", expected: Review, reason: "approved protected area of a combat base",
		target: withZone(combat, zone.ProtectedArea, true, 0), build: beyond(zone.RestrictedArea, 60, 100, 60, 110)})
	add(1, scenario{site: "solar", expected: Review, reason: "approved protected area of a combat base",
		target: withZone(combat, zone.ProtectedArea, true, 0), build: beyond(zone.RestrictedArea, 60, 100, 60, 110)})
	add(1, scenario{site: "farm", expected: Review, reason: "provisional restricted area of an artillery position",
		target: artillery, build: beyond("", 8, 18, 60, 100)})
	add(2, scenario{site: "residential", expected: Review, reason: "provisional protected area of a commune hq",
		target: hq, build: beyond("", 45, 65, 50, 90)})
	add(1, scenario{site: "tower", expected: Review, reason: "provisional safety belt of an antenna field",
		target: withZone(antenna, zone.SafetyBelt, false, 500), build: pointBeyond(150, 400)})
	add(1, scenario{site: "solar", expected: Review, reason: "provisional safety belt of a shooting range",
		target: isKind(zone.LayerDefenceWorks, zone.KindShootingRange), build: beyond("", 300, 600, 150, 300)})
	add(3, scenario{site: "gate", expected: Review, reason: "inside the border belt", border: true,
		build: func(g *generator, _ *placed) orb.Geometry { return g.nearBorder() }})
	// Clear.
	for _, s := range []string{"road", "factory", "solar", "tea", "farm", "residential", "quarry", "wind", "port", "resort", "urban"} {
		add(1, scenario{site: s, expected: Clear, build: func(g *generator, _ *placed) orb.Geometry { return g.farAway(s) }})
	}
	return out
}

// placeSite tries a scenario until Assess agrees, then adds the site.
func (g *generator) placeSite(index int, sc scenario) error {
	kinds := siteKinds()
	sk := kinds[sc.site]
	all := append(append([]*zone.Component(nil), g.out...), g.borders...)
	var targets []*placed
	if sc.target != nil {
		for _, p := range g.placed {
			if !p.targeted && sc.target(p) {
				targets = append(targets, p)
			}
		}
		if len(targets) == 0 {
			return zone.Errorf(zone.CodeInternal, "demo: no target left for project scenario %d (%s, %s)", index, sc.site, sc.expected)
		}
	}
	for try := 0; try < 600; try++ {
		var t *placed
		if len(targets) > 0 {
			t = targets[g.rng.IntN(len(targets))]
		}
		geom := sc.build(g, t)
		if geom == nil || !g.siteOnLand(geom) {
			continue
		}
		prov := g.provinceOf(geom, t)
		name := fmt.Sprintf(sk.name, g.pick(prov.places))
		site := g.component(zone.LayerProjectSites, sk.kind, name, fmt.Sprintf("DA-%s-%03d", prov.abbr, index+1), zone.Public, geom, prov)
		acts := make([]any, 0, len(sk.activities))
		for _, a := range sk.activities {
			acts = append(acts, a)
		}
		height := sk.heightM
		if height > 0 && height < tallHeightM {
			height = math.Round(height * g.between(0.7, 1.3))
		}
		site.Properties[zone.PropInvestor] = g.pick(investors())
		site.Properties[zone.PropSector] = sk.sector
		site.Properties[zone.PropHeightM] = height
		site.Properties[zone.PropActivities] = acts
		site.Properties[zone.PropStatus] = "pending"
		a := Assess(site, all)
		if !a.Certain || a.Verdict != sc.expected {
			continue
		}
		reason := "at least 5 km from every defence component and 2 km from the border"
		if sc.expected != Clear {
			reason = ""
			for _, r := range a.Reasons {
				if strings.Contains(r, sc.reason) {
					reason = r
				}
			}
			if reason == "" {
				continue
			}
			if len(a.Reasons) > 1 {
				reason += fmt.Sprintf("; and %d more finding(s)", len(a.Reasons)-1)
			}
		}
		site.Properties[PropDemoExpected] = sc.expected
		site.Properties[PropDemoReason] = reason
		if err := g.add(site); err != nil {
			return err
		}
		if t != nil {
			t.targeted = true
		}
		return nil
	}
	return zone.Errorf(zone.CodeInternal, "demo: could not place project scenario %d (%s, %s)", index, sc.site, sc.expected)
}

// siteOnLand reports whether every vertex of a site is on land.
func (g *generator) siteOnLand(geom orb.Geometry) bool {
	switch s := geom.(type) {
	case orb.Point:
		return g.onLand(s)
	case orb.LineString:
		return g.allOnLand(s)
	case orb.Polygon:
		return g.allOnLand(s[0])
	}
	return false
}

// provinceOf names the province of a site: its target's, else the nearest.
func (g *generator) provinceOf(geom orb.Geometry, t *placed) *province {
	if t != nil {
		return t.prov
	}
	provs := provinces()
	c := geom.Bound().Center()
	best, bestD := &provs[0], math.Inf(1)
	for i := range provs {
		if d := distance(provs[i].centre, c); d < bestD {
			best, bestD = &provs[i], d
		}
	}
	return best
}

// nearBorder builds a border-gate polygon 150-700 m inside the border.
func (g *generator) nearBorder() orb.Geometry {
	cn := g.lines["CN"]
	at := g.between(20_000, LengthM(cn)-20_000)
	stretch := alongLine(cn, at, at+400, 200)
	if len(stretch) < 2 {
		return nil
	}
	siteR := g.between(120, 220)
	for _, side := range []float64{90, -90} {
		c := destination(stretch[0], azimuth(stretch[0], stretch[len(stretch)-1])+side, g.between(250, 550)+siteR)
		if !g.onLand(c) {
			continue
		}
		poly := g.sitePolygon(c, siteR)
		d := g.borderIdx.distanceWithin(poly, 2_000)
		if d >= 150 && d <= 700 {
			return poly
		}
	}
	return nil
}

// roadIntoRestrictedZone builds a road from 1.5-3 km inland ending inside a
// border restricted zone.
func (g *generator) roadIntoRestrictedZone() orb.Geometry {
	var zones []*zone.Component
	for _, l := range g.linear {
		if l.Kind == zone.KindBorderRestrictedZone {
			zones = append(zones, l)
		}
	}
	z := zones[g.rng.IntN(len(zones))]
	ring := z.Geometry.(orb.Polygon)[0]
	a, b := ring[g.rng.IntN(len(ring)-1)], ring[g.rng.IntN(len(ring)-1)]
	end := orb.Point{(a[0] + b[0]) / 2, (a[1] + b[1]) / 2}
	if !planar.PolygonContains(z.Geometry.(orb.Polygon), end) {
		return nil
	}
	start := destination(end, g.between(0, 360), g.between(1_500, 3_000))
	if !math.IsInf(g.borderIdx.distanceWithin(start, 1_000), 1) {
		return nil
	}
	road := g.road(start, end)
	if d := g.borderIdx.distanceWithin(road, 100); d < 20 {
		return nil
	}
	return road
}

// roadToMarker builds a road from 1.5-3 km inland to a border marker.
func (g *generator) roadToMarker() orb.Geometry {
	var markers []*zone.Component
	for _, c := range g.out {
		if c.Layer == zone.LayerBorderMarkers {
			markers = append(markers, c)
		}
	}
	m := markers[g.rng.IntN(len(markers))].Geometry.(orb.Point)
	start := destination(m, g.between(0, 360), g.between(1_500, 3_000))
	if !math.IsInf(g.borderIdx.distanceWithin(start, 800), 1) {
		return nil
	}
	road := g.road(start, m)
	// Only the end touches the border: the rest stays 50 m inside.
	if d := g.borderIdx.distanceWithin(road[:len(road)-1], 100); d < 50 {
		return nil
	}
	return road
}

// farAway builds a site anywhere in the demo provinces; Assess keeps only
// those far from everything.
func (g *generator) farAway(site string) orb.Geometry {
	provs := provinces()
	prov := provs[g.rng.IntN(len(provs))]
	if site == "port" { // a port belongs on the coast of Hải Phòng
		prov = provs[len(provs)-1]
	}
	c := destination(prov.centre, g.between(0, 360), (prov.radiusM+15_000)*math.Sqrt(g.rng.Float64()))
	switch site {
	case "road":
		return g.road(c, destination(c, g.between(0, 360), g.between(2_000, 4_000)))
	case "wind":
		return c
	}
	return g.sitePolygon(c, g.between(150, 400))
}
