package httpapi

import (
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/internal/cql"
	"github.com/zoneplan/zoneplan/internal/index"
	"github.com/zoneplan/zoneplan/internal/ogcquery"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// OGC API - Features (Parts 1, 3 and 4) under /ogc. Items are served from
// the in-memory index, so both stores answer alike and no database round
// trip sits on the read path; writes go to the store and the index catches
// up before the response (read-your-writes).

// Media types the OGC endpoints speak.
const (
	mediaGeoJSON   = "application/geo+json"
	mediaJSON      = "application/json"
	mediaHTML      = "text/html"
	mediaOpenAPI   = "application/vnd.oai.openapi+json;version=3.0"
	mediaSchema    = "application/schema+json"
	mediaMergeJSON = "application/merge-patch+json"
)

// ogcConformance lists the conformance classes the /ogc endpoints implement.
func ogcConformance() []string {
	return []string{
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
		"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
		"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
		"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
		"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
		"http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
		"http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
		"http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
		"http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
		"http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
		"http://www.opengis.net/spec/cql2/1.0/conf/accent-insensitive-comparison",
		"http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
		"http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions-plus",
		"http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
		"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
		"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
		"http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
		"http://www.opengis.net/spec/ogcapi-features-5/1.0/conf/sortables",
		ogcPart2Conformance,
	}
}

// ogcCRSList is the one place that lists the CRSs features can be served
// in (Part 2, ogc_crs.go); the first, CRS84, is the default and storage CRS.
func ogcCRSList() []string { return ogcCRSURIs() }

// Link is an OGC API link.
type ogcFeatureLink struct {
	Rel   string `json:"rel"`
	Type  string `json:"type,omitempty"`
	Title string `json:"title,omitempty"`
	Href  string `json:"href"`
}

// ogcBase is the server's own URL as the client reached it, for links.
func ogcBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host + "/ogc"
}

// withFormat is href with f set, keeping its other query parameters.
func withFormat(href, f string) string {
	u, err := url.Parse(href)
	if err != nil {
		return href
	}
	q := u.Query()
	q.Set("f", f)
	u.RawQuery = q.Encode()
	return u.String()
}

// ogcFormat picks the response format of an OGC resource: "json" (GeoJSON
// or JSON) or "html", from f= first, then Accept. Anything else in f= is
// an error naming the choices.
func ogcFormat(r *http.Request) (string, error) {
	switch f := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("f"))); f {
	case "json", "geojson", "application/json", "application/geo+json":
		return "json", nil
	case "html", "text/html":
		return "html", nil
	case "":
	default:
		return "", &zone.Error{Code: zone.CodeInvalid, Message: "f: unsupported format " + strconv.Quote(f) + " (json, geojson or html)",
			Details: []zone.Detail{{Index: -1, Pointer: "f", Reason: "unsupported format"}}}
	}
	return preferred(r.Header.Get("Accept")), nil
}

// preferred reads an Accept header: "html" when text/html has a higher
// quality than every JSON type (ties go to the type listed first), else
// "json". A missing header or */* means JSON, what API clients expect.
func preferred(accept string) string {
	bestQ, best := -1.0, "json"
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		var kind string
		switch {
		case mt == mediaHTML || mt == "application/xhtml+xml":
			kind = "html"
		case strings.Contains(mt, "json"):
			kind = "json"
		default:
			continue
		}
		if q > bestQ {
			bestQ, best = q, kind
		}
	}
	return best
}

// writeJSON writes v as JSON with the given content type.
func writeJSON(w http.ResponseWriter, status int, contentType string, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// handleOGCLanding serves /ogc: the landing page.
func (s *server) handleOGCLanding() func(http.ResponseWriter, *http.Request, zone.Principal) {
	pages := ogcPages()
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		f, err := ogcFormat(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		base := ogcBase(r)
		doc := map[string]any{
			"title":       "zoneplan",
			"description": "Defence components, protection zones and project sites (OGC API - Features, Parts 1, 3 and 4; OGC API - Tiles).",
			"links": []ogcFeatureLink{
				{Rel: "self", Type: mediaJSON, Title: "This document", Href: base + "?f=json"},
				{Rel: "alternate", Type: mediaHTML, Title: "This document as HTML", Href: base + "?f=html"},
				{Rel: "service-desc", Type: mediaOpenAPI, Title: "The API definition", Href: base + "/api"},
				{Rel: "service-doc", Type: mediaHTML, Title: "The API definition as a page", Href: base + "/api?f=html"},
				{Rel: "conformance", Type: mediaJSON, Title: "Conformance classes", Href: base + "/conformance"},
				{Rel: "data", Type: mediaJSON, Title: "Collections", Href: base + "/collections"},
				{Rel: "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes", Type: mediaJSON, Title: "Tile matrix sets", Href: base + "/tileMatrixSets"},
			},
		}
		if f == "html" {
			s.renderHTML(w, r, pages, "landing", doc)
			return
		}
		writeJSON(w, http.StatusOK, mediaJSON, doc)
	}
}

// handleOGCConformance serves /ogc/conformance.
func (s *server) handleOGCConformance() func(http.ResponseWriter, *http.Request, zone.Principal) {
	pages := ogcPages()
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		f, err := ogcFormat(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		doc := map[string]any{"conformsTo": ogcConformance()}
		if f == "html" {
			s.renderHTML(w, r, pages, "conformance", doc)
			return
		}
		writeJSON(w, http.StatusOK, mediaJSON, doc)
	}
}

// extentCache remembers each layer's extent per clearance and layer
// version, so /collections does not walk every layer on every request.
type extentCache struct {
	mu sync.Mutex
	m  map[extentKey]layerExtent
}

type extentKey struct {
	collection string
	scope      zone.Scope
	digest     uint64
}

// layerExtent is the box of the geometries a caller may see (WGS84
// degrees; zones not included) and the interval of their last-update times.
type layerExtent struct {
	n              int
	box            orb.Bound
	oldest, newest time.Time
}

func (ec *extentCache) get(snap *index.Snapshot, col ogcCollection, sc zone.Scope) layerExtent {
	key := extentKey{col.ID, sc, snap.LayerDigest(col.Layer.ID, sc)}
	ec.mu.Lock()
	e, ok := ec.m[key]
	ec.mu.Unlock()
	if ok {
		return e
	}
	snap.SearchLayer(col.Layer.ID, worldBound(), sc, func(c *zone.Component) bool {
		if !col.holds(c) {
			return true
		}
		b := c.Geometry.Bound()
		if e.n == 0 {
			e.box, e.oldest, e.newest = b, c.UpdatedAt, c.UpdatedAt
		} else {
			e.box = e.box.Union(b)
			if c.UpdatedAt.Before(e.oldest) {
				e.oldest = c.UpdatedAt
			}
			if c.UpdatedAt.After(e.newest) {
				e.newest = c.UpdatedAt
			}
		}
		e.n++
		return true
	})
	ec.mu.Lock()
	for k := range ec.m {
		if k.collection == col.ID && k.scope == sc {
			delete(ec.m, k) // an older version of the same view
		}
	}
	ec.m[key] = e
	ec.mu.Unlock()
	return e
}

// worldBound is every WGS84 longitude and latitude.
func worldBound() orb.Bound { return orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}} }

// collectionDoc describes one collection for a caller.
func collectionDoc(base string, col ogcCollection, e layerExtent) map[string]any {
	href := base + "/collections/" + col.ID
	doc := map[string]any{
		"id":          col.ID,
		"title":       col.TitleEN,
		"description": col.TitleVI + " — " + col.TitleEN,
		"itemType":    "feature",
		"crs":         ogcCRSList(),
		"storageCrs":  ogcCRSList()[0],
		"links": []ogcFeatureLink{
			{Rel: "self", Type: mediaJSON, Title: "This collection", Href: href + "?f=json"},
			{Rel: "alternate", Type: mediaHTML, Title: "This collection as HTML", Href: href + "?f=html"},
			{Rel: "items", Type: mediaGeoJSON, Title: "Features", Href: href + "/items?f=json"},
			{Rel: "items", Type: mediaHTML, Title: "Features as HTML", Href: href + "/items?f=html"},
			{Rel: "http://www.opengis.net/def/rel/ogc/1.0/queryables", Type: mediaSchema, Title: "Queryable properties", Href: href + "/queryables"},
			{Rel: "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector", Type: mediaJSON, Title: "Vector tiles", Href: href + "/tiles"},
		},
		"numberOfFeatures": e.n, // what the caller may see
	}
	if e.n > 0 {
		doc["extent"] = map[string]any{
			"spatial": map[string]any{
				"bbox": [][4]float64{{e.box.Min[0], e.box.Min[1], e.box.Max[0], e.box.Max[1]}},
				"crs":  ogcquery.CRS84,
			},
			"temporal": map[string]any{
				"interval": [][2]string{{e.oldest.UTC().Format(time.RFC3339Nano), e.newest.UTC().Format(time.RFC3339Nano)}},
				"trs":      "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian",
			},
		}
	}
	return doc
}

// handleOGCCollections serves /ogc/collections and /ogc/collections/{layer}.
func (s *server) handleOGCCollections(one bool) func(http.ResponseWriter, *http.Request, zone.Principal) {
	extents := &extentCache{m: map[extentKey]layerExtent{}}
	pages := ogcPages()
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		f, err := ogcFormat(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		base := ogcBase(r)
		snap := s.Index.Snapshot()
		if one {
			col, err := ogcCollectionOf(r)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			doc := collectionDoc(base, col, extents.get(snap, col, p.Scope()))
			if f == "html" {
				s.renderHTML(w, r, pages, "collection", doc)
				return
			}
			writeJSON(w, http.StatusOK, mediaJSON, doc)
			return
		}
		all := ogcCollections()
		cols := make([]map[string]any, 0, len(all))
		for _, col := range all {
			cols = append(cols, collectionDoc(base, col, extents.get(snap, col, p.Scope())))
		}
		doc := map[string]any{
			"collections": cols,
			"links": []ogcFeatureLink{
				{Rel: "self", Type: mediaJSON, Title: "Collections", Href: base + "/collections?f=json"},
				{Rel: "alternate", Type: mediaHTML, Title: "Collections as HTML", Href: base + "/collections?f=html"},
			},
		}
		if f == "html" {
			s.renderHTML(w, r, pages, "collections", doc)
			return
		}
		writeJSON(w, http.StatusOK, mediaJSON, doc)
	}
}

// ogcLayer is the layer a /ogc/collections/{layer} path names; an unknown
// one (a layer part included: those are read through ogcCollectionOf) is
// not found.
func ogcLayer(r *http.Request) (*zone.Layer, error) {
	id := chi.URLParam(r, "layer")
	l, ok := zone.LookupLayer(id)
	if !ok {
		return nil, noCollection(id)
	}
	return l, nil
}

func noCollection(id string) error {
	ids := make([]string, 0, len(zone.Layers())+len(zone.LayerParts()))
	for _, c := range ogcCollections() {
		ids = append(ids, c.ID)
	}
	sort.Strings(ids)
	return zone.Errorf(zone.CodeNotFound, "no collection %q (collections: %s)", id, strings.Join(ids, ", "))
}

// ogcCollection is what /ogc/collections/{layer} names: a layer, or a part
// of a mixed layer (its features of one geometry class, for clients that
// need one type per collection).
type ogcCollection struct {
	ID               string
	Layer            *zone.Layer
	Part             *zone.LayerPart // nil: the whole layer
	TitleVI, TitleEN string
}

// holds reports whether c, a component of the collection's layer, is in
// the collection.
func (col ogcCollection) holds(c *zone.Component) bool { return col.Part == nil || col.Part.Holds(c) }

// ogcCollections lists every collection: each layer, followed by its parts.
func ogcCollections() []ogcCollection {
	var out []ogcCollection
	for i := range zone.Layers() {
		l := &zone.Layers()[i]
		out = append(out, ogcCollection{ID: l.ID, Layer: l, TitleVI: l.TitleVI, TitleEN: l.TitleEN})
		for j := range zone.LayerParts() {
			if p := &zone.LayerParts()[j]; p.Layer.ID == l.ID {
				out = append(out, ogcCollection{ID: p.ID, Layer: l, Part: p, TitleVI: p.TitleVI, TitleEN: p.TitleEN})
			}
		}
	}
	return out
}

// ogcCollectionOf is the collection a /ogc/collections/{layer} path names.
func ogcCollectionOf(r *http.Request) (ogcCollection, error) {
	id := chi.URLParam(r, "layer")
	if l, ok := zone.LookupLayer(id); ok {
		return ogcCollection{ID: l.ID, Layer: l, TitleVI: l.TitleVI, TitleEN: l.TitleEN}, nil
	}
	if p, ok := zone.LookupLayerPart(id); ok {
		return ogcCollection{ID: p.ID, Layer: p.Layer, Part: p, TitleVI: p.TitleVI, TitleEN: p.TitleEN}, nil
	}
	return ogcCollection{}, noCollection(id)
}

// layerSchemas holds each layer's queryable properties, built once.
type layerSchemas map[string]cql.Properties

func newLayerSchemas() layerSchemas {
	m := layerSchemas{}
	for i := range zone.Layers() {
		l := &zone.Layers()[i]
		m[l.ID] = ogcquery.ComponentSchema(l)
	}
	return m
}

// handleOGCQueryables serves /ogc/collections/{layer}/queryables, the JSON
// Schema of the properties filters, sortby and property=value may use.
func (s *server) handleOGCQueryables() func(http.ResponseWriter, *http.Request, zone.Principal) {
	schemas := newLayerSchemas()
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		col, err := ogcCollectionOf(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		doc := ogcquery.Queryables(schemas[col.Layer.ID], ogcBase(r)+"/collections/"+col.ID+"/queryables", col.TitleEN)
		if col.Part != nil {
			// one geometry type: said in the schema, as clients read it
			if props, ok := doc["properties"].(map[string]any); ok {
				format := map[zone.GeometryClass]string{zone.GeomPoint: "geometry-point-or-multi", zone.GeomLine: "geometry-linestring-or-multi",
					zone.GeomPolygon: "geometry-polygon-or-multi"}[col.Part.Class]
				if g, ok := props["geometry"].(map[string]any); ok {
					g["format"] = format
				}
			}
		}
		writeJSON(w, http.StatusOK, mediaSchema, doc)
	}
}
