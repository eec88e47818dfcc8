package plan_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/embedded"
	"github.com/zoneplan/zoneplan/internal/index"
	"github.com/zoneplan/zoneplan/internal/plan"
	"github.com/zoneplan/zoneplan/internal/storetest"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// world is a store with the index and rule engine a server would use.
type world struct {
	path   string
	store  *embedded.Store
	ix     *index.Index
	active *check.Active
	cancel context.CancelFunc
}

func openWorld(t *testing.T, path string) *world {
	t.Helper()
	st, err := embedded.Open(path, embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &world{path: path, store: st, ix: index.New(), cancel: cancel}
	if err := w.ix.Load(ctx, st); err != nil {
		t.Fatal(err)
	}
	go w.ix.Follow(ctx, st, nil)
	if w.active, err = check.NewActive(ctx, st); err != nil {
		t.Fatal(err)
	}
	w.active.Watch(func(e *check.Engine) { w.ix.SetConsultation(e) })
	t.Cleanup(w.close)
	return w
}

func (w *world) close() {
	w.cancel()
	w.store.Close()
}

func (w *world) sync(t *testing.T) {
	t.Helper()
	v, err := w.store.DataVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.ix.WaitFor(ctx, v); err != nil {
		t.Fatal(err)
	}
}

func (w *world) manager(opt plan.Options) *plan.Manager {
	opt.Store = w.store
	opt.Engine = w.active.Engine
	opt.Source = func() check.Source { return w.ix.Snapshot() }
	return plan.New(opt)
}

// secretDepot stores a secret depot on parcel seq of storetest.PlanParcels.
func secretDepot(t *testing.T, st zone.Store, seq int) *zone.Component {
	t.Helper()
	lon := 106.70 + float64(seq)*0.001
	c := storetest.NewComponent(zone.LayerDefenceWorks, "kho K", storetest.Square(lon+0.0003, 21.8003, 0.0004))
	c.Kind, c.Classification = zone.KindDepot, zone.Secret
	return storetest.Create(t, st, c)
}

func waitState(t *testing.T, st zone.PlanStore, p *zone.Plan, want string) *zone.Plan {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		got, err := st.GetPlan(context.Background(), p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State == want {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("plan still %s (%d/%d done), want %s", got.State, got.Done, got.Total, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func verdictOf(t *testing.T, st zone.PlanStore, p *zone.Plan, seq int, cl zone.Classification) (string, check.Result) {
	t.Helper()
	var v zone.CheckView
	if err := st.ListParcels(context.Background(), p.ID, zone.ParcelQuery{Clearance: cl, FromSeq: seq, Limit: 1}, func(pc *zone.PlanParcel) error {
		v = pc.Views[cl]
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var res check.Result
	if err := json.Unmarshal(v.Result, &res); err != nil {
		t.Fatalf("parcel %d's %s view: %v (%s)", seq, cl, err, v.Result)
	}
	return v.Verdict, res
}

func TestJobChecksEveryParcelAsEachClearanceSeesIt(t *testing.T) {
	w := openWorld(t, filepath.Join(t.TempDir(), "z.db"))
	secretDepot(t, w.store, 2)
	w.sync(t)
	m := w.manager(plan.Options{Batch: 3, Page: 5})
	if err := m.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p, err := m.Submit(t.Context(), &zone.Plan{Name: "xã A", CreatedBy: "alice"}, storetest.PlanParcels(8))
	if err != nil {
		t.Fatal(err)
	}
	got := waitState(t, w.store, p, zone.PlanDone)
	if got.Done != 8 || got.RulesetVersion == "" {
		t.Fatalf("done %d of %d, rule set %q", got.Done, got.Total, got.RulesetVersion)
	}
	if c := got.PlanCounts(zone.Secret); c["conflict"] != 1 {
		t.Fatalf("secret counts %v: want the parcel on the depot in conflict", c)
	}
	if c := got.PlanCounts(zone.Public); c["conflict"] != 0 || c["review"] < 1 {
		t.Fatalf("public counts %v: want the depot's parcel referred (review), no conflict", c)
	}
	v, res := verdictOf(t, w.store, p, 2, zone.Secret)
	if v != "conflict" || len(res.Findings) == 0 || res.Findings[0].Component.Name != "kho K" {
		t.Fatalf("secret view of parcel 2: %s %+v", v, res.Findings)
	}
	v, res = verdictOf(t, w.store, p, 2, zone.Public)
	if v != "review" || len(res.Findings) != 1 || !res.Findings[0].Referral() {
		t.Fatalf("public view of parcel 2: %s %+v", v, res.Findings)
	}
	if _, err := m.Cancel(t.Context(), p.ID); zone.ErrorCode(err) != zone.CodeConflict {
		t.Fatalf("cancelling a finished plan: %v, want conflict", err)
	}
}

// slowGate admits a batch only when let through, so a test can stop a
// job between batches.
type slowGate struct {
	open    chan struct{}
	batches atomic.Int64
}

func (g *slowGate) Acquire(ctx context.Context) (func(), error) {
	select {
	case <-g.open:
		g.batches.Add(1)
		return func() {}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func TestJobResumesAfterRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "z.db")
	w := openWorld(t, path)
	secretDepot(t, w.store, 7)
	w.sync(t)
	gate := &slowGate{open: make(chan struct{})}
	m := w.manager(plan.Options{Batch: 4, Page: 4, Parallel: 1, Gate: gate})
	if err := m.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	p, err := m.Submit(t.Context(), &zone.Plan{Name: "P", CreatedBy: "alice"}, storetest.PlanParcels(12))
	if err != nil {
		t.Fatal(err)
	}
	gate.open <- struct{}{} // one batch of 4
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := w.store.GetPlan(t.Context(), p.ID)
		if got.Done == 4 {
			if got.State != zone.PlanRunning {
				t.Fatalf("state %s while running", got.State)
			}
			for _, ok := m.Remaining(got); !ok; _, ok = m.Remaining(got) {
				if time.Now().After(deadline) {
					t.Fatal("no estimate of the time left after a batch")
				}
				time.Sleep(5 * time.Millisecond)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("first batch not stored: %+v", got)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The server stops mid-job: the job stays running in the store.
	m.Close()
	w.close()

	w2 := openWorld(t, path)
	got, err := w2.store.GetPlan(t.Context(), p.ID)
	if err != nil || got.State != zone.PlanRunning || got.Done != 4 {
		t.Fatalf("after restart: %v %+v", err, got)
	}
	m2 := w2.manager(plan.Options{Batch: 4})
	if err := m2.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	got = waitState(t, w2.store, p, zone.PlanDone)
	if got.Done != 12 || got.PlanCounts(zone.Secret)["conflict"] != 1 {
		t.Fatalf("resumed job: done %d counts %v", got.Done, got.PlanCounts(zone.Secret))
	}
	total := 0
	for _, n := range got.PlanCounts(zone.Secret) {
		total += n
	}
	if total != 12 {
		t.Fatalf("counts add up to %d, want 12 (no parcel counted twice)", total)
	}
}

func TestCancelStopsAJob(t *testing.T) {
	w := openWorld(t, filepath.Join(t.TempDir(), "z.db"))
	gate := &slowGate{open: make(chan struct{})}
	m := w.manager(plan.Options{Batch: 2, Page: 2, Parallel: 1, Gate: gate})
	if err := m.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p, err := m.Submit(t.Context(), &zone.Plan{Name: "P", CreatedBy: "alice"}, storetest.PlanParcels(10))
	if err != nil {
		t.Fatal(err)
	}
	gate.open <- struct{}{}
	for {
		got, _ := w.store.GetPlan(t.Context(), p.ID)
		if got.Done == 2 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	c, err := m.Cancel(t.Context(), p.ID)
	if err != nil || c.State != zone.PlanCancelled {
		t.Fatalf("Cancel: %v %+v", err, c)
	}
	// Nothing is checked after the cancel, however long the gate stays open.
	close(gate.open)
	time.Sleep(200 * time.Millisecond)
	got, _ := w.store.GetPlan(t.Context(), p.ID)
	if got.State != zone.PlanCancelled || got.Done > 4 {
		t.Fatalf("after cancel: %s, %d done", got.State, got.Done)
	}
	// A new manager (a restart) does not resume a cancelled job.
	m.Close()
	m2 := w.manager(plan.Options{})
	if err := m2.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	time.Sleep(200 * time.Millisecond)
	got2, _ := w.store.GetPlan(t.Context(), p.ID)
	if got2.State != zone.PlanCancelled || got2.Done != got.Done {
		t.Fatalf("after a restart: %s, %d done (was %d)", got2.State, got2.Done, got.Done)
	}
}

func TestRecheckOnlyWhereTheChangeReaches(t *testing.T) {
	w := openWorld(t, filepath.Join(t.TempDir(), "z.db"))
	m := w.manager(plan.Options{Batch: 3})
	if err := m.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p, err := m.Submit(t.Context(), &zone.Plan{Name: "P", CreatedBy: "alice"}, storetest.PlanParcels(10))
	if err != nil {
		t.Fatal(err)
	}
	got := waitState(t, w.store, p, zone.PlanDone)
	if got.PlanCounts(zone.Secret)["conflict"] != 0 {
		t.Fatalf("conflicts before any depot: %v", got.PlanCounts(zone.Secret))
	}
	// A depot appears on parcel 5; the change's box covers parcels 5 and 6 only.
	secretDepot(t, w.store, 5)
	w.sync(t)
	box := orb.Bound{Min: orb.Point{106.7052, 21.8002}, Max: orb.Point{106.7062, 21.8008}}
	n, err := m.Recheck(t.Context(), []orb.Bound{box}, false, "component kho K created")
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("rechecked %d parcels, want 2 (5 and 6)", n)
	}
	got, _ = w.store.GetPlan(t.Context(), p.ID)
	if got.Done != 10 || got.PlanCounts(zone.Secret)["conflict"] != 1 {
		t.Fatalf("after recheck: done %d counts %v", got.Done, got.PlanCounts(zone.Secret))
	}
	reasons := map[int]string{}
	_ = w.store.ListParcels(t.Context(), p.ID, zone.ParcelQuery{Clearance: zone.Secret}, func(pc *zone.PlanParcel) error {
		reasons[pc.Seq] = pc.Reason
		return nil
	})
	if reasons[5] != "component kho K created" || reasons[6] != "component kho K created" || reasons[4] != "" || reasons[7] != "" {
		t.Fatalf("reasons %v", reasons)
	}
	// all: every parcel of every finished job.
	if n, err = m.Recheck(t.Context(), nil, true, "rule set 2"); err != nil || n != 10 {
		t.Fatalf("Recheck(all): %d, %v", n, err)
	}
	if n, err = m.Recheck(t.Context(), nil, false, "nothing"); err != nil || n != 0 {
		t.Fatalf("Recheck(no area): %d, %v", n, err)
	}
}

// RecheckLater (what serve subscribes to change impact) returns at once
// and the manager's own goroutine re-checks the parcels the change reaches;
// requests made meanwhile are merged.
func TestRecheckLaterRunsInTheBackground(t *testing.T) {
	w := openWorld(t, filepath.Join(t.TempDir(), "z.db"))
	m := w.manager(plan.Options{Batch: 3})
	if err := m.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p, err := m.Submit(t.Context(), &zone.Plan{Name: "P", CreatedBy: "alice"}, storetest.PlanParcels(10))
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, w.store, p, zone.PlanDone)
	secretDepot(t, w.store, 5)
	w.sync(t)
	box := orb.Bound{Min: orb.Point{106.7052, 21.8002}, Max: orb.Point{106.7062, 21.8008}}
	m.RecheckLater(nil, false, "nothing") // no area: nothing to do
	m.RecheckLater([]orb.Bound{box}, false, "component kho K created")
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := w.store.GetPlan(t.Context(), p.ID)
		if got.PlanCounts(zone.Secret)["conflict"] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not re-checked in the background: counts %v", got.PlanCounts(zone.Secret))
		}
		time.Sleep(20 * time.Millisecond)
	}
	reasons := map[int]string{}
	_ = w.store.ListParcels(t.Context(), p.ID, zone.ParcelQuery{Clearance: zone.Secret}, func(pc *zone.PlanParcel) error {
		reasons[pc.Seq] = pc.Reason
		return nil
	})
	if reasons[5] != "component kho K created" || reasons[4] != "" {
		t.Fatalf("reasons %v", reasons)
	}
}
