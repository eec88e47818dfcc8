package check

import (
	"hash/fnv"
	"math"
	"strconv"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/tidwall/geodesic"
	"github.com/tidwall/rtree"

	"github.com/zoneplan/zoneplan/internal/consult"
	"github.com/zoneplan/zoneplan/internal/coverage"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// treeSource is a real R-tree over components, the same structure the
// index package serves checks from, built here so the checker's tests do
// not depend on the index package.
type treeSource struct {
	tree    rtree.RTreeG[*zone.Component]
	version int64
	maxW    float64
	// per scope, computed on first use and forgotten by add: a scan of the
	// whole tree per check would be most of a benchmark's time
	mu     sync.Mutex
	widths map[zone.Scope]float64
	views  map[zone.Scope]string
	cov    *coverage.Set // nil: coverage not assessed
}

func newTreeSource(cs ...*zone.Component) *treeSource {
	s := &treeSource{version: 1}
	for _, c := range cs {
		s.add(c)
	}
	return s
}

func (s *treeSource) add(c *zone.Component) {
	b := c.Bound()
	s.tree.Insert([2]float64{b.Min[0], b.Min[1]}, [2]float64{b.Max[0], b.Max[1]}, c)
	s.maxW = math.Max(s.maxW, c.MaxWidthM())
	s.mu.Lock()
	s.widths, s.views = nil, nil
	s.mu.Unlock()
}

func (s *treeSource) Search(b orb.Bound, fn func(*zone.Component) bool) {
	s.SearchScope(b, zone.FullScope(), fn)
}

func (s *treeSource) SearchScope(b orb.Bound, sc zone.Scope, fn func(*zone.Component) bool) {
	s.tree.Search([2]float64{b.Min[0], b.Min[1]}, [2]float64{b.Max[0], b.Max[1]},
		func(_, _ [2]float64, c *zone.Component) bool {
			if !sc.Sees(c) {
				return true
			}
			return fn(c)
		})
}

func (s *treeSource) Candidates(b orb.Bound, sc zone.Scope, fn func(*zone.Component, orb.Bound) bool) {
	s.tree.Search([2]float64{b.Min[0], b.Min[1]}, [2]float64{b.Max[0], b.Max[1]},
		func(min, max [2]float64, c *zone.Component) bool {
			if !sc.Sees(c) {
				return true
			}
			return fn(c, orb.Bound{Min: min, Max: max})
		})
}

func (s *treeSource) Version() int64         { return s.version }
func (s *treeSource) MaxZoneWidthM() float64 { return s.maxW }

func (s *treeSource) MaxZoneWidthIn(sc zone.Scope) float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w, ok := s.widths[sc]; ok {
		return w
	}
	var w float64
	s.tree.Scan(func(_, _ [2]float64, c *zone.Component) bool {
		if sc.Sees(c) {
			w = math.Max(w, c.MaxWidthM())
		}
		return true
	})
	if s.widths == nil {
		s.widths = map[zone.Scope]float64{}
	}
	s.widths[sc] = w
	return w
}

// The tree source keeps no consultation cells: the engine then computes
// them from the hidden works (Engine.referredDirect). Tests against the
// index's cells are in consultation_test.go.
func (s *treeSource) Consulted(orb.Bound, zone.Classification, func(consult.Cell) bool) {}
func (s *treeSource) Consultation() (consult.Grid, string)                              { return consult.Grid{}, "" }
func (s *treeSource) Coverage() *coverage.Set                                           { return s.cov }

func (s *treeSource) View(sc zone.Scope) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.views[sc]; ok {
		return v
	}
	h := fnv.New64a()
	s.tree.Scan(func(_, _ [2]float64, c *zone.Component) bool {
		if sc.Sees(c) {
			_, _ = h.Write(c.ID[:])
		}
		return true
	})
	v := strconv.FormatUint(h.Sum64(), 16)
	if s.views == nil {
		s.views = map[zone.Scope]string{}
	}
	s.views[sc] = v
	return v
}

var _ Source = (*treeSource)(nil)

// move returns the point m metres from p along azimuth az (degrees from
// north), on the WGS84 ellipsoid.
func move(p orb.Point, az, m float64) orb.Point {
	var lat, lon float64
	geodesic.WGS84.Direct(p[1], p[0], az, m, &lat, &lon, nil)
	return orb.Point{lon, lat}
}

// geodesicDist is the WGS84 geodesic distance between two points, metres.
func geodesicDist(a, b orb.Point) float64 {
	var s float64
	geodesic.WGS84.Inverse(a[1], a[0], b[1], b[0], &s, nil, nil)
	return s
}

// square is a counter-clockwise square footprint of the given side (m)
// centred on c, its sides along meridians and parallels.
func square(c orb.Point, side float64) orb.Polygon {
	n, s := move(c, 0, side/2), move(c, 180, side/2)
	e, w := move(c, 90, side/2), move(c, 270, side/2)
	ring := orb.Ring{{w[0], s[1]}, {e[0], s[1]}, {e[0], n[1]}, {w[0], n[1]}, {w[0], s[1]}}
	return orb.Polygon{ring}
}

func newComponent(layer, kind string, g orb.Geometry) *zone.Component {
	return &zone.Component{ID: uuid.New(), Layer: layer, Kind: kind, Name: layer + " " + kind, Geometry: g, Synthetic: true, Version: 1}
}

func TestTreeSourceFindsByBound(t *testing.T) {
	c := newComponent(zone.LayerCommuneHQs, "commune_hq", orb.Point{105, 21})
	s := newTreeSource(c)
	n := 0
	s.Search(orb.Bound{Min: orb.Point{104.9, 20.9}, Max: orb.Point{105.1, 21.1}}, func(*zone.Component) bool { n++; return true })
	s.Search(orb.Bound{Min: orb.Point{106, 20.9}, Max: orb.Point{106.1, 21.1}}, func(*zone.Component) bool { n += 10; return true })
	if n != 1 {
		t.Fatalf("search found %d, want 1", n)
	}
}
