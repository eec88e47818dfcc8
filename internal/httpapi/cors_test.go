package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Origins are a scheme and a host with an optional port, or *; anything
// else is refused with the origin named.
func TestParseCORSOrigins(t *testing.T) {
	got, err := httpapi.ParseCORSOrigins(" https://portal.example.vn , http://10.0.0.5:8080/,,*")
	if err != nil || strings.Join(got, " ") != "https://portal.example.vn http://10.0.0.5:8080 *" {
		t.Fatalf("ParseCORSOrigins = %q, %v", got, err)
	}
	for _, bad := range []string{"portal.example.vn", "ftp://x", "https://x/path", "https://x?q=1", "https://u:p@x", "https://"} {
		if _, err := httpapi.ParseCORSOrigins(bad); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("ParseCORSOrigins(%q) = %v, want an error naming it", bad, err)
		}
	}
}

// A preflight from a listed origin is answered before authentication (it
// carries no token) and allows the Authorization header; one from another
// origin gets no CORS headers; with no origins configured nothing is sent.
func TestCORSPreflight(t *testing.T) {
	ts := newTestServer(t, false)
	preflight := func(origin string) http.Header {
		req, _ := http.NewRequest(http.MethodOptions, ts.URL+"/api/check", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header
	}
	if h := preflight("https://portal.example.vn"); h.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("no origins configured, yet a preflight got %v", h)
	}
	ts = newTestServerWith(t, httpapi.Config{CORSOrigins: []string{"https://portal.example.vn"}})
	h := preflight("https://portal.example.vn")
	if h.Get("Access-Control-Allow-Origin") != "https://portal.example.vn" || !strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "authorization") ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") || h.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("preflight from the listed origin: %v", h)
	}
	if h := preflight("https://elsewhere.example"); h.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("preflight from an origin not listed: %v", h)
	}
}

// Basic credentials, which a browser keeps and adds to other sites'
// requests by itself, read only and never from another site: a write or
// a check with them is 401, as is a read a browser marks cross-site; a
// browser is never challenged for Basic (it would open a login dialog).
func TestBasicIsForReadingOnly(t *testing.T) {
	ts := newTestServer(t, false)
	tok := ts.token(t, zone.RoleAppraiser, zone.Restricted)
	send := func(method, path string, headers map[string]string, body string) (int, http.Header) {
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		req.SetBasicAuth("qgis", tok)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header
	}
	square := `{"type":"Polygon","coordinates":[[[105.8,21],[105.801,21],[105.801,21.001],[105.8,21.001],[105.8,21]]]}`
	cases := []struct {
		name, method, path string
		headers            map[string]string
		body               string
		want               int
	}{
		{"a read", http.MethodGet, "/ogc/collections", nil, "", http.StatusOK},
		{"a read from the same origin", http.MethodGet, "/api/layers", map[string]string{"Sec-Fetch-Site": "same-origin"}, "", http.StatusOK},
		{"a read from another site", http.MethodGet, "/api/layers", map[string]string{"Sec-Fetch-Site": "cross-site"}, "", http.StatusUnauthorized},
		{"a read from a sibling site", http.MethodGet, "/ogc/collections", map[string]string{"Sec-Fetch-Site": "same-site"}, "", http.StatusUnauthorized},
		{"a check", http.MethodPost, "/api/check", map[string]string{"Content-Type": "application/geo+json"}, square, http.StatusUnauthorized},
		{"a form post", http.MethodPost, "/api/appraisals/00000000-0000-0000-0000-000000000000/publish", map[string]string{"Content-Type": "text/plain"}, "", http.StatusUnauthorized},
	}
	for _, c := range cases {
		if got, _ := send(c.method, c.path, c.headers, c.body); got != c.want {
			t.Errorf("%s with Basic: %d, want %d", c.name, got, c.want)
		}
	}
	// The same check with the bearer header is served.
	status, _, body := do(t, http.MethodPost, ts.URL+"/api/check", tok, map[string]string{"Content-Type": "application/geo+json"}, square)
	if status != http.StatusOK {
		t.Fatalf("the check with a bearer token: %d %.200s", status, body)
	}
	// A browser with wrong Basic credentials is challenged for Bearer only.
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/ogc/collections", nil)
	req.SetBasicAuth("x", "zp_wrong")
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Values("WWW-Authenticate"); resp.StatusCode != http.StatusUnauthorized || len(got) != 1 || !strings.HasPrefix(got[0], "Bearer ") {
		t.Fatalf("a browser with wrong Basic credentials: %d, WWW-Authenticate %q", resp.StatusCode, got)
	}
}
