package storetest

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// viewsWith returns check views where clearance cl and above see verdict
// with one finding of the component named comp, and those below see
// "clear" with no finding (as if the component were hidden from them and
// no consultation cell met the footprint).
func viewsWith(cl zone.Classification, verdict, comp string) [zone.Levels]zone.CheckView {
	var v [zone.Levels]zone.CheckView
	for _, c := range zone.Classifications() {
		if c < cl || verdict == "clear" {
			v[c] = zone.CheckView{Verdict: "clear", Result: json.RawMessage(`{"verdict":"clear","findings":[]}`)}
			continue
		}
		v[c] = zone.CheckView{Verdict: verdict, Result: json.RawMessage(fmt.Sprintf(
			`{"verdict":%q,"findings":[{"verdict":%q,"rule":"depot_belt","zone":"safety_belt","component":{"id":%q}}]}`, verdict, verdict, comp))}
	}
	return v
}

func runImpact(t *testing.T, open func(t *testing.T) zone.Store) {
	s := open(t)
	ctx := t.Context()
	mk := func(name string, lon float64) *zone.Appraisal {
		t.Helper()
		a, site, first := NewAppraisalInput(name, "appr", "clear", Square(lon, 21.85, 0.001))
		first.Views = viewsWith(zone.Public, "clear", "")
		got, err := s.CreateAppraisal(ctx, a, site, first)
		if err != nil {
			t.Fatalf("CreateAppraisal(%s): %v", name, err)
		}
		return got
	}
	a := mk("Nhà máy A", 106.70)
	if _, err := s.DecideAppraisal(ctx, a.ID, zone.Decision{Outcome: zone.StatusApproved, By: "reviewer"}, zone.Secret); err != nil {
		t.Fatal(err)
	}
	b := mk("Nhà máy B", 106.80)
	c := mk("Nhà máy C", 106.90)
	get := func(id uuid.UUID, cl zone.Classification) *zone.Appraisal {
		t.Helper()
		got, err := s.GetAppraisal(ctx, id, cl)
		if err != nil {
			t.Fatalf("GetAppraisal(%s): %v", cl, err)
		}
		return got
	}
	before := get(a.ID, zone.Public)
	hidden := uuid.New().String()

	// A secret component near A changed: only a secret reader is told.
	var im zone.Impact
	im[zone.Secret] = zone.ImpactLevel{Area: []orb.Bound{Rect(106.6995, 21.8495, 106.70, 21.85).Bound()}, Reason: "component " + hidden + " changed to version 2"}
	n, err := s.MarkStale(ctx, im)
	if err != nil || n != 1 {
		t.Fatalf("MarkStale = %d, %v; want 1 (A's site touches the area)", n, err)
	}
	if m := get(a.ID, zone.Secret).Stale; m == nil || m.Reason != im[zone.Secret].Reason || m.Rechecked || m.Since.IsZero() {
		t.Errorf("A as secret: stale %+v, want the reason, not re-checked", m)
	}
	for _, cl := range []zone.Classification{zone.Public, zone.Internal, zone.Restricted} {
		if m := get(a.ID, cl).Stale; m != nil {
			t.Errorf("A as %s: stale %+v; a reader below the component is told nothing", cl, m)
		}
	}
	if m := get(b.ID, zone.Secret).Stale; m != nil {
		t.Errorf("B marked stale %+v, out of the area", m)
	}
	list := func(q zone.AppraisalQuery) []uuid.UUID {
		t.Helper()
		items, total, err := s.ListAppraisals(ctx, q)
		if err != nil || total != len(items) {
			t.Fatalf("ListAppraisals(%+v) = %d items, total %d, %v", q, len(items), total, err)
		}
		var ids []uuid.UUID
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		return ids
	}
	if got := list(zone.AppraisalQuery{Stale: true, Clearance: zone.Secret}); len(got) != 1 || got[0] != a.ID {
		t.Errorf("stale list as secret = %v, want [A]", got)
	}
	if got := list(zone.AppraisalQuery{Stale: true, Clearance: zone.Public}); len(got) != 0 {
		t.Errorf("stale list as public = %v, want none", got)
	}
	queue, err := s.StaleAppraisals(ctx, 10)
	if err != nil || len(queue) != 1 || queue[0].ID != a.ID || queue[0].SiteID != a.SiteID || queue[0].Status != zone.StatusApproved {
		t.Fatalf("StaleAppraisals = %+v, %v; want A, approved", queue, err)
	}

	// The re-check finds a conflict only the secret view shows: the
	// record is the secret reader's alone.
	rec := zone.CheckRecord{AppraisalID: a.ID, CreatedBy: "zoneplan", RulesetVersion: "2025.1", Views: viewsWith(zone.Secret, "conflict", hidden)}
	plan, err := s.AddRecheck(ctx, rec, queue[0].Gen)
	if err != nil {
		t.Fatalf("AddRecheck: %v", err)
	}
	if plan.Shown != [zone.Levels]bool{false, false, false, true} || !plan.Worse[zone.Secret] {
		t.Errorf("plan shown %v worse %v; want the secret reader only, worse", plan.Shown, plan.Worse)
	}
	pub := get(a.ID, zone.Public)
	if len(pub.Checks) != 1 || pub.Stale != nil || !pub.UpdatedAt.Equal(before.UpdatedAt) || pub.Verdict != "clear" {
		t.Errorf("A as public after the hidden re-check: %d checks, stale %+v, updated %v (was %v), verdict %s; want nothing changed",
			len(pub.Checks), pub.Stale, pub.UpdatedAt, before.UpdatedAt, pub.Verdict)
	}
	sec := get(a.ID, zone.Secret)
	if len(sec.Checks) != 2 || !sec.Checks[0].Recheck || sec.Checks[0].Reason != im[zone.Secret].Reason || sec.Verdict != "conflict" {
		t.Fatalf("A as secret: %d checks, newest %+v, verdict %s", len(sec.Checks), sec.Checks[0], sec.Verdict)
	}
	d := sec.Checks[0].Diff
	if d == nil || d.VerdictFrom != "clear" || d.VerdictTo != "conflict" || len(d.Added) != 1 || d.Added[0].Component != hidden || len(d.Removed) != 0 {
		t.Errorf("diff %+v; want clear -> conflict, one finding of %s added", d, hidden)
	}
	if sec.Checks[1].Recheck || sec.Checks[1].Diff != nil {
		t.Errorf("the first record is a person's: %+v", sec.Checks[1])
	}
	if m := sec.Stale; m == nil || !m.Rechecked || !m.Worse {
		t.Errorf("A's secret mark after the re-check %+v; want re-checked, worse", m)
	}
	if q, _ := s.StaleAppraisals(ctx, 10); len(q) != 0 {
		t.Errorf("StaleAppraisals after the re-check = %+v, want none", q)
	}

	// A rule-set change reaches everyone; a mark newer than a re-check's
	// read leaves the appraisal queued.
	for cl := range im {
		im[cl] = zone.ImpactLevel{All: true, Reason: "rule set 2025.2 replaced 2025.1"}
	}
	if n, err := s.MarkStale(ctx, im); err != nil || n != 3 {
		t.Fatalf("MarkStale(all) = %d, %v; want 3", n, err)
	}
	queue, err = s.StaleAppraisals(ctx, 10)
	if err != nil || len(queue) != 3 {
		t.Fatalf("StaleAppraisals = %+v, %v; want 3", queue, err)
	}
	var qb zone.StaleAppraisal
	for _, q := range queue {
		if q.ID == b.ID {
			qb = q
		}
	}
	if _, err := s.MarkStale(ctx, im); err != nil {
		t.Fatal(err)
	}
	rec = zone.CheckRecord{AppraisalID: b.ID, CreatedBy: "zoneplan", RulesetVersion: "2025.2", Views: viewsWith(zone.Public, "review", "visible")}
	plan, err = s.AddRecheck(ctx, rec, qb.Gen)
	if err != nil || !plan.AllShown() {
		t.Fatalf("AddRecheck(B) = %+v, %v; want shown to all (all were marked)", plan, err)
	}
	if got := get(b.ID, zone.Public); len(got.Checks) != 2 || got.Checks[0].Reason != im[zone.Public].Reason ||
		got.Checks[0].Diff == nil || got.Checks[0].Diff.VerdictTo != "review" || got.Stale == nil || got.Stale.Rechecked {
		t.Errorf("B as public: %d checks, newest %+v, stale %+v; want the record, its diff, still stale (a newer mark)", len(got.Checks), got.Checks[0], got.Stale)
	}
	queued := false
	queue, _ = s.StaleAppraisals(ctx, 10)
	for _, q := range queue {
		queued = queued || q.ID == b.ID
	}
	if !queued {
		t.Error("B left the queue though a mark came after its re-check's read")
	}

	// Approved and worse first, for reviewers; then newest first.
	if got := list(zone.AppraisalQuery{Stale: true, WorseFirst: true, Clearance: zone.Secret}); len(got) != 3 || got[0] != a.ID || got[1] != c.ID || got[2] != b.ID {
		t.Errorf("stale, worse first = %v; want A (approved, worse), C, B", got)
	}
	if got := list(zone.AppraisalQuery{Stale: true, WorseFirst: true, Clearance: zone.Public}); len(got) != 3 || got[0] != c.ID {
		t.Errorf("stale, worse first as public = %v; want newest first (A is worse only for secret readers)", got)
	}

	// A person's check clears the marks but the worse one; a decision clears all.
	first := zone.CheckRecord{AppraisalID: a.ID, CreatedBy: "appr", Views: viewsWith(zone.Secret, "conflict", hidden)}
	if _, err := s.AddCheck(ctx, first, zone.Secret); err != nil {
		t.Fatal(err)
	}
	if m := get(a.ID, zone.Secret).Stale; m == nil || !m.Worse {
		t.Errorf("A after a person's check: %+v; the worse mark stays for the reviewer", m)
	}
	if m := get(a.ID, zone.Public).Stale; m != nil {
		t.Errorf("A as public after a person's check: %+v, want cleared", m)
	}
	if _, err := s.DecideAppraisal(ctx, a.ID, zone.Decision{Outcome: zone.StatusRejected, By: "reviewer"}, zone.Secret); err != nil {
		t.Fatal(err)
	}
	if m := get(a.ID, zone.Secret).Stale; m != nil {
		t.Errorf("A after a decision: %+v, want cleared", m)
	}
}
