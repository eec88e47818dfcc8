package impact_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/storetest"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// benchAppraisals is how many stored appraisals the benchmarks mark.
const benchAppraisals = 10_000

// fillAppraisals stores n appraisals of small sites on a 10 m lattice
// around origin (100 per row: a square of about 1 km, all within a
// 500 m belt's reach of a depot at its centre), with a first check
// record each (clear, no finding).
func fillAppraisals(tb testing.TB, st zone.Store, n int) []uuid.UUID {
	tb.Helper()
	ids := make([]uuid.UUID, n)
	clear := json.RawMessage(`{"verdict":"clear","findings":[]}`)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < n; i += 4 {
				p := at(origin, float64(i%100)*10-500, float64(i/100)*10-500)
				site := storetest.NewComponent(zone.LayerProjectSites, fmt.Sprintf("Lô %d", i), square(p, 2))
				site.Kind = "factory"
				site.Properties = map[string]any{zone.PropInvestor: "Công ty"}
				rec := zone.CheckRecord{CreatedBy: "bench", RulesetVersion: "2025.12-1"}
				for _, cl := range zone.Classifications() {
					rec.Views[cl] = zone.CheckView{Verdict: "clear", Result: clear}
				}
				a, err := st.CreateAppraisal(context.Background(), &zone.Appraisal{Name: site.Name, CreatedBy: "bench"}, site, rec)
				if err != nil {
					errs <- err
					return
				}
				ids[i] = a.ID
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
	return ids
}

// BenchmarkMarkStale measures marking stored appraisals stale, on both
// stores: one appraisal (the baseline), all 10,000 by area (a change whose
// reach covers them), and all by a rule-set change.
func BenchmarkMarkStale(b *testing.B) {
	for _, kind := range stores() {
		b.Run(kind.name, func(b *testing.B) {
			st, _ := kind.open(b)
			ids := fillAppraisals(b, st, benchAppraisals)
			one, err := st.GetAppraisal(context.Background(), ids[0], zone.Secret)
			if err != nil {
				b.Fatal(err)
			}
			site, err := st.GetComponent(context.Background(), one.SiteID, zone.Secret)
			if err != nil {
				b.Fatal(err)
			}
			whole := orb.Bound{Min: at(origin, -600, -600), Max: at(origin, 600, 600)}
			cases := []struct {
				name string
				im   zone.Impact
				want int
			}{
				{"area-1", zone.Impact{zone.Secret: {Area: []orb.Bound{site.Bound()}, Reason: "bench"}}, 1},
				{"area-10000", zone.Impact{zone.Secret: {Area: []orb.Bound{whole}, Reason: "bench"}}, benchAppraisals},
				{"rules-10000", zone.Impact{
					zone.Public: {All: true, Reason: "bench"}, zone.Internal: {All: true, Reason: "bench"},
					zone.Restricted: {All: true, Reason: "bench"}, zone.Secret: {All: true, Reason: "bench"}}, benchAppraisals},
			}
			for _, c := range cases {
				b.Run(c.name, func(b *testing.B) {
					for b.Loop() {
						n, err := st.MarkStale(context.Background(), c.im)
						if err != nil || n != c.want {
							b.Fatalf("MarkStale = %d, %v; want %d", n, err, c.want)
						}
					}
				})
			}
		})
	}
}

// BenchmarkChangeToStale measures the whole path, as zoneplan serve runs
// it (flag only): from a committed move of a depot whose reach covers
// 10,000 stored appraisals to every one of them marked (the mark is one
// transaction: a sampled appraisal's reason naming the new version says
// all are).
func BenchmarkChangeToStale(b *testing.B) {
	for _, kind := range stores() {
		b.Run(kind.name, func(b *testing.B) {
			st, _ := kind.open(b)
			ids := fillAppraisals(b, st, benchAppraisals)
			d, err := st.CreateComponent(context.Background(), depot(zone.Public, origin), "bench")
			if err != nil {
				b.Fatal(err)
			}
			newRig(b, st, true)
			last := ids[len(ids)-1]
			for i := 0; b.Loop(); i++ {
				c := d.Clone()
				c.Geometry = at(origin, float64(i%2)*20, 0)
				if d, err = st.UpdateComponent(context.Background(), c, d.Version, zone.Secret, "bench"); err != nil {
					b.Fatal(err)
				}
				want := fmt.Sprintf("version %d", d.Version)
				for {
					a, err := st.GetAppraisal(context.Background(), last, zone.Secret)
					if err != nil {
						b.Fatal(err)
					}
					if a.Stale != nil && strings.Contains(a.Stale.Reason, want) {
						break
					}
					time.Sleep(time.Millisecond)
				}
			}
		})
	}
}
