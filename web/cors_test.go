package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// A web page on another origin (a MapLibre or OpenLayers page of the
// province's own portal) uses the API from the browser with its token when
// the server lists its origin (serve --cors-origins): the features, a
// feature's ETag, the tile holding it and a check (a POST whose preflight
// carries no token) all reach the page. The same page from an origin not listed gets
// nothing: the browser refuses it the answers.
func TestCORSFromAnotherOrigin(t *testing.T) {
	chromium := requireChromium(t)
	var api, token string
	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, corsPage, api, token)
	})
	allowed, other := httptest.NewServer(page), httptest.NewServer(page)
	defer allowed.Close()
	defer other.Close()
	srv := startServer(t, "--cors-origins", allowed.URL)
	api, token = srv.url, srv.tokens["appraiser"]

	b := newBrowser(t, chromium)
	result := func(origin string) map[string]string {
		b.do(chromedp.Navigate(origin + "/portal.html"))
		raw := waitValue[string](b, `window.corsResult || ''`)
		out := map[string]string{}
		if err := json.Unmarshal([]byte(raw), &out); err != nil {
			t.Fatalf("page result %q: %v", raw, err)
		}
		return out
	}

	got := result(allowed.URL)
	if got["error"] != "" {
		t.Fatalf("the listed origin's page could not use the API: %v", got)
	}
	if !strings.HasPrefix(got["collections"], "200:") || got["collections"] == "200:0" {
		t.Errorf("collections from the listed origin: %q", got["collections"])
	}
	if got["tile"] != "200" || got["tileBytes"] == "0" {
		t.Errorf("tile from the listed origin: %q, %s bytes", got["tile"], got["tileBytes"])
	}
	if got["etag"] == "" {
		t.Errorf("the page cannot read a feature's ETag (not exposed): %v", got)
	}
	if got["check"] != "200" || got["verdict"] == "" {
		t.Errorf("check from the listed origin (preflighted POST): %q, verdict %q", got["check"], got["verdict"])
	}

	got = result(other.URL)
	if !strings.Contains(got["error"], "Failed to fetch") || got["collections"] != "" {
		t.Fatalf("a page of an origin not listed read the API: %v", got)
	}
}

// corsPage fetches from the API (%[1]s) with the token (%[2]s) and leaves
// what it got in window.corsResult.
const corsPage = `<!doctype html><meta charset="utf-8"><title>portal</title><script>
(async () => {
  const api = %[1]q, auth = {Authorization: 'Bearer ' + %[2]q}, out = {};
  try {
    let r = await fetch(api + '/ogc/collections?f=json', {headers: auth});
    const cols = await r.json();
    out.collections = r.status + ':' + cols.collections.length;
    r = await fetch(api + '/ogc/collections/commune_hqs/items?limit=1', {headers: auth});
    const feature = (await r.json()).features[0];
    r = await fetch(api + '/ogc/collections/commune_hqs/items/' + feature.id, {headers: auth});
    out.etag = r.headers.get('ETag') || '';
    // the z10 tile holding that commune headquarters (a point)
    const [lon, lat] = feature.geometry.coordinates, n = 1 << 10, rad = lat * Math.PI / 180;
    const x = Math.floor((lon + 180) / 360 * n), y = Math.floor((1 - Math.log(Math.tan(rad) + 1 / Math.cos(rad)) / Math.PI) / 2 * n);
    r = await fetch(api + '/tiles/all/10/' + x + '/' + y + '.mvt', {headers: auth});
    out.tile = String(r.status);
    out.tileBytes = String((await r.arrayBuffer()).byteLength);
    r = await fetch(api + '/api/check', {method: 'POST', headers: {...auth, 'Content-Type': 'application/geo+json'},
      body: JSON.stringify({type: 'Polygon', coordinates: [[[105.8, 21.0], [105.801, 21.0], [105.801, 21.001], [105.8, 21.001], [105.8, 21.0]]]})});
    out.check = String(r.status);
    out.verdict = (await r.json()).verdict || '';
  } catch (e) {
    out.error = String(e);
  }
  window.corsResult = JSON.stringify(out);
})();
</script>`
