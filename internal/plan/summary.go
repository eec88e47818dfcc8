package plan

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/google/uuid"

	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Summary counts a job's checked parcels as a reader of one clearance
// sees them: by verdict, by rule and by zone kind (parcels with at least
// one finding of it), and by component, only the components the reader
// is cleared for (a referral names none).
type Summary struct {
	ByVerdict   map[string]int      `json:"by_verdict"`
	ByRule      map[string]int      `json:"by_rule"`
	ByZone      map[string]int      `json:"by_zone"`
	ByComponent []ComponentCount    `json:"by_component"`
	Rules       map[string]RuleText `json:"rules"` // each counted rule's message
}

// ComponentCount is how many parcels drew a finding of one component.
type ComponentCount struct {
	ID      string `json:"id"`
	Layer   string `json:"layer"`
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Parcels int    `json:"parcels"`
}

// RuleText is a rule's message in both languages.
type RuleText struct {
	Message   string `json:"message"`
	MessageVI string `json:"message_vi"`
}

// Result decodes a parcel's stored view for clearance cl (zero Result
// while unchecked).
func Result(pc *zone.PlanParcel, cl zone.Classification) (check.Result, error) {
	var res check.Result
	v := pc.Views[cl]
	if !pc.Checked || len(v.Result) == 0 {
		return res, nil
	}
	if err := json.Unmarshal(v.Result, &res); err != nil {
		return res, zone.InternalError(err, "stored check of parcel %d does not decode", pc.Seq)
	}
	return res, nil
}

// Summarize reads a job's parcels as a reader of clearance cl sees them.
func Summarize(ctx context.Context, st zone.PlanStore, id uuid.UUID, cl zone.Classification) (*Summary, error) {
	if !cl.Valid() {
		cl = zone.Public
	}
	sum := &Summary{ByVerdict: map[string]int{}, ByRule: map[string]int{}, ByZone: map[string]int{},
		ByComponent: []ComponentCount{}, Rules: map[string]RuleText{}}
	comps := map[string]*ComponentCount{}
	err := st.ListParcels(ctx, id, zone.ParcelQuery{Clearance: cl}, func(pc *zone.PlanParcel) error {
		if !pc.Checked {
			return nil
		}
		res, err := Result(pc, cl)
		if err != nil {
			return err
		}
		sum.ByVerdict[pc.Views[cl].Verdict]++
		rulesSeen, zonesSeen, compsSeen := map[string]bool{}, map[string]bool{}, map[string]bool{}
		for _, f := range res.Findings {
			if !rulesSeen[f.Rule] {
				rulesSeen[f.Rule] = true
				sum.ByRule[f.Rule]++
				sum.Rules[f.Rule] = RuleText{Message: f.Message, MessageVI: f.MessageVI}
			}
			if z := string(f.Zone); !zonesSeen[z] {
				zonesSeen[z] = true
				sum.ByZone[z]++
			}
			c := f.Component
			if c.Redacted || c.ID == "" || c.Classification == nil || !cl.Allows(*c.Classification) || compsSeen[c.ID] {
				continue
			}
			compsSeen[c.ID] = true
			cc := comps[c.ID]
			if cc == nil {
				cc = &ComponentCount{ID: c.ID, Layer: c.Layer, Kind: c.Kind, Name: c.Name}
				comps[c.ID] = cc
			}
			cc.Parcels++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, cc := range comps {
		sum.ByComponent = append(sum.ByComponent, *cc)
	}
	sort.Slice(sum.ByComponent, func(i, j int) bool {
		a, b := sum.ByComponent[i], sum.ByComponent[j]
		if a.Parcels != b.Parcels {
			return a.Parcels > b.Parcels
		}
		return a.ID < b.ID
	})
	return sum, nil
}

// Worst is the most severe verdict the summary counts (clear when none).
func (s *Summary) Worst() rules.Verdict {
	w := rules.Clear
	for v, n := range s.ByVerdict {
		if n > 0 {
			w = w.Worse(rules.Verdict(v))
		}
	}
	return w
}

// Verdicts lists the summary's verdicts, most severe first.
func (s *Summary) Verdicts() []string {
	out := make([]string, 0, len(s.ByVerdict))
	for v := range s.ByVerdict {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool {
		ri, rj := rules.Verdict(out[i]).Rank(), rules.Verdict(out[j]).Rank()
		if ri != rj {
			return ri > rj
		}
		return out[i] < out[j]
	})
	return out
}
