package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// Every mixed layer is also offered as one collection per geometry type,
// for clients that type a collection by its first features (QGIS): listed
// with their own counts that add up to the layer's, items of that type
// only (a feature of another type is not found there), queryables that
// say the type, tiles holding only that type, and no writes (405).
func TestOGCLayerParts(t *testing.T) {
	ts := newTestServer(t, false)
	all := seedScale(t, ts.Store, 3000, 300)
	ts.sync(t)
	clearance := zone.Restricted
	tok := ts.token(t, zone.RoleViewer, clearance)
	editor := ts.token(t, zone.RoleEditor, zone.Secret)

	status, _, body := get(t, ts.URL+"/ogc/collections", tok)
	var list struct {
		Collections []struct {
			ID string `json:"id"`
			N  int    `json:"numberOfFeatures"`
		} `json:"collections"`
	}
	if err := json.Unmarshal(body, &list); status != http.StatusOK || err != nil {
		t.Fatalf("collections: %d %v", status, err)
	}
	counts := map[string]int{}
	for _, c := range list.Collections {
		counts[c.ID] = c.N
	}
	if len(zone.LayerParts()) == 0 {
		t.Fatal("no layer parts")
	}
	sums := map[string]int{}
	for _, p := range zone.LayerParts() {
		n, ok := counts[p.ID]
		if !ok {
			t.Fatalf("/ogc/collections does not list %s", p.ID)
		}
		want := expected(all, func(c *zone.Component) bool {
			return c.Layer == p.Layer.ID && clearance.Allows(c.Classification) && p.Holds(c)
		})
		if n != len(want) {
			t.Errorf("%s: numberOfFeatures %d, the store holds %d", p.ID, n, len(want))
		}
		sums[p.Layer.ID] += n
	}
	for layer, sum := range sums {
		if sum != counts[layer] || sum == 0 {
			t.Errorf("the parts of %s count %d, the layer %d", layer, sum, counts[layer])
		}
	}

	part, _ := zone.LookupLayerPart(zone.LayerDefenceWorks + "_areas")
	status, _, body = get(t, ts.URL+"/ogc/collections/"+part.ID+"/items?limit=10000", tok)
	var fc struct {
		Matched  int `json:"numberMatched"`
		Features []struct {
			ID       string `json:"id"`
			Geometry struct {
				Type string `json:"type"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(body, &fc); status != http.StatusOK || err != nil {
		t.Fatalf("items of %s: %d %v", part.ID, status, err)
	}
	if fc.Matched != counts[part.ID] || len(fc.Features) != fc.Matched {
		t.Fatalf("items of %s: %d matched, %d returned, collection says %d", part.ID, fc.Matched, len(fc.Features), counts[part.ID])
	}
	for _, f := range fc.Features {
		if f.Geometry.Type != "Polygon" && f.Geometry.Type != "MultiPolygon" {
			t.Fatalf("%s holds a %s", part.ID, f.Geometry.Type)
		}
	}
	var point *zone.Component
	for _, c := range all {
		if c.Layer == zone.LayerDefenceWorks && clearance.Allows(c.Classification) && zone.ClassOf(c.Geometry) == zone.GeomPoint {
			point = c
			break
		}
	}
	if status, _, _ := get(t, ts.URL+"/ogc/collections/"+part.ID+"/items/"+point.ID.String(), tok); status != http.StatusNotFound {
		t.Errorf("a point read through %s: %d, want 404", part.ID, status)
	}
	if status, _, _ := get(t, ts.URL+"/ogc/collections/"+zone.LayerDefenceWorks+"_points/items/"+point.ID.String(), tok); status != http.StatusOK {
		t.Errorf("a point read through its points part: %d", status)
	}

	_, _, body = get(t, ts.URL+"/ogc/collections/"+part.ID+"/queryables", tok)
	if !strings.Contains(string(body), `"geometry-polygon-or-multi"`) {
		t.Errorf("queryables of %s do not say polygons: %.300s", part.ID, body)
	}

	status, h, _ := do(t, http.MethodPost, ts.URL+"/ogc/collections/"+part.ID+"/items", editor, map[string]string{"Content-Type": "application/geo+json"},
		`{"type":"Feature","geometry":{"type":"Point","coordinates":[105,21]},"properties":{"name":"x"}}`)
	if status != http.StatusMethodNotAllowed || h.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST to %s: %d, Allow %q; want 405, GET, HEAD", part.ID, status, h.Get("Allow"))
	}

	// A tile of the part holds its polygons, and only those.
	var poly *zone.Component
	for _, c := range all {
		if c.Layer == zone.LayerDefenceWorks && clearance.Allows(c.Classification) && part.Holds(c) {
			poly = c
			break
		}
	}
	tl := maptile.At(poly.Geometry.Bound().Center(), 12)
	resp, b := request(t, tileURL(ts.URL, part.ID, tl), "Authorization", "Bearer "+tok)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("tile of %s: %d", part.ID, resp.StatusCode)
	}
	layers := decodeTile(t, b)
	l := layers[part.ID]
	if l == nil || len(layers) != 1 || len(l.Features) == 0 {
		t.Fatalf("tile of %s holds layers %v", part.ID, layers)
	}
	for _, f := range l.Features {
		if _, ok := f.Geometry.(orb.Polygon); !ok {
			if _, ok := f.Geometry.(orb.MultiPolygon); !ok {
				t.Fatalf("tile of %s holds a %s", part.ID, f.Geometry.GeoJSONType())
			}
		}
	}
}
