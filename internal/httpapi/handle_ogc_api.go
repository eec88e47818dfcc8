package httpapi

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"html/template"
	"net/http"
	"strings"

	"github.com/zoneplan/zoneplan/internal/cql"
	"github.com/zoneplan/zoneplan/internal/ogcquery"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// ogcAPIDocument is the OpenAPI 3.0 definition of the /ogc endpoints,
// generated from the layer registry: one items path per collection with
// its queryable properties as query parameters (clients such as GDAL read
// them to send property=value filters), beside the generic
// /collections/{collectionId} paths. Paths are relative to the server
// URL base (…/ogc).
func ogcAPIDocument(base string) map[string]any {
	problem := map[string]any{"description": "An error (RFC 9457 problem details).",
		"content": map[string]any{"application/problem+json": map[string]any{"schema": map[string]any{"type": "object"}}}}
	jsonBody := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{mediaJSON: map[string]any{"schema": map[string]any{"type": "object"}}, mediaHTML: map[string]any{}}}
	}
	geoBody := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{mediaGeoJSON: map[string]any{"schema": map[string]any{"type": "object"}}, mediaHTML: map[string]any{}}}
	}
	param := func(name, in, desc string, schema map[string]any, required bool) map[string]any {
		p := map[string]any{"name": name, "in": in, "description": desc, "required": required, "schema": schema}
		if in == "query" { // comma-separated lists; OpenAPI allows form only in queries and cookies
			p["style"], p["explode"] = "form", false
		}
		return p
	}
	str := map[string]any{"type": "string"}
	f := param("f", "query", "response format", map[string]any{"type": "string", "enum": []string{"json", "html"}}, false)
	var collectionIDs []string
	for _, col := range ogcCollections() {
		collectionIDs = append(collectionIDs, col.ID)
	}
	collectionID := param("collectionId", "path", "collection id: a layer, or a part of a mixed layer (one geometry type, read only)", map[string]any{"type": "string", "enum": collectionIDs}, true)
	featureID := param("featureId", "path", "feature id", map[string]any{"type": "string", "format": "uuid"}, true)
	ifMatch := param("If-Match", "header", "the feature's ETag (version); 412 when stale", str, false)
	itemsParams := []any{
		param("bbox", "query", "minLon,minLat,maxLon,maxLat in CRS84; features whose geometry intersects it (touching counts)",
			map[string]any{"type": "array", "minItems": 4, "maxItems": 6, "items": map[string]any{"type": "number"}}, false),
		param("bbox-crs", "query", "CRS of bbox", map[string]any{"type": "string", "enum": ogcCRSList()}, false),
		param("crs", "query", "CRS of the response", map[string]any{"type": "string", "enum": ogcCRSList()}, false),
		param("limit", "query", "page size", map[string]any{"type": "integer", "minimum": 1, "maximum": ogcquery.DefaultMaxLimit, "default": ogcquery.DefaultLimit}, false),
		param("offset", "query", "features to skip", map[string]any{"type": "integer", "minimum": 0, "default": 0}, false),
		param("datetime", "query", "last-update time: an instant or an interval start/end (.. for an open end; either end may be a duration such as P2D)", str, false),
		param("properties", "query", "properties to return, comma-separated", map[string]any{"type": "array", "items": str}, false),
		param("sortby", "query", "+name,-updated_at: sort keys (then id)", map[string]any{"type": "array", "items": str}, false),
		param("filter", "query", "CQL2 text filter", str, false),
		param("filter-lang", "query", "filter language", map[string]any{"type": "string", "enum": []string{"cql2-text", "cql-text"}, "default": "cql2-text"}, false),
		param("filter-crs", "query", "CRS of filter geometries", map[string]any{"type": "string", "enum": []string{ogcquery.CRS84}}, false),
		f,
	}
	featureIn := map[string]any{"required": true, "content": map[string]any{
		mediaGeoJSON: map[string]any{"schema": map[string]any{"type": "object"}},
		mediaJSON:    map[string]any{"schema": map[string]any{"type": "object"}},
	}}
	patchIn := map[string]any{"required": true, "content": map[string]any{
		mediaMergeJSON: map[string]any{"schema": map[string]any{"type": "object"}},
		mediaJSON:      map[string]any{"schema": map[string]any{"type": "object"}},
	}}
	edit := func(summary string, params []any, body map[string]any, okStatus string, ok map[string]any) map[string]any {
		op := map[string]any{"summary": summary, "parameters": params, "responses": map[string]any{
			okStatus: ok, "400": problem, "403": problem, "404": problem, "412": problem, "422": problem}}
		if body != nil {
			op["requestBody"] = body
		}
		return op
	}
	// items: the operations of an items path, whose own path parameters
	// (none for a collection's own path) come before the query's.
	items := func(pathParams, query []any, editable bool) map[string]any {
		ops := map[string]any{
			"get": map[string]any{"summary": "Features of a collection (GeoJSON, streamed; numberMatched, next/prev links)",
				"parameters": append(append([]any{}, pathParams...), query...), "responses": map[string]any{"200": geoBody("A page of features."), "400": problem, "404": problem}},
		}
		if editable {
			ops["post"] = edit("Create a feature (editors; not in a layer part, 405)", pathParams, featureIn, "201",
				map[string]any{"description": "Created, with Location and ETag."})
		}
		return ops
	}
	paths := map[string]any{
		"/":            map[string]any{"get": map[string]any{"summary": "Landing page", "parameters": []any{f}, "responses": map[string]any{"200": jsonBody("The landing page.")}}},
		"/conformance": map[string]any{"get": map[string]any{"summary": "Conformance classes", "parameters": []any{f}, "responses": map[string]any{"200": jsonBody("The conformance classes.")}}},
		"/api":         map[string]any{"get": map[string]any{"summary": "This API definition", "responses": map[string]any{"200": map[string]any{"description": "OpenAPI 3.0", "content": map[string]any{mediaOpenAPI: map[string]any{}}}}}},
		"/collections": map[string]any{"get": map[string]any{"summary": "Collections", "parameters": []any{f}, "responses": map[string]any{"200": jsonBody("The collections.")}}},
		"/collections/{collectionId}": map[string]any{"get": map[string]any{"summary": "A collection", "parameters": []any{collectionID, f},
			"responses": map[string]any{"200": jsonBody("The collection."), "404": problem}}},
		"/collections/{collectionId}/queryables": map[string]any{"get": map[string]any{"summary": "Queryable properties (JSON Schema)", "parameters": []any{collectionID},
			"responses": map[string]any{"200": map[string]any{"description": "The queryables.", "content": map[string]any{mediaSchema: map[string]any{}}}, "404": problem}}},
		"/collections/{collectionId}/items": items([]any{collectionID}, itemsParams, true),
		"/collections/{collectionId}/items/{featureId}": map[string]any{
			"get":    map[string]any{"summary": "One feature; ETag is its version", "parameters": []any{collectionID, featureID, f}, "responses": map[string]any{"200": geoBody("The feature."), "404": problem}},
			"put":    edit("Replace a feature (editors)", []any{collectionID, featureID, ifMatch}, featureIn, "200", geoBody("The new feature, with its ETag.")),
			"patch":  edit("Update a feature with a JSON merge patch (editors)", []any{collectionID, featureID, ifMatch}, patchIn, "200", geoBody("The new feature, with its ETag.")),
			"delete": map[string]any{"summary": "Delete a feature (editors)", "parameters": []any{collectionID, featureID, ifMatch}, "responses": map[string]any{"204": map[string]any{"description": "Deleted."}, "404": problem, "412": problem}},
		},
	}
	for _, col := range ogcCollections() {
		params := append([]any{}, itemsParams...)
		for _, p := range ogcquery.ComponentSchema(col.Layer) {
			if p.Type == cql.TypeGeometry || p.Type == cql.TypeArray { // no property=value for these
				continue
			}
			params = append(params, param(p.Name, "query", "features whose "+p.Name+" equals this value", queryableSchema(p), false))
		}
		paths["/collections/"+col.ID+"/items"] = items([]any{}, params, col.Part == nil)
	}
	return map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{"title": "zoneplan OGC API - Features", "version": "1.0",
			"description": "Defence components, protection zones and project sites. Features above the caller's clearance do not exist for them, counts included."},
		"servers":  []any{map[string]any{"url": base}},
		"security": []any{map[string]any{"bearer": []any{}}, map[string]any{"basic": []any{}}},
		"components": map[string]any{"securitySchemes": map[string]any{
			"bearer": map[string]any{"type": "http", "scheme": "bearer"},
			"basic":  map[string]any{"type": "http", "scheme": "basic", "description": "the token as the password, any user name"},
		}},
		"paths": paths,
	}
}

func queryableSchema(p cql.Property) map[string]any {
	s := map[string]any{}
	switch p.Type {
	case cql.TypeNumber:
		s["type"] = "number"
	case cql.TypeBool:
		s["type"] = "boolean"
	case cql.TypeTime:
		s["type"], s["format"] = "string", "date-time"
	default:
		s["type"] = "string"
	}
	if len(p.Enum) > 0 {
		s["enum"] = p.Enum
	}
	return s
}

// handleOGCAPI serves /ogc/api, the OpenAPI 3.0 definition of /ogc: as
// JSON, or as a page to read (f=html, or a browser's Accept) drawn by the
// vendored Swagger UI with the definition written into the page, so it
// needs no other request and works with no internet.
func (s *server) handleOGCAPI() func(http.ResponseWriter, *http.Request, zone.Principal) {
	return func(w http.ResponseWriter, r *http.Request, p zone.Principal) {
		f, err := ogcFormat(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		doc := ogcAPIDocument(ogcBase(r))
		if f != "html" {
			writeJSON(w, http.StatusOK, mediaOpenAPI, doc)
			return
		}
		spec, err := json.Marshal(doc) // HTML-escaped: safe inside <script>
		if err != nil {
			s.fail(w, r, zone.InternalError(err, "encode the API definition"))
			return
		}
		var nonce [16]byte
		_, _ = rand.Read(nonce[:])
		n := base64.StdEncoding.EncodeToString(nonce[:])
		var buf bytes.Buffer
		if err := apiPage.Execute(&buf, map[string]any{"Root": strings.TrimSuffix(ogcBase(r), "/ogc"), "Spec": template.JS(spec), "Nonce": n}); err != nil {
			s.fail(w, r, zone.InternalError(err, "render the API definition page"))
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self' 'nonce-"+n+"'; style-src 'self' 'unsafe-inline'; img-src 'self' data:")
		_, _ = w.Write(buf.Bytes())
	}
}

// apiPage is the OGC API definition as a page: Swagger UI from the
// embedded web assets (web/vendor.sh).
var apiPage = template.Must(template.New("api").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>zoneplan OGC API - Features: API definition</title>
<link rel="icon" href="{{.Root}}/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="{{.Root}}/vendor/swagger-ui-dist@5.36.0/swagger-ui.css"></head>
<body><div id="api"></div>
<script src="{{.Root}}/vendor/swagger-ui-dist@5.36.0/swagger-ui-bundle.js"></script>
<script nonce="{{.Nonce}}">window.ui = SwaggerUIBundle({spec: {{.Spec}}, dom_id: "#api", deepLinking: true, validatorUrl: null});</script>
</body></html>
`))
