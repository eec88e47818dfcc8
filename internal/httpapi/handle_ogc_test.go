package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/google/uuid"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/internal/auth"
	"github.com/zoneplan/zoneplan/internal/demo"
	"github.com/zoneplan/zoneplan/internal/embedded"
	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/index"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// seedScale imports a synthetic data set (demo.Scale) into the test
// server's store and waits for the index; it returns the components by id.
func seedScale(t testing.TB, st zone.Store, components, projects int) map[string]*zone.Component {
	t.Helper()
	byLayer := map[string][]*zone.Component{}
	if err := demo.Scale(42, components, projects, func(c *zone.Component) error {
		byLayer[c.Layer] = append(byLayer[c.Layer], c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for layer, cs := range byLayer {
		if _, err := st.ImportComponents(context.Background(), layer, cs, zone.ImportOptions{By: "test"}); err != nil {
			t.Fatalf("import %s: %v", layer, err)
		}
	}
	all := map[string]*zone.Component{}
	err := st.ListComponents(context.Background(), zone.Query{Clearance: zone.Secret}, func(c *zone.Component) error {
		all[c.ID.String()] = c
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return all
}

// do sends a request with a bearer token and returns status, header and body.
func do(t testing.TB, method, url, token string, header map[string]string, body string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// featurePage is an items response.
type featurePage struct {
	Type     string `json:"type"`
	Features []struct {
		ID         string         `json:"id"`
		Geometry   map[string]any `json:"geometry"`
		Properties map[string]any `json:"properties"`
	} `json:"features"`
	NumberMatched  int `json:"numberMatched"`
	NumberReturned int `json:"numberReturned"`
	Links          []struct {
		Rel, Type, Href string
	} `json:"links"`
}

func (p featurePage) link(rel string) string {
	for _, l := range p.Links {
		if l.Rel == rel {
			return l.Href
		}
	}
	return ""
}

func getPage(t testing.TB, u, token string) featurePage {
	t.Helper()
	status, h, body := get(t.(*testing.T), u, token)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, status, body)
	}
	if ct := h.Get("Content-Type"); ct != "application/geo+json" {
		t.Fatalf("GET %s: Content-Type %q", u, ct)
	}
	var p featurePage
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("GET %s: %v in %.300s", u, err, body)
	}
	return p
}

// allPages follows next links from u and returns every feature id in order.
func allPages(t *testing.T, u, token string) (ids []string, matched int) {
	t.Helper()
	for u != "" {
		p := getPage(t, u, token)
		if p.NumberReturned != len(p.Features) {
			t.Fatalf("numberReturned %d but %d features", p.NumberReturned, len(p.Features))
		}
		matched = p.NumberMatched
		for _, f := range p.Features {
			ids = append(ids, f.ID)
		}
		u = p.link("next")
	}
	return ids, matched
}

// expected lists the ids of components the oracle function selects, in
// id order.
func expected(all map[string]*zone.Component, keep func(c *zone.Component) bool) []string {
	var out []string
	for id, c := range all {
		if keep(c) {
			out = append(out, id)
		}
	}
	slices.Sort(out) // canonical UUID strings sort as their bytes do
	return out
}

func TestOGCItemsMatchTheStore(t *testing.T) {
	ts := newTestServer(t, false)
	all := seedScale(t, ts.Store, 3000, 300)
	ts.sync(t)
	layer := zone.LayerDefenceWorks
	for _, clearance := range []zone.Classification{zone.Public, zone.Restricted, zone.Secret} {
		tok := ts.token(t, zone.RoleViewer, clearance)
		visible := func(c *zone.Component) bool { return c.Layer == layer && clearance.Allows(c.Classification) }

		ids, matched := allPages(t, ts.URL+"/ogc/collections/"+layer+"/items?limit=500", tok)
		want := expected(all, visible)
		if matched != len(want) || !slices.Equal(ids, want) {
			t.Fatalf("%s: whole layer by pages: %d ids (numberMatched %d), want %d in id order", clearance, len(ids), matched, len(want))
		}

		// bbox: the store's own bbox query is the oracle (geometry
		// intersects the box, touching counts).
		box := orb.Bound{Min: orb.Point{104.5, 20.5}, Max: orb.Point{106.5, 22.5}}
		var inBox []string
		if err := ts.Store.ListComponents(context.Background(), zone.Query{Layers: []string{layer}, Bound: &box, Clearance: clearance},
			func(c *zone.Component) error { inBox = append(inBox, c.ID.String()); return nil }); err != nil {
			t.Fatal(err)
		}
		slices.Sort(inBox)
		ids, matched = allPages(t, ts.URL+"/ogc/collections/"+layer+"/items?bbox=104.5,20.5,106.5,22.5&limit=97", tok)
		if len(inBox) == 0 || matched != len(inBox) || !slices.Equal(ids, inBox) {
			t.Fatalf("%s: bbox: %d ids (numberMatched %d), store has %d", clearance, len(ids), matched, len(inBox))
		}

		// S_INTERSECTS with the box as a WKT polygon selects the same.
		spatial := url.QueryEscape("S_INTERSECTS(geometry, POLYGON((104.5 20.5, 106.5 20.5, 106.5 22.5, 104.5 22.5, 104.5 20.5))) AND version BETWEEN 1 AND 1")
		ids, _ = allPages(t, ts.URL+"/ogc/collections/"+layer+"/items?limit=10000&filter="+spatial, tok)
		if !slices.Equal(ids, inBox) {
			t.Fatalf("%s: S_INTERSECTS: %d ids, bbox gave %d", clearance, len(ids), len(inBox))
		}

		// Property equality and CQL2 give the same as filtering by hand.
		want = expected(all, func(c *zone.Component) bool { return visible(c) && c.Kind == zone.KindDepot && c.Group == zone.GroupI })
		ids, matched = allPages(t, ts.URL+"/ogc/collections/"+layer+"/items?kind=depot&group=I&limit=10000", tok)
		if matched != len(want) || !slices.Equal(ids, want) || len(want) == 0 && clearance == zone.Secret {
			t.Fatalf("%s: kind=depot&group=I: %d, want %d", clearance, len(ids), len(want))
		}
		filter := url.QueryEscape("kind IN ('depot','command_post') AND NOT (\"group\" = 'III') AND name LIKE '%1%'")
		want = expected(all, func(c *zone.Component) bool {
			return visible(c) && (c.Kind == zone.KindDepot || c.Kind == zone.KindCommandPost) && c.Group != zone.GroupIII && c.Group != "" && strings.Contains(c.Name, "1")
		})
		ids, _ = allPages(t, ts.URL+"/ogc/collections/"+layer+"/items?limit=10000&filter="+filter, tok)
		if !slices.Equal(ids, want) || len(want) == 0 && clearance == zone.Secret {
			t.Fatalf("%s: CQL2 filter: %d, want %d", clearance, len(ids), len(want))
		}
	}
}

func TestOGCItemsSortPropertiesDatetime(t *testing.T) {
	ts := newTestServer(t, false)
	seedScale(t, ts.Store, 500, 50)
	ts.sync(t)
	tok := ts.token(t, zone.RoleViewer, zone.Secret)
	base := ts.URL + "/ogc/collections/defence_works/items"

	p := getPage(t, base+"?sortby=-name&limit=200&properties=name,kind", tok)
	for i, f := range p.Features {
		if len(f.Properties) != 2 || f.Properties["name"] == nil || f.Properties["kind"] == nil {
			t.Fatalf("properties=name,kind gave %v", f.Properties)
		}
		if i > 0 && f.Properties["name"].(string) > p.Features[i-1].Properties["name"].(string) {
			t.Fatalf("sortby=-name out of order at %d", i)
		}
	}
	next := p.link("next")
	if !strings.Contains(next, "sortby=-name") || !strings.Contains(next, "properties=name%2Ckind") || !strings.Contains(next, "offset=200") {
		t.Fatalf("next link lost parameters: %s", next)
	}
	// Every update time is in the past: a datetime interval up to now
	// finds everything, one from tomorrow nothing.
	all := getPage(t, base+"?limit=1", tok).NumberMatched
	if n := getPage(t, base+"?limit=1&datetime=../2999-01-01T00:00:00Z", tok).NumberMatched; n != all || n == 0 {
		t.Fatalf("datetime up to 2999: %d, want %d", n, all)
	}
	if n := getPage(t, base+"?limit=1&datetime=2999-01-01/..", tok).NumberMatched; n != 0 {
		t.Fatalf("datetime from 2999: %d, want 0", n)
	}
	if p := getPage(t, base+"?limit=5&offset="+strconv.Itoa(all-2), tok); p.NumberReturned != 2 || p.link("next") != "" || p.link("prev") == "" {
		t.Fatalf("last page: returned %d, next %q prev %q", p.NumberReturned, p.link("next"), p.link("prev"))
	}
}

const depotFeature = `{"type":"Feature","geometry":{"type":"Point","coordinates":[106.76,21.85]},
"properties":{"kind":"depot","name":"Kho K9 – Lạng Sơn","code":"K9","group":"I","classification":"internal","synthetic":true,"note":"test"}}`

func TestOGCCreateReplacePatchDelete(t *testing.T) {
	ts := newTestServer(t, false)
	editor := ts.token(t, zone.RoleEditor, zone.Secret)
	viewer := ts.token(t, zone.RoleViewer, zone.Secret)
	items := ts.URL + "/ogc/collections/defence_works/items"

	// Only editors write.
	status, h, body := do(t, http.MethodPost, items, viewer, nil, depotFeature)
	mustProblem(t, status, h, body, http.StatusForbidden)

	// Create: 201, Location, ETag "1"; the next GET shows it.
	status, h, body = do(t, http.MethodPost, items, editor, map[string]string{"Content-Type": "application/geo+json"}, depotFeature)
	if status != http.StatusCreated || h.Get("ETag") != `"1"` || !strings.HasPrefix(h.Get("Location"), items+"/") {
		t.Fatalf("create: %d %v %s", status, h, body)
	}
	loc := h.Get("Location")
	status, h, body = get(t, loc, viewer)
	if status != http.StatusOK || h.Get("ETag") != `"1"` || !strings.Contains(string(body), "Kho K9") {
		t.Fatalf("GET after create: %d %s", status, body)
	}

	// Replace with the current version: 200, version 2.
	replaced := strings.Replace(depotFeature, "Kho K9", "Kho K9 (mới)", 1)
	status, h, body = do(t, http.MethodPut, loc, editor, map[string]string{"If-Match": `"1"`}, replaced)
	if status != http.StatusOK || h.Get("ETag") != `"2"` || !strings.Contains(string(body), "Kho K9 (mới)") {
		t.Fatalf("PUT: %d %v %s", status, h, body)
	}
	// A stale If-Match: 412, nothing changed.
	status, h, body = do(t, http.MethodPut, loc, editor, map[string]string{"If-Match": `"1"`}, depotFeature)
	mustProblem(t, status, h, body, http.StatusPreconditionFailed)
	if h.Get("ETag") != `"2"` {
		t.Fatalf("412 should name the current version, got ETag %q", h.Get("ETag"))
	}
	status, h, body = do(t, http.MethodPatch, loc, editor, map[string]string{"If-Match": `W/"1"`, "Content-Type": "application/merge-patch+json"}, `{"properties":{"name":"x"}}`)
	mustProblem(t, status, h, body, http.StatusPreconditionFailed)

	// Merge patch: one property changes, one is removed, the rest stays.
	status, h, body = do(t, http.MethodPatch, loc, editor, map[string]string{"If-Match": `"2"`, "Content-Type": "application/merge-patch+json"},
		`{"properties":{"group":"II","note":null}}`)
	if status != http.StatusOK || h.Get("ETag") != `"3"` {
		t.Fatalf("PATCH: %d %s", status, body)
	}
	_, _, body = get(t, loc, viewer)
	var f struct {
		Properties map[string]any `json:"properties"`
	}
	_ = json.Unmarshal(body, &f)
	if f.Properties["group"] != "II" || f.Properties["note"] != nil || f.Properties["name"] != "Kho K9 (mới) – Lạng Sơn" || f.Properties["code"] != "K9" {
		t.Fatalf("after PATCH: %v", f.Properties)
	}

	// Validation as in the import: every problem named, 422.
	status, h, body = do(t, http.MethodPatch, loc, editor, nil, `{"properties":{"kind":"bunker","group":"IV"}}`)
	mustProblem(t, status, h, body, http.StatusUnprocessableEntity)
	if !strings.Contains(string(body), "properties.kind") || !strings.Contains(string(body), "properties.group") {
		t.Fatalf("validation problems not named: %s", body)
	}
	status, h, body = do(t, http.MethodPost, items, editor, nil, `{"type":"Feature","geometry":{"type":"LineString","coordinates":[[106,21]]},"properties":{"name":"x"}}`)
	mustProblem(t, status, h, body, http.StatusUnprocessableEntity)
	status, h, body = do(t, http.MethodPost, items, editor, nil, `{"type":"FeatureCollection","features":[]}`)
	mustProblem(t, status, h, body, http.StatusUnprocessableEntity)

	// A new feature's id is the server's: one given is refused, whatever it is.
	withID := strings.Replace(depotFeature, `"type":"Feature"`, `"type":"Feature","id":"`+uuid.NewString()+`"`, 1)
	status, h, body = do(t, http.MethodPost, items, editor, nil, withID)
	mustProblem(t, status, h, body, http.StatusUnprocessableEntity)

	// An editor below the layer's ceiling may not write in it at all, so
	// no answer can tell a hidden feature from a missing one: the same 403
	// for a hidden id, a missing id, and a create.
	secret := strings.NewReplacer(`"internal"`, `"secret"`, `"K9"`, `"K10"`).Replace(depotFeature)
	status, h, body = do(t, http.MethodPost, items, ts.token(t, zone.RoleAdmin, zone.Secret), nil, secret)
	if status != http.StatusCreated {
		t.Fatalf("admin create secret: %d %s", status, body)
	}
	hidden := h.Get("Location")
	low := ts.token(t, zone.RoleEditor, zone.Restricted)
	var answers []string
	for _, target := range []string{hidden, items + "/" + uuid.NewString()} {
		for _, m := range []string{http.MethodPut, http.MethodPatch, http.MethodDelete} {
			status, h, body = do(t, m, target, low, nil, `{"type":"Feature","geometry":{"type":"Point","coordinates":[106,21]},"properties":{"name":"x","code":"K10"}}`)
			mustProblem(t, status, h, body, http.StatusForbidden)
			answers = append(answers, m+" "+problemDetail(t, body))
		}
	}
	for i := 0; i < 3; i++ {
		if answers[i] != answers[i+3] {
			t.Fatalf("a hidden and a missing feature answer differently: %q vs %q", answers[i], answers[i+3])
		}
	}
	status, h, body = do(t, http.MethodPost, items, low, nil, strings.Replace(depotFeature, `"K9"`, `"K10"`, 1))
	mustProblem(t, status, h, body, http.StatusForbidden)
	if strings.Contains(string(body), "K10") || strings.Contains(string(body), "Kho") {
		t.Fatalf("the refusal tells of the hidden feature: %s", body)
	}

	// Delete: a stale If-Match is 412, the right one 204, then 404.
	status, h, body = do(t, http.MethodDelete, loc, editor, map[string]string{"If-Match": `"2"`}, "")
	mustProblem(t, status, h, body, http.StatusPreconditionFailed)
	if status, _, body = do(t, http.MethodDelete, loc, editor, map[string]string{"If-Match": `"3"`}, ""); status != http.StatusNoContent {
		t.Fatalf("DELETE: %d %s", status, body)
	}
	status, h, body = get(t, loc, viewer)
	mustProblem(t, status, h, body, http.StatusNotFound)
	if p := getPage(t, items, viewer); p.NumberMatched != 1 {
		t.Fatalf("after delete the layer has %d features, want 1 (the secret one)", p.NumberMatched)
	}
}

func TestOGCBadInput(t *testing.T) {
	ts := newTestServer(t, false)
	seedScale(t, ts.Store, 200, 20)
	ts.sync(t)
	tok := ts.token(t, zone.RoleViewer, zone.Secret)
	items := ts.URL + "/ogc/collections/defence_works/items"
	cases := []struct {
		name, path string
		status     int
		mention    string
	}{
		{"bbox with 3 numbers", items + "?bbox=1,2,3", 400, "bbox"},
		{"bbox not numbers", items + "?bbox=a,b,c,d", 400, "bbox"},
		{"bbox inverted in latitude", items + "?bbox=106,22,107,21", 400, "bbox"},
		{"bbox out of range", items + "?bbox=100,20,200,22", 400, "bbox"},
		{"limit 0", items + "?limit=0", 400, "limit"},
		{"limit past int64", items + "?limit=99999999999999999999", 400, "limit"},
		{"offset negative", items + "?offset=-1", 400, "offset"},
		{"unknown collection", ts.URL + "/ogc/collections/bunkers/items", 404, "bunkers"},
		{"unknown collection doc", ts.URL + "/ogc/collections/bunkers", 404, "bunkers"},
		{"unknown property", items + "?colour=red", 400, "colour"},
		{"unknown properties=", items + "?properties=colour", 400, "colour"},
		{"unknown sortby", items + "?sortby=colour", 400, "colour"},
		{"CQL2 syntax error", items + "?filter=" + url.QueryEscape("kind = 'depot' AND"), 400, "position"},
		{"CQL2 unknown property", items + "?filter=" + url.QueryEscape("colour = 'red'"), 400, "colour"},
		{"bad datetime", items + "?datetime=yesterday", 400, "datetime"},
		{"bad format", items + "?f=xml", 400, "f"},
		{"injection in filter", items + "?filter=" + url.QueryEscape("name = 'x'; DROP TABLE components; --'"), 400, "filter"},
		{"injection in a property value", items + "?kind=" + url.QueryEscape("depot' OR '1'='1"), 200, ""},
		{"injection in sortby", items + "?sortby=" + url.QueryEscape("name;DROP TABLE components"), 400, "sortby"},
		{"injection in bbox", items + "?bbox=" + url.QueryEscape("1,2,3,4);DROP TABLE components;--"), 400, "bbox"},
		{"filter-lang unknown", items + "?filter-lang=sql&filter=" + url.QueryEscape("1=1"), 400, "filter-lang"},
		{"bad feature id", items + "/not-a-uuid", 404, ""},
	}
	for _, c := range cases {
		status, h, body := get(t, c.path, tok)
		if c.status == 200 {
			// A hostile value is just a value: nothing matches it.
			if status != 200 || !strings.Contains(string(body), `"numberMatched":0`) {
				t.Errorf("%s: %d %s", c.name, status, body)
			}
			continue
		}
		if status != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, status, c.status, body)
			continue
		}
		mustProblem(t, status, h, body, c.status)
		if !strings.Contains(string(body), c.mention) {
			t.Errorf("%s: problem does not mention %q: %s", c.name, c.mention, body)
		}
	}
	// The server is unharmed and the data intact.
	if p := getPage(t, items+"?limit=1", tok); p.NumberMatched == 0 {
		t.Fatal("the layer is empty after the bad requests")
	}
}

func TestOGCLandingCollectionsHTML(t *testing.T) {
	ts := newTestServer(t, false)
	all := seedScale(t, ts.Store, 300, 30)
	ts.sync(t)
	for _, clearance := range []zone.Classification{zone.Public, zone.Secret} {
		tok := ts.token(t, zone.RoleViewer, clearance)
		status, h, body := get(t, ts.URL+"/ogc/collections", tok)
		if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Fatalf("collections: %d %s", status, body)
		}
		var doc struct {
			Collections []struct {
				ID               string
				NumberOfFeatures int
				CRS              []string
				Extent           *struct {
					Spatial struct{ BBox [][4]float64 }
				}
				Links []struct{ Rel, Href string }
			}
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Collections) != len(zone.Layers())+len(zone.LayerParts()) {
			t.Fatalf("%d collections, want %d layers and %d parts", len(doc.Collections), len(zone.Layers()), len(zone.LayerParts()))
		}
		for _, c := range doc.Collections {
			in := func(x *zone.Component) bool { return x.Layer == c.ID }
			if p, ok := zone.LookupLayerPart(c.ID); ok {
				in = func(x *zone.Component) bool { return x.Layer == p.Layer.ID && p.Holds(x) }
			}
			want := len(expected(all, func(x *zone.Component) bool { return in(x) && clearance.Allows(x.Classification) }))
			if c.NumberOfFeatures != want || len(c.CRS) == 0 {
				t.Errorf("%s %s: %d features, want %d", clearance, c.ID, c.NumberOfFeatures, want)
			}
			if want > 0 && (c.Extent == nil || c.Extent.Spatial.BBox[0][0] < 100 || c.Extent.Spatial.BBox[0][2] > 115) {
				t.Errorf("%s %s: extent %+v", clearance, c.ID, c.Extent)
			}
			rels := map[string]bool{}
			for _, l := range c.Links {
				rels[l.Rel] = true
			}
			if !rels["items"] || !rels["http://www.opengis.net/def/rel/ogc/1.0/queryables"] || !rels["http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"] {
				t.Errorf("%s: links %v", c.ID, c.Links)
			}
		}
	}
	tok := ts.token(t, zone.RoleViewer, zone.Secret)
	for _, path := range []string{"/ogc", "/ogc/conformance", "/ogc/collections", "/ogc/collections/defence_works", "/ogc/collections/defence_works/items?limit=5"} {
		status, h, body := do(t, http.MethodGet, ts.URL+path, tok, map[string]string{"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}, "")
		if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.Contains(string(body), "<h1>") {
			t.Errorf("%s as HTML: %d %s %.200s", path, status, h.Get("Content-Type"), body)
		}
	}
	status, _, body := get(t, ts.URL+"/ogc/conformance?f=json", tok)
	if status != 200 || !strings.Contains(string(body), "ogcapi-features-3/1.0/conf/filter") || !strings.Contains(string(body), "ogcapi-features-4/1.0/conf/create-replace-delete") {
		t.Fatalf("conformance: %s", body)
	}
	status, h, body := get(t, ts.URL+"/ogc/api", tok)
	if status != 200 || !strings.Contains(h.Get("Content-Type"), "openapi") || !strings.Contains(string(body), `"/collections/defence_works/items"`) {
		t.Fatalf("/ogc/api: %d %s", status, h.Get("Content-Type"))
	}
	status, h, body = get(t, ts.URL+"/ogc/collections/project_sites/queryables", tok)
	if status != 200 || h.Get("Content-Type") != "application/schema+json" || !strings.Contains(string(body), `"height_m"`) {
		t.Fatalf("queryables: %d %s", status, body)
	}
}

// TestOGCClientsCancellingMidStream starts many large item downloads and
// drops each after its first bytes: the server must stay responsive and
// its goroutines return to the baseline (no handler wedged on a dead
// client).
func TestOGCClientsCancellingMidStream(t *testing.T) {
	ts := newTestServer(t, false)
	seedScale(t, ts.Store, 8000, 500)
	ts.sync(t)
	tok := ts.token(t, zone.RoleViewer, zone.Secret)
	items := ts.URL + "/ogc/collections/defence_works/items?limit=10000"
	transport := &http.Transport{MaxIdleConnsPerHost: 100}
	client := &http.Client{Transport: transport}
	getPage(t, items, tok) // warm the feature cache and the server
	transport.CloseIdleConnections()
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	time.Sleep(100 * time.Millisecond)
	baseline := runtime.NumGoroutine()

	var wg sync.WaitGroup
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, items, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := client.Do(req)
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			_, _ = io.ReadFull(resp.Body, buf)
			cancel() // hang up mid-stream
			resp.Body.Close()
		}()
	}
	wg.Wait()
	transport.CloseIdleConnections()

	if p := getPage(t, items, tok); p.NumberReturned == 0 {
		t.Fatal("the server does not answer after the cancelled downloads")
	}
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > baseline+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("%d goroutines, baseline %d: handlers are stuck\n%s", runtime.NumGoroutine(), baseline, buf[:n])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// FuzzOGCItemsQuery sends arbitrary query strings to the items endpoint:
// every answer is a 200 page or a 4xx problem, never a 5xx or a panic.
func FuzzOGCItemsQuery(f *testing.F) {
	for _, seed := range []string{
		"bbox=105,20,107,22&limit=10",
		"kind=depot&group=I",
		"filter=" + url.QueryEscape("name LIKE 'K%' AND S_INTERSECTS(geometry, POLYGON((105 20,107 20,107 22,105 22,105 20)))"),
		"sortby=-updated_at,name&properties=name&offset=3",
		"datetime=2020-01-01/..&f=html",
		"filter-lang=cql-text&filter=" + url.QueryEscape("code IN ('1','2')"),
		"limit=%zz&bbox=1,2",
	} {
		f.Add(seed)
	}
	ctx := context.Background()
	st, err := embedded.Open(filepath.Join(f.TempDir(), "z.db"), embedded.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	seedScale(f, st, 300, 30)
	ix := index.New()
	if err := ix.Load(ctx, st); err != nil {
		f.Fatal(err)
	}
	h := httpapi.NewServer(httpapi.Deps{Store: st, Index: ix, Auth: &auth.Authenticator{Tokens: st}})
	tok, _, err := auth.Issue(ctx, st, "fuzz", zone.RoleViewer, zone.Restricted, 0, time.Now())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, query string) {
		req := httptest.NewRequest(http.MethodGet, "/ogc/collections/defence_works/items", nil)
		req.URL.RawQuery = query
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		switch {
		case w.Code == http.StatusOK:
		case w.Code >= 400 && w.Code < 500:
			if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("%q: %d with Content-Type %q", query, w.Code, ct)
			}
		default:
			t.Fatalf("%q: status %d: %s", query, w.Code, w.Body.String())
		}
	})
}

// problemDetail is a problem document's detail, without its request id.
func problemDetail(t *testing.T, body []byte) string {
	t.Helper()
	var p struct {
		Detail string `json:"detail"`
		Code   string `json:"code"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("not a problem: %s", body)
	}
	return p.Code + ": " + p.Detail
}

// As the OGC test suite reads Part 1: a feature read alone has self,
// alternate and collection links; a limit above the maximum is served as
// the maximum; HEAD answers every GET resource; a method a known path does
// not take is 405 with Allow (OPTIONS 204 with Allow), an unknown path
// still 404.
func TestOGCFeatureLinksLimitAndMethods(t *testing.T) {
	ts := newTestServer(t, false)
	seedScale(t, ts.Store, 300, 0)
	ts.sync(t)
	tok := ts.token(t, zone.RoleViewer, zone.Secret)
	items := ts.URL + "/ogc/collections/defence_works/items"

	status, _, body := get(t, items+"?limit=20000", tok)
	var page struct {
		Features []struct {
			ID string `json:"id"`
		} `json:"features"`
		Links []struct{ Rel, Href string } `json:"links"`
	}
	if err := json.Unmarshal(body, &page); status != http.StatusOK || err != nil || len(page.Features) == 0 {
		t.Fatalf("limit above the maximum: %d %v %.200s", status, err, body)
	}
	for _, l := range page.Links {
		if l.Rel == "self" && !strings.Contains(l.Href, "limit=20000") {
			t.Errorf("self link %s does not keep the limit asked", l.Href)
		}
	}

	status, h, body := get(t, items+"/"+page.Features[0].ID, tok)
	var f struct {
		Links []struct{ Rel, Type, Href string } `json:"links"`
	}
	if err := json.Unmarshal(body, &f); status != http.StatusOK || err != nil {
		t.Fatalf("feature: %d %v", status, err)
	}
	rels := map[string]string{}
	for _, l := range f.Links {
		rels[l.Rel] = l.Href
	}
	if !strings.HasSuffix(strings.Split(rels["self"], "?")[0], "/items/"+page.Features[0].ID) || !strings.Contains(rels["alternate"], "f=html") ||
		!strings.HasSuffix(rels["collection"], "/ogc/collections/defence_works") {
		t.Fatalf("feature links %v", f.Links)
	}
	if h.Get("ETag") == "" {
		t.Fatal("feature without ETag")
	}

	// The temporal extent holds its own data: its first instant, asked
	// as a datetime, finds a feature (a whole-second extent did not).
	_, _, body = get(t, ts.URL+"/ogc/collections/defence_works", tok)
	var coll struct {
		Extent struct {
			Temporal struct {
				Interval [][2]string `json:"interval"`
			} `json:"temporal"`
		} `json:"extent"`
	}
	if err := json.Unmarshal(body, &coll); err != nil || len(coll.Extent.Temporal.Interval) != 1 {
		t.Fatalf("collection extent: %v %.300s", err, body)
	}
	for _, instant := range coll.Extent.Temporal.Interval[0] {
		_, _, body = get(t, items+"?datetime="+url.QueryEscape(instant), tok)
		var n struct {
			Matched int `json:"numberMatched"`
		}
		if err := json.Unmarshal(body, &n); err != nil || n.Matched == 0 {
			t.Errorf("datetime=%s (an end of the temporal extent) matches %d features: %v", instant, n.Matched, err)
		}
	}

	do := func(method, url string) *http.Response {
		req, _ := http.NewRequest(method, url, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, path := range []string{"/ogc", "/ogc/conformance", "/ogc/api", "/ogc/collections", "/ogc/collections/defence_works",
		"/ogc/collections/defence_works/queryables", "/ogc/collections/defence_works/items", "/ogc/collections/defence_works/items/" + page.Features[0].ID} {
		if resp := do(http.MethodHead, ts.URL+path); resp.StatusCode != http.StatusOK || resp.ContentLength > 0 && resp.Header.Get("Content-Type") == "" {
			t.Errorf("HEAD %s: %d", path, resp.StatusCode)
		}
	}
	cases := []struct {
		method, path string
		status       int
		allow        string
	}{
		{http.MethodDelete, "/ogc/collections", http.StatusMethodNotAllowed, "GET, HEAD"},
		{http.MethodPut, "/ogc/collections/defence_works/items", http.StatusMethodNotAllowed, "GET, HEAD, POST"},
		{http.MethodPost, "/ogc/collections/defence_works/items/" + page.Features[0].ID, http.StatusMethodNotAllowed, "GET, HEAD, PUT, PATCH, DELETE"},
		{http.MethodOptions, "/ogc/collections/defence_works/items", http.StatusNoContent, "GET, HEAD, POST, OPTIONS"},
		{http.MethodDelete, "/ogc/nothing/here", http.StatusNotFound, ""},
		{http.MethodOptions, "/ogc/nothing/here", http.StatusNotFound, ""},
	}
	for _, c := range cases {
		resp := do(c.method, ts.URL+c.path)
		if resp.StatusCode != c.status || resp.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s: %d, Allow %q; want %d, Allow %q", c.method, c.path, resp.StatusCode, resp.Header.Get("Allow"), c.status, c.allow)
		}
	}
}

// A bbox across the antimeridian (west edge above the east edge, CRS84)
// selects what lies on either side of it, once.
func TestOGCBBoxAcrossTheAntimeridian(t *testing.T) {
	ts := newTestServer(t, false)
	var cs []*zone.Component
	for i, lon := range []float64{179.5, -179.5, 0, 178} {
		cs = append(cs, &zone.Component{Layer: zone.LayerCommuneHQs, Kind: "commune_hq", Name: fmt.Sprintf("Đồn %d", i),
			Classification: zone.Public, Geometry: orb.Point{lon, 0.5}})
	}
	// and a line across it, drawn in two parts either side
	cs = append(cs, &zone.Component{Layer: zone.LayerPatrolRoutes, Kind: "patrol_route", Name: "Tuyến",
		Classification: zone.Public, Geometry: orb.MultiLineString{{{179.8, 0.2}, {180, 0.2}}, {{-180, 0.2}, {-179.8, 0.2}}}})
	for _, c := range cs {
		if _, err := ts.Store.ImportComponents(context.Background(), c.Layer, []*zone.Component{c}, zone.ImportOptions{By: "test"}); err != nil {
			t.Fatalf("import: %v", err)
		}
	}
	ts.sync(t)
	tok := ts.token(t, zone.RoleViewer, zone.Public)
	count := func(layer, bbox string) (int, []string) {
		status, _, body := get(t, ts.URL+"/ogc/collections/"+layer+"/items?bbox="+bbox, tok)
		var fc struct {
			Matched  int `json:"numberMatched"`
			Features []struct {
				Properties map[string]any `json:"properties"`
			} `json:"features"`
		}
		if err := json.Unmarshal(body, &fc); status != http.StatusOK || err != nil {
			t.Fatalf("bbox=%s: %d %v %.200s", bbox, status, err, body)
		}
		var names []string
		for _, f := range fc.Features {
			names = append(names, fmt.Sprint(f.Properties["name"]))
		}
		return fc.Matched, names
	}
	if n, names := count(zone.LayerCommuneHQs, "179,0,-179,1"); n != 2 || len(names) != 2 || !slices.Contains(names, "Đồn 0") || !slices.Contains(names, "Đồn 1") {
		t.Fatalf("across the antimeridian: %d matched, %v; want Đồn 0 and Đồn 1", n, names)
	}
	if n, _ := count(zone.LayerPatrolRoutes, "179,0,-179,1"); n != 1 {
		t.Fatalf("a line in both parts is matched %d times, want once", n)
	}
	if n, _ := count(zone.LayerCommuneHQs, "-179,0,179,1"); n != 2 {
		t.Fatalf("the same edges the usual way round: %d matched, want 2 (Đồn 2, Đồn 3)", n)
	}
}

// A page of a whole layer (no box, filter or sortby), which the index reads
// in id order and counts, is the page the general search gives for the
// whole world's box: same features, same order, same numberMatched, at
// every clearance and offset.
func TestOGCWholeLayerPagesAgree(t *testing.T) {
	ts := newTestServer(t, false)
	seedScale(t, ts.Store, 1500, 200)
	ts.sync(t)
	type page struct {
		Matched  int `json:"numberMatched"`
		Features []struct {
			ID string `json:"id"`
		} `json:"features"`
	}
	read := func(tok, u string) page {
		status, _, body := get(t, u, tok)
		var p page
		if err := json.Unmarshal(body, &p); status != http.StatusOK || err != nil {
			t.Fatalf("%s: %d %v", u, status, err)
		}
		return p
	}
	for _, cl := range zone.Classifications() {
		tok := ts.token(t, zone.RoleViewer, cl)
		for _, layer := range []string{zone.LayerDefenceWorks, zone.LayerProjectSites, zone.LayerBorderLines} {
			for _, q := range []string{"limit=1", "limit=7&offset=3", "limit=100&offset=250", "limit=10000", "limit=5&offset=100000"} {
				items := ts.URL + "/ogc/collections/" + layer + "/items?"
				fast, slow := read(tok, items+q), read(tok, items+q+"&bbox=-180,-90,180,90")
				if fast.Matched != slow.Matched || len(fast.Features) != len(slow.Features) {
					t.Fatalf("%s %s %s: %d matched, %d returned; the general search %d, %d", cl, layer, q, fast.Matched, len(fast.Features), slow.Matched, len(slow.Features))
				}
				for i := range fast.Features {
					if fast.Features[i].ID != slow.Features[i].ID {
						t.Fatalf("%s %s %s: feature %d is %s, the general search's %s", cl, layer, q, i, fast.Features[i].ID, slow.Features[i].ID)
					}
				}
			}
		}
	}
}
