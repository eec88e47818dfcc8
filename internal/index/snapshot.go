package index

import (
	"sort"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/tidwall/btree"

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
	maxWidthM  float64
	// changedAt is, per layer, the data version at which each
	// classification's tree last changed (for tile cache keys).
	changedAt map[string][tiers]int64
	next      chan struct{} // closed when the following Snapshot is published
}

// Version is the store data version this view reflects.
func (s *Snapshot) Version() int64 { return s.version }

// Len is the number of components, of every layer and classification.
func (s *Snapshot) Len() int { return s.byID.Len() }

// Get returns a component by id, whatever its classification: the caller
// must check the reader's clearance before showing it.
func (s *Snapshot) Get(id uuid.UUID) (*zone.Component, bool) {
	e, ok := s.byID.Get(entry{key: keyOf(id)})
	if !ok {
		return nil, false
	}
	return e.c, true
}

// Search calls fn for every component, of every layer and classification,
// whose box (c.Bound(): geometry plus approved zone polygons) intersects b;
// touching counts. It is meant for the conflict checker, which must find
// secret works too and redacts them itself. fn returns false to stop.
// Order: layers in registry order, lower classifications first.
func (s *Snapshot) Search(b orb.Bound, fn func(*zone.Component) bool) {
	for _, name := range s.layerNames {
		if !s.searchTrees(s.layers[name], b, zone.Secret, fn) {
			return
		}
	}
}

// SearchLayer calls fn for every component of layer, classified at most
// clearance, whose box (c.Bound()) intersects b; touching counts. An unknown
// layer has no components. fn returns false to stop.
func (s *Snapshot) SearchLayer(layer string, b orb.Bound, clearance zone.Classification, fn func(*zone.Component) bool) {
	if lt, ok := s.layers[layer]; ok {
		s.searchTrees(lt, b, clearance, fn)
	}
}

// Count is the number of components of layer classified at most clearance,
// in constant time.
func (s *Snapshot) Count(layer string, clearance zone.Classification) int {
	lt, ok := s.layers[layer]
	if !ok {
		return 0
	}
	n := 0
	for t := 0; t < tiers && t <= int(clearance); t++ {
		n += lt[t].Len()
	}
	return n
}

// LayerVersion is the data version at which the part of layer a caller with
// clearance sees last changed: the newest change to any of the layer's
// components classified at most clearance (0 for a layer never seen). An
// edit to a secret component does not change it for a public caller, so a
// tile cache keyed on it keeps public tiles and reveals nothing.
func (s *Snapshot) LayerVersion(layer string, clearance zone.Classification) int64 {
	at, ok := s.changedAt[layer]
	if !ok {
		return 0
	}
	var v int64
	for t := 0; t < tiers && t <= int(clearance); t++ {
		v = max(v, at[t])
	}
	return v
}

// Extent is the box of every component of layer classified at most
// clearance (the union of their c.Bound()), in constant time; ok is false
// when there is none. It may exceed the exact union by less than one float32
// step (under a metre), never fall short of it.
func (s *Snapshot) Extent(layer string, clearance zone.Classification) (b orb.Bound, ok bool) {
	lt, found := s.layers[layer]
	if !found {
		return orb.Bound{}, false
	}
	for t := 0; t < tiers && t <= int(clearance); t++ {
		if lt[t].Len() == 0 {
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
func (s *Snapshot) MaxZoneWidthM() float64 { return s.maxWidthM }

// searchTrees searches the trees of lt up to clearance and reports whether
// fn asked to go on.
func (s *Snapshot) searchTrees(lt *layerTrees, b orb.Bound, clearance zone.Classification, fn func(*zone.Component) bool) bool {
	q := outward(b)
	goOn := true
	for t := 0; t < tiers && t <= int(clearance) && goOn; t++ {
		lt[t].Search(q.min, q.max, func(min, max [2]float32, c *zone.Component) bool {
			if !surelyIntersects(box32{min, max}, b) && !intersects(c.Bound(), b) {
				return true // a false hit of the outward rounding
			}
			goOn = fn(c)
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
