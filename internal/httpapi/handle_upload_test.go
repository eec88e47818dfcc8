package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// fixture reads one of the format fixtures: the same synthetic Lang Son
// parcel in every format package formats reads.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "formats", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// upload posts a multipart/form-data request with one file and fields.
func upload(t *testing.T, u, token, fileName string, file []byte, fields map[string]string) (int, http.Header, []byte) {
	t.Helper()
	body, ctype := multipartFile(fileName, file, fields)
	return do(t, http.MethodPost, u, token, map[string]string{"Content-Type": ctype}, string(body))
}

// parcelScene puts public components around the Lang Son parcel
// (106.7497-106.7521 E, 21.8485-21.8503 N): a depot about 400 m east of
// its east edge whose approved safety belt covers part of it, a commune HQ
// about 50 m off its west side, and a depot 3 km away that must not be
// found. Every fixture of the parcel must give the same verdict and findings.
func parcelScene(t *testing.T, ts *testServer) (near, hq, far *zone.Component) {
	t.Helper()
	ctx := context.Background()
	mk := func(c *zone.Component) *zone.Component {
		got, err := ts.Store.CreateComponent(ctx, c, "test")
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	near = mk(&zone.Component{Layer: zone.LayerDefenceWorks, Kind: zone.KindDepot, Name: "Kho K15 (tổng hợp)", Synthetic: true,
		Geometry: orb.Point{106.7560, 21.8494}, Zones: []zone.ProtectionZone{
			{Kind: zone.SafetyBelt, Geometry: box(106.7560, 21.8494, 0.0045), Decision: "15/QĐ (tổng hợp)", DecisionDate: "2024-01-15"}}})
	hq = mk(&zone.Component{Layer: zone.LayerCommuneHQs, Name: "Trụ sở Ban CHQS phường (tổng hợp)", Synthetic: true,
		Geometry: orb.Point{106.7495, 21.8504}})
	far = mk(&zone.Component{Layer: zone.LayerDefenceWorks, Kind: zone.KindDepot, Name: "Kho K16 (tổng hợp)", Synthetic: true,
		Geometry: orb.Point{106.78, 21.85}, Zones: []zone.ProtectionZone{{Kind: zone.SafetyBelt, WidthM: 500}}})
	ts.sync(t)
	return near, hq, far
}

// checkOutcome is what must not depend on the format: the verdict, the
// findings as rule@component, the number of footprints and their area.
type checkOutcome struct {
	Verdict  string
	Findings []string
	Features int
	AreaM2   float64
}

func outcome(t *testing.T, body []byte) checkOutcome {
	t.Helper()
	var r struct {
		Verdict   string `json:"verdict"`
		Footprint struct {
			AreaM2 float64 `json:"area_m2"`
		} `json:"footprint"`
		Findings []struct {
			Rule      string `json:"rule"`
			Component struct {
				ID string `json:"id"`
			} `json:"component"`
		} `json:"findings"`
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	o := checkOutcome{Verdict: r.Verdict, Features: len(r.Features), AreaM2: r.Footprint.AreaM2}
	for _, f := range r.Findings {
		o.Findings = append(o.Findings, f.Rule+"@"+f.Component.ID)
	}
	sort.Strings(o.Findings)
	return o
}

// TestEveryFormatSameVerdict: the parcel as GeoJSON (WGS84 and EPSG:9215),
// KML, KMZ, two shapefiles, a CSV table and pasted text, uploaded to
// POST /api/check, and as JSON bodies in TM-3 metres with ?crs=, all give
// the same verdict, findings and area.
func TestEveryFormatSameVerdict(t *testing.T) {
	ts := newTestServer(t, false)
	near, hq, far := parcelScene(t, ts)
	tok := ts.token(t, zone.RoleAppraiser, zone.Secret)

	status, _, body := upload(t, ts.URL+"/api/check", tok, "site.geojson", fixture(t, "site.geojson"), nil)
	if status != http.StatusOK {
		t.Fatalf("site.geojson: %d %s", status, body)
	}
	want := outcome(t, body)
	if want.Verdict != "review" || want.Features != 1 || want.AreaM2 < 20_000 {
		t.Fatalf("reference check: %+v %s", want, body)
	}
	wantFindings := map[string]bool{"depot-safety-belt@" + near.ID.String(): true, "commune-hq-distance@" + hq.ID.String(): true}
	for _, f := range want.Findings {
		if strings.Contains(f, far.ID.String()) {
			t.Errorf("the far depot is found: %v", want.Findings)
		}
		delete(wantFindings, f)
	}
	if len(wantFindings) > 0 {
		t.Fatalf("reference check lacks %v: %v", wantFindings, want.Findings)
	}

	same := func(name string, got checkOutcome) {
		t.Helper()
		if got.Verdict != want.Verdict || strings.Join(got.Findings, " ") != strings.Join(want.Findings, " ") {
			t.Errorf("%s: %s %v, want %s %v", name, got.Verdict, got.Findings, want.Verdict, want.Findings)
		}
		// The fixtures hold the same vertices to the millimetre (0.1 mm in
		// degrees); 1 m² on 27,000 m² is far looser than that and far tighter
		// than any datum or axis mistake (hundreds of metres).
		if math.Abs(got.AreaM2-want.AreaM2) > 1 {
			t.Errorf("%s: area %.2f m², want %.2f", name, got.AreaM2, want.AreaM2)
		}
	}
	for _, c := range []struct {
		file   string
		fields map[string]string
	}{
		{"site_9215.geojson", nil},
		{"site.kml", nil},
		{"site.kmz", nil},
		{"site_shp.zip", nil},
		{"site_gdal.zip", nil},
		{"site.csv", map[string]string{"crs": "EPSG:9215"}},
		{"site_pasted.txt", map[string]string{"crs": "http://www.opengis.net/def/crs/EPSG/0/9215"}},
		{"site_pasted.txt", map[string]string{"crs": "VN2000:TM3:107-15", "format": "table"}},
	} {
		status, _, body := upload(t, ts.URL+"/api/check", tok, c.file, fixture(t, c.file), c.fields)
		if status != http.StatusOK {
			t.Errorf("%s: %d %s", c.file, status, body)
			continue
		}
		got := outcome(t, body)
		if got.Features != 1 {
			t.Errorf("%s: %d footprints, want 1", c.file, got.Features)
		}
		same(c.file, got)
	}

	// JSON bodies in TM-3 metres: the FeatureCollection without its crs
	// member, and its bare geometry, with the CRS as a query parameter.
	var doc map[string]any
	if err := json.Unmarshal(fixture(t, "site_9215.geojson"), &doc); err != nil {
		t.Fatal(err)
	}
	delete(doc, "crs")
	fc, _ := json.Marshal(doc)
	geom, _ := json.Marshal(doc["features"].([]any)[0].(map[string]any)["geometry"])
	for _, c := range []struct {
		name, crs string
		body      []byte
		features  int
	}{
		{"collection", "EPSG:9215", fc, 1},
		{"geometry", "http://www.opengis.net/def/crs/EPSG/0/9215", geom, 0},
	} {
		status, _, body := send(t, http.MethodPost, ts.URL+"/api/check?crs="+url.QueryEscape(c.crs), tok, c.body)
		if status != http.StatusOK {
			t.Errorf("%s: %d %s", c.name, status, body)
			continue
		}
		got := outcome(t, body)
		if got.Features != c.features {
			t.Errorf("%s: %d feature results, want %d (the body's shape is kept)", c.name, got.Features, c.features)
		}
		same("JSON "+c.name+" ?crs="+c.crs, got)
	}
	// Project attributes beside an uploaded table act as the same
	// properties in a GeoJSON Feature do.
	var wgs map[string]any
	json.Unmarshal(fixture(t, "site.geojson"), &wgs)
	feature := wgs["features"].([]any)[0].(map[string]any)
	feature["properties"] = map[string]any{"activities": []string{"blasting"}, "height_m": 60}
	fb, _ := json.Marshal(feature)
	status, _, body = send(t, http.MethodPost, ts.URL+"/api/check", tok, fb)
	if status != http.StatusOK {
		t.Fatalf("blasting feature: %d %s", status, body)
	}
	blasting := outcome(t, body)
	if blasting.Verdict != "conflict" {
		t.Fatalf("blasting within the depot's belt should escalate to conflict: %s", body)
	}
	status, _, body = upload(t, ts.URL+"/api/check", tok, "site.csv", fixture(t, "site.csv"),
		map[string]string{"crs": "EPSG:9215", "activities": "blasting", "height_m": "60"})
	if status != http.StatusOK {
		t.Fatalf("blasting table: %d %s", status, body)
	}
	if got := outcome(t, body); got.Verdict != blasting.Verdict || strings.Join(got.Findings, " ") != strings.Join(blasting.Findings, " ") {
		t.Errorf("table with activities=blasting: %s %v; the Feature with the same properties: %s %v", got.Verdict, got.Findings, blasting.Verdict, blasting.Findings)
	}
	status, h, body := upload(t, ts.URL+"/api/check", tok, "site.csv", fixture(t, "site.csv"),
		map[string]string{"crs": "EPSG:9215", "activities": "dancing"})
	mustProblem(t, status, h, body, http.StatusUnprocessableEntity)
	if !strings.Contains(string(body), "site.csv: feature 1: properties.activities[0]") {
		t.Errorf("bad activity: %s", body)
	}

	// Without ?crs= the metres are refused, pointing at the first vertex.
	status, h, body = send(t, http.MethodPost, ts.URL+"/api/check", tok, geom)
	mustProblem(t, status, h, body, http.StatusUnprocessableEntity)
}

// problemOf decodes a problem document's detail and errors.
func problemOf(t *testing.T, body []byte) (string, []zone.Detail) {
	t.Helper()
	var p struct {
		Detail string        `json:"detail"`
		Errors []zone.Detail `json:"errors"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return p.Detail, p.Errors
}

// TestUploadErrorsNameFileAndRecord: the swapped-axis pitfall and other bad
// inputs get 422 (400 for a bad parameter) saying which file, which record,
// what is wrong.
func TestUploadErrorsNameFileAndRecord(t *testing.T) {
	ts := newTestServer(t, false)
	tok := ts.token(t, zone.RoleAppraiser, zone.Secret)
	lonlat := `{"type":"Polygon","coordinates":[[[106.75,21.85],[106.751,21.85],[106.751,21.851],[106.75,21.85]]]}`
	for _, c := range []struct {
		name   string
		status int
		send   func() (int, http.Header, []byte)
		want   []string // in the detail
		ptr    string   // in the first error's pointer
		index  int
	}{
		{"swapped X and Y", 422, func() (int, http.Header, []byte) {
			return upload(t, ts.URL+"/api/check", tok, "bad_swapped_xy.csv", fixture(t, "bad_swapped_xy.csv"), map[string]string{"crs": "EPSG:9215"})
		}, []string{"bad_swapped_xy.csv", "row 2", "X and Y look swapped"}, "bad_swapped_xy.csv: row 2", 1},
		{"table without crs", 422, func() (int, http.Header, []byte) {
			return upload(t, ts.URL+"/api/check", tok, "site.csv", fixture(t, "site.csv"), nil)
		}, []string{"site.csv", "needs its CRS"}, "site.csv", -1},
		{"truncated shapefile", 422, func() (int, http.Header, []byte) {
			return upload(t, ts.URL+"/api/check", tok, "bad_truncated.zip", fixture(t, "bad_truncated.zip"), nil)
		}, []string{"bad_truncated.zip"}, "bad_truncated.zip", -2},
		{"non-numeric row", 422, func() (int, http.Header, []byte) {
			return upload(t, ts.URL+"/api/check", tok, "bad_non_numeric.csv", fixture(t, "bad_non_numeric.csv"), map[string]string{"crs": "EPSG:9215"})
		}, []string{"bad_non_numeric.csv", "row"}, "bad_non_numeric.csv: row", -2},
		{"degrees given as TM-3 metres", 422, func() (int, http.Header, []byte) {
			return send(t, http.MethodPost, ts.URL+"/api/check?crs=EPSG:9215", tok, []byte(lonlat))
		}, []string{"coordinates[0][0]", "looks like longitude, latitude degrees, not EPSG:9215 metres"}, "request body: geometry", 0},
		{"bad attribute in a file", 422, func() (int, http.Header, []byte) {
			return upload(t, ts.URL+"/api/check", tok, "tall.geojson", []byte(`{"type":"FeatureCollection","features":[
			{"type":"Feature","geometry":{"type":"Point","coordinates":[106.75,21.85]},"properties":{}},
			{"type":"Feature","geometry":{"type":"Point","coordinates":[106.75,21.85]},"properties":{"height_m":"tall"}}]}`), nil)
		}, []string{"tall.geojson: feature 2: properties.height_m", "must be a number"}, "tall.geojson: feature 2: properties.height_m", 1},
		{"unknown crs", 400, func() (int, http.Header, []byte) {
			return send(t, http.MethodPost, ts.URL+"/api/check?crs=EPSG:2154", tok, []byte(lonlat))
		}, []string{"EPSG:2154 is not supported"}, "crs", -1},
		{"no file part", 400, func() (int, http.Header, []byte) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			mw.WriteField("crs", "EPSG:9215")
			mw.Close()
			return do(t, http.MethodPost, ts.URL+"/api/check", tok, map[string]string{"Content-Type": mw.FormDataContentType()}, buf.String())
		}, []string{"no file"}, "file", -1},
	} {
		status, h, body := c.send()
		mustProblem(t, status, h, body, c.status)
		detail, errs := problemOf(t, body)
		for _, w := range c.want {
			if !strings.Contains(detail, w) {
				t.Errorf("%s: detail lacks %q: %s", c.name, w, detail)
			}
		}
		if len(errs) == 0 || !strings.HasPrefix(errs[0].Pointer, c.ptr) || (c.index != -2 && errs[0].Index != c.index) {
			t.Errorf("%s: first error should point at %q (index %d): %s", c.name, c.ptr, c.index, body)
		}
	}
}

// TestAppraisalUpload: an appraisal made from an uploaded shapefile with
// the project's fields as form fields, and a bad file that leaves nothing
// stored.
func TestAppraisalUpload(t *testing.T) {
	ts := newTestServer(t, false)
	near, _, _ := parcelScene(t, ts)
	tok := ts.token(t, zone.RoleAppraiser, zone.Public)
	ctx := context.Background()
	counts := func() (appraisals, sites int) {
		t.Helper()
		_, n, err := ts.Store.ListAppraisals(ctx, zone.AppraisalQuery{})
		if err != nil {
			t.Fatal(err)
		}
		sites, err = ts.Store.CountComponents(ctx, zone.Query{Layers: []string{zone.LayerProjectSites}, Clearance: zone.Secret})
		if err != nil {
			t.Fatal(err)
		}
		return n, sites
	}

	status, _, body := upload(t, ts.URL+"/api/appraisals", tok, "site_shp.zip", fixture(t, "site_shp.zip"),
		map[string]string{"name": "Nhà máy thử nghiệm", "investor": "Công ty A", "height_m": "35", "activities": "blasting, crowd"})
	if status != http.StatusCreated {
		t.Fatalf("upload appraisal: %d %s", status, body)
	}
	var a appraisal
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatal(err)
	}
	if a.Verdict == "clear" || len(a.Checks) != 1 {
		t.Fatalf("appraisal near depot %s: verdict %s, %d checks", near.ID, a.Verdict, len(a.Checks))
	}
	site, err := ts.Store.GetComponent(ctx, mustUUID(t, a.SiteID), zone.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := site.Properties[zone.PropHeightM].(float64); h != 35 {
		t.Errorf("height_m = %v, want 35", site.Properties[zone.PropHeightM])
	}
	if acts, _ := site.Properties[zone.PropActivities].([]any); len(acts) != 2 || acts[0] != "blasting" || acts[1] != "crowd" {
		t.Errorf("activities = %v", site.Properties[zone.PropActivities])
	}
	if b := site.Geometry.Bound(); !b.Contains(orb.Point{106.7509, 21.8494}) || b.Max[0]-b.Min[0] > 0.003 {
		t.Errorf("site geometry is not the Lang Son parcel in WGS84: %v", b)
	}

	beforeA, beforeS := counts()
	for _, c := range []struct {
		file   string
		data   []byte
		fields map[string]string
		want   string
	}{
		{"bad_truncated.zip", fixture(t, "bad_truncated.zip"), map[string]string{"name": "Dự án lỗi"}, "bad_truncated.zip"},
		{"bad_swapped_xy.csv", fixture(t, "bad_swapped_xy.csv"), map[string]string{"name": "Dự án lỗi", "crs": "EPSG:9215"}, "X and Y look swapped"},
		{"site.csv", fixture(t, "site.csv"), map[string]string{"name": "Dự án lỗi", "crs": "EPSG:9215", "height_m": "cao"}, "height_m"},
		{"site.csv", fixture(t, "site.csv"), map[string]string{"name": "Dự án lỗi", "crs": "EPSG:9215", "owner": "x"}, "unknown form field"},
		{"site.csv", fixture(t, "site.csv"), map[string]string{"crs": "EPSG:9215"}, "project name"},
	} {
		status, h, body := upload(t, ts.URL+"/api/appraisals", tok, c.file, c.data, c.fields)
		if status != http.StatusUnprocessableEntity && status != http.StatusBadRequest {
			t.Errorf("%s: %d, want 422 or 400: %s", c.file, status, body)
			continue
		}
		mustProblem(t, status, h, body, status)
		if !strings.Contains(string(body), c.want) {
			t.Errorf("%s: error lacks %q: %s", c.file, c.want, body)
		}
	}
	if a2, s2 := counts(); a2 != beforeA || s2 != beforeS {
		t.Fatalf("bad uploads stored something: appraisals %d -> %d, sites %d -> %d", beforeA, a2, beforeS, s2)
	}

	// A JSON appraisal with its footprint in TM-3 metres and ?crs=.
	var doc map[string]any
	json.Unmarshal(fixture(t, "site_9215.geojson"), &doc)
	geom := doc["features"].([]any)[0].(map[string]any)["geometry"]
	req, _ := json.Marshal(map[string]any{"name": "Dự án VN-2000", "footprint": geom})
	status, _, body = send(t, http.MethodPost, ts.URL+"/api/appraisals?crs=EPSG:9215", tok, req)
	if status != http.StatusCreated {
		t.Fatalf("JSON appraisal with crs: %d %s", status, body)
	}
	status, h, body := send(t, http.MethodPost, ts.URL+"/api/appraisals", tok, req)
	mustProblem(t, status, h, body, http.StatusUnprocessableEntity)
	if _, errs := problemOf(t, body); len(errs) == 0 || !strings.HasPrefix(errs[0].Pointer, "footprint.") {
		t.Errorf("metres without crs: the error should point into footprint: %s", body)
	}
}

// TestCRSListAndConvert: GET /api/crs lists the VN-2000 zones for the
// picker; POST /api/convert returns an upload in WGS84 for the preview.
func TestCRSListAndConvert(t *testing.T) {
	ts := newTestServer(t, false)
	status, _, body := get(t, ts.URL+"/api/crs", "")
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	var list []struct {
		Code, URI, Name, Kind string
		BBox                  [4]float64
	}
	if err := json.Unmarshal(body, &list); err != nil || len(list) < 10 || list[0].Code != "OGC:CRS84" {
		t.Fatalf("crs list: %v %s", err, body)
	}
	found := false
	for _, c := range list {
		found = found || (c.Code == "EPSG:9215" && c.URI == "http://www.opengis.net/def/crs/EPSG/0/9215" && c.Kind == "projected" && c.BBox[0] > 100)
	}
	if !found {
		t.Fatalf("EPSG:9215 (Lang Son) missing or incomplete: %s", body)
	}

	tok := ts.token(t, zone.RoleAppraiser, zone.Public)
	status, _, body = upload(t, ts.URL+"/api/convert", tok, "site_shp.zip", fixture(t, "site_shp.zip"), nil)
	if status != http.StatusOK {
		t.Fatalf("convert: %d %s", status, body)
	}
	var conv struct {
		Format string `json:"format"`
		CRS    struct {
			Code string `json:"code"`
		} `json:"crs"`
		Footprints struct {
			Features []struct {
				Geometry struct {
					Coordinates [][][2]float64 `json:"coordinates"`
				} `json:"geometry"`
			} `json:"features"`
		} `json:"footprints"`
	}
	if err := json.Unmarshal(body, &conv); err != nil {
		t.Fatal(err)
	}
	if conv.Format != "shapefile" || conv.CRS.Code != "EPSG:9215" || len(conv.Footprints.Features) != 1 {
		t.Fatalf("convert: %s", body)
	}
	// Vertex 1 of the survey (X 2417150, Y 448120) in WGS84, as site.geojson has it.
	if p := conv.Footprints.Features[0].Geometry.Coordinates[0][0]; math.Abs(p[0]-106.749957166) > 1e-8 || math.Abs(p[1]-21.850055429) > 1e-8 {
		t.Errorf("first vertex %v, want [106.749957166, 21.850055429]", p)
	}
	viewer := ts.token(t, zone.RoleViewer, zone.Secret)
	status, h, body := upload(t, ts.URL+"/api/convert", viewer, "site_shp.zip", fixture(t, "site_shp.zip"), nil)
	mustProblem(t, status, h, body, http.StatusForbidden)
}
