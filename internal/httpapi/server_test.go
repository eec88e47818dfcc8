package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/internal/auth"
	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/embedded"
	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/index"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// testServer is a real server on an embedded store with a following index.
type testServer struct {
	URL   string
	Store zone.Store
	Index *index.Index
}

func newTestServer(t *testing.T, publicRead bool) *testServer {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "z.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newTestServerOn(t, st, publicRead)
}

// newTestServerWith is newTestServer with a configuration of its own.
func newTestServerWith(t *testing.T, cfg httpapi.Config) *testServer {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "z.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newTestServerConfigured(t, st, cfg)
}

// newTestServerOn serves st (any store) with a following index.
func newTestServerOn(t *testing.T, st zone.Store, publicRead bool) *testServer {
	t.Helper()
	return newTestServerConfigured(t, st, httpapi.Config{PublicRead: publicRead, Version: "test"})
}

// newTestServerConfigured serves st with a following index and cfg.
func newTestServerConfigured(t *testing.T, st zone.Store, cfg httpapi.Config) *testServer {
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
	h := httpapi.NewServer(httpapi.Deps{Store: st, Index: ix, Rules: active, Auth: &auth.Authenticator{Tokens: st, PublicRead: cfg.PublicRead},
		Config: cfg})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &testServer{URL: srv.URL, Store: st, Index: ix}
}

func (ts *testServer) token(t *testing.T, role zone.Role, c zone.Classification) string {
	t.Helper()
	secret, _, err := auth.Issue(context.Background(), ts.Store, fmt.Sprintf("%s-%s", role, c), role, c, 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// sync makes the index catch up with the store (read-your-writes in tests).
func (ts *testServer) sync(t *testing.T) {
	t.Helper()
	v, err := ts.Store.DataVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := ts.Index.WaitFor(ctx, v); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, url, token string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
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

func mustProblem(t *testing.T, status int, h http.Header, body []byte, want int) {
	t.Helper()
	if status != want {
		t.Fatalf("status %d, want %d: %s", status, want, body)
	}
	if ct := h.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	var p map[string]any
	if err := json.Unmarshal(body, &p); err != nil || p["status"].(float64) != float64(want) || p["title"] == "" {
		t.Fatalf("not a problem document: %s", body)
	}
}

// TestAccessMatrix checks every role and clearance against the layer list
// and a feature lookup: counts and lookups show exactly what the clearance
// allows, and a hidden feature is 404 with the same body as a missing one.
func TestAccessMatrix(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	ids := map[zone.Classification]string{}
	for i, c := range zone.Classifications() {
		comp, err := ts.Store.CreateComponent(ctx, &zone.Component{Layer: zone.LayerDefenceWorks, Kind: zone.KindDepot,
			Name: "Kho " + c.String() + " – Lạng Sơn", Classification: c, Synthetic: true,
			Geometry: orb.Point{106.7 + float64(i)*0.01, 21.8}}, "test")
		if err != nil {
			t.Fatal(err)
		}
		ids[c] = comp.ID.String()
	}
	ts.sync(t)

	for _, role := range zone.Roles() {
		for _, clearance := range zone.Classifications() {
			tok := ts.token(t, role, clearance)
			name := fmt.Sprintf("%s/%s", role, clearance)
			status, _, body := get(t, ts.URL+"/api/layers", tok)
			if status != http.StatusOK {
				t.Fatalf("%s: /api/layers %d %s", name, status, body)
			}
			var layers []struct {
				ID    string `json:"id"`
				Count int    `json:"count"`
			}
			if err := json.Unmarshal(body, &layers); err != nil {
				t.Fatal(err)
			}
			if len(layers) != len(zone.Layers()) {
				t.Fatalf("%s: %d layers, want %d", name, len(layers), len(zone.Layers()))
			}
			for _, l := range layers {
				want := 0
				if l.ID == zone.LayerDefenceWorks {
					want = int(clearance) + 1
				}
				if l.Count != want {
					t.Errorf("%s: layer %s count %d, want %d", name, l.ID, l.Count, want)
				}
			}
			_, _, missingBody := get(t, ts.URL+"/ogc/collections/defence_works/items/00000000-0000-0000-0000-000000000000", tok)
			for c, id := range ids {
				status, h, body := get(t, ts.URL+"/ogc/collections/defence_works/items/"+id, tok)
				if clearance.Allows(c) {
					if status != http.StatusOK || !strings.Contains(string(body), "Kho "+c.String()) {
						t.Errorf("%s: feature %s: %d %s", name, c, status, body)
					}
					continue
				}
				mustProblem(t, status, h, body, http.StatusNotFound)
				if strings.Contains(string(body), c.String()) || strings.Contains(string(body), "Kho") {
					t.Errorf("%s: 404 for a hidden %s feature reveals it: %s", name, c, body)
				}
				if strip(body, id) != strip(missingBody, "00000000-0000-0000-0000-000000000000") {
					t.Errorf("%s: hidden feature's 404 differs from a missing one's:\n%s\n%s", name, body, missingBody)
				}
			}
		}
	}
}

// strip removes the id and the per-request id, which differ by design.
func strip(body []byte, id string) string {
	var p map[string]any
	_ = json.Unmarshal(body, &p)
	delete(p, "request_id")
	delete(p, "instance")
	b, _ := json.Marshal(p)
	return strings.ReplaceAll(string(b), id, "ID")
}

func TestUnauthenticated(t *testing.T) {
	ts := newTestServer(t, false)
	for _, path := range []string{"/api/layers", "/api/me", "/api/tokens"} {
		status, h, body := get(t, ts.URL+path, "")
		mustProblem(t, status, h, body, http.StatusUnauthorized)
		if h.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", path)
		}
		status, h, body = get(t, ts.URL+path, "zp_wrong")
		mustProblem(t, status, h, body, http.StatusUnauthorized)
	}
	for _, path := range []string{"/healthz", "/readyz", "/api/config"} {
		if status, _, body := get(t, ts.URL+path, ""); status != http.StatusOK {
			t.Errorf("%s: %d %s", path, status, body)
		}
	}
}

func TestPublicReadShowsPublicOnly(t *testing.T) {
	ts := newTestServer(t, true)
	ctx := context.Background()
	for i, c := range []zone.Classification{zone.Public, zone.Secret} {
		if _, err := ts.Store.CreateComponent(ctx, &zone.Component{Layer: zone.LayerCommuneHQs, Name: "Trụ sở BCHQS xã " + c.String(),
			Classification: c, Geometry: orb.Point{105 + float64(i)*0.1, 22}}, "test"); err != nil {
			t.Fatal(err)
		}
	}
	ts.sync(t)
	status, _, body := get(t, ts.URL+"/api/layers", "")
	if status != http.StatusOK || !strings.Contains(string(body), `"id":"commune_hqs"`) {
		t.Fatalf("anonymous layers: %d %s", status, body)
	}
	var layers []struct {
		ID    string `json:"id"`
		Count int    `json:"count"`
	}
	_ = json.Unmarshal(body, &layers)
	for _, l := range layers {
		if l.ID == zone.LayerCommuneHQs && l.Count != 1 {
			t.Fatalf("anonymous sees %d commune HQs, want 1 (public only)", l.Count)
		}
	}
	status, h, body := get(t, ts.URL+"/api/tokens", "")
	mustProblem(t, status, h, body, http.StatusForbidden)
}

func TestTokensAPI(t *testing.T) {
	ts := newTestServer(t, false)
	admin := ts.token(t, zone.RoleAdmin, zone.Secret)
	viewer := ts.token(t, zone.RoleViewer, zone.Public)

	post := func(tok, body string) (int, []byte) {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/tokens", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if status, body := post(viewer, `{"name":"x","role":"viewer","clearance":"public"}`); status != http.StatusForbidden {
		t.Fatalf("viewer created a token: %d %s", status, body)
	}
	if status, body := post(admin, `{"name":"x","role":"general","clearance":"public"}`); status != http.StatusBadRequest || !strings.Contains(string(body), "unknown role") {
		t.Fatalf("bad role: %d %s", status, body)
	}
	status, body := post(admin, `{"name":"Trần Thị B","role":"appraiser","clearance":"internal","expires":"30d"}`)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	var created struct {
		ID, Token string
	}
	_ = json.Unmarshal(body, &created)
	status, _, me := get(t, ts.URL+"/api/me", created.Token)
	if status != http.StatusOK || !strings.Contains(string(me), `"role":"appraiser"`) || !strings.Contains(string(me), `"clearance":"internal"`) {
		t.Fatalf("new token's /api/me: %d %s", status, me)
	}
	_, _, list := get(t, ts.URL+"/api/tokens", admin)
	if !strings.Contains(string(list), "Trần Thị B") || strings.Contains(string(list), created.Token) {
		t.Fatalf("token list must name the token but never show secrets: %s", list)
	}
	req, _ := http.NewRequest(http.MethodDelete, ts.URL+"/api/tokens/"+created.ID, nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	status, h, b := get(t, ts.URL+"/api/me", created.Token)
	mustProblem(t, status, h, b, http.StatusUnauthorized)
}

// TestOpenAPIDocumentsEveryRoute keeps the OpenAPI document honest: every
// path the router serves under /api, /ogc and /tiles, and /healthz, /readyz,
// is in it.
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	ts := newTestServer(t, false)
	status, _, body := get(t, ts.URL+"/api/openapi.json", "")
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.0") {
		t.Fatalf("not an OpenAPI 3.0 document: %v", err)
	}
	for _, rt := range httpapi.Routes(httpapi.NewServer(httpapi.Deps{Store: ts.Store, Index: ts.Index, Auth: &auth.Authenticator{Tokens: ts.Store}})) {
		if strings.HasSuffix(rt.Path, "/*") { // catch-alls: the web page and the APIs' not-found
			continue
		}
		ops, ok := doc.Paths[rt.Path]
		if !ok {
			t.Errorf("route %s %s is not in openapi.yaml", rt.Method, rt.Path)
			continue
		}
		_, ok = ops[strings.ToLower(rt.Method)]
		if _, get := ops["get"]; rt.Method == http.MethodHead && get {
			ok = true // HEAD answers as GET does; documented where it matters to clients (tiles)
		}
		if !ok {
			t.Errorf("route %s %s: method not in openapi.yaml", rt.Method, rt.Path)
		}
	}
}

func mustUUID(t *testing.T, s string) uuid.UUID {
	t.Helper()
	id, err := uuid.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestUnknownAPIPathsAreProblems(t *testing.T) {
	ts := newTestServer(t, false)
	tok := ts.token(t, zone.RoleViewer, zone.Public)
	for _, path := range []string{"/api/nothing", "/ogc/collections/x/y/z/w", "/tiles/a/b"} {
		status, h, body := get(t, ts.URL+path, tok)
		mustProblem(t, status, h, body, http.StatusNotFound)
	}
	status, _, body := get(t, ts.URL+"/api/me", tok)
	if status != http.StatusOK || !strings.Contains(string(body), `"permissions":["read"]`) {
		t.Fatalf("/api/me: %d %s", status, body)
	}
}
