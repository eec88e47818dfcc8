package httpapi_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/internal/crs"
	"github.com/zoneplan/zoneplan/internal/zone"
)

const (
	uri9215 = "http://www.opengis.net/def/crs/EPSG/0/9215"
	uri4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
)

// ogcFeatures fetches a FeatureCollection (or one Feature) and its Content-Crs.
func ogcFeatures(t *testing.T, u, token string) (*geojson.FeatureCollection, string) {
	t.Helper()
	status, h, body := get(t, u, token)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", u, status, body)
	}
	if strings.Contains(u, "/items/") {
		f, err := geojson.UnmarshalFeature(body)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		fc := geojson.NewFeatureCollection()
		fc.Append(f)
		return fc, h.Get("Content-Crs")
	}
	fc, err := geojson.UnmarshalFeatureCollection(body)
	if err != nil {
		t.Fatalf("%s: %v", u, err)
	}
	return fc, h.Get("Content-Crs")
}

// points lists every vertex of a geometry in order.
func points(g orb.Geometry) []orb.Point {
	var out []orb.Point
	switch g := g.(type) {
	case orb.Point:
		out = append(out, g)
	case orb.MultiPoint:
		out = append(out, g...)
	case orb.LineString:
		out = append(out, g...)
	case orb.MultiLineString:
		for _, l := range g {
			out = append(out, l...)
		}
	case orb.Polygon:
		for _, r := range g {
			out = append(out, r...)
		}
	case orb.MultiPolygon:
		for _, p := range g {
			out = append(out, points(p)...)
		}
	}
	return out
}

// TestOGCCRS: OGC API - Features Part 2 on a small Lang Son scene: the crs
// list, crs and Content-Crs on items and single items (EPSG:4326 latitude
// first), bbox-crs in TM-3 metres and in EPSG:4326, and the swapped-axis
// and wrong-unit boxes refused.
func TestOGCCRS(t *testing.T) {
	ts := newTestServer(t, false)
	near, _, _ := parcelScene(t, ts)
	var site map[string]any
	json.Unmarshal(fixture(t, "site.geojson"), &site)
	g, _ := json.Marshal(site["features"].([]any)[0].(map[string]any)["geometry"])
	parcel, err := geojson.UnmarshalGeometry(g)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Store.CreateComponent(context.Background(), &zone.Component{Layer: zone.LayerProjectSites, Name: "Khu đất thử nghiệm (tổng hợp)",
		Synthetic: true, Geometry: parcel.Geometry(), Properties: map[string]any{zone.PropStatus: zone.StatusPending}}, "test"); err != nil {
		t.Fatal(err)
	}
	ts.sync(t)
	tok := ts.token(t, zone.RoleViewer, zone.Secret)
	base := ts.URL + "/ogc/collections/"

	var coll struct {
		CRS        []string `json:"crs"`
		StorageCRS string   `json:"storageCrs"`
	}
	_, _, body := get(t, base+"defence_works?f=json", tok)
	if err := json.Unmarshal(body, &coll); err != nil || !slices.Contains(coll.CRS, uri9215) || !slices.Contains(coll.CRS, uri4326) ||
		coll.CRS[0] != coll.StorageCRS || !strings.HasSuffix(coll.StorageCRS, "/CRS84") {
		t.Fatalf("collection crs list: %v %s", err, body)
	}
	_, _, body = get(t, ts.URL+"/ogc/conformance", tok)
	if !strings.Contains(string(body), "ogcapi-features-2/1.0/conf/crs") {
		t.Errorf("conformance lacks Part 2: %s", body)
	}

	// Items in CRS84 and in EPSG:9215: every vertex, also of the approved
	// belt polygon, is crs.FromWGS84 of the CRS84 one to the millimetre.
	tm3 := crs.Must("EPSG:9215")
	for _, layer := range []string{"defence_works", "project_sites"} {
		plain, h84 := ogcFeatures(t, base+layer+"/items", tok)
		inTM3, h9215 := ogcFeatures(t, base+layer+"/items?crs="+url.QueryEscape(uri9215), tok)
		if !strings.HasSuffix(h84, "/CRS84>") || h9215 != "<"+uri9215+">" {
			t.Errorf("%s: Content-Crs %q and %q", layer, h84, h9215)
		}
		if len(plain.Features) == 0 || len(plain.Features) != len(inTM3.Features) {
			t.Fatalf("%s: %d features in CRS84, %d in EPSG:9215", layer, len(plain.Features), len(inTM3.Features))
		}
		for i, f := range plain.Features {
			geoms := [][2]orb.Geometry{{f.Geometry, inTM3.Features[i].Geometry}}
			if f.ID == near.ID.String() {
				za, _ := json.Marshal(f.Properties["zones"])
				zb, _ := json.Marshal(inTM3.Features[i].Properties["zones"])
				var a, b []struct {
					Geometry *geojson.Geometry `json:"geometry"`
				}
				json.Unmarshal(za, &a)
				json.Unmarshal(zb, &b)
				if len(a) != 1 || len(b) != 1 || a[0].Geometry == nil || b[0].Geometry == nil {
					t.Fatalf("approved belt missing: %s / %s", za, zb)
				}
				geoms = append(geoms, [2]orb.Geometry{a[0].Geometry.Geometry(), b[0].Geometry.Geometry()})
			}
			for _, pair := range geoms {
				pw, pt := points(pair[0]), points(pair[1])
				if len(pw) != len(pt) || len(pw) == 0 {
					t.Fatalf("%s %v: %d vertices in CRS84, %d in EPSG:9215", layer, f.ID, len(pw), len(pt))
				}
				// CRS84 goes out to 7 decimals (up to 6 mm off the stored
				// point), EPSG:9215 to the millimetre from the stored point.
				for j := range pw {
					want, _ := tm3.FromWGS84(pw[j])
					if math.Abs(pt[j][0]-want[0]) > 0.008 || math.Abs(pt[j][1]-want[1]) > 0.008 {
						t.Fatalf("%s %v vertex %d: %v in EPSG:9215, want %v", layer, f.ID, j, pt[j], want)
					}
				}
			}
		}
	}

	// EPSG:4326 by URI is latitude first; one item too.
	depotURL := base + "defence_works/items/" + near.ID.String()
	fc, h := ogcFeatures(t, depotURL+"?crs="+url.QueryEscape(uri4326), tok)
	if p, ok := fc.Features[0].Geometry.(orb.Point); !ok || h != "<"+uri4326+">" || math.Abs(p[0]-21.8494) > 1e-9 || math.Abs(p[1]-106.7560) > 1e-9 {
		t.Errorf("item in EPSG:4326: %v, Content-Crs %q; want [21.8494, 106.756]", fc.Features[0].Geometry, h)
	}
	fc, h = ogcFeatures(t, depotURL+"?crs="+url.QueryEscape(uri9215), tok)
	want, _ := tm3.FromWGS84(orb.Point{106.7560, 21.8494})
	if p, ok := fc.Features[0].Geometry.(orb.Point); !ok || h != "<"+uri9215+">" || math.Abs(p[0]-want[0]) > 0.001 || math.Abs(p[1]-want[1]) > 0.001 {
		t.Errorf("item in EPSG:9215: %v, Content-Crs %q; want %v", fc.Features[0].Geometry, h, want)
	}

	// bbox-crs: the surveyed corner box of the parcel in TM-3 metres (E
	// 448095-448340, N 2416975-2417181) finds the parcel; the same box in
	// EPSG:4326 latitude first too.
	for _, c := range []struct{ bbox, bboxCRS string }{
		{"448090,2416970,448345,2417185", uri9215},
		{"21.8484,106.7496,21.8504,106.7522", uri4326},
	} {
		fc, _ := ogcFeatures(t, base+"project_sites/items?bbox="+c.bbox+"&bbox-crs="+url.QueryEscape(c.bboxCRS), tok)
		if len(fc.Features) != 1 {
			t.Errorf("bbox %s in %s: %d features, want the parcel", c.bbox, c.bboxCRS, len(fc.Features))
		}
	}
	// A box away from it finds nothing: the filter really applies.
	if fc, _ := ogcFeatures(t, base+"project_sites/items?bbox=449000,2418000,449500,2418500&bbox-crs="+url.QueryEscape(uri9215), tok); len(fc.Features) != 0 {
		t.Errorf("a box 1 km away finds %d features", len(fc.Features))
	}
	for _, c := range []struct{ query, want string }{
		{"bbox=106.7496,21.8484,106.7522,21.8504&bbox-crs=" + url.QueryEscape(uri4326), "look swapped"},
		{"bbox=106.7496,21.8484,106.7522,21.8504&bbox-crs=" + url.QueryEscape(uri9215), "looks like longitude, latitude degrees"},
		{"crs=" + url.QueryEscape("http://www.opengis.net/def/crs/EPSG/0/2154"), "unsupported CRS"},
	} {
		status, h, body := get(t, base+"project_sites/items?"+c.query, tok)
		mustProblem(t, status, h, body, http.StatusBadRequest)
		if !strings.Contains(string(body), c.want) {
			t.Errorf("%s: error lacks %q: %s", c.query, c.want, body)
		}
	}
	status, hdr, body := get(t, depotURL+"?crs=EPSG:2154", tok)
	mustProblem(t, status, hdr, body, http.StatusBadRequest)
}

// TestOGCCRSMatchesGDAL: GDAL reads a layer through its OAPIF driver in
// CRS84 and reprojects it with PROJ to VN-2000 TM-3 107°15' (the datum
// shift pinned to EPSG:6960 through +towgs84); the server's
// crs=EPSG:9215 response agrees with it to 1 cm at every vertex. (GDAL
// 3.6's OAPIF driver has no CRS open option, so the server's side is
// fetched with ?crs= directly.)
func TestOGCCRSMatchesGDAL(t *testing.T) {
	ts := newTestServer(t, false)
	seedScale(t, ts.Store, 400, 100)
	ts.sync(t)
	tok := ts.token(t, zone.RoleViewer, zone.Secret)
	tm3 := crs.Must("EPSG:9215")
	for _, layer := range []string{zone.LayerDefenceWorks, zone.LayerProjectSites} {
		out := filepath.Join(t.TempDir(), layer+".geojson")
		gdal(t, tok, "ogr2ogr", "-f", "GeoJSON", "-lco", "COORDINATE_PRECISION=4", "-t_srs", tm3.Proj4(), out, "OAPIF:"+ts.URL+"/ogc/collections/"+layer)
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		byGDAL, err := geojson.UnmarshalFeatureCollection(b)
		if err != nil {
			t.Fatal(err)
		}
		ours := map[string]orb.Geometry{}
		next := ts.URL + "/ogc/collections/" + layer + "/items?limit=10000&crs=" + url.QueryEscape(uri9215)
		fc, _ := ogcFeatures(t, next, tok)
		for _, f := range fc.Features {
			ours[f.ID.(string)] = f.Geometry
		}
		if len(byGDAL.Features) == 0 || len(byGDAL.Features) != len(ours) {
			t.Fatalf("%s: GDAL read %d features, the server has %d", layer, len(byGDAL.Features), len(ours))
		}
		worst, vertices := 0.0, 0
		for _, f := range byGDAL.Features {
			id, _ := f.Properties["id"].(string)
			g, ok := ours[id]
			if !ok {
				t.Fatalf("%s: GDAL has %q, the server does not", layer, id)
			}
			pg, po := points(f.Geometry), points(g)
			if len(pg) != len(po) {
				t.Fatalf("%s %s: %d vertices by GDAL, %d by the server", layer, id, len(pg), len(po))
			}
			for i := range pg {
				worst = math.Max(worst, math.Hypot(pg[i][0]-po[i][0], pg[i][1]-po[i][1]))
				vertices++
			}
		}
		t.Logf("%s: %d features, %d vertices, largest difference from GDAL/PROJ %.4f m", layer, len(ours), vertices, worst)
		if worst > 0.01 {
			t.Errorf("%s: the server's EPSG:9215 differs from GDAL/PROJ by up to %.4f m", layer, worst)
		}
	}
}
