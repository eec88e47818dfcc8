package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// tileFixture puts three components around one spot: a public commune HQ
// with a provisional zone, a secret depot polygon, and a project site.
type tileFixture struct {
	ts              *testServer
	hq, depot, site *zone.Component
	z14, z12        maptile.Tile
	centre          orb.Point
}

func newTileFixture(t *testing.T, publicRead bool) *tileFixture {
	t.Helper()
	ts := newTestServer(t, publicRead)
	ctx := context.Background()
	z14 := maptile.At(orb.Point{106.7619, 21.8537}, 14)
	c := z14.Center()
	create := func(comp *zone.Component) *zone.Component {
		t.Helper()
		comp.Synthetic = true
		out, err := ts.Store.CreateComponent(ctx, comp, "test")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	f := &tileFixture{ts: ts, z14: z14, z12: maptile.At(c, 12), centre: c}
	f.hq = create(&zone.Component{Layer: zone.LayerCommuneHQs, Kind: "commune_hq", Name: "Trụ sở BCHQS xã Tân Thanh", Code: "HQ-1",
		Classification: zone.Public, Geometry: c, Zones: []zone.ProtectionZone{{Kind: zone.ProtectedArea, WidthM: 100}}})
	d := 0.002
	f.depot = create(&zone.Component{Layer: zone.LayerDefenceWorks, Kind: zone.KindDepot, Name: "Kho đạn K3", Code: "K3",
		Group: zone.GroupI, FunctionType: zone.FunctionC, Classification: zone.Secret,
		Geometry: orb.Polygon{{{c[0] + d, c[1]}, {c[0] + 2*d, c[1]}, {c[0] + 2*d, c[1] + d}, {c[0] + d, c[1] + d}, {c[0] + d, c[1]}}}})
	f.site = create(&zone.Component{Layer: zone.LayerProjectSites, Kind: "factory", Name: "Nhà máy gạch", Classification: zone.Public,
		Geometry: orb.Point{c[0] - d, c[1] - d}, Properties: map[string]any{zone.PropVerdict: "review", zone.PropStatus: "pending"}})
	ts.sync(t)
	return f
}

func tileURL(base, layer string, tl maptile.Tile) string {
	return fmt.Sprintf("%s/tiles/%s/%d/%d/%d.mvt", base, layer, tl.Z, tl.X, tl.Y)
}

// request sends a GET with the given headers, without Go's transparent
// gzip, and returns the response with its body read.
func request(t *testing.T, url string, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

func decodeTile(t *testing.T, b []byte) map[string]*mvt.Layer {
	t.Helper()
	ls, err := mvt.Unmarshal(b)
	if err != nil {
		t.Fatalf("not an MVT tile: %v", err)
	}
	out := map[string]*mvt.Layer{}
	for _, l := range ls {
		out[l.Name] = l
	}
	return out
}

func namesIn(l *mvt.Layer) []string {
	var out []string
	if l != nil {
		for _, f := range l.Features {
			out = append(out, fmt.Sprint(f.Properties["name"]))
		}
	}
	return out
}

func TestTilesClearanceAndAttributes(t *testing.T) {
	f := newTileFixture(t, true)
	secret := f.ts.token(t, zone.RoleViewer, zone.Secret)
	restricted := f.ts.token(t, zone.RoleViewer, zone.Restricted)
	for _, c := range []struct {
		who        string
		token      string
		seesSecret bool
	}{{"secret", secret, true}, {"restricted", restricted, false}, {"anonymous", "", false}} {
		for round := 0; round < 2; round++ { // the second round is served from the cache
			hdr := []string{}
			if c.token != "" {
				hdr = []string{"Authorization", "Bearer " + c.token}
			}
			resp, body := request(t, tileURL(f.ts.URL, "all", f.z14), hdr...)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/vnd.mapbox-vector-tile" {
				t.Fatalf("%s: %d %s %s", c.who, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			layers := decodeTile(t, body)
			if got := namesIn(layers[zone.LayerDefenceWorks]); (len(got) == 1) != c.seesSecret {
				t.Errorf("%s: defence_works holds %v", c.who, got)
			}
			if bytes.Contains(body, []byte("K3")) != c.seesSecret {
				t.Errorf("%s: the secret depot's code in the tile bytes: %v", c.who, !c.seesSecret)
			}
			hq := layers[zone.LayerCommuneHQs]
			if hq == nil || len(hq.Features) != 1 || hq.Features[0].Properties["id"] != f.hq.ID.String() || hq.Features[0].Properties["code"] != "HQ-1" {
				t.Fatalf("%s: commune_hqs %v", c.who, hq)
			}
			site := layers[zone.LayerProjectSites]
			if site == nil || site.Features[0].Properties["verdict"] != "review" || site.Features[0].Properties["status"] != "pending" {
				t.Fatalf("%s: project_sites %v", c.who, site)
			}
			zl := layers["protection_zones"]
			if zl == nil || len(zl.Features) != 1 || zl.Features[0].Properties["component_id"] != f.hq.ID.String() || zl.Features[0].Properties["approved"] != false {
				t.Fatalf("%s: protection_zones %v", c.who, zl)
			}
		}
	}
}

func TestTilesETagGzipAndEdit(t *testing.T) {
	f := newTileFixture(t, false)
	tok := f.ts.token(t, zone.RoleViewer, zone.Public)
	auth := []string{"Authorization", "Bearer " + tok}
	url := tileURL(f.ts.URL, zone.LayerCommuneHQs, f.z12)

	resp, plain := request(t, url, auth...)
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusOK || etag == "" || resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("plain: %d etag %q encoding %q", resp.StatusCode, etag, resp.Header.Get("Content-Encoding"))
	}
	resp, gz := request(t, url, append(auth, "Accept-Encoding", "gzip")...)
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("ETag") != etag || !strings.Contains(resp.Header.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("gzip: encoding %q etag %q vary %q", resp.Header.Get("Content-Encoding"), resp.Header.Get("ETag"), resp.Header.Get("Vary"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, _ := io.ReadAll(zr)
	if !bytes.Equal(unzipped, plain) {
		t.Fatalf("gzipped tile differs from the plain one")
	}
	resp, body := request(t, url, append(auth, "If-None-Match", etag)...)
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Fatalf("If-None-Match with the current ETag: %d (%d bytes)", resp.StatusCode, len(body))
	}
	// HEAD (GDAL's /vsicurl/ asks it first): the GET's headers, no body,
	// on both tile paths; no token, no tile.
	ogcURL := fmt.Sprintf("%s/ogc/collections/%s/tiles/WebMercatorQuad/%d/%d/%d", f.ts.URL, zone.LayerCommuneHQs, f.z12.Z, f.z12.Y, f.z12.X)
	for _, u := range []string{url, ogcURL} {
		for _, token := range []string{tok, ""} {
			req, _ := http.NewRequest(http.MethodHead, u, nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			head, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			head.Body.Close()
			switch {
			case token == "" && head.StatusCode != http.StatusUnauthorized:
				t.Fatalf("HEAD %s without a token: %d", u, head.StatusCode)
			case token != "" && (head.StatusCode != http.StatusOK || head.ContentLength != int64(len(plain)) || head.Header.Get("ETag") != etag):
				t.Fatalf("HEAD %s: %d, length %d (GET %d), etag %q (GET %q)", u, head.StatusCode, head.ContentLength, len(plain), head.Header.Get("ETag"), etag)
			}
		}
	}

	// An edit through the store shows on the next request.
	hq := f.hq.Clone()
	hq.Name = "Trụ sở mới"
	if _, err := f.ts.Store.UpdateComponent(context.Background(), hq, f.hq.Version, zone.Secret, "test"); err != nil {
		t.Fatal(err)
	}
	f.ts.sync(t)
	resp, body = request(t, url, append(auth, "If-None-Match", etag)...)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("ETag") == etag {
		t.Fatalf("after an edit: %d, etag %q (was %q)", resp.StatusCode, resp.Header.Get("ETag"), etag)
	}
	if got := namesIn(decodeTile(t, body)[zone.LayerCommuneHQs]); len(got) != 1 || got[0] != "Trụ sở mới" {
		t.Fatalf("after an edit the tile shows %v", got)
	}
	// The OGC API - Tiles path serves the same tile (z/y/x order).
	resp, ogc := request(t, fmt.Sprintf("%s/ogc/collections/%s/tiles/WebMercatorQuad/%d/%d/%d", f.ts.URL, zone.LayerCommuneHQs, f.z12.Z, f.z12.Y, f.z12.X), auth...)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(ogc, body) {
		t.Fatalf("OGC tile: %d, same bytes %v", resp.StatusCode, bytes.Equal(ogc, body))
	}
}

func TestTilesBadInput(t *testing.T) {
	f := newTileFixture(t, false)
	tok := f.ts.token(t, zone.RoleViewer, zone.Public)
	for _, path := range []string{
		"/tiles/all/23/0/0.mvt", "/tiles/all/1/2/0.mvt", "/tiles/all/1/0/2.mvt", "/tiles/all/-1/0/0.mvt",
		"/tiles/all/x/0/0.mvt", "/tiles/commune_hqs/3/0/99999999999.mvt", "/tiles/all/0/1/0.mvt",
		"/ogc/collections/commune_hqs/tiles/WebMercatorQuad/2/4/0",
	} {
		status, h, body := get(t, f.ts.URL+path, tok)
		mustProblem(t, status, h, body, http.StatusBadRequest)
	}
	for _, path := range []string{"/tiles/nope/1/0/0.mvt", "/tiles/nope.json", "/ogc/collections/all/tiles/WebMercatorQuad/0/0/0"} {
		status, h, body := get(t, f.ts.URL+path, tok)
		mustProblem(t, status, h, body, http.StatusNotFound)
	}
	status, h, body := get(t, tileURL(f.ts.URL, "all", f.z14), "")
	mustProblem(t, status, h, body, http.StatusUnauthorized)
	// The server is unharmed.
	if status, _, body := get(t, tileURL(f.ts.URL, "all", f.z14), tok); status != http.StatusOK || len(body) == 0 {
		t.Fatalf("a good tile after bad ones: %d", status)
	}
}

func TestTileJSONAndOGCTileset(t *testing.T) {
	f := newTileFixture(t, false)
	tok := f.ts.token(t, zone.RoleViewer, zone.Public)
	status, _, body := get(t, f.ts.URL+"/tiles/all.json", tok)
	var tj struct {
		TileJSON     string   `json:"tilejson"`
		Tiles        []string `json:"tiles"`
		MinZoom      int      `json:"minzoom"`
		MaxZoom      int      `json:"maxzoom"`
		VectorLayers []struct {
			ID string `json:"id"`
		} `json:"vector_layers"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &tj) != nil {
		t.Fatalf("%d %s", status, body)
	}
	if tj.TileJSON != "3.0.0" || len(tj.Tiles) != 1 || tj.Tiles[0] != f.ts.URL+"/tiles/all/{z}/{x}/{y}.mvt" || tj.MaxZoom != 22 {
		t.Fatalf("TileJSON %+v", tj)
	}
	if n := len(tj.VectorLayers); n != len(zone.Layers())+2 || tj.VectorLayers[n-2].ID != "omitted" || tj.VectorLayers[n-1].ID != "protection_zones" {
		t.Fatalf("vector_layers %+v", tj.VectorLayers)
	}
	status, _, body = get(t, f.ts.URL+"/ogc/collections/commune_hqs/tiles/WebMercatorQuad", tok)
	if status != http.StatusOK || !strings.Contains(string(body), `/ogc/collections/commune_hqs/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}`) {
		t.Fatalf("tileset: %d %s", status, body)
	}
	for _, p := range []string{"/ogc/collections/commune_hqs/tiles", "/ogc/tileMatrixSets", "/ogc/tileMatrixSets/WebMercatorQuad"} {
		if status, _, body := get(t, f.ts.URL+p, tok); status != http.StatusOK {
			t.Fatalf("%s: %d %s", p, status, body)
		}
	}
}

// TestGDALReadsTile: GDAL's MVT driver, a real client, reads a served tile
// with the expected layers, features and attributes.
func TestGDALReadsTile(t *testing.T) {
	ogrinfo, err := exec.LookPath("ogrinfo")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("ogrinfo (gdal-bin) is missing; CI must have it")
		}
		t.Skip("ogrinfo (gdal-bin) not installed; skipping the GDAL client test")
	}
	f := newTileFixture(t, false)
	tok := f.ts.token(t, zone.RoleViewer, zone.Secret)
	status, _, body := get(t, tileURL(f.ts.URL, "all", f.z14), tok)
	if status != http.StatusOK {
		t.Fatalf("%d", status)
	}
	// GDAL takes the tile's z/x/y from a {z}/{x}/{y}.pbf path.
	dir := filepath.Join(t.TempDir(), fmt.Sprint(f.z14.Z), fmt.Sprint(f.z14.X))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, fmt.Sprintf("%d.pbf", f.z14.Y))
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(ogrinfo, "-ro", "-al", "-oo", "CLIP=NO", file).CombinedOutput()
	if err != nil {
		t.Fatalf("ogrinfo: %v\n%s", err, out)
	}
	text := string(out)
	for _, want := range []string{
		"Layer name: commune_hqs", "Layer name: defence_works", "Layer name: project_sites", "Layer name: protection_zones",
		"name (String) = Trụ sở BCHQS xã Tân Thanh", "code (String) = K3", "verdict (String) = review",
		"id (String) = " + f.depot.ID.String(), "kind (String) = protected_area",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("ogrinfo output lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("ogrinfo output:\n%s", text)
	}
	// The commune HQ lands where it should: GDAL georeferences the tile in
	// EPSG:3857; one tile unit at z14 is about 0.6 m.
	section := text[strings.Index(text, "OGRFeature(commune_hqs)"):]
	var x, y float64
	if _, err := fmt.Sscanf(section[strings.Index(section, "POINT ("):], "POINT (%g %g)", &x, &y); err != nil {
		t.Fatalf("no point for the commune HQ: %v", err)
	}
	const r = 6378137.0
	wantX := r * f.centre[0] * math.Pi / 180
	wantY := r * math.Log(math.Tan(math.Pi/4+f.centre[1]*math.Pi/360))
	if math.Abs(x-wantX) > 1 || math.Abs(y-wantY) > 1 {
		t.Errorf("GDAL puts the commune HQ at %.1f %.1f, want %.1f %.1f (±1 m)", x, y, wantX, wantY)
	}
}
