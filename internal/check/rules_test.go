package check

import (
	"fmt"
	"math"
	"testing"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// The hand-built cases put a component's nearest point (or its zone's
// nearest edge) at origin O, everything of it west of O, and place
// footprints due east of O at known geodesic distances.
var origin = orb.Point{105.85, 21.03}

var cleared = zone.Principal{Name: "tester", Role: zone.RoleAppraiser, Clearance: zone.Secret}

// testGeometry returns a geometry of the layer whose easternmost point is o:
// a point, a chevron line opening west, or a diamond polygon.
func testGeometry(layer string, o orb.Point) orb.Geometry {
	l, _ := zone.LookupLayer(layer)
	switch l.Geometries[0] {
	case zone.GeomPoint:
		if len(l.Geometries) > 1 { // point or polygon layers: use a polygon
			return diamondWestOf(o, 40)
		}
		return o
	case zone.GeomLine:
		return orb.LineString{move(o, 315, 2000), o, move(o, 225, 2000)}
	}
	return diamondWestOf(o, 40)
}

// diamondWestOf is a diamond of half-diagonal a whose east vertex is o.
func diamondWestOf(o orb.Point, a float64) orb.Polygon {
	c := move(o, 270, a)
	return orb.Polygon{{o, move(c, 0, a), move(c, 270, a), move(c, 180, a), o}}
}

// zoneBox is an approved zone polygon whose east edge is the meridian
// through e (e itself a vertex), reaching far west to hold the component.
func zoneBox(e orb.Point, west float64) orb.Polygon {
	ne, se := move(e, 0, 300), move(e, 180, 300)
	return orb.Polygon{{e, ne, move(ne, 270, west), move(se, 270, west), se, e}}
}

func componentFor(r *rules.Rule) *zone.Component {
	layer := r.AppliesTo.Layers[0]
	l, _ := zone.LookupLayer(layer)
	kind := l.DefaultKind()
	if len(r.AppliesTo.Kinds) > 0 {
		kind = r.AppliesTo.Kinds[0]
	}
	c := newComponent(layer, kind, testGeometry(layer, origin))
	if len(r.AppliesTo.FunctionTypes) > 0 {
		c.FunctionType = r.AppliesTo.FunctionTypes[0]
	}
	if len(r.AppliesTo.Groups) > 0 {
		c.Group = r.AppliesTo.Groups[0]
	}
	return c
}

// ruleFinding runs a check and returns the finding of rule id (nil if none).
func ruleFinding(t *testing.T, e *Engine, src Source, fp Footprint, id string) (*Finding, Result) {
	t.Helper()
	res := e.Check(src, fp, cleared)
	var found *Finding
	for i := range res.Findings {
		if res.Findings[i].Rule == id {
			if found != nil {
				t.Fatalf("rule %s matched twice: %+v", id, res.Findings)
			}
			found = &res.Findings[i]
		}
	}
	return found, res
}

type ruleCase struct {
	name       string
	fp         Footprint
	verdict    rules.Verdict // "" for no finding
	tolerance  bool
	distanceM  float64 // expected distance to the component; NaN: do not compare
	overlapMin float64 // expected overlap area range, m²
	overlapMax float64
}

// zoneVariant is one way a rule's zone is drawn: its edge at distance edge
// east of O (0 for the component itself), provisional or approved.
type zoneVariant struct {
	name        string
	comp        *zone.Component
	edge        float64 // distance from O to the zone edge along the east
	provisional bool
}

func variants(rs *rules.RuleSet, r *rules.Rule) []zoneVariant {
	switch r.Zone {
	case rules.TestComponent:
		return []zoneVariant{{"component", componentFor(r), 0, false}}
	case rules.TestDistance, rules.TestBorderBelt:
		return []zoneVariant{{"distance", componentFor(r), r.DistanceM, false}}
	}
	var vs []zoneVariant
	kind := zone.ZoneKind(r.Zone)
	// approved polygon 150 m out
	ap := componentFor(r)
	ap.Zones = []zone.ProtectionZone{{Kind: kind, Geometry: zoneBox(move(origin, 90, 150), 600), Decision: "QĐ-TEST", DecisionDate: "2025-01-01"}}
	vs = append(vs, zoneVariant{"approved", ap, 150, false})
	// the component's own provisional width
	own := componentFor(r)
	own.Zones = []zone.ProtectionZone{{Kind: kind, WidthM: 120}}
	vs = append(vs, zoneVariant{"own width", own, 120, true})
	if r.DistanceM > 0 {
		vs = append(vs, zoneVariant{"rule width", componentFor(r), r.DistanceM, true})
	}
	return vs
}

func TestEveryDefaultRule(t *testing.T) {
	rs := rules.Default()
	e := New(rs)
	for i := range rs.Rules {
		r := &rs.Rules[i]
		for _, v := range variants(rs, r) {
			src := newTreeSource(v.comp)
			tol := rs.Tolerance(r)
			if r.Verdict == rules.Notice {
				tol = 0
			}
			want := r.Verdict
			if v.provisional {
				want = want.AtMost(rules.Review)
			}
			edgePt := move(origin, 90, v.edge)
			// inside: a 20 m square clearly within the zone (for the
			// component itself: over its east vertex).
			insideC := move(origin, 90, v.edge/2)
			insideArea := [2]float64{399, 401}
			if v.edge < 40 {
				insideC = origin
				insideArea = [2]float64{0, 401}
				if zone.ClassOf(v.comp.Geometry) == zone.GeomPolygon {
					insideArea = [2]float64{99, 101} // a quarter of the square... the diamond's tip
				}
			}
			// comp distance: 0 for the component's own zone
			cases := []ruleCase{
				{"inside", Footprint{Geometry: square(insideC, 20)}, want, false, math.NaN(), insideArea[0], insideArea[1]},
				{"exactly on the edge", Footprint{Geometry: edgePt}, want, false, v.edge, 0, 0},
				{"outside by 1 m", Footprint{Geometry: move(edgePt, 90, 1)}, "", false, v.edge + 1, 0, 0},
				{"outside by tolerance + 1 m", Footprint{Geometry: move(edgePt, 90, tol+1)}, "", false, math.NaN(), 0, 0},
				{"across the edge", Footprint{Geometry: square(edgePt, 20)}, want, false, math.NaN(), 0, 401},
			}
			if tol > 0 {
				cases[2].verdict, cases[2].tolerance = rules.Notice, true
			}
			if v.edge >= 40 {
				cases[4].overlapMin, cases[4].overlapMax = 150, 201
				if !v.provisional && r.Zone.ProtectionZone() {
					cases[4].overlapMin = 199 // a straight edge halves the square
				}
			}
			for j, esc := range r.Escalate {
				fp := Footprint{Geometry: square(insideC, 20)}
				if esc.HeightAboveM > 0 {
					fp.HeightM = esc.HeightAboveM + 1
				} else {
					fp.Activities = []string{esc.Activities[0]}
				}
				w := esc.To
				if v.provisional {
					w = w.AtMost(rules.Review)
				}
				cases = append(cases, ruleCase{fmt.Sprintf("escalation %d", j), fp, w, false, math.NaN(), insideArea[0], insideArea[1]})
				// at the threshold itself, no escalation
				if esc.HeightAboveM > 0 {
					fp2 := Footprint{Geometry: square(insideC, 20), HeightM: esc.HeightAboveM}
					cases = append(cases, ruleCase{fmt.Sprintf("escalation %d at threshold", j), fp2, want, false, math.NaN(), insideArea[0], insideArea[1]})
				}
			}
			for _, tc := range cases {
				t.Run(r.ID+"/"+v.name+"/"+tc.name, func(t *testing.T) {
					f, res := ruleFinding(t, e, src, tc.fp, r.ID)
					if tc.verdict == "" {
						if f != nil {
							t.Fatalf("unexpected finding %+v", *f)
						}
						return
					}
					if f == nil {
						t.Fatalf("no finding of rule %s; got %+v", r.ID, res.Findings)
					}
					if f.Verdict != tc.verdict || f.EdgeTolerance != tc.tolerance || f.Provisional != (v.provisional && !tc.tolerance || v.provisional && tc.tolerance) {
						t.Fatalf("verdict %s tolerance %v provisional %v, want %s %v %v", f.Verdict, f.EdgeTolerance, f.Provisional, tc.verdict, tc.tolerance, v.provisional)
					}
					if f.Basis == "" || f.Message == "" || f.MessageVI == "" || f.Component.ID != v.comp.ID.String() {
						t.Fatalf("finding lacks basis, messages or component: %+v", *f)
					}
					if !math.IsNaN(tc.distanceM) && math.Abs(*f.DistanceM-tc.distanceM) > 0.01 {
						t.Fatalf("distance %v, want %v", *f.DistanceM, tc.distanceM)
					}
					if a := *f.OverlapAreaM2; a < tc.overlapMin || a > tc.overlapMax {
						t.Fatalf("overlap area %v, want %v..%v", a, tc.overlapMin, tc.overlapMax)
					}
					if tc.tolerance && f.Overlap != nil {
						t.Fatalf("a tolerance notice has an overlap")
					}
					if res.Verdict.Rank() < tc.verdict.Rank() && tc.verdict != rules.Notice {
						t.Fatalf("check verdict %s below finding %s", res.Verdict, tc.verdict)
					}
				})
			}
		}
	}
}

// A footprint across the restricted area and the protected area of a
// work with approved zones gets both, and the worse verdict.
func TestAcrossTwoApprovedZones(t *testing.T) {
	rs := rules.Default()
	e := New(rs)
	c := newComponent(zone.LayerDefenceWorks, zone.KindCommandPost, diamondWestOf(origin, 40))
	c.Zones = []zone.ProtectionZone{
		{Kind: zone.RestrictedArea, Geometry: zoneBox(move(origin, 90, 50), 400), Decision: "QĐ-1"},
		{Kind: zone.ProtectedArea, Geometry: zoneBox(move(origin, 90, 250), 800), Decision: "QĐ-2"},
	}
	src := newTreeSource(c)
	res := e.Check(src, Footprint{Geometry: square(move(origin, 90, 50), 20)}, cleared)
	if res.Verdict != rules.Conflict {
		t.Fatalf("verdict %s, want conflict: %+v", res.Verdict, res.Findings)
	}
	got := map[string]Finding{}
	for _, f := range res.Findings {
		got[f.Rule] = f
	}
	ra, pa := got["restricted-area"], got["protected-area"]
	if ra.Verdict != rules.Conflict || pa.Verdict != rules.Review {
		t.Fatalf("restricted %s, protected %s; findings %+v", ra.Verdict, pa.Verdict, res.Findings)
	}
	if a := *ra.OverlapAreaM2; math.Abs(a-200) > 1 {
		t.Fatalf("restricted overlap %v m², want 200", a)
	}
	if a := *pa.OverlapAreaM2; math.Abs(a-400) > 1 {
		t.Fatalf("protected overlap %v m², want 400", a)
	}
	if math.Abs(res.Footprint.AreaM2-400) > 0.5 || math.Abs(res.Footprint.LengthM-80) > 0.1 {
		t.Fatalf("footprint stats %+v", res.Footprint)
	}
	// ordered by severity, then distance
	if res.Findings[0].Verdict != rules.Conflict {
		t.Fatalf("first finding %+v", res.Findings[0])
	}
	for i := 1; i < len(res.Findings); i++ {
		a, b := res.Findings[i-1], res.Findings[i]
		if a.Verdict.Rank() < b.Verdict.Rank() || (a.Verdict == b.Verdict && *a.DistanceM > *b.DistanceM) {
			t.Fatalf("findings out of order at %d: %+v", i, res.Findings)
		}
	}
	// the command post's 500 m distance rule also applies, at 40 m
	if f := got["command-post-distance"]; f.Verdict != rules.Review || math.Abs(*f.DistanceM-40) > 0.05 {
		t.Fatalf("command-post-distance %+v", f)
	}
}

// A provisional restricted area gives at most review even for a blasting
// project; the approved one gives conflict.
func TestProvisionalWidthIsAtMostReview(t *testing.T) {
	e := New(rules.Default())
	prov := newComponent(zone.LayerDefenceWorks, zone.KindDepot, orb.Point(origin))
	fp := Footprint{Geometry: square(move(origin, 90, 20), 10), Activities: []string{zone.ActivityBlasting}}
	res := e.Check(newTreeSource(prov), fp, cleared)
	for _, f := range res.Findings {
		if f.Provisional && f.Verdict == rules.Conflict {
			t.Fatalf("provisional finding is a conflict: %+v", f)
		}
	}
	if res.Verdict != rules.Review {
		t.Fatalf("verdict %s, want review (no approved zone, the footprint is off the depot)", res.Verdict)
	}
}

func TestBorderBeltPerProvince(t *testing.T) {
	doc := `version: "p1"
edge_tolerance_m: 0
contact: {vi: "Liên hệ", en: "Contact"}
rules:
  - id: belt
    applies_to: {layers: [border_lines]}
    zone: border_belt
    distance_m: 1000
    distance_by_province: {"Lạng Sơn": 500}
    verdict: review
    basis: "Decree 34/2014/ND-CP"
    message: {vi: "vành đai", en: "belt"}
`
	rs, err := rules.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	e := New(rs)
	line := testGeometry(zone.LayerBorderLines, origin)
	ls := newComponent(zone.LayerBorderLines, "land_border", line)
	ls.Properties = map[string]any{"province": "Lạng Sơn"}
	cb := newComponent(zone.LayerBorderLines, "land_border", line)
	cb.Properties = map[string]any{"province": "Cao Bằng"}
	fp := Footprint{Geometry: move(origin, 90, 700)}
	if res := e.Check(newTreeSource(ls), fp, cleared); res.Verdict != rules.Clear {
		t.Fatalf("Lạng Sơn (500 m belt) at 700 m: %s", res.Verdict)
	}
	if res := e.Check(newTreeSource(cb), fp, cleared); res.Verdict != rules.Review {
		t.Fatalf("Cao Bằng (1000 m belt) at 700 m: %s", res.Verdict)
	}
}

// Far from everything: clear, no findings, versions recorded.
func TestClearFarAway(t *testing.T) {
	rs := rules.Default()
	e := New(rs)
	c := newComponent(zone.LayerCombatBases, "combat_base", diamondWestOf(origin, 40))
	src := newTreeSource(c)
	src.version = 42
	res := e.Check(src, Footprint{Geometry: square(move(origin, 90, 3000), 100)}, cleared)
	if res.Verdict != rules.Clear || len(res.Findings) != 0 || res.RulesetVersion != rs.Version || res.DataVersion != 42 {
		t.Fatalf("%+v", res)
	}
}
