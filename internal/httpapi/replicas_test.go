package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// TestReadOnlyRefusesEveryWrite: on a read instance every route that is
// not a read (GET, HEAD, and the checks and conversions POST carries) is
// refused with 503 problem+json, code read_only, naming the same request
// on the write instance, whoever asks and whatever the body; reads and
// checks are answered. Routes added later fall under it unless they are
// reads.
func TestReadOnlyRefusesEveryWrite(t *testing.T) {
	const primary = "https://write.zoneplan.example.vn/"
	ts := newTestServerWith(t, httpapi.Config{ReadOnly: true, PrimaryURL: primary, Version: "test"})
	admin := ts.token(t, zone.RoleAdmin, zone.Secret)
	reads := map[string]bool{"POST /api/check": true, "POST /api/convert": true}
	replacer := strings.NewReplacer("{layer}", "combat_bases", "{id}", uuid.NewString(), "{token}", uuid.NewString(),
		"{z}", "1", "{x}", "1", "{y}", "1")
	refused := 0
	for _, rt := range httpapi.Routes(httpapi.NewServer(httpapi.Deps{Store: ts.Store, Index: ts.Index, Config: httpapi.Config{ReadOnly: true}})) {
		switch rt.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			continue
		}
		if reads[rt.Method+" "+rt.Path] || strings.HasSuffix(rt.Path, "/*") {
			continue
		}
		path := replacer.Replace(rt.Path)
		req, _ := http.NewRequest(rt.Method, ts.URL+path+"?limit=1", strings.NewReader(`{"type":"Feature"}`))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var p struct {
			Code     string `json:"code"`
			Detail   string `json:"detail"`
			WriteURL string `json:"write_url"`
		}
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Content-Type") != "application/problem+json" ||
			json.Unmarshal(body, &p) != nil || p.Code != string(zone.CodeReadOnly) ||
			p.WriteURL != strings.TrimSuffix(primary, "/")+path+"?limit=1" || !strings.Contains(p.Detail, "write.zoneplan.example.vn") {
			t.Errorf("%s %s on a read instance: %d %s, want 503 read_only naming the write instance", rt.Method, rt.Path, resp.StatusCode, body)
		}
		refused++
	}
	if refused < 12 {
		t.Fatalf("%d write routes refused, want every one (at least 12)", refused)
	}
	// Refused before authentication: no token needed to learn where to write.
	req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/tokens", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a write without a token on a read instance: %d, want 503", resp.StatusCode)
	}
	// Reads and checks are answered.
	if status, _, body := get(t, ts.URL+"/api/me", admin); status != http.StatusOK {
		t.Errorf("GET /api/me on a read instance: %d %s", status, body)
	}
	req, _ = http.NewRequest(http.MethodPost, ts.URL+"/api/check", bytes.NewReader([]byte(`{"type":"Point","coordinates":[105.8,21.0]}`)))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("POST /api/check on a read instance: %d", resp.StatusCode)
	}
}
