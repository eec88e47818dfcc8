package web_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// An appraiser uses the page on a 390 x 844 phone and on an 820 x 1180
// tablet: nothing scrolls sideways, the header's controls are on screen and
// take a tap (the language button is tapped), and the notices a file upload
// raises leave the map's zoom control free.
func TestPhoneAndTabletLayout(t *testing.T) {
	chromium := requireChromium(t)
	srv := startServer(t)
	conflict, _ := demoSites(t)
	file := filepath.Join(t.TempDir(), "site.geojson")
	writeFile(t, file, conflict.raw)
	shots, err := os.MkdirTemp("", "zoneplan-phone-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)

	for _, size := range []struct {
		name string
		w, h int64
	}{{"phone", 390, 844}, {"tablet", 820, 1180}} {
		t.Run(size.name, func(t *testing.T) {
			b := newBrowser(t, chromium)
			b.do(chromedp.EmulateViewport(size.w, size.h, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait))
			b.do(chromedp.Navigate(srv.url + "/"))
			b.signIn(srv.tokens["appraiser"])
			b.waitJS(tilesLoaded)
			b.checkNoSidewaysScroll(size.name + ", signed in")

			// The language button is on screen and is what a tap at its
			// centre reaches.
			tapLanguage := func(want string) {
				t.Helper()
				xy := evalJS[[]float64](b, `(() => {
					const r = document.getElementById('lang').getBoundingClientRect();
					return [r.left, r.top, r.right, r.bottom, innerWidth, innerHeight];
				})()`)
				if xy[0] < 0 || xy[1] < 0 || xy[2] > xy[4] || xy[3] > xy[5] {
					t.Fatalf("the language button is at %v, outside the %vx%v viewport", xy[:4], xy[4], xy[5])
				}
				x, y := (xy[0]+xy[2])/2, (xy[1]+xy[3])/2
				if hit := evalJS[string](b, fmt.Sprintf(`(() => { const e = document.elementFromPoint(%f, %f); return e ? (e.closest('#lang') ? 'lang' : e.outerHTML.slice(0, 120)) : 'nothing'; })()`, x, y)); hit != "lang" {
					t.Fatalf("a tap on the language button's centre reaches %s", hit)
				}
				b.do(chromedp.MouseClickXY(x, y))
				b.waitJS(fmt.Sprintf(`document.documentElement.lang === %q`, want))
			}
			tapLanguage("en")
			b.checkNoSidewaysScroll(size.name + ", in English")
			tapLanguage("vi")

			// Every tab fits and the check panel's controls too.
			b.do(chromedp.Click(chromedp.ID("tab-check")))
			b.checkNoSidewaysScroll(size.name + ", check panel")
			b.do(chromedp.SetUploadFiles(chromedp.ID("fp-file"), []string{file}))
			b.waitJS(`/phần: vùng/.test(document.getElementById('fp-status').textContent)`)
			b.waitJS(`document.querySelectorAll('#notices .notice').length > 0`)
			// A second notice, an error, stays until dismissed.
			b.do(chromedp.Click(chromedp.CSS("#fp-paste summary")), chromedp.Click(chromedp.ID("fp-table-read")))
			b.waitJS(`document.querySelectorAll('#notices .notice').length > 1`)
			overlaps := evalJS[[]string](b, `(() => {
				const out = [];
				const boxes = [...document.querySelectorAll('.leaflet-control-zoom, .leaflet-control-zoom a')];
				if (!boxes.length) return ['no zoom control on the map'];
				for (const n of document.querySelectorAll('#notices .notice')) {
					const a = n.getBoundingClientRect();
					if (a.left < 0 || a.right > innerWidth) out.push('notice outside the viewport: ' + JSON.stringify(a));
					for (const z of boxes) {
						const b = z.getBoundingClientRect();
						if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) {
							out.push('notice "' + n.innerText.slice(0, 40) + '" ' + JSON.stringify(a) + ' covers ' + z.className + ' ' + JSON.stringify(b));
						}
					}
				}
				return out;
			})()`)
			for _, o := range overlaps {
				t.Errorf("%s: %s", size.name, o)
			}
			// The zoom-in button takes a tap with the notices up.
			zoom := evalJS[float64](b, `(() => { const m = location.hash.match(/map=(\d+)/); return m ? Number(m[1]) : -1; })()`)
			xy := evalJS[[]float64](b, `(() => { const r = document.querySelector('.leaflet-control-zoom-in').getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()`)
			b.do(chromedp.MouseClickXY(xy[0], xy[1]))
			b.waitJS(fmt.Sprintf(`(() => { const m = location.hash.match(/map=(\d+)/); return !!m && Number(m[1]) === %v; })()`, zoom+1))
			b.checkNoSidewaysScroll(size.name + ", with notices")
			b.screenshot(filepath.Join(shots, size.name+".png"))
			b.checkControls(size.name)
		})
	}
}

// checkNoSidewaysScroll fails when the page is wider than the viewport.
func (b *browser) checkNoSidewaysScroll(where string) {
	b.t.Helper()
	wide := evalJS[[]string](b, `(() => {
		const out = [];
		const w = document.documentElement.clientWidth;
		if (document.documentElement.scrollWidth > w) out.push('document scrollWidth ' + document.documentElement.scrollWidth + ' > ' + w);
		for (const e of document.querySelectorAll('header *, .sidebar *, dialog *')) {
			const r = e.getBoundingClientRect();
			if (r.width && r.right > w + 0.5 && e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden') {
				const box = e.closest('.panel, .tabs');
				if (box && box.scrollWidth <= box.clientWidth && r.right > box.getBoundingClientRect().right + 0.5) out.push((e.id || e.className || e.tagName) + ' ends at ' + r.right.toFixed(0));
				else if (!box) out.push((e.id || e.className || e.tagName) + ' ends at ' + r.right.toFixed(0));
			}
		}
		return out.slice(0, 8);
	})()`)
	if len(wide) > 0 {
		b.t.Errorf("%s: wider than the viewport:\n%s", where, strings.Join(wide, "\n"))
	}
}
