// Package index keeps every component of the store in memory, in R-trees per
// layer and classification, so the conflict checker, the tile service and the
// feature service can find components by box without a database round trip.
// It follows the store's change feed, including changes other server
// instances make to a shared PostGIS.
//
// Concurrency model: the index is a sequence of immutable Snapshots. One
// writer at a time (a mutex held only by writers: Apply, Load, Sync) applies
// a whole batch of changes to its private copy-on-write trees, then publishes
// a new Snapshot with one atomic pointer store. Readers call Snapshot() and
// work lock-free on a consistent view; a batch is seen entirely or not at
// all, and a Snapshot a reader holds never changes afterwards.
//
// What a caller sees is a zone.Scope: each layer keeps one tree per
// classification and one for project sites no admin has published, and a
// reader walks only the trees of its scope, so components outside it cost
// it nothing (no time, no count). Per tree the index keeps a content digest
// (the data view a caller's answers are versioned by), the widest
// provisional zone, and, for classified components, the consultation cells
// (package consult) that stand in for them in the checks of callers below
// their classification.
//
// Boxes are WGS84 longitude/latitude degrees (EPSG:4326); touching counts as
// intersecting.
package index

import (
	"cmp"
	"context"
	"encoding/binary"
	"hash/fnv"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/tidwall/btree"
	"github.com/tidwall/rtree"

	"github.com/zoneplan/zoneplan/internal/consult"
	"github.com/zoneplan/zoneplan/internal/coverage"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Index is the in-memory spatial index. Create it with New.
type Index struct {
	current atomic.Pointer[Snapshot]

	writeMu sync.Mutex    // held by writers only, never by readers
	w       *writerState  // guarded by writeMu
	cov     *coverage.Set // guarded by writeMu; nil until SetCoverage
}

// New returns an empty index at data version 0.
func New() *Index {
	ix := &Index{w: newWriterState(nil)}
	ix.current.Store(&Snapshot{
		byID:   ix.w.byID.Copy(),
		layers: map[string]*layerTrees{},
		cells:  ix.w.copyCells(),
		next:   make(chan struct{}),
	})
	return ix
}

// Consultation says how a classified component becomes consultation cells
// (check.Engine is one): the grid, and Reach, the farthest in metres any
// rule tests the component beyond its geometry and approved zones (false
// when no rule applies to it, so it needs no cells). ConsultationKey names
// the rule set and grid, so a check can tell which cells a snapshot holds.
type Consultation interface {
	Grid() consult.Grid
	Reach(c *zone.Component) (float64, bool)
	ConsultationKey() string
}

// SetConsultation recomputes every classified component's cells with c and
// publishes the result (same data version). The server calls it when the
// rule set in force changes; until the first call no cells are kept.
func (ix *Index) SetConsultation(c Consultation) {
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	ix.w.consult = c
	ix.w.cells = newCellTrees()
	ix.w.byID.Scan(func(e entry) bool {
		ix.w.addCells(e.c, +1)
		return true
	})
	prev := ix.current.Load()
	ix.publish(prev, prev.version, dirtySet{})
}

// SetCoverage publishes cov as the layers' coverage (same data version):
// checks on the snapshots from now on give "incomplete" outside it. Until
// the first call snapshots carry none, and checks do not assess coverage.
func (ix *Index) SetCoverage(cov *coverage.Set) {
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	ix.cov = cov
	prev := ix.current.Load()
	ix.publish(prev, prev.version, dirtySet{})
}

// Snapshot returns the latest published view. It never returns nil, and the
// view it returns never changes.
func (ix *Index) Snapshot() *Snapshot { return ix.current.Load() }

// Version is the data version of the latest published view.
func (ix *Index) Version() int64 { return ix.current.Load().version }

// Apply applies a batch of changes atomically and publishes the result as
// data version version: a Change with Deleted removes the component, one
// with a Component inserts or replaces it. The index takes ownership of the
// components, which must not be modified afterwards.
//
// A batch whose version is not newer than the index's is ignored: its changes
// are already reflected (the change feed reports each component's latest
// state, so re-applying a newer batch that overlaps is harmless).
// Components without geometry are not indexed.
func (ix *Index) Apply(changes []zone.Change, version int64) {
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	prev := ix.current.Load()
	if version <= prev.version {
		return
	}
	dirty := dirtySet{}

	for _, ch := range changes {
		switch {
		case ch.Deleted:
			ix.w.remove(ch.ID, dirty)
		case ch.Component != nil:
			ix.w.upsert(ch.Component, dirty)
		}
	}
	ix.publish(prev, version, dirty)
}

// replace builds the index afresh from cs and publishes it as version.
// Called with writeMu held.
func (ix *Index) replace(cs []*zone.Component, version int64) {
	ix.w = buildWriterState(cs, ix.w.consult)
	dirty := dirtySet{}
	for name := range ix.w.layers {
		dirty[name] = 1<<tiers - 1
	}
	// An empty predecessor makes publish copy every tree rather than share
	// the old ones.
	prev := ix.current.Load()
	ix.publish(&Snapshot{version: prev.version, next: prev.next}, version, dirty)
}

// WaitFor blocks until the index has published data version version or
// later (read-your-writes after an edit). When ctx ends first it returns an
// unavailable error wrapping ctx.Err().
func (ix *Index) WaitFor(ctx context.Context, version int64) error {
	for {
		s := ix.current.Load()
		if s.version >= version {
			return nil
		}
		select {
		case <-s.next:
		case <-ctx.Done():
			return &zone.Error{
				Code:    zone.CodeUnavailable,
				Message: "the map index has not caught up with the latest change yet; retry shortly",
				Err:     ctx.Err(),
			}
		}
	}
}

// publish makes the writer's state visible as a new Snapshot. Trees of
// layers and tiers the batch did not touch are shared with prev.
// Called with writeMu held.
func (ix *Index) publish(prev *Snapshot, version int64, dirty dirtySet) {
	next := &Snapshot{
		version: version,
		byID:    ix.w.byID.Copy(),
		layers:  make(map[string]*layerTrees, len(ix.w.layers)),
		digests: make(map[string][tiers]uint64, len(ix.w.layers)),
		cells:   ix.w.copyCells(),
		cov:     ix.cov,
		next:    make(chan struct{}),
	}
	for t := range tiers {
		next.maxWidthM[t] = ix.w.maxWidthM(t)
	}
	if c := ix.w.consult; c != nil {
		next.grid, next.consultKey = c.Grid(), c.ConsultationKey()
	}
	for name, master := range ix.w.layers {
		next.digests[name] = ix.w.digests[name]
		old, published := prev.layers[name]
		mask, touched := dirty[name]
		if published && !touched {
			next.layers[name] = old
			continue
		}
		lt := new(layerTrees)
		for t := range master {
			if published && mask&(1<<t) == 0 {
				lt[t] = old[t]
			} else {
				lt[t] = master[t].Copy()
			}
		}
		next.layers[name] = lt
	}
	next.layerNames = prev.layerNames
	if len(next.layers) != len(prev.layers) {
		next.layerNames = orderLayers(next.layers)
	}
	ix.current.Store(next)
	close(prev.next)
}

// tiers is the number of trees per layer: one per classification, so a
// reader with a low clearance never walks components above it, and one for
// unpublished project sites.
const tiers = int(zone.Secret) + 2

// unpublishedTier holds the project sites no admin has published.
const unpublishedTier = tiers - 1

// tree holds one layer's components of one classification. Boxes are
// float32, rounded outward, which halves the tree's memory; Search removes
// the rare false hit the rounding could add.
type tree = rtree.RTreeGN[float32, *zone.Component]

// layerTrees holds one layer's trees, indexed by classification.
type layerTrees [tiers]*tree

// tier returns the tree a classification is kept in. An invalid
// classification is treated as Secret, the most guarded.
func tier(c zone.Classification) int {
	if !c.Valid() {
		return int(zone.Secret)
	}
	return int(c)
}

// tierOf returns the tree c is kept in.
func tierOf(c *zone.Component) int {
	if !c.Published() {
		return unpublishedTier
	}
	return tier(c.Classification)
}

// tierMask is the set of trees a scope sees, one bit per tier.
type tierMask uint8

func maskOf(sc zone.Scope) tierMask {
	var m tierMask
	if sc.Clearance < zone.Public {
		return 0
	}
	for t := 0; t <= tier(sc.Clearance); t++ {
		m |= 1 << t
	}
	if sc.Unpublished {
		m |= 1 << unpublishedTier
	}
	return m
}

func (m tierMask) has(t int) bool { return m&(1<<t) != 0 }

// dirtySet records, per layer, a bit per tree changed by a batch.
type dirtySet map[string]uint8

func (d dirtySet) mark(layer string, t int) { d[layer] |= 1 << t }

// entry is what the id map keeps for one component: the component and the
// exact box it was inserted into its tree with (needed to delete it).
type entry struct {
	key idKey
	c   *zone.Component
	box box32
}

// idKey is a UUID as two integers, so the id map compares without bytes.Compare.
type idKey struct{ hi, lo uint64 }

func keyOf(id uuid.UUID) idKey {
	var k idKey
	for i := 0; i < 8; i++ {
		k.hi = k.hi<<8 | uint64(id[i])
		k.lo = k.lo<<8 | uint64(id[8+i])
	}
	return k
}

func entryLess(a, b entry) bool { return cmpKey(a.key, b.key) < 0 }

func cmpKey(a, b idKey) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

// writerState is the writer's private, mutable copy of the index. Published
// Snapshots hold Copy()s of its trees, so mutating it never changes them.
type writerState struct {
	byID   *btree.BTreeG[entry]
	layers map[string]*layerTrees
	// widths counts each tier's components by their largest provisional
	// zone width (metres), so the maximum stays right when the widest is
	// deleted.
	widths [tiers]*btree.Map[float64, int]
	// digests is, per layer and tier, the XOR of the components' content
	// hashes (contentHash): equal for equal contents, whatever the order
	// of the changes that led there.
	digests map[string][tiers]uint64
	// cells counts, per tier, the components whose consultation covers
	// each cell (by consult.Cell key); nil consult: none kept.
	cells   cellTrees
	consult Consultation
}

// cellTrees holds each tier's consultation cells and how many components
// cover each.
type cellTrees [tiers]*btree.Map[uint64, int32]

func newCellTrees() cellTrees {
	var ct cellTrees
	for t := range ct {
		ct[t] = btree.NewMap[uint64, int32](0)
	}
	return ct
}

func newWriterState(c Consultation) *writerState {
	w := &writerState{
		// NoLocks: published copies are never written, and the writer is
		// serialised by Index.writeMu.
		byID:    btree.NewBTreeGOptions(entryLess, btree.Options{NoLocks: true}),
		layers:  map[string]*layerTrees{},
		digests: map[string][tiers]uint64{},
		cells:   newCellTrees(),
		consult: c,
	}
	for t := range w.widths {
		w.widths[t] = btree.NewMap[float64, int](0)
	}
	return w
}

func (w *writerState) copyCells() cellTrees {
	var ct cellTrees
	for t := range ct {
		ct[t] = w.cells[t].Copy()
	}
	return ct
}

// contentHash identifies one state of a component: its id, version and
// update time (a re-created id starts at version 1 again, at a new time).
func contentHash(c *zone.Component) uint64 {
	var b [16 + 8 + 8]byte
	copy(b[:16], c.ID[:])
	binary.LittleEndian.PutUint64(b[16:], uint64(c.Version))
	binary.LittleEndian.PutUint64(b[24:], uint64(c.UpdatedAt.UnixNano()))
	h := fnv.New64a()
	_, _ = h.Write(b[:])
	return h.Sum64()
}

// addCells adds (sign +1) or removes (-1) c's consultation cells. Public
// components need none: no caller is below public.
func (w *writerState) addCells(c *zone.Component, sign int32) {
	w.countCells(c, cellsOf(w.consult, c).Keys(), sign)
}

// cellsOf lists the consultation cells of c (none for public components,
// unpublished sites, or with no consultation). It only reads, so a
// bulk build computes it for many components at once.
func cellsOf(cons Consultation, c *zone.Component) consult.Area {
	t := tierOf(c)
	if cons == nil || t == int(zone.Public) || t == unpublishedTier {
		return nil
	}
	reach, ok := cons.Reach(c)
	if !ok {
		return nil
	}
	geoms := []orb.Geometry{c.Geometry}
	for _, z := range c.Zones {
		if z.Geometry != nil {
			geoms = append(geoms, z.Geometry)
		}
	}
	return cons.Grid().Covering(reach, geoms...)
}

// countCells adds sign to the count of each of c's cells.
func (w *writerState) countCells(c *zone.Component, cells []uint64, sign int32) {
	if len(cells) == 0 {
		return
	}
	tree := w.cells[tierOf(c)]
	for _, key := range cells {
		n, _ := tree.Get(key)
		if n += sign; n > 0 {
			tree.Set(key, n)
		} else {
			tree.Delete(key)
		}
	}
}

// buildWriterState builds a writer state holding cs (the last one wins
// for a repeated id). Sorting ids once and bulk-loading the id map is
// several times faster than one upsert at a time and packs its nodes full.
func buildWriterState(cs []*zone.Component, c Consultation) *writerState {
	w := newWriterState(c)
	// Boxes (a walk over every vertex) and consultation cells are what a
	// build spends most on, and depend on one component each: they are
	// computed on every CPU at once, in listing order (allocation order,
	// kinder to the CPU cache than id order). The trees are then built by
	// one goroutine.
	withGeometry := make([]*zone.Component, 0, len(cs))
	for _, c := range cs {
		if c.Geometry != nil {
			withGeometry = append(withGeometry, c)
		}
	}
	entries := make([]entry, len(withGeometry))
	parallel(len(withGeometry), func(from, to int) {
		for i := from; i < to; i++ {
			c := withGeometry[i]
			entries[i] = entry{key: keyOf(c.ID), c: c, box: outward(c.Bound())}
		}
	})
	withGeometry = nil
	slices.SortFunc(entries, func(a, b entry) int { return cmpKey(a.key, b.key) })
	var last map[idKey]*zone.Component // made only when an id repeats
	kept := make([]entry, 0, len(entries))
	for i, e := range entries {
		repeated := (i > 0 && entries[i-1].key == e.key) || (i+1 < len(entries) && entries[i+1].key == e.key)
		if repeated {
			if last == nil {
				last = lastByID(cs)
			}
			if last[e.key] != e.c || (len(kept) > 0 && kept[len(kept)-1].key == e.key) {
				continue
			}
		}
		kept = append(kept, e)
	}
	entries = nil
	cells := make([][]uint64, len(kept))
	parallel(len(kept), func(from, to int) {
		for i := from; i < to; i++ {
			cells[i] = cellsOf(w.consult, kept[i].c).Keys()
		}
	})
	for _, e := range kept {
		w.byID.Load(e)
	}
	// Inserting in the order of a Hilbert curve through the boxes' centres
	// keeps each insert near the previous one in the trees.
	type ordered struct {
		h uint32
		i int32
	}
	order := make([]ordered, len(kept))
	for i, e := range kept {
		order[i] = ordered{hilbert(e.box), int32(i)}
	}
	slices.SortFunc(order, func(a, b ordered) int { return cmp.Compare(a.h, b.h) })
	for _, o := range order {
		w.linkWithCells(kept[o.i], nil, cells[o.i])
		cells[o.i] = nil
	}
	return w
}

// parallel calls fn on GOMAXPROCS consecutive parts of [0, n) at once and
// waits for them.
func parallel(n int, fn func(from, to int)) {
	workers := min(runtime.GOMAXPROCS(0), max(1, n/4096))
	var wg sync.WaitGroup
	for k := range workers {
		from, to := n*k/workers, n*(k+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(from, to)
		}()
	}
	wg.Wait()
}

// lastByID maps each id to the last component of cs with that id.
func lastByID(cs []*zone.Component) map[idKey]*zone.Component {
	m := make(map[idKey]*zone.Component, len(cs))
	for _, c := range cs {
		m[keyOf(c.ID)] = c
	}
	return m
}

func (w *writerState) layer(name string) *layerTrees {
	lt, ok := w.layers[name]
	if !ok {
		lt = new(layerTrees)
		for t := range lt {
			lt[t] = new(tree)
		}
		w.layers[name] = lt
	}
	return lt
}

func (w *writerState) upsert(c *zone.Component, dirty dirtySet) {
	if c.Geometry == nil {
		return
	}
	e := entry{key: keyOf(c.ID), c: c, box: outward(c.Bound())}
	if old, replaced := w.byID.Set(e); replaced {
		w.unlink(old, dirty)
	}
	w.link(e, dirty)
}

// link adds e's component to its tree, the width counts, the digest and
// the cells (not to the id map). dirty may be nil when no snapshot shares
// the trees.
func (w *writerState) link(e entry, dirty dirtySet) {
	w.linkWithCells(e, dirty, cellsOf(w.consult, e.c).Keys())
}

// linkWithCells is link with e's consultation cells computed already.
func (w *writerState) linkWithCells(e entry, dirty dirtySet, cells []uint64) {
	t := tierOf(e.c)
	w.layer(e.c.Layer)[t].Insert(e.box.min, e.box.max, e.c)
	if dirty != nil {
		dirty.mark(e.c.Layer, t)
	}
	if m := e.c.MaxWidthM(); m > 0 {
		n, _ := w.widths[t].Get(m)
		w.widths[t].Set(m, n+1)
	}
	d := w.digests[e.c.Layer]
	d[t] ^= contentHash(e.c)
	w.digests[e.c.Layer] = d
	w.countCells(e.c, cells, +1)
}

func (w *writerState) remove(id uuid.UUID, dirty dirtySet) {
	old, ok := w.byID.Delete(entry{key: keyOf(id)})
	if ok {
		w.unlink(old, dirty)
	}
}

// unlink removes e's component from its tree and the width counts (not from
// the id map).
func (w *writerState) unlink(e entry, dirty dirtySet) {
	t := tierOf(e.c)
	w.layers[e.c.Layer][t].Delete(e.box.min, e.box.max, e.c)
	dirty.mark(e.c.Layer, t)
	if m := e.c.MaxWidthM(); m > 0 {
		if n, _ := w.widths[t].Get(m); n > 1 {
			w.widths[t].Set(m, n-1)
		} else {
			w.widths[t].Delete(m)
		}
	}
	d := w.digests[e.c.Layer]
	d[t] ^= contentHash(e.c)
	w.digests[e.c.Layer] = d
	w.addCells(e.c, -1)
}

func (w *writerState) maxWidthM(t int) float64 {
	m, _, ok := w.widths[t].Max()
	if !ok {
		return 0
	}
	return m
}
