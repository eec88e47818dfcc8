package embedded

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"sort"

	"github.com/google/uuid"
	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/zone"
)

var _ zone.AppraisalImpact = (*Store)(nil)

// worseApproved reports whether a listed appraisal is approved (with or
// without conditions) and its re-check made the verdict worse for the reader.
func worseApproved(a *zone.Appraisal) bool {
	return a.Stale != nil && a.Stale.Worse &&
		(a.Status == zone.StatusApproved || a.Status == zone.StatusApprovedWithConditions)
}

// marks returns the appraisal's marks by level, allocating them.
func (a *storedAppraisal) marks() []*zone.StaleMark {
	if len(a.Marks) != zone.Levels {
		a.Marks = make([]*zone.StaleMark, zone.Levels)
	}
	return a.Marks
}

// clearMarks drops every mark (keepWorse: but those whose re-check made the
// verdict worse) and the pending re-check.
func (a *storedAppraisal) clearMarks(keepWorse bool) {
	ms := a.marks()
	for l, m := range ms {
		if keepWorse && m != nil && m.Worse {
			m.Rechecked = true
			continue
		}
		ms[l] = nil
	}
	a.Pending = false
}

// MarkStale marks the appraisals the impact reaches (see zone.AppraisalImpact).
func (s *Store) MarkStale(ctx context.Context, im zone.Impact) (int, error) {
	if im.Empty() {
		return 0, nil
	}
	n := 0
	err := s.update(ctx, "mark appraisals stale", func(t *txn) error {
		n = 0
		now := s.now().UTC()
		var changed []*storedAppraisal
		err := t.tx.Bucket(bucketAppraisals).ForEach(func(k, v []byte) error {
			var a storedAppraisal
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			var site *orb.Bound
			hit := false
			for cl, l := range im {
				if l.Empty() || !l.All && !t.siteMeets(&a, &site, l.Area) {
					continue
				}
				ms := a.marks()
				worse := ms[cl] != nil && ms[cl].Worse // kept until a decision
				ms[cl] = &zone.StaleMark{Reason: l.Reason, Since: now, Worse: worse}
				hit = true
			}
			if hit {
				a.Gen++
				a.Pending = true
				changed = append(changed, &a)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, a := range changed {
			if err := t.putAppraisal(a); err != nil {
				return err
			}
		}
		n = len(changed)
		return nil
	})
	return n, err
}

// siteMeets reports whether the box of a's project site meets any box of
// area (touching counts), reading the site once into *site.
func (t *txn) siteMeets(a *storedAppraisal, site **orb.Bound, area []orb.Bound) bool {
	if *site == nil {
		c, err := t.component(a.SiteID)
		if err != nil || c == nil {
			return false
		}
		b := c.Bound()
		*site = &b
	}
	for _, b := range area {
		if b.Intersects(**site) {
			return true
		}
	}
	return false
}

// StaleAppraisals lists appraisals awaiting their re-check, oldest first.
func (s *Store) StaleAppraisals(ctx context.Context, limit int) ([]zone.StaleAppraisal, error) {
	if limit <= 0 {
		limit = 100
	}
	var all []storedAppraisal
	err := s.view(ctx, "list stale appraisals", func(t *txn) error {
		return t.tx.Bucket(bucketAppraisals).ForEach(func(k, v []byte) error {
			var a storedAppraisal
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			if a.Pending {
				all = append(all, a)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool {
		if !all[i].CreatedAt.Equal(all[j].CreatedAt) {
			return all[i].CreatedAt.Before(all[j].CreatedAt)
		}
		return bytes.Compare(all[i].ID[:], all[j].ID[:]) < 0
	})
	out := make([]zone.StaleAppraisal, 0, min(limit, len(all)))
	for _, a := range all[:min(limit, len(all))] {
		out = append(out, zone.StaleAppraisal{ID: a.ID, SiteID: a.SiteID, Status: a.Status, Gen: a.Gen})
	}
	return out, nil
}

// latestViews reads the views of an appraisal's latest record; a level
// without its view (a record from before views were kept) is left empty.
func (t *txn) latestViews(id uuid.UUID) ([zone.Levels]zone.CheckView, error) {
	var out [zone.Levels]zone.CheckView
	cur := t.tx.Bucket(bucketChecks).Cursor()
	end := append(slices.Clone(id[:]), bytes.Repeat([]byte{0xff}, 24)...)
	k, v := cur.Seek(end)
	if k == nil {
		k, v = cur.Last()
	} else if !bytes.HasPrefix(k, id[:]) || bytes.Compare(k, end) > 0 {
		k, v = cur.Prev()
	}
	if k == nil || !bytes.HasPrefix(k, id[:]) {
		return out, zone.Errorf(zone.CodeNotFound, "appraisal %s has no check", id)
	}
	var r checkRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return out, err
	}
	if len(r.Verdicts) != zone.Levels {
		return out, nil
	}
	views := t.tx.Bucket(bucketViews)
	for _, cl := range zone.Classifications() {
		out[cl] = zone.CheckView{Verdict: r.Verdicts[cl], Result: slices.Clone(views.Get(viewKey(k, cl)))}
	}
	return out, nil
}

// AddRecheck writes a background re-check record (see zone.AppraisalImpact).
func (s *Store) AddRecheck(ctx context.Context, rec zone.CheckRecord, gen int64) (zone.Recheck, error) {
	var plan zone.Recheck
	err := s.update(ctx, "add re-check", func(t *txn) error {
		a, err := t.appraisal(rec.AppraisalID, false, zone.Secret)
		if err != nil {
			return err
		}
		if a == nil {
			return zone.Errorf(zone.CodeNotFound, "appraisal %s not found", rec.AppraisalID)
		}
		prev, err := t.latestViews(a.ID)
		if err != nil {
			return err
		}
		ms := a.marks()
		var pending [zone.Levels]*zone.StaleMark
		for l, m := range ms {
			if m != nil && !m.Rechecked {
				pending[l] = m
			}
		}
		if plan, err = zone.PlanRecheck(prev, rec.Views, pending); err != nil {
			return err
		}
		rec.Recheck = true
		meta, err := s.prepareCheck(&rec, a.ID, "")
		if err != nil {
			return err
		}
		var stored checkRecord
		if err := json.Unmarshal(meta, &stored); err != nil {
			return err
		}
		stored.Shown = slices.Clone(plan.Shown[:])
		stored.Reasons = slices.Clone(plan.Reasons[:])
		stored.Diffs = slices.Clone(plan.Diffs[:])
		if meta, err = json.Marshal(stored); err != nil {
			return err
		}
		if err := t.putCheck(rec, meta); err != nil {
			return err
		}
		now := s.now().UTC()
		for l := range zone.Levels {
			if !plan.Shown[l] {
				continue
			}
			if ms[l] == nil { // shown for a changed view without a mark
				ms[l] = &zone.StaleMark{Reason: plan.Reasons[l], Since: now}
			}
			ms[l].Rechecked = a.Gen == gen || ms[l].Rechecked
			ms[l].Worse = ms[l].Worse || plan.Worse[l]
		}
		a.Pending = a.Gen != gen
		a.Verdict, a.Verdicts = rec.Verdict, make([]string, zone.Levels)
		for _, c := range zone.Classifications() {
			a.Verdicts[c] = rec.Views[c].Verdict
		}
		if plan.AllShown() {
			a.UpdatedAt = later(now, a.UpdatedAt)
		}
		if err := t.putAppraisal(a); err != nil {
			return err
		}
		if !plan.AllShown() {
			return nil
		}
		props := map[string]any{zone.PropVerdict: rec.Views[zone.Public].Verdict, zone.PropVerdicts: zone.SiteVerdicts(rec.Views)}
		return t.setSiteProperties(a.SiteID, props, rec.CreatedBy)
	})
	if err != nil {
		return zone.Recheck{}, err
	}
	return plan, nil
}
