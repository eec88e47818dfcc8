package report

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// A report renders every measure as a number (no Go formatting debris such
// as "%!f(*float64=0x...)"), areas with their thousands set apart, names
// with their diacritics, and a referral without the work behind it.
func TestReportPrintsMeasuresAndNames(t *testing.T) {
	var res check.Result
	if err := json.Unmarshal([]byte(`{"verdict":"conflict","ruleset_version":"r1","data_view":"v","footprint":{"area_m2":66046.4,"length_m":1027.9},
		"findings":[
		 {"verdict":"conflict","rule":"restricted-area","zone":"restricted_area","basis":"Luật 25/2023/QH15, Điều 17","message":"inside","message_vi":"nằm trong khu vực cấm",
		  "component":{"id":"7b0c4a2e-0000-4000-8000-000000000001","layer":"defence_works","kind":"depot","name":"Kho đạn K3 – Lạng Sơn","classification":"restricted"},
		  "distance_m":0,"overlap_area_m2":1234.56,"overlap":{"type":"Polygon","coordinates":[[[106.7,21.8],[106.701,21.8],[106.701,21.801],[106.7,21.8]]]}},
		 {"verdict":"notice","rule":"near","zone":"distance","basis":"b","message":"near","message_vi":"gần","component":{"name":"Đồn Biên phòng","layer":"commune_hqs","kind":"commune_hq"},
		  "distance_m":432.1,"overlap_area_m2":null,"overlap":null},
		 {"verdict":"review","rule":"defence-consultation","zone":"consultation_area","basis":"Nghị định 164/2018","message":"refer","message_vi":"xin ý kiến",
		  "component":{"redacted":true},"distance_m":null,"overlap_area_m2":null,"overlap":null,"band":"trong vùng tham vấn"}]}`), &res); err != nil {
		t.Fatal(err)
	}
	site := &zone.Component{Layer: zone.LayerProjectSites, Name: "Khu công nghiệp Đồng Đăng",
		Geometry:   orb.Polygon{{{106.69, 21.79}, {106.71, 21.79}, {106.71, 21.81}, {106.69, 21.81}, {106.69, 21.79}}},
		Properties: map[string]any{"investor": "Công ty Cổ phần Ánh Dương", "height_m": 35.0, "activities": []any{"blasting"}}}
	var b strings.Builder
	err := Render(&b, Data{
		Appraisal:   zone.Appraisal{ID: uuid.New(), Name: "Khu công nghiệp Đồng Đăng", Status: "pending", Verdict: "conflict"},
		Site:        site,
		Latest:      zone.CheckRecord{Verdict: "conflict", RulesetVersion: "r1"},
		Result:      res,
		Reader:      "Trần Phê Duyệt",
		GeneratedAt: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC),
	})
	if err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if i := strings.Index(page, "%!"); i >= 0 {
		t.Fatalf("Go formatting debris in the report: %q", page[i:min(len(page), i+60)])
	}
	for _, want := range []string{"66\u202f046 m²", "1\u202f028 m", "1\u202f235 m²", "432.1 m", "Kho đạn K3 – Lạng Sơn", "Công ty Cổ phần Ánh Dương",
		"Khu công nghiệp Đồng Đăng", "trong vùng tham vấn", "<svg"} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}

func TestWhole(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for _, c := range []struct {
		v    any
		want string
	}{
		{0.0, "0"}, {999.4, "999"}, {999.5, "1\u202f000"}, {66046.4, "66\u202f046"}, {1234567.0, "1\u202f234\u202f567"},
		{f(12.6), "13"}, {(*float64)(nil), "—"}, {-4321.0, "−4\u202f321"},
	} {
		if got := whole(c.v); got != c.want {
			t.Errorf("whole(%v) = %q, want %q", c.v, got, c.want)
		}
	}
}
