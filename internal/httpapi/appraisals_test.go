package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/data"
	"github.com/zoneplan/zoneplan/internal/zone"
)

func send(t *testing.T, method, url, token string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func box(lon, lat, half float64) orb.Polygon {
	return orb.Polygon{{{lon - half, lat - half}, {lon + half, lat - half}, {lon + half, lat + half}, {lon - half, lat + half}, {lon - half, lat - half}}}
}

func geomJSON(g orb.Geometry) string {
	b, _ := json.Marshal(map[string]any{"type": g.GeoJSONType(), "coordinates": g})
	return string(b)
}

// scene is a small world: a secret depot with an approved restricted area
// and a public commune HQ, plus footprints known to conflict, need review,
// or be clear.
type scene struct {
	depot, hq                 *zone.Component
	conflict, review, clear   string // GeoJSON geometries
	depotName, depotCoordText string
}

func newScene(t *testing.T, ts *testServer) scene {
	t.Helper()
	ctx := context.Background()
	depot, err := ts.Store.CreateComponent(ctx, &zone.Component{Layer: zone.LayerDefenceWorks, Kind: zone.KindDepot,
		Name: "Kho đạn bí mật K9", Code: "K9", Classification: zone.Secret, FunctionType: zone.FunctionC, Group: zone.GroupI,
		Geometry: orb.Point{106.3137, 21.5137},
		Zones: []zone.ProtectionZone{
			{Kind: zone.RestrictedArea, Geometry: box(106.3137, 21.5137, 0.001), Decision: "12/QĐ-BQP", DecisionDate: "2024-03-01"},
			{Kind: zone.SafetyBelt, WidthM: 500},
		}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	hq, err := ts.Store.CreateComponent(ctx, &zone.Component{Layer: zone.LayerCommuneHQs, Name: "Trụ sở Ban CHQS xã Tân Thanh",
		Classification: zone.Public, Geometry: orb.Point{106.4, 21.5}}, "test")
	if err != nil {
		t.Fatal(err)
	}
	ts.sync(t)
	return scene{
		depot: depot, hq: hq,
		conflict:       geomJSON(box(106.3137, 21.5137, 0.0003)),
		review:         geomJSON(orb.Polygon{{{106.4005, 21.4998}, {106.4008, 21.4998}, {106.4008, 21.5002}, {106.4005, 21.5002}, {106.4005, 21.4998}}}),
		clear:          geomJSON(box(106.8, 21.0, 0.001)),
		depotName:      "Kho đạn bí mật K9",
		depotCoordText: "106.3137",
	}
}

type result struct {
	Verdict  string `json:"verdict"`
	Findings []struct {
		Verdict   string   `json:"verdict"`
		Rule      string   `json:"rule"`
		Zone      string   `json:"zone"`
		Basis     string   `json:"basis"`
		Band      string   `json:"band"`
		DistanceM *float64 `json:"distance_m"`
		Component struct {
			ID       string `json:"id"`
			Name     string `json:"name"`
			Redacted bool   `json:"redacted"`
		} `json:"component"`
	} `json:"findings"`
}

func TestCheckVerdictsAndRedaction(t *testing.T) {
	ts := newTestServer(t, false)
	sc := newScene(t, ts)
	low := ts.token(t, zone.RoleAppraiser, zone.Public)
	high := ts.token(t, zone.RoleAppraiser, zone.Secret)
	check := func(tok, geom string) (result, []byte) {
		t.Helper()
		status, _, body := send(t, http.MethodPost, ts.URL+"/api/check", tok, []byte(geom))
		if status != http.StatusOK {
			t.Fatalf("check: %d %s", status, body)
		}
		var r result
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatal(err)
		}
		return r, body
	}
	for name, c := range map[string]struct{ geom, want string }{
		"conflict": {sc.conflict, "conflict"}, "review": {sc.review, "review"}, "clear": {sc.clear, "clear"},
	} {
		r, _ := check(high, c.geom)
		if r.Verdict != c.want {
			t.Errorf("%s footprint: verdict %s, want %s", name, r.Verdict, c.want)
		}
	}
	rHigh, bodyHigh := check(high, sc.conflict)
	rLow, bodyLow := check(low, sc.conflict)
	// The uncleared caller gets one referral for the depot: review, never
	// the conflict, never the count of the depot's findings.
	if rHigh.Verdict != "conflict" || rLow.Verdict != "review" || len(rHigh.Findings) < 2 || len(rLow.Findings) != 1 {
		t.Fatalf("cleared %s/%d findings, uncleared %s/%d; want conflict/several and review/1", rHigh.Verdict, len(rHigh.Findings), rLow.Verdict, len(rLow.Findings))
	}
	if !strings.Contains(string(bodyHigh), sc.depotName) || !strings.Contains(string(bodyHigh), sc.depot.ID.String()) {
		t.Fatalf("a cleared caller does not see the depot: %s", bodyHigh)
	}
	for _, leak := range []string{sc.depotName, sc.depot.ID.String(), "K9", "12/QĐ-BQP", sc.depotCoordText} {
		if strings.Contains(string(bodyLow), leak) {
			t.Errorf("uncleared caller's result leaks %q: %s", leak, bodyLow)
		}
	}
	for _, f := range rLow.Findings {
		if !f.Component.Redacted || f.DistanceM != nil || f.Band != "" || f.Basis == "" || f.Rule != "defence-consultation" || f.Zone != "consultation_area" {
			t.Errorf("the referral is incomplete or leaks: %+v", f)
		}
	}
}

func TestCheckRejectsInvalidFootprint(t *testing.T) {
	ts := newTestServer(t, false)
	tok := ts.token(t, zone.RoleAppraiser, zone.Public)
	bowtie := `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[106,21]},"properties":{}},
	{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[106,21],[106.1,21.1],[106.1,21],[106,21.1],[106,21]]]},"properties":{}}]}`
	status, h, body := send(t, http.MethodPost, ts.URL+"/api/check", tok, []byte(bowtie))
	mustProblem(t, status, h, body, http.StatusUnprocessableEntity)
	var p struct {
		Errors []zone.Detail `json:"errors"`
	}
	_ = json.Unmarshal(body, &p)
	if len(p.Errors) != 1 || p.Errors[0].Index != 1 || !strings.Contains(p.Errors[0].Pointer, "coordinates[0]") {
		t.Fatalf("422 must name feature 1, ring 0: %s", body)
	}
	viewer := ts.token(t, zone.RoleViewer, zone.Secret)
	status, h, body = send(t, http.MethodPost, ts.URL+"/api/check", viewer, []byte(`{"type":"Point","coordinates":[106,21]}`))
	mustProblem(t, status, h, body, http.StatusForbidden)
}

type appraisal struct {
	ID       string `json:"id"`
	SiteID   string `json:"site_id"`
	Name     string `json:"name"`
	Status   string `json:"status"`
	Verdict  string `json:"verdict"`
	Decision *struct {
		Outcome string `json:"outcome"`
	} `json:"decision"`
	Checks []struct {
		ID      string `json:"id"`
		Verdict string `json:"verdict"`
		Result  result `json:"result"`
	} `json:"checks"`
}

func TestAppraisalLifecycle(t *testing.T) {
	ts := newTestServer(t, false)
	sc := newScene(t, ts)
	apprA := ts.token(t, zone.RoleAppraiser, zone.Public)
	apprB := ts.token(t, zone.RoleAppraiser, zone.Secret)
	reviewerLow := ts.token(t, zone.RoleReviewer, zone.Public)
	reviewerHigh := ts.token(t, zone.RoleReviewer, zone.Secret)
	admin := ts.token(t, zone.RoleAdmin, zone.Secret)
	viewer := ts.token(t, zone.RoleViewer, zone.Restricted)

	body := `{"name":"Khu nghỉ dưỡng Đồng Đăng","investor":"Công ty CP Du lịch Xứ Lạng","sector":"tourism","height_m":60,"activities":["crowd"],"footprint":` + sc.conflict + `}`
	status, h, resp := send(t, http.MethodPost, ts.URL+"/api/appraisals", apprA, []byte(body))
	if status != http.StatusCreated || h.Get("Location") == "" {
		t.Fatalf("create: %d %s", status, resp)
	}
	var a appraisal
	_ = json.Unmarshal(resp, &a)
	// The uncleared creator gets the referral (review) for the secret depot.
	if a.Verdict != "review" || a.Status != "pending" || len(a.Checks) != 1 || a.Name != "Khu nghỉ dưỡng Đồng Đăng" {
		t.Fatalf("created appraisal: %s", resp)
	}
	if strings.Contains(string(resp), "created_by_person") {
		t.Errorf("a token with no person gives a created_by_person: %s", resp)
	}
	if strings.Contains(string(resp), sc.depotName) {
		t.Fatalf("creator without clearance sees the secret depot: %s", resp)
	}
	// The project site is in its layer at once, but only for those who may
	// read every appraisal, each with the verdict they would get; others
	// (a viewer, the appraiser on the map) find nothing until it is
	// published.
	siteURL := ts.URL + "/ogc/collections/project_sites/items/" + a.SiteID
	for who, tok := range map[string]string{"viewer": viewer, "appraiser": apprA} {
		status, hh, b := get(t, siteURL, tok)
		if status != http.StatusNotFound {
			t.Fatalf("the unpublished site is visible to the %s: %d %s", who, status, b)
		}
		mustProblem(t, status, hh, b, http.StatusNotFound)
	}
	status, _, site := get(t, siteURL, reviewerHigh)
	if status != http.StatusOK || !strings.Contains(string(site), `"verdict":"conflict"`) || !strings.Contains(string(site), `"status":"pending"`) {
		t.Fatalf("project site for the cleared reviewer: %d %s", status, site)
	}
	status, _, site = get(t, siteURL, reviewerLow)
	if status != http.StatusOK || !strings.Contains(string(site), `"verdict":"review"`) || strings.Contains(string(site), `"verdicts"`) {
		t.Fatalf("project site for the uncleared reviewer: %d %s", status, site)
	}
	// Only an admin publishes; then every reader sees it, with their own verdict.
	status, hh, b := send(t, http.MethodPost, ts.URL+h.Get("Location")+"/publish", reviewerHigh, nil)
	mustProblem(t, status, hh, b, http.StatusForbidden)
	if status, _, b := send(t, http.MethodPost, ts.URL+h.Get("Location")+"/publish", admin, nil); status != http.StatusOK {
		t.Fatalf("publish: %d %s", status, b)
	}
	status, _, site = get(t, siteURL, viewer)
	if status != http.StatusOK || !strings.Contains(string(site), `"verdict":"review"`) {
		t.Fatalf("published site for a restricted viewer: %d %s", status, site)
	}

	// Visibility: the creator and reviewers see it; another appraiser does not.
	if status, _, _ := get(t, ts.URL+h.Get("Location"), apprA); status != http.StatusOK {
		t.Fatalf("creator cannot read own appraisal: %d", status)
	}
	status, hh, b = get(t, ts.URL+h.Get("Location"), apprB)
	mustProblem(t, status, hh, b, http.StatusNotFound)
	var list struct {
		Items []appraisal `json:"items"`
		Total int         `json:"total"`
	}
	_, _, b = get(t, ts.URL+"/api/appraisals", apprB)
	_ = json.Unmarshal(b, &list)
	if list.Total != 0 {
		t.Fatalf("appraiser B lists A's appraisal: %s", b)
	}
	_, _, b = get(t, ts.URL+"/api/appraisals?verdict=conflict&q=đồng+đăng", reviewerHigh)
	_ = json.Unmarshal(b, &list)
	if list.Total != 1 || list.Items[0].ID != a.ID {
		t.Fatalf("cleared reviewer's filtered list: %s", b)
	}
	// The uncleared reviewer lists it as review: the conflict is not theirs.
	_, _, b = get(t, ts.URL+"/api/appraisals?verdict=conflict", reviewerLow)
	_ = json.Unmarshal(b, &list)
	if list.Total != 0 {
		t.Fatalf("the uncleared reviewer lists the conflict: %s", b)
	}
	_, _, b = get(t, ts.URL+"/api/appraisals?verdict=review&q=đồng+đăng", reviewerLow)
	_ = json.Unmarshal(b, &list)
	if list.Total != 1 || list.Items[0].ID != a.ID || list.Items[0].Verdict != "review" {
		t.Fatalf("uncleared reviewer's filtered list: %s", b)
	}
	_, _, b = get(t, ts.URL+"/api/appraisals?verdict=clear", reviewerLow)
	_ = json.Unmarshal(b, &list)
	if list.Total != 0 {
		t.Fatalf("verdict filter ignored: %s", b)
	}

	// Redaction of the stored record, by reader.
	_, _, lowView := get(t, ts.URL+h.Get("Location"), reviewerLow)
	_, _, highView := get(t, ts.URL+h.Get("Location"), reviewerHigh)
	if !strings.Contains(string(highView), sc.depotName) {
		t.Fatalf("cleared reviewer does not see the depot in the record: %s", highView)
	}
	for _, leak := range []string{sc.depotName, sc.depot.ID.String(), sc.depotCoordText} {
		if strings.Contains(string(lowView), leak) {
			t.Fatalf("uncleared reviewer's record view leaks %q", leak)
		}
	}
	var lv, hv appraisal
	_ = json.Unmarshal(lowView, &lv)
	_ = json.Unmarshal(highView, &hv)
	// The record keeps the true check for the cleared reader; the other
	// gets the referral.
	if hv.Checks[0].Result.Verdict != "conflict" || lv.Checks[0].Result.Verdict != "review" || len(lv.Checks[0].Result.Findings) != 1 ||
		lv.Checks[0].Result.Findings[0].Rule != "defence-consultation" || hv.Verdict != "conflict" || lv.Verdict != "review" {
		t.Fatalf("record views: cleared %s (%s), uncleared %s (%s)", hv.Verdict, hv.Checks[0].Result.Verdict, lv.Verdict, lv.Checks[0].Result.Verdict)
	}

	// Reports.
	status, hh, rep := get(t, ts.URL+h.Get("Location")+"/report", reviewerLow)
	if status != http.StatusOK || !strings.HasPrefix(hh.Get("Content-Type"), "text/html") {
		t.Fatalf("report: %d %s", status, rep)
	}
	for _, want := range []string{"Khu nghỉ dưỡng Đồng Đăng", "Công ty CP Du lịch Xứ Lạng", "<svg", "Vùng tham vấn quốc phòng", "Luật số 25/2023/QH15, Điều 18", ts.rulesVersion(t)} {
		if !strings.Contains(string(rep), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	for _, leak := range []string{sc.depotName, sc.depot.ID.String()} {
		if strings.Contains(string(rep), leak) {
			t.Errorf("uncleared report leaks %q", leak)
		}
	}
	_, _, repHigh := get(t, ts.URL+h.Get("Location")+"/report", reviewerHigh)
	for _, want := range []string{sc.depotName, "XUNG ĐỘT", "Khu vực cấm", "trong khu vực cấm"} {
		if !strings.Contains(string(repHigh), want) {
			t.Errorf("cleared report lacks %q", want)
		}
	}

	// Decisions: appraisers may not decide; reviewers may.
	status, hh, b = send(t, http.MethodPost, ts.URL+h.Get("Location")+"/decision", apprA, []byte(`{"outcome":"approved"}`))
	mustProblem(t, status, hh, b, http.StatusForbidden)
	status, hh, b = send(t, http.MethodPost, ts.URL+h.Get("Location")+"/decision", reviewerLow, []byte(`{"outcome":"maybe"}`))
	mustProblem(t, status, hh, b, http.StatusBadRequest)
	status, _, b = send(t, http.MethodPost, ts.URL+h.Get("Location")+"/decision", reviewerLow, []byte(`{"outcome":"rejected","note":"Chồng lấn khu vực cấm"}`))
	var decided appraisal
	_ = json.Unmarshal(b, &decided)
	if status != http.StatusOK || decided.Status != "rejected" || decided.Decision == nil || decided.Decision.Outcome != "rejected" {
		t.Fatalf("decision: %d %s", status, b)
	}
	_, _, site = get(t, ts.URL+"/ogc/collections/project_sites/items/"+a.SiteID, apprA)
	if !strings.Contains(string(site), `"status":"rejected"`) {
		t.Fatalf("site status not updated: %s", site)
	}

	// Recheck after a data change: a new record; the old one byte-identical.
	stored, err := ts.Store.GetAppraisal(context.Background(), mustUUID(t, a.ID), zone.Secret)
	if err != nil {
		t.Fatal(err)
	}
	oldResult := append([]byte(nil), stored.Checks[0].Result...)
	if err := ts.Store.DeleteComponent(context.Background(), sc.depot.ID, 0, zone.Secret, "test"); err != nil {
		t.Fatal(err)
	}
	ts.sync(t)
	status, _, b = send(t, http.MethodPost, ts.URL+h.Get("Location")+"/recheck", apprA, nil)
	var re appraisal
	_ = json.Unmarshal(b, &re)
	if status != http.StatusOK || len(re.Checks) != 2 || re.Checks[0].Verdict != "clear" || re.Checks[1].Verdict != "review" || re.Verdict != "clear" {
		t.Fatalf("recheck: %d %s", status, b)
	}
	stored, err = ts.Store.GetAppraisal(context.Background(), mustUUID(t, a.ID), zone.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stored.Checks[1].Result, oldResult) {
		t.Fatalf("the earlier check record changed")
	}
}

func TestRulesAPI(t *testing.T) {
	ts := newTestServer(t, false)
	admin := ts.token(t, zone.RoleAdmin, zone.Secret)
	appraiser := ts.token(t, zone.RoleAppraiser, zone.Secret)
	before := ts.rulesVersion(t)

	status, h, b := send(t, http.MethodPost, ts.URL+"/api/rules", appraiser, data.DefaultRules())
	mustProblem(t, status, h, b, http.StatusForbidden)

	bad := strings.Replace(string(data.DefaultRules()), "distance_m: 500", "distance_m: -5", 1)
	bad = strings.Replace(bad, `version: "`, `version: "bad-`, 1)
	status, h, b = send(t, http.MethodPost, ts.URL+"/api/rules", admin, []byte(bad))
	mustProblem(t, status, h, b, http.StatusUnprocessableEntity)
	if !strings.Contains(string(b), "distance_m") || !strings.Contains(string(b), "rules[") {
		t.Fatalf("the error does not say where: %s", b)
	}
	if v := ts.rulesVersion(t); v != before {
		t.Fatalf("a bad rule set changed the version: %s -> %s", before, v)
	}

	good := strings.Replace(string(data.DefaultRules()), `version: "`, `version: "test-`, 1)
	status, _, b = send(t, http.MethodPost, ts.URL+"/api/rules", admin, []byte(good))
	if status != http.StatusCreated {
		t.Fatalf("load: %d %s", status, b)
	}
	if v := ts.rulesVersion(t); v != "test-"+before {
		t.Fatalf("version in force %q, want %q", v, "test-"+before)
	}
	status, h, b = send(t, http.MethodPost, ts.URL+"/api/rules", admin, []byte(good))
	mustProblem(t, status, h, b, http.StatusConflict)
}

func (ts *testServer) rulesVersion(t *testing.T) string {
	t.Helper()
	var rs struct {
		Version string `json:"version"`
	}
	tok := ts.token(t, zone.RoleViewer, zone.Public)
	_, _, b := get(t, ts.URL+"/api/rules", tok)
	if err := json.Unmarshal(b, &rs); err != nil || rs.Version == "" {
		t.Fatalf("/api/rules: %s", b)
	}
	return rs.Version
}
