// Package tiles serves the components of the in-memory index as Mapbox
// Vector Tiles (MVT 2.1), one tile at a time, with a cache keyed on what the
// caller may see.
//
// A tile is built from the index (internal/index), never from the store, so
// the PostGIS and embedded modes serve the same features by construction.
// Coordinates: components are WGS84 longitude/latitude (EPSG:4326); tiles
// are Web Mercator (EPSG:3857) XYZ tiles with y counted from the north, of
// Extent units a side, clipped Buffer units outside the tile. A component
// whose box touches the buffered tile is a candidate; touching counts.
package tiles

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/admission"
	"github.com/zoneplan/zoneplan/internal/index"
	"github.com/zoneplan/zoneplan/internal/lru"
	"github.com/zoneplan/zoneplan/internal/zone"
)

const (
	// MaxZoom is the deepest zoom served; deeper requests are invalid.
	MaxZoom = 22
	// AllLayers is the layer name of the tiles holding every layer.
	AllLayers = "all"
	// ZonesLayer is the MVT layer of protection-zone polygons in AllLayers tiles.
	ZonesLayer = "protection_zones"
	// OmittedLayer is the MVT layer that counts, per layer and cell of the
	// tile, the features its byte or feature budget left out (thin.go).
	OmittedLayer = "omitted"
	// ZonesExactZoom is the first zoom whose zones are drawn with every
	// vertex of the checker's outline (rounded to tile units); lower zooms
	// simplify them.
	ZonesExactZoom = 14
	// DefaultCacheBytes bounds the tile cache when the server is not told otherwise.
	DefaultCacheBytes = 256 << 20
	// ContentType is the media type of a tile.
	ContentType = "application/vnd.mapbox-vector-tile"
)

// Options tunes a Service; zero fields take the defaults named.
type Options struct {
	// CacheBytes bounds the tile cache (gzipped tiles); 0 turns the cache
	// and the merging of concurrent identical misses off.
	CacheBytes int64
	Extent     int // tile side in units; default 4096
	Buffer     int // units drawn outside each tile edge; default 64
	// MaxFeatures caps the features of one MVT layer of one tile; beyond it
	// a tile keeps the most important features (thin.go) and counts the
	// rest in OmittedLayer. Default 4000.
	MaxFeatures int
	// MaxTileBytes bounds an encoded (uncompressed) tile: features are added
	// in order of importance (thin.go) until the next would pass it (the
	// encoder knows each feature's exact size); the rest are counted in
	// OmittedLayer, for which room is kept. Default 300,000, well under the
	// 500 KB clients cope with.
	MaxTileBytes int
	// ZonesMinZoom is the first zoom whose AllLayers tiles carry ZonesLayer. Default 11.
	ZonesMinZoom int
	// ZoneCacheBytes bounds the cache of computed provisional-zone buffers. Default 64 MiB.
	ZoneCacheBytes int64
	// Builds admits tile builds (cache misses; a cached tile passes no
	// gate), so a burst of cold low-zoom requests is bounded and its excess
	// refused with RetryAfter instead of starving every other request.
	// nil: DefaultBuilds.
	Builds *admission.Gate
}

// DefaultBuilds is the build limit when Options.Builds is nil: twice the
// CPUs at once, up to 32 waiting for each, for up to 2 s.
func DefaultBuilds() admission.Limit {
	return admission.Scaled(runtime.GOMAXPROCS(0), 2, 32, 2*time.Second)
}

func (o Options) withDefaults() Options {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.Extent, 4096)
	def(&o.Buffer, 64)
	def(&o.MaxFeatures, 4000)
	def(&o.MaxTileBytes, 300_000)
	def(&o.ZonesMinZoom, 11)
	if o.ZoneCacheBytes <= 0 {
		o.ZoneCacheBytes = 64 << 20
	}
	if o.CacheBytes < 0 {
		o.CacheBytes = 0
	}
	if o.Builds == nil {
		o.Builds = admission.New("tile builds", DefaultBuilds())
	}
	return o
}

// Service builds and caches tiles from an index. It is safe for concurrent use.
type Service struct {
	ix     *index.Index
	opt    Options
	cache  *lru.Cache[string, cached] // nil when the cache is off
	zones  *lru.Cache[zoneKey, []zonePolygon]
	flight flight
	// epoch names the build and the options, so an ETag from a build or a
	// configuration that renders differently never matches, while every
	// server of one build and configuration gives a tile the same ETag.
	epoch string

	notModified, hits, misses, builds atomic.Int64 // for Stats
}

// Stats counts the tiles asked for since start: answered 304 Not Modified,
// found in the cache, not found (or the cache off), and built.
type Stats struct {
	NotModified, Hits, Misses, Builds int64
}

// Stats returns the service's counters.
func (s *Service) Stats() Stats {
	return Stats{NotModified: s.notModified.Load(), Hits: s.hits.Load(), Misses: s.misses.Load(), Builds: s.builds.Load()}
}

// cached is one tile in the cache: gzipped small (compress.go), or empty.
type cached struct {
	gz    []byte
	empty bool
}

// New returns a Service drawing from ix.
func New(ix *index.Index, opt Options) *Service {
	opt = opt.withDefaults()
	s := &Service{ix: ix, opt: opt, epoch: epochOf(opt),
		zones: lru.New[zoneKey, []zonePolygon](opt.ZoneCacheBytes, zonesCost)}
	if opt.CacheBytes > 0 {
		s.cache = lru.New[string, cached](opt.CacheBytes, func(c cached) int64 { return int64(len(c.gz)) + 96 })
	}
	return s
}

// epochOf hashes the build (module versions and VCS revision) and the
// rendering options.
func epochOf(opt Options) string {
	h := fnv.New64a()
	if bi, ok := debug.ReadBuildInfo(); ok {
		_, _ = io.WriteString(h, bi.String())
	}
	opt.Builds = nil // how many build at once does not change a tile
	fmt.Fprintf(h, "%+v", opt)
	return strconv.FormatUint(h.Sum64()&0xffffffffffff, 16)
}

// Options returns the options in force, defaults filled in.
func (s *Service) Options() Options { return s.opt }

// Coord is one tile of the XYZ scheme: y counted from the north.
type Coord struct{ Z, X, Y uint32 }

func (c Coord) String() string { return fmt.Sprintf("%d/%d/%d", c.Z, c.X, c.Y) }

// ParseCoord parses a tile's z, x and y from a URL. Each must be a decimal
// integer, z from 0 to MaxZoom, x and y from 0 to 2^z-1; anything else is an
// invalid-input error with one Detail per bad part.
func ParseCoord(z, x, y string) (Coord, error) {
	var details []zone.Detail
	num := func(name, s string, max uint64) uint32 {
		v, err := strconv.ParseUint(s, 10, 32)
		switch {
		case err != nil:
			details = append(details, zone.Detail{Index: -1, Pointer: name, Reason: fmt.Sprintf("%q is not a whole number", s)})
		case v > max:
			details = append(details, zone.Detail{Index: -1, Pointer: name, Reason: fmt.Sprintf("%d is outside 0..%d", v, max)})
		}
		return uint32(v)
	}
	zz := num("z", z, MaxZoom)
	if len(details) > 0 {
		return Coord{}, &zone.Error{Code: zone.CodeInvalid, Message: fmt.Sprintf("bad tile zoom (want 0 to %d)", MaxZoom), Details: details}
	}
	last := uint64(1)<<zz - 1
	c := Coord{Z: zz, X: num("x", x, last), Y: num("y", y, last)}
	if len(details) > 0 {
		return Coord{}, &zone.Error{Code: zone.CodeInvalid, Message: fmt.Sprintf("tile %s/%s/%s is outside zoom %d (x and y run from 0 to %d)", z, x, y, zz, last), Details: details}
	}
	return c, nil
}

// Request names one tile as one caller sees it.
type Request struct {
	Layer string // a layer id, or AllLayers
	Coord Coord
	Scope zone.Scope // what the caller may see
}

// Tile is an encoded tile.
type Tile struct {
	Data    []byte // MVT, gzipped when Gzipped; empty for a tile with no features
	Gzipped bool
	ETag    string // strong validator, quoted
	// NotModified: the client holds this version (its If-None-Match
	// matched); Data is empty.
	NotModified bool
}

// allLayerIDs is zone.LayerIDs once: every request for AllLayers needs it.
var allLayerIDs = zone.LayerIDs()

// layers returns the layer ids a request draws, or a not-found error. The
// slice is shared: callers must not change it.
func layersOf(name string) ([]string, error) {
	if name == AllLayers {
		return allLayerIDs, nil
	}
	if p, ok := zone.LookupLayerPart(name); ok {
		return []string{p.Layer.ID}, nil
	}
	if _, err := zone.GetLayer(name); err != nil {
		return nil, err
	}
	return []string{name}, nil
}

// partOf is the layer part a tile name names (its one MVT layer, named
// after the part, holds the layer's features of one geometry class); nil
// for a layer or AllLayers.
func partOf(name string) *zone.LayerPart {
	p, _ := zone.LookupLayerPart(name)
	return p
}

// key is the cache key of a request against a snapshot: it names the
// tile, the scope and the digest of every layer the caller sees in it, so
// an edit changes the key of exactly the tiles of the layers (and scopes)
// it touched, a key never serves one scope another's tile, and an edit
// outside the caller's scope changes nothing the caller sees, ETag
// included.
func (s *Service) key(snap *index.Snapshot, req Request) (string, error) {
	layers, err := layersOf(req.Layer)
	if err != nil {
		return "", err
	}
	if !req.Scope.Clearance.Valid() {
		return "", zone.Errorf(zone.CodeInvalid, "invalid clearance %d", int(req.Scope.Clearance))
	}
	unpublished := uint32(0)
	if req.Scope.Unpublished {
		unpublished = 1
	}
	b := make([]byte, 0, 64+17*len(layers))
	b = append(b, req.Layer...)
	for _, n := range []uint32{req.Coord.Z, req.Coord.X, req.Coord.Y, uint32(req.Scope.Clearance), unpublished} {
		b = append(b, '/')
		b = strconv.AppendUint(b, uint64(n), 10)
	}
	for _, l := range layers {
		b = append(b, '/')
		b = strconv.AppendUint(b, snap.LayerDigest(l, req.Scope), 16)
	}
	return string(b), nil
}

func (s *Service) etag(key string) string {
	h := fnv.New64a()
	_, _ = io.WriteString(h, key)
	return `"` + s.epoch + "-" + strconv.FormatUint(h.Sum64(), 16) + `"`
}

// ETag returns the validator the tile would carry now, without building it.
func (s *Service) ETag(req Request) (string, error) {
	k, err := s.key(s.ix.Snapshot(), req)
	if err != nil {
		return "", err
	}
	return s.etag(k), nil
}

// Tile returns a tile, from the cache when it holds it. With acceptGzip the
// data may come gzipped (Tile.Gzipped says); otherwise it is plain. When
// notModified (may be nil) reports that the client holds the tile's ETag,
// Tile returns at once with NotModified set and no data.
func (s *Service) Tile(ctx context.Context, req Request, acceptGzip bool, notModified func(etag string) bool) (*Tile, error) {
	snap := s.ix.Snapshot()
	k, err := s.key(snap, req)
	if err != nil {
		return nil, err
	}
	t := &Tile{ETag: s.etag(k)}
	if notModified != nil && notModified(t.ETag) {
		s.notModified.Add(1)
		t.NotModified = true
		return t, nil
	}
	if s.cache == nil {
		s.misses.Add(1)
		raw, err := s.build(ctx, snap, req)
		if err != nil {
			return nil, err
		}
		t.Data = raw
		if acceptGzip && len(raw) > 0 {
			t.Data, t.Gzipped = fastGzip(raw), true
		}
		return t, nil
	}
	c, ok := s.cache.Get(k)
	if ok {
		s.hits.Add(1)
	} else {
		s.misses.Add(1)
		// One build per key for every caller asking while it runs; it
		// stops when they have all gone (see flight).
		c, err = s.flight.do(ctx, k, func(ctx context.Context) (cached, error) {
			if c, ok := s.cache.Get(k); ok {
				return c, nil
			}
			raw, err := s.build(ctx, snap, req)
			if err != nil {
				return cached{}, err
			}
			c := cached{empty: len(raw) == 0}
			if !c.empty {
				c.gz = smallGzip(raw)
			}
			s.cache.Put(k, c)
			return c, nil
		})
		if err != nil {
			return nil, err
		}
	}
	switch {
	case c.empty:
	case acceptGzip:
		t.Data, t.Gzipped = c.gz, true
	default:
		raw, err := gunzip(c.gz)
		if err != nil {
			return nil, zone.InternalError(err, "decompressing a cached tile")
		}
		t.Data = raw
	}
	return t, nil
}

// CacheStats reports the tile cache's entries and bytes (0, 0 when off).
func (s *Service) CacheStats() (entries int, bytes int64) {
	if s.cache == nil {
		return 0, 0
	}
	return s.cache.Stats()
}

// build encodes one tile from snap; an empty result means no features.
func (s *Service) build(ctx context.Context, snap *index.Snapshot, req Request) ([]byte, error) {
	layers, err := layersOf(req.Layer)
	if err != nil {
		return nil, err
	}
	release, err := s.opt.Builds.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	s.builds.Add(1)
	c := req.Coord
	tol := float64(s.opt.Extent) / 256 / 2 // half a screen pixel
	if c.Z >= 16 {
		tol = 1
	}
	f := newTileFrame(c.Z, c.X, c.Y, s.opt.Extent, s.opt.Buffer, tol)
	box := f.wgs84Bound(f.clip)

	// Candidates per layer.
	groups := make([]layerGroup, 0, len(layers))
	part := partOf(req.Layer)
	for _, l := range layers {
		var g layerGroup
		snap.SearchLayerBoxes(l, box, req.Scope, func(c *zone.Component, b orb.Bound) bool {
			if part == nil || part.Holds(c) {
				g.comps = append(g.comps, c)
				g.boxes = append(g.boxes, b)
			}
			return true
		})
		if len(g.comps) > 0 {
			g.name = l
			if part != nil {
				g.name = part.ID
			}
			groups = append(groups, g)
		}
	}
	var zoneComps []*zone.Component
	if req.Layer == AllLayers && int(c.Z) >= s.opt.ZonesMinZoom {
		zoneComps = zoneCandidates(snap, layers, box, req.Scope)
	}
	if err := ctx.Err(); err != nil {
		return nil, &zone.Error{Code: zone.CodeUnavailable, Message: "request cancelled", Err: err}
	}

	// Thinning: features are added in order of importance until the tile
	// reaches the budget (MaxTileBytes, less room for the layer headers and
	// the omitted layer) or a layer its MaxFeatures; what is left is
	// counted in the omitted layer, so nothing disappears without a sign.
	budget := s.opt.MaxTileBytes - 64*(len(groups)+2) - omittedReserve(len(groups))
	encs := make([]*layerEncoder, len(groups))
	omitted := newOmittedCells(&f, len(groups))
	used := 0
	full := false
	var attrs []attr
	for i, cd := range byImportance(groups) {
		// A tile nobody waits for any more is dropped.
		if i%256 == 255 && ctx.Err() != nil {
			return nil, &zone.Error{Code: zone.CodeUnavailable, Message: "request cancelled", Err: ctx.Err()}
		}
		g := &groups[cd.group]
		if encs[cd.group] == nil {
			encs[cd.group] = newLayerEncoder(g.name, s.opt.Extent)
		}
		enc := encs[cd.group]
		if full || enc.count >= s.opt.MaxFeatures {
			omitted.add(int(cd.group), g.boxes[cd.idx])
			continue
		}
		comp := g.comps[cd.idx]
		geom := f.shape(comp.Geometry)
		if geom == nil {
			continue
		}
		attrs = componentAttrs(attrs[:0], comp, req.Scope.Clearance)
		n, ok := enc.addWithin(enc.size+budget-used, featureID(comp), geom, attrs)
		if !ok {
			full = true
			omitted.add(int(cd.group), g.boxes[cd.idx])
			continue
		}
		used += n
	}
	var data []byte
	for _, enc := range encs {
		if enc != nil && enc.count > 0 {
			data = enc.appendTo(data)
		}
	}
	if len(zoneComps) > 0 && !full {
		if enc := s.zoneLayer(&f, box, zoneComps, budget-used); enc != nil {
			data = enc.appendTo(data)
		}
	}
	if enc := omitted.encode(groups, s.opt.Extent); enc != nil {
		data = enc.appendTo(data)
	}
	return data, nil
}

// zoneCandidates lists, in id order, the components of layers in scope sc
// that have zones and whose box is within the widest provisional width (of
// that scope: a hidden work's belt must not widen the search) of box.
func zoneCandidates(snap *index.Snapshot, layers []string, box orb.Bound, sc zone.Scope) []*zone.Component {
	grown := growMetres(box, snap.MaxZoneWidthIn(sc))
	var cs []*zone.Component
	for _, l := range layers {
		snap.SearchLayer(l, grown, sc, func(c *zone.Component) bool {
			if len(c.Zones) > 0 {
				cs = append(cs, c)
			}
			return true
		})
	}
	slices.SortFunc(cs, func(a, b *zone.Component) int { return bytes.Compare(a.ID[:], b.ID[:]) })
	return cs
}

// growMetres grows a WGS84 box by at least m metres on every side.
func growMetres(b orb.Bound, m float64) orb.Bound {
	if m <= 0 {
		return b
	}
	lat := math.Min(89, math.Max(math.Abs(b.Min[1]), math.Abs(b.Max[1])))
	dLat := m / 110_000 // a degree of latitude is at least 110.5 km
	dLon := m / (111_000 * math.Cos(lat*math.Pi/180))
	return orb.Bound{Min: orb.Point{b.Min[0] - dLon, b.Min[1] - dLat}, Max: orb.Point{b.Max[0] + dLon, b.Max[1] + dLat}}
}

// zoneLayer draws the protection zones of cs that reach the tile, within
// budget bytes; nil when there are none.
func (s *Service) zoneLayer(f *tileFrame, box orb.Bound, cs []*zone.Component, budget int) *layerEncoder {
	if f.z >= ZonesExactZoom {
		// from here on a zone is drawn vertex for vertex as the checker
		// tests it (rounded to tile units); below, simplified
		exact := *f
		exact.tol = 0
		f = &exact
	}
	enc := newLayerEncoder(ZonesLayer, s.opt.Extent)
	used := 0
	attrs := make([]attr, 4)
	for _, c := range cs {
		if enc.count >= s.opt.MaxFeatures {
			break
		}
		for _, z := range s.zonePolygons(c) {
			if !z.bound.Intersects(box) {
				continue
			}
			geom := f.shape(z.geom)
			if geom == nil {
				continue
			}
			attrs = append(attrs[:0],
				attr{key: "component_id", str: c.ID.String()},
				attr{key: "kind", str: string(z.kind)},
				attr{key: "approved", isBool: true, b: z.approved},
				attr{key: "layer", str: c.Layer})
			n, ok := enc.addWithin(enc.size+budget-used, featureID(c)&^3|uint64(zoneKindIndex(z.kind)), geom, attrs)
			if !ok {
				return finished(enc)
			}
			used += n
		}
	}
	return finished(enc)
}

// finished returns enc, or nil when it holds no feature.
func finished(enc *layerEncoder) *layerEncoder {
	if enc.count == 0 {
		return nil
	}
	return enc
}

func zoneKindIndex(k zone.ZoneKind) int {
	for i, z := range zone.ZoneKinds() {
		if z == k {
			return i
		}
	}
	return 3
}

// featureID is a component's MVT feature id: a 53-bit hash (FNV-1a) of its
// UUID, the same on every server and in every tile, and exact as a
// JavaScript number (MapLibre's feature state, OpenLayers' ids), which an
// id of 64 bits is not. A protection zone's id is its component's with
// the zone kind in the two low bits. The encoder keeps ids unique within
// a layer of a tile (layerEncoder.unique). The full UUID is the feature's
// "id" property (a zone's "component_id").
func featureID(c *zone.Component) uint64 {
	h := uint64(14695981039346656037)
	for _, b := range c.ID {
		h = (h ^ uint64(b)) * 1099511628211
	}
	return h >> 11
}

// componentAttrs appends the attributes a tile carries for a component, as
// a reader of clearance cl sees it (a project site's verdict is theirs);
// empty optional values are left out.
func componentAttrs(out []attr, c *zone.Component, cl zone.Classification) []attr {
	out = append(out,
		attr{key: "id", str: c.ID.String(), unique: true},
		attr{key: "layer", str: c.Layer},
		attr{key: "name", str: c.Name, unique: true},
		attr{key: "kind", str: c.Kind},
		attr{key: "classification", str: c.Classification.String()})
	if c.Code != "" {
		out = append(out, attr{key: "code", str: c.Code, unique: true})
	}
	if c.Group != "" {
		out = append(out, attr{key: "group", str: string(c.Group)})
	}
	if c.Layer == zone.LayerProjectSites {
		c = c.ForClearance(cl)
		for _, k := range []string{zone.PropVerdict, zone.PropStatus} {
			if v, ok := c.Properties[k].(string); ok && v != "" {
				out = append(out, attr{key: k, str: v})
			}
		}
	}
	return out
}
