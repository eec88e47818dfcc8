package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// postJSON sends a JSON body and returns the status and the answer.
func postJSON(t *testing.T, url, token string, body any) (int, []byte) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// TestUnclearedWriteFloorIsWired: serve's --uncleared-write-floor holds an
// appraisal's answer to a caller below secret for at least the floor (its
// stored check looked at works hidden from them), and does not hold a
// secret-cleared caller's.
func TestUnclearedWriteFloorIsWired(t *testing.T) {
	const floor = 3 * time.Second
	srv := startServer(t, map[string]string{"ZONEPLAN_DB": filepath.Join(t.TempDir(), "z.db")}, "--uncleared-write-floor", floor.String())
	token := func(clearance string) string {
		status, b := postJSON(t, srv.URL+"/api/tokens", srv.Admin, map[string]string{"name": "floor-" + clearance, "role": "appraiser", "clearance": clearance})
		var tok struct {
			Secret string `json:"token"`
		}
		if status != http.StatusCreated || json.Unmarshal(b, &tok) != nil || tok.Secret == "" {
			t.Fatalf("token: %d %s", status, b)
		}
		return tok.Secret
	}
	appraise := func(tok string) time.Duration {
		start := time.Now()
		status, b := postJSON(t, srv.URL+"/api/appraisals", tok, map[string]any{
			"name": "Nhà máy thử", "footprint": map[string]any{"type": "Point", "coordinates": []float64{104.5, 20.5}},
		})
		if status != http.StatusCreated {
			t.Fatalf("appraisal: %d %s", status, b)
		}
		return time.Since(start)
	}
	if d := appraise(token("public")); d < floor {
		t.Errorf("a public-clearance appraiser's appraisal answered after %v, before the %v floor", d, floor)
	}
	if d := appraise(token("secret")); d >= floor {
		t.Errorf("a secret-cleared appraiser's appraisal was held for %v (the floor is for callers below secret)", d)
	}
}

// TestWriteFloorHoldsNoCheckSlot: an uncleared appraisal waiting out the
// floor has given its check slot back, so with one slot (whose queue waits
// 2 s) three appraisals at once are all served, not refused while the
// first waits 3 s.
func TestWriteFloorHoldsNoCheckSlot(t *testing.T) {
	srv := startServer(t, map[string]string{"ZONEPLAN_DB": filepath.Join(t.TempDir(), "z.db")},
		"--uncleared-write-floor", "3s", "--max-checks", "1")
	status, b := postJSON(t, srv.URL+"/api/tokens", srv.Admin, map[string]string{"name": "slot", "role": "appraiser", "clearance": "public"})
	var tok struct {
		Secret string `json:"token"`
	}
	if status != http.StatusCreated || json.Unmarshal(b, &tok) != nil {
		t.Fatalf("token: %d %s", status, b)
	}
	statuses := make(chan string, 3)
	for i := range 3 {
		go func() {
			status, b := postJSON(t, srv.URL+"/api/appraisals", tok.Secret, map[string]any{
				"name": "Dự án " + strconv.Itoa(i), "footprint": map[string]any{"type": "Point", "coordinates": []float64{104.5 + float64(i)/10, 20.5}},
			})
			statuses <- strconv.Itoa(status) + " " + string(b)
		}()
	}
	for range 3 {
		if s := <-statuses; !strings.HasPrefix(s, "201 ") {
			t.Errorf("an appraisal beside two others: %.200s", s)
		}
	}
}
