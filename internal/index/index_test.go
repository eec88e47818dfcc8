package index

import (
	"context"
	"errors"
	"math"
	"math/rand"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/zone"
)

func point(layer string, cl zone.Classification, lon, lat float64) *zone.Component {
	return &zone.Component{ID: uuid.New(), Layer: layer, Name: "p", Classification: cl, Geometry: orb.Point{lon, lat}, Version: 1}
}

func upserts(cs ...*zone.Component) []zone.Change {
	out := make([]zone.Change, len(cs))
	for i, c := range cs {
		out[i] = zone.Change{ID: c.ID, Layer: c.Layer, Component: c}
	}
	return out
}

func deletion(c *zone.Component) zone.Change {
	return zone.Change{ID: c.ID, Layer: c.Layer, Deleted: true}
}

// ids collects the ids a search calls back with, sorted.
func ids(search func(fn func(*zone.Component) bool)) []uuid.UUID {
	var out []uuid.UUID
	search(func(c *zone.Component) bool { out = append(out, c.ID); return true })
	sortIDs(out)
	return out
}

func sortIDs(s []uuid.UUID) {
	sort.Slice(s, func(i, j int) bool { return string(s[i][:]) < string(s[j][:]) })
}

func idsOf(cs ...*zone.Component) []uuid.UUID {
	out := make([]uuid.UUID, len(cs))
	for i, c := range cs {
		out[i] = c.ID
	}
	sortIDs(out)
	return out
}

func sameIDs(a, b []uuid.UUID) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func box(minLon, minLat, maxLon, maxLat float64) orb.Bound {
	return orb.Bound{Min: orb.Point{minLon, minLat}, Max: orb.Point{maxLon, maxLat}}
}

func TestApplySearchGetCount(t *testing.T) {
	ix := New()
	pub := point(zone.LayerCommuneHQs, zone.Public, 105.0, 21.0)
	sec := point(zone.LayerCommuneHQs, zone.Secret, 105.1, 21.0)
	internal := point(zone.LayerCommuneHQs, zone.Internal, 105.2, 21.0)
	base := &zone.Component{ID: uuid.New(), Layer: zone.LayerCombatBases, Name: "b", Classification: zone.Restricted, Version: 1,
		Geometry: square(orb.Point{106, 22}, 1000),
		Zones: []zone.ProtectionZone{
			{Kind: zone.RestrictedArea, Geometry: square(orb.Point{106, 22}, 5000)},
			{Kind: zone.SafetyBelt, WidthM: 800},
		}}
	ix.Apply(upserts(pub, sec, internal, base), 3)
	s := ix.Snapshot()

	if s.Version() != 3 || s.Len() != 4 {
		t.Fatalf("version %d len %d, want 3 and 4", s.Version(), s.Len())
	}
	if c, ok := s.Get(sec.ID); !ok || c != sec {
		t.Fatalf("Get(secret) = %v %v, want the secret component", c, ok)
	}
	if _, ok := s.Get(uuid.New()); ok {
		t.Fatal("Get of an unknown id found something")
	}
	all := box(104, 20, 107, 23)
	if got := ids(func(fn func(*zone.Component) bool) { s.Search(all, fn) }); !sameIDs(got, idsOf(pub, sec, internal, base)) {
		t.Errorf("Search over everything found %d, want all 4 whatever their classification", len(got))
	}
	hq := func(cl zone.Classification) []uuid.UUID {
		return ids(func(fn func(*zone.Component) bool) { s.SearchLayer(zone.LayerCommuneHQs, all, zone.ScopeOf(cl), fn) })
	}
	if got := hq(zone.Public); !sameIDs(got, idsOf(pub)) {
		t.Errorf("public clearance sees %v, want only the public HQ", got)
	}
	if got := hq(zone.Internal); !sameIDs(got, idsOf(pub, internal)) {
		t.Errorf("internal clearance sees %v", got)
	}
	if got := hq(zone.Secret); !sameIDs(got, idsOf(pub, internal, sec)) {
		t.Errorf("secret clearance sees %v", got)
	}
	for cl, want := range map[zone.Classification]int{zone.Public: 1, zone.Internal: 2, zone.Restricted: 2, zone.Secret: 3} {
		if n := s.Count(zone.LayerCommuneHQs, zone.ScopeOf(cl)); n != want {
			t.Errorf("Count(commune_hqs, %s) = %d, want %d", cl, n, want)
		}
	}
	if n := s.Count(zone.LayerCombatBases, zone.ScopeOf(zone.Internal)); n != 0 {
		t.Errorf("Count(combat_bases, internal) = %d, want 0 (the base is restricted)", n)
	}
	if n := s.Count("no_such_layer", zone.ScopeOf(zone.Secret)); n != 0 {
		t.Errorf("unknown layer counts %d", n)
	}

	// The box searched for a component includes its approved zone polygon:
	// 2 km from the centre is outside the 1 km base but inside the 5 km zone.
	near := offset(orb.Point{106, 22}, 2000, 0)
	if got := ids(func(fn func(*zone.Component) bool) { s.Search(orb.Bound{Min: near, Max: near}, fn) }); !sameIDs(got, idsOf(base)) {
		t.Errorf("a point inside the approved zone's box found %v, want the base", got)
	}
	// Extent: the union of the boxes a clearance sees, never smaller.
	if e, ok := s.Extent(zone.LayerCommuneHQs, zone.ScopeOf(zone.Internal)); !ok || !e.Contains(orb.Point{105, 21}) || !e.Contains(orb.Point{105.2, 21}) ||
		e.Max[0] > 105.2+1e-5 || e.Min[0] < 105-1e-5 {
		t.Errorf("Extent(commune_hqs, internal) = %v, %v; want about [105 21, 105.2 21]", e, ok)
	}
	if _, ok := s.Extent(zone.LayerCommuneHQs, zone.ScopeOf(-1)); ok {
		t.Error("Extent below public clearance is not empty")
	}
	if e, ok := s.Extent(zone.LayerCombatBases, zone.ScopeOf(zone.Secret)); !ok || !e.Contains(base.Bound().Min) || !e.Contains(base.Bound().Max) {
		t.Errorf("Extent(combat_bases) = %v does not hold the base's zone box %v", e, base.Bound())
	}
	if w := s.MaxZoneWidthM(); w != 800 {
		t.Errorf("MaxZoneWidthM = %v, want 800", w)
	}

	// Touching counts: a degenerate box on the point finds it.
	if got := ids(func(fn func(*zone.Component) bool) { s.Search(box(105, 21, 105, 21), fn) }); !sameIDs(got, idsOf(pub)) {
		t.Errorf("box touching the point found %v", got)
	}
	// Returning false stops the search.
	calls := 0
	s.Search(all, func(*zone.Component) bool { calls++; return false })
	if calls != 1 {
		t.Errorf("Search went on after fn returned false: %d calls", calls)
	}
}

func TestApplyUpdateAndDelete(t *testing.T) {
	ix := New()
	a := point(zone.LayerCombatBases, zone.Public, 103, 21)
	b := point(zone.LayerCombatBases, zone.Public, 104, 22)
	ix.Apply(upserts(a, b), 1)

	// Move a, make it secret and put it in another layer.
	a2 := a.Clone()
	a2.Geometry = orb.Point{107, 23}
	a2.Classification = zone.Secret
	a2.Layer = zone.LayerDefenceWorks
	a2.Version = 2
	wide := b.Clone()
	wide.Zones = []zone.ProtectionZone{{Kind: zone.SafetyBelt, WidthM: 1500}}
	wide.Version = 2
	ix.Apply(upserts(a2, wide), 2)
	s := ix.Snapshot()
	if got := ids(func(fn func(*zone.Component) bool) { s.Search(box(102.9, 20.9, 103.1, 21.1), fn) }); len(got) != 0 {
		t.Errorf("the old position still finds %v", got)
	}
	if got := ids(func(fn func(*zone.Component) bool) {
		s.SearchLayer(zone.LayerDefenceWorks, box(106.9, 22.9, 107.1, 23.1), zone.ScopeOf(zone.Secret), fn)
	}); !sameIDs(got, idsOf(a2)) {
		t.Errorf("the new position finds %v", got)
	}
	if c, _ := s.Get(a.ID); c.Version != 2 || c.Layer != zone.LayerDefenceWorks {
		t.Errorf("Get returns %+v, want version 2 in defence_works", c)
	}
	if s.Count(zone.LayerCombatBases, zone.ScopeOf(zone.Secret)) != 1 || s.Count(zone.LayerDefenceWorks, zone.ScopeOf(zone.Restricted)) != 0 || s.Count(zone.LayerDefenceWorks, zone.ScopeOf(zone.Secret)) != 1 {
		t.Error("counts did not follow the layer and classification change")
	}
	if s.Len() != 2 || s.MaxZoneWidthM() != 1500 {
		t.Errorf("len %d max width %v, want 2 and 1500", s.Len(), s.MaxZoneWidthM())
	}

	ix.Apply([]zone.Change{deletion(wide), deletion(point(zone.LayerCombatBases, 0, 0, 0))}, 3)
	s = ix.Snapshot()
	if s.Len() != 1 || s.MaxZoneWidthM() != 0 || s.Count(zone.LayerCombatBases, zone.ScopeOf(zone.Secret)) != 0 {
		t.Errorf("after deleting the widest: len %d max width %v", s.Len(), s.MaxZoneWidthM())
	}
	if _, ok := s.Get(b.ID); ok {
		t.Error("deleted component still found by id")
	}
}

func TestApplyIgnoresBatchNotNewer(t *testing.T) {
	ix := New()
	a := point(zone.LayerCommuneHQs, zone.Public, 105, 21)
	ix.Apply(upserts(a), 5)
	ix.Apply([]zone.Change{deletion(a)}, 5)
	ix.Apply([]zone.Change{deletion(a)}, 4)
	if s := ix.Snapshot(); s.Len() != 1 || s.Version() != 5 {
		t.Fatalf("a stale batch changed the index: len %d version %d", s.Len(), s.Version())
	}
	ix.Apply(nil, 9) // a batch may be empty and only move the version
	if v := ix.Version(); v != 9 {
		t.Fatalf("version %d, want 9", v)
	}
}

func TestOldSnapshotUnaffected(t *testing.T) {
	ix := New()
	syn := newSynthesizer(1)
	var cs []*zone.Component
	for i := 0; i < 2000; i++ {
		cs = append(cs, syn.component())
	}
	ix.Apply(upserts(cs...), 1)
	old := ix.Snapshot()
	before := ids(func(fn func(*zone.Component) bool) { old.Search(northVietnam, fn) })

	var dels []zone.Change
	for _, c := range cs[:1000] {
		dels = append(dels, deletion(c))
	}
	ix.Apply(dels, 2)
	ix.Apply(upserts(syn.component(), syn.component()), 3)

	if got := ids(func(fn func(*zone.Component) bool) { old.Search(northVietnam, fn) }); !sameIDs(got, before) || old.Len() != 2000 {
		t.Fatalf("the old snapshot changed: %d found, len %d, want 2000", len(got), old.Len())
	}
	if _, ok := old.Get(cs[0].ID); !ok {
		t.Fatal("the old snapshot lost a component deleted later")
	}
	if n := ix.Snapshot().Len(); n != 1002 {
		t.Fatalf("new snapshot len %d, want 1002", n)
	}
}

// TestBatchSeenAllOrNothing moves 1,000 components back and forth between
// two places in single batches while readers count them: every reader must
// see all of them in one place and none in the other. Run with -race.
func TestBatchSeenAllOrNothing(t *testing.T) {
	const n = 1000
	west, east := box(103, 21, 103.5, 21.5), box(106, 22, 106.5, 22.5)
	rng := rand.New(rand.NewSource(2))
	at := func(b orb.Bound, cs []*zone.Component, version int64) []*zone.Component {
		out := make([]*zone.Component, len(cs))
		for i, c := range cs {
			d := c.Clone()
			d.Geometry = orb.Point{b.Min[0] + rng.Float64()*0.5, b.Min[1] + rng.Float64()*0.5}
			d.Version = version
			out[i] = d
		}
		return out
	}
	cs := make([]*zone.Component, n)
	for i := range cs {
		cs[i] = point(zone.LayerCombatBases, zone.Classification(i%4), 0, 0)
	}
	ix := New()
	cs = at(west, cs, 1)
	ix.Apply(upserts(cs...), 1)
	watched := cs[0].ID

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				s := ix.Snapshot()
				count := func(b orb.Bound) int {
					k := 0
					s.Search(b, func(*zone.Component) bool { k++; return true })
					return k
				}
				w, e := count(west), count(east)
				wantWest := s.Version()%2 == 1
				if (wantWest && (w != n || e != 0)) || (!wantWest && (w != 0 || e != n)) {
					errs <- "half-applied batch seen"
					return
				}
				c, _ := s.Get(watched)
				if c.Version != s.Version() {
					errs <- "Get disagrees with the snapshot version"
					return
				}
			}
		}()
	}
	for v := int64(2); v <= 40; v++ {
		target := east
		if v%2 == 1 {
			target = west
		}
		cs = at(target, cs, v)
		ix.Apply(upserts(cs...), v)
	}
	cancel()
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}

func TestWaitFor(t *testing.T) {
	ix := New()
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- ix.WaitFor(ctx, 3)
	}()
	ix.Apply(upserts(point(zone.LayerCommuneHQs, 0, 105, 21)), 1)
	select {
	case err := <-done:
		t.Fatalf("WaitFor(3) returned %v at version 1", err)
	case <-time.After(50 * time.Millisecond):
	}
	ix.Apply(nil, 4)
	if err := <-done; err != nil {
		t.Fatalf("WaitFor(3) after version 4: %v", err)
	}
	if err := ix.WaitFor(context.Background(), 2); err != nil {
		t.Fatalf("WaitFor of a version already reached: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := ix.WaitFor(ctx, 100)
	if zone.ErrorCode(err) != zone.CodeUnavailable || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitFor past the deadline = %v, want unavailable wrapping the deadline", err)
	}
}

// TestSearchMatchesBruteForce applies random batches and compares every
// search with an exhaustive scan of a plain map, including query boxes
// whose edges lie within a float32 step of a component's edge, where the
// outward-rounded float32 boxes could add a false hit.
func TestSearchMatchesBruteForce(t *testing.T) {
	ix := New()
	syn := newSynthesizer(3)
	rng := rand.New(rand.NewSource(4))
	m := newModel()
	for v := int64(1); v <= 60; v++ {
		var batch []zone.Change
		for i := 0; i < 1+rng.Intn(80); i++ {
			switch op := rng.Intn(10); {
			case op < 5 || len(m.ids) == 0:
				c := syn.component()
				m.put(c)
				batch = append(batch, upserts(c)...)
			case op < 8:
				old := m.pick(rng)
				c := syn.component()
				c.ID = old.ID
				m.put(c)
				batch = append(batch, upserts(c)...)
			default:
				old := m.pick(rng)
				m.remove(old.ID)
				batch = append(batch, deletion(old))
			}
		}
		ix.Apply(batch, v)
		if v == 30 {
			// Rebuild as Load does, then go on applying to the rebuilt trees.
			all := make([]*zone.Component, 0, len(m.ids))
			for _, id := range m.ids {
				all = append(all, m.byID[id])
			}
			ix.writeMu.Lock()
			ix.replace(all, v)
			ix.writeMu.Unlock()
		}
		s := ix.Snapshot()
		if s.Len() != len(m.ids) {
			t.Fatalf("version %d: len %d, want %d", v, s.Len(), len(m.ids))
		}
		for q := 0; q < 20; q++ {
			b := randomBox(rng, 1)
			if q%2 == 1 {
				b = hairlineBox(rng, m.pick(rng).Bound())
			}
			cl := zone.Classification(rng.Intn(4))
			layer := synthLayers[rng.Intn(len(synthLayers))].id
			var want, wantLayer []uuid.UUID
			for _, c := range m.byID {
				if intersects(c.Bound(), b) {
					want = append(want, c.ID)
					if c.Layer == layer && c.Classification <= cl {
						wantLayer = append(wantLayer, c.ID)
					}
				}
			}
			sortIDs(want)
			sortIDs(wantLayer)
			if got := ids(func(fn func(*zone.Component) bool) { s.Search(b, fn) }); !sameIDs(got, want) {
				t.Fatalf("version %d: Search(%v) found %d, brute force %d", v, b, len(got), len(want))
			}
			if got := ids(func(fn func(*zone.Component) bool) { s.SearchLayer(layer, b, zone.ScopeOf(cl), fn) }); !sameIDs(got, wantLayer) {
				t.Fatalf("version %d: SearchLayer(%s, %v, %s) found %d, brute force %d", v, layer, b, cl, len(got), len(wantLayer))
			}
		}
	}
}

// hairlineBox returns a box beside or on an edge of b: just outside it by
// less than a float32 step, exactly touching it, or just inside it.
func hairlineBox(rng *rand.Rand, b orb.Bound) orb.Bound {
	nudge := []float64{-1e-9, 0, 1e-9}[rng.Intn(3)]
	q := b
	switch rng.Intn(4) {
	case 0: // a box to the east whose west edge is near b's east edge
		q.Min[0] = b.Max[0] + nudge
		q.Max[0] = q.Min[0] + 0.01
	case 1: // to the west
		q.Max[0] = b.Min[0] - nudge
		q.Min[0] = q.Max[0] - 0.01
	case 2: // to the north
		q.Min[1] = b.Max[1] + nudge
		q.Max[1] = q.Min[1] + 0.01
	default: // to the south
		q.Max[1] = b.Min[1] - nudge
		q.Min[1] = q.Max[1] - 0.01
	}
	return q
}

// model is the expected content of the index: components by id, and their
// ids in a slice so a random pick is repeatable for a seed.
type model struct {
	byID map[uuid.UUID]*zone.Component
	ids  []uuid.UUID
	pos  map[uuid.UUID]int
}

func newModel() *model {
	return &model{byID: map[uuid.UUID]*zone.Component{}, pos: map[uuid.UUID]int{}}
}

func (m *model) put(c *zone.Component) {
	if _, ok := m.byID[c.ID]; !ok {
		m.pos[c.ID] = len(m.ids)
		m.ids = append(m.ids, c.ID)
	}
	m.byID[c.ID] = c
}

func (m *model) remove(id uuid.UUID) {
	i, ok := m.pos[id]
	if !ok {
		return
	}
	last := m.ids[len(m.ids)-1]
	m.ids[i] = last
	m.pos[last] = i
	m.ids = m.ids[:len(m.ids)-1]
	delete(m.pos, id)
	delete(m.byID, id)
}

func (m *model) pick(rng *rand.Rand) *zone.Component { return m.byID[m.ids[rng.Intn(len(m.ids))]] }

func TestReplaceKeepsLastOfRepeatedID(t *testing.T) {
	first := point(zone.LayerCommuneHQs, zone.Public, 103, 21)
	second := first.Clone()
	second.Geometry = orb.Point{107, 23}
	other := point(zone.LayerCommuneHQs, zone.Public, 105, 22)
	ix := New()
	ix.writeMu.Lock()
	ix.replace([]*zone.Component{first, other, other, second}, 7)
	ix.writeMu.Unlock()
	s := ix.Snapshot()
	if c, _ := s.Get(first.ID); s.Len() != 2 || c != second || s.Version() != 7 {
		t.Fatalf("len %d, Get = %v: want 2 components and the later of a repeated id", s.Len(), c)
	}
	if n := s.Count(zone.LayerCommuneHQs, zone.ScopeOf(zone.Secret)); n != 2 {
		t.Fatalf("trees hold %d, want 2 (one per id)", n)
	}
	if got := ids(func(fn func(*zone.Component) bool) { s.Search(box(102, 20, 104, 22), fn) }); len(got) != 0 {
		t.Fatalf("the earlier position of a repeated id is still found: %v", got)
	}
}

func TestOutwardRounding(t *testing.T) {
	for _, x := range []float64{105.123456789, -0.1, 0, 21.000000001, 108.5, math.Nextafter(22, 23)} {
		if d, u := down32(x), up32(x); float64(d) > x || float64(u) < x || u < d {
			t.Errorf("%v rounds to [%v, %v], which does not contain it", x, d, u)
		}
	}
}
