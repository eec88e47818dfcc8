package web_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"
)

// With an online base map configured that cannot be reached (no internet),
// a page load requests none of its tiles: the server's probe told the page,
// which shows the offline base map and says why; the console logs no
// failed request. With one that answers, its tiles are drawn.
func TestBaseMapDecidedOnce(t *testing.T) {
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

	t.Run("offline", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		unreachable := "http://" + l.Addr().String()
		l.Close() // nothing listens there now: every request is refused
		srv := startServer(t, "--basemap-url="+unreachable+"/{z}/{x}/{y}.png")
		b := newBrowser(t, chromium)
		b.do(chromedp.Navigate(srv.url + "/"))
		b.signIn(srv.tokens["viewer"])
		b.waitJS(tilesLoaded)
		b.waitJS(`!document.getElementById('base-note').hidden`)
		if note := evalJS[string](b, `document.getElementById('base-note').textContent`); !strings.Contains(note, "ngoại tuyến") {
			t.Errorf("the base map note reads %q; want it to say the offline base map is used", note)
		}
		if !evalJS[bool](b, `document.getElementById('base-offline').checked`) {
			t.Errorf("the offline base map is not the one chosen")
		}
		asked := evalJS[[]string](b, `performance.getEntriesByType('resource').map(e => e.name).filter(n => n.startsWith(`+jsString(unreachable)+`))`)
		if len(asked) != 0 {
			t.Errorf("the page requested %d tiles of the unreachable base map: %v", len(asked), asked)
		}
		if errs := b.consoleErrors(); len(errs) != 0 {
			t.Errorf("the offline load logged %d failed requests or errors:\n%s", len(errs), strings.Join(errs, "\n"))
		}
		// The offline base map shows Vietnam's archipelagos, named.
		b.do(chromedp.Evaluate[chromedp.Void](`location.hash = 'map=5/13.5/109'`))
		b.waitJS(`(() => { const t = [...document.querySelectorAll('.zp-base-label span')].map(s => s.textContent); return t.includes('Quần đảo Hoàng Sa') && t.includes('Quần đảo Trường Sa'); })()`)
		shots, _ := os.MkdirTemp("", "zoneplan-basemap-")
		b.screenshot(filepath.Join(shots, "offline.png"))
		t.Logf("screenshot in %s", shots)
	})

	t.Run("online", func(t *testing.T) {
		var served atomic.Int64
		tile := pngTile(t)
		tiles := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			served.Add(1)
			w.Header().Set("Content-Type", "image/png")
			w.Header().Set("Access-Control-Allow-Origin", "*")
			_, _ = w.Write(tile)
		}))
		defer tiles.Close()
		srv := startServer(t, "--basemap-url="+tiles.URL+"/{z}/{x}/{y}.png")
		b := newBrowser(t, chromium)
		b.do(chromedp.Navigate(srv.url + "/"))
		b.signIn(srv.tokens["viewer"])
		b.waitJS(`document.getElementById('base-online').checked && document.querySelectorAll('.leaflet-tile-pane img.leaflet-tile-loaded').length > 0`)
		if errs := b.consoleErrors(); len(errs) != 0 {
			t.Errorf("the online load logged errors:\n%s", strings.Join(errs, "\n"))
		}
		t.Logf("the tile server answered %d requests (the server's probe included)", served.Load())
	})
}

// pngTile is a 256 x 256 PNG of one colour.
func pngTile(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 256, 256))
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	img.Set(0, 0, color.RGBA{R: 10, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
