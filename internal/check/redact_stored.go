package check

import (
	"sort"

	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Redact returns the view of a stored result for a reader of the given
// clearance: every finding whose component is above it loses the
// component's identity, the exact distance, the overlap area and geometry,
// exactly as if the check had been run by that reader, and the findings are
// re-ordered so that their order says nothing about distance. The verdicts
// are unchanged. A result stored from a check run at full clearance (as
// appraisal records are) can be shown to anyone this way.
//
// A finding whose component carries no classification (a result stored by
// a reader who could not see it) stays redacted.
func Redact(res Result, clearance zone.Classification, contact rules.Text) Result {
	res.Findings = redactFindings(res.Findings, clearance, contact)
	if res.Features != nil {
		fs := make([]FeatureResult, len(res.Features))
		for i, f := range res.Features {
			f.Findings = redactFindings(f.Findings, clearance, contact)
			fs[i] = f
		}
		res.Features = fs
	}
	return res
}

func redactFindings(in []Finding, clearance zone.Classification, contact rules.Text) []Finding {
	out := make([]Finding, len(in))
	for i, f := range in {
		c := f.Component
		if !c.Redacted && (c.Classification == nil || !clearance.Allows(*c.Classification)) {
			ct := contact
			f = Finding{
				Verdict: f.Verdict, Rule: f.Rule, Zone: f.Zone, Basis: f.Basis,
				Message: f.Message, MessageVI: f.MessageVI, Provisional: f.Provisional,
				EdgeTolerance: f.EdgeTolerance, EscalatedFrom: f.EscalatedFrom,
				Band: f.Band, Contact: &ct, Component: ComponentRef{Redacted: true},
			}
		}
		out[i] = f
	}
	// Same order as render: severity, visible before redacted, visible by
	// distance (the stored order), redacted by rule then band.
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if ra, rb := a.Verdict.Rank(), b.Verdict.Rank(); ra != rb {
			return ra > rb
		}
		if a.Component.Redacted != b.Component.Redacted {
			return !a.Component.Redacted
		}
		if a.Component.Redacted {
			if a.Rule != b.Rule {
				return a.Rule < b.Rule
			}
			return a.Band < b.Band
		}
		return false
	})
	return out
}
