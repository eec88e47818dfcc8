// Package coverage knows where each layer's data is complete: the areas
// admins declared (zone.Coverage), merged per layer and per clearance into
// a Set that answers, for one footprint, which layers do not wholly cover
// it. The checker gives such a footprint no "clear" (rules.Incomplete).
//
// Geometry: WGS84 longitude and latitude; a coverage's edges are straight
// lines in longitude and latitude (as GeoJSON draws them), and touching
// the edge of a coverage counts as inside it. A Set is immutable and safe
// for concurrent use.
//
// Secrecy: a coverage counts for a caller only when the caller is cleared
// for the coverage's own classification, so what a check says of coverage
// depends on the coverage that caller may see and on nothing else (never
// on the components).
package coverage

import (
	"context"
	"hash/fnv"
	"log/slog"
	"math"
	"sort"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	sf "github.com/peterstace/simplefeatures/geom"
	"github.com/tidwall/rtree"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// Set is the coverage of every layer as each clearance may count it.
type Set struct {
	version int64
	levels  [zone.Levels]map[string]*area
}

// New merges cs (as a store lists them at full clearance) into a Set of
// the given store coverage version. A coverage whose geometry cannot be
// merged is left out, as if not declared (its area then counts as
// incomplete: the safe side).
func New(cs []zone.Coverage, version int64) *Set {
	s := &Set{version: version}
	built := map[uint64]*area{}
	for _, cl := range zone.Classifications() {
		byLayer := map[string][]orb.MultiPolygon{}
		for i := range cs {
			if cl.Allows(cs[i].Classification) {
				byLayer[cs[i].Layer] = append(byLayer[cs[i].Layer], cs[i].Geometry)
			}
		}
		s.levels[cl] = make(map[string]*area, len(byLayer))
		for layer, parts := range byLayer {
			key := keyOf(parts)
			a, ok := built[key]
			if !ok {
				a = newArea(parts)
				built[key] = a
			}
			if a != nil {
				s.levels[cl][layer] = a
			}
		}
	}
	return s
}

// Version is the store's coverage version the set was made from.
func (s *Set) Version() int64 {
	if s == nil {
		return 0
	}
	return s.version
}

// Covers reports whether g lies wholly inside the coverage of layer that a
// caller of clearance cl may count; touching the edge counts as inside.
func (s *Set) Covers(layer string, cl zone.Classification, g orb.Geometry) bool {
	if !cl.Valid() {
		cl = zone.Public
	}
	a := s.levels[cl][layer]
	return a != nil && a.covers(g)
}

// Missing returns the layers, of those given and in their order, that do
// not wholly cover g for a caller of clearance cl. Layers declared over
// the same area are tested once.
func (s *Set) Missing(layers []string, cl zone.Classification, g orb.Geometry) []string {
	if !cl.Valid() {
		cl = zone.Public
	}
	var out []string
	type seen struct {
		a  *area
		ok bool
	}
	var memo []seen
next:
	for _, l := range layers {
		a := s.levels[cl][l]
		if a == nil {
			out = append(out, l)
			continue
		}
		for _, m := range memo {
			if m.a == a {
				if !m.ok {
					out = append(out, l)
				}
				continue next
			}
		}
		ok := a.covers(g)
		memo = append(memo, seen{a, ok})
		if !ok {
			out = append(out, l)
		}
	}
	return out
}

// keyOf identifies the geometry of a layer's coverage, so layers declared
// over the same area share one merged area.
func keyOf(parts []orb.MultiPolygon) uint64 {
	bs := make([][]byte, 0, len(parts))
	for _, p := range parts {
		b, _ := wkb.Marshal(p)
		bs = append(bs, b)
	}
	sort.Slice(bs, func(i, j int) bool { return string(bs[i]) < string(bs[j]) })
	h := fnv.New64a()
	for _, b := range bs {
		_, _ = h.Write(b)
		_, _ = h.Write([]byte{0})
	}
	return h.Sum64()
}

// area is the union of one layer's coverage: its polygons and an R-tree of
// their edges.
type area struct {
	bound orb.Bound
	edges rtree.RTreeG[edge]
}

type edge struct{ a, b orb.Point }

func (e edge) box() (min, max [2]float64) {
	return [2]float64{math.Min(e.a[0], e.b[0]), math.Min(e.a[1], e.b[1])},
		[2]float64{math.Max(e.a[0], e.b[0]), math.Max(e.a[1], e.b[1])}
}

// newArea merges parts into one area (overlapping and adjacent polygons
// become one), nil when they cannot be merged.
func newArea(parts []orb.MultiPolygon) *area {
	var union orb.MultiPolygon
	gs := make([]sf.Geometry, 0, len(parts))
	for _, p := range parts {
		b, err := wkb.Marshal(p)
		if err != nil {
			return nil
		}
		g, err := sf.UnmarshalWKB(b, sf.NoValidate{})
		if err != nil {
			return nil
		}
		gs = append(gs, g)
	}
	u, err := sf.UnionMany(gs)
	if err != nil {
		return nil
	}
	og, err := wkb.Unmarshal(u.AsBinary())
	if err != nil {
		return nil
	}
	union, ok := zone.AsMultiPolygon(og)
	if !ok || len(union) == 0 {
		return nil
	}
	a := &area{bound: union.Bound()}
	for _, p := range union {
		for _, r := range p {
			for i := 0; i+1 < len(r); i++ {
				e := edge{r[i], r[i+1]}
				if e.a == e.b {
					continue
				}
				mn, mx := e.box()
				a.edges.Insert(mn, mx, e)
			}
		}
	}
	return a
}

// eps is the tolerance, in degrees, of "on the edge" (about 1 mm).
const eps = 1e-8

// contains reports whether p is inside the area or on its boundary:
// crossings of a ray towards +longitude with the area's edges, the only
// edges looked at being those the ray's box meets.
func (a *area) contains(p orb.Point) bool {
	if !a.bound.Pad(eps).Contains(p) {
		return false
	}
	inside, onEdge := false, false
	a.edges.Search([2]float64{p[0] - eps, p[1] - eps}, [2]float64{a.bound.Max[0] + 1, p[1] + eps}, func(_, _ [2]float64, e edge) bool {
		if onSegment(p, e.a, e.b) {
			onEdge = true
			return false
		}
		if (e.a[1] > p[1]) != (e.b[1] > p[1]) {
			x := e.a[0] + (p[1]-e.a[1])*(e.b[0]-e.a[0])/(e.b[1]-e.a[1])
			if x > p[0] {
				inside = !inside
			}
		}
		return true
	})
	return onEdge || inside
}

// onSegment reports whether p lies on segment ab, within eps.
func onSegment(p, a, b orb.Point) bool {
	if p[0] < math.Min(a[0], b[0])-eps || p[0] > math.Max(a[0], b[0])+eps ||
		p[1] < math.Min(a[1], b[1])-eps || p[1] > math.Max(a[1], b[1])+eps {
		return false
	}
	dx, dy := b[0]-a[0], b[1]-a[1]
	l := math.Hypot(dx, dy)
	if l == 0 {
		return math.Hypot(p[0]-a[0], p[1]-a[1]) <= eps
	}
	return math.Abs(dx*(p[1]-a[1])-dy*(p[0]-a[0]))/l <= eps
}

// segmentInside reports whether the whole segment pq is inside the area
// (boundary included): the segment is cut where it meets an edge, and the
// middle of each piece is tested, with p and q themselves.
func (a *area) segmentInside(p, q orb.Point) bool {
	if !a.contains(p) || !a.contains(q) {
		return false
	}
	ts := []float64{0, 1}
	d := orb.Point{q[0] - p[0], q[1] - p[1]}
	dd := d[0]*d[0] + d[1]*d[1]
	if dd == 0 {
		return true
	}
	project := func(x orb.Point) float64 { return ((x[0]-p[0])*d[0] + (x[1]-p[1])*d[1]) / dd }
	mn := [2]float64{math.Min(p[0], q[0]) - eps, math.Min(p[1], q[1]) - eps}
	mx := [2]float64{math.Max(p[0], q[0]) + eps, math.Max(p[1], q[1]) + eps}
	a.edges.Search(mn, mx, func(_, _ [2]float64, e edge) bool {
		// Where the edge's ends touch pq, and where the two cross.
		for _, x := range []orb.Point{e.a, e.b} {
			if onSegment(x, p, q) {
				ts = append(ts, project(x))
			}
		}
		r := orb.Point{e.b[0] - e.a[0], e.b[1] - e.a[1]}
		den := d[0]*r[1] - d[1]*r[0]
		if den != 0 {
			w := orb.Point{e.a[0] - p[0], e.a[1] - p[1]}
			t := (w[0]*r[1] - w[1]*r[0]) / den
			u := (w[0]*d[1] - w[1]*d[0]) / den
			if t > 0 && t < 1 && u >= 0 && u <= 1 {
				ts = append(ts, t)
			}
		}
		return true
	})
	sort.Float64s(ts)
	for i := 0; i+1 < len(ts); i++ {
		t0, t1 := math.Max(0, ts[i]), math.Min(1, ts[i+1])
		if t1-t0 <= 1e-12 {
			continue
		}
		m := (t0 + t1) / 2
		if !a.contains(orb.Point{p[0] + m*d[0], p[1] + m*d[1]}) {
			return false
		}
	}
	return true
}

// covers reports whether g lies wholly inside the area, boundary included.
// A polygon is covered when its rings are and no edge of the area runs
// through its interior (a hole of the area, or a gap between its parts,
// inside the polygon).
func (a *area) covers(g orb.Geometry) bool {
	if g == nil {
		return false
	}
	b := g.Bound()
	if !a.bound.Pad(eps).Contains(b.Min) || !a.bound.Pad(eps).Contains(b.Max) {
		return false
	}
	// Most footprints are far from any edge of the area: when no edge
	// meets the footprint's box, the box lies wholly inside the area or
	// wholly outside it, and one vertex tells which.
	pb := b.Pad(eps)
	edgeNear := false
	a.edges.Search(pb.Min, pb.Max, func(_, _ [2]float64, _ edge) bool {
		edgeNear = true
		return false
	})
	if !edgeNear {
		if p, ok := anyVertex(g); ok {
			return a.contains(p)
		}
	}
	switch v := g.(type) {
	case orb.Point:
		return a.contains(v)
	case orb.MultiPoint:
		for _, p := range v {
			if !a.contains(p) {
				return false
			}
		}
		return true
	case orb.LineString:
		return a.lineInside(v)
	case orb.MultiLineString:
		for _, l := range v {
			if !a.lineInside(l) {
				return false
			}
		}
		return true
	case orb.Ring:
		return a.polygonInside(orb.Polygon{v})
	case orb.Polygon:
		return a.polygonInside(v)
	case orb.MultiPolygon:
		for _, p := range v {
			if !a.polygonInside(p) {
				return false
			}
		}
		return true
	case orb.Collection:
		for _, x := range v {
			if !a.covers(x) {
				return false
			}
		}
		return len(v) > 0
	}
	return false
}

// anyVertex is a vertex of g.
func anyVertex(g orb.Geometry) (orb.Point, bool) {
	var out orb.Point
	found := false
	switch v := g.(type) {
	case orb.Point:
		return v, true
	case orb.MultiPoint:
		if len(v) > 0 {
			return v[0], true
		}
	case orb.LineString:
		if len(v) > 0 {
			return v[0], true
		}
	case orb.MultiLineString:
		for _, l := range v {
			if len(l) > 0 {
				return l[0], true
			}
		}
	case orb.Ring:
		if len(v) > 0 {
			return v[0], true
		}
	case orb.Polygon:
		if len(v) > 0 && len(v[0]) > 0 {
			return v[0][0], true
		}
	case orb.MultiPolygon:
		for _, p := range v {
			if len(p) > 0 && len(p[0]) > 0 {
				return p[0][0], true
			}
		}
	}
	return out, found
}

func (a *area) lineInside(l orb.LineString) bool {
	if len(l) == 1 {
		return a.contains(l[0])
	}
	for i := 0; i+1 < len(l); i++ {
		if !a.segmentInside(l[i], l[i+1]) {
			return false
		}
	}
	return true
}

func (a *area) polygonInside(p orb.Polygon) bool {
	for _, r := range p {
		if !a.lineInside(orb.LineString(r)) {
			return false
		}
	}
	if len(p) == 0 {
		return false
	}
	b := p.Bound()
	ok := true
	a.edges.Search(b.Min, b.Max, func(_, _ [2]float64, e edge) bool {
		for _, x := range []orb.Point{e.a, e.b, {(e.a[0] + e.b[0]) / 2, (e.a[1] + e.b[1]) / 2}} {
			if strictlyInside(p, x) {
				ok = false
				return false
			}
		}
		return true
	})
	return ok
}

// strictlyInside reports whether x is in the interior of polygon p (not on
// any of its rings).
func strictlyInside(p orb.Polygon, x orb.Point) bool {
	in := false
	for _, r := range p {
		for i := 0; i+1 < len(r); i++ {
			a, b := r[i], r[i+1]
			if onSegment(x, a, b) {
				return false
			}
			if (a[1] > x[1]) != (b[1] > x[1]) {
				if a[0]+(x[1]-a[1])*(b[0]-a[0])/(b[1]-a[1]) > x[0] {
					in = !in
				}
			}
		}
	}
	return in
}

// Store is what Load and Follow read.
type Store interface {
	ListCoverage(ctx context.Context, clearance zone.Classification) ([]zone.Coverage, error)
	CoverageVersion(ctx context.Context) (int64, error)
}

// Load reads every coverage of st into a Set. It reads the version first,
// so the set reflects at least that version.
func Load(ctx context.Context, st Store) (*Set, error) {
	v, err := st.CoverageVersion(ctx)
	if err != nil {
		return nil, err
	}
	cs, err := st.ListCoverage(ctx, zone.Secret)
	if err != nil {
		return nil, err
	}
	return New(cs, v), nil
}

// Follow keeps use fed with the store's coverage until ctx ends: it loads
// it when its version moves, on every signal (the store's change feed) and
// every interval otherwise (a read instance on a standby gets no signal
// for coverage edits). Failures are logged and retried.
func Follow(ctx context.Context, st Store, signals <-chan struct{}, interval time.Duration, current func() int64, use func(*Set), log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if v, err := st.CoverageVersion(ctx); err != nil {
			if ctx.Err() == nil {
				log.Warn("coverage: cannot read its version; retrying", "err", err)
			}
		} else if v != current() {
			if s, err := Load(ctx, st); err != nil {
				if ctx.Err() == nil {
					log.Warn("coverage: cannot load it; retrying", "err", err)
				}
			} else {
				use(s)
			}
		}
		select {
		case <-ctx.Done():
			return
		case _, ok := <-signals:
			if !ok {
				signals = nil
			}
		case <-t.C:
		}
	}
}
