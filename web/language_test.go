package web_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// A Vietnamese user walks the main flows (sign in, layers, search and a
// popup, upload and draw a footprint, a file the server refuses, a check
// with its findings, a server problem, saving the appraisal, a reviewer's
// confirmed decision) and at each step the page shows no English: the
// visible text, tooltips, labels and options are compared against the
// page's own English catalogue (i18n.js englishCatalogue) and the server's
// English words the page translates (serverwords.js ENGLISH_SAMPLES).
func TestVietnameseInterfaceShowsNoEnglish(t *testing.T) {
	chromium := requireChromium(t)
	srv := startServer(t)
	conflict, clear := demoSites(t)
	dir := t.TempDir()
	conflictFile := filepath.Join(dir, "conflict.geojson")
	writeFile(t, conflictFile, conflict.raw)
	// A polygon whose ring crosses itself: the server refuses to read it.
	clon, clat := clear.center()
	bowTie := filepath.Join(dir, "bow-tie.geojson")
	writeFile(t, bowTie, fmt.Appendf(nil, `{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[%[1]f,%[2]f],[%[3]f,%[4]f],[%[3]f,%[2]f],[%[1]f,%[4]f],[%[1]f,%[2]f]]]}}`,
		clon-0.0002, clat-0.0002, clon+0.0002, clat+0.0002))

	b := newBrowser(t, chromium)
	b.do(chromedp.Navigate(srv.url + "/"))
	b.waitJS(`document.getElementById('signin-dialog').open`)
	if lang := evalJS[string](b, `document.documentElement.lang`); lang != "vi" {
		t.Fatalf("the page opens in %q, want vi", lang)
	}
	scan := func(step string) {
		t.Helper()
		for _, hit := range b.englishShown() {
			t.Errorf("%s: English in the Vietnamese page: %s", step, hit)
		}
	}
	scan("the sign-in dialog")

	b.signIn(srv.tokens["appraiser"])
	b.waitJS(tilesLoaded)
	scan("the layer panel")

	b.do(chromedp.Click(chromedp.ID("tab-search")), chromedp.SendKeys(chromedp.ID("search-q"), conflict.Code))
	b.waitJS(`!!document.querySelector('#search-results button')`)
	scan("search results")
	b.do(chromedp.Click(chromedp.CSS(`#search-results button`)))
	b.waitJS(`!!document.querySelector('.leaflet-popup .popup h3') && !document.querySelector('.leaflet-popup .popup .loading')`)
	scan("a feature's popup")
	b.do(chromedp.Click(chromedp.CSS(`.leaflet-popup-close-button`)))

	b.do(chromedp.Click(chromedp.ID("tab-check")))
	b.waitJS(`!!document.querySelector('#fp-crs optgroup option')`)
	scan("the check panel")

	// A file the server cannot read.
	b.do(chromedp.SetUploadFiles(chromedp.ID("fp-file"), []string{bowTie}))
	b.waitJS(`!document.getElementById('fp-error').hidden`)
	scan("a refused upload")

	// A check the server refuses (a problem+json answer): a height out of range.
	b.do(chromedp.SetUploadFiles(chromedp.ID("fp-file"), []string{conflictFile}))
	b.waitJS(`/phần: vùng/.test(document.getElementById('fp-status').textContent)`)
	b.do(chromedp.SetValue(chromedp.ID("attr-height"), "20000"), chromedp.Click(chromedp.ID("check-run")))
	b.waitJS(`!!document.querySelector('#notices .notice.error') && !document.getElementById('check-run').disabled`)
	scan("a check the server refused")
	if text := evalJS[string](b, `document.querySelector('#notices .notice.error').innerText`); !strings.Contains(text, "chiều cao") {
		t.Errorf("the refused check's notice does not say the height is wrong: %q", text)
	}
	b.do(chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('#notices .notice button').forEach(x => x.click())`))

	// Draw: the drawing tooltips.
	b.do(chromedp.Click(chromedp.ID("fp-clear")), chromedp.Click(chromedp.ID("fp-polygon")))
	box := evalJS[[]float64](b, `(() => { const r = document.getElementById('map').getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()`)
	b.do(chromedp.MouseClickXY(box[0], box[1]), chromedp.Sleep(200*time.Millisecond))
	scan("drawing a polygon")
	b.do(chromedp.KeyEvent("\x1b"))

	// Measure: the tool's words, the pointer readout's.
	b.do(chromedp.Click(chromedp.ID("measure")))
	for _, d := range [][2]float64{{-60, 40}, {50, 30}, {0, -50}} {
		b.do(chromedp.MouseClickXY(box[0]+d[0], box[1]+d[1]))
	}
	b.waitJS(`/Diện tích/.test(document.getElementById('measure-result').innerText)`)
	scan("measuring")
	b.do(chromedp.KeyEvent("\x1b"), chromedp.Click(chromedp.ID("measure-clear")))

	// Upload the conflicting site and check it: the verdict and findings.
	b.do(chromedp.Click(chromedp.ID("fp-clear")), chromedp.SetUploadFiles(chromedp.ID("fp-file"), []string{conflictFile}))
	b.waitJS(`/phần: vùng/.test(document.getElementById('fp-status').textContent)`)
	b.do(chromedp.Click(chromedp.ID("check-run")))
	if v := b.waitVerdict(); v != "conflict" {
		t.Errorf("the conflicting site is checked %q", v)
	}
	b.do(chromedp.Click(chromedp.CSS(`#check-result details.technical summary`)))
	scan("a check's verdict and findings")

	// Save it; the record and the list.
	b.do(chromedp.Click(chromedp.ID("check-save")))
	b.waitJS(`!document.getElementById('appr-record-view').hidden && !!document.querySelector('#appr-record .record')`)
	id := evalJS[string](b, `document.querySelector('#appr-record .record').dataset.id`)
	scan("the saved appraisal's record")
	b.do(chromedp.Click(chromedp.ID("appr-back")))
	b.waitJS(fmt.Sprintf(`!!document.querySelector('#appr-list li[data-id=%q]')`, id))
	scan("the appraisal list")

	// A reviewer decides it, confirming.
	b.signOut()
	scan("signed out")
	b.signIn(srv.tokens["reviewer"])
	b.do(chromedp.Click(chromedp.ID("tab-appraisals")))
	b.waitJS(fmt.Sprintf(`!!document.querySelector('#appr-list li[data-id=%q]')`, id))
	b.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`#appr-list li[data-id=%q] button`, id))))
	b.waitJS(`!!document.getElementById('appr-decision')`)
	b.do(
		chromedp.Click(chromedp.CSS(`#appr-decision input[value="rejected"]`)),
		chromedp.SetValue(chromedp.CSS(`#appr-decision textarea`), "Chồng lấn đất quốc phòng."),
		chromedp.Click(chromedp.CSS(`#appr-decision button[type=submit]`)),
	)
	b.waitJS(`document.getElementById('confirm-dialog').open`)
	scan("the decision's confirmation")
	b.do(chromedp.Click(chromedp.ID("confirm-ok")))
	b.waitJS(`/Không chấp thuận/.test(document.getElementById('appr-decision-text').textContent)`)
	scan("the decided record")

	// The check is not vacuous: in English the same page shows English.
	b.do(chromedp.Click(chromedp.ID("lang")))
	b.waitJS(`document.documentElement.lang === 'en'`)
	if hits := b.englishShown(); len(hits) < 10 {
		t.Errorf("the English page matched only %d English strings of the catalogue: the scan finds nothing", len(hits))
	}
}

// englishShown lists the English strings (catalogue and the server's words
// the page translates) visible in the page: in its text, in the tooltips,
// labels and placeholders of visible elements, and in the options of
// visible selects.
func (b *browser) englishShown() []string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`(async () => {
		const { englishCatalogue } = await import('./js/i18n.js');
		const { ENGLISH_SAMPLES } = await import('./js/serverwords.js');
		const letters = (s) => (s.match(/\p{L}/gu) || []).length;
		const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
		const fragments = new Set();
		for (const s of englishCatalogue()) {
			for (const f of s.split(/\{\w+\}/)) {
				const x = f.trim().replace(/^[,.:;–—\s]+|[,.:;\s]+$/g, '');
				if (letters(x) >= 3) fragments.add(x);
			}
		}
		const tests = [...fragments].map((f) => [f, new RegExp('(?<![\\p{L}\\p{N}])' + esc(f) + '(?![\\p{L}\\p{N}])', 'u')]);
		for (const f of ENGLISH_SAMPLES) tests.push([f, new RegExp(esc(f), 'u')]);

		const texts = [['text', document.body.innerText], ['title', document.title]];
		for (const e of document.querySelectorAll('*')) {
			if (!e.getClientRects().length) continue;
			for (const a of ['title', 'aria-label', 'placeholder', 'alt']) {
				const v = e.getAttribute(a);
				if (v) texts.push([a + ' of ' + (e.id || e.className || e.tagName), v]);
			}
			if (e.tagName === 'SELECT') {
				for (const o of e.querySelectorAll('option')) texts.push(['option of ' + e.id, o.textContent]);
				for (const g of e.querySelectorAll('optgroup')) texts.push(['group of ' + e.id, g.label]);
			}
		}
		// Upper-cased by CSS: their words as written.
		for (const e of document.querySelectorAll('.vchip, .verdict .word')) texts.push(['verdict', e.textContent]);
		const hits = [];
		for (const [where, text] of texts) {
			for (const [f, re] of tests) {
				const m = re.exec(text);
				if (m) hits.push('"' + f + '" in ' + where + ': …' + text.slice(Math.max(0, m.index - 40), m.index + f.length + 40).replace(/\s+/g, ' ') + '…');
			}
		}
		return hits;
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("scanning for English: %v", err)
	}
	return v
}
