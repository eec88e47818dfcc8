package index

import (
	"context"
	"errors"
	"log/slog"
	"math/rand"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/embedded"
	"github.com/zoneplan/zoneplan/internal/pgtest"
	"github.com/zoneplan/zoneplan/internal/postgis"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// The index agrees with the store after a long random sequence of mixed
// operations: creates, geometry, classification and layer updates, deletes
// and import batches, written to a real store while the index follows it.

func TestAgreementEmbedded(t *testing.T) {
	s := openEmbedded(t, embedded.Options{})
	runAgreement(t, s, s, 11, agreementOps())
}

// TestAgreementPostGIS writes through one store instance and has the index
// follow a second one on the same database, as two server instances would.
func TestAgreementPostGIS(t *testing.T) {
	dsn := pgtest.New(t)
	if err := postgis.Migrate(context.Background(), dsn, nil); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	writer, follower := openPostGIS(t, dsn), openPostGIS(t, dsn)
	runAgreement(t, writer, follower, 12, agreementOps())
}

// agreementOps is the length of the random sequence: 2,000 operations, or
// 300 with -short.
func agreementOps() int {
	if testing.Short() {
		return 300
	}
	return 2000
}

// TestReloadWhenChangesPruned lets the index fall behind a store that keeps
// only a few changes: Sync must notice and reload everything.
func TestReloadWhenChangesPruned(t *testing.T) {
	ctx := context.Background()
	s := openEmbedded(t, embedded.Options{KeepChanges: 10})
	syn := newSynthesizer(13)
	for i := 0; i < 30; i++ {
		if _, err := s.CreateComponent(ctx, syn.component(), "index-test"); err != nil {
			t.Fatal(err)
		}
	}
	ix := New()
	if err := ix.Load(ctx, s); err != nil {
		t.Fatalf("Load: %v", err)
	}
	behind := ix.Version()
	rng := rand.New(rand.NewSource(14))
	live := listIDs(t, s)
	for i := 0; i < 40; i++ {
		if i%3 == 0 {
			id := live[rng.Intn(len(live))]
			if err := s.DeleteComponent(ctx, id, 0, zone.Secret, "index-test"); err != nil && zone.ErrorCode(err) != zone.CodeNotFound {
				t.Fatal(err)
			}
			continue
		}
		if _, err := s.CreateComponent(ctx, syn.component(), "index-test"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ChangesSince(ctx, behind, func(zone.Change) error { return nil }); !errors.Is(err, zone.ErrChangesPruned) {
		t.Fatalf("precondition: ChangesSince(%d) = %v, want the log pruned", behind, err)
	}
	if err := ix.Sync(ctx, s); err != nil {
		t.Fatalf("Sync after pruning: %v", err)
	}
	v, err := s.DataVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ix.Version() != v {
		t.Fatalf("index at version %d after reload, store at %d", ix.Version(), v)
	}
	checkAgreement(t, s, ix.Snapshot(), rng)
}

// TestReloadWhenStoreIsBehind syncs an index loaded from one store with
// another whose data version is lower, as after a restore from backup: the
// index must reload rather than keep what it had.
func TestReloadWhenStoreIsBehind(t *testing.T) {
	ctx := context.Background()
	ahead, behind := openEmbedded(t, embedded.Options{}), openEmbedded(t, embedded.Options{})
	syn := newSynthesizer(15)
	for i := 0; i < 20; i++ {
		if _, err := ahead.CreateComponent(ctx, syn.component(), by); err != nil {
			t.Fatal(err)
		}
		if i%4 == 0 {
			if _, err := behind.CreateComponent(ctx, syn.component(), by); err != nil {
				t.Fatal(err)
			}
		}
	}
	ix := New()
	if err := ix.Load(ctx, ahead); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if err := ix.Sync(ctx, behind); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	checkAgreement(t, behind, ix.Snapshot(), rand.New(rand.NewSource(16)))
}

func openEmbedded(t *testing.T, opt embedded.Options) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(filepath.Join(t.TempDir(), "zoneplan.db"), opt)
	if err != nil {
		t.Fatalf("embedded.Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openPostGIS(t *testing.T, dsn string) *postgis.Store {
	t.Helper()
	s, err := postgis.Open(context.Background(), dsn, postgis.Options{})
	if err != nil {
		t.Fatalf("postgis.Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// runAgreement seeds the store, loads the index from follow, starts Follow,
// runs ops random operations through writer, and checks the index against
// the store midway and at the end.
func runAgreement(t *testing.T, writer zone.Store, follow zone.Store, seed int64, ops int) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	syn := newSynthesizer(seed)
	rng := rand.New(rand.NewSource(seed + 1000))
	live := newModel()

	// Some data before the first Load, so Load has something to read.
	for _, l := range synthLayers {
		var cs []*zone.Component
		for i := 0; i < 40; i++ {
			cs = append(cs, syn.componentIn(l))
		}
		if _, err := writer.ImportComponents(ctx, l.id, cs, zone.ImportOptions{By: "index-test"}); err != nil {
			t.Fatalf("seed import into %s: %v", l.id, err)
		}
		for _, c := range cs {
			live.put(c)
		}
	}
	ix := New()
	if err := ix.Load(ctx, follow); err != nil {
		t.Fatalf("Load: %v", err)
	}
	checkAgreement(t, follow, ix.Snapshot(), rng)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := ix.Follow(ctx, follow, slog.New(slog.NewTextHandler(testLog{t}, nil))); err != nil {
			t.Errorf("Follow: %v", err)
		}
	}()
	defer wg.Wait()
	defer cancel()

	w := &opWriter{t: t, ctx: ctx, s: writer, syn: syn, rng: rng, live: live}
	for i := 1; i <= ops; i++ {
		w.randomOp()
		if i%(ops/4) == 0 {
			waitForStore(t, ix, writer)
			checkAgreement(t, follow, ix.Snapshot(), rng)
		}
	}
	t.Logf("%d operations: %v; %d components at the end", ops, w.counts, len(live.ids))
}

// opWriter makes random valid changes to a store and tracks the live ids.
type opWriter struct {
	t      *testing.T
	ctx    context.Context
	s      zone.Store
	syn    *synthesizer
	rng    *rand.Rand
	live   *model
	counts map[string]int
}

const by = "index-test"

func (w *opWriter) randomOp() {
	if w.counts == nil {
		w.counts = map[string]int{}
	}
	op := w.rng.Intn(100)
	if len(w.live.ids) < 20 {
		op = 0
	}
	switch {
	case op < 28:
		w.create()
	case op < 48:
		w.update("geometry", func(c *zone.Component) {
			c.Geometry = w.syn.geometry(synthLayerOf(c.Layer))
			if c.Layer == zone.LayerCombatBases || c.Layer == zone.LayerDefenceWorks {
				w.syn.zones(c)
			}
		})
	case op < 58:
		w.update("classification", func(c *zone.Component) { c.Classification = zone.Classification(w.rng.Intn(4)) })
	case op < 65:
		w.update("layer", func(c *zone.Component) {
			var fits []synthLayer
			for _, l := range synthLayers {
				if zl, _ := zone.LookupLayer(l.id); l.id != c.Layer && zl.AllowsGeometry(c.Geometry) {
					fits = append(fits, l)
				}
			}
			if len(fits) > 0 {
				l := fits[w.rng.Intn(len(fits))]
				c.Layer, c.Kind = l.id, l.kind
			}
		})
	case op < 80:
		w.remove()
	default:
		w.importBatch()
	}
}

func (w *opWriter) create() {
	c := w.syn.component()
	if w.rng.Intn(2) == 0 {
		c.ID = uuid.Nil // the store assigns one
	}
	got, err := w.s.CreateComponent(w.ctx, c, by)
	if err != nil {
		w.t.Fatalf("create: %v", err)
	}
	w.live.put(got)
	w.counts["create"]++
}

func (w *opWriter) update(what string, change func(*zone.Component)) {
	id := w.live.pick(w.rng).ID
	cur, err := w.s.GetComponent(w.ctx, id, zone.Secret)
	if err != nil {
		w.t.Fatalf("get %s: %v", id, err)
	}
	next := cur.Clone()
	change(next)
	got, err := w.s.UpdateComponent(w.ctx, next, cur.Version, zone.Secret, by)
	if err != nil {
		w.t.Fatalf("update %s of %s: %v", what, id, err)
	}
	w.live.put(got)
	w.counts["update "+what]++
}

func (w *opWriter) remove() {
	id := w.live.pick(w.rng).ID
	if err := w.s.DeleteComponent(w.ctx, id, 0, zone.Secret, by); err != nil {
		w.t.Fatalf("delete %s: %v", id, err)
	}
	w.live.remove(id)
	w.counts["delete"]++
}

// importBatch upserts a batch into one layer: new components and changed
// existing ones of that layer.
func (w *opWriter) importBatch() {
	l := synthLayers[w.rng.Intn(len(synthLayers))]
	var cs []*zone.Component
	seen := map[uuid.UUID]bool{}
	for i := 0; i < 5+w.rng.Intn(40); i++ {
		c := w.syn.componentIn(l)
		if w.rng.Intn(3) == 0 {
			if old := w.live.pick(w.rng); old.Layer == l.id && !seen[old.ID] {
				c.ID = old.ID
			}
		}
		seen[c.ID] = true
		cs = append(cs, c)
	}
	if _, err := w.s.ImportComponents(w.ctx, l.id, cs, zone.ImportOptions{Upsert: true, By: by}); err != nil {
		w.t.Fatalf("import into %s: %v", l.id, err)
	}
	for _, c := range cs {
		w.live.put(c)
	}
	w.counts["import"]++
}

func synthLayerOf(id string) synthLayer {
	for _, l := range synthLayers {
		if l.id == id {
			return l
		}
	}
	panic("no synthetic layer " + id)
}

// waitForStore waits until the index has applied the store's latest change.
func waitForStore(t *testing.T, ix *Index, s zone.Store) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := s.DataVersion(ctx)
	if err != nil {
		t.Fatalf("DataVersion: %v", err)
	}
	if err := ix.WaitFor(ctx, v); err != nil {
		t.Fatalf("index at version %d never reached the store's %d: %v", ix.Version(), v, err)
	}
}

func listIDs(t *testing.T, s zone.Store) []uuid.UUID {
	t.Helper()
	var out []uuid.UUID
	err := s.ListComponents(context.Background(), zone.Query{Clearance: zone.Secret}, func(c *zone.Component) error {
		out = append(out, c.ID)
		return nil
	})
	if err != nil {
		t.Fatalf("ListComponents: %v", err)
	}
	return out
}

// checkAgreement compares a snapshot with the store: ids, versions, layers,
// classifications and boxes of every component; counts per layer and
// clearance; the widest provisional zone; and searches of random boxes,
// which must return exactly the components whose box meets the query box,
// a superset of what the store's exact geometric query returns.
func checkAgreement(t *testing.T, s zone.Store, snap *Snapshot, rng *rand.Rand) {
	t.Helper()
	ctx := context.Background()
	stored := map[uuid.UUID]*zone.Component{}
	var maxWidth float64
	err := s.ListComponents(ctx, zone.Query{Clearance: zone.Secret}, func(c *zone.Component) error {
		stored[c.ID] = c
		maxWidth = max(maxWidth, c.MaxWidthM())
		return nil
	})
	if err != nil {
		t.Fatalf("ListComponents: %v", err)
	}
	if snap.Len() != len(stored) {
		t.Fatalf("index at version %d holds %d components, the store %d", snap.Version(), snap.Len(), len(stored))
	}
	for id, want := range stored {
		got, ok := snap.Get(id)
		switch {
		case !ok:
			t.Fatalf("component %s (%s, version %d) is missing from the index", id, want.Layer, want.Version)
		case got.Version != want.Version || got.Layer != want.Layer || got.Classification != want.Classification:
			t.Fatalf("component %s: index has version %d %s %s, store version %d %s %s",
				id, got.Version, got.Layer, got.Classification, want.Version, want.Layer, want.Classification)
		case got.Bound() != want.Bound():
			t.Fatalf("component %s: index box %v, store box %v", id, got.Bound(), want.Bound())
		}
	}
	for _, layer := range zone.LayerIDs() {
		for _, cl := range zone.Classifications() {
			n, err := s.CountComponents(ctx, zone.Query{Layers: []string{layer}, Clearance: cl})
			if err != nil {
				t.Fatalf("CountComponents: %v", err)
			}
			if got := snap.Count(layer, zone.ScopeOf(cl)); got != n {
				t.Fatalf("Count(%s, %s) = %d, the store counts %d", layer, cl, got, n)
			}
		}
	}
	for _, layer := range zone.LayerIDs() {
		for _, cl := range zone.Classifications() {
			var want orb.Bound
			found := false
			for _, c := range stored {
				if c.Layer == layer && c.Classification <= cl {
					if found {
						want = want.Union(c.Bound())
					} else {
						want, found = c.Bound(), true
					}
				}
			}
			got, ok := snap.Extent(layer, zone.ScopeOf(cl))
			if ok != found || (ok && !closeOutside(got, want)) {
				t.Fatalf("Extent(%s, %s) = %v %v, the store's components span %v %v", layer, cl, got, ok, want, found)
			}
		}
	}
	if snap.MaxZoneWidthM() != maxWidth {
		t.Fatalf("MaxZoneWidthM = %v, widest in the store %v", snap.MaxZoneWidthM(), maxWidth)
	}
	insideSeen := 0
	for q := 0; q < 100; q++ {
		b := randomBox(rng, []float64{0.05, 0.3, 1.5}[q%3])
		layer := synthLayers[rng.Intn(len(synthLayers))].id
		cl := zone.Classification(rng.Intn(4))
		var want, wantLayer []uuid.UUID
		for _, c := range stored {
			if intersects(c.Bound(), b) {
				want = append(want, c.ID)
				if c.Layer == layer && c.Classification <= cl {
					wantLayer = append(wantLayer, c.ID)
				}
			}
		}
		sortIDs(want)
		sortIDs(wantLayer)
		got := ids(func(fn func(*zone.Component) bool) { snap.Search(b, fn) })
		if !sameIDs(got, want) {
			t.Fatalf("Search(%v) found %d, want the %d whose box meets it", b, len(got), len(want))
		}
		gotLayer := ids(func(fn func(*zone.Component) bool) { snap.SearchLayer(layer, b, zone.ScopeOf(cl), fn) })
		if !sameIDs(gotLayer, wantLayer) {
			t.Fatalf("SearchLayer(%s, %v, %s) found %d, want %d", layer, b, cl, len(gotLayer), len(wantLayer))
		}
		inside := 0
		snap.SearchLayerInside(layer, b, zone.ScopeOf(cl), func(c *zone.Component, in bool) bool {
			// Inside must be true, and said of every box inside by more
			// than a float32 step (the index rounds boxes outward).
			cb, m := c.Bound(), 1e-5
			if in && !(cb.Min[0] >= b.Min[0] && cb.Min[1] >= b.Min[1] && cb.Max[0] <= b.Max[0] && cb.Max[1] <= b.Max[1]) {
				t.Fatalf("SearchLayerInside(%s, %v) says %s (box %v) is inside", layer, b, c.ID, cb)
			}
			if !in && cb.Min[0] >= b.Min[0]+m && cb.Min[1] >= b.Min[1]+m && cb.Max[0] <= b.Max[0]-m && cb.Max[1] <= b.Max[1]-m {
				t.Fatalf("SearchLayerInside(%s, %v) says %s (box %v) is not inside", layer, b, c.ID, cb)
			}
			if in {
				inside++
			}
			return true
		})
		insideSeen += inside
		// What the store finds by exact geometry must be among the candidates.
		candidates := map[uuid.UUID]bool{}
		for _, id := range gotLayer {
			candidates[id] = true
		}
		bb := b
		err := s.ListComponents(ctx, zone.Query{Layers: []string{layer}, Bound: &bb, Clearance: cl}, func(c *zone.Component) error {
			if !candidates[c.ID] {
				t.Errorf("the store finds %s in %v but SearchLayer(%s, %s) does not", c.ID, b, layer, cl)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("ListComponents in %v: %v", b, err)
		}
		if t.Failed() {
			t.FailNow()
		}
	}
	if insideSeen == 0 && len(stored) >= 1000 {
		t.Fatalf("SearchLayerInside never said a box was inside in 100 searches among %d components", len(stored))
	}
}

// closeOutside reports whether got holds want and exceeds it by less than
// 1e-5 degrees (a float32 step is under 8e-6 degrees here).
func closeOutside(got, want orb.Bound) bool {
	const eps = 1e-5
	return got.Min[0] <= want.Min[0] && got.Min[1] <= want.Min[1] && got.Max[0] >= want.Max[0] && got.Max[1] >= want.Max[1] &&
		want.Min[0]-got.Min[0] < eps && want.Min[1]-got.Min[1] < eps && got.Max[0]-want.Max[0] < eps && got.Max[1]-want.Max[1] < eps
}

// testLog sends the index's log lines to the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
