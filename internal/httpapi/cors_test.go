package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/zoneplan/zoneplan/internal/httpapi"
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
