package demo

import (
	"fmt"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// markers places synthetic border markers on the real border line: every
// 11 km along the border with China, and every 12 km along the northern
// 200 km of the border with Laos (Điện Biên). A marker sits exactly on the
// line; its number is synthetic.
func (g *generator) markers() error {
	provs := provinces()
	cn := g.lines["CN"]
	total := LengthM(cn)
	for k, at := 0, 3_000.0; at < total-1_000; k, at = k+1, at+11_000 {
		p := pointAlong(cn, at)
		prov := nearestProvince(provs, p)
		num := 2 + 14*k
		c := g.component(zone.LayerBorderMarkers, "border_marker",
			fmt.Sprintf("Mốc quốc giới Việt Nam – Trung Quốc số %d", num), fmt.Sprintf("CN-%04d", num), zone.Public, p, prov)
		c.Properties[PropNeighbour] = "CN"
		if err := g.add(c); err != nil {
			return err
		}
	}
	// The line with Laos runs from Cambodia north to China: its northern
	// part is its end.
	la := g.lines["LA"]
	laLen := LengthM(la)
	for k, back := 0, 4_000.0; back < 200_000; k, back = k+1, back+12_000 {
		p := pointAlong(la, laLen-back)
		num := 1 + 9*k
		c := g.component(zone.LayerBorderMarkers, "border_marker",
			fmt.Sprintf("Mốc quốc giới Việt Nam – Lào số %d", num), fmt.Sprintf("LA-%04d", num), zone.Public, p, nearestProvince(provs, p))
		c.Properties[PropNeighbour] = "LA"
		if err := g.add(c); err != nil {
			return err
		}
	}
	return nil
}

// borderStretch draws an unused stretch of lengthM metres of the border with
// nb whose middle is nearest to prov, and reserves it.
func (g *generator) borderStretch(nb string, prov *province, lengthM float64) (from, to float64, ok bool) {
	ls := g.lines[nb]
	total := LengthM(ls)
	provs := provinces()
	for try := 0; try < 400; try++ {
		from = g.between(2_000, total-lengthM-2_000)
		to = from + lengthM
		if nb == "LA" && from < total-220_000 { // Điện Biên's stretch only
			continue
		}
		mid := pointAlong(ls, (from+to)/2)
		if np := nearestProvince(provs, mid); np == nil || np.name != prov.name {
			continue
		}
		if g.reserve(nb, from, to, 1_500) {
			return from, to, true
		}
	}
	return 0, 0, false
}

// patrolRoutes lays three patrol routes per border province: stretches of
// 8-20 km of the border offset 300-2,000 m into Vietnam.
func (g *generator) patrolRoutes() error {
	provs := provinces()
	for i := range provs {
		prov := &provs[i]
		if !prov.border {
			continue
		}
		for n := 0; n < 3; n++ {
			nb := prov.neighbour
			var route orb.LineString
			for try := 0; try < 50 && route == nil; try++ {
				from, to, ok := g.borderStretch(nb, prov, g.between(8_000, 20_000))
				if !ok {
					return zone.Errorf(zone.CodeInternal, "demo: no free border stretch for a patrol route in %s", prov.name)
				}
				r := g.inward(alongLine(g.lines[nb], from, to, 500), g.between(300, 2_000))
				if len(r) >= 6 && LengthM(r) >= 3_000 {
					route = r
				}
			}
			if route == nil {
				return zone.Errorf(zone.CodeInternal, "demo: could not lay a patrol route in %s", prov.name)
			}
			num := g.next("patrol:" + prov.abbr)
			cls := zone.Internal
			if n == 2 {
				cls = zone.Restricted
			}
			c := g.component(zone.LayerPatrolRoutes, "patrol_route",
				fmt.Sprintf("Đường tuần tra biên giới khu vực %s, đoạn %d", g.pick(prov.places), num),
				fmt.Sprintf("TT-%s-%02d", prov.abbr, num), cls, route, prov)
			c.Properties[PropNeighbour] = nb
			if err := g.add(c); err != nil {
				return err
			}
			g.linear = append(g.linear, c)
		}
	}
	return nil
}

// borderRestrictedZones declares one border restricted zone per border
// province: the land between a 3-6 km stretch of the border and its offset
// 600-1,000 m inland.
func (g *generator) borderRestrictedZones() error {
	provs := provinces()
	for i := range provs {
		prov := &provs[i]
		if !prov.border {
			continue
		}
		var poly orb.Polygon
		for try := 0; try < 60 && poly == nil; try++ {
			from, to, ok := g.borderStretch(prov.neighbour, prov, g.between(3_000, 6_000))
			if !ok {
				return zone.Errorf(zone.CodeInternal, "demo: no free border stretch for a restricted zone in %s", prov.name)
			}
			edge := alongLine(g.lines[prov.neighbour], from, to, 300)
			inner := g.inward(edge, g.between(600, 1_000))
			if len(inner) < 4 {
				continue
			}
			ring := append(orb.Ring(nil), edge...)
			for j := len(inner) - 1; j >= 0; j-- {
				ring = append(ring, inner[j])
			}
			ring = append(ring, ring[0])
			if signedArea(ring) < 0 {
				ring.Reverse()
			}
			cand := orb.Round(orb.Polygon{ring}, roundFactor).(orb.Polygon)
			if len(zone.ValidateGeometry(cand)) == 0 {
				poly = cand
			}
		}
		if poly == nil {
			return zone.Errorf(zone.CodeInternal, "demo: could not draw a border restricted zone in %s", prov.name)
		}
		num := g.next("brz")
		c := g.component(zone.LayerDefenceWorks, zone.KindBorderRestrictedZone,
			fmt.Sprintf("Vùng cấm biên giới khu vực %s", g.pick(prov.places)),
			fmt.Sprintf("VCBG-%s-%02d", prov.abbr, num), zone.Public, poly, prov)
		if err := g.add(c); err != nil {
			return err
		}
		g.linear = append(g.linear, c)
	}
	return nil
}

// signedArea is the ring's signed area in square metres in a local metric
// frame (x east, y north), positive when counter-clockwise.
func signedArea(r orb.Ring) float64 {
	f := localFrame{origin: r.Bound().Center()}
	var s float64
	prev := f.project(r[0])
	for i := 1; i < len(r); i++ {
		p := f.project(r[i])
		s += prev[0]*p[1] - p[0]*prev[1]
		prev = p
	}
	return s / 2
}
