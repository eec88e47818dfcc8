package web_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/maptile"

	"github.com/zoneplan/zoneplan/internal/basemap"
)

// With an online base map configured that cannot be reached (no internet),
// a page load requests none of its tiles: the server's probe told the page,
// which shows the offline base map and says why; the console logs no
// failed request. With one that answers, its tiles are drawn.
func TestBaseMapDecidedOnce(t *testing.T) {
	chromium := requireChromium(t)

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
		shots, _ := os.MkdirTemp("", "zoneplan-basemap-")
		b.do(chromedp.Evaluate[chromedp.Void](`location.hash = 'map=5/13.5/109'`))
		b.waitJS(`(() => { const t = [...document.querySelectorAll('.zp-base-label span')].map(s => s.textContent); return t.includes('Quần đảo Hoàng Sa') && t.includes('Quần đảo Trường Sa'); })()`)
		// From zoom 6 the provincial centres are named (the 34 of 2025).
		b.do(chromedp.Evaluate[chromedp.Void](`location.hash = 'map=7/21.5/105.5'`))
		b.waitJS(`(() => { const t = [...document.querySelectorAll('.zp-place-label span')].map(s => s.textContent); return t.includes('Lạng Sơn') && t.includes('Tuyên Quang') && !t.includes('Hà Giang'); })()`)
		if n := evalJS[int](b, `document.querySelectorAll('.zp-place-label').length`); n != 34 {
			t.Errorf("%d provincial centres named, want 34", n)
		}
		b.screenshot(filepath.Join(shots, "offline-z7.png"))
		b.screenshot(filepath.Join(shots, "offline.png"))
		t.Logf("screenshots in %s", shots)
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

// serve --basemap-file: a PMTiles archive the test builds itself is the
// page's base map, raster (PNG tiles) or vector (MVT, drawn with a plain
// style), fetched from this server only.
func TestBaseMapArchive(t *testing.T) {
	chromium := requireChromium(t)
	dir := t.TempDir()
	vietnam := [4]float64{102.1, 8.3, 109.6, 23.4}

	// Raster: every tile of zooms 0-6 over Vietnam, one PNG.
	png := pngTile(t)
	var raster []basemap.TileData
	for z := uint8(0); z <= 6; z++ {
		x0, y0 := tileOf(vietnam[0], vietnam[3], z)
		x1, y1 := tileOf(vietnam[2], vietnam[1], z)
		for x := x0; x <= x1; x++ {
			for y := y0; y <= y1; y++ {
				raster = append(raster, basemap.TileData{Z: z, X: x, Y: y, Data: png})
			}
		}
	}
	rasterFile := filepath.Join(dir, "raster.pmtiles")
	writeArchive(t, rasterFile, raster, basemap.TilePNG, 1, vietnam)

	// Vector: a "water" square in the middle of each zoom-5 tile over Vietnam.
	var vector []basemap.TileData
	x0, y0 := tileOf(vietnam[0], vietnam[3], 5)
	x1, y1 := tileOf(vietnam[2], vietnam[1], 5)
	for x := x0; x <= x1; x++ {
		for y := y0; y <= y1; y++ {
			vector = append(vector, basemap.TileData{Z: 5, X: x, Y: y, Data: waterTile(t, 5, x, y)})
		}
	}
	vectorFile := filepath.Join(dir, "vector.pmtiles")
	writeArchive(t, vectorFile, vector, basemap.TileMVT, 2, vietnam)

	for _, c := range []struct {
		name, file, drawn string
	}{
		{"raster", rasterFile, `document.querySelectorAll('.leaflet-tile-pane img.leaflet-tile-loaded[src*="api/basemap/tiles/"]').length`},
		{"vector", vectorFile, `document.querySelectorAll('.leaflet-tile-pane svg path').length`},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := startServer(t, "--basemap-file="+c.file)
			b := newBrowser(t, chromium)
			b.do(chromedp.Navigate(srv.url + "/#map=5/16/106"))
			b.signIn(srv.tokens["viewer"])
			b.waitJS(`document.getElementById('base-archive').checked && !document.getElementById('base-archive-row').hidden`)
			b.waitJS(c.drawn + ` > 0`)
			asked := evalJS[[]string](b, `performance.getEntriesByType('resource').map(e => e.name).filter(n => n.includes('/api/basemap/tiles/'))`)
			if len(asked) == 0 {
				t.Errorf("no tile of the archive was requested")
			}
			if errs := b.consoleErrors(); len(errs) != 0 {
				t.Errorf("the page logged errors:\n%s", strings.Join(errs, "\n"))
			}
			shots, _ := os.MkdirTemp("", "zoneplan-archive-")
			b.screenshot(filepath.Join(shots, c.name+".png"))
			t.Logf("%d tiles of the archive requested; %s drawn; screenshot in %s", len(asked), c.name, shots)
			// Choosing the offline outlines takes the archive off the map.
			b.do(chromedp.Click(chromedp.ID("base-offline")))
			b.waitJS(c.drawn + ` === 0`)
		})
	}
}

// tileOf is the web-mercator tile holding lon, lat at zoom z.
func tileOf(lon, lat float64, z uint8) (x, y uint32) {
	n := math.Exp2(float64(z))
	x = uint32((lon + 180) / 360 * n)
	r := lat * math.Pi / 180
	y = uint32((1 - math.Log(math.Tan(r)+1/math.Cos(r))/math.Pi) / 2 * n)
	return x, y
}

func writeArchive(t *testing.T, path string, tiles []basemap.TileData, typ basemap.TileType, compression uint8, bounds [4]float64) {
	t.Helper()
	var buf bytes.Buffer
	if err := basemap.WritePMTiles(&buf, tiles, typ, compression, bounds); err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, buf.Bytes())
}

// waterTile is a gzipped MVT tile z/x/y with one layer "water" holding a
// square in the tile's middle half.
func waterTile(t *testing.T, z uint8, x, y uint32) []byte {
	t.Helper()
	tile := maptile.New(x, y, maptile.Zoom(z))
	b := tile.Bound()
	dx, dy := (b.Max[0]-b.Min[0])/4, (b.Max[1]-b.Min[1])/4
	sq := orb.Polygon{{{b.Min[0] + dx, b.Min[1] + dy}, {b.Max[0] - dx, b.Min[1] + dy}, {b.Max[0] - dx, b.Max[1] - dy}, {b.Min[0] + dx, b.Max[1] - dy}, {b.Min[0] + dx, b.Min[1] + dy}}}
	fc := geojson.NewFeatureCollection()
	fc.Append(geojson.NewFeature(sq))
	layers := mvt.NewLayers(map[string]*geojson.FeatureCollection{"water": fc})
	layers.ProjectToTile(tile)
	data, err := mvt.MarshalGzipped(layers)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
