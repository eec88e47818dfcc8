package httpapi

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"time"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// ogcPages parses the HTML pages of the OGC endpoints: plain,
// server-rendered, no external assets, so a person can browse the API in
// any browser (also offline). Each handler maker parses them once.
func ogcPages() *template.Template {
	return template.Must(template.New("ogc").Parse(ogcPagesSource))
}

const ogcPagesSource = `
{{define "head"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.}} — zoneplan OGC API</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:70em;padding:0 1em;color:#222}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}code{background:#f6f6f6;padding:0 .2em}nav a{margin-right:1em}.muted{color:#777}
</style></head><body>
<nav><a href="/ogc?f=html">Landing page</a><a href="/ogc/collections?f=html">Collections</a><a href="/ogc/conformance?f=html">Conformance</a><a href="/ogc/api?f=html">API definition</a></nav>
{{end}}
{{define "foot"}}</body></html>{{end}}
{{define "links"}}<h2>Links</h2><ul>{{range .}}<li><a href="{{.Href}}">{{if .Title}}{{.Title}}{{else}}{{.Rel}}{{end}}</a> <span class="muted">{{.Rel}} · {{.Type}}</span></li>{{end}}</ul>{{end}}

{{define "landing"}}{{template "head" "Landing page"}}
<h1>{{index . "title"}}</h1><p>{{index . "description"}}</p>
{{template "links" index . "links"}}{{template "foot"}}{{end}}

{{define "conformance"}}{{template "head" "Conformance"}}
<h1>Conformance classes</h1><ul>{{range index . "conformsTo"}}<li><code>{{.}}</code></li>{{end}}</ul>{{template "foot"}}{{end}}

{{define "collections"}}{{template "head" "Collections"}}
<h1>Collections</h1>
<table><tr><th>Collection</th><th>Title</th><th>Features you may see</th><th></th></tr>
{{range index . "collections"}}<tr><td><a href="/ogc/collections/{{index . "id"}}?f=html">{{index . "id"}}</a></td><td>{{index . "description"}}</td><td>{{index . "numberOfFeatures"}}</td>
<td><a href="/ogc/collections/{{index . "id"}}/items?f=html">features</a></td></tr>{{end}}</table>{{template "foot"}}{{end}}

{{define "collection"}}{{template "head" (index . "id")}}
<h1>{{index . "title"}}</h1><p>{{index . "description"}}</p>
<p>Features you may see: {{index . "numberOfFeatures"}}</p>
{{with index . "extent"}}<p>Extent: <code>{{index (index . "spatial") "bbox"}}</code>, last updated <code>{{index (index . "temporal") "interval"}}</code></p>{{end}}
<p>CRS: {{range index . "crs"}}<code>{{.}}</code> {{end}}</p>
{{template "links" index . "links"}}{{template "foot"}}{{end}}

{{define "items"}}{{template "head" .Layer.ID}}
<h1>{{.Layer.TitleEN}}</h1><p>{{.Layer.TitleVI}}</p>
<p>{{.Matched}} features match; showing {{.From}}–{{.To}}.</p>
<table><tr><th>Name</th><th>Kind</th><th>Code</th><th>Classification</th><th>Updated</th><th>Geometry</th></tr>
{{range .Features}}<tr><td><a href="{{.Href}}">{{.Name}}</a></td><td>{{.Kind}}</td><td>{{.Code}}</td><td>{{.Classification}}</td><td>{{.Updated}}</td><td>{{.Geometry}}</td></tr>{{end}}
</table>
{{template "links" .Links}}{{template "foot"}}{{end}}

{{define "item"}}{{template "head" .Name}}
<h1>{{.Name}}</h1>
<table>{{range .Properties}}<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>{{end}}</table>
{{template "links" .Links}}{{template "foot"}}{{end}}
`

// renderHTML writes one of ogcTemplates. It renders into a buffer first so
// a template error becomes a problem response, not half a page.
func (s *server) renderHTML(w http.ResponseWriter, r *http.Request, pages *template.Template, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		s.fail(w, r, zone.InternalError(err, "render %s page", name))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(buf.Bytes())
}

type htmlFeature struct {
	Href, Name, Kind, Code, Classification, Updated, Geometry string
}

type htmlItems struct {
	Layer    *zone.Layer
	Matched  int
	From, To int
	Features []htmlFeature
	Links    []ogcFeatureLink
}

func itemsPage(base string, l *zone.Layer, page []match, matched, offset int, links []ogcFeatureLink) htmlItems {
	out := htmlItems{Layer: l, Matched: matched, From: offset + 1, To: offset + len(page), Links: links}
	if len(page) == 0 {
		out.From = offset
	}
	for _, m := range page {
		c := m.c
		out.Features = append(out.Features, htmlFeature{
			Href: base + "/collections/" + l.ID + "/items/" + c.ID.String() + "?f=html",
			Name: c.Name, Kind: c.Kind, Code: c.Code, Classification: c.Classification.String(),
			Updated: c.UpdatedAt.UTC().Format(time.RFC3339), Geometry: c.Geometry.GeoJSONType(),
		})
	}
	return out
}

type htmlProperty struct{ Name, Value string }

type htmlItem struct {
	Name       string
	Properties []htmlProperty
	Links      []ogcFeatureLink
}

func itemPage(base string, c *zone.Component) htmlItem {
	f := c.Feature()
	out := htmlItem{Name: c.Name}
	names := make([]string, 0, len(f.Properties))
	for k := range f.Properties {
		names = append(names, k)
	}
	sort.Strings(names)
	out.Properties = append(out.Properties, htmlProperty{"id", c.ID.String()},
		htmlProperty{"geometry", fmt.Sprintf("%s, box %v", c.Geometry.GeoJSONType(), c.Geometry.Bound())})
	for _, k := range names {
		out.Properties = append(out.Properties, htmlProperty{k, fmt.Sprint(f.Properties[k])})
	}
	href := base + "/collections/" + c.Layer + "/items/" + c.ID.String()
	out.Links = []ogcFeatureLink{
		{Rel: "alternate", Type: mediaGeoJSON, Title: "This feature as GeoJSON", Href: href + "?f=json"},
		{Rel: "collection", Type: mediaHTML, Title: "The collection", Href: base + "/collections/" + c.Layer + "?f=html"},
	}
	return out
}
