// Package rules is zoneplan's conflict rule set: the versioned document that
// says which defence components a civil project is tested against, which
// zone of each, at what distance, with what verdict and on what legal basis.
// It parses and validates the document; internal/check applies it.
package rules

import (
	"fmt"

	"github.com/zoneplan/zoneplan/data"
	"github.com/zoneplan/zoneplan/internal/zone"
	"go.yaml.in/yaml/v3"
)

// Verdict is the outcome of one finding or of a whole check, from the least
// to the most severe: clear, notice, incomplete, review, conflict.
//
// incomplete sits above clear (nothing was found, but the data a rule
// tests is not known to be complete there, so "clear" would be a guess)
// and below review (nothing was found that needs the defence side's
// opinion on the data that exists): a footprint that is review or
// conflict on the data that exists keeps that verdict.
type Verdict string

const (
	Clear      Verdict = "clear"      // nothing found (never a rule's verdict)
	Notice     Verdict = "notice"     // for information: near an edge, a border-area commune
	Incomplete Verdict = "incomplete" // outside the declared coverage of a layer a rule tests (never a rule's verdict)
	Review     Verdict = "review"     // the defence side must give an opinion
	Conflict   Verdict = "conflict"   // the project overlaps what the law forbids
)

// Verdicts lists the verdicts of a whole check, least severe first (notice
// is only a finding's).
func Verdicts() []Verdict { return []Verdict{Clear, Incomplete, Review, Conflict} }

// Rank orders verdicts: clear 0, notice 1, incomplete 2, review 3,
// conflict 4; -1 for an unknown verdict.
func (v Verdict) Rank() int {
	switch v {
	case Clear:
		return 0
	case Notice:
		return 1
	case Incomplete:
		return 2
	case Review:
		return 3
	case Conflict:
		return 4
	}
	return -1
}

// Worse returns the more severe of v and w.
func (v Verdict) Worse(w Verdict) Verdict {
	if w.Rank() > v.Rank() {
		return w
	}
	return v
}

// AtMost returns v lowered to limit when it is more severe.
func (v Verdict) AtMost(limit Verdict) Verdict {
	if v.Rank() > limit.Rank() {
		return limit
	}
	return v
}

// ZoneTest names what a rule tests the footprint against.
type ZoneTest string

const (
	// The work's restricted area, protected area or safety belt: the
	// component's approved zone polygon when it has one, otherwise its
	// provisional width, otherwise the rule's distance_m as a provisional
	// width. A provisional width is measured from the component's own
	// geometry.
	TestRestrictedArea ZoneTest = "restricted_area"
	TestProtectedArea  ZoneTest = "protected_area"
	TestSafetyBelt     ZoneTest = "safety_belt"
	// The component's own geometry (defence land, a border restricted zone,
	// a border marker).
	TestComponent ZoneTest = "component"
	// The border belt: the part of Vietnam's territory within distance_m
	// (or the province's width) of a border line, measured inward; the
	// checker takes the territory from the embedded base map.
	TestBorderBelt ZoneTest = "border_belt"
	// A plain distance: within distance_m of the component's geometry.
	TestDistance ZoneTest = "distance"
	// ZoneConsultation is the zone of a referral finding: a consultation
	// area standing in for works the caller may not see. Rules do not test
	// it; the checker gives it.
	ZoneConsultation ZoneTest = "consultation_area"
)

// RuleConsultation is the rule id of a referral finding.
const RuleConsultation = "defence-consultation"

// ZoneCoverage is the zone of an incomplete finding: the declared coverage
// of a layer (where its data is complete), which the footprint is not
// wholly inside. Rules do not test it; the checker gives it.
const ZoneCoverage ZoneTest = "data_coverage"

// RuleCoverage is the rule id of an incomplete finding.
const RuleCoverage = "data-coverage"

// Valid reports whether t is a known zone test.
func (t ZoneTest) Valid() bool {
	switch t {
	case TestRestrictedArea, TestProtectedArea, TestSafetyBelt, TestComponent, TestBorderBelt, TestDistance:
		return true
	}
	return false
}

// ProtectionZone reports whether t tests one of a work's protection zones.
func (t ZoneTest) ProtectionZone() bool {
	return t == TestRestrictedArea || t == TestProtectedArea || t == TestSafetyBelt
}

// Text is a message in Vietnamese and English. In a rule set document it
// is a mapping {vi: ..., en: ...}; a plain string (how legal bases were
// written before they carried both languages) stands for both.
type Text struct {
	VI string `yaml:"vi" json:"vi"`
	EN string `yaml:"en" json:"en"`
}

// In returns the text in lang ("vi" or "en"; anything else is English).
func (t Text) In(lang string) string {
	if lang == "vi" {
		return t.VI
	}
	return t.EN
}

// UnmarshalYAML reads a Text from a mapping with the keys vi and en, or
// from a plain string, which is taken as both.
func (t *Text) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		t.VI, t.EN = n.Value, n.Value
		return nil
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: %s must be a string", v.Line, k.Value)
			}
			switch k.Value {
			case "vi":
				t.VI = v.Value
			case "en":
				t.EN = v.Value
			default:
				return fmt.Errorf("line %d: field %s not found in a text (want vi and en)", k.Line, k.Value)
			}
		}
		return nil
	}
	return fmt.Errorf("line %d: want a text: a string, or vi and en", n.Line)
}

// Selector says which components a rule applies to. Layers is required; an
// empty Kinds, FunctionTypes or Groups list admits every value.
type Selector struct {
	Layers        []string            `yaml:"layers" json:"layers"`
	Kinds         []string            `yaml:"kinds,omitempty" json:"kinds,omitempty"`
	FunctionTypes []zone.FunctionType `yaml:"function_types,omitempty" json:"function_types,omitempty"`
	Groups        []zone.Group        `yaml:"groups,omitempty" json:"groups,omitempty"`
}

// Matches reports whether the selector admits c.
func (s *Selector) Matches(c *zone.Component) bool {
	return contains(s.Layers, c.Layer) &&
		(len(s.Kinds) == 0 || contains(s.Kinds, c.Kind)) &&
		(len(s.FunctionTypes) == 0 || contains(s.FunctionTypes, c.FunctionType)) &&
		(len(s.Groups) == 0 || contains(s.Groups, c.Group))
}

// Escalation raises a rule's verdict for projects with given attributes: a
// project taller than HeightAboveM, or one with any of Activities
// (blasting, mining, residential, crowd). Either condition is enough when
// both are set.
type Escalation struct {
	HeightAboveM float64  `yaml:"height_above_m,omitempty" json:"height_above_m,omitempty"`
	Activities   []string `yaml:"activities,omitempty" json:"activities,omitempty"`
	To           Verdict  `yaml:"to" json:"to"`
}

// Applies reports whether a project of the given height (metres; 0 when
// unknown) and activities triggers the escalation.
func (e *Escalation) Applies(heightM float64, activities []string) bool {
	if e.HeightAboveM > 0 && heightM > e.HeightAboveM {
		return true
	}
	for _, a := range activities {
		if contains(e.Activities, a) {
			return true
		}
	}
	return false
}

// Rule is one conflict rule.
type Rule struct {
	ID        string   `yaml:"id" json:"id"`
	AppliesTo Selector `yaml:"applies_to" json:"applies_to"`
	Zone      ZoneTest `yaml:"zone" json:"zone"`
	// DistanceM is, in metres on the ellipsoid: for distance the distance
	// tested; for border_belt the default belt width; for a protection zone
	// the provisional width used when the component has no zone of that
	// kind (0: the rule then does not apply to it); for component, 0.
	DistanceM float64 `yaml:"distance_m,omitempty" json:"distance_m,omitempty"`
	// DistanceByProvince overrides DistanceM for components whose
	// "province" property has the given value (border_belt and distance
	// only): the border belt is set per province (Decree 34/2014/ND-CP).
	DistanceByProvince map[string]float64 `yaml:"distance_by_province,omitempty" json:"distance_by_province,omitempty"`
	// ToleranceM is the edge tolerance of this rule; nil takes the set's
	// edge_tolerance_m, 0 turns it off.
	ToleranceM *float64     `yaml:"tolerance_m,omitempty" json:"tolerance_m,omitempty"`
	Verdict    Verdict      `yaml:"verdict" json:"verdict"`
	Escalate   []Escalation `yaml:"escalate,omitempty" json:"escalate,omitempty"`
	Basis      Text         `yaml:"basis" json:"basis"` // the legal basis, in both languages
	Message    Text         `yaml:"message" json:"message"`
}

// Distance returns the rule's distance for component c: the province
// override when c's "province" property names one, else DistanceM.
func (r *Rule) Distance(c *zone.Component) float64 {
	if len(r.DistanceByProvince) > 0 {
		if p, ok := c.Properties[PropProvince].(string); ok {
			if d, ok := r.DistanceByProvince[p]; ok {
				return d
			}
		}
	}
	return r.DistanceM
}

// MaxDistanceM is the largest distance the rule may test, province
// overrides included.
func (r *Rule) MaxDistanceM() float64 {
	m := r.DistanceM
	for _, d := range r.DistanceByProvince {
		m = max(m, d)
	}
	return m
}

// PropProvince is the component property naming its province (for
// per-province widths such as the border belt's).
const PropProvince = "province"

// RuleSet is a whole versioned rule set. Parse it with Parse; the zero
// value is not valid.
type RuleSet struct {
	Version     string `yaml:"version" json:"version"`
	Title       string `yaml:"title,omitempty" json:"title,omitempty"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`
	// EdgeToleranceM is the default edge tolerance in metres: a footprint
	// outside a rule's zone but within this distance of its edge gets a
	// notice, to absorb survey and datum error.
	EdgeToleranceM   float64 `yaml:"edge_tolerance_m" json:"edge_tolerance_m"`
	ToleranceBasis   Text    `yaml:"tolerance_basis" json:"tolerance_basis"`
	ToleranceMessage Text    `yaml:"tolerance_message" json:"tolerance_message"`
	// Contact is shown instead of the details of a component the caller may
	// not see.
	Contact Text `yaml:"contact" json:"contact"`
	// Consultation is how works above a caller's clearance stand in that
	// caller's checks; absent fields take DefaultConsultation's.
	Consultation Consultation `yaml:"consultation,omitempty" json:"consultation"`
	// Coverage is the basis and message of an incomplete finding; absent
	// fields take DefaultCoverage's.
	Coverage CoverageText `yaml:"coverage,omitempty" json:"coverage"`
	Rules    []Rule       `yaml:"rules" json:"rules"`
}

// CoverageText is what an incomplete finding says: a footprint not wholly
// inside the declared coverage of a layer that a rule tests gets one
// finding per such layer (rule RuleCoverage, verdict incomplete) with this
// basis, this message, the layer and the set's contact.
type CoverageText struct {
	Basis   Text `yaml:"basis,omitempty" json:"basis"`
	Message Text `yaml:"message,omitempty" json:"message"`
}

// DefaultCoverage is the coverage text of a rule set that sets none.
func DefaultCoverage() CoverageText {
	return CoverageText{
		Basis: Text{
			VI: "Nghị định số 164/2018/NĐ-CP (thẩm định với cơ quan quân sự); phạm vi dữ liệu đã được xác nhận đầy đủ trong zoneplan",
			EN: "Decree 164/2018/ND-CP (appraisal with the military authority); the extent of data confirmed complete in zoneplan",
		},
		Message: Text{
			VI: "Dữ liệu quốc phòng của lớp này chưa được xác nhận đầy đủ tại vị trí dự án; không thể kết luận không vướng. Cần hỏi ý kiến Bộ Chỉ huy quân sự tỉnh.",
			EN: "The defence data of this layer is not confirmed complete where the project lies; it cannot be found clear. Ask the provincial military command.",
		},
	}
}

// Layers lists the layers some rule of the set tests, in registry order:
// the layers whose coverage a check needs.
func (rs *RuleSet) Layers() []string {
	var out []string
	for _, id := range zone.LayerIDs() {
		for i := range rs.Rules {
			if contains(rs.Rules[i].AppliesTo.Layers, id) {
				out = append(out, id)
				break
			}
		}
	}
	return out
}

// Consultation is the referral a caller below a work's classification gets
// instead of the work: the work is replaced by the cells (package consult)
// of at least CellM metres that its reach touches, and a footprint touching
// one gets one finding (rule RuleConsultation, verdict review) with this
// basis, message and the set's contact, and nothing about the work.
type Consultation struct {
	CellM   float64 `yaml:"cell_m,omitempty" json:"cell_m"`
	Basis   Text    `yaml:"basis,omitempty" json:"basis"`
	Message Text    `yaml:"message,omitempty" json:"message"`
}

// DefaultConsultation is the consultation of a rule set that sets none:
// 2 km cells.
func DefaultConsultation() Consultation {
	return Consultation{
		CellM: 2000,
		Basis: Text{
			VI: "Luật số 25/2023/QH15, Điều 18 (không được xác định vị trí, công bố công trình quốc phòng); Nghị định số 164/2018/NĐ-CP (ý kiến của cơ quan quân sự)",
			EN: "Law 25/2023/QH15 art. 18 (defence works may not be positioned or published); Decree 164/2018/ND-CP (opinion of the military authority)",
		},
		Message: Text{
			VI: "Dự án nằm trong vùng tham vấn quốc phòng; cần có ý kiến của Bộ Chỉ huy quân sự tỉnh trước khi phê duyệt.",
			EN: "The project lies in a defence consultation area; the provincial military command must give its opinion before approval.",
		},
	}
}

// Minimum and maximum consultation cell sizes, metres: a smaller cell
// would come close to positioning the work it stands for.
const (
	MinConsultationCellM = 500
	MaxConsultationCellM = 50_000
)

// Tolerance returns the edge tolerance of r in this set, in metres.
func (rs *RuleSet) Tolerance(r *Rule) float64 {
	if r.ToleranceM != nil {
		return *r.ToleranceM
	}
	return rs.EdgeToleranceM
}

// MaxDistanceM is the farthest, in metres, any rule of the set reaches
// beyond a component's own geometry and approved zones: the largest rule
// distance plus its tolerance. Component-specific provisional widths are
// not included (see the index's MaxZoneWidthM).
func (rs *RuleSet) MaxDistanceM() float64 {
	var m float64
	for i := range rs.Rules {
		r := &rs.Rules[i]
		m = max(m, r.MaxDistanceM()+rs.Tolerance(r))
	}
	return m
}

// Default returns the rule set embedded in the binary (data/rules).
func Default() *RuleSet {
	rs, err := Parse(data.DefaultRules())
	if err != nil {
		// The embedded file is tested; failing here is a build defect.
		panic("rules: embedded default rule set is invalid: " + err.Error())
	}
	return rs
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
