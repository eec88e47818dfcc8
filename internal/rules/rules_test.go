package rules

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/zoneplan/zoneplan/data"
	"github.com/zoneplan/zoneplan/internal/zone"
)

func TestDefaultRuleSetIsValid(t *testing.T) {
	rs, err := Parse(data.DefaultRules())
	if err != nil {
		t.Fatalf("default rule set: %v\n%v", err, zone.ErrorDetails(err))
	}
	if rs.Version == "" || len(rs.Rules) < 10 {
		t.Fatalf("default rule set: version %q, %d rules", rs.Version, len(rs.Rules))
	}
	// Every rule names its legal basis and both messages (validated), and
	// the set covers each defence layer.
	covered := map[string]bool{}
	for _, r := range rs.Rules {
		for _, l := range r.AppliesTo.Layers {
			covered[l] = true
		}
	}
	for _, l := range zone.Layers() {
		if l.DefenceWork && !covered[l.ID] {
			t.Errorf("no default rule applies to layer %s", l.ID)
		}
	}
	if got := rs.MaxDistanceM(); got != 2000 {
		t.Errorf("MaxDistanceM = %v, want 2000 (the border-area notice, no tolerance)", got)
	}
	if Default().Version != rs.Version {
		t.Errorf("Default() differs from parsing the embedded file")
	}
}

func TestParseJSONRuleSet(t *testing.T) {
	doc := `{"version": "j1", "edge_tolerance_m": 0, "contact": {"vi": "Liên hệ", "en": "Contact"},
	  "rules": [{"id": "hq", "applies_to": {"layers": ["commune_hqs"]}, "zone": "distance", "distance_m": 100,
	  "verdict": "review", "basis": "Decree 164/2018/ND-CP", "message": {"vi": "gần", "en": "near"}}]}`
	rs, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse JSON: %v %v", err, zone.ErrorDetails(err))
	}
	if rs.Version != "j1" || rs.Rules[0].DistanceM != 100 || rs.MaxDistanceM() != 100 {
		t.Fatalf("parsed %+v", rs)
	}
}

// badCases each break one thing; the error must name the rule index, the
// field and the line.
func TestParseRejectsBadRuleSets(t *testing.T) {
	base := func(rule string) string {
		return `version: "t1"
edge_tolerance_m: 10
tolerance_basis: "survey"
tolerance_message: {vi: "gần ranh giới", en: "near the edge"}
contact: {vi: "Liên hệ", en: "Contact"}
rules:
  - id: ok
    applies_to: {layers: [commune_hqs]}
    zone: distance
    distance_m: 100
    verdict: review
    basis: "Decree 164/2018/ND-CP"
    message: {vi: "gần", en: "near"}
` + rule
	}
	cases := []struct {
		name, doc string
		index     int
		pointer   string
		reason    string
	}{
		{"negative distance", base(`  - id: bad
    applies_to: {layers: [commune_hqs]}
    zone: distance
    distance_m: -5
    verdict: review
    basis: "x"
    message: {vi: "a", en: "b"}
`), 1, "rules[1].distance_m", "line 17: rules[1].distance_m: must be > 0"},
		{"unknown layer", base(`  - id: bad
    applies_to: {layers: [tanks]}
    zone: component
    verdict: conflict
    basis: "x"
    message: {vi: "a", en: "b"}
`), 1, "rules[1].applies_to.layers[0]", `unknown layer "tanks"`},
		{"kind not in layer", base(`  - id: bad
    applies_to: {layers: [commune_hqs], kinds: [depot]}
    zone: component
    verdict: conflict
    basis: "x"
    message: {vi: "a", en: "b"}
`), 1, "rules[1].applies_to.kinds[0]", `kind "depot" is in none`},
		{"duplicate id", base(`  - id: ok
    applies_to: {layers: [commune_hqs]}
    zone: component
    verdict: conflict
    basis: "x"
    message: {vi: "a", en: "b"}
`), 1, "rules[1].id", "also the id of rules[0]"},
		{"bad verdict", base(`  - id: bad
    applies_to: {layers: [commune_hqs]}
    zone: component
    verdict: forbidden
    basis: "x"
    message: {vi: "a", en: "b"}
`), 1, "rules[1].verdict", `"forbidden" is not notice, review or conflict`},
		{"missing basis", base(`  - id: bad
    applies_to: {layers: [commune_hqs]}
    zone: component
    verdict: conflict
    message: {vi: "a", en: "b"}
`), 1, "rules[1].basis", "legal basis is required"},
		{"missing english", base(`  - id: bad
    applies_to: {layers: [commune_hqs]}
    zone: component
    verdict: conflict
    basis: "x"
    message: {vi: "a"}
`), 1, "rules[1].message.en", "English text is required"},
		{"escalation not higher", base(`  - id: bad
    applies_to: {layers: [commune_hqs]}
    zone: distance
    distance_m: 10
    verdict: conflict
    escalate: [{height_above_m: 10, to: review}]
    basis: "x"
    message: {vi: "a", en: "b"}
`), 1, "rules[1].escalate[0].to", "more severe"},
		{"unknown activity", base(`  - id: bad
    applies_to: {layers: [commune_hqs]}
    zone: distance
    distance_m: 10
    verdict: review
    escalate: [{activities: [dancing], to: conflict}]
    basis: "x"
    message: {vi: "a", en: "b"}
`), 1, "rules[1].escalate[0].activities[0]", `"dancing" is not one of`},
		{"bad zone", base(`  - id: bad
    applies_to: {layers: [commune_hqs]}
    zone: moat
    verdict: review
    basis: "x"
    message: {vi: "a", en: "b"}
`), 1, "rules[1].zone", `"moat" is not one of`},
		{"distance on component", base(`  - id: bad
    applies_to: {layers: [commune_hqs]}
    zone: component
    distance_m: 10
    verdict: review
    basis: "x"
    message: {vi: "a", en: "b"}
`), 1, "rules[1].distance_m", "must be 0 or absent"},
		{"province width on a zone rule", base(`  - id: bad
    applies_to: {layers: [defence_works]}
    zone: safety_belt
    distance_by_province: {"Lạng Sơn": 500}
    verdict: review
    basis: "x"
    message: {vi: "a", en: "b"}
`), 1, "rules[1].distance_by_province", "only border_belt and distance"},
		{"project layer", base(`  - id: bad
    applies_to: {layers: [project_sites]}
    zone: component
    verdict: review
    basis: "x"
    message: {vi: "a", en: "b"}
`), 1, "rules[1].applies_to.layers[0]", "no defence components"},
		{"unknown field", base(`  - id: bad
    applies_to: {layers: [commune_hqs]}
    zone: component
    verdict: review
    basis: "x"
    mesage: {vi: "a", en: "b"}
`), -1, "", "line 19: field mesage not found"},
		{"no version", strings.Replace(base(""), `version: "t1"`, `version: ""`, 1), -1, "version", "line 1: version: is required"},
		{"not yaml", "version: [1, 2\n", -1, "", "line"},
		{"empty", "  \n", -1, "", "empty"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := Parse([]byte(tc.doc))
			if err == nil {
				t.Fatalf("Parse accepted a bad rule set: %+v", rs)
			}
			if zone.ErrorCode(err) != zone.CodeInvalid {
				t.Fatalf("code %s, want invalid: %v", zone.ErrorCode(err), err)
			}
			for _, d := range zone.ErrorDetails(err) {
				if d.Index == tc.index && d.Pointer == tc.pointer && strings.Contains(d.Reason, tc.reason) {
					return
				}
			}
			t.Fatalf("no detail {index %d, pointer %q, reason ~%q} in %+v", tc.index, tc.pointer, tc.reason, zone.ErrorDetails(err))
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	doc := `version: "t"
contact: {vi: "a", en: "b"}
rules:
  - id: A
    applies_to: {layers: []}
    zone: distance
    verdict: review
    basis: ""
    message: {vi: "", en: ""}
`
	_, err := Parse([]byte(doc))
	want := []string{"rules[0].id", "rules[0].applies_to.layers", "rules[0].distance_m", "rules[0].basis", "rules[0].message.vi", "rules[0].message.en"}
	got := map[string]bool{}
	for _, d := range zone.ErrorDetails(err) {
		got[d.Pointer] = true
	}
	for _, p := range want {
		if !got[p] {
			t.Errorf("missing a detail for %s in %v", p, zone.ErrorDetails(err))
		}
	}
}

func TestRuleDistanceByProvinceAndEscalation(t *testing.T) {
	r := Rule{DistanceM: 1000, DistanceByProvince: map[string]float64{"Lạng Sơn": 500}}
	ls := &zone.Component{ID: uuid.New(), Properties: map[string]any{PropProvince: "Lạng Sơn"}}
	cb := &zone.Component{ID: uuid.New(), Properties: map[string]any{PropProvince: "Cao Bằng"}}
	if r.Distance(ls) != 500 || r.Distance(cb) != 1000 || r.Distance(&zone.Component{}) != 1000 {
		t.Fatalf("province distances wrong")
	}
	e := Escalation{HeightAboveM: 30, Activities: []string{"blasting"}, To: Conflict}
	if e.Applies(30, nil) || !e.Applies(30.5, nil) || !e.Applies(0, []string{"residential", "blasting"}) || e.Applies(0, []string{"crowd"}) {
		t.Fatalf("escalation thresholds wrong")
	}
	if Review.Worse(Conflict) != Conflict || Conflict.AtMost(Review) != Review || Notice.AtMost(Review) != Notice {
		t.Fatalf("verdict order wrong")
	}
}

func TestRuleSetJSONRoundTrip(t *testing.T) {
	rs := Default()
	b, err := json.Marshal(rs)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(b)
	if err != nil {
		t.Fatalf("the JSON form of the default set does not parse: %v %v", err, zone.ErrorDetails(err))
	}
	if len(again.Rules) != len(rs.Rules) || again.Version != rs.Version {
		t.Fatalf("round trip lost rules")
	}
}

// Every text of the default set, legal bases included, is in both
// languages, and the two differ (a Vietnamese report prints no English).
func TestDefaultRuleSetIsBilingual(t *testing.T) {
	rs := Default()
	texts := map[string]Text{"tolerance_basis": rs.ToleranceBasis, "tolerance_message": rs.ToleranceMessage,
		"contact": rs.Contact, "consultation.basis": rs.Consultation.Basis, "consultation.message": rs.Consultation.Message}
	for _, r := range rs.Rules {
		texts[r.ID+".basis"], texts[r.ID+".message"] = r.Basis, r.Message
	}
	for name, tx := range texts {
		if tx.VI == "" || tx.EN == "" || tx.VI == tx.EN {
			t.Errorf("%s: vi %q, en %q: want both, different", name, tx.VI, tx.EN)
		}
		for _, en := range []string{"Law ", "Decree ", "art.", " the "} {
			if strings.Contains(tx.VI, en) {
				t.Errorf("%s: the Vietnamese text holds %q: %q", name, en, tx.VI)
			}
		}
	}
}

// A legal basis written as a plain string (rule sets made before bases
// carried both languages) stands for both; a text with another key, or
// with only one language, is refused with its line.
func TestBasisTextForms(t *testing.T) {
	doc := func(basis string) string {
		return `version: "b1"
edge_tolerance_m: 0
contact: {vi: "Liên hệ", en: "Contact"}
rules:
  - id: hq
    applies_to: {layers: [commune_hqs]}
    zone: distance
    distance_m: 100
    verdict: review
    basis: ` + basis + `
    message: {vi: "gần", en: "near"}
`
	}
	rs, err := Parse([]byte(doc(`"Decree 164/2018/ND-CP"`)))
	if err != nil {
		t.Fatalf("plain basis: %v %v", err, zone.ErrorDetails(err))
	}
	if b := rs.Rules[0].Basis; b.VI != "Decree 164/2018/ND-CP" || b.EN != b.VI {
		t.Fatalf("plain basis read as %+v", b)
	}
	rs, err = Parse([]byte(doc(`{vi: "Nghị định số 164/2018/NĐ-CP", en: "Decree 164/2018/ND-CP"}`)))
	if err != nil {
		t.Fatalf("bilingual basis: %v %v", err, zone.ErrorDetails(err))
	}
	if b := rs.Rules[0].Basis; b.In("vi") != "Nghị định số 164/2018/NĐ-CP" || b.In("en") != "Decree 164/2018/ND-CP" {
		t.Fatalf("bilingual basis read as %+v", b)
	}
	for basis, want := range map[string]string{
		`{vi: "Nghị định", fr: "Décret"}`: "line 10: field fr not found",
		`{en: "Decree 164/2018/ND-CP"}`:   "rules[0].basis.vi: the Vietnamese text is required",
	} {
		_, err := Parse([]byte(doc(basis)))
		if err == nil {
			t.Errorf("basis %s accepted", basis)
			continue
		}
		all := err.Error()
		for _, d := range zone.ErrorDetails(err) {
			all += " | " + d.Reason
		}
		if !strings.Contains(all, want) {
			t.Errorf("basis %s: error %q lacks %q", basis, all, want)
		}
	}
}
