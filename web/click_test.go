package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// A person clicks a feature of every layer (points, lines and polygons)
// and a protection zone, with the mouse, and reads its popup: no click
// throws (Leaflet threw on every point), each opens a popup with a
// heading, and the zone's gives its width or its decision.
func TestClickAFeatureOfEveryLayer(t *testing.T) {
	chromium := requireChromium(t)
	srv := startServer(t)
	tok := srv.tokens["reviewer"] // secret: every layer
	b := newBrowser(t, chromium)
	b.do(chromedp.Navigate(srv.url + "/"))
	b.signIn(tok)

	// one feature of each layer, and where to look at it
	type target struct{ layer, class string }
	var targets []target
	for _, layer := range srv.layerIDs(t, tok) {
		targets = append(targets, target{layer, "zp-l-" + layer})
	}
	targets = append(targets, target{"protection_zones", "zp-zone"})
	for _, tg := range targets {
		lon, lat := firstVertex(t, srv, tok, tg.layer)
		zoom := 15
		if tg.layer == "protection_zones" {
			zoom = 18 // a zone of tens of metres is then wider than the work's own symbol
		}
		b.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`location.hash = 'map=%d/%.6f/%.6f'`, zoom, lat, lon)))
		b.waitJS(tilesLoaded)
		// The feature's element nearest the view's centre, and a point on
		// its outline there (a path's stroke takes clicks; a line has no
		// inside).
		xy := waitValue[[]float64](b, fmt.Sprintf(`(() => {
			const map = document.getElementById('map').getBoundingClientRect();
			const cx = map.left + map.width / 2, cy = map.top + map.height / 2;
			let best = null, bestD = Infinity;
			for (const el of document.querySelectorAll('#map path.%s')) {
				const n = el.getTotalLength(); if (!n) continue;
				const m = el.getScreenCTM();
				for (let i = 0; i <= 16; i++) {
					const p = el.getPointAtLength(n * i / 16);
					const x = m.a * p.x + m.c * p.y + m.e, y = m.b * p.x + m.d * p.y + m.f;
					const d = Math.hypot(x - cx, y - cy);
					if (d < bestD) { bestD = d; best = [x, y]; }
				}
			}
			return best;
		})()`, tg.class))
		before := len(b.consoleErrors())
		b.do(chromedp.MouseClickXY(xy[0], xy[1]))
		b.waitJS(`!!document.querySelector('.leaflet-popup .popup') && !document.querySelector('.leaflet-popup .popup .loading')`)
		heading := evalJS[string](b, `(document.querySelector('.leaflet-popup .popup h3') || {}).textContent || ''`)
		if strings.TrimSpace(heading) == "" {
			t.Errorf("%s: the popup has no heading: %q", tg.layer, evalJS[string](b, `document.querySelector('.leaflet-popup .popup').innerText`))
		}
		if tg.layer == "protection_zones" {
			// a zone's popup gives its width or the decision that fixed it
			b.waitJS(`/Bề rộng|Quyết định/.test(document.querySelector('.leaflet-popup .popup').innerText)`)
		}
		if errs := b.consoleErrors(); len(errs) > before {
			t.Errorf("%s: clicking threw:\n%s", tg.layer, strings.Join(errs[before:], "\n"))
		}
		b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('.leaflet-popup-close-button').click()`))
	}
}

// firstVertex is the first vertex of the first feature of layer (for
// protection_zones, of a defence work that has a zone).
func firstVertex(t *testing.T, srv *testServer, tok, layer string) (lon, lat float64) {
	t.Helper()
	u := srv.url + "/ogc/collections/" + layer + "/items?limit=1"
	if layer == "protection_zones" {
		u = srv.url + "/ogc/collections/defence_works/items?limit=1&filter=zones%20IS%20NOT%20NULL"
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var fc struct {
		Features []struct {
			Geometry struct {
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&fc); err != nil || len(fc.Features) == 0 {
		t.Fatalf("%s: no feature to click (%v)", layer, err)
	}
	// the first two numbers of the coordinates, however deeply nested
	var nums []float64
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case float64:
			nums = append(nums, v)
		case []any:
			for _, x := range v {
				if len(nums) < 2 {
					walk(x)
				}
			}
		}
	}
	var v any
	_ = json.Unmarshal(fc.Features[0].Geometry.Coordinates, &v)
	walk(v)
	if len(nums) < 2 {
		t.Fatalf("%s: no coordinates", layer)
	}
	return nums[0], nums[1]
}
