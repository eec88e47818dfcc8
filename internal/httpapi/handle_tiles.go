package httpapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/zoneplan/zoneplan/internal/tiles"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// handleTile serves one vector tile, /tiles/{layer}/{z}/{x}/{y}.mvt or, for
// OGC API - Tiles, /ogc/collections/{layer}/tiles/WebMercatorQuad/{z}/{y}/{x}
// (note the order). The ETag names the tile, the caller's clearance and the
// versions of the layers in it, so a client revalidates cheaply: a 304 is
// answered without building the tile.
func (s *server) handleTile(ogc bool) func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		layer := chi.URLParam(r, "layer")
		if ogc && layer == tiles.AllLayers {
			s.fail(w, r, zone.Errorf(zone.CodeNotFound, "no collection %q", layer))
			return
		}
		coord, err := tiles.ParseCoord(chi.URLParam(r, "z"), chi.URLParam(r, "x"), chi.URLParam(r, "y"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		req := tiles.Request{Layer: layer, Coord: coord, Scope: p.Scope()}
		var notModified func(string) bool
		if inm := r.Header.Get("If-None-Match"); inm != "" {
			notModified = func(etag string) bool { return etagMatches(inm, etag) }
		}
		t, err := s.Tiles.Tile(r.Context(), req, acceptsGzip(r.Header.Get("Accept-Encoding")), notModified)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		// The constant headers are shared slices set by their canonical
		// names: this runs for every tile, and nothing changes them later.
		h := w.Header()
		h["Vary"] = tileVary
		// Tiles depend on the caller's clearance and change with edits:
		// private, and revalidated on every use (cheap, by ETag).
		h["Cache-Control"] = tileCacheControl
		h["Etag"] = []string{t.ETag}
		if t.NotModified {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h["Content-Type"] = tileContentType
		if t.Gzipped {
			h["Content-Encoding"] = gzipEncoding
		}
		h.Set("Content-Length", strconv.Itoa(len(t.Data)))
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			_, _ = w.Write(t.Data)
		}
	}
}

var (
	tileVary         = []string{"Authorization, Accept-Encoding"}
	tileCacheControl = []string{"private, no-cache"}
	tileContentType  = []string{tiles.ContentType}
	gzipEncoding     = []string{"gzip"}
)

// handleTileJSON serves /tiles/{layer}.json, TileJSON 3.0.
func (s *server) handleTileJSON() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		doc, err := s.Tiles.TileJSON(chi.URLParam(r, "layer"), baseURL(r))
		if err != nil {
			s.fail(w, r, err)
			return
		}
		encode(w, http.StatusOK, doc)
	}
}

// handleTileMatrixSet serves /ogc/tileMatrixSets/WebMercatorQuad, the one tile
// matrix set the tiles use.
func handleTileMatrixSet() http.HandlerFunc {
	doc := tiles.WebMercatorQuad()
	return func(w http.ResponseWriter, r *http.Request) { encode(w, http.StatusOK, doc) }
}

// handleTileMatrixSets lists the tile matrix sets.
func handleTileMatrixSets() http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		base := baseURL(r)
		encode(w, http.StatusOK, map[string]any{"tileMatrixSets": []map[string]any{{
			"id": "WebMercatorQuad", "title": "Google Maps Compatible for the World",
			"uri":   "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
			"links": []ogcLink{{Rel: "self", Type: "application/json", Href: base + "/ogc/tileMatrixSets/WebMercatorQuad"}},
		}}})
	}
}

type ogcLink struct {
	Rel       string `json:"rel"`
	Type      string `json:"type,omitempty"`
	Title     string `json:"title,omitempty"`
	Href      string `json:"href"`
	Templated bool   `json:"templated,omitempty"`
}

// ogcTileset is the OGC API - Tiles description of a collection's tiles in
// WebMercatorQuad.
func (s *server) ogcTileset(base, layer string) (map[string]any, error) {
	vl, err := s.Tiles.Layers(layer)
	if err != nil {
		return nil, err
	}
	title := layer
	if l, ok := zone.LookupLayer(layer); ok {
		title = l.TitleEN
	} else if p, ok := zone.LookupLayerPart(layer); ok {
		title = p.TitleEN
	}
	prefix := base + "/ogc/collections/" + layer + "/tiles/WebMercatorQuad"
	var limits []map[string]any
	for z := 0; z <= tiles.MaxZoom; z++ {
		minX, maxX, minY, maxY := tiles.TileRange(z)
		limits = append(limits, map[string]any{"tileMatrix": strconv.Itoa(z), "minTileRow": minY, "maxTileRow": maxY, "minTileCol": minX, "maxTileCol": maxX})
	}
	layers := make([]map[string]any, len(vl))
	for i, v := range vl {
		props := map[string]any{}
		for f := range v.Fields {
			props[f] = map[string]any{"type": "string"}
		}
		layers[i] = map[string]any{"id": v.ID, "title": v.Description, "dataType": "vector", "minTileMatrix": "0", "maxTileMatrix": strconv.Itoa(tiles.MaxZoom),
			"propertiesSchema": map[string]any{"type": "object", "properties": props}}
	}
	return map[string]any{
		"title":               title,
		"dataType":            "vector",
		"crs":                 "http://www.opengis.net/def/crs/EPSG/0/3857",
		"tileMatrixSetURI":    "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
		"tileMatrixSetLimits": limits,
		"layers":              layers,
		"links": []ogcLink{
			{Rel: "self", Type: "application/json", Href: prefix},
			{Rel: "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", Type: "application/json", Href: base + "/ogc/tileMatrixSets/WebMercatorQuad"},
			{Rel: "item", Type: tiles.ContentType, Title: "Mapbox vector tiles", Href: prefix + "/{tileMatrix}/{tileRow}/{tileCol}", Templated: true},
		},
	}, nil
}

// handleOGCTileset serves /ogc/collections/{layer}/tiles/WebMercatorQuad.
func (s *server) handleOGCTileset() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		layer := chi.URLParam(r, "layer")
		if layer == tiles.AllLayers {
			s.fail(w, r, zone.Errorf(zone.CodeNotFound, "no collection %q", layer))
			return
		}
		doc, err := s.ogcTileset(baseURL(r), layer)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		encode(w, http.StatusOK, doc)
	}
}

// handleOGCTilesets serves /ogc/collections/{layer}/tiles, the list of a
// collection's tilesets (one: vector tiles in WebMercatorQuad).
func (s *server) handleOGCTilesets() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		col, err := ogcCollectionOf(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		layer, l := col.ID, col
		base := baseURL(r)
		href := base + "/ogc/collections/" + layer + "/tiles/WebMercatorQuad"
		encode(w, http.StatusOK, map[string]any{
			"links": []ogcLink{{Rel: "self", Type: "application/json", Href: base + "/ogc/collections/" + layer + "/tiles"}},
			"tilesets": []map[string]any{{
				"title": l.TitleEN, "dataType": "vector",
				"crs":              "http://www.opengis.net/def/crs/EPSG/0/3857",
				"tileMatrixSetURI": "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
				"links": []ogcLink{
					{Rel: "self", Type: "application/json", Href: href},
					{Rel: "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme", Type: "application/json", Href: base + "/ogc/tileMatrixSets/WebMercatorQuad"},
				},
			}},
		})
	}
}

// baseURL is the server's own URL as the client reached it, for links.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host
}

// etagMatches reports whether an If-None-Match header names etag (weak
// comparison, as RFC 9110 prescribes for If-None-Match), or is "*".
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding header admits gzip.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "*" {
			continue
		}
		if q, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				return false
			}
		}
		return true
	}
	return false
}
