package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/data"
	"github.com/zoneplan/zoneplan/internal/admission"
	"github.com/zoneplan/zoneplan/internal/audit"
	"github.com/zoneplan/zoneplan/internal/auth"
	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/consult"
	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/index"
	"github.com/zoneplan/zoneplan/internal/pgtest"
	"github.com/zoneplan/zoneplan/internal/postgis"
	"github.com/zoneplan/zoneplan/internal/probing"
	"github.com/zoneplan/zoneplan/internal/quota"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// auditOptions are the parts of a guarded server a test sets.
type auditOptions struct {
	quota     *quota.Limiter
	probing   *probing.Detector
	backlog   int
	admission httpapi.Admission // nil gates: the defaults
}

// auditServer is a real server with the audit trail's recorder, quotas
// and probing detection, as `serve` wires them.
type auditServer struct {
	*testServer
	Trail *audit.Recorder
}

func newAuditServer(t *testing.T, st zone.Store, o auditOptions) *auditServer {
	t.Helper()
	ix := index.New()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := ix.Load(ctx, st); err != nil {
		t.Fatal(err)
	}
	go ix.Follow(ctx, st, nil)
	active, err := check.NewActive(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	trail := audit.NewRecorder(st, audit.Options{Backlog: o.backlog, FlushEvery: 20 * time.Millisecond})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = trail.Close(ctx)
	})
	h := httpapi.NewServer(httpapi.Deps{Store: st, Index: ix, Rules: active,
		Auth:  &auth.Authenticator{Tokens: st, CacheTTL: time.Minute},
		Audit: trail, Quota: o.quota, Probing: o.probing, Admission: o.admission, Config: httpapi.Config{Version: "test"}})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &auditServer{testServer: &testServer{URL: srv.URL, Store: st, Index: ix}, Trail: trail}
}

func newEmbeddedStore(t *testing.T) zone.Store {
	t.Helper()
	return openEmbedded(t, filepath.Join(t.TempDir(), "z.db"))
}

func newPostGISStore(t *testing.T) zone.Store {
	t.Helper()
	dsn := pgtest.New(t)
	if err := postgis.Migrate(t.Context(), dsn, nil); err != nil {
		t.Fatal(err)
	}
	return openPostGIS(t, dsn)
}

// auditEntry is an entry as GET /api/audit gives it.
type auditEntry struct {
	ID     string `json:"id"`
	Seq    int64  `json:"seq"`
	Time   string `json:"time"`
	Action string `json:"action"`
	Actor  struct {
		TokenID   string `json:"token_id"`
		Name      string `json:"name"`
		Role      string `json:"role"`
		Clearance string `json:"clearance"`
	} `json:"actor"`
	Object         string          `json:"object"`
	Layer          string          `json:"layer"`
	Classification string          `json:"classification"`
	Detail         json.RawMessage `json:"detail"`
	Hash           string          `json:"hash"`
	SuspendedUntil *time.Time      `json:"suspended_until"`
}

type auditPage struct {
	Items []auditEntry `json:"items"`
	Next  string       `json:"next"`
}

func readAudit(t *testing.T, base, path, token string) (auditPage, []byte) {
	t.Helper()
	status, _, body := get(t, base+path, token)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, status, body)
	}
	var p auditPage
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("GET %s: %v %s", path, err, body)
	}
	return p, body
}

// issue creates a token through the API (so its creation is audited) and
// returns its secret and id.
func issue(t *testing.T, base, admin, name string, role zone.Role, cl zone.Classification) (string, string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"name": name, "role": string(role), "clearance": cl.String()})
	status, _, resp := send(t, http.MethodPost, base+"/api/tokens", admin, body)
	if status != http.StatusCreated {
		t.Fatalf("create token %s: %d %s", name, status, resp)
	}
	var tok struct {
		ID     string `json:"id"`
		Secret string `json:"token"`
	}
	_ = json.Unmarshal(resp, &tok)
	return tok.Secret, tok.ID
}

// TestAuditTrailOfEveryAction drives every audited action through the
// API, on both stores, and reads the trail back as auditors of two
// clearances: each action has its entry with the right actor, object and
// classification; a reader sees only entries up to their clearance; no
// entry a public reader sees says anything of the secret depot; the
// filters and paging work; bad filters are 400 problems; the chain holds.
func TestAuditTrailOfEveryAction(t *testing.T) {
	for name, open := range map[string]func(*testing.T) zone.Store{"embedded": newEmbeddedStore, "postgis": newPostGISStore} {
		t.Run(name, func(t *testing.T) { testAuditTrailOfEveryAction(t, open(t)) })
	}
}

func testAuditTrailOfEveryAction(t *testing.T, st zone.Store) {
	ts := newAuditServer(t, st, auditOptions{})
	sc := newScene(t, ts.testServer)
	adminSecret, _, err := auth.Issue(t.Context(), st, "Quản trị", zone.RoleAdmin, zone.Secret, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	adminTok, _ := ts.Store.TokenByHash(t.Context(), auth.Hash(adminSecret))
	appraiser, appraiserID := issue(t, ts.URL, adminSecret, "Thẩm định viên An", zone.RoleAppraiser, zone.Public)
	reviewer, _ := issue(t, ts.URL, adminSecret, "Cán bộ thẩm tra Bình", zone.RoleReviewer, zone.Secret)
	editor, editorID := issue(t, ts.URL, adminSecret, "Biên tập viên Cường", zone.RoleEditor, zone.Secret)
	viewer, _ := issue(t, ts.URL, adminSecret, "Người xem Dũng", zone.RoleViewer, zone.Internal)
	auditor, _ := issue(t, ts.URL, adminSecret, "Kiểm toán Em", zone.RoleAuditor, zone.Secret)
	auditorLow, _ := issue(t, ts.URL, adminSecret, "Kiểm toán Phúc", zone.RoleAuditor, zone.Public)
	doomed, doomedID := issue(t, ts.URL, adminSecret, "Sắp thu hồi", zone.RoleViewer, zone.Public)

	// A check by an uncleared appraiser, touching the secret depot's cells.
	if status, _, b := send(t, http.MethodPost, ts.URL+"/api/check", appraiser, []byte(sc.conflict)); status != http.StatusOK {
		t.Fatalf("check: %d %s", status, b)
	}
	// An appraisal: created, rechecked by a cleared reviewer, decided, published.
	status, _, b := send(t, http.MethodPost, ts.URL+"/api/appraisals", appraiser, []byte(`{"name":"Nhà máy gạch Tân Thanh","footprint":`+sc.conflict+`}`))
	if status != http.StatusCreated {
		t.Fatalf("appraisal: %d %s", status, b)
	}
	var a appraisal
	_ = json.Unmarshal(b, &a)
	for _, step := range []struct{ path, token, body string }{
		{"/recheck", adminSecret, ``},
		{"/decision", reviewer, `{"outcome":"rejected","note":"gần kho"}`},
		{"/publish", adminSecret, ``},
	} {
		if status, _, b := send(t, http.MethodPost, ts.URL+"/api/appraisals/"+a.ID+step.path, step.token, []byte(step.body)); status != http.StatusOK {
			t.Fatalf("%s: %d %s", step.path, status, b)
		}
	}
	// Edits of defence data, and a read by id of the internal feature.
	items := ts.URL + "/ogc/collections/" + zone.LayerCommuneHQs + "/items"
	status, h, b := do(t, http.MethodPost, items, editor, nil, `{"type":"Feature","geometry":{"type":"Point","coordinates":[106.45,21.55]},"properties":{"name":"Trụ sở mới","classification":"internal"}}`)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, b)
	}
	loc := h.Get("Location")
	compID := loc[strings.LastIndex(loc, "/")+1:]
	if status, _, b := do(t, http.MethodPatch, loc, editor, map[string]string{"If-Match": `"1"`}, `{"properties":{"name":"Trụ sở đổi tên"}}`); status != http.StatusOK {
		t.Fatalf("patch: %d %s", status, b)
	}
	if status, _, b := get(t, loc, viewer); status != http.StatusOK {
		t.Fatalf("read: %d %s", status, b)
	}
	if status, _, b := get(t, items+"/"+sc.hq.ID.String(), viewer); status != http.StatusOK { // public: not recorded
		t.Fatalf("read public: %d %s", status, b)
	}
	if status, _, b := do(t, http.MethodDelete, loc, editor, nil, ""); status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", status, b)
	}
	// A rule set, a revocation, and the revoked token used.
	good := strings.Replace(string(data.DefaultRules()), `version: "`, `version: "audit-`, 1)
	if status, _, b := send(t, http.MethodPost, ts.URL+"/api/rules", adminSecret, []byte(good)); status != http.StatusCreated {
		t.Fatalf("rules: %d %s", status, b)
	}
	if status, _, b := send(t, http.MethodDelete, ts.URL+"/api/tokens/"+doomedID, adminSecret, nil); status != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", status, b)
	}
	for range 3 { // one entry, not three
		if status, _, _ := get(t, ts.URL+"/api/layers", doomed); status != http.StatusUnauthorized {
			t.Fatalf("revoked token: %d", status)
		}
	}

	all, _ := readAudit(t, ts.URL, "/api/audit?limit=1000", auditor)
	find := func(action, object string) []auditEntry {
		var out []auditEntry
		for _, e := range all.Items {
			if e.Action == action && (object == "" || e.Object == object) {
				out = append(out, e)
			}
		}
		return out
	}
	for _, w := range []struct {
		action, object, actor, cl string
		n                         int
	}{
		{zone.AuditTokenCreated, appraiserID, "Quản trị", "public", 1},
		{zone.AuditTokenCreated, "", "Quản trị", "public", 7},
		{zone.AuditCheck, "", "Thẩm định viên An", "public", 1},
		{zone.AuditAppraisalCreated, a.ID, "Thẩm định viên An", "public", 1},
		{zone.AuditAppraisalRechecked, a.ID, "Quản trị", "secret", 1},
		{zone.AuditAppraisalDecided, a.ID, "Cán bộ thẩm tra Bình", "public", 1},
		{zone.AuditAppraisalPublished, a.ID, "Quản trị", "public", 1},
		{zone.AuditComponentCreated, compID, "Biên tập viên Cường", "internal", 1},
		{zone.AuditComponentUpdated, compID, "Biên tập viên Cường", "internal", 1},
		{zone.AuditComponentDeleted, compID, "Biên tập viên Cường", "internal", 1},
		{zone.AuditFeatureRead, compID, "Người xem Dũng", "internal", 1},
		{zone.AuditFeatureRead, sc.hq.ID.String(), "", "", 0},
		{zone.AuditRuleSetLoaded, "", "Quản trị", "public", 1},
		{zone.AuditTokenRevoked, doomedID, "Quản trị", "public", 1},
		{zone.AuditTokenRefused, doomedID, "Sắp thu hồi", "public", 1},
	} {
		got := find(w.action, w.object)
		if len(got) != w.n {
			t.Errorf("%s %s: %d entries, want %d", w.action, w.object, len(got), w.n)
			continue
		}
		for _, e := range got {
			if e.Actor.Name != w.actor || e.Classification != w.cl {
				t.Errorf("%s %s: actor %q classified %s, want %q and %s", w.action, w.object, e.Actor.Name, e.Classification, w.actor, w.cl)
			}
		}
	}
	if e := find(zone.AuditAppraisalCreated, a.ID); len(e) == 1 && e[0].Actor.TokenID != appraiserID {
		t.Errorf("appraisal.created by token %s, want %s", e[0].Actor.TokenID, appraiserID)
	}
	if e := find(zone.AuditTokenCreated, appraiserID); len(e) == 1 && e[0].Actor.TokenID != adminTok.ID.String() {
		t.Errorf("token.created by token %s, want the admin's %s", e[0].Actor.TokenID, adminTok.ID)
	}
	var cd struct {
		Footprint    string     `json:"footprint_sha256"`
		BBox         [4]float64 `json:"bbox"`
		Features     int        `json:"features"`
		Verdict      string     `json:"verdict"`
		Consultation bool       `json:"consultation"`
	}
	if e := find(zone.AuditCheck, ""); len(e) == 1 {
		if err := json.Unmarshal(e[0].Detail, &cd); err != nil || cd.Verdict != "review" || !cd.Consultation || cd.Features != 1 || len(cd.Footprint) != 64 || cd.BBox[0] > 106.3137 || cd.BBox[2] < 106.3137 {
			t.Errorf("check entry detail %s: want the referral (review, consultation), one feature, the footprint's hash and box", e[0].Detail)
		}
	}
	var ed struct {
		Before int64 `json:"before_version"`
		After  int64 `json:"after_version"`
	}
	if e := find(zone.AuditComponentUpdated, compID); len(e) == 1 {
		if err := json.Unmarshal(e[0].Detail, &ed); err != nil || ed.Before != 1 || ed.After != 2 || e[0].Layer != zone.LayerCommuneHQs {
			t.Errorf("update entry %s in layer %q: want versions 1 -> 2 in %s", e[0].Detail, e[0].Layer, zone.LayerCommuneHQs)
		}
	}

	// The public auditor sees the public entries only, with nothing of the
	// depot, and no chain positions (their gaps would count hidden entries).
	low, lowBody := readAudit(t, ts.URL, "/api/audit?limit=1000", auditorLow)
	var wantLow int
	for _, e := range all.Items {
		if e.Classification == "public" {
			wantLow++
		}
	}
	if len(low.Items) != wantLow || wantLow == 0 || wantLow == len(all.Items) {
		t.Fatalf("public auditor sees %d entries, want the %d public ones of %d", len(low.Items), wantLow, len(all.Items))
	}
	for _, e := range low.Items {
		if e.Classification != "public" || e.Seq != 0 || e.Hash != "" {
			t.Errorf("public auditor gets %s entry %s (seq %d, hash %q)", e.Classification, e.Action, e.Seq, e.Hash)
		}
	}
	for _, leak := range []string{sc.depotName, sc.depot.ID.String(), "K9", "12/QĐ-BQP", compID} {
		if strings.Contains(string(lowBody), leak) {
			t.Errorf("the public auditor's trail leaks %q", leak)
		}
	}
	for _, e := range all.Items {
		if e.Seq == 0 || len(e.Hash) != 64 {
			t.Errorf("secret auditor's entry %s lacks its chain position: seq %d hash %q", e.Action, e.Seq, e.Hash)
		}
		if e.Action == zone.AuditCheck || strings.HasPrefix(e.Action, "appraisal.") {
			for _, leak := range []string{sc.depotName, sc.depot.ID.String(), "K9"} {
				if strings.Contains(string(e.Detail), leak) {
					t.Errorf("%s entry names the depot: %s", e.Action, e.Detail)
				}
			}
		}
	}

	// Filters.
	count := func(path, token string) int {
		p, _ := readAudit(t, ts.URL, path, token)
		return len(p.Items)
	}
	for _, c := range []struct {
		path string
		want int
	}{
		{"/api/audit?limit=1000&actor=" + appraiserID, 2},
		{"/api/audit?limit=1000&actor=" + url.QueryEscape("Thẩm định viên An"), 2},
		{"/api/audit?limit=1000&action=appraisal.*", 4},
		{"/api/audit?limit=1000&action=" + zone.AuditCheck, 1},
		{"/api/audit?limit=1000&object=" + a.ID, 4},
		{"/api/audit?limit=1000&component=" + compID, 4},
		{"/api/audit?limit=1000&component=" + compID + "&actor=" + editorID, 3},
		{"/api/audit?limit=1000&since=" + url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339)), 0},
		{"/api/audit?limit=1000&until=" + url.QueryEscape(time.Now().Add(-time.Hour).Format(time.RFC3339)), 0},
		{"/api/audit?limit=1000&since=" + url.QueryEscape(time.Now().Add(-time.Hour).Format(time.RFC3339)), len(all.Items)},
	} {
		if got := count(c.path, auditor); got != c.want {
			t.Errorf("%s: %d entries, want %d", c.path, got, c.want)
		}
	}
	if got := count("/api/audit?limit=1000&object="+a.ID, auditorLow); got != 3 {
		t.Errorf("public auditor's history of the appraisal: %d entries, want 3 (not the secret recheck)", got)
	}
	// Paging: pages of 4 cover the trail once, newest first.
	var paged []string
	next := "/api/audit?limit=4"
	for next != "" {
		p, _ := readAudit(t, ts.URL, next, auditor)
		if len(p.Items) > 4 {
			t.Fatalf("a page of %d", len(p.Items))
		}
		for _, e := range p.Items {
			paged = append(paged, e.ID)
		}
		next = p.Next
	}
	var ids []string
	for _, e := range all.Items {
		ids = append(ids, e.ID)
	}
	if !slices.Equal(paged, ids) {
		t.Errorf("paging gave %d entries %v, want %d %v", len(paged), paged, len(ids), ids)
	}
	// Bad filters are 400 problems naming the parameter; other roles 403.
	for _, bad := range []string{"action=nothing", "since=yesterday", "until=2025-13-01T00:00:00Z", "before=not-an-id",
		"before=" + uuid.NewString(), "limit=0", "limit=1001", "colour=red", "component=K9",
		"since=2025-03-02T00:00:00Z&until=2025-03-01T00:00:00Z", "actor=a&actor=b"} {
		status, h, body := get(t, ts.URL+"/api/audit?"+bad, auditor)
		mustProblem(t, status, h, body, http.StatusBadRequest)
	}
	for _, tok := range []string{appraiser, reviewer, editor, viewer} {
		status, h, body := get(t, ts.URL+"/api/audit", tok)
		mustProblem(t, status, h, body, http.StatusForbidden)
	}
	if status, _, _ := get(t, ts.URL+"/api/audit", adminSecret); status != http.StatusOK {
		t.Errorf("an admin may not read the trail: %d", status)
	}

	// The appraisal's record shows its history, as far as the reader may see.
	history := func(token string) []string {
		t.Helper()
		status, _, body := get(t, ts.URL+"/api/appraisals/"+a.ID, token)
		if status != http.StatusOK {
			t.Fatalf("appraisal: %d %s", status, body)
		}
		var v struct {
			History []auditEntry `json:"history"`
		}
		_ = json.Unmarshal(body, &v)
		var out []string
		for _, e := range v.History {
			out = append(out, e.Action)
		}
		return out
	}
	if got := fmt.Sprint(history(reviewer)); got != "[appraisal.created appraisal.rechecked appraisal.decided appraisal.published]" {
		t.Errorf("reviewer's history: %s", got)
	}
	if got := fmt.Sprint(history(appraiser)); got != "[appraisal.created appraisal.decided appraisal.published]" {
		t.Errorf("appraiser's history (no secret recheck): %s", got)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.Trail.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := audit.Verify(ctx, st)
	if err != nil || rep.Break != nil || rep.Entries != int64(len(all.Items)) {
		t.Fatalf("chain: %+v %v, want intact with %d entries", rep, err, len(all.Items))
	}
}

// TestAuditBacklogRefuses: with the store gone (its audit appends fail),
// checks go on from memory while the trail's backlog has room, each still
// recorded; past it they are refused with 503 and Retry-After rather than
// done unaudited.
func TestAuditBacklogRefuses(t *testing.T) {
	st := newEmbeddedStore(t)
	ts := newAuditServer(t, st, auditOptions{backlog: 5})
	sc := newScene(t, ts.testServer)
	tok := ts.token(t, zone.RoleAppraiser, zone.Public)
	if status, _, b := send(t, http.MethodPost, ts.URL+"/api/check", tok, []byte(sc.clear)); status != http.StatusOK { // caches the token
		t.Fatalf("check: %d %s", status, b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ts.Trail.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close() // every append fails from now on
	for i := range 5 {
		if status, _, b := send(t, http.MethodPost, ts.URL+"/api/check", tok, []byte(sc.clear)); status != http.StatusOK {
			t.Fatalf("check %d with room in the backlog: %d %s", i, status, b)
		}
	}
	status, h, b := send(t, http.MethodPost, ts.URL+"/api/check", tok, []byte(sc.clear))
	mustProblem(t, status, h, b, http.StatusServiceUnavailable)
	if h.Get("Retry-After") == "" || !strings.Contains(string(b), "audit") {
		t.Fatalf("refusal without Retry-After or reason: %v %s", h, b)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !ts.Trail.Stats().Failing && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if s := ts.Trail.Stats(); s.Queued != 5 || s.Refused != 1 || !s.Failing || s.Failures == 0 {
		t.Fatalf("recorder: %+v, want 5 queued, 1 refused, failing", s)
	}
}

// ring is a polygon ring for a box.
func boxAround(lon, lat, w, s, e, n float64) string {
	return geomJSON(orb.Polygon{{{lon - w, lat - s}, {lon + e, lat - s}, {lon + e, lat + n}, {lon - w, lat + n}, {lon - w, lat - s}}})
}

// TestQuotas: the feature cap (422 at the 51st feature, refused while
// read), the rate (429 with Retry-After, and served again after it), the
// daily budget (429 until midnight), appraisals' own limits; a secret
// caller is not limited.
func TestQuotas(t *testing.T) {
	lim := quota.New(quota.Config{
		Checks:      quota.Limits{Rate: 60, Burst: 3, Daily: 8},
		Appraisals:  quota.Limits{Rate: 60, Burst: 1, Daily: 100},
		MaxFeatures: 50,
	})
	ts := newAuditServer(t, newEmbeddedStore(t), auditOptions{quota: lim})
	sc := newScene(t, ts.testServer)
	low := ts.token(t, zone.RoleAppraiser, zone.Public)
	high := ts.token(t, zone.RoleAppraiser, zone.Secret)

	collection := func(n int) string {
		var fs []string
		for i := range n {
			fs = append(fs, `{"type":"Feature","properties":{},"geometry":`+geomJSON(box(106.8+float64(i)*0.01, 21.0, 0.001))+`}`)
		}
		return `{"type":"FeatureCollection","features":[` + strings.Join(fs, ",") + `]}`
	}
	// The 51st feature: content over a limit, 422, no Retry-After.
	status, h, b := send(t, http.MethodPost, ts.URL+"/api/check", low, []byte(collection(51)))
	mustProblem(t, status, h, b, http.StatusUnprocessableEntity)
	if h.Get("Retry-After") != "" || !strings.Contains(string(b), "50") {
		t.Fatalf("51 features: %v %s", h, b)
	}
	time.Sleep(time.Second) // refill what the refusal took
	if status, _, b := send(t, http.MethodPost, ts.URL+"/api/check", high, []byte(collection(51))); status != http.StatusOK {
		t.Fatalf("secret caller, 51 features: %d %s", status, b)
	}

	// The rate: a burst of 3, then 429 with Retry-After; served again after it.
	time.Sleep(3 * time.Second)
	for i := range 3 {
		if status, _, b := send(t, http.MethodPost, ts.URL+"/api/check", low, []byte(sc.clear)); status != http.StatusOK {
			t.Fatalf("check %d within the burst: %d %s", i, status, b)
		}
	}
	status, h, b = send(t, http.MethodPost, ts.URL+"/api/check", low, []byte(sc.clear))
	mustProblem(t, status, h, b, http.StatusTooManyRequests)
	if ra := h.Get("Retry-After"); ra != "1" {
		t.Fatalf("Retry-After %q, want 1 (a request a second)", ra)
	}
	time.Sleep(time.Second)
	if status, _, b := send(t, http.MethodPost, ts.URL+"/api/check", low, []byte(sc.clear)); status != http.StatusOK {
		t.Fatalf("check after Retry-After: %d %s", status, b)
	}
	// The daily budget: 8 footprints; 4 spent (the 51-feature upload spent
	// none). A collection of 5 is refused whole; 4 pass; then nothing.
	time.Sleep(3 * time.Second)
	status, h, b = send(t, http.MethodPost, ts.URL+"/api/check", low, []byte(collection(5)))
	mustProblem(t, status, h, b, http.StatusTooManyRequests)
	if !strings.Contains(string(b), "daily budget") || h.Get("Retry-After") == "" {
		t.Fatalf("over the budget: %v %s", h, b)
	}
	if ra := retryAfter(t, h); ra < 1 || ra > 24*3600 {
		t.Fatalf("Retry-After %d s: want the time to midnight", ra)
	}
	if status, _, b := send(t, http.MethodPost, ts.URL+"/api/check", low, []byte(collection(4))); status != http.StatusOK {
		t.Fatalf("within the budget: %d %s", status, b)
	}
	status, h, b = send(t, http.MethodPost, ts.URL+"/api/check", low, []byte(sc.clear))
	mustProblem(t, status, h, b, http.StatusTooManyRequests)
	// Appraisals have their own limits: the check budget spent does not stop one.
	appraise := func(tok string) (int, http.Header, []byte) {
		return send(t, http.MethodPost, ts.URL+"/api/appraisals", tok, []byte(`{"name":"Dự án","footprint":`+sc.clear+`}`))
	}
	if status, _, b := appraise(low); status != http.StatusCreated {
		t.Fatalf("appraisal: %d %s", status, b)
	}
	status, h, b = appraise(low)
	mustProblem(t, status, h, b, http.StatusTooManyRequests)
	// A secret caller is not limited.
	for i := range 20 {
		if status, _, b := send(t, http.MethodPost, ts.URL+"/api/check", high, []byte(sc.clear)); status != http.StatusOK {
			t.Fatalf("secret caller's check %d: %d %s", i, status, b)
		}
	}
	for i := range 3 {
		if status, _, b := appraise(high); status != http.StatusCreated {
			t.Fatalf("secret caller's appraisal %d: %d %s", i, status, b)
		}
	}
	if s := lim.Stats(); s.RefusedRate["checks"] < 1 || s.RefusedDaily["checks"] < 2 || s.RefusedRate["appraisals"] < 1 {
		t.Errorf("counters %+v", s)
	}
}

// commitAfterCancel is a store whose next create, once armed, lands
// however the request ends, but is reported as a failure when the
// request's context ended while it was in flight: a COMMIT sent before the
// client went away, whose answer the driver then gives up on.
type commitAfterCancel struct {
	zone.Store
	armed   atomic.Bool
	entered chan struct{}
	landed  chan uuid.UUID
}

func (s *commitAfterCancel) stall(ctx context.Context) bool {
	if !s.armed.CompareAndSwap(true, false) {
		return false
	}
	s.entered <- struct{}{}
	select { // the client goes away meanwhile
	case <-ctx.Done():
	case <-time.After(time.Second):
	}
	return true
}

func (s *commitAfterCancel) CreateComponent(ctx context.Context, c *zone.Component, by string) (*zone.Component, error) {
	if !s.stall(ctx) {
		return s.Store.CreateComponent(ctx, c, by)
	}
	out, err := s.Store.CreateComponent(context.WithoutCancel(ctx), c, by)
	if err == nil {
		s.landed <- out.ID
	}
	if err == nil && ctx.Err() != nil {
		return nil, &zone.Error{Code: zone.CodeUnavailable, Message: "cannot store the component: the request was cancelled", Err: ctx.Err()}
	}
	return out, err
}

func (s *commitAfterCancel) CreateAppraisal(ctx context.Context, a *zone.Appraisal, site *zone.Component, first zone.CheckRecord) (*zone.Appraisal, error) {
	if !s.stall(ctx) {
		return s.Store.CreateAppraisal(ctx, a, site, first)
	}
	out, err := s.Store.CreateAppraisal(context.WithoutCancel(ctx), a, site, first)
	if err == nil {
		s.landed <- out.ID
	}
	if err == nil && ctx.Err() != nil {
		return nil, &zone.Error{Code: zone.CodeUnavailable, Message: "cannot store the appraisal: the request was cancelled", Err: ctx.Err()}
	}
	return out, err
}

// TestWriteOfAGoneClientIsAudited: a client that goes away while its
// write is in flight does not leave a write without its audit entry: the
// write runs to its end (it does not see the client leave) and is
// recorded.
func TestWriteOfAGoneClientIsAudited(t *testing.T) {
	st := &commitAfterCancel{Store: newEmbeddedStore(t), entered: make(chan struct{}, 1), landed: make(chan uuid.UUID, 1)}
	ts := newAuditServer(t, st, auditOptions{})
	sc := newScene(t, ts.testServer)
	editor := ts.token(t, zone.RoleEditor, zone.Secret)
	appraiser := ts.token(t, zone.RoleAppraiser, zone.Secret)
	auditor := ts.token(t, zone.RoleAuditor, zone.Secret)
	for _, w := range []struct{ name, path, token, body, action string }{
		{"component", "/ogc/collections/" + zone.LayerCommuneHQs + "/items", editor,
			`{"type":"Feature","geometry":{"type":"Point","coordinates":[106.45,21.55]},"properties":{"name":"Trụ sở mới","classification":"internal"}}`,
			zone.AuditComponentCreated},
		{"appraisal", "/api/appraisals", appraiser, `{"name":"Dự án","footprint":` + sc.clear + `}`, zone.AuditAppraisalCreated},
	} {
		st.armed.Store(true)
		ctx, cancel := context.WithCancel(t.Context())
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+w.path, strings.NewReader(w.body))
		req.Header.Set("Authorization", "Bearer "+w.token)
		req.Header.Set("Content-Type", "application/json")
		gone := make(chan error, 1)
		go func() {
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
			}
			gone <- err
		}()
		select {
		case <-st.entered:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the write never started", w.name)
		}
		cancel() // the client goes away while its write is in flight
		if err := <-gone; err == nil {
			t.Fatalf("%s: the request was answered before the client went away", w.name)
		}
		var id uuid.UUID
		select {
		case id = <-st.landed:
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: the write never landed", w.name)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			if err := ts.Trail.Flush(t.Context()); err != nil {
				t.Fatal(err)
			}
			page, _ := readAudit(t, ts.URL, "/api/audit?object="+id.String()+"&action="+w.action, auditor)
			if len(page.Items) == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s %s was written but has %d audit entries, want 1", w.name, id, len(page.Items))
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// trailTrouble is a store whose audit trail reads can be made to fail,
// and whose appends can be held back until the next trail read has read
// (then drained before that read returns: the recorder appending between
// a reader's two reads of the trail, the store's and the queue's).
type trailTrouble struct {
	zone.Store
	trail   *audit.Recorder
	failing atomic.Bool
	racing  atomic.Bool
	release chan struct{}
}

func (s *trailTrouble) AppendAudit(ctx context.Context, es []zone.AuditEntry) ([]zone.AuditEntry, error) {
	if s.racing.Load() {
		<-s.release
	}
	return s.Store.AppendAudit(ctx, es)
}

func (s *trailTrouble) ListAudit(ctx context.Context, q zone.AuditQuery) ([]zone.AuditEntry, error) {
	if s.failing.Load() {
		return nil, &zone.Error{Code: zone.CodeUnavailable, Message: "cannot read the audit trail: the database is not available"}
	}
	es, err := s.Store.ListAudit(ctx, q)
	if s.racing.CompareAndSwap(true, false) {
		close(s.release)
		if err := s.trail.Flush(ctx); err != nil {
			return nil, err
		}
	}
	return es, err
}

// TestAppraisalHistoryIsBestEffortAfterWrites: a write whose history
// cannot be read back is answered as done, without the history (null);
// and an entry the recorder appends between the reads of the store and of
// its queue is in the history all the same.
func TestAppraisalHistoryIsBestEffortAfterWrites(t *testing.T) {
	st := &trailTrouble{Store: newEmbeddedStore(t), release: make(chan struct{})}
	ts := newAuditServer(t, st, auditOptions{})
	st.trail = ts.Trail
	sc := newScene(t, ts.testServer)
	appraiser := ts.token(t, zone.RoleAppraiser, zone.Secret)

	st.failing.Store(true)
	status, _, b := send(t, http.MethodPost, ts.URL+"/api/appraisals", appraiser, []byte(`{"name":"Dự án","footprint":`+sc.clear+`}`))
	if status != http.StatusCreated {
		t.Fatalf("create with the trail unreadable: %d %s, want 201 (the appraisal was stored)", status, b)
	}
	var created struct {
		ID      string           `json:"id"`
		History *json.RawMessage `json:"history"`
	}
	if err := json.Unmarshal(b, &created); err != nil || created.ID == "" {
		t.Fatalf("create: %v %s", err, b)
	}
	if created.History != nil {
		t.Fatalf("history %s, want null (not read)", *created.History)
	}
	recheck := ts.URL + "/api/appraisals/" + created.ID + "/recheck"
	if status, _, b := send(t, http.MethodPost, recheck, appraiser, nil); status != http.StatusOK {
		t.Fatalf("recheck with the trail unreadable: %d %s, want 200", status, b)
	}
	// A GET is not a write: it fails rather than show no history.
	status, h, b := get(t, ts.URL+"/api/appraisals/"+created.ID, appraiser)
	mustProblem(t, status, h, b, http.StatusServiceUnavailable)
	st.failing.Store(false)

	// The recorder appends the recheck's entry after the store's trail
	// was read and before the answer is written.
	if err := ts.Trail.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	st.racing.Store(true)
	status, _, b = send(t, http.MethodPost, recheck, appraiser, nil)
	if status != http.StatusOK {
		t.Fatalf("recheck: %d %s", status, b)
	}
	var v struct {
		History []auditEntry `json:"history"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range v.History {
		actions = append(actions, e.Action)
	}
	want := []string{zone.AuditAppraisalCreated, zone.AuditAppraisalRechecked, zone.AuditAppraisalRechecked}
	if !slices.Equal(actions, want) {
		t.Fatalf("history %v, want %v", actions, want)
	}
}

// TestThrottledTokensTakeNoSlot: a token over its rate, or suspended for
// probing, is refused with 429 at once, before its body is received or a
// slot waited for: with the check and upload slots held by others (a
// queue that would make it wait) and a body memory budget its upload
// would pass, its checks, appraisals and rechecks are still 429 within a
// moment, and they take nothing from the gates or the budget; a token
// within its limits waits in the queue as before.
func TestThrottledTokensTakeNoSlot(t *testing.T) {
	lim := quota.New(quota.Config{
		Checks:     quota.Limits{Rate: 1, Burst: 1},
		Appraisals: quota.Limits{Rate: 1, Burst: 1},
	})
	det := probing.New(probing.Config{Footprints: 1, Suspend: time.Hour})
	slow := admission.Limit{Concurrent: 1, Queue: 8, Wait: 3 * time.Second}
	gates := httpapi.Admission{Checks: admission.New("checks", slow), Uploads: admission.New("uploads", slow),
		Bodies: admission.NewBudget("request body memory", 1<<20)}
	ts := newAuditServer(t, newEmbeddedStore(t), auditOptions{quota: lim, probing: det, admission: gates})
	sc := newScene(t, ts.testServer)
	throttled := ts.token(t, zone.RoleAppraiser, zone.Public)
	suspended, _, err := auth.Issue(t.Context(), ts.Store, "prober", zone.RoleAppraiser, zone.Internal, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ts.Store.TokenByHash(t.Context(), auth.Hash(suspended))
	if err != nil {
		t.Fatal(err)
	}
	if a := det.Observe(tok.Principal(), [32]byte{1}, []consult.Cell{{Row: 1, Col: 1}}); a == nil || a.SuspendedUntil.IsZero() {
		t.Fatal("the detector did not suspend the prober")
	}
	// The throttled token spends its burst of each while the gates are free.
	if status, _, b := send(t, http.MethodPost, ts.URL+"/api/check", throttled, []byte(sc.clear)); status != http.StatusOK {
		t.Fatalf("first check: %d %s", status, b)
	}
	status, _, b := send(t, http.MethodPost, ts.URL+"/api/appraisals", throttled, []byte(`{"name":"Dự án","footprint":`+sc.clear+`}`))
	if status != http.StatusCreated {
		t.Fatalf("first appraisal: %d %s", status, b)
	}
	var created struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &created); err != nil {
		t.Fatal(err)
	}

	// Others hold every check and upload slot.
	for _, g := range []*admission.Gate{gates.Checks, gates.Uploads} {
		release, err := g.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		defer release()
	}
	kml := `<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><Point><coordinates>106.76,21.85</coordinates></Point></Placemark></kml>`
	big, bigType := multipartFile("site.kml", []byte(kml+strings.Repeat(" ", 2<<20)), nil) // passes the budget
	type req struct{ name, method, path, ctype, body string }
	reqs := []req{
		{"check", http.MethodPost, "/api/check", "application/json", sc.clear},
		{"upload check", http.MethodPost, "/api/check", bigType, string(big)},
		{"appraisal", http.MethodPost, "/api/appraisals", "application/json", `{"name":"Dự án","footprint":` + sc.clear + `}`},
		{"upload appraisal", http.MethodPost, "/api/appraisals", bigType, string(big)},
		{"recheck", http.MethodPost, "/api/appraisals/" + created.ID + "/recheck", "application/json", ""},
	}
	refusedBudget := gates.Bodies.Refused()
	for _, who := range []struct{ name, token, says string }{{"over its rate", throttled, "too many"}, {"suspended", suspended, "suspended"}} {
		for _, r := range reqs {
			if who.token == suspended && r.name == "recheck" {
				r.path = "/api/appraisals/" + uuid.NewString() + "/recheck" // refused before it is looked up
			}
			start := time.Now()
			status, h, b := do(t, r.method, ts.URL+r.path, who.token, map[string]string{"Content-Type": r.ctype}, r.body)
			el := time.Since(start)
			if status != http.StatusTooManyRequests || h.Get("Retry-After") == "" || !strings.Contains(problemDetail(t, b), who.says) {
				t.Errorf("%s, %s with the slots held: %d Retry-After %q %.200s, want 429 at once", who.name, r.name, status, h.Get("Retry-After"), b)
			}
			if el > time.Second {
				t.Errorf("%s, %s: refused after %s (it waited for a slot)", who.name, r.name, el)
			}
		}
	}
	if n := gates.Bodies.Refused(); n != refusedBudget {
		t.Errorf("the refused requests reached the body budget (%d refusals)", n-refusedBudget)
	}
	if n := gates.Bodies.InUse(); n != 0 {
		t.Errorf("%d bytes of the body budget still taken", n)
	}
	if q := gates.Checks.Queued() + gates.Uploads.Queued(); q != 0 {
		t.Errorf("%d requests still queued", q)
	}
	// A token within its limits is admitted as before: it waits in the
	// queue for the slot (here refused when the wait runs out).
	fresh := ts.token(t, zone.RoleAppraiser, zone.Secret)
	start := time.Now()
	status, h, b := send(t, http.MethodPost, ts.URL+"/api/check", fresh, []byte(sc.clear))
	if status != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || time.Since(start) < 2*time.Second {
		t.Errorf("a token within its limits with the slot held: %d after %s %.200s, want 503 after the queue's wait", status, time.Since(start), b)
	}
}

func retryAfter(t *testing.T, h http.Header) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(h.Get("Retry-After"), &n); err != nil {
		t.Fatalf("Retry-After %q: %v", h.Get("Retry-After"), err)
	}
	return n
}

// TestProbingDetection: a bisection around the secret depot by an
// uncleared token is flagged (an alert entry, listed at
// /api/audit/alerts) and, as configured, its checks are then refused
// until an administrator lifts the suspension; a day's ordinary work (a
// few dozen footprints, scattered, a few of them near the depot) is not
// flagged.
func TestProbingDetection(t *testing.T) {
	det := probing.New(probing.Config{Window: time.Hour, Footprints: 12, Suspend: time.Hour})
	ts := newAuditServer(t, newEmbeddedStore(t), auditOptions{probing: det})
	sc := newScene(t, ts.testServer)
	admin := ts.token(t, zone.RoleAdmin, zone.Secret)
	auditor := ts.token(t, zone.RoleAuditor, zone.Secret)
	ordinary := ts.token(t, zone.RoleAppraiser, zone.Internal)
	prober, _, err := auth.Issue(t.Context(), ts.Store, "prober", zone.RoleAppraiser, zone.Public, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	proberTok, _ := ts.Store.TokenByHash(t.Context(), auth.Hash(prober))
	lon, lat := sc.depot.Geometry.(orb.Point)[0], sc.depot.Geometry.(orb.Point)[1]

	check := func(tok, geom string) (int, http.Header, []byte) {
		return send(t, http.MethodPost, ts.URL+"/api/check", tok, []byte(geom))
	}
	// Ordinary work: 30 projects scattered over the province, three
	// footprints of one project near the depot (each referred).
	for i := range 30 {
		g := geomJSON(box(106.0+float64(i%6)*0.15, 21.6+float64(i/6)*0.12, 0.002))
		if status, _, b := check(ordinary, g); status != http.StatusOK {
			t.Fatalf("ordinary check %d: %d %s", i, status, b)
		}
	}
	for i := range 3 {
		if status, _, b := check(ordinary, boxAround(lon, lat, 0.004+float64(i)*0.001, 0.004, 0.004, 0.004)); status != http.StatusOK {
			t.Fatalf("ordinary check near the depot: %d %s", status, b)
		}
	}
	alerts, _ := readAudit(t, ts.URL, "/api/audit/alerts", auditor)
	if len(alerts.Items) != 0 || det.Alerts() != 0 {
		t.Fatalf("ordinary work flagged: %+v", alerts.Items)
	}

	// Bisection: halve a box around the depot, keeping the half with the
	// referral, west-east then south-north.
	w, s, e, n := 0.2, 0.2, 0.2, 0.2
	flaggedAt := -1
	for i := range 30 {
		status, h, b := check(prober, boxAround(lon, lat, w, s, e, n))
		if status == http.StatusTooManyRequests {
			flaggedAt = i
			if h.Get("Retry-After") == "" || !strings.Contains(string(b), "suspended") {
				t.Fatalf("suspension refusal: %v %s", h, b)
			}
			break
		}
		if status != http.StatusOK {
			t.Fatalf("probe %d: %d %s", i, status, b)
		}
		if !strings.Contains(string(b), "defence-consultation") {
			t.Fatalf("probe %d got no referral: %s", i, b)
		}
		switch i % 4 { // shrink one side by half: the depot stays inside
		case 0:
			w /= 2
		case 1:
			e /= 2
		case 2:
			s /= 2
		case 3:
			n /= 2
		}
	}
	if flaggedAt != 12 {
		t.Fatalf("the prober was refused at probe %d, want 12 (flagged at the 12th)", flaggedAt)
	}
	alerts, _ = readAudit(t, ts.URL, "/api/audit/alerts", auditor)
	if len(alerts.Items) != 1 || alerts.Items[0].Object != proberTok.ID.String() || alerts.Items[0].Actor.Name != "prober" ||
		alerts.Items[0].Action != zone.AuditProbing || alerts.Items[0].SuspendedUntil == nil || alerts.Items[0].Classification != "secret" {
		t.Fatalf("alerts: %+v", alerts.Items)
	}
	var d struct {
		Cells      []struct{ Row, Col int } `json:"cells"`
		Footprints int                      `json:"footprints"`
	}
	if err := json.Unmarshal(alerts.Items[0].Detail, &d); err != nil || len(d.Cells) == 0 || d.Footprints != 12 {
		t.Fatalf("alert detail %s", alerts.Items[0].Detail)
	}
	if trail, _ := readAudit(t, ts.URL, "/api/audit?action=alert.probing", auditor); len(trail.Items) != 1 {
		t.Fatalf("alert not in the trail: %+v", trail.Items)
	}
	// Suspended: appraisals too; other tokens are not.
	status, h, b := send(t, http.MethodPost, ts.URL+"/api/appraisals", prober, []byte(`{"name":"x","footprint":`+sc.clear+`}`))
	mustProblem(t, status, h, b, http.StatusTooManyRequests)
	if status, _, b := check(ordinary, sc.clear); status != http.StatusOK {
		t.Fatalf("another token: %d %s", status, b)
	}
	// Another instance on the same trail adopts the suspension.
	det2 := probing.New(probing.Config{Suspend: time.Hour})
	if err := ts.Trail.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := det2.Sync(t.Context(), ts.Store); err != nil {
		t.Fatal(err)
	}
	if _, ok := det2.Suspended(proberTok.ID); !ok {
		t.Fatal("another instance does not adopt the suspension")
	}
	// An administrator lifts it (an entry); the token checks again.
	status, h, b = send(t, http.MethodDelete, ts.URL+"/api/audit/suspensions/"+proberTok.ID.String(), auditor, nil)
	mustProblem(t, status, h, b, http.StatusForbidden)
	if status, _, b := send(t, http.MethodDelete, ts.URL+"/api/audit/suspensions/"+proberTok.ID.String(), admin, nil); status != http.StatusNoContent {
		t.Fatalf("lift: %d %s", status, b)
	}
	status, h, b = send(t, http.MethodDelete, ts.URL+"/api/audit/suspensions/"+proberTok.ID.String(), admin, nil)
	mustProblem(t, status, h, b, http.StatusNotFound)
	if status, _, b := check(prober, sc.clear); status != http.StatusOK {
		t.Fatalf("after the lift: %d %s", status, b)
	}
	if lifted, _ := readAudit(t, ts.URL, "/api/audit?action=alert.lifted", auditor); len(lifted.Items) != 1 {
		t.Fatalf("lift not in the trail: %+v", lifted.Items)
	}

	// The other instance adopts the lift.
	if err := ts.Trail.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := det2.Sync(t.Context(), ts.Store); err != nil {
		t.Fatal(err)
	}
	if _, ok := det2.Suspended(proberTok.ID); ok {
		t.Fatal("the other instance keeps a lifted suspension")
	}

	// The alert's cells are secret: an auditor below secret does not see it.
	lowAuditor := ts.token(t, zone.RoleAuditor, zone.Restricted)
	if low, _ := readAudit(t, ts.URL, "/api/audit/alerts", lowAuditor); len(low.Items) != 0 {
		t.Fatalf("a restricted auditor sees the alert's cells: %+v", low.Items)
	}

	// After the lift, probing on is flagged again at once (not only after
	// the window), and one FeatureCollection of a dozen points around the
	// depot counts a dozen footprints: each got its own answer.
	var pts []string
	for i := range 12 {
		pts = append(pts, fmt.Sprintf(`{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[%.6f,%.6f]}}`,
			lon+0.0001*float64(i+1), lat+0.0001*float64(i+1)))
	}
	fc := `{"type":"FeatureCollection","features":[` + strings.Join(pts, ",") + `]}`
	if status, _, b := check(prober, fc); status != http.StatusOK || strings.Count(string(b), "defence-consultation") < 12 {
		t.Fatalf("the collection: %d, %d referrals; want 12", status, strings.Count(string(b), "defence-consultation"))
	}
	if status, h, b := check(prober, sc.clear); status != http.StatusTooManyRequests {
		t.Fatalf("after a collection of 12 referred points the prober is not suspended again: %d %v %s", status, h, b)
	}
}
