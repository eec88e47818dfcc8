package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// TestOGCConformance walks the abstract tests of OGC API - Features - Part
// 1 (17-069r4 Annex A, as the OGC suite ets-ogcapi-features10 runs them)
// against a running server, one subtest per abstract test, named by its
// id: the landing page, the API definition, conformance, collections,
// items with limit, bbox and datetime, paging, single features, GeoJSON and
// OpenAPI 3.0.
func TestOGCConformance(t *testing.T) {
	ts := newTestServer(t, false)
	all := seedScale(t, ts.Store, 1200, 0)
	ts.sync(t)
	tok := ts.token(t, zone.RoleViewer, zone.Secret)
	root := ts.URL + "/ogc"
	type link struct{ Href, Rel, Type string }
	getDoc := func(t *testing.T, u string, v any) http.Header {
		t.Helper()
		status, h, body := get(t, u, tok)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d %.300s", u, status, body)
		}
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("GET %s: not JSON: %v", u, err)
		}
		return h
	}
	find := func(links []link, rel string) (link, bool) {
		for _, l := range links {
			if l.Rel == rel {
				return l, true
			}
		}
		return link{}, false
	}
	var landing struct{ Links []link }
	var api *openapi3.T
	layer := zone.LayerDefenceWorks

	t.Run("/conf/core/root-op", func(t *testing.T) {
		getDoc(t, root, &landing)
		if status, _, _ := do(t, http.MethodHead, root, tok, nil, ""); status != http.StatusOK {
			t.Errorf("HEAD %s: %d", root, status)
		}
	})
	t.Run("/conf/core/root-success", func(t *testing.T) {
		for _, rel := range []string{"self", "service-desc", "service-doc", "conformance", "data"} {
			if l, ok := find(landing.Links, rel); !ok || l.Href == "" {
				t.Errorf("the landing page has no %s link: %v", rel, landing.Links)
			}
		}
	})
	t.Run("/conf/core/api-definition-op", func(t *testing.T) {
		l, _ := find(landing.Links, "service-desc")
		status, h, body := get(t, l.Href, tok)
		if status != http.StatusOK || !strings.Contains(h.Get("Content-Type"), "openapi") {
			t.Fatalf("GET %s: %d %s", l.Href, status, h.Get("Content-Type"))
		}
		var err error
		if api, err = openapi3.NewLoader().LoadFromData(body); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("/conf/oas30/oas-definition-2", func(t *testing.T) {
		if api == nil || api.Validate(context.Background()) != nil || !strings.HasPrefix(api.OpenAPI, "3.0") {
			t.Fatalf("the API definition is not valid OpenAPI 3.0")
		}
	})
	t.Run("/conf/core/api-definition-success", func(t *testing.T) {
		for _, p := range []string{"/", "/conformance", "/collections", "/collections/{collectionId}", "/collections/{collectionId}/items", "/collections/{collectionId}/items/{featureId}"} {
			if api == nil || api.Paths.Find(p) == nil {
				t.Errorf("the API definition lacks %s", p)
			}
		}
	})
	t.Run("/conf/core/conformance-op", func(t *testing.T) {
		var c struct{ ConformsTo []string }
		getDoc(t, root+"/conformance", &c)
		for _, want := range []string{"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core", "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
			"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30"} {
			if !slices.Contains(c.ConformsTo, want) {
				t.Errorf("conformsTo lacks %s", want)
			}
		}
	})
	t.Run("/conf/core/query-param-unknown", func(t *testing.T) {
		if status, _, _ := get(t, root+"/collections/"+layer+"/items?colour=red", tok); status != http.StatusBadRequest {
			t.Errorf("an unknown parameter: %d, want 400", status)
		}
	})
	t.Run("/conf/core/query-param-invalid", func(t *testing.T) {
		for _, q := range []string{"limit=0", "limit=x", "bbox=1,2,3", "datetime=yesterday"} {
			if status, _, _ := get(t, root+"/collections/"+layer+"/items?"+q, tok); status != http.StatusBadRequest {
				t.Errorf("%s: %d, want 400", q, status)
			}
		}
	})
	type collection struct {
		ID     string
		Links  []link
		Extent struct {
			Spatial  struct{ BBox [][]float64 }
			Temporal struct{ Interval [][2]*string }
		}
	}
	var cols struct {
		Links       []link
		Collections []collection
	}
	t.Run("/conf/core/fc-md-op", func(t *testing.T) { getDoc(t, root+"/collections", &cols) })
	t.Run("/conf/core/fc-md-success", func(t *testing.T) {
		if _, ok := find(cols.Links, "self"); !ok || len(cols.Collections) < len(zone.Layers()) {
			t.Fatalf("collections: %d, links %v", len(cols.Collections), cols.Links)
		}
	})
	t.Run("/conf/core/fc-md-items", func(t *testing.T) {
		for _, c := range cols.Collections {
			if c.ID == "" {
				t.Errorf("a collection without id")
			}
		}
	})
	t.Run("/conf/core/fc-md-items-links", func(t *testing.T) {
		for _, c := range cols.Collections {
			ok := false
			for _, l := range c.Links {
				ok = ok || l.Rel == "items" && l.Type == "application/geo+json" && strings.Contains(l.Href, "/collections/"+c.ID+"/items")
			}
			if !ok {
				t.Errorf("%s has no GeoJSON items link", c.ID)
			}
		}
	})
	t.Run("/conf/core/fc-md-extent", func(t *testing.T) {
		for _, c := range cols.Collections {
			for _, b := range c.Extent.Spatial.BBox {
				if len(b) != 4 || b[0] < -180 || b[2] > 180 || b[1] < -90 || b[3] > 90 || b[1] > b[3] {
					t.Errorf("%s: spatial extent %v", c.ID, b)
				}
			}
			for _, iv := range c.Extent.Temporal.Interval {
				for _, end := range iv {
					if end != nil {
						if _, err := time.Parse(time.RFC3339Nano, *end); err != nil {
							t.Errorf("%s: temporal extent %q: %v", c.ID, *end, err)
						}
					}
				}
			}
		}
	})
	t.Run("/conf/core/sfc-md-op", func(t *testing.T) {
		for _, c := range cols.Collections {
			var one collection
			getDoc(t, root+"/collections/"+c.ID, &one)
			if one.ID != c.ID {
				t.Errorf("/collections/%s describes %s", c.ID, one.ID)
			}
		}
	})
	type fc struct {
		Type           string
		Features       []*geojson.Feature
		Links          []link
		TimeStamp      string
		NumberMatched  *int
		NumberReturned *int
	}
	items := func(t *testing.T, q string) fc {
		t.Helper()
		var out fc
		getDoc(t, root+"/collections/"+layer+"/items?"+q, &out)
		return out
	}
	t.Run("/conf/core/fc-op", func(t *testing.T) { items(t, "") })
	t.Run("/conf/core/fc-limit-definition", func(t *testing.T) {
		p := api.Paths.Find("/collections/{collectionId}/items").Get.Parameters.GetByInAndName("query", "limit")
		if p == nil || p.Schema.Value.Min == nil || p.Schema.Value.Max == nil || p.Schema.Value.Default == nil {
			t.Fatalf("limit is not defined with a minimum, a maximum and a default")
		}
	})
	t.Run("/conf/core/fc-limit-response", func(t *testing.T) {
		for _, lim := range []int{1, 7, 100, 1_000_000} {
			got := items(t, "limit="+strconv.Itoa(lim))
			if len(got.Features) > lim || len(got.Features) == 0 {
				t.Errorf("limit=%d: %d features", lim, len(got.Features))
			}
		}
	})
	t.Run("/conf/core/fc-bbox-definition", func(t *testing.T) {
		if api.Paths.Find("/collections/{collectionId}/items").Get.Parameters.GetByInAndName("query", "bbox") == nil {
			t.Fatal("bbox is not defined")
		}
	})
	t.Run("/conf/core/fc-bbox-response", func(t *testing.T) {
		box := orb.Bound{Min: orb.Point{104, 20}, Max: orb.Point{107, 22.5}}
		got := items(t, "limit=10000&bbox=104,20,107,22.5")
		want := expected(all, func(c *zone.Component) bool {
			return c.Layer == layer && zone.IntersectsBound(c.Geometry, c.Geometry.Bound(), box)
		})
		if len(got.Features) != len(want) || len(want) == 0 {
			t.Fatalf("bbox: %d features, the store has %d", len(got.Features), len(want))
		}
	})
	t.Run("/conf/core/fc-time-definition", func(t *testing.T) {
		if api.Paths.Find("/collections/{collectionId}/items").Get.Parameters.GetByInAndName("query", "datetime") == nil {
			t.Fatal("datetime is not defined")
		}
	})
	t.Run("/conf/core/fc-time-response", func(t *testing.T) {
		from := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		for _, q := range []string{from + "/..", "../" + time.Now().Add(time.Hour).UTC().Format(time.RFC3339), from + "/PT2H"} {
			got := items(t, "limit=10000&datetime="+url.QueryEscape(q))
			if n := len(expected(all, func(c *zone.Component) bool { return c.Layer == layer })); len(got.Features) != n {
				t.Errorf("datetime=%s: %d features, %d were written in the last hour", q, len(got.Features), n)
			}
		}
		if got := items(t, "datetime=2001-01-01T00:00:00Z/2001-01-02T00:00:00Z"); len(got.Features) != 0 {
			t.Errorf("a day in 2001: %d features", len(got.Features))
		}
	})
	t.Run("/conf/core/fc-response", func(t *testing.T) {
		got := items(t, "limit=5")
		if got.Type != "FeatureCollection" || got.Features == nil {
			t.Fatalf("type %q, features %v", got.Type, got.Features)
		}
	})
	t.Run("/conf/core/fc-links", func(t *testing.T) {
		got := items(t, "limit=5")
		for _, rel := range []string{"self", "alternate", "next"} {
			if _, ok := find(got.Links, rel); !ok {
				t.Errorf("no %s link: %v", rel, got.Links)
			}
		}
	})
	t.Run("/conf/core/fc-timeStamp", func(t *testing.T) {
		ts, err := time.Parse(time.RFC3339, items(t, "limit=1").TimeStamp)
		if err != nil || time.Since(ts) > time.Minute || time.Until(ts) > time.Minute {
			t.Fatalf("timeStamp %v, %v", ts, err)
		}
	})
	t.Run("/conf/core/fc-numberMatched", func(t *testing.T) {
		// numberMatched is what paging through next links returns
		first := items(t, "limit=100")
		seen := len(first.Features)
		next, ok := find(first.Links, "next")
		for pages := 0; ok && pages < 100; pages++ {
			var page fc
			getDoc(t, next.Href, &page)
			seen += len(page.Features)
			next, ok = find(page.Links, "next")
		}
		if first.NumberMatched == nil || *first.NumberMatched != seen {
			t.Fatalf("numberMatched %v, paging returned %d", first.NumberMatched, seen)
		}
	})
	t.Run("/conf/core/fc-numberReturned", func(t *testing.T) {
		got := items(t, "limit=17")
		if got.NumberReturned == nil || *got.NumberReturned != len(got.Features) {
			t.Fatalf("numberReturned %v, %d features", got.NumberReturned, len(got.Features))
		}
	})
	var one *geojson.Feature
	t.Run("/conf/core/f-op", func(t *testing.T) {
		id := items(t, "limit=1").Features[0].ID
		status, _, body := get(t, root+"/collections/"+layer+"/items/"+id.(string), tok)
		if status != http.StatusOK {
			t.Fatalf("GET feature %v: %d", id, status)
		}
		g, err := geojson.UnmarshalFeature(body)
		if err != nil || g.ID != id {
			t.Fatalf("feature %v: %v", id, err)
		}
		one = g
	})
	t.Run("/conf/core/f-links", func(t *testing.T) {
		raw, _ := json.Marshal(one.ExtraMembers["links"])
		var links []link
		_ = json.Unmarshal(raw, &links)
		for _, rel := range []string{"self", "collection"} {
			if _, ok := find(links, rel); !ok {
				t.Errorf("the feature has no %s link: %s", rel, raw)
			}
		}
	})
	t.Run("/conf/geojson/content", func(t *testing.T) {
		for _, f := range items(t, "limit=50").Features {
			if f.Type != "Feature" || f.Geometry == nil || f.Properties == nil {
				t.Fatalf("not a GeoJSON feature: %+v", f)
			}
		}
	})
	t.Run("/conf/html/content", func(t *testing.T) {
		status, h, body := get(t, root+"/collections/"+layer+"/items?f=html&limit=3", tok)
		if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "<table") {
			t.Fatalf("HTML items: %d %s", status, h.Get("Content-Type"))
		}
	})
}
