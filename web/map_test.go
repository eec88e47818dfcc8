package web_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/paulmach/orb"
	"github.com/tidwall/geodesic"

	"github.com/zoneplan/zoneplan/internal/crs"
)

// The map reads at every zoom: at zoom 6 the country's border markers are
// clusters with their counts (not a blob of rings), a click on a cluster
// zooms in, and close up each point is labelled with its code.
func TestMapClustersAndLabels(t *testing.T) {
	chromium := requireChromium(t)
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

// The pointer readout gives the VN-2000 coordinates the server's own
// conversion (internal/crs) gives for the point under the pointer, to the
// millimetre, and the measuring tool the length and area that Karney's
// geodesics on the WGS84 ellipsoid give for the points clicked.
func TestPointerReadoutAndMeasuring(t *testing.T) {
	chromium := requireChromium(t)
	srv := startServer(t)
	shots, err := os.MkdirTemp("", "zoneplan-measure-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)
	b := newBrowser(t, chromium)
	// Lạng Sơn, in the TM-3 zone of EPSG:9215 (central meridian 107°15′).
	b.do(chromedp.Navigate(srv.url + "/#map=14/21.85000/106.76000"))
	b.signIn(srv.tokens["appraiser"])
	b.waitJS(`!!document.querySelector('#readout-zone option[value="EPSG:9215"]')`)
	box := evalJS[[]float64](b, `(() => { const r = document.getElementById('map').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`)
	cx, cy := box[0]+box[2]/2, box[1]+box[3]/2

	// pointAt moves the pointer to (x, y) and returns the point the readout
	// says is there, and its VN-2000 X (northing) and Y (easting) as shown.
	pointAt := func(x, y float64) (lat, lon, north, east float64, code string) {
		t.Helper()
		before := evalJS[string](b, `document.querySelector('.zp-readout').dataset.lat + ' ' + document.querySelector('.zp-readout').dataset.lng`)
		b.do(chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x, y))
		b.waitJS(fmt.Sprintf(`document.querySelector('.zp-readout').dataset.lat + ' ' + document.querySelector('.zp-readout').dataset.lng !== %q`, before))
		v := evalJS[[]string](b, `[document.querySelector('.zp-readout').dataset.lat, document.querySelector('.zp-readout').dataset.lng, document.querySelector('.zp-readout .vn').textContent]`)
		lat, _ = strconv.ParseFloat(v[0], 64)
		lon, _ = strconv.ParseFloat(v[1], 64)
		m := regexp.MustCompile(`^(\S+): X ([\d.,]+) m, Y ([\d.,]+) m$`).FindStringSubmatch(v[2])
		if m == nil {
			t.Fatalf("the readout's VN-2000 line reads %q", v[2])
		}
		return lat, lon, viNumber(t, m[2]), viNumber(t, m[3]), m[1]
	}
	// Automatic: the provincial zone holding the point.
	lat, lon, north, east, code := pointAt(cx+37, cy-23)
	if code != "EPSG:9215" {
		t.Errorf("the readout's automatic zone at %.6f, %.6f is %s, want EPSG:9215 (Lạng Sơn)", lat, lon, code)
	}
	zone := crs.Must("EPSG:9215")
	g, err := crs.TransformFromWGS84(orb.Point{lon, lat}, zone)
	if err != nil {
		t.Fatal(err)
	}
	want := g.(orb.Point)
	t.Logf("pointer at %.7f, %.7f: page X %.3f Y %.3f, internal/crs X %.3f Y %.3f (EPSG:9215)", lat, lon, north, east, want[1], want[0])
	if math.Abs(north-want[1]) > 0.002 || math.Abs(east-want[0]) > 0.002 {
		t.Errorf("the readout's X %.3f, Y %.3f differ from the server's %.3f, %.3f by more than 2 mm", north, east, want[1], want[0])
	}
	// A zone picked: the UTM 48N coordinates of the same place.
	b.do(chromedp.SetValue(chromedp.ID("readout-zone"), "EPSG:3405"), chromedp.Evaluate[chromedp.Void](`document.getElementById('readout-zone').dispatchEvent(new Event('change'))`))
	lat, lon, north, east, code = pointAt(cx-51, cy+44)
	g, _ = crs.TransformFromWGS84(orb.Point{lon, lat}, crs.Must("EPSG:3405"))
	want = g.(orb.Point)
	if code != "EPSG:3405" || math.Abs(north-want[1]) > 0.002 || math.Abs(east-want[0]) > 0.002 {
		t.Errorf("in the picked zone the readout says %s X %.3f Y %.3f; the server: EPSG:3405 X %.3f Y %.3f", code, north, east, want[1], want[0])
	}

	// Measure a triangle: three clicks.
	b.do(chromedp.Click(chromedp.ID("measure")))
	var pts [][2]float64
	for _, d := range [][2]float64{{-150, 100}, {160, 90}, {20, -140}} {
		lat, lon, _, _, _ := pointAt(cx+d[0], cy+d[1])
		pts = append(pts, [2]float64{lat, lon})
		b.do(chromedp.MouseClickXY(cx+d[0], cy+d[1]))
	}
	b.waitJS(`/Diện tích/.test(document.getElementById('measure-result').innerText)`)
	text := evalJS[string](b, `document.getElementById('measure-result').innerText`)
	b.screenshot(filepath.Join(shots, "measure.png"))
	if n := evalJS[int](b, `document.querySelectorAll('.leaflet-popup').length`); n != 0 {
		t.Errorf("a click while measuring opened a popup")
	}
	var length, area float64
	for i := 1; i < len(pts); i++ {
		var s float64
		geodesic.WGS84.Inverse(pts[i-1][0], pts[i-1][1], pts[i][0], pts[i][1], &s, nil, nil)
		length += s
	}
	poly := geodesic.WGS84.PolygonInit(false)
	for _, p := range pts {
		poly.AddPoint(p[0], p[1])
	}
	poly.Compute(false, false, &area, nil)
	m := regexp.MustCompile(`Chiều dài: ([\d.,]+) (k?m)\s+Chu vi: [\d.,]+ k?m\s+Diện tích: ([\d.,]+) (ha|m²)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("the measurement reads %q", text)
	}
	gotLength, gotArea := viNumber(t, m[1]), viNumber(t, m[3])
	if m[2] == "km" {
		gotLength *= 1000
	}
	if m[4] == "ha" {
		gotArea *= 10000
	}
	t.Logf("measured %q at %v; Karney in Go: length %.2f m, area %.1f m²", text, pts, length, area)
	if math.Abs(gotLength-length) > 1 {
		t.Errorf("the page measures %.1f m, the ellipsoid %.2f m", gotLength, length)
	}
	if math.Abs(gotArea-math.Abs(area)) > 100 { // shown to 0.01 ha
		t.Errorf("the page measures %.0f m², the ellipsoid %.1f m²", gotArea, math.Abs(area))
	}
	// Esc ends measuring: a click opens popups again, the figures stay until cleared.
	b.do(chromedp.KeyEvent("\x1b"))
	b.waitJS(`document.getElementById('measure').getAttribute('aria-pressed') === 'false'`)
	b.do(chromedp.Click(chromedp.ID("measure-clear")))
	b.waitJS(`document.getElementById('measure-result').hidden`)
}

// viNumber reads a number written the Vietnamese way: 1.234.567,89.
func viNumber(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(strings.ReplaceAll(strings.ReplaceAll(s, ".", ""), ",", "."), 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return v
}

// A tile over its budget comes with the server's count of what it left out
// (the "omitted" layer, per layer and eighth of the tile): the page draws
// each count as a cluster of its layer labelled "+n", and below zoom 10
// folds it into the layer's clusters by its weight. Run on the page's own
// module in Chromium, on a tile decoded as the page decodes one.
func TestOmittedCountsShown(t *testing.T) {
	chromium := requireChromium(t)
	srv := startServer(t)
	b := newBrowser(t, chromium)
	b.do(chromedp.Navigate(srv.url + "/"))
	b.waitJS(`document.getElementById('signin-dialog').open`)
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`(async () => {
		const m = await import('./js/tiles.js');
		const tile = (zoom) => ({ layers: {
			combat_bases: { name: 'combat_bases', extent: 4096, length: 1, features: [
				{ type: 1, properties: { layer: 'combat_bases', id: 'a', code: 'CB-1', [m.GEOM]: 1 }, geometry: [[{ x: 100, y: 100 }]] }] },
			omitted: { name: 'omitted', extent: 4096, length: 1, features: [
				{ type: 1, properties: { layer: 'combat_bases', count: 37, [m.GEOM]: 1 }, geometry: [[{ x: 120, y: 110 }]] }] },
		} });
		const out = [];
		for (const z of [12, 8]) {
			const t = m.clusterPoints(m.foldOmitted(tile(z)), z);
			out.push(z + ': layers ' + Object.keys(t.layers).join(',') + '; features ' + t.layers.combat_bases.features.length +
				'; labels ' + m.tileLabels(t, z).map((l) => l.text).join(','));
		}
		return out;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"12: layers combat_bases; features 2; labels +37",
		"8: layers combat_bases; features 1; labels 38",
	}
	for i := range want {
		if i >= len(got) || got[i] != want[i] {
			t.Errorf("got %q, want %q", got, want)
			break
		}
	}
}
