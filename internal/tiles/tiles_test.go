package tiles

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gogo/protobuf/proto"
	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/encoding/mvt/vectortile"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"

	"github.com/zoneplan/zoneplan/internal/admission"
	"github.com/zoneplan/zoneplan/internal/index"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// world is an index the tests fill through Apply, as the store's change
// feed would.
type world struct {
	ix      *index.Index
	version int64
}

func newWorld() *world { return &world{ix: index.New()} }

func (w *world) put(cs ...*zone.Component) {
	w.version++
	ch := make([]zone.Change, len(cs))
	for i, c := range cs {
		c.Version++
		ch[i] = zone.Change{ID: c.ID, Layer: c.Layer, Component: c}
	}
	w.ix.Apply(ch, w.version)
}

func comp(layer string, cl zone.Classification, name string, g orb.Geometry) *zone.Component {
	l, _ := zone.LookupLayer(layer)
	return &zone.Component{ID: uuid.New(), Layer: layer, Kind: l.DefaultKind(), Name: name, Classification: cl, Geometry: g}
}

// decode reads a tile (plain or gzipped) into layers by name.
func decode(t *testing.T, tile *Tile) map[string]*mvt.Layer {
	t.Helper()
	out := map[string]*mvt.Layer{}
	if len(tile.Data) == 0 {
		return out
	}
	var ls mvt.Layers
	var err error
	if tile.Gzipped {
		ls, err = mvt.UnmarshalGzipped(tile.Data)
	} else {
		ls, err = mvt.Unmarshal(tile.Data)
	}
	if err != nil {
		t.Fatalf("tile does not decode: %v", err)
	}
	for _, l := range ls {
		if l.Version != 2 || l.Extent != 4096 {
			t.Errorf("layer %s: version %d extent %d, want 2 and 4096", l.Name, l.Version, l.Extent)
		}
		out[l.Name] = l
	}
	return out
}

func getTile(t *testing.T, s *Service, layer string, tl maptile.Tile, cl zone.Classification) (*Tile, map[string]*mvt.Layer) {
	t.Helper()
	tile, err := s.Tile(context.Background(), Request{Layer: layer, Coord: Coord{uint32(tl.Z), tl.X, tl.Y}, Scope: zone.ScopeOf(cl)}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tile, decode(t, tile)
}

func findFeature(l *mvt.Layer, id uuid.UUID) *geojson.Feature {
	if l == nil {
		return nil
	}
	for _, f := range l.Features {
		if f.Properties["id"] == id.String() {
			return f
		}
	}
	return nil
}

// TestTileContent: a known component lands on the right tile pixel with
// its attributes and id.
func TestTileContent(t *testing.T) {
	w := newWorld()
	ll := orb.Point{106.7619, 21.8537}
	c := comp(zone.LayerDefenceWorks, zone.Internal, "Kho đạn K3 – Lạng Sơn", ll)
	c.Kind, c.Code, c.Group = zone.KindDepot, "K3", zone.GroupI
	site := comp(zone.LayerProjectSites, zone.Public, "Nhà máy xi măng", orb.Point{106.77, 21.86})
	site.Properties = map[string]any{zone.PropVerdict: "review", zone.PropStatus: "pending", zone.PropInvestor: "not in tiles"}
	w.put(c, site)
	s := New(w.ix, Options{CacheBytes: 1 << 20})

	for _, z := range []maptile.Zoom{4, 10, 14, 22} {
		tl := maptile.At(ll, z)
		_, layers := getTile(t, s, AllLayers, tl, zone.Secret)
		f := findFeature(layers[zone.LayerDefenceWorks], c.ID)
		if f == nil {
			t.Fatalf("z%d: component missing from tile %v: layers %v", z, tl, layers)
		}
		// Expected pixel from orb's own tile maths, independent of ours.
		frac := maptile.Fraction(ll, z)
		want := orb.Point{(frac[0] - float64(tl.X)) * 4096, (frac[1] - float64(tl.Y)) * 4096}
		got, ok := f.Geometry.(orb.Point)
		if !ok || math.Abs(got[0]-want[0]) > 0.5 || math.Abs(got[1]-want[1]) > 0.5 {
			t.Errorf("z%d: feature at %v, want %v (±0.5)", z, f.Geometry, want)
		}
		wantProps := map[string]any{"id": c.ID.String(), "layer": zone.LayerDefenceWorks, "name": c.Name, "kind": zone.KindDepot,
			"code": "K3", "classification": "internal", "group": "I"}
		for k, v := range wantProps {
			if f.Properties[k] != v {
				t.Errorf("z%d: property %s = %v, want %v", z, k, f.Properties[k], v)
			}
		}
		if got := rawIDs(t, s, AllLayers, tl)[zone.LayerDefenceWorks]; len(got) != 1 || got[0] != featureID(c) || got[0] >= 1<<53 {
			t.Errorf("z%d: feature ids %v, want [%d] (the UUID's 53-bit hash)", z, got, featureID(c))
		}
	}
	tl := maptile.At(ll, 12)
	_, layers := getTile(t, s, AllLayers, tl, zone.Secret)
	sf := findFeature(layers[zone.LayerProjectSites], site.ID)
	if sf == nil || sf.Properties["verdict"] != "review" || sf.Properties["status"] != "pending" || sf.Properties["investor"] != nil {
		t.Fatalf("project site attributes: %v", sf)
	}
	// A single-layer tile carries that layer only.
	_, layers = getTile(t, s, zone.LayerProjectSites, tl, zone.Secret)
	if len(layers) != 1 || layers[zone.LayerProjectSites] == nil {
		t.Fatalf("single-layer tile holds %v", layers)
	}
	// A tile far away is empty.
	tile, layers := getTile(t, s, AllLayers, maptile.At(orb.Point{-70, 40}, 12), zone.Secret)
	if len(tile.Data) != 0 || len(layers) != 0 {
		t.Fatalf("empty tile has %d bytes", len(tile.Data))
	}
}

// rawIDs reads the exact uint64 feature ids of a tile (orb's decoder turns
// them into float64).
func rawIDs(t *testing.T, s *Service, layer string, tl maptile.Tile) map[string][]uint64 {
	t.Helper()
	tile, err := s.Tile(context.Background(), Request{Layer: layer, Coord: Coord{uint32(tl.Z), tl.X, tl.Y}, Scope: zone.ScopeOf(zone.Secret)}, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	var vt vectortile.Tile
	if err := proto.Unmarshal(tile.Data, &vt); err != nil {
		t.Fatal(err)
	}
	out := map[string][]uint64{}
	for _, l := range vt.Layers {
		for _, f := range l.Features {
			out[l.GetName()] = append(out[l.GetName()], f.GetId())
		}
	}
	return out
}

func square(lon, lat, d float64) orb.Polygon {
	return orb.Polygon{{{lon, lat}, {lon + d, lat}, {lon + d, lat + d}, {lon, lat + d}, {lon, lat}}}
}

// TestClipWithBuffer: a polygon and a line much larger than the tile are
// clipped to the tile plus the buffer, and still cover the whole tile.
func TestClipWithBuffer(t *testing.T) {
	w := newWorld()
	big := comp(zone.LayerDefenceWorks, zone.Public, "big", square(105, 21, 1))
	line := comp(zone.LayerPatrolRoutes, zone.Public, "line", orb.LineString{{104.9, 21.5}, {106.1, 21.5}})
	w.put(big, line)
	s := New(w.ix, Options{})
	tl := maptile.At(orb.Point{105.5, 21.5}, 12)
	_, layers := getTile(t, s, AllLayers, tl, zone.Public)
	for _, name := range []string{zone.LayerDefenceWorks, zone.LayerPatrolRoutes} {
		l := layers[name]
		if l == nil || len(l.Features) != 1 {
			t.Fatalf("%s: %v", name, l)
		}
		b := l.Features[0].Geometry.Bound()
		if b.Min[0] < -64 || b.Min[1] < -64 || b.Max[0] > 4096+64 || b.Max[1] > 4096+64 {
			t.Errorf("%s: bound %v outside [-64, 4160]", name, b)
		}
		if b.Min[0] > -64 || b.Max[0] < 4096+64 {
			t.Errorf("%s: bound %v does not reach the buffer's edges in x", name, b)
		}
	}
	if b := layers[zone.LayerDefenceWorks].Features[0].Geometry.Bound(); b.Min[1] != -64 || b.Max[1] != 4096+64 {
		t.Errorf("polygon covering the tile: y range %v, want -64..4160", b)
	}
}

// TestRingOrientation: exterior rings have positive area in tile
// coordinates (clockwise on screen), holes negative, whatever the input's
// winding; a multipolygon decodes as separate polygons.
func TestRingOrientation(t *testing.T) {
	w := newWorld()
	outer := square(105.50, 21.50, 0.004)[0] // counter-clockwise in lon/lat, as GeoJSON orients
	hole := orb.Ring{{105.501, 21.501}, {105.501, 21.503}, {105.503, 21.503}, {105.503, 21.501}, {105.501, 21.501}}
	withHole := comp(zone.LayerDefenceWorks, zone.Public, "with hole", orb.Polygon{outer, hole})
	cw := square(105.51, 21.50, 0.003)[0]
	reverse(cw) // clockwise in lon/lat: the other winding
	multi := comp(zone.LayerCombatBases, zone.Public, "multi", orb.MultiPolygon{{cw}, square(105.52, 21.50, 0.003)})
	w.put(withHole, multi)
	s := New(w.ix, Options{})
	_, layers := getTile(t, s, AllLayers, maptile.At(orb.Point{105.51, 21.50}, 12), zone.Public)

	p, ok := findFeature(layers[zone.LayerDefenceWorks], withHole.ID).Geometry.(orb.Polygon)
	if !ok || len(p) != 2 {
		t.Fatalf("polygon with a hole decoded as %v", p)
	}
	if surveyorArea(p[0]) <= 0 || surveyorArea(p[1]) >= 0 {
		t.Errorf("exterior area %v (want > 0), hole area %v (want < 0)", surveyorArea(p[0]), surveyorArea(p[1]))
	}
	mp, ok := findFeature(layers[zone.LayerCombatBases], multi.ID).Geometry.(orb.MultiPolygon)
	if !ok || len(mp) != 2 {
		t.Fatalf("multipolygon decoded as %#v", findFeature(layers[zone.LayerCombatBases], multi.ID).Geometry)
	}
	for i, q := range mp {
		if len(q) != 1 || surveyorArea(q[0]) <= 0 {
			t.Errorf("part %d: %d rings, exterior area %v", i, len(q), surveyorArea(q[0]))
		}
	}
}

// TestClearanceAndCache: a secret component is absent for a restricted
// caller and present for a secret one, and the cache never hands one
// clearance's tile to another.
func TestClearanceAndCache(t *testing.T) {
	w := newWorld()
	pt := orb.Point{105.8, 21.0}
	pub := comp(zone.LayerCommuneHQs, zone.Public, "public hq", pt)
	sec := comp(zone.LayerCommuneHQs, zone.Secret, "secret hq", orb.Point{105.801, 21.001})
	sec.Zones = []zone.ProtectionZone{{Kind: zone.SafetyBelt, WidthM: 300}}
	w.put(pub, sec)
	s := New(w.ix, Options{CacheBytes: 1 << 20})
	tl := maptile.At(pt, 14)
	for round := 0; round < 2; round++ { // the second round comes from the cache
		for _, cl := range zone.Classifications() {
			tile, layers := getTile(t, s, AllLayers, tl, cl)
			hasSecret := findFeature(layers[zone.LayerCommuneHQs], sec.ID) != nil
			if hasSecret != (cl == zone.Secret) {
				t.Errorf("round %d, clearance %s: secret component present = %v", round, cl, hasSecret)
			}
			for _, f := range featuresOf(layers[ZonesLayer]) {
				if f.Properties["component_id"] == sec.ID.String() && cl != zone.Secret {
					t.Errorf("clearance %s sees the secret component's zone", cl)
				}
			}
			if bytes.Contains(tile.Data, []byte("secret hq")) != (cl == zone.Secret) {
				t.Errorf("clearance %s: tile bytes mention the secret name: %v", cl, cl != zone.Secret)
			}
		}
	}
	if n, _ := s.CacheStats(); n != 4 {
		t.Errorf("cache holds %d tiles, want 4 (one per clearance)", n)
	}
	if st := s.Stats(); st.Misses != 4 || st.Builds != 4 || st.Hits != 4 {
		t.Errorf("stats %+v: want 4 misses and builds (round one) and 4 hits (round two)", st)
	}
	e1, _ := s.ETag(Request{Layer: AllLayers, Coord: Coord{14, tl.X, tl.Y}, Scope: zone.ScopeOf(zone.Restricted)})
	e2, _ := s.ETag(Request{Layer: AllLayers, Coord: Coord{14, tl.X, tl.Y}, Scope: zone.ScopeOf(zone.Secret)})
	if e1 == e2 {
		t.Errorf("restricted and secret callers share the ETag %s", e1)
	}
}

func featuresOf(l *mvt.Layer) []*geojson.Feature {
	if l == nil {
		return nil
	}
	return l.Features
}

// TestEditInvalidates: the request after an edit shows it; tiles of other
// layers, and of clearances that cannot see the edit, keep their ETag.
func TestEditInvalidates(t *testing.T) {
	w := newWorld()
	pt := orb.Point{105.8, 21.0}
	hq := comp(zone.LayerCommuneHQs, zone.Public, "before", pt)
	marker := comp(zone.LayerBorderMarkers, zone.Public, "marker", pt)
	sec := comp(zone.LayerCommuneHQs, zone.Secret, "secret", pt)
	w.put(hq, marker, sec)
	s := New(w.ix, Options{CacheBytes: 1 << 20})
	tl := maptile.At(pt, 12)
	req := func(layer string, cl zone.Classification) Request {
		return Request{Layer: layer, Coord: Coord{12, tl.X, tl.Y}, Scope: zone.ScopeOf(cl)}
	}
	etag := func(layer string, cl zone.Classification) string {
		e, err := s.ETag(req(layer, cl))
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	_, layers := getTile(t, s, zone.LayerCommuneHQs, tl, zone.Public)
	if f := findFeature(layers[zone.LayerCommuneHQs], hq.ID); f == nil || f.Properties["name"] != "before" {
		t.Fatalf("before the edit: %v", f)
	}
	hqTag, markerTag, pubTag := etag(zone.LayerCommuneHQs, zone.Secret), etag(zone.LayerBorderMarkers, zone.Public), etag(zone.LayerCommuneHQs, zone.Public)

	sec2 := sec.Clone()
	sec2.Name = "secret renamed"
	w.put(sec2)
	if etag(zone.LayerCommuneHQs, zone.Public) != pubTag {
		t.Errorf("a secret edit changed the public tile's ETag (it would reveal the edit)")
	}
	if etag(zone.LayerCommuneHQs, zone.Secret) == hqTag {
		t.Errorf("a secret edit left the secret tile's ETag")
	}

	hq2 := hq.Clone()
	hq2.Name = "after"
	w.put(hq2)
	_, layers = getTile(t, s, zone.LayerCommuneHQs, tl, zone.Public)
	if f := findFeature(layers[zone.LayerCommuneHQs], hq.ID); f == nil || f.Properties["name"] != "after" {
		t.Fatalf("after the edit the tile shows %v", f)
	}
	if etag(zone.LayerBorderMarkers, zone.Public) != markerTag {
		t.Errorf("an edit of commune_hqs changed the border_markers tile's ETag")
	}
	// A deletion shows too.
	w.version++
	w.ix.Apply([]zone.Change{{ID: hq.ID, Layer: hq.Layer, Deleted: true}}, w.version)
	_, layers = getTile(t, s, zone.LayerCommuneHQs, tl, zone.Public)
	if findFeature(layers[zone.LayerCommuneHQs], hq.ID) != nil {
		t.Fatalf("deleted component still in the tile")
	}
}

// TestThinningBoundsTileSize: a tile with far more features than fit stays
// under MaxTileBytes and keeps a stable sample (smallest ids first).
func TestThinningBoundsTileSize(t *testing.T) {
	w := newWorld()
	var cs []*zone.Component
	long := strings.Repeat("Trụ sở Ban chỉ huy quân sự xã ", 3)
	for i := 0; i < 20_000; i++ {
		lon := 105.0 + float64(i%200)*0.004
		lat := 21.0 + float64(i/200)*0.004
		cs = append(cs, comp(zone.LayerCommuneHQs, zone.Public, fmt.Sprintf("%s%d", long, i), orb.Point{lon, lat}))
	}
	w.put(cs...)
	s := New(w.ix, Options{})
	tl := maptile.At(orb.Point{105.4, 21.2}, 7)
	tile, layers := getTile(t, s, AllLayers, tl, zone.Public)
	if len(tile.Data) > s.opt.MaxTileBytes {
		t.Fatalf("tile of %d bytes, over %d", len(tile.Data), s.opt.MaxTileBytes)
	}
	kept := layers[zone.LayerCommuneHQs].Features
	if len(kept) == 0 || len(kept) >= len(cs) {
		t.Fatalf("kept %d of %d features", len(kept), len(cs))
	}
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = string(c.ID[:])
	}
	// The kept features are exactly the len(kept) smallest ids.
	var maxKept string
	keptSet := map[string]bool{}
	for _, f := range kept {
		id := uuid.MustParse(f.Properties["id"].(string))
		keptSet[string(id[:])] = true
		maxKept = max(maxKept, string(id[:]))
	}
	for _, id := range ids {
		if (id <= maxKept) != keptSet[id] {
			t.Fatalf("thinning did not keep the smallest ids")
		}
	}
	again, _ := getTile(t, s, AllLayers, tl, zone.Public)
	if !bytes.Equal(tile.Data, again.Data) {
		t.Fatalf("the same tile built twice differs")
	}
}

// TestProtectionZonesLayer: provisional widths become buffers of the right
// size in metres; approved zones are drawn as they are; only from ZonesMinZoom.
func TestProtectionZonesLayer(t *testing.T) {
	w := newWorld()
	z := maptile.Zoom(14)
	tl := maptile.At(orb.Point{105.8, 21.0}, z)
	pt := tl.Center()
	depot := comp(zone.LayerDefenceWorks, zone.Public, "depot", pt)
	approved := square(105.79, 20.99, 0.02)
	depot.Zones = []zone.ProtectionZone{{Kind: zone.SafetyBelt, WidthM: 500}, {Kind: zone.ProtectedArea, Geometry: approved, Decision: "1/QĐ"}}
	w.put(depot)
	s := New(w.ix, Options{})
	_, layers := getTile(t, s, AllLayers, tl, zone.Public)
	zl := layers[ZonesLayer]
	if zl == nil || len(zl.Features) != 2 {
		t.Fatalf("zones layer: %v", zl)
	}
	metresPerUnit := 40075016.686 * math.Cos(pt[1]*math.Pi/180) / (math.Exp2(float64(z)) * 4096)
	for _, f := range zl.Features {
		if f.Properties["component_id"] != depot.ID.String() || f.Properties["layer"] != zone.LayerDefenceWorks {
			t.Errorf("zone properties %v", f.Properties)
		}
		switch f.Properties["kind"] {
		case string(zone.SafetyBelt):
			if f.Properties["approved"] != false {
				t.Errorf("provisional belt marked approved")
			}
			b := f.Geometry.Bound()
			wM := (b.Max[0] - b.Min[0]) * metresPerUnit
			hM := (b.Max[1] - b.Min[1]) * metresPerUnit
			if math.Abs(wM-1000) > 15 || math.Abs(hM-1000) > 15 {
				t.Errorf("500 m belt drawn %.0f m by %.0f m, want 1000 by 1000", wM, hM)
			}
		case string(zone.ProtectedArea):
			if f.Properties["approved"] != true {
				t.Errorf("approved zone not marked approved")
			}
		default:
			t.Errorf("unexpected zone kind %v", f.Properties["kind"])
		}
	}
	_, layers = getTile(t, s, AllLayers, maptile.At(pt, 10), zone.Public)
	if layers[ZonesLayer] != nil {
		t.Errorf("zones drawn at z10, below ZonesMinZoom")
	}
	_, layers = getTile(t, s, zone.LayerDefenceWorks, tl, zone.Public)
	if layers[ZonesLayer] != nil {
		t.Errorf("zones drawn in a single-layer tile")
	}
}

// TestSmallFeaturesBecomePoints: a polygon under a pixel across is drawn
// as a point at low zoom and as a polygon when it is large enough.
func TestSmallFeaturesBecomePoints(t *testing.T) {
	w := newWorld()
	c := comp(zone.LayerDefenceWorks, zone.Public, "small", square(105.8, 21.0, 0.001)) // about 100 m
	w.put(c)
	s := New(w.ix, Options{})
	_, layers := getTile(t, s, AllLayers, maptile.At(orb.Point{105.8005, 21.0005}, 8), zone.Public)
	if f := findFeature(layers[zone.LayerDefenceWorks], c.ID); f == nil || f.Geometry.GeoJSONType() != "Point" {
		t.Fatalf("z8: %v, want a point", f)
	}
	_, layers = getTile(t, s, AllLayers, maptile.At(orb.Point{105.8005, 21.0005}, 15), zone.Public)
	if f := findFeature(layers[zone.LayerDefenceWorks], c.ID); f == nil || f.Geometry.GeoJSONType() != "Polygon" {
		t.Fatalf("z15: %v, want a polygon", f)
	}
}

func TestParseCoord(t *testing.T) {
	good := []struct {
		z, x, y string
		want    Coord
	}{{"0", "0", "0", Coord{0, 0, 0}}, {"22", "4194303", "4194303", Coord{22, 4194303, 4194303}}, {"12", "3250", "1780", Coord{12, 3250, 1780}}}
	for _, g := range good {
		c, err := ParseCoord(g.z, g.x, g.y)
		if err != nil || c != g.want {
			t.Errorf("%s/%s/%s: %v %v", g.z, g.x, g.y, c, err)
		}
	}
	bad := []struct{ z, x, y, pointer string }{
		{"23", "0", "0", "z"}, {"-1", "0", "0", "z"}, {"a", "0", "0", "z"}, {"1", "2", "0", "x"},
		{"1", "0", "2", "y"}, {"0", "1", "0", "x"}, {"3", "0", "1e3", "y"}, {"99999999999", "0", "0", "z"},
	}
	for _, b := range bad {
		_, err := ParseCoord(b.z, b.x, b.y)
		var e *zone.Error
		if zone.ErrorCode(err) != zone.CodeInvalid || !asError(err, &e) || len(e.Details) == 0 || e.Details[0].Pointer != b.pointer {
			t.Errorf("%s/%s/%s: %v, want invalid naming %s", b.z, b.x, b.y, err, b.pointer)
		}
	}
}

func asError(err error, target **zone.Error) bool {
	e, ok := err.(*zone.Error)
	*target = e
	return ok
}

func TestUnknownLayer(t *testing.T) {
	s := New(newWorld().ix, Options{})
	_, err := s.Tile(context.Background(), Request{Layer: "nope", Coord: Coord{1, 0, 0}}, false, nil)
	if zone.ErrorCode(err) != zone.CodeNotFound {
		t.Fatalf("unknown layer: %v", err)
	}
}

// TestBuildsAreBounded: tile builds pass the Builds gate. With every slot
// taken, a request whose context ends while it waits, or that waits past
// the gate's wait, fails as unavailable with a Retry-After instead of piling
// on; a cached tile needs no slot.
func TestBuildsAreBounded(t *testing.T) {
	w := newWorld()
	w.put(comp(zone.LayerCommuneHQs, zone.Public, "hq", orb.Point{105.8, 21.0}))
	// Two may wait: the build abandoned by the cancelled request below
	// may still be leaving the queue when the next one joins it.
	gate := admission.New("tile builds", admission.Limit{Concurrent: 1, Queue: 2, Wait: 100 * time.Millisecond})
	s := New(w.ix, Options{CacheBytes: 1 << 20, Builds: gate})
	tl := maptile.At(orb.Point{105.8, 21.0}, 10)
	cachedReq := Request{Layer: AllLayers, Coord: Coord{10, tl.X, tl.Y}}
	if _, err := s.Tile(context.Background(), cachedReq, false, nil); err != nil {
		t.Fatal(err)
	}
	release, err := gate.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	cold := Request{Layer: zone.LayerCommuneHQs, Coord: Coord{10, tl.X, tl.Y}}
	if _, err = s.Tile(ctx, cold, false, nil); zone.ErrorCode(err) != zone.CodeUnavailable {
		t.Fatalf("with every slot taken and the request cancelled: %v, want unavailable", err)
	}
	start := time.Now()
	_, err = s.Tile(context.Background(), cold, false, nil)
	if zone.ErrorCode(err) != zone.CodeUnavailable || zone.ErrorRetryAfter(err) < time.Second {
		t.Fatalf("with every slot taken: %v, want unavailable with Retry-After", err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("refused after %s, want about the gate's 100 ms", el)
	}
	if _, err := s.Tile(context.Background(), cachedReq, false, nil); err != nil {
		t.Fatalf("a cached tile while builds are full: %v", err)
	}
	release()
	if _, err := s.Tile(context.Background(), cold, false, nil); err != nil {
		t.Fatalf("after the slots freed: %v", err)
	}
	if gate.InFlight() != 0 || gate.Refused() != 1 {
		t.Fatalf("gate after the builds: %d in flight, %d refused", gate.InFlight(), gate.Refused())
	}
}

// TestCancelledCallerDoesNotFailOthers: two callers wait for one build;
// the first giving up leaves the build to the second, which gets the tile.
func TestCancelledCallerDoesNotFailOthers(t *testing.T) {
	w := newWorld()
	w.put(comp(zone.LayerCommuneHQs, zone.Public, "hq", orb.Point{105.8, 21.0}))
	gate := admission.New("tile builds", admission.Limit{Concurrent: 1, Queue: 4, Wait: 10 * time.Second})
	s := New(w.ix, Options{CacheBytes: 1 << 20, Builds: gate})
	tl := maptile.At(orb.Point{105.8, 21.0}, 10)
	req := Request{Layer: zone.LayerCommuneHQs, Coord: Coord{10, tl.X, tl.Y}}
	release, _ := gate.Acquire(context.Background()) // the build waits for this slot
	first, cancel := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() { _, err := s.Tile(first, req, false, nil); firstErr <- err }()
	second := make(chan error, 1)
	var got *Tile
	go func() {
		var err error
		got, err = s.Tile(context.Background(), req, false, nil)
		second <- err
	}()
	waitUntil(t, "both wait for one build", func() bool { return gate.Queued() == 1 && s.flight.waiting(s.keyOf(t, req)) == 2 })
	cancel()
	if err := <-firstErr; zone.ErrorCode(err) != zone.CodeUnavailable {
		t.Fatalf("the caller that left: %v", err)
	}
	release()
	if err := <-second; err != nil {
		t.Fatalf("the caller that stayed: %v", err)
	}
	if len(decode(t, got)[zone.LayerCommuneHQs].Features) != 1 {
		t.Fatalf("the caller that stayed got the wrong tile")
	}
}

// TestAbandonedBuildStops: when every caller waiting for a build has gone,
// the build's context ends (it stops at its next check), and the next
// caller starts a new build instead of joining the abandoned one.
func TestAbandonedBuildStops(t *testing.T) {
	var f flight
	started := make(chan struct{}, 2)
	stopped := make(chan struct{}, 2)
	build := func(ctx context.Context) (cached, error) {
		started <- struct{}{}
		<-ctx.Done()
		stopped <- struct{}{}
		return cached{}, ctx.Err()
	}
	ctx1, cancel1 := context.WithCancel(context.Background())
	ctx2, cancel2 := context.WithCancel(context.Background())
	errs := make(chan error, 2)
	go func() { _, err := f.do(ctx1, "k", build); errs <- err }()
	<-started
	go func() { _, err := f.do(ctx2, "k", build); errs <- err }()
	waitUntil(t, "two callers wait", func() bool { return f.waiting("k") == 2 })
	cancel1()
	<-errs
	select {
	case <-stopped:
		t.Fatal("the build stopped while a caller still waited for it")
	case <-time.After(50 * time.Millisecond):
	}
	cancel2()
	<-errs
	select {
	case <-stopped:
	case <-time.After(2 * time.Second):
		t.Fatal("the build went on with nobody waiting")
	}
	// A new caller starts a new build (and gets its result).
	res, err := f.do(context.Background(), "k", func(context.Context) (cached, error) { return cached{empty: true}, nil })
	if err != nil || !res.empty {
		t.Fatalf("a new build after the abandoned one: %+v %v", res, err)
	}
	if len(started) != 0 {
		t.Fatal("the abandoned build was joined again")
	}
}

// TestFlightSharesOneBuild: callers asking for one key at once share one
// build.
func TestFlightSharesOneBuild(t *testing.T) {
	var f flight
	var builds atomic.Int32
	gate := make(chan struct{})
	build := func(ctx context.Context) (cached, error) {
		builds.Add(1)
		<-gate
		return cached{gz: []byte("tile")}, nil
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c, err := f.do(context.Background(), "k", build); err != nil || string(c.gz) != "tile" {
				t.Errorf("%+v %v", c, err)
			}
		}()
	}
	waitUntil(t, "eight callers wait", func() bool { return f.waiting("k") == 8 })
	close(gate)
	wg.Wait()
	if builds.Load() != 1 {
		t.Fatalf("%d builds, want 1", builds.Load())
	}
}

func (s *Service) keyOf(t *testing.T, req Request) string {
	t.Helper()
	k, err := s.key(s.ix.Snapshot(), req)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestFlightBuildPanicFailsTheTile: a build that panics runs in a goroutine
// of its own, beyond the request's recovery; it fails its callers with an
// internal error instead of killing the server, and the next caller builds
// afresh.
func TestFlightBuildPanicFailsTheTile(t *testing.T) {
	var f flight
	_, err := f.do(context.Background(), "k", func(context.Context) (cached, error) { panic("bad geometry") })
	if zone.ErrorCode(err) != zone.CodeInternal {
		t.Fatalf("a panicking build: %v, want an internal error", err)
	}
	res, err := f.do(context.Background(), "k", func(context.Context) (cached, error) { return cached{gz: []byte("tile")}, nil })
	if err != nil || string(res.gz) != "tile" {
		t.Fatalf("the build after the panic: %+v %v", res, err)
	}
}
