package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/internal/demo"
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
