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
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"golang.org/x/sync/singleflight"

	"github.com/zoneplan/zoneplan/internal/index"
	"github.com/zoneplan/zoneplan/internal/zone"
)

const (
	// MaxZoom is the deepest zoom served; deeper requests are invalid.
	MaxZoom = 22
	// AllLayers is the layer name of the tiles holding every layer.
	AllLayers = "all"
	// ZonesLayer is the MVT layer of protection-zone polygons in AllLayers tiles.
	ZonesLayer = "protection_zones"
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
	// a tile keeps the features with the smallest ids (a stable sample, the
	// same for every request). Default 4000.
	MaxFeatures int
	// MaxTileBytes bounds an encoded (uncompressed) tile. Layers take turns
	// adding features, smallest ids first, until an estimate of the size
	// reaches four fifths of it; a tile still over it is built again with a
	// budget shrunk by the overshoot. Default 500,000.
	MaxTileBytes int
	// ZonesMinZoom is the first zoom whose AllLayers tiles carry ZonesLayer. Default 11.
	ZonesMinZoom int
	// ZoneCacheBytes bounds the cache of computed provisional-zone buffers. Default 64 MiB.
	ZoneCacheBytes int64
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
	def(&o.MaxTileBytes, 500_000)
	def(&o.ZonesMinZoom, 11)
	if o.ZoneCacheBytes <= 0 {
		o.ZoneCacheBytes = 64 << 20
	}
	if o.CacheBytes < 0 {
		o.CacheBytes = 0
	}
	return o
}

// Service builds and caches tiles from an index. It is safe for concurrent use.
type Service struct {
	ix     *index.Index
	opt    Options
	cache  *lru[string, cached] // nil when the cache is off
	zones  *lru[zoneKey, []zonePolygon]
	flight singleflight.Group
	gzips  sync.Pool
	// epoch changes with every process, so an ETag from a previous run (whose
	// rendering may differ) never matches.
	epoch string
}

// cached is one tile in the cache: gzipped once, or empty.
type cached struct {
	gz    []byte
	empty bool
}

// New returns a Service drawing from ix.
func New(ix *index.Index, opt Options) *Service {
	opt = opt.withDefaults()
	var e [6]byte
	_, _ = rand.Read(e[:])
	s := &Service{ix: ix, opt: opt, epoch: hex.EncodeToString(e[:]),
		zones: newLRU[zoneKey, []zonePolygon](opt.ZoneCacheBytes, zonesCost)}
	if opt.CacheBytes > 0 {
		s.cache = newLRU[string, cached](opt.CacheBytes, func(c cached) int64 { return int64(len(c.gz)) + 96 })
	}
	return s
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
	Layer     string // a layer id, or AllLayers
	Coord     Coord
	Clearance zone.Classification
}

// Tile is an encoded tile.
type Tile struct {
	Data    []byte // MVT, gzipped when Gzipped; empty for a tile with no features
	Gzipped bool
	ETag    string // strong validator, quoted
}

// layers returns the layer ids a request draws, or a not-found error.
func layersOf(name string) ([]string, error) {
	if name == AllLayers {
		return zone.LayerIDs(), nil
	}
	if _, err := zone.GetLayer(name); err != nil {
		return nil, err
	}
	return []string{name}, nil
}

// key is the cache key of a request against a snapshot: it names the
// tile, the clearance and the version of every layer the caller sees in it,
// so an edit changes the key of exactly the tiles of the layers (and
// clearances) it touched, and a key never serves one clearance another's tile.
func (s *Service) key(snap *index.Snapshot, req Request) (string, error) {
	layers, err := layersOf(req.Layer)
	if err != nil {
		return "", err
	}
	if !req.Clearance.Valid() {
		return "", zone.Errorf(zone.CodeInvalid, "invalid clearance %d", int(req.Clearance))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s/%s/c%d", req.Layer, req.Coord, req.Clearance)
	for _, l := range layers {
		fmt.Fprintf(&b, "/%d", snap.LayerVersion(l, req.Clearance))
	}
	return b.String(), nil
}

func (s *Service) etag(key string) string {
	h := fnv.New64a()
	_, _ = io.WriteString(h, key)
	return fmt.Sprintf(`"%s-%016x"`, s.epoch, h.Sum64())
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
// data may come gzipped (Tile.Gzipped says); otherwise it is plain.
func (s *Service) Tile(ctx context.Context, req Request, acceptGzip bool) (*Tile, error) {
	snap := s.ix.Snapshot()
	k, err := s.key(snap, req)
	if err != nil {
		return nil, err
	}
	t := &Tile{ETag: s.etag(k)}
	if s.cache == nil {
		raw, err := s.build(ctx, snap, req)
		if err != nil {
			return nil, err
		}
		t.Data = raw
		if acceptGzip && len(raw) > 0 {
			t.Data, t.Gzipped = s.gzip(raw), true
		}
		return t, nil
	}
	c, ok := s.cache.get(k)
	if !ok {
		v, err, _ := s.flight.Do(k, func() (any, error) {
			if c, ok := s.cache.get(k); ok {
				return c, nil
			}
			raw, err := s.build(ctx, snap, req)
			if err != nil {
				return nil, err
			}
			c := cached{empty: len(raw) == 0}
			if !c.empty {
				c.gz = s.gzip(raw)
			}
			s.cache.put(k, c)
			return c, nil
		})
		if err != nil {
			return nil, err
		}
		c = v.(cached)
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
	return s.cache.stats()
}

func (s *Service) gzip(raw []byte) []byte {
	var buf bytes.Buffer
	buf.Grow(len(raw)/3 + 64)
	zw, _ := s.gzips.Get().(*gzip.Writer)
	if zw == nil {
		zw, _ = gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	} else {
		zw.Reset(&buf)
	}
	_, _ = zw.Write(raw)
	_ = zw.Close()
	s.gzips.Put(zw)
	return buf.Bytes()
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// build encodes one tile from snap; an empty result means no features.
func (s *Service) build(ctx context.Context, snap *index.Snapshot, req Request) ([]byte, error) {
	layers, err := layersOf(req.Layer)
	if err != nil {
		return nil, err
	}
	c := req.Coord
	tol := float64(s.opt.Extent) / 256 / 2 // half a screen pixel
	if c.Z >= 16 {
		tol = 1
	}
	f := newTileFrame(c.Z, c.X, c.Y, s.opt.Extent, s.opt.Buffer, tol)
	box := f.wgs84Bound(f.clip)

	// Candidates per layer, in id order: the order thinning keeps.
	type group struct {
		name  string
		comps []*zone.Component
	}
	groups := make([]group, 0, len(layers))
	for _, l := range layers {
		var cs []*zone.Component
		snap.SearchLayer(l, box, req.Clearance, func(c *zone.Component) bool {
			cs = append(cs, c)
			return true
		})
		if len(cs) > 0 {
			slices.SortFunc(cs, func(a, b *zone.Component) int { return bytes.Compare(a.ID[:], b.ID[:]) })
			groups = append(groups, group{l, cs})
		}
	}
	var zoneComps []*zone.Component
	if req.Layer == AllLayers && int(c.Z) >= s.opt.ZonesMinZoom {
		zoneComps = zoneCandidates(snap, layers, box, req.Clearance)
	}
	if err := ctx.Err(); err != nil {
		return nil, &zone.Error{Code: zone.CodeUnavailable, Message: "request cancelled", Err: err}
	}

	// Thinning: layers take turns adding their next feature in id order
	// until the estimated size reaches the budget (or every layer its
	// MaxFeatures). Should the estimate fall short, the real size decides:
	// the budget shrinks by the overshoot and the tile is built again.
	budget := s.opt.MaxTileBytes * 4 / 5
	for {
		type pending struct {
			feats []*geojson.Feature
			next  int
		}
		layersOut := make([]pending, len(groups))
		used := 0
		for more := true; more && used < budget; {
			more = false
			for gi := range groups {
				p, g := &layersOut[gi], groups[gi]
				for p.next < len(g.comps) && len(p.feats) < s.opt.MaxFeatures {
					comp := g.comps[p.next]
					p.next++
					if geom := f.shape(comp.Geometry); geom != nil {
						props := properties(comp)
						p.feats = append(p.feats, &geojson.Feature{ID: id64(comp), Geometry: geom, Properties: props})
						used += estimateBytes(geom, props)
						more = true
						break
					}
				}
			}
		}
		var out mvt.Layers
		for gi, p := range layersOut {
			if len(p.feats) > 0 {
				out = append(out, &mvt.Layer{Name: groups[gi].name, Version: 2, Extent: uint32(s.opt.Extent), Features: p.feats})
			}
		}
		if len(zoneComps) > 0 && used < budget {
			if l := s.zoneLayer(&f, box, zoneComps, budget-used); l != nil {
				out = append(out, l)
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		data, err := mvt.Marshal(out)
		if err != nil {
			return nil, zone.InternalError(err, "encoding tile %s", c)
		}
		if len(data) <= s.opt.MaxTileBytes || budget < 1024 {
			return data, nil
		}
		budget = int(float64(budget) * float64(s.opt.MaxTileBytes) / float64(len(data)) * 0.9)
	}
}

// estimateBytes is a generous guess of what a feature adds to an encoded
// tile: its string values in full (shared values are counted each time),
// tag and geometry commands, about 4 bytes a vertex.
func estimateBytes(g orb.Geometry, p geojson.Properties) int {
	n := 16 + 4*vertexCount(g)
	for _, v := range p {
		n += 4
		if s, ok := v.(string); ok {
			n += len(s)
		}
	}
	return n
}

// zoneCandidates lists, in id order, the components of layers seen at
// clearance that have zones and whose box is within the widest provisional
// width of box.
func zoneCandidates(snap *index.Snapshot, layers []string, box orb.Bound, clearance zone.Classification) []*zone.Component {
	grown := growMetres(box, snap.MaxZoneWidthM())
	var cs []*zone.Component
	for _, l := range layers {
		snap.SearchLayer(l, grown, clearance, func(c *zone.Component) bool {
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

// zoneLayer draws the protection zones of cs that reach the tile.
func (s *Service) zoneLayer(f *tileFrame, box orb.Bound, cs []*zone.Component, budget int) *mvt.Layer {
	var feats []*geojson.Feature
	used := 0
	for _, c := range cs {
		if used >= budget || len(feats) >= s.opt.MaxFeatures {
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
			props := geojson.Properties{"component_id": c.ID.String(), "kind": string(z.kind), "approved": z.approved, "layer": c.Layer}
			feats = append(feats, &geojson.Feature{ID: id64(c)&^3 | uint64(zoneKindIndex(z.kind)), Geometry: geom, Properties: props})
			used += estimateBytes(geom, props)
		}
	}
	if len(feats) == 0 {
		return nil
	}
	return &mvt.Layer{Name: ZonesLayer, Version: 2, Extent: uint32(s.opt.Extent), Features: feats}
}

func zoneKindIndex(k zone.ZoneKind) int {
	for i, z := range zone.ZoneKinds() {
		if z == k {
			return i
		}
	}
	return 3
}

// id64 is a component's MVT feature id: the first 8 bytes of its UUID,
// big-endian. The full UUID is the feature's "id" property.
func id64(c *zone.Component) uint64 { return binary.BigEndian.Uint64(c.ID[:8]) }

// properties are the attributes a tile carries for a component; empty
// optional values are left out.
func properties(c *zone.Component) geojson.Properties {
	p := geojson.Properties{
		"id":             c.ID.String(),
		"layer":          c.Layer,
		"name":           c.Name,
		"kind":           c.Kind,
		"classification": c.Classification.String(),
	}
	if c.Code != "" {
		p["code"] = c.Code
	}
	if c.Group != "" {
		p["group"] = string(c.Group)
	}
	if c.Layer == zone.LayerProjectSites {
		for _, k := range []string{zone.PropVerdict, zone.PropStatus} {
			if v, ok := c.Properties[k].(string); ok && v != "" {
				p[k] = v
			}
		}
	}
	return p
}
