package basemap

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// The tile ids of the PMTiles spec, as the reference JavaScript library
// (npm pmtiles 4.5.0, zxyToTileId) computes them.
func TestZXYToTileID(t *testing.T) {
	for _, c := range []struct {
		z    uint8
		x, y uint32
		want uint64
	}{
		{0, 0, 0, 0}, {1, 0, 0, 1}, {1, 0, 1, 2}, {1, 1, 1, 3}, {1, 1, 0, 4}, {2, 0, 0, 5},
		{8, 204, 114, 74929}, {12, 3423, 1763, 19078479},
	} {
		if got := ZXYToTileID(c.z, c.x, c.y); got != c.want {
			t.Errorf("ZXYToTileID(%d, %d, %d) = %d, want %d", c.z, c.x, c.y, got, c.want)
		}
	}
}

// An archive of every tile of zooms 0-4 and a few of zoom 9 (each tile's
// bytes name it) reads back tile by tile; tiles it lacks are absent.
func TestPMTilesRoundTrip(t *testing.T) {
	var tiles []TileData
	for z := uint8(0); z <= 4; z++ {
		for x := uint32(0); x < 1<<z; x++ {
			for y := uint32(0); y < 1<<z; y++ {
				tiles = append(tiles, TileData{z, x, y, []byte(fmt.Sprintf("tile %d/%d/%d", z, x, y))})
			}
		}
	}
	// Vietnam at zoom 9, with two equal tiles (stored twice: no dedupe).
	for _, xy := range [][2]uint32{{406, 227}, {407, 227}, {406, 228}} {
		tiles = append(tiles, TileData{9, xy[0], xy[1], []byte(fmt.Sprintf("tile 9/%d/%d", xy[0], xy[1]))})
	}
	path := filepath.Join(t.TempDir(), "t.pmtiles")
	var buf bytes.Buffer
	if err := WritePMTiles(&buf, tiles, TilePNG, compressNone, [4]float64{102.1, 8.3, 109.6, 23.4}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := OpenPMTiles(path)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	h := p.Header()
	if h.MinZoom != 0 || h.MaxZoom != 9 || h.TileType != TilePNG || h.Bounds != [4]float64{102.1, 8.3, 109.6, 23.4} {
		t.Errorf("header %+v", h)
	}
	for _, tl := range tiles {
		got, err := p.Tile(tl.Z, tl.X, tl.Y)
		if err != nil || string(got) != string(tl.Data) {
			t.Errorf("tile %d/%d/%d: %q, %v; want %q", tl.Z, tl.X, tl.Y, got, err, tl.Data)
		}
	}
	for _, miss := range [][3]uint32{{9, 0, 0}, {9, 408, 227}, {5, 0, 0}, {10, 812, 454}, {4, 16, 0}} {
		if got, err := p.Tile(uint8(miss[0]), miss[1], miss[2]); got != nil || err != nil {
			t.Errorf("tile %v: %q, %v; want none", miss, got, err)
		}
	}
}

func TestOpenRejects(t *testing.T) {
	dir := t.TempDir()
	notPM := filepath.Join(dir, "a.mbtiles")
	_ = os.WriteFile(notPM, []byte("SQLite format 3\x00"+string(make([]byte, 200))), 0o644)
	if _, err := OpenArchive(notPM); err == nil || !bytes.Contains([]byte(err.Error()), []byte("not a PMTiles archive")) {
		t.Errorf("an MBTiles file: %v; want it named not a PMTiles archive", err)
	}
	if _, err := OpenArchive(filepath.Join(dir, "missing.pmtiles")); err == nil {
		t.Errorf("a missing file opened")
	}
}

// The archive's handler serves a vector tile gzipped as stored, with its
// type; 204 where there is none; 400 for an address that is not a tile.
func TestArchiveServes(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte("mvt bytes"))
	_ = zw.Close()
	path := filepath.Join(t.TempDir(), "v.pmtiles")
	var buf bytes.Buffer
	if err := WritePMTiles(&buf, []TileData{{5, 25, 14, gz.Bytes()}}, TileMVT, compressGzip, [4]float64{100, 5, 112, 25}); err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(path, buf.Bytes(), 0o644)
	a, err := OpenArchive(path)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if info := a.Info(); info.Kind != "vector" || info.Format != "mvt" || info.URL != "api/basemap/tiles/{z}/{x}/{y}" || info.MinZoom != 5 {
		t.Errorf("info %+v", info)
	}
	srv := httptest.NewServer(a)
	defer srv.Close()
	res, err := http.Get(srv.URL + TilesPath + "5/25/14")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body) // the client undoes the gzip
	res.Body.Close()
	if res.StatusCode != 200 || string(body) != "mvt bytes" || res.Header.Get("Content-Type") != "application/vnd.mapbox-vector-tile" {
		t.Errorf("5/25/14: %s %q %s", res.Status, body, res.Header.Get("Content-Type"))
	}
	for path, want := range map[string]int{"5/25/15": 204, "5/32/1": 400, "a/b/c": 400, "5/25": 400} {
		res, err := http.Get(srv.URL + TilesPath + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, res.StatusCode, want)
		}
	}
}
