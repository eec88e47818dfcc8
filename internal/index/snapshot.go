package index

import (
	"encoding/binary"
	"hash/fnv"
	"sort"
	"strconv"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/tidwall/btree"

	"github.com/zoneplan/zoneplan/internal/consult"
	"github.com/zoneplan/zoneplan/internal/coverage"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Snapshot is an immutable view of the index at one data version. It is safe
// for any number of goroutines. The components it returns are shared with
// other readers and must be treated as read-only.
type Snapshot struct {
	version    int64
	byID       *btree.BTreeG[entry]
	layers     map[string]*layerTrees
	layerNames []string // keys of layers: registry order, then unknown layers by name
	maxWidthM  [tiers]float64
	// digests is, per layer, each tree's content digest.
	digests    map[string][tiers]uint64
	cells      cellTrees
	grid       consult.Grid
	consultKey string        // "" until the index has a Consultation
	cov        *coverage.Set // nil: coverage not followed (not assessed)
	next       chan struct{} // closed when the following Snapshot is published
}

// Coverage is the layers' coverage this view checks against; nil when the
// index is given none (checks then do not assess coverage).
func (s *Snapshot) Coverage() *coverage.Set { return s.cov }

// Version is the store data version this view reflects.
func (s *Snapshot) Version() int64 { return s.version }

// Len is the number of components, of every layer and classification.
func (s *Snapshot) Len() int { return s.byID.Len() }

// Get returns a component by id, whatever its classification: the caller
// must check the reader's scope before showing it.
func (s *Snapshot) Get(id uuid.UUID) (*zone.Component, bool) {
	e, ok := s.byID.Get(entry{key: keyOf(id)})
	if !ok {
		return nil, false
	}
	return e.c, true
}

// Search calls fn for every component, of every layer and classification,
// whose box (c.Bound(): geometry plus approved zone polygons) intersects b;
// touching counts. It is meant for the checker's stored records, which
// hold everything and are redacted per reader. fn returns false to stop.
// Order: layers in registry order, lower classifications first.
func (s *Snapshot) Search(b orb.Bound, fn func(*zone.Component) bool) {
	s.SearchScope(b, zone.FullScope(), fn)
}

// SearchScope is Search over the components of every layer a caller of
// scope sc sees: the trees outside the scope are not walked at all.
func (s *Snapshot) SearchScope(b orb.Bound, sc zone.Scope, fn func(*zone.Component) bool) {
	m := maskOf(sc)
	for _, name := range s.layerNames {
		if !s.searchTrees(s.layers[name], b, m, func(c *zone.Component, _ box32) bool { return fn(c) }) {
			return
		}
	}
}

// Candidates is SearchScope with each component's box in the tree: the
// float32 box rounded outward, which contains c.Bound() (check.Source).
func (s *Snapshot) Candidates(b orb.Bound, sc zone.Scope, fn func(*zone.Component, orb.Bound) bool) {
	m := maskOf(sc)
	for _, name := range s.layerNames {
		if !s.searchTrees(s.layers[name], b, m, func(c *zone.Component, box box32) bool { return fn(c, box.bound()) }) {
			return
		}
	}
}

// SearchLayer calls fn for every component of layer in scope sc whose box
// (c.Bound()) intersects b; touching counts. An unknown layer has no
// components. fn returns false to stop.
func (s *Snapshot) SearchLayer(layer string, b orb.Bound, sc zone.Scope, fn func(*zone.Component) bool) {
	if lt, ok := s.layers[layer]; ok {
		s.searchTrees(lt, b, maskOf(sc), func(c *zone.Component, _ box32) bool { return fn(c) })
	}
}

// SearchLayerBoxes is SearchLayer that also gives fn each component's box
// in the tree: the float32 box rounded outward, which contains c.Bound()
// (a caller ordering or placing many candidates by their extent need not
// walk their vertices).
func (s *Snapshot) SearchLayerBoxes(layer string, b orb.Bound, sc zone.Scope, fn func(c *zone.Component, box orb.Bound) bool) {
	if lt, ok := s.layers[layer]; ok {
		s.searchTrees(lt, b, maskOf(sc), func(c *zone.Component, box box32) bool { return fn(c, box.bound()) })
	}
}

// SearchLayerInside is SearchLayer that also tells fn whether the
// component's box lies wholly inside b, when everything the component
// holds (its geometry first) is surely within b and needs no closer look.
func (s *Snapshot) SearchLayerInside(layer string, b orb.Bound, sc zone.Scope, fn func(c *zone.Component, inside bool) bool) {
	if lt, ok := s.layers[layer]; ok {
		s.searchTrees(lt, b, maskOf(sc), func(c *zone.Component, box box32) bool { return fn(c, within(box, b)) })
	}
}

// LayerByID calls fn for the components of layer in scope sc in id order
// (UUID byte order) until fn returns false: the first page of a whole
// layer without walking and sorting all of it.
func (s *Snapshot) LayerByID(layer string, sc zone.Scope, fn func(*zone.Component) bool) {
	m := maskOf(sc)
	s.byID.Scan(func(e entry) bool {
		if e.c.Layer != layer || !m.has(tierOf(e.c)) {
			return true
		}
		return fn(e.c)
	})
}

// Count is the number of components of layer in scope sc, in constant time.
func (s *Snapshot) Count(layer string, sc zone.Scope) int {
	lt, ok := s.layers[layer]
	if !ok {
		return 0
	}
	m, n := maskOf(sc), 0
	for t := range tiers {
		if m.has(t) {
			n += lt[t].Len()
		}
	}
	return n
}

// LayerDigest identifies the part of layer a caller of scope sc sees: it
// changes exactly when a component of that part changes, and is the same
// for the same contents on every server and after every history (it hashes
// the components' ids, versions and update times, never sequence numbers).
// A change to a component outside the scope leaves it as it was, so a tile
// cache keyed on it keeps the tiles of lower clearances and reveals
// nothing. 0 for a layer with nothing in scope.
func (s *Snapshot) LayerDigest(layer string, sc zone.Scope) uint64 {
	d, ok := s.digests[layer]
	if !ok {
		return 0
	}
	m := maskOf(sc)
	var h uint64
	for t := range tiers {
		if m.has(t) {
			// Mix in the tier, so that two tiers' digests never cancel.
			h ^= d[t] * (2*uint64(t) + 0x9e3779b97f4a7c15)
		}
	}
	return h
}

// View identifies everything a caller of scope sc sees, as LayerDigest
// does for one layer: a hex string, equal for equal views.
func (s *Snapshot) View(sc zone.Scope) string {
	h := fnv.New64a()
	var b [8]byte
	for _, name := range s.layerNames {
		d := s.LayerDigest(name, sc)
		if d == 0 {
			continue
		}
		_, _ = h.Write([]byte(name))
		binary.LittleEndian.PutUint64(b[:], d)
		_, _ = h.Write(b[:])
	}
	return strconv.FormatUint(h.Sum64(), 16)
}

// Extent is the box of every component of layer in scope sc (the union of
// their c.Bound()), in constant time; ok is false when there is none. It
// may exceed the exact union by less than one float32 step (under a
// metre), never fall short of it.
func (s *Snapshot) Extent(layer string, sc zone.Scope) (b orb.Bound, ok bool) {
	lt, found := s.layers[layer]
	if !found {
		return orb.Bound{}, false
	}
	m := maskOf(sc)
	for t := range tiers {
		if !m.has(t) || lt[t].Len() == 0 {
			continue
		}
		min, max := lt[t].Bounds()
		tb := orb.Bound{
			Min: orb.Point{float64(min[0]), float64(min[1])},
			Max: orb.Point{float64(max[0]), float64(max[1])},
		}
		if ok {
			b = b.Union(tb)
		} else {
			b, ok = tb, true
		}
	}
	return b, ok
}

// MaxZoneWidthM is the largest provisional protection-zone width (metres)
// of any component, 0 when none has one. The conflict checker widens its
// search box by it, since provisional widths are not part of c.Bound().
func (s *Snapshot) MaxZoneWidthM() float64 { return s.MaxZoneWidthIn(zone.FullScope()) }

// MaxZoneWidthIn is MaxZoneWidthM over the components of scope sc only, so
// that a caller's search box does not grow with a work it cannot see.
func (s *Snapshot) MaxZoneWidthIn(sc zone.Scope) float64 {
	m, w := maskOf(sc), 0.0
	for t := range tiers {
		if m.has(t) {
			w = max(w, s.maxWidthM[t])
		}
	}
	return w
}

// Consultation returns the grid of the snapshot's consultation cells and
// the key of the rule set they were made with ("" when none were made).
func (s *Snapshot) Consultation() (consult.Grid, string) { return s.grid, s.consultKey }

// Consulted calls fn for the consultation cells meeting b (closed
// rectangles: touching counts) of the classified components a caller of
// clearance cl cannot see; a cell several tiers hold comes once per tier.
// fn returns false to stop. The work done depends only on the cells, never
// on the components behind them.
func (s *Snapshot) Consulted(b orb.Bound, cl zone.Classification, fn func(consult.Cell) bool) {
	if s.consultKey == "" {
		return
	}
	for t := tier(cl) + 1; t <= int(zone.Secret); t++ {
		tree := s.cells[t]
		if tree.Len() == 0 {
			continue
		}
		goOn := true
		s.grid.Rows(b, func(row, c0, c1 int32) bool {
			from, to := consult.Cell{Row: row, Col: c0}.Key(), consult.Cell{Row: row, Col: c1}.Key()
			tree.Ascend(from, func(k uint64, _ int32) bool {
				if k > to {
					return false
				}
				goOn = fn(consult.CellOf(k))
				return goOn
			})
			return goOn
		})
		if !goOn {
			return
		}
	}
}

// searchTrees searches the trees of lt in mask m and reports whether fn
// asked to go on.
func (s *Snapshot) searchTrees(lt *layerTrees, b orb.Bound, m tierMask, fn func(*zone.Component, box32) bool) bool {
	q := outward(b)
	goOn := true
	for t := 0; t < tiers && goOn; t++ {
		if !m.has(t) {
			continue
		}
		lt[t].Search(q.min, q.max, func(min, max [2]float32, c *zone.Component) bool {
			box := box32{min, max}
			if !surelyIntersects(box, b) && !intersects(c.Bound(), b) {
				return true // a false hit of the outward rounding
			}
			goOn = fn(c, box)
			return goOn
		})
	}
	return goOn
}

// orderLayers lists the layers present: registry order first, then any
// other layer by name.
func orderLayers(layers map[string]*layerTrees) []string {
	names := make([]string, 0, len(layers))
	known := map[string]bool{}
	for _, id := range zone.LayerIDs() {
		known[id] = true
		if _, ok := layers[id]; ok {
			names = append(names, id)
		}
	}
	var others []string
	for id := range layers {
		if !known[id] {
			others = append(others, id)
		}
	}
	sort.Strings(others)
	return append(names, others...)
}
