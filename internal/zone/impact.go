package zone

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
)

// Change impact: when defence data or the rule set changes, the stored
// appraisals whose latest check could change are marked stale, re-checked,
// and the new record says what moved (package impact).
//
// Secrecy: everything here is kept by reader clearance, like the views of
// a check record. A reader of clearance cl is told of a change only as far
// as the check a caller of clearance cl would get can change: a component
// cl may see, by its id, version and reach; a component hidden from cl
// only through its consultation cells, and only when the union of the
// cells hidden from cl gains or loses a cell ("the consultation areas
// changed"). An edit or a move of a hidden work that keeps the cells
// changes nothing a reader below it sees: no stale mark, no reason, no new
// record, no time.

// StaleMark says, as one reader sees it, that an appraisal's latest check
// may no longer hold: why, since when, and whether the background re-check
// has run since (and made the verdict worse).
type StaleMark struct {
	Reason    string    `json:"reason"`
	Since     time.Time `json:"since"`
	Rechecked bool      `json:"rechecked"`
	Worse     bool      `json:"worse"`
}

// ImpactLevel is what one change means to readers of one clearance: the
// lon/lat boxes a footprint must meet for its check to change (All: every
// footprint), and the reason, worded for that clearance. Empty when
// nothing such a reader sees changed.
type ImpactLevel struct {
	Area   []orb.Bound
	All    bool
	Reason string
}

// Empty reports whether the level carries no impact.
func (l ImpactLevel) Empty() bool { return !l.All && len(l.Area) == 0 }

// Impact is one change's reach, indexed by reader clearance.
type Impact [Levels]ImpactLevel

// Empty reports whether no reader is affected.
func (im *Impact) Empty() bool {
	for _, l := range im {
		if !l.Empty() {
			return false
		}
	}
	return true
}

// StaleAppraisal is an appraisal awaiting its background re-check: Gen
// counts the marks it received, so a re-check written after a newer mark
// leaves that mark pending.
type StaleAppraisal struct {
	ID     uuid.UUID
	SiteID uuid.UUID
	Status string
	Gen    int64
}

// FindingKey names one finding of a check for a diff: its rule, zone test,
// verdict and component (empty for a referral, which names none).
type FindingKey struct {
	Rule      string `json:"rule"`
	Zone      string `json:"zone"`
	Verdict   string `json:"verdict"`
	Component string `json:"component,omitempty"`
}

// CheckDiff is what changed between two checks of one appraisal as one
// reader sees them.
type CheckDiff struct {
	VerdictFrom string       `json:"verdict_from"`
	VerdictTo   string       `json:"verdict_to"`
	Added       []FindingKey `json:"added"`
	Removed     []FindingKey `json:"removed"`
}

// Changed reports whether the two checks differ for the reader.
func (d *CheckDiff) Changed() bool {
	return d != nil && (d.VerdictFrom != d.VerdictTo || len(d.Added) > 0 || len(d.Removed) > 0)
}

// Worse reports whether the verdict moved to a more severe one.
func (d *CheckDiff) Worse() bool {
	return d != nil && verdictRank(d.VerdictTo) > verdictRank(d.VerdictFrom)
}

func verdictRank(v string) int {
	switch v {
	case "clear":
		return 0
	case "review":
		return 2
	case "conflict":
		return 3
	}
	return -1
}

// storedFindings is the part of a stored check result (check.Result) a
// diff reads.
type storedFindings struct {
	Verdict  string `json:"verdict"`
	Findings []struct {
		Verdict   string `json:"verdict"`
		Rule      string `json:"rule"`
		Zone      string `json:"zone"`
		Component struct {
			ID string `json:"id"`
		} `json:"component"`
	} `json:"findings"`
}

// DiffViews compares two views of a check (one clearance's, the earlier
// first): the verdicts, and the findings by rule, zone, verdict and
// component. Views of one clearance hold only what that clearance sees,
// so the diff does too.
func DiffViews(before, after CheckView) (*CheckDiff, error) {
	var a, b storedFindings
	if err := json.Unmarshal(before.Result, &a); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(after.Result, &b); err != nil {
		return nil, err
	}
	keys := func(s storedFindings) map[FindingKey]bool {
		m := make(map[FindingKey]bool, len(s.Findings))
		for _, f := range s.Findings {
			m[FindingKey{Rule: f.Rule, Zone: f.Zone, Verdict: f.Verdict, Component: f.Component.ID}] = true
		}
		return m
	}
	ka, kb := keys(a), keys(b)
	d := &CheckDiff{VerdictFrom: before.Verdict, VerdictTo: after.Verdict, Added: []FindingKey{}, Removed: []FindingKey{}}
	for _, f := range b.Findings {
		k := FindingKey{Rule: f.Rule, Zone: f.Zone, Verdict: f.Verdict, Component: f.Component.ID}
		if !ka[k] {
			d.Added = append(d.Added, k)
			ka[k] = true // each once
		}
	}
	for _, f := range a.Findings {
		k := FindingKey{Rule: f.Rule, Zone: f.Zone, Verdict: f.Verdict, Component: f.Component.ID}
		if !kb[k] {
			d.Removed = append(d.Removed, k)
			kb[k] = true
		}
	}
	return d, nil
}

// Recheck is what the background re-check of one appraisal writes, worked
// out by a store from the previous record (PlanRecheck): for each
// clearance whether its reader is shown the new record (its level was
// marked stale, or its view changed), why, and the diff.
type Recheck struct {
	Shown   [Levels]bool
	Reasons [Levels]string
	Diffs   [Levels]*CheckDiff
	Worse   [Levels]bool
}

// AllShown reports whether every reader is shown the record.
func (r *Recheck) AllShown() bool {
	for _, s := range r.Shown {
		if !s {
			return false
		}
	}
	return true
}

// PlanRecheck decides, from the latest record's views and the appraisal's
// stale marks by clearance (nil: not stale for that reader), what a
// re-check record with views next shows each reader. A reader not marked
// stale whose view did not change is not shown the record at all: its
// existence and time would say that something hidden changed.
func PlanRecheck(prev [Levels]CheckView, next [Levels]CheckView, marks [Levels]*StaleMark) (Recheck, error) {
	var r Recheck
	for cl := range Levels {
		m := marks[cl]
		var d *CheckDiff
		if prev[cl].Verdict != "" {
			var err error
			if d, err = DiffViews(prev[cl], next[cl]); err != nil {
				return r, err
			}
		} // else a record without views (before they were kept): no diff, shown only when marked
		r.Diffs[cl] = d
		r.Shown[cl] = m != nil || d.Changed()
		if !r.Shown[cl] {
			r.Diffs[cl] = nil
			continue
		}
		r.Reasons[cl] = "the data changed"
		if m != nil {
			r.Reasons[cl] = m.Reason
		}
		r.Worse[cl] = d.Worse()
	}
	return r, nil
}

// AppraisalImpact is what stores keep for change impact beside the
// appraisals (both stores implement it; internal/storetest has its contract).
type AppraisalImpact interface {
	// MarkStale marks, for each clearance, the appraisals whose project
	// site's box meets the level's area (every one when All) stale with the
	// level's reason; a mark replaces an earlier one of that level (and its
	// re-check state). It returns how many appraisals got a mark.
	MarkStale(ctx context.Context, im Impact) (int, error)
	// StaleAppraisals lists up to limit appraisals with a mark not yet
	// re-checked, the oldest mark first.
	StaleAppraisals(ctx context.Context, limit int) ([]StaleAppraisal, error)
	// AddRecheck appends the background re-check record rec (with views)
	// of an appraisal marked gen times: it compares rec with the latest
	// record (PlanRecheck), writes it shown only to the readers it plans,
	// with their reasons and diffs, sets the appraisal's verdicts and, for
	// the readers shown, its marks re-checked (unless a newer mark came,
	// gen differing) and worse. The site's verdict properties and the
	// appraisal's updated time move only when every reader is shown it.
	AddRecheck(ctx context.Context, rec CheckRecord, gen int64) (Recheck, error)
}
