package httpapi_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// Items pages are gzipped for a client that accepts gzip and plain for one
// that does not, with the same features; coordinates go out to 7 decimals
// (crs84Decimals) while the store keeps every digit.
func TestOGCItemsGzippedAndRounded(t *testing.T) {
	ts := newTestServer(t, false)
	editor := ts.token(t, zone.RoleEditor, zone.Secret)
	viewer := ts.token(t, zone.RoleViewer, zone.Secret)
	items := ts.URL + "/ogc/collections/defence_works/items"
	const lon, lat = 106.123456789012, 21.987654321098
	feature := strings.Replace(depotFeature, "[106.76,21.85]", "[106.123456789012,21.987654321098]", 1)
	status, h, body := do(t, http.MethodPost, items, editor, map[string]string{"Content-Type": "application/geo+json"}, feature)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	loc := h.Get("Location")
	seedScale(t, ts.Store, 400, 0)
	ts.sync(t)

	page := items + "?limit=1000&bbox=102,8,110,24"
	_, plainH, plain := do(t, http.MethodGet, page, viewer, map[string]string{"Accept-Encoding": "identity"}, "")
	_, gzH, gz := do(t, http.MethodGet, page, viewer, map[string]string{"Accept-Encoding": "br, gzip;q=0.8"}, "")
	if plainH.Get("Content-Encoding") != "" || gzH.Get("Content-Encoding") != "gzip" || !strings.Contains(gzH.Get("Vary"), "Accept-Encoding") {
		t.Fatalf("Content-Encoding plain %q, gzip %q; Vary %q", plainH.Get("Content-Encoding"), gzH.Get("Content-Encoding"), gzH.Get("Vary"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	// The same features (the members after them carry a time stamp).
	features := func(b []byte) []byte { return b[:bytes.LastIndex(b, []byte("\n]"))] }
	if len(plain) < 100_000 || !bytes.Equal(features(unzipped), features(plain)) {
		t.Fatalf("gzipped page (%d bytes, %d unzipped) differs from the plain one (%d bytes)", len(gz), len(unzipped), len(plain))
	}
	if len(gz)*3 > len(plain) {
		t.Fatalf("gzipped page %d bytes, plain %d: less than a third saved", len(gz), len(plain))
	}
	if _, _, refused := do(t, http.MethodGet, page, viewer, map[string]string{"Accept-Encoding": "gzip;q=0"}, ""); !bytes.HasPrefix(refused, []byte(`{"type":"FeatureCollection"`)) {
		t.Fatalf("gzip;q=0 got a gzipped page")
	}

	// Page and item: 7 decimals.
	_, _, item := do(t, http.MethodGet, loc, viewer, map[string]string{"Accept-Encoding": "identity"}, "")
	for what, b := range map[string][]byte{"page": plain, "item": item} {
		if !bytes.Contains(b, []byte("[106.1234568,21.9876543]")) || bytes.Contains(b, []byte("106.12345678")) {
			t.Fatalf("%s: coordinates not rounded to 7 decimals: %.300s", what, b[bytes.Index(b, []byte("106.12")):])
		}
	}
	// The store and the index keep them whole.
	box := orb.Bound{Min: orb.Point{106.12, 21.98}, Max: orb.Point{106.13, 21.99}}
	var got []orb.Geometry
	if err := ts.Store.ListComponents(context.Background(), zone.Query{Layers: []string{zone.LayerDefenceWorks}, Bound: &box, Clearance: zone.Secret},
		func(c *zone.Component) error { got = append(got, c.Geometry); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != (orb.Point{lon, lat}) {
		t.Fatalf("stored geometry %v, want the point as given", got)
	}
	_, _, again := do(t, http.MethodGet, page, viewer, map[string]string{"Accept-Encoding": "identity"}, "")
	if !bytes.Equal(features(again), features(plain)) {
		t.Fatalf("a second page differs from the first")
	}
}
