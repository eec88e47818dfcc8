package main

import (
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zoneplan/zoneplan/internal/httpapi"
)

// zoneplan serve holds an uncleared caller's appraisal writes to the floor
// (httpapi.DefaultUnclearedWriteFloor): their stored check examines every
// work, the hidden ones too, and the answer's time must not say how many
// are near the footprint. The demo data has classified works.
func TestServeHoldsUnclearedWritesToTheFloor(t *testing.T) {
	srv := startServer(t, map[string]string{"ZONEPLAN_DB": filepath.Join(t.TempDir(), "zoneplan.db")})
	post := func(path, token, body string) (*http.Response, []byte, time.Duration) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b, time.Since(start)
	}
	resp, b, _ := post("/api/tokens", srv.Admin, `{"name":"Thẩm định viên","role":"appraiser","clearance":"public"}`)
	var tok struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(b, &tok); err != nil || resp.StatusCode != http.StatusCreated || tok.Token == "" {
		t.Fatalf("token: %d %s", resp.StatusCode, b)
	}
	body := `{"name":"Nhà máy thử","footprint":{"type":"Polygon","coordinates":[[[106.76,21.85],[106.77,21.85],[106.77,21.86],[106.76,21.86],[106.76,21.85]]]}}`
	resp, b, took := post("/api/appraisals", tok.Token, body)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	if took < httpapi.DefaultUnclearedWriteFloor {
		t.Fatalf("an uncleared caller's appraisal was answered after %v, before the %v floor", took, httpapi.DefaultUnclearedWriteFloor)
	}
	var a struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	resp, b, took = post("/api/appraisals/"+a.ID+"/recheck", tok.Token, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("recheck: %d %s", resp.StatusCode, b)
	}
	if took < httpapi.DefaultUnclearedWriteFloor {
		t.Fatalf("an uncleared caller's recheck was answered after %v, before the %v floor", took, httpapi.DefaultUnclearedWriteFloor)
	}
}
