package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/internal/zone"
)

func TestSearchFoldsAccentsAndRespectsClearance(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	for _, c := range []*zone.Component{
		{Layer: zone.LayerCommuneHQs, Name: "Trụ sở Ban CHQS xã Đồng Đăng", Code: "HQ-DD", Geometry: orb.Point{106.7, 21.9}},
		{Layer: zone.LayerDefenceWorks, Kind: zone.KindDepot, Name: "Kho đạn Đồng Đăng", Classification: zone.Secret, Geometry: orb.Point{106.71, 21.91}},
		{Layer: zone.LayerCombatBases, Name: "Căn cứ Mẫu Sơn", Code: "CB-012", Geometry: orb.Point{106.9, 21.85}},
	} {
		if _, err := ts.Store.CreateComponent(ctx, c, "test"); err != nil {
			t.Fatal(err)
		}
	}
	ts.sync(t)
	low := ts.token(t, zone.RoleViewer, zone.Public)
	high := ts.token(t, zone.RoleViewer, zone.Secret)
	search := func(tok, q string) []map[string]any {
		t.Helper()
		status, _, b := get(t, ts.URL+"/api/search?q="+q, tok)
		if status != http.StatusOK {
			t.Fatalf("search %q: %d %s", q, status, b)
		}
		var hits []map[string]any
		_ = json.Unmarshal(b, &hits)
		return hits
	}
	if hits := search(low, "dong+dang"); len(hits) != 1 || hits[0]["name"] != "Trụ sở Ban CHQS xã Đồng Đăng" {
		t.Fatalf("public viewer, 'dong dang': %v", hits)
	}
	if hits := search(high, "%C4%90%E1%BB%93ng"); len(hits) != 2 { // "Đồng"
		t.Fatalf("secret viewer, 'Đồng': %v", hits)
	}
	if hits := search(low, "cb-012"); len(hits) != 1 || hits[0]["code"] != "CB-012" || len(hits[0]["bbox"].([]any)) != 4 {
		t.Fatalf("search by code: %v", hits)
	}
	status, h, b := get(t, ts.URL+"/api/search?q=x", low)
	mustProblem(t, status, h, b, http.StatusBadRequest)
	if status, _, b := get(t, ts.URL+"/api/basemap/countries.geojson", ""); status != http.StatusOK || len(b) < 1000 {
		t.Fatalf("basemap: %d", status)
	}
}
