package rules

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strings"

	"github.com/zoneplan/zoneplan/internal/zone"
	"go.yaml.in/yaml/v3"
)

// maxRuleDistanceM bounds every distance a rule may give, in metres: far
// beyond any width the law sets, small enough to keep a check's search box
// local.
const maxRuleDistanceM = 50_000

var ruleIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

// Parse reads a rule set document (YAML, or JSON, which is YAML too) and
// validates all of it. Every problem is reported, not only the first, as a
// zone.Error with code CodeInvalid and one Detail per problem: Index is the
// rule's index (-1 for the set's own fields), Pointer the field
// ("rules[3].distance_m"), and Reason says what is wrong, with the line in
// the document when known.
func Parse(doc []byte) (*RuleSet, error) {
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil, invalid([]zone.Detail{{Index: -1, Reason: "the rule set document is empty"}})
	}
	var rs RuleSet
	dec := yaml.NewDecoder(bytes.NewReader(doc))
	dec.KnownFields(true)
	if err := dec.Decode(&rs); err != nil {
		return nil, invalid(yamlDetails(err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, invalid([]zone.Detail{{Index: -1, Reason: "the document holds more than one YAML document"}})
	}
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		return nil, invalid(yamlDetails(err))
	}
	rs.Consultation.defaults()
	rs.Coverage.defaults()
	if probs := rs.validate(lineIndex(&root)); len(probs) > 0 {
		return nil, invalid(probs)
	}
	return &rs, nil
}

func invalid(d []zone.Detail) error {
	return &zone.Error{Code: zone.CodeInvalid, Message: "the rule set is invalid; nothing was changed", Details: d}
}

// yamlDetails turns a YAML decoding error (which names lines itself) into
// details, one per message.
func yamlDetails(err error) []zone.Detail {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		ds := make([]zone.Detail, 0, len(te.Errors))
		for _, e := range te.Errors {
			ds = append(ds, zone.Detail{Index: -1, Reason: e})
		}
		return ds
	}
	return []zone.Detail{{Index: -1, Reason: strings.TrimPrefix(err.Error(), "yaml: ")}}
}

// lines maps a field pointer ("rules[2].zone") to its line in the document.
type lines map[string]int

// lineIndex walks the document tree and records the line of every mapping
// value and sequence item by its pointer.
func lineIndex(root *yaml.Node) lines {
	l := lines{}
	var walk func(n *yaml.Node, ptr string)
	walk = func(n *yaml.Node, ptr string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, ptr)
			}
		case yaml.MappingNode:
			l[ptr] = n.Line
			for i := 0; i+1 < len(n.Content); i += 2 {
				key := n.Content[i].Value
				p := key
				if ptr != "" {
					p = ptr + "." + key
				}
				l[p] = n.Content[i].Line
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			l[ptr] = n.Line
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", ptr, i))
			}
		default:
			l[ptr] = n.Line
		}
	}
	walk(root, "")
	return l
}

// at finds the line of ptr or of its nearest parent.
func (l lines) at(ptr string) int {
	for ptr != "" {
		if n, ok := l[ptr]; ok {
			return n
		}
		i := strings.LastIndexAny(ptr, ".[")
		if i < 0 {
			break
		}
		ptr = ptr[:i]
	}
	return 0
}

func (rs *RuleSet) validate(l lines) []zone.Detail {
	var probs []zone.Detail
	bad := func(index int, ptr, format string, args ...any) {
		reason := ptr + ": " + fmt.Sprintf(format, args...)
		if n := l.at(ptr); n > 0 {
			reason = fmt.Sprintf("line %d: %s", n, reason)
		}
		probs = append(probs, zone.Detail{Index: index, Pointer: ptr, Reason: reason})
	}
	if strings.TrimSpace(rs.Version) == "" {
		bad(-1, "version", "is required (it is recorded with every check)")
	} else if len(rs.Version) > 64 {
		bad(-1, "version", "must be at most 64 characters")
	}
	if !finite(rs.EdgeToleranceM) || rs.EdgeToleranceM < 0 || rs.EdgeToleranceM > 1000 {
		bad(-1, "edge_tolerance_m", "must be between 0 and 1000 metres, got %v", rs.EdgeToleranceM)
	}
	text := func(index int, ptr string, t Text) {
		if strings.TrimSpace(t.VI) == "" {
			bad(index, ptr+".vi", "the Vietnamese text is required")
		}
		if strings.TrimSpace(t.EN) == "" {
			bad(index, ptr+".en", "the English text is required")
		}
	}
	if rs.EdgeToleranceM > 0 {
		text(-1, "tolerance_message", rs.ToleranceMessage)
		if strings.TrimSpace(rs.ToleranceBasis.VI) == "" && strings.TrimSpace(rs.ToleranceBasis.EN) == "" {
			bad(-1, "tolerance_basis", "is required when edge_tolerance_m is set")
		} else {
			text(-1, "tolerance_basis", rs.ToleranceBasis)
		}
	}
	text(-1, "contact", rs.Contact)
	if c := rs.Consultation.CellM; !finite(c) || c < MinConsultationCellM || c > MaxConsultationCellM {
		bad(-1, "consultation.cell_m", "must be between %d and %d metres, got %v", MinConsultationCellM, MaxConsultationCellM, c)
	}
	if len(rs.Rules) == 0 {
		bad(-1, "rules", "at least one rule is required")
	}
	seen := map[string]int{}
	for i := range rs.Rules {
		r := &rs.Rules[i]
		p := fmt.Sprintf("rules[%d]", i)
		switch {
		case r.ID == "":
			bad(i, p+".id", "is required")
		case !ruleIDPattern.MatchString(r.ID):
			bad(i, p+".id", "%q must be lower-case letters, digits, '-', '_' or '.', at most 64", r.ID)
		case r.ID == RuleConsultation || r.ID == RuleCoverage:
			bad(i, p+".id", "%q is the checker's own (referrals, incomplete data)", r.ID)
		default:
			if j, dup := seen[r.ID]; dup {
				bad(i, p+".id", "%q is also the id of rules[%d]", r.ID, j)
			}
			seen[r.ID] = i
		}
		r.AppliesTo.validate(func(ptr, format string, args ...any) { bad(i, p+".applies_to"+ptr, format, args...) })
		if !r.Zone.Valid() {
			bad(i, p+".zone", "%q is not one of restricted_area, protected_area, safety_belt, component, border_belt, distance", r.Zone)
		}
		dist := func(ptr string, d float64) {
			if !finite(d) || d <= 0 || d > maxRuleDistanceM {
				bad(i, ptr, "must be > 0 and at most %d metres, got %v", maxRuleDistanceM, d)
			}
		}
		switch r.Zone {
		case TestDistance, TestBorderBelt:
			dist(p+".distance_m", r.DistanceM)
		case TestComponent:
			if r.DistanceM != 0 {
				bad(i, p+".distance_m", "must be 0 or absent for zone component (the component itself is tested)")
			}
		case TestRestrictedArea, TestProtectedArea, TestSafetyBelt:
			if r.DistanceM != 0 {
				dist(p+".distance_m", r.DistanceM)
			}
		}
		if len(r.DistanceByProvince) > 0 && r.Zone != TestDistance && r.Zone != TestBorderBelt {
			bad(i, p+".distance_by_province", "only border_belt and distance rules take per-province distances")
		}
		for prov, d := range r.DistanceByProvince {
			if strings.TrimSpace(prov) == "" {
				bad(i, p+".distance_by_province", "a province name is empty")
			}
			dist(p+".distance_by_province."+prov, d)
		}
		if r.ToleranceM != nil && (!finite(*r.ToleranceM) || *r.ToleranceM < 0 || *r.ToleranceM > 1000) {
			bad(i, p+".tolerance_m", "must be between 0 and 1000 metres, got %v", *r.ToleranceM)
		}
		if r.Verdict != Notice && r.Verdict != Review && r.Verdict != Conflict {
			bad(i, p+".verdict", "%q is not notice, review or conflict", r.Verdict)
		}
		for j, e := range r.Escalate {
			ep := fmt.Sprintf("%s.escalate[%d]", p, j)
			if e.HeightAboveM == 0 && len(e.Activities) == 0 {
				bad(i, ep, "needs height_above_m or activities")
			}
			if !finite(e.HeightAboveM) || e.HeightAboveM < 0 {
				bad(i, ep+".height_above_m", "must be a positive number of metres, got %v", e.HeightAboveM)
			}
			for k, a := range e.Activities {
				if !contains(knownActivities, a) {
					bad(i, fmt.Sprintf("%s.activities[%d]", ep, k), "%q is not one of %s", a, strings.Join(knownActivities, ", "))
				}
			}
			if e.To.Rank() <= r.Verdict.Rank() || e.To == Clear || e.To == Incomplete {
				bad(i, ep+".to", "%q must be more severe than the rule's verdict %q", e.To, r.Verdict)
			}
		}
		if strings.TrimSpace(r.Basis.VI) == "" && strings.TrimSpace(r.Basis.EN) == "" {
			bad(i, p+".basis", "the legal basis is required")
		} else {
			text(i, p+".basis", r.Basis)
		}
		text(i, p+".message", r.Message)
	}
	return probs
}

// defaults fills the fields a document left out from DefaultConsultation.
func (c *Consultation) defaults() {
	d := DefaultConsultation()
	if c.CellM == 0 {
		c.CellM = d.CellM
	}
	if strings.TrimSpace(c.Basis.VI) == "" && strings.TrimSpace(c.Basis.EN) == "" {
		c.Basis = d.Basis
	}
	if strings.TrimSpace(c.Message.VI) == "" {
		c.Message.VI = d.Message.VI
	}
	if strings.TrimSpace(c.Message.EN) == "" {
		c.Message.EN = d.Message.EN
	}
}

// defaults fills the fields a document left out from DefaultCoverage.
func (c *CoverageText) defaults() {
	d := DefaultCoverage()
	for _, f := range []struct{ got, def *Text }{{&c.Basis, &d.Basis}, {&c.Message, &d.Message}} {
		if strings.TrimSpace(f.got.VI) == "" {
			f.got.VI = f.def.VI
		}
		if strings.TrimSpace(f.got.EN) == "" {
			f.got.EN = f.def.EN
		}
	}
}

var knownActivities = []string{zone.ActivityBlasting, zone.ActivityMining, zone.ActivityResidential, zone.ActivityCrowd}

func (s *Selector) validate(bad func(ptr, format string, args ...any)) {
	if len(s.Layers) == 0 {
		bad(".layers", "at least one layer is required")
	}
	var layers []*zone.Layer
	for i, id := range s.Layers {
		l, ok := zone.LookupLayer(id)
		if !ok {
			bad(fmt.Sprintf(".layers[%d]", i), "unknown layer %q (known: %s)", id, strings.Join(zone.LayerIDs(), ", "))
			continue
		}
		if !l.DefenceWork {
			bad(fmt.Sprintf(".layers[%d]", i), "layer %q holds no defence components", id)
		}
		layers = append(layers, l)
	}
	for i, k := range s.Kinds {
		found := false
		for _, l := range layers {
			found = found || l.AllowsKind(k)
		}
		if !found {
			bad(fmt.Sprintf(".kinds[%d]", i), "kind %q is in none of the rule's layers", k)
		}
	}
	for i, f := range s.FunctionTypes {
		if f == "" || !f.Valid() {
			bad(fmt.Sprintf(".function_types[%d]", i), "%q is not A, B, C or D", f)
		}
	}
	for i, g := range s.Groups {
		if g == "" || !g.Valid() {
			bad(fmt.Sprintf(".groups[%d]", i), "%q is not special, I, II or III", g)
		}
	}
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
