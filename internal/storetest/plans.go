package storetest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// PlanParcels returns n adjacent square parcels of about 100 m in a row
// from (106.70 E, 21.80 N), with mapped attributes.
func PlanParcels(n int) []zone.PlanParcel {
	out := make([]zone.PlanParcel, n)
	for i := range out {
		lon := 106.70 + float64(i)*0.001
		out[i] = zone.PlanParcel{
			Seq:        i,
			Name:       fmt.Sprintf("parcel %d", i),
			Properties: map[string]any{zone.PropSector: "residential", "MA_LO": fmt.Sprintf("L%03d", i)},
			Geometry:   Square(lon, 21.80, 0.001),
		}
	}
	return out
}

// ParcelViews returns a check's views by clearance in which a reader of
// clearance hiddenAbove or below sees verdict low and readers above see
// high, each view's result naming its clearance.
func ParcelViews(low, high string, hiddenAbove zone.Classification) [zone.Levels]zone.CheckView {
	var v [zone.Levels]zone.CheckView
	for _, cl := range zone.Classifications() {
		verdict := low
		if cl > hiddenAbove {
			verdict = high
		}
		v[cl] = zone.CheckView{Verdict: verdict, Result: json.RawMessage(fmt.Sprintf(`{"verdict":%q,"seen_by":%q}`, verdict, cl))}
	}
	return v
}

func runPlans(t *testing.T, open func(t *testing.T) zone.Store) {
	ctx := t.Context()
	t.Run("CreateGetList", func(t *testing.T) {
		s := open(t)
		p, err := s.CreatePlan(ctx, &zone.Plan{Name: "Quy hoạch xã A", CreatedBy: "alice", File: "a.zip", Format: "shapefile", CRS: "EPSG:9215",
			Mapping: map[string]string{"name": "TEN"}}, PlanParcels(5))
		if err != nil {
			t.Fatalf("CreatePlan: %v", err)
		}
		if p.ID == uuid.Nil || p.State != zone.PlanQueued || p.Total != 5 || p.Done != 0 {
			t.Fatalf("created plan: %+v", p)
		}
		got, err := s.GetPlan(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != "Quy hoạch xã A" || got.CreatedBy != "alice" || got.Mapping["name"] != "TEN" || got.CRS != "EPSG:9215" || got.Total != 5 {
			t.Fatalf("read back: %+v", got)
		}
		_, err = s.GetPlan(ctx, uuid.New())
		RequireCode(t, err, zone.CodeNotFound, "GetPlan of a missing id")
		_, err = s.CreatePlan(ctx, &zone.Plan{Name: "empty", CreatedBy: "alice"}, nil)
		RequireCode(t, err, zone.CodeInvalid, "CreatePlan without parcels")
		time.Sleep(2 * time.Millisecond)
		q, err := s.CreatePlan(ctx, &zone.Plan{Name: "B", CreatedBy: "bob"}, PlanParcels(1))
		if err != nil {
			t.Fatal(err)
		}
		all, err := s.ListPlans(ctx, "")
		if err != nil || len(all) != 2 || all[0].ID != q.ID || all[1].ID != p.ID {
			t.Fatalf("ListPlans: %v, %+v (want newest first)", err, all)
		}
		mine, err := s.ListPlans(ctx, "alice")
		if err != nil || len(mine) != 1 || mine[0].ID != p.ID {
			t.Fatalf("ListPlans(alice): %v %+v", err, mine)
		}
		if _, err := s.SetPlanState(ctx, q.ID, zone.PlanRunning, ""); err != nil {
			t.Fatal(err)
		}
		running, err := s.ListPlans(ctx, "", zone.PlanQueued, zone.PlanRunning)
		if err != nil || len(running) != 2 {
			t.Fatalf("ListPlans(queued, running): %v %d", err, len(running))
		}
		done, err := s.ListPlans(ctx, "", zone.PlanDone)
		if err != nil || len(done) != 0 {
			t.Fatalf("ListPlans(done): %v %d", err, len(done))
		}
		if err := s.DeletePlan(ctx, q.ID); err != nil {
			t.Fatal(err)
		}
		_, err = s.GetPlan(ctx, q.ID)
		RequireCode(t, err, zone.CodeNotFound, "GetPlan after DeletePlan")
	})
	t.Run("ParcelsRoundTrip", func(t *testing.T) {
		s := open(t)
		in := PlanParcels(3)
		p, err := s.CreatePlan(ctx, &zone.Plan{Name: "P", CreatedBy: "a"}, in)
		if err != nil {
			t.Fatal(err)
		}
		var got []*zone.PlanParcel
		if err := s.ListParcels(ctx, p.ID, zone.ParcelQuery{Clearance: zone.Secret}, func(pc *zone.PlanParcel) error {
			got = append(got, pc)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Fatalf("got %d parcels, want 3", len(got))
		}
		for i, pc := range got {
			if pc.Seq != i || pc.Name != in[i].Name || pc.Checked || !orb.Equal(pc.Geometry, in[i].Geometry) ||
				pc.Properties["MA_LO"] != in[i].Properties["MA_LO"] || pc.Properties[zone.PropSector] != "residential" {
				t.Fatalf("parcel %d read back as %+v", i, pc)
			}
		}
		err = s.ListParcels(ctx, uuid.New(), zone.ParcelQuery{}, func(*zone.PlanParcel) error { return nil })
		RequireCode(t, err, zone.CodeNotFound, "ListParcels of a missing plan")
	})
	t.Run("ProgressAndViews", func(t *testing.T) {
		s := open(t)
		p, err := s.CreatePlan(ctx, &zone.Plan{Name: "P", CreatedBy: "a"}, PlanParcels(4))
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		// Parcel 0: the public sees review (a referral), secret sees conflict.
		// Parcel 1: clear for everyone.
		if err := s.SaveParcelResults(ctx, p.ID, "rs-1", []zone.ParcelResult{
			{Seq: 0, Views: ParcelViews("review", "conflict", zone.Public), At: now},
			{Seq: 1, Views: ParcelViews("clear", "clear", zone.Public), At: now},
		}); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetPlan(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Done != 2 || got.RulesetVersion != "rs-1" {
			t.Fatalf("after 2 checks: done %d, rules %q", got.Done, got.RulesetVersion)
		}
		if c := got.PlanCounts(zone.Public); c["review"] != 1 || c["clear"] != 1 || c["conflict"] != 0 {
			t.Fatalf("public counts %v", c)
		}
		if c := got.PlanCounts(zone.Secret); c["conflict"] != 1 || c["clear"] != 1 || c["review"] != 0 {
			t.Fatalf("secret counts %v", c)
		}
		// The public reader reads its own view only.
		var seen []string
		if err := s.ListParcels(ctx, p.ID, zone.ParcelQuery{Clearance: zone.Public}, func(pc *zone.PlanParcel) error {
			if pc.Checked {
				if pc.Views[zone.Secret].Verdict != "" {
					t.Errorf("public reader got the secret view of parcel %d", pc.Seq)
				}
				var r struct {
					Verdict string `json:"verdict"`
					SeenBy  string `json:"seen_by"`
				}
				if err := json.Unmarshal(pc.Views[zone.Public].Result, &r); err != nil {
					t.Fatal(err)
				}
				seen = append(seen, pc.Views[zone.Public].Verdict+" "+r.Verdict+" "+r.SeenBy)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(seen) != 2 || seen[0] != "review review public" || seen[1] != "clear clear public" {
			t.Fatalf("public views %q", seen)
		}
		// Filters: by the reader's verdict; unchecked (resuming); from a seq; limits.
		count := func(q zone.ParcelQuery) []int {
			var seqs []int
			if err := s.ListParcels(ctx, p.ID, q, func(pc *zone.PlanParcel) error { seqs = append(seqs, pc.Seq); return nil }); err != nil {
				t.Fatal(err)
			}
			return seqs
		}
		if got := count(zone.ParcelQuery{Clearance: zone.Secret, Verdict: "conflict"}); fmt.Sprint(got) != "[0]" {
			t.Fatalf("secret conflict parcels %v", got)
		}
		if got := count(zone.ParcelQuery{Clearance: zone.Public, Verdict: "conflict"}); len(got) != 0 {
			t.Fatalf("public conflict parcels %v (the public sees a referral)", got)
		}
		if got := count(zone.ParcelQuery{Clearance: zone.Public, Unchecked: true}); fmt.Sprint(got) != "[2 3]" {
			t.Fatalf("unchecked parcels %v", got)
		}
		if got := count(zone.ParcelQuery{Clearance: zone.Public, FromSeq: 1, Limit: 2}); fmt.Sprint(got) != "[1 2]" {
			t.Fatalf("from 1, limit 2: %v", got)
		}
		if got := count(zone.ParcelQuery{Clearance: zone.Public, Offset: 3}); fmt.Sprint(got) != "[3]" {
			t.Fatalf("offset 3: %v", got)
		}
		b := orb.Bound{Min: orb.Point{106.7025, 21.80}, Max: orb.Point{106.7035, 21.801}}
		if got := count(zone.ParcelQuery{Clearance: zone.Public, Bound: &b}); fmt.Sprint(got) != "[2 3]" {
			t.Fatalf("in a box: %v (touching counts)", got)
		}
		// A recheck moves the counts, does not count twice, keeps its
		// reason, and leaves the job's time (every reader sees it).
		before, _ := s.GetPlan(ctx, p.ID)
		time.Sleep(10 * time.Millisecond)
		if err := s.SaveParcelResults(ctx, p.ID, "rs-2", []zone.ParcelResult{
			{Seq: 0, Views: ParcelViews("clear", "clear", zone.Public), Reason: "component moved", At: now},
		}); err != nil {
			t.Fatal(err)
		}
		got, _ = s.GetPlan(ctx, p.ID)
		if got.Done != 2 || got.PlanCounts(zone.Secret)["clear"] != 2 || got.PlanCounts(zone.Secret)["conflict"] != 0 || got.PlanCounts(zone.Public)["review"] != 0 {
			t.Fatalf("after a recheck: done %d counts %v / %v", got.Done, got.PlanCounts(zone.Public), got.PlanCounts(zone.Secret))
		}
		if !got.UpdatedAt.Equal(before.UpdatedAt) {
			t.Fatalf("a recheck moved the job's updated_at from %v to %v", before.UpdatedAt, got.UpdatedAt)
		}
		var reason string
		_ = s.ListParcels(ctx, p.ID, zone.ParcelQuery{Clearance: zone.Secret, Limit: 1}, func(pc *zone.PlanParcel) error { reason = pc.Reason; return nil })
		if reason != "component moved" {
			t.Fatalf("reason %q", reason)
		}
		err = s.SaveParcelResults(ctx, p.ID, "", []zone.ParcelResult{{Seq: 99, Views: ParcelViews("clear", "clear", zone.Public), At: now}})
		if err == nil {
			t.Fatal("a check of a parcel the plan lacks was stored")
		}
		err = s.SaveParcelResults(ctx, p.ID, "", []zone.ParcelResult{{Seq: 2, At: now}})
		RequireCode(t, err, zone.CodeInvalid, "a parcel check without views")
	})
	t.Run("CancelledStaysCancelled", func(t *testing.T) {
		s := open(t)
		p, err := s.CreatePlan(ctx, &zone.Plan{Name: "P", CreatedBy: "a"}, PlanParcels(1))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetPlanState(ctx, p.ID, zone.PlanCancelled, ""); err != nil {
			t.Fatal(err)
		}
		_, err = s.SetPlanState(ctx, p.ID, zone.PlanRunning, "")
		RequireCode(t, err, zone.CodeConflict, "running a cancelled plan")
		_, err = s.SetPlanState(ctx, p.ID, "bogus", "")
		RequireCode(t, err, zone.CodeInvalid, "an unknown state")
		_, err = s.SetPlanState(ctx, uuid.New(), zone.PlanDone, "")
		RequireCode(t, err, zone.CodeNotFound, "the state of a missing plan")
		got, _ := s.GetPlan(ctx, p.ID)
		if got.State != zone.PlanCancelled {
			t.Fatalf("state %q", got.State)
		}
	})
}
