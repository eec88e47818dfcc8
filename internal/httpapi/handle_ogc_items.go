package httpapi

import (
	"cmp"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/klauspost/compress/gzip"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/zoneplan/zoneplan/internal/cql"
	"github.com/zoneplan/zoneplan/internal/geojsonl"
	"github.com/zoneplan/zoneplan/internal/ogcquery"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// visibleComponent looks a component up in the index for a caller: one above
// the caller's clearance, or in another layer, is not found, exactly like one
// that does not exist (the same message, so nothing is revealed).
func (s *server) visibleComponent(col ogcCollection, rawID string, p zone.Principal) (*zone.Component, error) {
	notFound := zone.Errorf(zone.CodeNotFound, "no feature %q in collection %s", rawID, col.ID)
	id, err := uuid.Parse(rawID)
	if err != nil {
		return nil, notFound
	}
	c, ok := s.Index.Snapshot().Get(id)
	if !ok || c.Layer != col.Layer.ID || !col.holds(c) || !p.Scope().Sees(c) {
		return nil, notFound
	}
	return c.ForClearance(p.Clearance), nil
}

// etagOf is a component's entity tag: its version.
func etagOf(c *zone.Component) string { return `"` + strconv.FormatInt(c.Version, 10) + `"` }

// handleItem returns one feature as GeoJSON (or HTML) with its version as
// ETag.
func (s *server) handleItem() func(http.ResponseWriter, *http.Request, zone.Principal) {
	pages := ogcPages()
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		f, err := ogcFormat(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out, err := ogcOutputCRS(strings.TrimSpace(r.URL.Query().Get("crs")))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		col, err := ogcCollectionOf(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		c, err := s.visibleComponent(col, chi.URLParam(r, "id"), p)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		// A classified feature read by id is recorded (pages and tiles are
		// not: see trail.go).
		if c.Classification > zone.Public {
			if err := s.auditable(); err != nil {
				s.fail(w, r, err)
				return
			}
			s.record(entry(p, zone.AuditFeatureRead, c.ID.String(), c.Layer, c.Classification, map[string]string{"format": f}))
		}
		if f == "html" {
			s.renderHTML(w, r, pages, "item", itemPage(ogcBase(r), c))
			return
		}
		etag := etagOf(c)
		w.Header().Set("ETag", etag)
		if ifNoneMatch(r.Header.Get("If-None-Match"), etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		feature := out.feature(c)
		// A feature read alone links to itself, its HTML page and its
		// collection (OGC API - Features /req/core/f-links).
		self := ogcBase(r) + "/collections/" + col.ID + "/items/" + c.ID.String()
		feature.ExtraMembers = geojson.Properties{"links": []ogcFeatureLink{
			{Rel: "self", Type: mediaGeoJSON, Title: "This feature", Href: self + "?" + withF(r.URL.Query(), "json").Encode()},
			{Rel: "alternate", Type: mediaHTML, Title: "This feature as HTML", Href: self + "?" + withF(r.URL.Query(), "html").Encode()},
			{Rel: "collection", Type: mediaJSON, Title: col.TitleEN, Href: ogcBase(r) + "/collections/" + col.ID},
		}}
		b, err := json.Marshal(feature)
		if err != nil {
			s.fail(w, r, zone.InternalError(err, "encode feature"))
			return
		}
		w.Header().Set("Content-Type", mediaGeoJSON)
		w.Header().Set("Content-Crs", out.contentCRS())
		_, _ = w.Write(b)
	}
}

// ifNoneMatch reports whether an If-None-Match header names etag (weak
// comparison, RFC 9110) or is "*".
func ifNoneMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// match is one component an items request selected, with its id as two
// integers for a fast, stable default order (UUID byte order, as
// PostgreSQL sorts uuid).
type match struct {
	hi, lo uint64
	c      *zone.Component
	get    cql.Getter // only when sorting by properties
}

func idKeyOf(id uuid.UUID) (hi, lo uint64) {
	for i := 0; i < 8; i++ {
		hi = hi<<8 | uint64(id[i])
		lo = lo<<8 | uint64(id[8+i])
	}
	return hi, lo
}

func cmpID(a, b match) int {
	if c := cmp.Compare(a.hi, b.hi); c != 0 {
		return c
	}
	return cmp.Compare(a.lo, b.lo)
}

// selectItems runs an items query over the index for a caller: the
// components of the collection the clearance allows, whose geometry
// intersects the bbox (exactly, touching counts), that satisfy the filter;
// ordered by sortby then id. It returns the page (offset, limit) and the
// number of matches; held is buf, grown, to give back to the pool. A page
// of a whole layer with no filter, box or sortby is read in id order and
// counted by the index, not walked and sorted. It gives up when ctx ends
// (the client went away), checking every few thousand components.
func (s *server) selectItems(ctx context.Context, col ogcCollection, q *ogcquery.Query, schema cql.Schema, sc zone.Scope, cache *featureCache, buf []match) (held, page []match, matched int, err error) {
	pred, err := q.Predicate(schema)
	if err != nil {
		return buf, nil, 0, err
	}
	var order func(a, b cql.Getter) int
	if len(q.SortBy) > 0 {
		if order, err = cql.Comparator(schema, q.SortBy); err != nil {
			return buf, nil, 0, err
		}
	}
	filtered := q.Where() != nil
	snap := s.Index.Snapshot()
	if q.BBox == nil && !filtered && order == nil && col.Part == nil {
		// A page of the whole layer in id order: counted, not walked.
		matches := buf[:0]
		skip := q.Offset
		snap.LayerByID(col.Layer.ID, sc, func(c *zone.Component) bool {
			if skip > 0 {
				skip--
				return true
			}
			m := match{c: c}
			m.hi, m.lo = idKeyOf(c.ID)
			matches = append(matches, m)
			return len(matches) < q.Limit && ctx.Err() == nil
		})
		if err := ctx.Err(); err != nil {
			return matches, nil, 0, clientGone(err)
		}
		return matches, matches, snap.Count(col.Layer.ID, sc), nil
	}
	// The boxes searched: the bbox, or its two parts across the
	// antimeridian, or the world.
	boxes := []orb.Bound{worldBound()}
	if q.BBox != nil {
		boxes = []orb.Bound{*q.BBox}
		if q.BBoxWrap != nil {
			boxes = append(boxes, *q.BBoxWrap)
		}
	}
	matches := buf[:0]
	walked := 0
	for i, bound := range boxes {
		snap.SearchLayerInside(col.Layer.ID, bound, sc, func(c *zone.Component, inside bool) bool {
			if walked++; walked%4096 == 0 && ctx.Err() != nil {
				return false
			}
			if !col.holds(c) {
				return true
			}
			// The index matches on c.Bound(), which includes approved
			// zone polygons; a feature is selected by its own geometry,
			// looked at only when that box is not wholly inside (most of
			// a page's are).
			if q.BBox != nil && !inside && !cache.intersects(c, bound) {
				return true
			}
			// A feature in both parts of a box across the antimeridian
			// is selected once.
			if i > 0 && cache.intersects(c, boxes[0]) {
				return true
			}
			var get cql.Getter
			if filtered || order != nil {
				// Filters and sorting see what the reader sees: a project
				// site's verdict at their clearance (ForClearance).
				get = ogcquery.ComponentGetter(c.ForClearance(sc.Clearance))
			}
			if filtered && !pred(get) {
				return true
			}
			m := match{c: c}
			m.hi, m.lo = idKeyOf(c.ID)
			if order != nil {
				m.get = get
			}
			matches = append(matches, m)
			return true
		})
	}
	if err := ctx.Err(); err != nil {
		return matches, nil, 0, clientGone(err)
	}
	if order != nil {
		slices.SortFunc(matches, func(a, b match) int {
			if c := order(a.get, b.get); c != 0 {
				return c
			}
			return cmpID(a, b)
		})
	} else {
		slices.SortFunc(matches, cmpID)
	}
	return matches, matches[min(q.Offset, len(matches)):min(q.Offset+q.Limit, len(matches))], len(matches), nil
}

// handleOGCItems serves /ogc/collections/{layer}/items: GeoJSON streamed
// feature by feature (or an HTML page), with numberMatched, numberReturned
// and next/prev links that keep every query parameter.
func (s *server) handleOGCItems() func(http.ResponseWriter, *http.Request, zone.Principal) {
	schemas := newLayerSchemas()
	opts := ogcquery.Options{DatetimeProperty: zone.FieldUpdatedAt, CRS: ogcCRSList()}
	cache := newFeatureCache(featureCacheBytes)
	// Match lists are reused between requests: a large page walks
	// thousands of components, and a fresh list each time is mostly
	// garbage-collector work.
	matchBuffers := &sync.Pool{New: func() any { return new([]match) }}
	pages := ogcPages()
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		col, err := ogcCollectionOf(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		format, err := ogcFormat(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		values := r.URL.Query()
		q, err := ogcquery.Parse(values, schemas[col.Layer.ID], opts)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if err := ogcBBoxToCRS84(q); err != nil {
			s.fail(w, r, err)
			return
		}
		out, err := ogcOutputCRS(q.CRS)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		bufp := matchBuffers.Get().(*[]match)
		defer func() {
			if cap(*bufp) <= maxPooledMatches {
				clear((*bufp)[:cap(*bufp)]) // drop the component pointers
				matchBuffers.Put(bufp)
			}
		}()
		held, page, matched, err := s.selectItems(r.Context(), col, q, schemas[col.Layer.ID], p.Scope(), cache, *bufp)
		*bufp = held
		if err == nil && r.Context().Err() != nil {
			err = clientGone(r.Context().Err()) // the page could not be streamed
		}
		if err != nil {
			if clientLeft(r) {
				return // nobody to answer
			}
			s.fail(w, r, err) // the answer deadline's is a 503
			return
		}
		self := ogcBase(r) + "/collections/" + col.ID + "/items"
		links := []ogcFeatureLink{
			{Rel: "self", Type: mediaGeoJSON, Title: "This page", Href: self + "?" + withF(values, "json").Encode()},
			{Rel: "alternate", Type: mediaHTML, Title: "This page as HTML", Href: self + "?" + withF(values, "html").Encode()},
			{Rel: "collection", Type: mediaJSON, Title: col.TitleEN, Href: ogcBase(r) + "/collections/" + col.ID},
		}
		linkType := mediaGeoJSON
		if format == "html" {
			linkType = mediaHTML
		}
		if q.Offset+q.Limit < matched {
			links = append(links, ogcFeatureLink{Rel: "next", Type: linkType, Title: "Next page",
				Href: self + "?" + ogcquery.WithOffset(values, q.Offset+q.Limit).Encode()})
		}
		if q.Offset > 0 {
			links = append(links, ogcFeatureLink{Rel: "prev", Type: linkType, Title: "Previous page",
				Href: self + "?" + ogcquery.WithOffset(values, max(q.Offset-q.Limit, 0)).Encode()})
		}
		if format == "html" {
			s.renderHTML(w, r, pages, "items", itemsPage(ogcBase(r), col.Layer, page, matched, q.Offset, links))
			return
		}
		w.Header().Set("Content-Type", mediaGeoJSON)
		w.Header().Set("Content-Crs", out.contentCRS())
		w.Header().Add("Vary", "Accept-Encoding")
		var body io.Writer = w
		if acceptsGzip(r.Header.Get("Accept-Encoding")) {
			w.Header().Set("Content-Encoding", "gzip")
			zw := pageGzips.Get().(*gzip.Writer)
			zw.Reset(w)
			defer func() {
				_ = zw.Close()
				zw.Reset(io.Discard) // let go of the response
				pageGzips.Put(zw)
			}()
			body = zw
		}
		// Writes to a client that went away may still succeed for a while
		// (buffers): the writer stops when the request's context ends.
		fw := geojsonl.NewWriterContext(r.Context(), body)
		for _, m := range page {
			var err error
			// A project site's verdict is the reader's own (ForClearance,
			// which returns the stored component, cached encoding and all,
			// when it has nothing to change).
			c := m.c.ForClearance(p.Clearance)
			switch {
			case q.Properties != nil:
				err = fw.Write(selectProperties(out.feature(c), q.Properties))
			case out.stored() && c == m.c:
				err = fw.WriteRaw(cache.feature(c))
			default:
				err = fw.Write(out.feature(c))
			}
			if err != nil {
				return // the client went away; nothing more to say
			}
		}
		_ = fw.Close(map[string]any{
			"numberMatched":  matched,
			"numberReturned": len(page),
			"timeStamp":      time.Now().UTC().Format(time.RFC3339),
			"links":          links,
		})
	}
}

// pageGzips are the gzip writers of items pages for clients that accept
// gzip (browsers, QGIS, GDAL): klauspost/compress at its fastest level,
// which brings a page of 1,000 features to about a quarter of its bytes
// (docs/performance.md, make bench-features) for a few milliseconds of CPU;
// a client that does not ask gets the plain page at no cost.
var pageGzips = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return zw
}}

// withF is a copy of values with f set.
func withF(values url.Values, f string) url.Values {
	out := make(url.Values, len(values)+1)
	for k, v := range values {
		out[k] = v
	}
	out.Set("f", f)
	return out
}

// selectProperties keeps only the named properties of a feature (the id
// and geometry stay: they are members of the feature, not properties).
func selectProperties(f *geojson.Feature, keep []string) *geojson.Feature {
	props := make(geojson.Properties, len(keep))
	for _, k := range keep {
		if v, ok := f.Properties[k]; ok {
			props[k] = v
		}
	}
	f.Properties = props
	return f
}

// maxPooledMatches is the largest match list kept for reuse (2.5 MB).
const maxPooledMatches = 1 << 16

// featureCacheBytes bounds the encoded features kept for reuse.
const featureCacheBytes = 256 << 20

// featureCache keeps each component's GeoJSON encoding and geometry bound,
// keyed by id and version: index components never change once published,
// so both stay right until the version moves on. Sharded to keep lock hold
// times short under concurrent readers.
type featureCache struct {
	shards   [64]featureShard
	perShard int
}

type featureShard struct {
	mu    sync.Mutex
	m     map[uuid.UUID]cachedFeature
	bytes int
}

type cachedFeature struct {
	version int64
	json    []byte // nil until first encoded
	bound   orb.Bound
}

func newFeatureCache(maxBytes int) *featureCache {
	fc := &featureCache{perShard: maxBytes / 64}
	for i := range fc.shards {
		fc.shards[i].m = map[uuid.UUID]cachedFeature{}
	}
	return fc
}

// entry returns the cached entry of c, creating it (with the bound) when
// missing or stale. Called with sh.mu held.
func (sh *featureShard) entry(c *zone.Component, perShard int) cachedFeature {
	e, ok := sh.m[c.ID]
	if ok && e.version == c.Version {
		return e
	}
	if ok {
		sh.bytes -= len(e.json)
	}
	if sh.bytes > perShard {
		// Full: start afresh (deleted components' entries go too).
		clear(sh.m)
		sh.bytes = 0
	}
	e = cachedFeature{version: c.Version, bound: c.Geometry.Bound()}
	sh.m[c.ID] = e
	return e
}

// intersects reports whether c's geometry (not its zones) meets b; a
// point needs no cached bound.
func (fc *featureCache) intersects(c *zone.Component, b orb.Bound) bool {
	if p, ok := c.Geometry.(orb.Point); ok {
		return b.Contains(p)
	}
	return zone.IntersectsBound(c.Geometry, fc.bound(c), b)
}

// bound returns the bound of c's geometry (not its zones).
func (fc *featureCache) bound(c *zone.Component) orb.Bound {
	sh := &fc.shards[c.ID[15]&63]
	sh.mu.Lock()
	e := sh.entry(c, fc.perShard)
	sh.mu.Unlock()
	return e.bound
}

// feature returns c's GeoJSON feature encoding.
func (fc *featureCache) feature(c *zone.Component) []byte {
	sh := &fc.shards[c.ID[15]&63]
	sh.mu.Lock()
	e := sh.entry(c, fc.perShard)
	sh.mu.Unlock()
	if e.json != nil {
		return e.json
	}
	b, err := json.Marshal(crs84Feature(c))
	if err != nil {
		// Components in the index were validated on the way in; a
		// feature that will not encode is a bug, shown as JSON null.
		return []byte("null")
	}
	sh.mu.Lock()
	if cur, ok := sh.m[c.ID]; ok && cur.version == c.Version && cur.json == nil {
		cur.json = b
		sh.m[c.ID] = cur
		sh.bytes += len(b)
	}
	sh.mu.Unlock()
	return b
}
