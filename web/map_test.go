package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
)

// The map reads at every zoom: at zoom 6 the country's border markers are
// clusters with their counts (not a blob of rings), a click on a cluster
// zooms in, and close up each point is labelled with its code.
func TestMapClustersAndLabels(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = chromiumDefault
	}
	if _, err := os.Stat(chromium); err != nil {
		skipOrFail(t, "no Chromium at %s (set CHROMIUM): %v", chromium, err)
	}
	srv := startServer(t)
	tok := srv.tokens["reviewer"]
	shots, err := os.MkdirTemp("", "zoneplan-map-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)
	markers := countFeatures(t, srv, tok, "border_markers")

	b := newBrowser(t, chromium)
	b.do(chromedp.Navigate(srv.url + "/#map=6/22.2/105.5"))
	b.signIn(tok)
	b.waitJS(tilesLoaded)
	b.waitJS(`document.querySelectorAll('#map path.zp-l-border_markers').length > 0`)
	drawn := evalJS[int](b, `document.querySelectorAll('#map path.zp-l-border_markers').length`)
	counts := evalJS[[]string](b, `[...document.querySelectorAll('#map .zp-count.zp-l-border_markers span')].map(s => s.textContent)`)
	t.Logf("zoom 6: %d border markers in the layer, drawn as %d symbols, %d of them clusters", markers, drawn, len(counts))
	if len(counts) == 0 {
		t.Fatalf("at zoom 6 no border-marker cluster shows a count")
	}
	sum := 0
	for _, c := range counts {
		n, err := strconv.Atoi(c)
		if err != nil || n < 2 {
			t.Errorf("a cluster's count reads %q", c)
		}
		sum += n
	}
	t.Logf("the clusters' counts add up to %d", sum)
	if drawn*3 > markers {
		t.Errorf("at zoom 6 %d border-marker symbols are drawn for %d markers: they are not clustered", drawn, markers)
	}
	// No symbol is a hollow ring.
	if hollow := evalJS[int](b, `[...document.querySelectorAll('#map path.zp-l-border_markers')].filter(p => Number(p.getAttribute('fill-opacity')) < 0.8 || p.getAttribute('fill') === '#ffffff').length`); hollow > 0 {
		t.Errorf("%d border-marker symbols are hollow at zoom 6", hollow)
	}
	b.screenshot(filepath.Join(shots, "zoom6.png"))

	// A click on a cluster zooms in on it.
	// (one not covered by another layer's symbol)
	xy := waitValue[[]float64](b, `(() => {
		for (const p of document.querySelectorAll('#map path.zp-l-border_markers.zp-cluster')) {
			const r = p.getBoundingClientRect(), x = r.left + r.width / 2, y = r.top + r.height / 2;
			if (document.elementFromPoint(x, y) === p) return [x, y];
		}
		return null;
	})()`)
	b.do(chromedp.MouseClickXY(xy[0], xy[1]))
	b.waitJS(`/map=8\//.test(location.hash)`)

	// Close up, points carry their code.
	lon, lat := firstVertex(t, srv, tok, "combat_bases")
	code := firstCode(t, srv, tok, "combat_bases")
	b.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`location.hash = 'map=16/%.6f/%.6f'`, lat, lon)))
	b.waitJS(tilesLoaded)
	b.waitJS(fmt.Sprintf(`[...document.querySelectorAll('#map .zp-label span')].some(s => s.textContent === %q)`, code))
	b.screenshot(filepath.Join(shots, "zoom16.png"))
	// A polygon cut by tile edges is labelled once.
	if n := evalJS[int](b, fmt.Sprintf(`[...document.querySelectorAll('#map .zp-label-area span')].filter(s => s.textContent === %q).length`, code)); n > 1 {
		t.Errorf("the polygon %s is labelled %d times", code, n)
	}
	// Hiding the layer hides its labels too.
	b.do(chromedp.Click(chromedp.ID("layer-combat_bases")))
	if n := evalJS[int](b, `[...document.querySelectorAll('#map .zp-label.zp-l-combat_bases')].filter(e => e.getClientRects().length && getComputedStyle(e).display !== 'none').length`); n != 0 {
		t.Errorf("%d labels of a hidden layer still show", n)
	}
}

// countFeatures is how many features of a layer the token sees.
func countFeatures(t *testing.T, srv *testServer, tok, layer string) int {
	t.Helper()
	var page struct {
		NumberMatched int `json:"numberMatched"`
	}
	getJSON(t, srv.url+"/ogc/collections/"+layer+"/items?limit=1", tok, &page)
	if page.NumberMatched == 0 {
		t.Fatalf("%s: no features", layer)
	}
	return page.NumberMatched
}

// firstCode is the code of the first feature of a layer.
func firstCode(t *testing.T, srv *testServer, tok, layer string) string {
	t.Helper()
	var fc struct {
		Features []struct {
			Properties struct {
				Code string `json:"code"`
			} `json:"properties"`
		} `json:"features"`
	}
	getJSON(t, srv.url+"/ogc/collections/"+layer+"/items?limit=1", tok, &fc)
	if len(fc.Features) == 0 || fc.Features[0].Properties.Code == "" {
		t.Fatalf("%s: the first feature has no code", layer)
	}
	return fc.Features[0].Properties.Code
}

func getJSON(t *testing.T, url, tok string, v any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, res.Status)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
