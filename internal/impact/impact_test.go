package impact_test

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/data"
	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/embedded"
	"github.com/zoneplan/zoneplan/internal/impact"
	"github.com/zoneplan/zoneplan/internal/index"
	"github.com/zoneplan/zoneplan/internal/pgtest"
	"github.com/zoneplan/zoneplan/internal/postgis"
	"github.com/zoneplan/zoneplan/internal/storetest"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Metres per degree near 21.85 N, for placing test geometries only.
const (
	mPerDegLat = 110_760.0
	mPerDegLon = 103_650.0
)

var origin = orb.Point{106.70, 21.85}

// at returns p moved dx metres east and dy metres north.
func at(p orb.Point, dx, dy float64) orb.Point {
	return orb.Point{p[0] + dx/mPerDegLon, p[1] + dy/mPerDegLat}
}

// square is the axis-aligned square of half side h metres around p.
func square(p orb.Point, h float64) orb.Polygon {
	a, b := at(p, -h, -h), at(p, h, h)
	return orb.Polygon{{a, {b[0], a[1]}, b, {a[0], b[1]}, a}}
}

// depot is an ammunition depot (a point with a provisional 500 m safety
// belt) of classification cl at p.
func depot(cl zone.Classification, p orb.Point) *zone.Component {
	return &zone.Component{Layer: zone.LayerDefenceWorks, Kind: zone.KindDepot, Name: "Kho K9", Code: "K9",
		Classification: cl, FunctionType: zone.FunctionC, Group: zone.GroupI, Synthetic: true, Geometry: p,
		Zones: []zone.ProtectionZone{{Kind: zone.SafetyBelt, WidthM: 500}}}
}

// rig is a store with what zoneplan serve runs beside it: the rule set in
// force, a following index, the watcher and the re-check.
type rig struct {
	st     zone.Store
	active *check.Active
	ix     *index.Index
	w      *impact.Watcher

	mu     sync.Mutex
	audits []zone.AuditEntry
	told   []string // reasons the cleared subscriber was told
}

func newRig(t testing.TB, st zone.Store, flagOnly bool) *rig {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	active, err := check.NewActive(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	ix := index.New()
	active.Watch(func(e *check.Engine) { ix.SetConsultation(e) })
	if err := ix.Load(ctx, st); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { _ = ix.Follow(ctx, st, nil) })
	r := &rig{st: st, active: active, ix: ix}
	w, _, wait := impact.Start(ctx, impact.Config{Store: st, Rules: active, Index: ix, FlagOnly: flagOnly,
		Audit: func(e zone.AuditEntry) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.audits = append(r.audits, e)
		}})
	w.Subscribe(func(ctx context.Context, area []orb.Bound, all bool, reason string) error {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.told = append(r.told, reason)
		return nil
	})
	r.w = w
	t.Cleanup(func() {
		cancel()
		wait()
		wg.Wait()
	})
	select {
	case <-w.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("the watcher did not load")
	}
	return r
}

// appraise stores an appraisal of a factory on footprint, checked against
// the data in force, as the API does.
func (r *rig) appraise(t *testing.T, name string, footprint orb.Geometry) *zone.Appraisal {
	t.Helper()
	site := storetest.NewComponent(zone.LayerProjectSites, name, footprint)
	site.Kind = "factory"
	site.Properties = map[string]any{zone.PropInvestor: "Công ty " + name}
	if err := r.ix.Sync(t.Context(), r.st); err != nil {
		t.Fatal(err)
	}
	rec, _, err := r.active.Engine().StoredCheck(r.ix.Snapshot(), site, uuid.Nil, "appr")
	if err != nil {
		t.Fatal(err)
	}
	a, err := r.st.CreateAppraisal(t.Context(), &zone.Appraisal{Name: name, CreatedBy: "appr"}, site, rec)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// waitFor polls cond until it holds (a generous bound: the machine is
// shared; this asserts what happens, not how fast).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *rig) get(t *testing.T, id uuid.UUID, cl zone.Classification) *zone.Appraisal {
	t.Helper()
	a, err := r.st.GetAppraisal(t.Context(), id, cl)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

type storeKind struct {
	name string
	open func(t testing.TB) (zone.Store, string)
}

func stores() []storeKind {
	return []storeKind{
		{"embedded", func(t testing.TB) (zone.Store, string) {
			st, err := embedded.Open(filepath.Join(t.TempDir(), "z.db"), embedded.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st, ""
		}},
		{"postgis", func(t testing.TB) (zone.Store, string) {
			dsn := pgtest.New(t)
			if err := postgis.Migrate(context.Background(), dsn, nil); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			st, err := postgis.Open(context.Background(), dsn, postgis.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st, dsn
		}},
	}
}

// Each path that changes the defence data reaches the appraisals near the
// change and no other: the near one, approved while the depot was far, is
// marked stale with the depot's id and version, re-checked in the
// background into a new record (the first kept) whose diff shows the
// verdict worse and the depot's finding added, and the audit trail says so.
func TestChangePathsMarkAndRecheck(t *testing.T) {
	paths := []struct {
		name     string
		postgis  bool // the path exists only on PostGIS
		moveNear func(t *testing.T, r *rig, dsn string, d *zone.Component, to orb.Point)
	}{
		{"update", false, func(t *testing.T, r *rig, _ string, d *zone.Component, to orb.Point) {
			c := d.Clone()
			c.Geometry = to
			if _, err := r.st.UpdateComponent(t.Context(), c, d.Version, zone.Secret, "editor"); err != nil {
				t.Fatal(err)
			}
		}},
		{"import", false, func(t *testing.T, r *rig, _ string, d *zone.Component, to orb.Point) {
			c := d.Clone()
			c.Geometry, c.Version = to, 0
			if _, err := r.st.ImportComponents(t.Context(), zone.LayerDefenceWorks, []*zone.Component{c}, zone.ImportOptions{Upsert: true, By: "cli:test"}); err != nil {
				t.Fatal(err)
			}
		}},
		{"sql", true, func(t *testing.T, r *rig, dsn string, d *zone.Component, to orb.Point) {
			// A QGIS edit: straight on the table, zoneplan not involved.
			conn, err := pgx.Connect(t.Context(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.Background())
			if _, err := conn.Exec(t.Context(), `UPDATE components SET geom = ST_SetSRID(ST_MakePoint($2, $3), 4326) WHERE id = $1`,
				d.ID, to[0], to[1]); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, kind := range stores() {
		for _, path := range paths {
			if path.postgis && kind.name != "postgis" {
				continue
			}
			t.Run(kind.name+"/"+path.name, func(t *testing.T) {
				st, dsn := kind.open(t)
				ctx := t.Context()
				d, err := st.CreateComponent(ctx, depot(zone.Public, at(origin, 5000, 0)), "editor")
				if err != nil {
					t.Fatal(err)
				}
				r := newRig(t, st, false)
				near := r.appraise(t, "Nhà máy gần", square(origin, 50))
				far := r.appraise(t, "Nhà máy xa", square(at(origin, -20000, 0), 50))
				if near.Verdict != "clear" {
					t.Fatalf("near appraisal first %s, want clear (the depot is 5 km away)", near.Verdict)
				}
				if _, err := st.DecideAppraisal(ctx, near.ID, zone.Decision{Outcome: zone.StatusApproved, By: "reviewer"}, zone.Secret); err != nil {
					t.Fatal(err)
				}

				path.moveNear(t, r, dsn, d, at(origin, 300, 0))

				var got *zone.Appraisal
				waitFor(t, "the re-check of the near appraisal", func() bool {
					got = r.get(t, near.ID, zone.Secret)
					return len(got.Checks) == 2
				})
				m := got.Stale
				if m == nil || !strings.Contains(m.Reason, d.ID.String()) || !strings.Contains(m.Reason, "version 2") || !m.Rechecked || !m.Worse {
					t.Errorf("stale mark %+v; want the depot's id and version 2, re-checked, worse", m)
				}
				newest, first := got.Checks[0], got.Checks[1]
				if !newest.Recheck || first.Recheck || first.Verdict != "clear" || newest.Verdict != "review" {
					t.Errorf("records: newest %s recheck=%v, first %s recheck=%v; want the re-check (review) over the kept first check (clear)",
						newest.Verdict, newest.Recheck, first.Verdict, first.Recheck)
				}
				if df := newest.Diff; df == nil || df.VerdictFrom != "clear" || df.VerdictTo != "review" || len(df.Added) == 0 ||
					df.Added[0].Component != d.ID.String() || len(df.Removed) != 0 {
					t.Errorf("diff %+v; want clear -> review with the depot's finding added", df)
				}
				// Everyone sees the public depot: the public reader is told too.
				if pub := r.get(t, near.ID, zone.Public); pub.Stale == nil || !pub.Stale.Worse || len(pub.Checks) != 2 {
					t.Errorf("public reader: stale %+v, %d records; want told (the depot is public)", pub.Stale, len(pub.Checks))
				}
				if f := r.get(t, far.ID, zone.Secret); f.Stale != nil || len(f.Checks) != 1 {
					t.Errorf("the far appraisal: stale %+v, %d records; want untouched", f.Stale, len(f.Checks))
				}
				list, _, err := st.ListAppraisals(ctx, zone.AppraisalQuery{Stale: true, WorseFirst: true, Clearance: zone.Secret})
				if err != nil || len(list) != 1 || list[0].ID != near.ID {
					t.Errorf("stale list = %v, %v; want the near one only", list, err)
				}
				r.mu.Lock()
				defer r.mu.Unlock()
				if len(r.audits) != 1 || r.audits[0].Action != impact.AuditWorse || r.audits[0].Object != near.ID.String() ||
					r.audits[0].Classification != zone.Public || !bytes.Contains(r.audits[0].Detail, []byte(`"verdict_to":"review"`)) {
					t.Errorf("audit entries %+v; want one %s of the near appraisal, public, to review", r.audits, impact.AuditWorse)
				}
				if len(r.told) == 0 || !strings.Contains(r.told[0], d.ID.String()) {
					t.Errorf("the cleared subscriber was told %q", r.told)
				}
			})
		}
	}
}

// A rule set loaded by `zoneplan rules load` (another process: an Active
// of its own on the same store) reaches this server's rule set when it
// refreshes, and every appraisal then, near or far, for every reader.
// With --recheck off (flag only) nothing is re-checked.
func TestRuleSetLoadMarksEveryAppraisal(t *testing.T) {
	for _, kind := range stores() {
		t.Run(kind.name, func(t *testing.T) {
			st, _ := kind.open(t)
			r := newRig(t, st, true)
			a := r.appraise(t, "Nhà máy A", square(origin, 50))
			b := r.appraise(t, "Nhà máy B", square(at(origin, -20000, 0), 50))
			cli, err := check.NewActive(t.Context(), st)
			if err != nil {
				t.Fatal(err)
			}
			doc := bytes.Replace(data.DefaultRules(), []byte(`version: "2025.12-1"`), []byte(`version: "2026.1"`), 1)
			if _, err := cli.Load(t.Context(), doc, "cli:test"); err != nil {
				t.Fatal(err)
			}
			if err := r.active.Refresh(t.Context()); err != nil { // what serve's Follow does
				t.Fatal(err)
			}
			for _, id := range []uuid.UUID{a.ID, b.ID} {
				for _, cl := range zone.Classifications() {
					waitFor(t, "the rule-set mark", func() bool { return r.get(t, id, cl).Stale != nil })
					got := r.get(t, id, cl)
					if !strings.Contains(got.Stale.Reason, "2026.1") || got.Stale.Rechecked || len(got.Checks) != 1 {
						t.Errorf("%s as %s: stale %+v, %d records; want the new version named, no re-check (flag only)", got.Name, cl, got.Stale, len(got.Checks))
					}
				}
			}
			q, err := st.StaleAppraisals(t.Context(), 10)
			if err != nil || len(q) != 2 {
				t.Errorf("queue %v, %v; want both awaiting a re-check", q, err)
			}
		})
	}
}

// The secrecy differential at the store: the same appraisals in two
// worlds, one where a secret depot (near an appraisal, cells unchanged)
// is edited and moved within its consultation cell, one where it is not.
// Every reader below secret reads identical appraisals, records and
// lists in both; the secret reader is told of the change.
func TestHiddenEditTellsUnclearedNothing(t *testing.T) {
	for _, kind := range stores() {
		t.Run(kind.name, func(t *testing.T) {
			worlds := [2]string{}
			var secretTold [2]bool
			for i, edit := range []bool{false, true} {
				st, _ := kind.open(t)
				ctx := t.Context()
				d := depot(zone.Secret, at(origin, 400, 0))
				d.ID = uuid.MustParse("5ec0e700-0000-4000-8000-00000000d001")
				d, err := st.CreateComponent(ctx, d, "editor")
				if err != nil {
					t.Fatal(err)
				}
				r := newRig(t, st, false)
				ids := []uuid.UUID{
					uuid.MustParse("a0000000-0000-4000-8000-000000000001"),
					uuid.MustParse("a0000000-0000-4000-8000-000000000002"),
				}
				for j, fp := range []orb.Geometry{square(origin, 50), square(at(origin, 20000, 0), 50)} {
					site := storetest.NewComponent(zone.LayerProjectSites, "Dự án", fp)
					site.ID = uuid.MustParse("b0000000-0000-4000-8000-00000000000" + string(rune('1'+j)))
					site.Kind = "factory"
					site.Properties = map[string]any{zone.PropInvestor: "Công ty"}
					if err := r.ix.Sync(ctx, st); err != nil {
						t.Fatal(err)
					}
					rec, _, err := r.active.Engine().StoredCheck(r.ix.Snapshot(), site, ids[j], "appr")
					if err != nil {
						t.Fatal(err)
					}
					rec.ID = uuid.MustParse("c0000000-0000-4000-8000-00000000000" + string(rune('1'+j)))
					rec.CreatedAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
					rec.DataVersion = 0
					if _, err := st.CreateAppraisal(ctx, &zone.Appraisal{ID: ids[j], Name: "Dự án", CreatedBy: "appr",
						CreatedAt: rec.CreatedAt}, site, rec); err != nil {
						t.Fatal(err)
					}
				}
				created := map[uuid.UUID]time.Time{}
				for _, id := range ids {
					created[id] = r.get(t, id, zone.Secret).UpdatedAt
				}
				if edit {
					// Moved 80 m and its belt widened by 20 m: still
					// within its cells (the cells are 2 km and more).
					c := d.Clone()
					c.Geometry = at(origin, 480, 0)
					c.Zones[0].WidthM = 520
					if _, err := st.UpdateComponent(ctx, c, d.Version, zone.Secret, "editor"); err != nil {
						t.Fatal(err)
					}
					e := r.active.Engine()
					if !sameCells(e, d, c) {
						t.Fatal("the edit changed the depot's cells: the test would not isolate a hidden edit")
					}
				}
				// Let the watcher and the re-check finish: the secret
				// reader's view is the witness that they ran.
				if edit {
					waitFor(t, "the secret reader's re-check", func() bool {
						a := r.get(t, ids[0], zone.Secret)
						return a.Stale != nil && a.Stale.Rechecked
					})
					secretTold[i] = true
				} else {
					time.Sleep(3 * time.Second) // as long as a watcher poll; nothing to wait for
				}
				var out bytes.Buffer
				for _, cl := range []zone.Classification{zone.Public, zone.Internal, zone.Restricted} {
					for _, id := range ids {
						a := r.get(t, id, cl)
						// Times are the store's clock, different in each
						// world: whether the update time moved is compared.
						moved := !a.UpdatedAt.Equal(created[id])
						a.UpdatedAt, a.CreatedAt = time.Time{}, time.Time{}
						b, _ := json.Marshal(map[string]any{"appraisal": a, "updated_moved": moved})
						out.Write(b)
					}
					for _, q := range []zone.AppraisalQuery{{Stale: true, Clearance: cl}, {Clearance: cl, WorseFirst: true}} {
						items, total, err := st.ListAppraisals(ctx, q)
						if err != nil {
							t.Fatal(err)
						}
						for k := range items {
							if !items[k].UpdatedAt.Equal(created[items[k].ID]) {
								out.WriteString("moved:" + items[k].ID.String())
							}
							items[k].UpdatedAt, items[k].CreatedAt = time.Time{}, time.Time{}
						}
						b, _ := json.Marshal(map[string]any{"items": items, "total": total})
						out.Write(b)
					}
				}
				// A record's data view hashes the data its reader sees,
				// the project sites made in this world by the store's
				// clock included: the first records were written before
				// the edit, with times differing between the worlds.
				worlds[i] = dataView.ReplaceAllString(out.String(), `"data_view":"…"`)
			}
			if worlds[0] != worlds[1] {
				t.Errorf("LEAK: readers below secret read differently after a hidden edit:\nwithout: %s\n   with: %s", worlds[0], worlds[1])
			}
			if !secretTold[1] {
				t.Error("the secret reader was not told of the edit")
			}
		})
	}
}

var dataView = regexp.MustCompile(`"data_view":"[0-9a-f]*"`)

func sameCells(e *check.Engine, a, b *zone.Component) bool {
	ra, _ := e.Reach(a)
	rb, _ := e.Reach(b)
	ca := e.Grid().Covering(ra, a.Geometry)
	cb := e.Grid().Covering(rb, b.Geometry)
	if len(ca) != len(cb) {
		return false
	}
	for k := range ca {
		if _, ok := cb[k]; !ok {
			return false
		}
	}
	return true
}

// Two secret depots share their consultation cells; one moves far away.
// The cells hidden from lower readers near the appraisal are still all
// there (the other depot covers them): only the secret reader is told;
// near the new place the cells appear, and a lower reader's appraisal
// there is told, as "the consultation areas changed" and nothing more.
func TestSharedCellsTellLowerReadersNothing(t *testing.T) {
	st, _ := stores()[0].open(t)
	ctx := t.Context()
	first, err := st.CreateComponent(ctx, depot(zone.Secret, at(origin, 400, 0)), "editor")
	if err != nil {
		t.Fatal(err)
	}
	second := depot(zone.Secret, at(origin, 400, 0))
	second.Code = "K10"
	if _, err := st.CreateComponent(ctx, second, "editor"); err != nil {
		t.Fatal(err)
	}
	r := newRig(t, st, true)
	here := r.appraise(t, "Ở đây", square(origin, 50))
	there := r.appraise(t, "Ở kia", square(at(origin, 30000, 0), 50))
	moved := first.Clone()
	moved.Geometry = at(origin, 30400, 0)
	if _, err := st.UpdateComponent(ctx, moved, first.Version, zone.Secret, "editor"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the secret mark", func() bool { return r.get(t, here.ID, zone.Secret).Stale != nil })
	waitFor(t, "the mark where the cells appeared", func() bool { return r.get(t, there.ID, zone.Public).Stale != nil })
	for _, cl := range []zone.Classification{zone.Public, zone.Internal, zone.Restricted} {
		if m := r.get(t, here.ID, cl).Stale; m != nil {
			t.Errorf("LEAK: %s reader told %+v near cells another hidden depot still covers", cl, m)
		}
		if m := r.get(t, there.ID, cl).Stale; m == nil || m.Reason != "the consultation areas changed" {
			t.Errorf("%s reader where the cells appeared: %+v; want told only that the consultation areas changed", cl, m)
		}
	}
	if m := r.get(t, there.ID, zone.Secret).Stale; m == nil || !strings.Contains(m.Reason, first.ID.String()) {
		t.Errorf("the secret reader: %+v; want the depot named", m)
	}
}
