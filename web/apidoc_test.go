package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The OGC API definition opened in a browser (its Accept prefers HTML) is
// a page drawn by the vendored Swagger UI from the definition written into
// it: the title and the operations show, nothing is fetched from another
// host and the page's Content-Security-Policy blocks nothing it needs (no
// console errors).
func TestOGCAPIDefinitionPage(t *testing.T) {
	chromium := requireChromium(t)
	srv := startServer(t)
	b := newBrowser(t, chromium)
	// A reader of the API pages sends their token with every request.
	withToken := chromedp.Action[chromedp.Void](func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return chromedp.Void{}, err
		}
		_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
			Headers: network.Headers{"Authorization": "Bearer " + srv.tokens["viewer"]}})
		return chromedp.Void{}, err
	})
	b.do(withToken, chromedp.Navigate(srv.url+"/ogc"))
	docLink := waitValue[string](b, `(() => { const a = [...document.querySelectorAll('a')].find(a => /\/ogc\/api\?f=html$/.test(a.href)); return a ? a.href : ''; })()`)
	b.do(chromedp.Navigate(docLink))
	title := waitValue[string](b, `(document.querySelector('.swagger-ui .info .title') || {}).textContent || ''`)
	if !strings.Contains(title, "zoneplan OGC API - Features") {
		t.Fatalf("API page title %q", title)
	}
	if n := waitValue[int](b, `document.querySelectorAll('.swagger-ui .opblock').length`); n < 10 {
		t.Fatalf("the API page shows %d operations", n)
	}
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Fatalf("console errors on the API page:\n%s", strings.Join(errs, "\n"))
	}
}

// Every property a feature of the demo data carries is one of its
// collection's queryables, so a client may filter on what it sees (GDAL
// builds its -where from the fields it read).
func TestEveryFeaturePropertyIsQueryable(t *testing.T) {
	srv := startServer(t)
	tok := srv.tokens["reviewer"] // secret: every demo feature
	getJSON := func(u string, v any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", u, resp.StatusCode)
		}
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", u, err)
		}
	}
	for _, layer := range srv.layerIDs(t, tok) {
		var page struct {
			Features []struct {
				Properties map[string]any `json:"properties"`
			} `json:"features"`
		}
		getJSON(srv.url+"/ogc/collections/"+layer+"/items?limit=10000", &page)
		var q struct {
			Properties map[string]any `json:"properties"`
		}
		getJSON(srv.url+"/ogc/collections/"+layer+"/queryables", &q)
		seen := map[string]bool{}
		for _, f := range page.Features {
			for k := range f.Properties {
				if _, ok := q.Properties[k]; !ok && !seen[k] {
					seen[k] = true
					t.Errorf("%s: features carry %q, which is not a queryable", layer, k)
				}
			}
		}
		if len(page.Features) == 0 {
			t.Errorf("%s: no demo features to look at", layer)
		}
	}
}
