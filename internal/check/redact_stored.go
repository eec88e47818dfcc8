package check

import (
	"sort"

	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Redact returns the view of a stored full result for a reader of the given
// clearance when the record holds no view made for that clearance (records
// written before views were kept per clearance): every finding whose
// component is above the reader's clearance, or carries no classification,
// is dropped, and when any is, one referral takes their place. Unlike a
// view made by Record, it cannot refer a footprint that touches a
// consultation cell but drew no finding, and its data view is unknown.
func Redact(res Result, clearance zone.Classification, rs *rules.RuleSet) Result {
	e := &Engine{rs: rs}
	res.Verdict, res.Findings = redactFindings(e, res.Findings, clearance)
	if res.Features != nil {
		fs := make([]FeatureResult, len(res.Features))
		for i, f := range res.Features {
			f.Verdict, f.Findings = redactFindings(e, f.Findings, clearance)
			fs[i] = f
		}
		res.Features = fs
	}
	if clearance < zone.Secret {
		res.DataVersion, res.DataView, res.TookMS = 0, "", 0
	}
	return res
}

func redactFindings(e *Engine, in []Finding, clearance zone.Classification) (rules.Verdict, []Finding) {
	out := make([]Finding, 0, len(in))
	verdict, referred := rules.Clear, false
	for _, f := range in {
		c := f.Component
		if f.Incomplete() {
			verdict = verdict.Worse(f.Verdict)
			out = append(out, f)
			continue
		}
		if f.Referral() || c.Redacted || c.Classification == nil || !clearance.Allows(*c.Classification) {
			referred = true
			continue
		}
		if f.Verdict != rules.Notice {
			verdict = verdict.Worse(f.Verdict)
		}
		out = append(out, f)
	}
	if referred {
		verdict = verdict.Worse(rules.Review)
		i := sort.Search(len(out), func(i int) bool { return out[i].Verdict.Rank() < rules.Review.Rank() })
		out = append(out[:i], append([]Finding{e.referral()}, out[i:]...)...)
	}
	return verdict, out
}
