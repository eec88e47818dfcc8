package httpapi_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/internal/formats"
	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// planFile is a GeoJSON plan of cols x rows adjacent square parcels of
// size degrees from (lon, lat), each with the attributes a district plan
// has (TEN: name, LOAI_DAT: land use, CAO: height in metres as text).
func planFile(lon, lat, size float64, cols, rows int) []byte {
	fc := geojson.NewFeatureCollection()
	for r := range rows {
		for c := range cols {
			x, y := lon+float64(c)*size, lat+float64(r)*size
			f := geojson.NewFeature(orb.Polygon{{{x, y}, {x + size, y}, {x + size, y + size}, {x, y + size}, {x, y}}})
			f.Properties = geojson.Properties{"TEN": fmt.Sprintf("Lô %d-%d", r, c), "LOAI_DAT": "ODT", "CAO": "12,5"}
			fc.Append(f)
		}
	}
	b, _ := json.Marshal(fc)
	return b
}

type planState struct {
	ID     string         `json:"id"`
	State  string         `json:"state"`
	Total  int            `json:"total"`
	Done   int            `json:"done"`
	Counts map[string]int `json:"counts"`
}

func waitPlan(t *testing.T, base, id, token, want string) planState {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		status, _, body := get(t, base+"/api/plans/"+id, token)
		if status != http.StatusOK {
			t.Fatalf("GET plan: %d %s", status, body)
		}
		var st planState
		if err := json.Unmarshal(body, &st); err != nil {
			t.Fatal(err)
		}
		if st.State == want {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("plan %s still %s (%d/%d), want %s", id, st.State, st.Done, st.Total, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func submitPlan(t *testing.T, base, token string, file []byte, fields map[string]string) string {
	t.Helper()
	status, h, body := upload(t, base+"/api/plans", token, "quy-hoach.geojson", file, fields)
	if status != http.StatusAccepted {
		t.Fatalf("POST /api/plans: %d %s", status, body)
	}
	var st planState
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatal(err)
	}
	if loc := h.Get("Location"); loc != "/api/plans/"+st.ID {
		t.Fatalf("Location %q for plan %s", loc, st.ID)
	}
	return st.ID
}

func TestPlanJobEndToEnd(t *testing.T) {
	ts := newAuditServer(t, newEmbeddedStore(t), auditOptions{}).testServer
	ctx := context.Background()
	// A secret depot on parcel 5 of the row, a public one on parcel 20.
	depot := func(name string, seq int, cl zone.Classification) {
		lon := 106.70 + float64(seq)*0.002
		if _, err := ts.Store.CreateComponent(ctx, &zone.Component{Layer: zone.LayerDefenceWorks, Kind: zone.KindDepot, Name: name,
			Classification: cl, Synthetic: true, Geometry: box(lon+0.001, 21.801, 0.0003)}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	depot("Kho mật K5", 5, zone.Secret)
	depot("Kho công khai K20", 20, zone.Public)
	ts.sync(t)
	secret := ts.token(t, zone.RoleAppraiser, zone.Secret)
	public := ts.token(t, zone.RoleAppraiser, zone.Public)
	viewer := ts.token(t, zone.RoleViewer, zone.Secret)
	admin := ts.token(t, zone.RoleAdmin, zone.Secret)
	file := planFile(106.70, 21.80, 0.002, 30, 1)

	if status, _, body := upload(t, ts.URL+"/api/plans", viewer, "p.geojson", file, nil); status != http.StatusForbidden {
		t.Fatalf("a viewer created a plan: %d %s", status, body)
	}
	id := submitPlan(t, ts.URL, secret, file, map[string]string{"name": "Quy hoạch phân khu A", "map": "name=TEN,land_use=LOAI_DAT,height=CAO"})
	st := waitPlan(t, ts.URL, id, secret, zone.PlanDone)
	if st.Total != 30 || st.Done != 30 || st.Counts["conflict"] != 2 {
		t.Fatalf("secret reader: %+v (want 30 done, 2 conflicts)", st)
	}
	pub := waitPlan(t, ts.URL, id, public, zone.PlanDone)
	if pub.Counts["conflict"] != 1 || pub.Counts["review"] < 1 {
		t.Fatalf("public reader's counts %v: want only the public depot's conflict, the secret one referred", pub.Counts)
	}
	if status, _, _ := get(t, ts.URL+"/api/plans/"+id, viewer); status != http.StatusForbidden {
		t.Fatalf("a viewer read a plan: %d", status)
	}

	// Parcels by verdict, with their findings and mapped attributes.
	var page struct {
		Parcels []struct {
			Seq        int              `json:"seq"`
			Name       string           `json:"name"`
			Verdict    string           `json:"verdict"`
			Properties map[string]any   `json:"properties"`
			Findings   []map[string]any `json:"findings"`
		} `json:"parcels"`
	}
	status, _, body := get(t, ts.URL+"/api/plans/"+id+"/parcels?verdict=conflict", secret)
	if err := json.Unmarshal(body, &page); status != http.StatusOK || err != nil || len(page.Parcels) != 2 || page.Parcels[0].Seq != 5 || page.Parcels[1].Seq != 20 {
		t.Fatalf("secret conflict parcels: %d %s", status, body)
	}
	p5 := page.Parcels[0]
	if p5.Name != "Lô 0-5" || p5.Properties["sector"] != "ODT" || p5.Properties["height_m"] != 12.5 || !strings.Contains(string(body), "Kho mật K5") {
		t.Fatalf("parcel 5 as the secret reader sees it: %+v", p5)
	}
	_, _, body = get(t, ts.URL+"/api/plans/"+id+"/parcels?verdict=review&limit=100", public)
	if err := json.Unmarshal(body, &page); err != nil || len(page.Parcels) == 0 {
		t.Fatalf("public review parcels: %s", body)
	}
	found := false
	for _, p := range page.Parcels {
		if p.Seq == 5 {
			found = true
			if len(p.Findings) != 1 || p.Findings[0]["rule"] != "defence-consultation" {
				t.Fatalf("public view of parcel 5: %+v", p.Findings)
			}
		}
	}
	if !found {
		t.Fatal("parcel 5 is not referred for the public reader")
	}
	status, h, body := get(t, ts.URL+"/api/plans/"+id+"/parcels/5", public)
	if status != http.StatusOK || h.Get("Content-Type") != "application/geo+json" || !strings.Contains(string(body), `"Polygon"`) {
		t.Fatalf("one parcel: %d %s", status, body)
	}
	if status, _, _ := get(t, ts.URL+"/api/plans/"+id+"/parcels/30", public); status != http.StatusNotFound {
		t.Fatalf("parcel past the end: %d", status)
	}

	// Summary: by verdict, rule, zone kind; by component only what the reader may see.
	var sum struct {
		ByVerdict   map[string]int `json:"by_verdict"`
		ByRule      map[string]int `json:"by_rule"`
		ByZone      map[string]int `json:"by_zone"`
		ByComponent []struct {
			Name    string `json:"name"`
			Parcels int    `json:"parcels"`
		} `json:"by_component"`
	}
	_, _, body = get(t, ts.URL+"/api/plans/"+id+"/summary", secret)
	if err := json.Unmarshal(body, &sum); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, n := range sum.ByVerdict {
		total += n
	}
	if total != 30 || sum.ByVerdict["conflict"] != 2 || len(sum.ByRule) == 0 || len(sum.ByZone) == 0 || !strings.Contains(string(body), "Kho mật K5") {
		t.Fatalf("secret summary: %s", body)
	}
	_, _, body = get(t, ts.URL+"/api/plans/"+id+"/summary", public)
	if err := json.Unmarshal(body, &sum); err != nil {
		t.Fatal(err)
	}
	if sum.ByRule["defence-consultation"] < 1 || strings.Contains(string(body), "Kho mật") || len(sum.ByComponent) != 1 || sum.ByComponent[0].Name != "Kho công khai K20" {
		t.Fatalf("public summary: %s", body)
	}

	// Downloads.
	status, h, body = get(t, ts.URL+"/api/plans/"+id+"/results.geojson", public)
	var fc geojson.FeatureCollection
	if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "application/geo+json") || json.Unmarshal(body, &fc) != nil || len(fc.Features) != 30 {
		t.Fatalf("GeoJSON download: %d %.300s", status, body)
	}
	if v := fc.Features[5].Properties["verdict"]; v != "review" || fc.Features[20].Properties["verdict"] != "conflict" || fc.Features[20].Properties["colour"] == "" {
		t.Fatalf("GeoJSON download verdicts: %v %v", v, fc.Features[20].Properties)
	}
	if strings.Contains(string(body), "Kho mật") {
		t.Fatal("the public download names the secret depot")
	}
	status, _, body = get(t, ts.URL+"/api/plans/"+id+"/results.csv", public)
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")))).ReadAll()
	if status != http.StatusOK || err != nil || len(recs) != 31 || recs[0][2] != "verdict" || recs[6][2] != "review" || recs[21][2] != "conflict" {
		t.Fatalf("CSV download: %d %v %.400s", status, err, body)
	}

	status, h, body = get(t, ts.URL+"/api/plans/"+id+"/results.zip", public)
	if status != http.StatusOK || h.Get("Content-Type") != "application/zip" {
		t.Fatalf("shapefile download: %d %.200s", status, body)
	}
	shp, err := formats.Decode("plan.zip", body, formats.Options{})
	if err != nil || len(shp.Features.Features) != 30 || shp.Features.Features[20].Properties["verdict"] != "conflict" ||
		shp.Features.Features[5].Properties["verdict"] != "review" || strings.Contains(string(body), "Kho mật") {
		t.Fatalf("shapefile download read back: %v", err)
	}

	// The plan collection, by box: parcels 19-21 (touching counts), coloured by verdict.
	status, _, body = get(t, ts.URL+"/api/plans/"+id+"/items?bbox=106.7385,21.8,106.742,21.802&limit=2", public)
	var items struct {
		Features []struct {
			ID         int            `json:"id"`
			Properties map[string]any `json:"properties"`
		} `json:"features"`
		Links []map[string]string `json:"links"`
	}
	if status != http.StatusOK || json.Unmarshal(body, &items) != nil || len(items.Features) != 2 || items.Features[0].ID != 19 ||
		items.Features[1].Properties["verdict"] != "conflict" || items.Features[1].Properties["colour"] != "#c62828" ||
		len(items.Links) != 1 || !strings.Contains(items.Links[0]["href"], "offset=2") {
		t.Fatalf("items: %d %s", status, body)
	}
	_, _, body = get(t, ts.URL+items.Links[0]["href"], public)
	if json.Unmarshal(body, &items) != nil || len(items.Features) != 1 || items.Features[0].ID != 21 {
		t.Fatalf("items, next page: %s", body)
	}

	// A finished plan cannot be cancelled; nor can a missing one be read.
	if status, _, body := send(t, http.MethodDelete, ts.URL+"/api/plans/"+id, secret, nil); status != http.StatusConflict {
		t.Fatalf("cancelling a finished plan: %d %s", status, body)
	}
	if status, _, _ := get(t, ts.URL+"/api/plans/0190b2c4-0000-7000-8000-000000000000", secret); status != http.StatusNotFound {
		t.Fatalf("missing plan: %d", status)
	}

	// The trail has the plan's creation and reads.
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, _, body = get(t, ts.URL+"/api/audit?action=plan.*", admin)
		if status == http.StatusOK && strings.Contains(string(body), `"plan.created"`) && strings.Contains(string(body), `"plan.read"`) &&
			strings.Contains(string(body), id) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("audit: %d %.500s", status, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPlanCancelOverHTTP(t *testing.T) {
	ts := newAuditServer(t, newEmbeddedStore(t), auditOptions{}).testServer
	admin := ts.token(t, zone.RoleAdmin, zone.Secret)
	tok := ts.token(t, zone.RoleAppraiser, zone.Secret)
	id := submitPlan(t, ts.URL, tok, planFile(106.0, 21.0, 0.0005, 150, 100), nil)
	status, _, body := send(t, http.MethodDelete, ts.URL+"/api/plans/"+id, tok, nil)
	var st planState
	if status != http.StatusOK || json.Unmarshal(body, &st) != nil || st.State != zone.PlanCancelled {
		t.Fatalf("DELETE: %d %s", status, body)
	}
	time.Sleep(300 * time.Millisecond)
	st = waitPlan(t, ts.URL, id, tok, zone.PlanCancelled)
	if st.Done >= st.Total {
		t.Fatalf("a cancelled plan of %d parcels ran to its end", st.Total)
	}
	later := waitPlan(t, ts.URL, id, tok, zone.PlanCancelled)
	time.Sleep(300 * time.Millisecond)
	if again := waitPlan(t, ts.URL, id, tok, zone.PlanCancelled); again.Done != later.Done {
		t.Fatalf("parcels still checked after the cancel: %d then %d", later.Done, again.Done)
	}
	if _, _, body := get(t, ts.URL+"/api/audit?action=plan.cancelled", admin); !strings.Contains(string(body), id) {
		t.Fatalf("no plan.cancelled entry: %.400s", body)
	}
}

func TestPlanUploadErrors(t *testing.T) {
	ts := newTestServer(t, false)
	tok := ts.token(t, zone.RoleAppraiser, zone.Secret)
	file := planFile(106.70, 21.80, 0.002, 3, 1)
	cases := []struct {
		name    string
		file    []byte
		fields  map[string]string
		pointer string
	}{
		{"bad mapping", file, map[string]string{"map": "owner=TEN"}, "map"},
		{"mapping names no attribute", file, map[string]string{"map": "name=TEN_LO"}, "map"},
		{"unknown field", file, map[string]string{"colour": "red"}, "colour"},
		{"bad geometry", []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[106,21],[106.1,21.1],[106.1,21],[106,21.1],[106,21]]]}}]}`), nil, "p.geojson: feature 1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, h, body := upload(t, ts.URL+"/api/plans", tok, "p.geojson", c.file, c.fields)
			mustProblem(t, status, h, body, http.StatusUnprocessableEntity)
			if !strings.Contains(string(body), `"`+c.pointer) {
				t.Fatalf("problem does not point at %s: %s", c.pointer, body)
			}
		})
	}
	status, h, body := send(t, http.MethodPost, ts.URL+"/api/plans", tok, file)
	mustProblem(t, status, h, body, http.StatusUnprocessableEntity)
	// In Vietnamese too.
	status, _, body = upload(t, ts.URL+"/api/plans?lang=vi", tok, "p.geojson", file, map[string]string{"map": "name=TEN_LO"})
	if status != http.StatusUnprocessableEntity || !strings.Contains(string(body), "không thửa nào") {
		t.Fatalf("Vietnamese problem: %d %s", status, body)
	}
	// A VN-2000 shapefile is read in its own CRS (its .prj).
	status, _, body = upload(t, ts.URL+"/api/plans", tok, "site_shp.zip", fixture(t, "site_shp.zip"), nil)
	if status != http.StatusAccepted || !strings.Contains(string(body), `"format":"shapefile"`) {
		t.Fatalf("shapefile plan: %d %s", status, body)
	}
}

// TestPlanReadOnly: a read instance refuses plan uploads and cancels.
func TestPlanReadOnly(t *testing.T) {
	ts := newTestServerWith(t, httpapi.Config{ReadOnly: true, PrimaryURL: "https://primary.example"})
	tok := ts.token(t, zone.RoleAppraiser, zone.Secret)
	status, _, body := upload(t, ts.URL+"/api/plans", tok, "p.geojson", planFile(106.70, 21.80, 0.002, 2, 1), nil)
	if status != http.StatusServiceUnavailable || !strings.Contains(string(body), "read_only") {
		t.Fatalf("upload on a read instance: %d %s", status, body)
	}
	status, _, body = send(t, http.MethodDelete, ts.URL+"/api/plans/0190b2c4-0000-7000-8000-000000000000", tok, nil)
	if status != http.StatusServiceUnavailable {
		t.Fatalf("cancel on a read instance: %d %s", status, body)
	}
}
