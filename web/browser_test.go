package web_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"

	"github.com/zoneplan/zoneplan/data"
)

// The browser test drives the page in headless Debian Chromium against a real
// zoneplan server started on the demo data (section 6 of the web map issue):
// the page loads without console errors and its tile requests succeed;
// signing in shows the permitted layers and no other; uploading a footprint
// the demo marks as conflicting shows the conflict verdict and its findings,
// drawing one inside a site the demo marks as clear shows clear; saving
// lists the appraisal and opens its report; a reviewer decides it.
// Screenshots go to a temporary folder named in the test log.
//
// By default the test builds ./cmd/zoneplan, creates tokens with
// `zoneplan token create` on a fresh embedded store (which loads the demo
// data) and runs `zoneplan serve` on 127.0.0.1:0. To run it against a server
// that is already up, set ZONEPLAN_WEB_TEST_URL and
// ZONEPLAN_WEB_TEST_TOKENS=viewer:TOKEN,appraiser:TOKEN,reviewer:TOKEN (and
// optionally appraiser_public:TOKEN, an appraiser with public clearance, for
// the redaction step).
//
// Chromium is /usr/bin/chromium (or $CHROMIUM); without it the test skips,
// and fails instead when CI=true.

const chromiumDefault = "/usr/bin/chromium"

// requireChromium returns the Chromium the browser tests drive
// ($CHROMIUM, or chromiumDefault); without one the test skips (-short, or
// none installed) or, with CI=true, fails.
func requireChromium(t *testing.T) string {
	t.Helper()
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
	return chromium
}

// stepTimeout bounds each wait for the page; it is a hang guard, not a
// performance assertion.
const stepTimeout = 30 * time.Second

func TestBrowser(t *testing.T) {
	chromium := requireChromium(t)
	srv := serverForTest(t)
	srv.requireRoutes(t)
	conflict, clear := demoSites(t)

	shots, err := os.MkdirTemp("", "zoneplan-browser-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)

	b := newBrowser(t, chromium)

	// 1. The page loads; the sign-in dialog asks for a token.
	start := time.Now()
	b.do(chromedp.Navigate(srv.url + "/"))
	b.waitJS(`document.getElementById('signin-dialog').open`)

	// 2. A viewer sees exactly the layers the API lists for them.
	b.signIn(srv.tokens["viewer"])
	t.Logf("first load to signed-in layer panel (typing the token included): %v", time.Since(start).Round(time.Millisecond))
	viewerLayers := srv.layerIDs(t, srv.tokens["viewer"])
	reviewerLayers := srv.layerIDs(t, srv.tokens["reviewer"])
	shown := evalJS[[]string](b, `[...document.querySelectorAll('#layer-groups input[data-layer]')].map(i => i.dataset.layer)`)
	if strings.Join(shown, ",") != strings.Join(viewerLayers, ",") {
		t.Errorf("viewer's layer panel shows %v, the API lists %v", shown, viewerLayers)
	}
	for _, id := range reviewerLayers {
		if !contains(viewerLayers, id) && contains(shown, id) {
			t.Errorf("layer %s is shown to the viewer, who may not see it", id)
		}
	}
	b.checkControls("the viewer's layer panel")
	if got := evalJS[bool](b, `!document.getElementById('tab-check').hidden`); got {
		t.Errorf("a viewer is offered the check tab")
	}

	// The language switch relabels the page and the layer titles; Vietnamese
	// is the default and its diacritics come through.
	if lang := evalJS[string](b, `document.documentElement.lang + ' ' + document.getElementById('tab-layers').textContent`); lang != "vi Lớp bản đồ" {
		t.Errorf("default language and first tab: %q, want %q", lang, "vi Lớp bản đồ")
	}
	b.do(chromedp.Click(chromedp.ID("lang")))
	b.waitJS(`document.documentElement.lang === 'en' && document.getElementById('tab-layers').textContent === 'Layers'`)
	b.screenshot(filepath.Join(shots, "layers-en.png"))
	b.do(chromedp.Click(chromedp.ID("lang")))
	b.waitJS(`document.documentElement.lang === 'vi'`)

	// Load time: reload with the token kept in session storage, until the
	// layers are listed and every data tile of the view is drawn.
	b.do(chromedp.Navigate(srv.url + "/"))
	loadMS := waitValue[float64](b, `document.querySelector('#layer-groups input[data-layer]') && (`+tilesLoaded+`) ? performance.now() : 0`)
	t.Logf("page load on %s, signed in, to every data tile drawn: %.0f ms (%s)", srv.url, loadMS,
		evalJS[string](b, `(() => {
			const nav = performance.getEntriesByType('navigation')[0];
			const mark = (n) => (performance.getEntriesByName(n)[0] || { startTime: NaN }).startTime.toFixed(0);
			const tiles = performance.getEntriesByType('resource').filter(e => e.name.includes('/tiles/'));
			const end = Math.max(...tiles.map(e => e.responseEnd));
			return 'DOMContentLoaded ' + nav.domContentLoadedEventStart.toFixed(0) + ' ms, script start ' + mark('zoneplan:start') +
				' ms, signed in ' + mark('zoneplan:ready') + ' ms, ' + tiles.length + ' tiles received by ' + end.toFixed(0) + ' ms';
		})()`))
	t.Logf("load average while measuring: %s", loadAverage())

	// 3. Appraiser: tiles of the area of the conflicting demo site load.
	b.signOut()
	b.signIn(srv.tokens["appraiser"])
	lon, lat := conflict.center()
	b.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`location.hash = 'map=14/%.6f/%.6f'`, lat, lon)))
	b.waitJS(`performance.getEntriesByType('resource').some(e => e.name.includes('/tiles/'))`)
	b.waitJS(`document.querySelectorAll('#map .zp-f').length > 0`)
	b.waitJS(tilesLoaded)
	statuses := evalJS[[]int](b, `performance.getEntriesByType('resource').filter(e => e.name.includes('/tiles/')).map(e => e.responseStatus)`)
	if len(statuses) == 0 {
		t.Errorf("no tile was requested")
	}
	ok := 0
	for _, s := range statuses {
		// 0 is a request the page aborted because its tile left the view.
		switch s {
		case http.StatusOK, http.StatusNoContent:
			ok++
		case 0:
		default:
			t.Errorf("a tile request answered %d (all: %v)", s, statuses)
		}
	}
	if ok == 0 {
		t.Errorf("no tile request succeeded (statuses %v)", statuses)
	}
	b.screenshot(filepath.Join(shots, "map.png"))

	// Search by the site's code zooms to it and opens its popup.
	b.do(chromedp.Click(chromedp.ID("tab-search")), chromedp.SendKeys(chromedp.ID("search-q"), conflict.Code))
	b.waitJS(`!!document.querySelector('#search-results button')`)
	b.do(chromedp.Click(chromedp.CSS(`#search-results button`)))
	b.waitJS(`!!document.querySelector('.leaflet-popup .popup h3') && !document.querySelector('.leaflet-popup .popup .loading')`)
	if popup := evalJS[string](b, `document.querySelector('.leaflet-popup .popup').innerText`); !strings.Contains(popup, conflict.Code) {
		t.Errorf("the popup of the search result does not show the code %s: %q", conflict.Code, popup)
	}
	if popup := evalJS[string](b, `document.querySelector('.leaflet-popup .popup').innerText`); strings.Contains(popup, "null") || strings.Contains(popup, "undefined") {
		t.Errorf("the popup shows a missing value: %q", popup)
	}
	b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector('.leaflet-popup-close-button').click()`))

	// 4. Upload the conflicting site as a GeoJSON file and check it.
	b.do(chromedp.Click(chromedp.ID("tab-check")))
	file := filepath.Join(t.TempDir(), "conflict.geojson")
	if err := os.WriteFile(file, conflict.raw, 0o644); err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.SetUploadFiles(chromedp.ID("fp-file"), []string{file}))
	b.waitJS(`/phần: vùng/.test(document.getElementById('fp-status').textContent)`)
	b.do(chromedp.Click(chromedp.ID("check-run")))
	verdict := b.waitVerdict()
	if verdict != "conflict" {
		t.Errorf("the demo site %s (expected conflict: %s) was checked %q", conflict.Code, conflict.Reason, verdict)
	}
	findings := evalJS[int](b, `document.querySelectorAll('#check-result .findings li').length`)
	if findings == 0 {
		t.Errorf("the conflict verdict lists no findings")
	}
	if n := evalJS[int](b, `document.querySelectorAll('#check-result .findings li[data-verdict="conflict"]').length`); n == 0 {
		t.Errorf("no finding carries the conflict verdict")
	}
	b.checkNoBlanks("#check-result")
	b.checkControls("the check panel with a result")
	// The server's counters (data version, milliseconds) are shown only on request.
	if text := evalJS[string](b, `document.getElementById('check-result').innerText`); regexp.MustCompile(`\d ms\b`).MatchString(text) {
		t.Errorf("the check result shows the time taken without being asked:\n%s", text)
	}
	b.do(chromedp.Click(chromedp.CSS(`#check-result details.technical summary`)))
	b.waitJS(`/\d ms/.test(document.getElementById('check-result').innerText)`)
	b.do(chromedp.Click(chromedp.CSS(`#check-result .findings button.finding`)))
	b.screenshot(filepath.Join(shots, "check-conflict.png"))

	// 4b. Read a boundary-point table in VN-2000 (a Lạng Sơn parcel, TM-3
	// EPSG:9215) with that zone picked: the server's WGS84 conversion is
	// previewed on the map and checked, with the verdict the server gives
	// the same file uploaded to /api/check; a pasted table does the same;
	// bad tables are refused naming the file, the row and the problem.
	b.do(chromedp.Click(chromedp.ID("fp-clear")))
	badUploads := uploadTable(t, b, srv, shots)

	// 5. Draw a small triangle in the middle of the clear site and check it.
	b.do(chromedp.Click(chromedp.ID("fp-clear")))
	b.drawTriangleAt(clear.center())
	b.do(
		chromedp.SetValue(chromedp.ID("attr-name"), "Khu nghỉ dưỡng Hạ Long (thử)"),
		chromedp.SetValue(chromedp.ID("attr-investor"), "Công ty Cổ phần Thử nghiệm"),
		chromedp.Click(chromedp.ID("check-run")),
	)
	verdict = b.waitVerdict()
	if verdict != "clear" {
		t.Errorf("a triangle inside the demo site %s (expected clear: %s) was checked %q", clear.Code, clear.Reason, verdict)
	}

	// 6. Save it; the record opens, the list shows it, the report opens.
	b.do(chromedp.Click(chromedp.ID("check-save")))
	b.waitJS(`!document.getElementById('appr-record-view').hidden && !!document.querySelector('#appr-record .record')`)
	id := evalJS[string](b, `document.querySelector('#appr-record .record').dataset.id`)
	if id == "" {
		t.Fatal("the saved appraisal's record has no id")
	}
	b.do(chromedp.Click(chromedp.ID("appr-back")))
	b.waitJS(fmt.Sprintf(`!!document.querySelector('#appr-list li[data-id=%q]')`, id))
	// People are shown by name, not by token id.
	if by := evalJS[string](b, fmt.Sprintf(`document.querySelector('#appr-list li[data-id=%q]').innerText`, id)); !strings.Contains(by, "Nguyễn Thẩm Định") || uuidPattern.MatchString(by) {
		t.Errorf("the list names the appraisal's author %q; want the name Nguyễn Thẩm Định and no token id", by)
	}

	newTab := chromedp.WaitNewTarget(b.ctx, func(info *target.Info) bool { return info.Type == "page" })
	b.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`#appr-list li[data-id=%q] button`, id))))
	b.waitJS(`!!document.getElementById('appr-report')`)
	b.do(chromedp.Click(chromedp.ID("appr-report")))
	select {
	case tid, ok := <-newTab:
		if !ok {
			t.Fatal("the report tab did not open")
		}
		rctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithTargetID(tid))
		defer cancel()
		// The tab opens blank and then navigates to the report's blob URL,
		// which replaces the page the first evaluations ran in: retry.
		var text string
		for deadline := time.Now().Add(stepTimeout); ; {
			text, err = chromedp.Run(rctx, chromedp.Evaluate[string](`location.protocol === 'blob:' && document.readyState === 'complete' ? document.body.innerText : ''`))
			if err == nil && text != "" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the report did not load in the new tab (last error: %v)", err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if !strings.Contains(text, "Khu nghỉ dưỡng Hạ Long (thử)") {
			t.Errorf("the report does not name the project; it reads: %.300s", text)
		}
		png, err := chromedp.Run(rctx, chromedp.FullScreenshot(90))
		if err != nil {
			t.Fatalf("report screenshot: %v", err)
		}
		writeFile(t, filepath.Join(shots, "report.png"), png)
		// The person closes the report's tab and is back on the map (a
		// page in a tab behind another gets no rendering, and its dialogs
		// no events).
		if _, err := chromedp.Run(rctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.Close, cdp.Empty{})
			return err
		})); err != nil {
			t.Fatalf("closing the report tab: %v", err)
		}
		b.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, page.BringToFront, cdp.Empty{})
			return err
		}))
	case <-time.After(stepTimeout):
		t.Fatal("the report tab did not open within the step timeout")
	}

	// 6b. "Clear" in the check panel starts the next project from nothing:
	// the form, the footprint and the open record's outline go.
	if n := evalJS[int](b, `document.querySelectorAll('#map path[stroke="#6a1b9a"]').length`); n == 0 {
		t.Errorf("the open record's outline is not on the map")
	}
	b.do(chromedp.Click(chromedp.ID("tab-check")), chromedp.Click(chromedp.ID("fp-clear")))
	if left := evalJS[string](b, `['attr-name', 'attr-investor', 'attr-sector', 'attr-height'].map(id => document.getElementById(id).value).join('')`); left != "" {
		t.Errorf("after clear the project form still holds %q", left)
	}
	if n := evalJS[int](b, `document.querySelectorAll('#map path[stroke="#6a1b9a"], #map path[stroke="#0b57d0"]').length`); n != 0 {
		t.Errorf("after clear %d outlines of the last footprint or record stay on the map", n)
	}

	// 7. A reviewer decides the appraisal from its record.
	b.signOut()
	b.signIn(srv.tokens["reviewer"])
	b.do(chromedp.Click(chromedp.ID("tab-appraisals")))
	b.waitJS(fmt.Sprintf(`!!document.querySelector('#appr-list li[data-id=%q]')`, id))
	b.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`#appr-list li[data-id=%q] button`, id))))
	b.waitJS(`!!document.getElementById('appr-decision')`)
	b.do(
		chromedp.Click(chromedp.CSS(`#appr-decision input[value="approved_with_conditions"]`)),
		chromedp.SetValue(chromedp.CSS(`#appr-decision textarea`), "Không xây quá 12 m."),
		chromedp.Click(chromedp.CSS(`#appr-decision button[type=submit]`)),
	)
	decideConfirmed(t, b, srv, id)
	b.waitJS(`/12 m/.test(document.getElementById('appr-decision-text').textContent)`)
	if text := evalJS[string](b, `document.getElementById('appr-decision-text').innerText`); !strings.Contains(text, "Trần Phê Duyệt") || uuidPattern.MatchString(text) {
		t.Errorf("the decision names its reviewer %q; want the name Trần Phê Duyệt and no token id", text)
	}
	b.checkControls("the reviewer's appraisal record")
	b.checkNoBlanks("#appr-record")
	b.screenshot(filepath.Join(shots, "decided.png"))

	// 8. An appraiser cleared only for public data checks the same
	// conflicting site: the classified works around it are a consultation
	// area for them, so they get one referral (review) that names no
	// component and says the details are withheld.
	if tok := srv.tokens["appraiser_public"]; tok != "" {
		b.signOut()
		b.signIn(tok)
		b.do(chromedp.Click(chromedp.ID("tab-check")), chromedp.SetUploadFiles(chromedp.ID("fp-file"), []string{file}))
		b.waitJS(`/phần: vùng/.test(document.getElementById('fp-status').textContent)`)
		b.do(chromedp.Click(chromedp.ID("check-run")))
		if v := b.waitVerdict(); v != "review" {
			t.Errorf("the public-clearance appraiser's check of %s: %q, want review (a referral)", conflict.Code, v)
		}
		redacted := evalJS[[]string](b, `[...document.querySelectorAll('#check-result .findings li.redacted')].map(li => li.innerText)`)
		if len(redacted) != 1 {
			t.Errorf("%d findings shown as redacted to a public-clearance appraiser, want the one referral", len(redacted))
		}
		for _, text := range redacted {
			for _, want := range []string{"Thông tin mật đã được ẩn", "Vùng tham vấn quốc phòng", "defence-consultation"} {
				if !strings.Contains(text, want) {
					t.Errorf("the referral does not say %q: %q", want, text)
				}
			}
		}
		b.checkNoBlanks("#check-result")
		b.screenshot(filepath.Join(shots, "check-redacted.png"))
	}

	if notices := evalJS[string](b, `[...document.querySelectorAll('#notices .notice.error')].map(n => n.innerText).join('\n')`); notices != "" {
		t.Errorf("the page showed error notices:\n%s", notices)
	}
	// Chromium logs every 4xx answer as a console error: the 422s of the
	// bad files read on purpose are expected, exactly as many as were sent.
	errs, refused := b.consoleErrors(), 0
	errs = slices.DeleteFunc(errs, func(m string) bool {
		if strings.Contains(m, "status of 422") && strings.Contains(m, "/api/convert") {
			refused++
			return true
		}
		return false
	})
	if refused != badUploads {
		t.Errorf("the console logged %d refused /api/convert requests, want %d (one per bad file read)", refused, badUploads)
	}
	if len(errs) > 0 {
		t.Errorf("the console logged %d error(s):\n%s", len(errs), strings.Join(errs, "\n"))
	}
}

// formatsTestdata holds the upload fixtures of package formats.
const formatsTestdata = "../internal/formats/testdata"

// uploadTable is step 4b of TestBrowser: the boundary-point table fixtures
// through the CRS picker, the preview and the check, and bad tables. It
// returns how many bad files it had the server refuse.
func uploadTable(t *testing.T, b *browser, srv *testServer, shots string) (badUploads int) {
	t.Helper()
	// The picker is filled from /api/crs, grouped, and names the province
	// in Vietnamese; the pick is remembered for the session.
	b.waitJS(`!!document.querySelector('#fp-crs optgroup option[value="EPSG:9215"]')`)
	if label := evalJS[string](b, `document.querySelector('#fp-crs option[value="EPSG:9215"]').textContent + ' | ' + document.querySelector('#fp-crs option[value="EPSG:9215"]').parentElement.label`); !strings.Contains(label, "Lạng Sơn") || !strings.Contains(label, "107°15′") || !strings.Contains(label, "TM-3") {
		t.Errorf("the picker's option for EPSG:9215 reads %q; want the Lạng Sơn zone, its meridian 107°15′, in the TM-3 group", label)
	}
	pickCRS(b, "EPSG:9215")
	if got := evalJS[string](b, `sessionStorage.getItem('zoneplan.crs') || ''`); got != "EPSG:9215" {
		t.Errorf("the CRS pick is not remembered in session storage: %q", got)
	}

	csv, err := filepath.Abs(filepath.Join(formatsTestdata, "site.csv"))
	if err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.SetUploadFiles(chromedp.ID("fp-file"), []string{csv}))
	b.waitJS(`!document.getElementById('fp-source').hidden && /phần: vùng/.test(document.getElementById('fp-status').textContent)`)
	if src := evalJS[string](b, `document.getElementById('fp-source').textContent`); !strings.Contains(src, "site.csv") || !strings.Contains(src, "EPSG:9215") || !strings.Contains(src, "bảng toạ độ") {
		t.Errorf("the preview does not say it is site.csv read as a table in EPSG:9215: %q", src)
	}
	// The preview is drawn in the upload style and the map zooms to it: the
	// view's centre is the parcel's (from the fixture's WGS84 version).
	if n := evalJS[int](b, `document.querySelectorAll('#map path[stroke="#00796b"]').length`); n != 1 {
		t.Errorf("the map shows %d shapes in the upload style, want the one parcel", n)
	}
	west, south, east, north := fixtureBounds(t, filepath.Join(formatsTestdata, "site.geojson"))
	b.waitJS(`/map=\d+\//.test(location.hash)`)
	view := evalJS[[]float64](b, `location.hash.match(/map=([\d.]+)\/([-\d.]+)\/([-\d.]+)/).slice(1).map(Number)`)
	if zoom, lat, lon := view[0], view[1], view[2]; zoom < 15 || lon < west || lon > east || lat < south || lat > north {
		t.Errorf("after the upload the map shows zoom %v at %.6f, %.6f; want zoom 15 or more centred on the parcel [%.6f %.6f %.6f %.6f]",
			zoom, lat, lon, west, south, east, north)
	}
	b.screenshot(filepath.Join(shots, "upload-table-preview.png"))
	// The preview is the footprint, editable like a drawn one: its six
	// corners get vertex handles.
	b.do(chromedp.Click(chromedp.ID("fp-edit")))
	b.waitJS(`document.querySelectorAll('#map .leaflet-marker-icon.marker-icon').length >= 6`)
	b.do(chromedp.Click(chromedp.ID("fp-edit")))
	b.waitJS(`document.querySelectorAll('#map .leaflet-marker-icon.marker-icon').length === 0`)
	// The check sends no attributes, as the server-side check below.
	b.do(chromedp.Evaluate[chromedp.Void](`document.getElementById('attr-form').reset()`))
	b.do(chromedp.Click(chromedp.ID("check-run")))
	verdict := b.waitVerdict()
	if want := srv.checkUpload(t, csv, "EPSG:9215"); verdict != want {
		t.Errorf("the page checked the previewed table %q; the server checks the same file %q", verdict, want)
	}
	t.Logf("the Lạng Sơn parcel of site.csv (EPSG:9215) is checked %q", verdict)
	b.checkNoBlanks("#check-result")
	b.screenshot(filepath.Join(shots, "upload-table-check.png"))

	// The same points pasted as text (comma decimals, spaces) preview the
	// same parcel.
	pasted, err := os.ReadFile(filepath.Join(formatsTestdata, "site_pasted.txt"))
	if err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.Click(chromedp.ID("fp-clear")))
	if got := evalJS[string](b, `document.getElementById('fp-crs').value`); got != "" {
		t.Errorf("after clear the CRS picker still says %q; want it back on automatic", got)
	}
	b.do(chromedp.Evaluate[chromedp.Void](`document.getElementById('fp-paste').open = true`))
	pickCRS(b, "EPSG:9215")
	b.do(chromedp.SetValue(chromedp.ID("fp-table"), string(pasted)), chromedp.Click(chromedp.ID("fp-table-read")))
	b.waitJS(`!document.getElementById('fp-source').hidden && /phần: vùng/.test(document.getElementById('fp-status').textContent)`)
	b.checkControls("the check panel with a pasted table")

	// Bad tables: the footprint stays, the error names the file, the row
	// (in the page's language) and what is wrong there.
	for _, bad := range []struct{ file, want string }{
		{"bad_non_numeric.csv", `bad_non_numeric.csv: dòng 4: X “2417O85.750” không phải là số`},
		{"bad_two_points.csv", `bad_two_points.csv: ranh giới cần ít nhất 3 điểm, bảng chỉ có 2`},
	} {
		path, err := filepath.Abs(filepath.Join(formatsTestdata, bad.file))
		if err != nil {
			t.Fatal(err)
		}
		// The zone is picked for each new table: a pick serves one file.
		pickCRS(b, "EPSG:9215")
		b.do(chromedp.SetUploadFiles(chromedp.ID("fp-file"), []string{path}))
		badUploads++
		b.waitJS(`!document.getElementById('fp-error').hidden`)
		if text := evalJS[string](b, `document.getElementById('fp-error').innerText`); !strings.Contains(text, bad.want) || !strings.Contains(text, "Không đọc được “"+bad.file+"”") {
			t.Errorf("the error for %s reads %q; want it to name the file and say %q", bad.file, text, bad.want)
		}
		if st := evalJS[string](b, `document.getElementById('fp-source').textContent`); !strings.Contains(st, "pasted-table.txt") && !strings.Contains(st, "bảng toạ độ đã dán") {
			t.Errorf("after the bad file %s the footprint is no longer the pasted table: %q", bad.file, st)
		}
	}
	b.screenshot(filepath.Join(shots, "upload-table-error.png"))
	// In English the same error is in English.
	b.do(chromedp.Click(chromedp.ID("lang")))
	b.waitJS(`document.documentElement.lang === 'en'`)
	path, _ := filepath.Abs(filepath.Join(formatsTestdata, "bad_non_numeric.csv"))
	pickCRS(b, "EPSG:9215")
	b.do(chromedp.SetUploadFiles(chromedp.ID("fp-file"), []string{path}))
	badUploads++
	b.waitJS(`/row 4: X "2417O85.750" is not a number/.test(document.getElementById('fp-error').innerText)`)
	b.do(chromedp.Click(chromedp.ID("lang")))
	b.waitJS(`document.documentElement.lang === 'vi'`)

	// A zipped shapefile with the picker on automatic: its .prj says the
	// zone, and the preview says so; an unknown .prj is named.
	// The zone picked for the last table does not stick: the next file is
	// read as the file says, here from its .prj.
	b.do(chromedp.Click(chromedp.ID("fp-clear")))
	b.do(chromedp.Evaluate[chromedp.Void](`document.getElementById('fp-paste').open = false`))
	pickCRS(b, "EPSG:9215")
	b.do(chromedp.SetUploadFiles(chromedp.ID("fp-file"), []string{path}))
	badUploads++
	b.waitJS(`!document.getElementById('fp-error').hidden`)
	shp, _ := filepath.Abs(filepath.Join(formatsTestdata, "site_shp.zip"))
	b.do(chromedp.SetUploadFiles(chromedp.ID("fp-file"), []string{shp}))
	b.waitJS(`!document.getElementById('fp-source').hidden && /phần: vùng/.test(document.getElementById('fp-status').textContent)`)
	if got := evalJS[string](b, `document.getElementById('fp-crs').value`); got != "" {
		t.Errorf("the CRS picked for the last table is still picked for the next file: %q", got)
	}
	if src := evalJS[string](b, `document.getElementById('fp-source').textContent`); !strings.Contains(src, "shapefile") || !strings.Contains(src, "EPSG:9215") || !strings.Contains(src, "theo tệp .prj") {
		t.Errorf("the preview of site_shp.zip does not say it is a shapefile in EPSG:9215 from its .prj: %q", src)
	}
	prj, _ := filepath.Abs(filepath.Join(formatsTestdata, "bad_unknown_prj.zip"))
	b.do(chromedp.SetUploadFiles(chromedp.ID("fp-file"), []string{prj}))
	badUploads++
	b.waitJS(`!document.getElementById('fp-error').hidden`)
	if text := evalJS[string](b, `document.getElementById('fp-error').innerText`); !strings.Contains(text, "bad_unknown_prj.zip: site.prj: hệ toạ độ trong tệp .prj không được hỗ trợ") {
		t.Errorf("the error for bad_unknown_prj.zip does not name its .prj: %q", text)
	}

	// Cleared, the picker stays on automatic for the GeoJSON uploads that follow.
	b.do(chromedp.Click(chromedp.ID("fp-clear")))
	return badUploads
}

// pickCRS chooses a CRS in the upload's picker, as a user would.
func pickCRS(b *browser, code string) {
	b.t.Helper()
	b.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.getElementById('fp-crs'); s.value = %q; s.dispatchEvent(new Event('change')); })()`, code)))
	b.waitJS(fmt.Sprintf(`document.getElementById('fp-crs').value === %q`, code))
}

// fixtureBounds returns the WGS84 bounding box of a GeoJSON
// FeatureCollection of polygons.
func fixtureBounds(t *testing.T, path string) (west, south, east, north float64) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Features []struct {
			Geometry struct {
				Coordinates [][][2]float64 `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(raw, &fc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	west, south, east, north = 180, 90, -180, -90
	for _, f := range fc.Features {
		for _, ring := range f.Geometry.Coordinates {
			for _, p := range ring {
				west, east = min(west, p[0]), max(east, p[0])
				south, north = min(south, p[1]), max(north, p[1])
			}
		}
	}
	if west > east {
		t.Fatalf("%s has no polygon coordinates", path)
	}
	return west, south, east, north
}

// checkUpload uploads a file to POST /api/check in the given CRS, as the
// appraiser, and returns the verdict.
func (s *testServer) checkUpload(t *testing.T, path, crs string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", filepath.Base(path))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(data)
	_ = mw.WriteField("crs", crs)
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("POST", s.url+"/api/check", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+s.tokens["appraiser"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/check with %s in %s: %s\n%s", filepath.Base(path), crs, res.Status, raw)
	}
	var out struct {
		Verdict string `json:"verdict"`
	}
	if err := json.Unmarshal(raw, &out); err != nil || out.Verdict == "" {
		t.Fatalf("POST /api/check with %s: no verdict in %s (%v)", filepath.Base(path), raw, err)
	}
	return out.Verdict
}

// ---- the browser ------------------------------------------------------------

type browser struct {
	t   *testing.T
	ctx context.Context

	mu       sync.Mutex
	messages []string // console errors and uncaught exceptions
}

func newBrowser(t *testing.T, chromium string) *browser {
	t.Helper()
	// Not t.TempDir: Chromium's helper processes may still write into the
	// profile for a moment after the browser ends, and a failed removal
	// there would fail the test.
	profile, err := os.MkdirTemp("", "zoneplan-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.WindowSize(1280, 800),
		chromedp.UserDataDir(profile),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		for range 50 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("could not remove the Chromium profile %s", profile)
	})
	b := &browser{t: t, ctx: ctx}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == "error" {
				b.mu.Lock()
				b.messages = append(b.messages, fmt.Sprintf("%s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line))
				b.mu.Unlock()
			}
		}
	}()
	return b
}

func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v\nconsole errors so far:\n%s", err, strings.Join(b.consoleErrors(), "\n"))
	}
}

// waitJS waits until a JavaScript expression is truthy.
func (b *browser) waitJS(expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(stepTimeout),
		chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		notices, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.getElementById('notices').innerText`))
		b.t.Fatalf("waiting for %s: %v\nnotices on the page: %s\nconsole errors so far:\n%s", expr, err, notices, strings.Join(b.consoleErrors(), "\n"))
	}
}

// tilesLoaded is true when the data layer shows tiles and all have loaded.
const tilesLoaded = `(() => { const t = document.querySelectorAll('.leaflet-zpData-pane .leaflet-tile'); return t.length > 0 && [...t].every(x => x.classList.contains('leaflet-tile-loaded')); })()`

// waitValue waits until expr is truthy and returns its value.
func waitValue[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Poll[T](expr, chromedp.WithPollingTimeout(stepTimeout), chromedp.WithPollingInterval(20*time.Millisecond)))
	if err != nil {
		b.t.Fatalf("waiting for %s: %v", expr, err)
	}
	return v
}

func evalJS[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

func (b *browser) signIn(token string) {
	b.t.Helper()
	b.waitJS(`document.getElementById('signin-dialog').open`)
	b.do(
		chromedp.SetValue(chromedp.ID("signin-token"), token),
		chromedp.Click(chromedp.CSS(`#signin-form button[type=submit]`)),
	)
	b.waitJS(`!document.getElementById('signin-dialog').open && !document.getElementById('user-role').hidden && !!document.querySelector('#layer-groups input[data-layer]')`)
}

func (b *browser) signOut() {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.ID("signout")))
	b.waitJS(`document.getElementById('signin-dialog').open`)
}

// drawTriangleAt centres the map on lon, lat at zoom 18 and draws a
// small triangle there as the footprint: at zoom 18, 12 px is about 5 m,
// well inside a demo site.
func (b *browser) drawTriangleAt(lon, lat float64) {
	b.t.Helper()
	b.do(chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`location.hash = 'map=18/%.7f/%.7f'`, lat, lon)))
	// The URL shows the view once the map has moved (to within a pixel).
	b.waitJS(fmt.Sprintf(`(() => { const m = location.hash.match(/map=18\/([-\d.]+)\/([-\d.]+)/); return !!m && Math.abs(m[1] - %f) < 1e-4 && Math.abs(m[2] - %f) < 1e-4; })()`, lat, lon))
	box := evalJS[[]float64](b, `(() => { const r = document.getElementById('map').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; })()`)
	cx, cy := box[0]+box[2]/2, box[1]+box[3]/2
	b.do(chromedp.Click(chromedp.ID("fp-polygon")))
	for _, p := range [][2]float64{{cx - 12, cy + 10}, {cx + 12, cy + 10}, {cx, cy - 12}, {cx - 12, cy + 10}} {
		b.do(chromedp.MouseClickXY(p[0], p[1]))
		b.do(chromedp.Sleep(150 * time.Millisecond))
	}
	b.waitJS(`/1/.test(document.getElementById('fp-status').textContent)`)
}

// waitVerdict waits for a new check result and returns its verdict.
func (b *browser) waitVerdict() string {
	b.t.Helper()
	b.waitJS(`!document.getElementById('check-run').disabled && !!document.querySelector('#check-result .verdict')`)
	return evalJS[string](b, `document.querySelector('#check-result .verdict').dataset.verdict`)
}

// checkControls fails when a visible control has no accessible name (a
// label, aria-label, title or text) or cannot be reached with the keyboard
// (a negative tabindex; inactive tabs excepted, the arrow keys reach them).
func (b *browser) checkControls(where string) {
	b.t.Helper()
	bad := evalJS[[]string](b, `(() => {
		const bad = [];
		for (const e of document.querySelectorAll('button, input, select, textarea, a[href]')) {
			if (!e.getClientRects().length) continue;
			const labels = e.labels ? [...e.labels].map(l => l.textContent).join(' ').trim() : '';
			const name = labels || e.getAttribute('aria-label') || e.getAttribute('title') ||
				(['BUTTON', 'A'].includes(e.tagName) ? e.textContent.trim() : '');
			const html = e.outerHTML.slice(0, 140);
			if (!name) bad.push('no accessible name: ' + html);
			if (e.tabIndex < 0 && e.getAttribute('role') !== 'tab') bad.push('not reachable by Tab: ' + html);
		}
		return bad;
	})()`)
	for _, m := range bad {
		b.t.Errorf("%s: %s", where, m)
	}
}

// checkNoBlanks fails when the text under a selector shows a value the page
// failed to format.
func (b *browser) checkNoBlanks(sel string) {
	b.t.Helper()
	text := evalJS[string](b, fmt.Sprintf(`document.querySelector(%q).innerText`, sel))
	for _, bad := range []string{"undefined", "null", "[object Object]", "NaN"} {
		if strings.Contains(text, bad) {
			b.t.Errorf("%s shows %q:\n%s", sel, bad, text)
		}
	}
}

func (b *browser) screenshot(path string) {
	b.t.Helper()
	// Let Leaflet's 200 ms fade-in of new tiles finish.
	b.do(chromedp.Sleep(400 * time.Millisecond))
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	writeFile(b.t, path, png)
}

func (b *browser) consoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.messages...)
}

// ---- the server ---------------------------------------------------------------

type testServer struct {
	url    string
	tokens map[string]string // by role: viewer, appraiser, reviewer
}

// serverForTest returns the server named by ZONEPLAN_WEB_TEST_URL, or starts
// one from ./cmd/zoneplan on a new embedded store with the demo data.
func serverForTest(t *testing.T) *testServer {
	t.Helper()
	if u := os.Getenv("ZONEPLAN_WEB_TEST_URL"); u != "" {
		s := &testServer{url: strings.TrimRight(u, "/"), tokens: map[string]string{}}
		for _, kv := range strings.Split(os.Getenv("ZONEPLAN_WEB_TEST_TOKENS"), ",") {
			if role, tok, ok := strings.Cut(kv, ":"); ok {
				s.tokens[role] = tok
			}
		}
		for _, role := range []string{"viewer", "appraiser", "reviewer"} {
			if s.tokens[role] == "" {
				t.Fatalf("ZONEPLAN_WEB_TEST_TOKENS names no %s token", role)
			}
		}
		return s
	}
	return startServer(t)
}

// startServer builds zoneplan and serves the demo data with tokens for each
// role, with extra arguments to serve.
func startServer(t *testing.T, serveArgs ...string) *testServer {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "zoneplan")
	build := exec.Command("go", "build", "-o", bin, "./cmd/zoneplan")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/zoneplan: %v\n%s", err, out)
	}
	db := filepath.Join(dir, "zoneplan.db")
	env := cleanEnv()
	s := &testServer{tokens: map[string]string{}}
	// The first command creates the embedded store with the demo data.
	for _, tk := range []struct{ role, clearance, name string }{
		{"viewer", "public", "Người xem công khai"},
		{"appraiser", "restricted", "Nguyễn Thẩm Định"},
		{"reviewer", "secret", "Trần Phê Duyệt"},
		{"appraiser_public", "public", "Lê Thẩm Định Công Khai"},
		{"admin", "secret", "Phạm Quản Trị"},
	} {
		role, _, _ := strings.Cut(tk.role, "_")
		cmd := exec.Command(bin, "token", "create", "--db", db, "--name", tk.name, "--role", role, "--clearance", tk.clearance)
		cmd.Env = env
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("zoneplan token create (%s): %v\n%s", tk.role, err, stderr.String())
		}
		s.tokens[tk.role] = strings.TrimSpace(string(out))
	}

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, append([]string{"serve", "--db", db, "--addr", "127.0.0.1:0", "--basemap-url="}, serveArgs...)...)
	cmd.Env = env
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("zoneplan serve: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("server log:\n%s", stderr.String())
		}
	})
	serving := regexp.MustCompile(`serving on (http://\S+)`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := serving.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		close(found)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			t.Fatalf("zoneplan serve stopped before serving:\n%s", stderr.String())
		}
		s.url = strings.TrimRight(u, "/")
	case <-time.After(60 * time.Second):
		t.Fatalf("zoneplan serve did not start in 60 s:\n%s", stderr.String())
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get(s.url + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/readyz not ready in 60 s (last error %v):\n%s", s.url, err, stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s
}

// cleanEnv is the process environment without the variables that would
// point the server at another store or address.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "DATABASE_URL", "ZONEPLAN_DB", "ZONEPLAN_ADDR", "ZONEPLAN_BASEMAP_URL":
			continue
		}
		env = append(env, kv)
	}
	return env
}

// requireRoutes fails at once, with a clear message, when the server lacks
// an endpoint the page needs, rather than letting a later step time out.
func (s *testServer) requireRoutes(t *testing.T) {
	t.Helper()
	for _, r := range []struct{ method, path string }{
		{"GET", "/tiles/all/0/0/0.mvt"},
		{"GET", "/api/search?q=a"},
		{"POST", "/api/check"},
		{"POST", "/api/convert"},
		{"GET", "/api/crs"},
		{"GET", "/api/appraisals"},
	} {
		req, _ := http.NewRequest(r.method, s.url+r.path, strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer "+s.tokens["appraiser"])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", r.method, r.path, err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusMethodNotAllowed {
			t.Fatalf("the server does not serve %s %s (%s)", r.method, r.path, res.Status)
		}
	}
}

func (s *testServer) layerIDs(t *testing.T, token string) []string {
	t.Helper()
	req, _ := http.NewRequest("GET", s.url+"/api/layers", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/layers: %s", res.Status)
	}
	var layers []struct {
		ID    string `json:"id"`
		Group string `json:"group"`
	}
	if err := json.NewDecoder(res.Body).Decode(&layers); err != nil {
		t.Fatal(err)
	}
	// The panel lists layers group by group (border, defence, projects, then
	// any other in order of appearance), in the API's order within each.
	groups := []string{"border", "defence", "projects"}
	for _, l := range layers {
		if !contains(groups, l.Group) {
			groups = append(groups, l.Group)
		}
	}
	var ids []string
	for _, g := range groups {
		for _, l := range layers {
			if l.Group == g {
				ids = append(ids, l.ID)
			}
		}
	}
	return ids
}

// ---- fixtures from the demo data -------------------------------------------

// demoSite is a project site of the demo set, with the verdict the demo
// generator placed it to reach.
type demoSite struct {
	Code     string
	Expected string
	Reason   string
	ring     [][2]float64
	raw      []byte // the Feature as GeoJSON
}

// center is the mean of the site's outer ring (lon, lat, WGS84).
func (d demoSite) center() (lon, lat float64) {
	n := float64(len(d.ring) - 1)
	for _, p := range d.ring[:len(d.ring)-1] {
		lon += p[0] / n
		lat += p[1] / n
	}
	return lon, lat
}

// demoSites returns the first polygon project site the demo expects to
// conflict and the first it expects to be clear whose centre is inside it
// (a triangle of a few metres is drawn there).
func demoSites(t *testing.T) (conflict, clear demoSite) {
	t.Helper()
	layers, err := data.DemoLayers()
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(layers["project_sites"], &fc); err != nil {
		t.Fatal(err)
	}
	for _, raw := range fc.Features {
		var f struct {
			Geometry struct {
				Type        string         `json:"type"`
				Coordinates [][][2]float64 `json:"coordinates"`
			} `json:"geometry"`
			Properties map[string]any `json:"properties"`
		}
		if err := json.Unmarshal(raw, &f); err != nil || f.Geometry.Type != "Polygon" {
			continue
		}
		site := demoSite{ring: f.Geometry.Coordinates[0], raw: raw}
		site.Code, _ = f.Properties["code"].(string)
		site.Expected, _ = f.Properties["demo_expected"].(string)
		site.Reason, _ = f.Properties["demo_reason"].(string)
		if site.Expected == "conflict" && conflict.Code == "" {
			conflict = site
		}
		if lon, lat := site.center(); site.Expected == "clear" && clear.Code == "" && insideRing(site.ring, lon, lat) {
			clear = site
		}
	}
	if conflict.Code == "" || clear.Code == "" {
		t.Fatalf("the demo project sites lack a conflicting or a clear polygon site")
	}
	return conflict, clear
}

// insideRing reports whether (lon, lat) is inside a closed ring (even-odd
// rule, planar in degrees: fine for a site a few hundred metres wide).
func insideRing(ring [][2]float64, lon, lat float64) bool {
	in := false
	for i, j := 0, len(ring)-1; i < len(ring); j, i = i, i+1 {
		a, b := ring[i], ring[j]
		if (a[1] > lat) != (b[1] > lat) && lon < (b[0]-a[0])*(lat-a[1])/(b[1]-a[1])+a[0] {
			in = !in
		}
	}
	return in
}

// ---- helpers ------------------------------------------------------------------

// loadAverage reads /proc/loadavg, to put the timings in context.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer collects a subprocess's output safely for concurrent reads.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// uuidPattern matches a token id.
var uuidPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// decideConfirmed follows a click on the decision's submit button: the page
// asks for confirmation with the button disabled, a second click sends
// nothing, and once confirmed the server records exactly one decision.
func decideConfirmed(t *testing.T, b *browser, srv *testServer, id string) {
	t.Helper()
	b.waitJS(`document.getElementById('confirm-dialog').open`)
	if text := evalJS[string](b, `document.getElementById('confirm-text').textContent`); !strings.Contains(text, "Chấp thuận có điều kiện") {
		t.Errorf("the confirmation does not name the outcome: %q", text)
	}
	if !evalJS[bool](b, `document.querySelector('#appr-decision button[type=submit]').disabled`) {
		t.Errorf("the decision's button is not disabled while the decision is being confirmed and sent")
	}
	// A second submit (Enter in the note, a double click) is ignored.
	b.do(chromedp.Evaluate[chromedp.Void](`document.getElementById('appr-decision').requestSubmit()`))
	b.do(chromedp.Click(chromedp.ID("confirm-ok")))
	b.waitJS(`!document.getElementById('confirm-dialog').open && !document.querySelector('#appr-decision button[type=submit]').disabled`)
	req, _ := http.NewRequest(http.MethodGet, srv.url+"/api/appraisals/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+srv.tokens["reviewer"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var a struct {
		History []struct {
			Action string `json:"action"`
		} `json:"history"`
	}
	if err := json.NewDecoder(res.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	decided := 0
	for _, h := range a.History {
		if h.Action == "appraisal.decided" {
			decided++
		}
	}
	if decided != 1 {
		t.Errorf("the appraisal's trail records %d decisions after one confirmed submit and one repeated; want 1", decided)
	}
}
