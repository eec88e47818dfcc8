package check

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// A secret depot and a public commune HQ near one footprint. The cleared
// caller gets the conflict with the depot; the uncleared caller gets the
// HQ's findings in full, one referral in place of the depot (review, never
// conflict), and nothing of the depot: no id, name, kind, layer,
// coordinates, distance, band, overlap or count.
func TestRedactionLeaksNothing(t *testing.T) {
	e := New(rules.Default())
	depot := newComponent(zone.LayerDefenceWorks, zone.KindDepot, diamondWestOf(origin, 40))
	depot.Name = "Kho K-77 bí mật"
	depot.Classification = zone.Secret
	depot.Zones = []zone.ProtectionZone{{Kind: zone.RestrictedArea, Geometry: zoneBox(move(origin, 90, 60), 400), Decision: "QĐ-77"}}
	hqAt := move(origin, 45, 120)
	hq := newComponent(zone.LayerCommuneHQs, "commune_hq", hqAt)
	hq.Name = "Ban CHQS xã Tân Thanh"
	src := newTreeSource(depot, hq)
	fp := Footprint{Geometry: square(move(origin, 90, 55), 30), Activities: []string{zone.ActivityBlasting}}

	public := zone.Principal{Name: "planner", Role: zone.RoleAppraiser, Clearance: zone.Public}
	full := e.Check(src, fp, cleared)
	red := e.Check(src, fp, public)
	if full.Verdict != rules.Conflict {
		t.Fatalf("cleared verdict %s, want conflict", full.Verdict)
	}
	if red.Verdict != rules.Review {
		t.Fatalf("uncleared verdict %s, want review (a referral, never conflict from a hidden work)", red.Verdict)
	}
	fullJSON, _ := json.Marshal(full)
	redJSON, _ := json.Marshal(red)
	// Everything the cleared caller learns about the depot must be absent.
	secrets := []string{depot.ID.String(), depot.Name, `"depot"`, "QĐ-77"}
	for _, f := range full.Findings {
		if f.Component.ID != depot.ID.String() {
			continue
		}
		secrets = append(secrets, fmt.Sprintf(`"distance_m":%v`, *f.DistanceM), f.Band)
		if f.Overlap != nil {
			b, _ := json.Marshal(f.Overlap)
			secrets = append(secrets, string(b))
		}
	}
	// and every coordinate of the depot and its zone, as JSON writes them
	for _, g := range []orb.Geometry{depot.Geometry, depot.Zones[0].Geometry} {
		b, _ := json.Marshal(g.(orb.Polygon)[0])
		for _, p := range strings.Split(strings.Trim(string(b), "[]"), "],[") {
			secrets = append(secrets, p)
		}
	}
	// The test must be able to fail: the cleared caller does see these.
	for _, s := range secrets[:3] {
		if !strings.Contains(string(fullJSON), s) {
			t.Fatalf("the cleared result lacks %q: %s", s, fullJSON)
		}
	}
	for _, s := range secrets {
		if strings.Contains(string(redJSON), s) {
			t.Errorf("the uncleared result leaks %q:\n%s", s, redJSON)
		}
	}
	// One referral, saying whom to ask and nothing else.
	var referrals int
	for _, f := range red.Findings {
		if !f.Component.Redacted {
			if f.Component.ID != hq.ID.String() {
				t.Errorf("visible finding of an unknown component: %+v", f)
			}
			continue
		}
		referrals++
		if !f.Referral() || f.Verdict != rules.Review || f.Zone != rules.ZoneConsultation || f.Contact == nil || f.Contact.EN == "" ||
			f.Band != "" || f.DistanceM != nil || f.OverlapAreaM2 != nil || f.Overlap != nil || f.EscalatedFrom != "" ||
			f.Component.ID != "" || f.Component.Layer != "" || f.Component.Kind != "" || f.Component.Name != "" {
			t.Errorf("the referral carries detail or lacks its contact: %+v", f)
		}
		if f.Basis == "" || f.Message == "" || f.MessageVI == "" {
			t.Errorf("the referral has no basis or message: %+v", f)
		}
	}
	if referrals != 1 {
		t.Fatalf("%d referrals, want exactly 1: %s", referrals, redJSON)
	}
	// the public HQ stays in full for both callers
	if !strings.Contains(string(redJSON), hq.ID.String()) || !strings.Contains(string(redJSON), hq.Name) {
		t.Fatalf("the public commune HQ is missing from the uncleared result")
	}
	// Several hidden works around one footprint still make one referral.
	depot2 := newComponent(zone.LayerDefenceWorks, zone.KindDepot, diamondWestOf(move(origin, 180, 200), 40))
	depot2.Classification = zone.Restricted
	base := newComponent(zone.LayerCombatBases, "combat_base", move(origin, 0, 150))
	base.Classification = zone.Internal
	many := e.Check(newTreeSource(depot, depot2, base, hq), fp, public)
	n := 0
	for _, f := range many.Findings {
		if f.Referral() {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("three hidden works give %d referrals, want 1", n)
	}
}

func TestFeatureCollectionResult(t *testing.T) {
	e := New(rules.Default())
	hq := newComponent(zone.LayerCommuneHQs, "commune_hq", orb.Point(origin))
	src := newTreeSource(hq)
	body := fmt.Sprintf(`{"type":"FeatureCollection","features":[
	 {"type":"Feature","properties":{"height_m":40},"geometry":{"type":"Point","coordinates":[%v,%v]}},
	 {"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[%v,%v]}},
	 {"type":"Feature","properties":{},"geometry":{"type":"LineString","coordinates":[[%v,%v],[%v,%v]]}}]}`,
		move(origin, 90, 50)[0], move(origin, 90, 50)[1],
		move(origin, 90, 5000)[0], move(origin, 90, 5000)[1],
		move(origin, 0, 80)[0], move(origin, 0, 80)[1], move(origin, 0, 500)[0], move(origin, 0, 500)[1])
	fps, err := ParseFootprints([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if !Collection(fps) || len(fps) != 3 || fps[0].HeightM != 40 {
		t.Fatalf("parsed %+v", fps)
	}
	res := e.CheckAll(src, fps, cleared)
	if len(res.Features) != 3 {
		t.Fatalf("features %+v", res.Features)
	}
	want := []rules.Verdict{rules.Conflict, rules.Clear, rules.Review}
	for i, f := range res.Features {
		if f.Index != i || f.Verdict != want[i] {
			t.Errorf("feature %d: index %d verdict %s, want %s", i, f.Index, f.Verdict, want[i])
		}
	}
	if res.Verdict != rules.Conflict || len(res.Findings) != 1 || math.Abs(*res.Findings[0].DistanceM-50) > 0.01 {
		t.Fatalf("overall %s %+v", res.Verdict, res.Findings)
	}
	if math.Abs(res.Features[2].Footprint.LengthM-420) > 0.01 || res.Footprint.LengthM != res.Features[2].Footprint.LengthM {
		t.Fatalf("lengths %+v %+v", res.Features[2].Footprint, res.Footprint)
	}
	b, _ := json.Marshal(res)
	for _, k := range []string{`"verdict"`, `"ruleset_version"`, `"data_version"`, `"footprint":{"area_m2"`, `"length_m"`, `"took_ms"`, `"findings"`, `"features":[{"index":0`, `"rule":"commune-hq-distance"`, `"zone":"distance"`, `"basis"`, `"message"`, `"component":{"id"`, `"distance_m"`, `"overlap_area_m2"`, `"overlap"`} {
		if !strings.Contains(string(b), k) {
			t.Errorf("result JSON lacks %s: %s", k, b)
		}
	}
}

func TestParseFootprintsErrors(t *testing.T) {
	cases := []struct {
		name, body string
		index      int
		pointer    string
		reason     string
	}{
		{"self-intersection", `{"type":"Polygon","coordinates":[[[105,21],[105.01,21.01],[105.01,21],[105,21.01],[105,21]]]}`, -1, "coordinates[0]", "intersects itself"},
		{"unclosed ring", `{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[105,21],[105.01,21],[105.01,21.01],[105,21.01]]]},"properties":{}}`, -1, "geometry.coordinates[0]", "not closed"},
		{"too few points", `{"type":"LineString","coordinates":[[105,21]]}`, -1, "coordinates", "at least 2 points"},
		{"out of range", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[105,21]}},{"type":"Feature","geometry":{"type":"LineString","coordinates":[[105,21],[500000,2300000]]}}]}`, 1, "geometry.coordinates[1]", "outside longitude"},
		{"unknown type", `{"type":"Circle","coordinates":[105,21]}`, -1, "type", `"Circle" is not supported`},
		{"geometry collection", `{"type":"GeometryCollection","geometries":[]}`, -1, "type", "not supported"},
		{"empty geometry", `{"type":"MultiPolygon","coordinates":[]}`, -1, "coordinates", "empty"},
		{"no geometry", `{"type":"Feature","geometry":null,"properties":{}}`, -1, "geometry", "no geometry"},
		{"bad height", `{"type":"Feature","geometry":{"type":"Point","coordinates":[105,21]},"properties":{"height_m":"tall"}}`, -1, "properties.height_m", "number"},
		{"bad activity", `{"type":"Feature","geometry":{"type":"Point","coordinates":[105,21]},"properties":{"activities":["blasting","juggling"]}}`, -1, "properties.activities[1]", "juggling"},
		{"number overflow", `{"type":"Point","coordinates":[1e400,21]}`, -1, "coordinates", "cannot unmarshal number"},
		{"not json", `hello`, -1, "", "not a GeoJSON object"},
		{"empty body", ``, -1, "", "empty"},
		{"empty collection", `{"type":"FeatureCollection","features":[]}`, -1, "features", "no features"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFootprints([]byte(tc.body))
			if zone.ErrorCode(err) != zone.CodeInvalid {
				t.Fatalf("err %v, want invalid", err)
			}
			for _, d := range zone.ErrorDetails(err) {
				if d.Index == tc.index && d.Pointer == tc.pointer && strings.Contains(d.Reason, tc.reason) {
					return
				}
			}
			t.Fatalf("no detail {%d %q ~%q} in %+v", tc.index, tc.pointer, tc.reason, zone.ErrorDetails(err))
		})
	}
	// too many vertices
	var sb strings.Builder
	sb.WriteString(`{"type":"LineString","coordinates":[`)
	for i := 0; i <= zone.MaxVertices; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "[%v,21]", 100+float64(i)*1e-5)
	}
	sb.WriteString("]}")
	_, err := ParseFootprints([]byte(sb.String()))
	if d := zone.ErrorDetails(err); len(d) == 0 || !strings.Contains(d[0].Reason, "vertices") {
		t.Fatalf("100,001 vertices: %v", err)
	}
	// a good Feature keeps its attributes
	fps, err := ParseFootprints([]byte(`{"type":"Feature","geometry":{"type":"Point","coordinates":[105,21]},"properties":{"height_m":12.5,"activities":["mining"],"sector":"energy"}}`))
	if err != nil || Collection(fps) || fps[0].HeightM != 12.5 || fps[0].Activities[0] != "mining" || fps[0].Sector != "energy" {
		t.Fatalf("good feature: %+v %v", fps, err)
	}
}
