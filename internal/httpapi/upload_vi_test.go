package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// The upload errors a person meets most come in Vietnamese to a caller
// whose browser prefers it (Accept-Language) or who asks with ?lang=vi,
// and in English otherwise: title, detail and every error's reason.
func TestUploadErrorsInVietnamese(t *testing.T) {
	ts := newTestServer(t, false)
	tok := ts.token(t, zone.RoleAppraiser, zone.Secret)
	do := func(path, ctype, acceptLanguage string, body []byte) (int, http.Header, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, ts.URL+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", ctype)
		if acceptLanguage != "" {
			req.Header.Set("Accept-Language", acceptLanguage)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var p map[string]any
		if err := json.Unmarshal(b, &p); err != nil {
			t.Fatalf("%s: not problem+json: %s", path, b)
		}
		return resp.StatusCode, resp.Header, p
	}
	texts := func(p map[string]any) string {
		s := []string{p["title"].(string), p["detail"].(string)}
		if es, ok := p["errors"].([]any); ok {
			for _, e := range es {
				s = append(s, e.(map[string]any)["reason"].(string))
			}
		}
		return strings.Join(s, " | ")
	}
	triangle := []byte(`{"type":"Polygon","coordinates":[[[106.7,21.8],[106.71,21.8],[106.7,21.8]]]}`)
	table, tctype := multipartFile("ranh_gioi.txt", []byte("1 2412345.1 441234.2\n2 2412355.1 441244.2\n3 2412345.1 441254.2\n"), nil)
	drawing, dctype := multipartFile("ranh_gioi.kml", []byte(`<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><Polygon>`), nil)
	for _, c := range []struct {
		path, ctype string
		body        []byte
		vi, en      string
	}{
		{"/api/check", "application/json", triangle, "một vòng của đa giác cần ít nhất 4 điểm", "a polygon ring needs at least 4 points"},
		{"/api/check", tctype, table, "bảng tọa độ điểm mốc cần hệ tọa độ", "a boundary-point table needs its CRS"},
		{"/api/check", dctype, drawing, "Placemark 1 (dòng 1): không phải KML hợp lệ: lỗi cú pháp XML ở dòng 1: tệp kết thúc đột ngột", "not valid KML"},
		{"/api/appraisals", "application/json", []byte(`{"footprint":{"type":"Point","coordinates":[106.7,21.8]}}`), "hồ sơ thẩm định cần tên dự án", "the appraisal needs a project name"},
	} {
		for _, al := range []string{"vi-VN,vi;q=0.9,en-US;q=0.6", ""} {
			status, h, p := do(c.path, c.ctype, al, c.body)
			if status < 400 {
				t.Fatalf("%s: %d", c.path, status)
			}
			got := texts(p)
			if !slices.Contains(h.Values("Vary"), "Accept-Language") {
				t.Errorf("%s: Vary %q: the language follows Accept-Language, a cache must know", c.path, h.Values("Vary"))
			}
			if al == "" {
				if !strings.Contains(got, c.en) || h.Get("Content-Language") == "vi" {
					t.Errorf("%s in English: %q lacks %q", c.path, got, c.en)
				}
				continue
			}
			if !strings.Contains(got, c.vi) || strings.Contains(got, c.en) || h.Get("Content-Language") != "vi" {
				t.Errorf("%s in Vietnamese (%s): %q, want %q", c.path, h.Get("Content-Language"), got, c.vi)
			}
		}
	}
	// ?lang=vi asks too, whatever the browser says (a page set to Vietnamese).
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/api/appraisals/not-an-id/report.pdf?lang=vi", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept-Language", "en-GB")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(b), `"Không tìm thấy"`) || !strings.Contains(string(b), "không có hồ sơ thẩm định") {
		t.Errorf("?lang=vi: %d %s", resp.StatusCode, b)
	}
	if slices.Contains(resp.Header.Values("Vary"), "Accept-Language") {
		t.Errorf("?lang=vi: Vary %q, but the language did not follow Accept-Language", resp.Header.Values("Vary"))
	}
}
