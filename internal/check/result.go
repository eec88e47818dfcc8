package check

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Result is the answer to a check, as returned to the caller and stored
// with an appraisal.
type Result struct {
	Verdict        rules.Verdict `json:"verdict"` // the worst of the findings; clear when none is worse than notice
	RulesetVersion string        `json:"ruleset_version"`
	// DataVersion is the store's data version, only for a caller cleared
	// for everything: for others it would move with edits they cannot see.
	DataVersion int64 `json:"data_version,omitempty"`
	// DataView identifies the data the caller can see (index.Snapshot.View):
	// equal for equal views, unmoved by edits the caller cannot see.
	DataView  string         `json:"data_view"`
	Footprint FootprintStats `json:"footprint"` // for a collection, the sums
	// TookMS is the checker's time; left out of stored views below secret,
	// where it would measure work on works the reader cannot see.
	TookMS   float64   `json:"took_ms,omitempty"`
	Findings []Finding `json:"findings"`
	// Features holds one result per feature of a FeatureCollection request;
	// absent for a single footprint.
	Features []FeatureResult `json:"features,omitempty"`
	// Consulted lists, for each footprint that got a referral, the
	// consultation cells it touched: for the server's probing detection,
	// never encoded, so the caller's answer is the same with or without it.
	Consulted []Consultation `json:"-"`
}

// FeatureResult is the result for one feature of a collection.
type FeatureResult struct {
	Index     int            `json:"index"`
	Verdict   rules.Verdict  `json:"verdict"`
	Footprint FootprintStats `json:"footprint"`
	Findings  []Finding      `json:"findings"`
}

// Finding is one rule matched by one component, or a referral: the one
// finding (Rule rules.RuleConsultation, Component.Redacted) standing for
// every work above the caller's clearance whose consultation area the
// footprint touches, with the consultation's basis, message and Contact,
// and nothing about the works: no identity, distance, band or overlap.
type Finding struct {
	Verdict       rules.Verdict  `json:"verdict"`
	Rule          string         `json:"rule"`
	Zone          rules.ZoneTest `json:"zone"`
	Basis         string         `json:"basis"`      // the legal basis, English
	BasisVI       string         `json:"basis_vi"`   // the legal basis, Vietnamese
	Message       string         `json:"message"`    // English
	MessageVI     string         `json:"message_vi"` // Vietnamese
	Component     ComponentRef   `json:"component"`
	DistanceM     *float64       `json:"distance_m"`      // to the component's geometry, geodesic; 0 when touching
	OverlapAreaM2 *float64       `json:"overlap_area_m2"` // footprint area inside the tested zone
	Overlap       *Overlap       `json:"overlap"`         // footprint part inside the tested zone, WGS84
	Provisional   bool           `json:"provisional,omitempty"`
	EdgeTolerance bool           `json:"edge_tolerance,omitempty"` // outside the zone, within the edge tolerance
	EscalatedFrom rules.Verdict  `json:"escalated_from,omitempty"`
	Band          string         `json:"band,omitempty"`    // where, in words (English)
	BandVI        string         `json:"band_vi,omitempty"` // where, in Vietnamese
	Contact       *rules.Text    `json:"contact,omitempty"` // referrals: whom to ask
}

// WithoutOverlapGeometry returns res with every finding's overlap geometry
// left out (nil), its own and its features'; areas stay. res's findings
// are not changed.
func (res Result) WithoutOverlapGeometry() Result {
	strip := func(fs []Finding) []Finding {
		if fs == nil {
			return nil
		}
		out := make([]Finding, len(fs))
		for i, f := range fs {
			f.Overlap = nil
			out[i] = f
		}
		return out
	}
	res.Findings = strip(res.Findings)
	if res.Features != nil {
		fr := make([]FeatureResult, len(res.Features))
		for i, f := range res.Features {
			f.Findings = strip(f.Findings)
			fr[i] = f
		}
		res.Features = fr
	}
	return res
}

// Referral reports whether the finding is a consultation referral.
func (f *Finding) Referral() bool { return f.Rule == rules.RuleConsultation && f.Component.Redacted }

// Incomplete reports whether the finding says a layer's data is not known
// complete over the footprint (verdict incomplete; Component names only
// the layer).
func (f *Finding) Incomplete() bool {
	return f.Rule == rules.RuleCoverage && f.Verdict == rules.Incomplete
}

// ComponentRef names the component of a finding; only Redacted is set for
// a referral.
type ComponentRef struct {
	ID             string               `json:"id,omitempty"`
	Layer          string               `json:"layer,omitempty"`
	Kind           string               `json:"kind,omitempty"`
	Name           string               `json:"name,omitempty"`
	Classification *zone.Classification `json:"classification,omitempty"` // set when shown, so a stored result can be redacted for a later reader
	Redacted       bool                 `json:"redacted,omitempty"`
}

// render turns raw findings into the view of a caller of clearance cl,
// sorted: most severe first, then nearest, the referral (when referred)
// after the findings of its severity. A finding whose component is above
// cl never reaches here (the search is scoped); should one, it is dropped
// and counted as a referral. missing are the layers whose coverage (as cl
// may count it) does not wholly hold the footprint: one incomplete
// finding each, in registry order, and the verdict is at least incomplete
// (a review or conflict stays).
func (e *Engine) render(fs []*finding, cl zone.Classification, referred bool, missing []string) (rules.Verdict, []Finding) {
	verdict := rules.Clear
	type keyed struct {
		f    Finding
		dist float64
		id   string
	}
	ks := make([]keyed, 0, len(fs)+1)
	for _, f := range fs {
		if !cl.Allows(f.comp.Classification) {
			referred = true
			continue
		}
		if f.verdict != rules.Notice {
			verdict = verdict.Worse(f.verdict)
		}
		ks = append(ks, keyed{f: e.renderOne(f), dist: f.distanceM, id: f.comp.ID.String()})
	}
	if referred {
		verdict = verdict.Worse(rules.Review)
		ks = append(ks, keyed{f: e.referral(), dist: math.Inf(1)})
	}
	for i, l := range missing {
		verdict = verdict.Worse(rules.Incomplete)
		ks = append(ks, keyed{f: e.incomplete(l), dist: math.Inf(1), id: fmt.Sprintf("%03d", i)})
	}
	sort.SliceStable(ks, func(i, j int) bool {
		a, b := ks[i], ks[j]
		if ra, rb := a.f.Verdict.Rank(), b.f.Verdict.Rank(); ra != rb {
			return ra > rb
		}
		if a.dist != b.dist {
			return a.dist < b.dist
		}
		if a.f.Rule != b.f.Rule {
			return a.f.Rule < b.f.Rule
		}
		return a.id < b.id
	})
	out := make([]Finding, 0, len(ks))
	for _, k := range ks {
		out = append(out, k.f)
	}
	return verdict, out
}

func (e *Engine) renderOne(f *finding) Finding {
	r := f.rule
	out := Finding{
		Verdict: f.verdict, Rule: r.ID, Zone: r.Zone, Basis: r.Basis.EN, BasisVI: r.Basis.VI,
		Message: r.Message.EN, MessageVI: r.Message.VI,
		Provisional: f.provisional, EdgeTolerance: f.tolerance, EscalatedFrom: f.escalated,
	}
	if f.tolerance {
		out.Basis = r.Basis.EN + "; " + e.rs.ToleranceBasis.EN
		out.BasisVI = r.Basis.VI + "; " + e.rs.ToleranceBasis.VI
		out.Message = e.rs.ToleranceMessage.EN + " (" + r.Message.EN + ")"
		out.MessageVI = e.rs.ToleranceMessage.VI + " (" + r.Message.VI + ")"
	}
	c := f.comp
	out.Band, out.BandVI = band(f, e.rs)
	cl := c.Classification
	out.Component = ComponentRef{ID: c.ID.String(), Layer: c.Layer, Kind: c.Kind, Name: c.Name, Classification: &cl}
	d, a := round2(f.distanceM), round2(f.overlapM2)
	out.DistanceM, out.OverlapAreaM2 = &d, &a
	out.Overlap = geometryJSON(f.overlap)
	return out
}

// band says in words, in English and in Vietnamese, where the footprint
// is relative to the zone.
func band(f *finding, rs *rules.RuleSet) (en, vi string) {
	r := f.rule
	var where, whereVI string
	switch r.Zone {
	case rules.TestComponent:
		where, whereVI = "the component itself", "chính công trình"
	case rules.TestBorderBelt:
		where, whereVI = "the border belt", "vành đai biên giới"
	case rules.TestDistance:
		where, whereVI = fmt.Sprintf("%g m of the component", r.DistanceM), fmt.Sprintf("%s m tính từ công trình", viNumber(r.DistanceM))
	case rules.TestRestrictedArea:
		where, whereVI = "the restricted area", "khu vực cấm"
	case rules.TestProtectedArea:
		where, whereVI = "the protected area", "khu vực bảo vệ"
	case rules.TestSafetyBelt:
		where, whereVI = "the safety belt", "vành đai an toàn"
	default:
		where, whereVI = "the "+strings.ReplaceAll(string(r.Zone), "_", " "), strings.ReplaceAll(string(r.Zone), "_", " ")
	}
	if f.tolerance {
		tol := rs.Tolerance(r)
		return fmt.Sprintf("outside, within %g m of the edge of %s", tol, where),
			fmt.Sprintf("ở ngoài, cách ranh giới của %s dưới %s m", whereVI, viNumber(tol))
	}
	switch r.Zone {
	case rules.TestDistance:
		return "within " + where, "trong phạm vi " + whereVI
	case rules.TestComponent:
		return "overlapping " + where, "chồng lấn " + whereVI
	}
	return "within " + where, "trong " + whereVI
}

// viNumber writes a distance as Vietnamese writes numbers: a decimal
// comma, thousands set apart by a dot ("1.000", "0,5").
func viNumber(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, r := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 && r != '-' {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	if frac != "" {
		b.WriteString("," + frac)
	}
	return b.String()
}

// mergeFindings keeps one finding per component and rule across the
// features of a collection: the most severe, then the nearest.
func mergeFindings(fs []*finding) []*finding {
	type key struct {
		comp *zone.Component
		rule *rules.Rule
	}
	best := map[key]*finding{}
	var order []key
	for _, f := range fs {
		k := key{f.comp, f.rule}
		b, ok := best[k]
		if !ok {
			order = append(order, k)
		}
		if !ok || f.verdict.Rank() > b.verdict.Rank() || (f.verdict == b.verdict && f.distanceM < b.distanceM) {
			best[k] = f
		}
	}
	out := make([]*finding, 0, len(order))
	for _, k := range order {
		out = append(out, best[k])
	}
	return out
}

// uncovered lists the layers some rule tests whose coverage, as a caller
// of clearance cl may count it, does not wholly hold g; nil when the
// source knows no coverage.
func (e *Engine) uncovered(src Source, g orb.Geometry, cl zone.Classification) []string {
	set := src.Coverage()
	if set == nil {
		return nil
	}
	return set.Missing(e.layers, cl, g)
}

// inOrder is layers once each, in the order of e.layers.
func (e *Engine) inOrder(layers []string) []string {
	var out []string
	for _, l := range e.layers {
		if slices.Contains(layers, l) {
			out = append(out, l)
		}
	}
	return out
}

// incomplete is the finding of a footprint not wholly inside the coverage
// of layer: the rule set's coverage basis and message, the layer (and
// nothing of its components) and the contact.
func (e *Engine) incomplete(layer string) Finding {
	t, contact := e.rs.Coverage, e.rs.Contact
	titleEN, titleVI := layer, layer
	if l, ok := zone.LookupLayer(layer); ok {
		titleEN, titleVI = l.TitleEN, l.TitleVI
	}
	return Finding{
		Verdict: rules.Incomplete, Rule: rules.RuleCoverage, Zone: rules.ZoneCoverage,
		Basis: t.Basis.EN, BasisVI: t.Basis.VI, Message: t.Message.EN, MessageVI: t.Message.VI,
		Component: ComponentRef{Layer: layer},
		Band:      "outside the declared coverage of " + titleEN,
		BandVI:    "ngoài phạm vi dữ liệu đầy đủ của lớp " + titleVI,
		Contact:   &contact,
	}
}
