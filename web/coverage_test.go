package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The page shows where each layer's data is complete: the coverage the
// caller may see is drawn under the data, with a legend entry giving its
// number of areas and a checkbox that hides it; a footprint drawn outside
// it (Hà Nội: the demo covers only its own provinces) is checked
// "incomplete", named in the page's language.
func TestCoverageOnTheMap(t *testing.T) {
	chromium := requireChromium(t)
	srv := startServer(t)
	tok := srv.tokens["appraiser"]
	req, _ := http.NewRequest(http.MethodGet, srv.url+"/api/coverage", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var fc struct {
		Features []json.RawMessage `json:"features"`
	}
	if err := json.Unmarshal(body, &fc); err != nil || len(fc.Features) == 0 {
		t.Fatalf("GET /api/coverage: %d %v %.200s", resp.StatusCode, err, body)
	}

	b := newBrowser(t, chromium)
	b.do(chromedp.Navigate(srv.url + "/#map=7/21.9/105.5"))
	b.signIn(tok)
	b.waitJS(`document.querySelectorAll('#map path.zp-coverage').length > 0`)
	if drawn := evalJS[int](b, `document.querySelectorAll('#map path.zp-coverage').length`); drawn != len(fc.Features) {
		t.Errorf("%d coverage areas drawn, the API lists %d", drawn, len(fc.Features))
	}
	legend := evalJS[string](b, `document.querySelector('#layer-groups fieldset[data-group=coverage]').innerText`)
	if !strings.Contains(legend, fmt.Sprint(len(fc.Features))) || !(strings.Contains(legend, "Phạm vi dữ liệu đầy đủ") || strings.Contains(legend, "Data coverage")) {
		t.Errorf("the coverage legend reads %q", legend)
	}
	// The drawn areas take no clicks (drawing a footprint over them works).
	if pe := evalJS[string](b, `getComputedStyle(document.querySelector('.leaflet-zpCoverage-pane')).pointerEvents`); pe != "none" {
		t.Errorf("the coverage pane takes clicks: pointer-events %q", pe)
	}
	b.do(chromedp.Click(chromedp.ID("coverage-toggle")))
	b.waitJS(`getComputedStyle(document.querySelector('#map path.zp-coverage')).display === 'none'`)
	b.do(chromedp.Click(chromedp.ID("coverage-toggle")))
	b.waitJS(`getComputedStyle(document.querySelector('#map path.zp-coverage')).display !== 'none'`)

	// A small triangle in Hà Nội, outside the demo's coverage.
	b.do(chromedp.Click(chromedp.ID("tab-check")), chromedp.Click(chromedp.ID("fp-clear")))
	b.drawTriangleAt(105.8342, 21.0278)
	b.do(
		chromedp.SetValue(chromedp.ID("attr-name"), "Nhà văn hoá Hà Nội (thử)"),
		chromedp.SetValue(chromedp.ID("attr-investor"), "Công ty Cổ phần Thử nghiệm"),
		chromedp.Click(chromedp.ID("check-run")),
	)
	if v := b.waitVerdict(); v != "incomplete" {
		t.Errorf("a footprint in Hà Nội, outside the demo's coverage, was checked %q", v)
	}
	banner := evalJS[string](b, `document.querySelector('#check-result .verdict').textContent`)
	if !strings.Contains(banner, "Thiếu dữ liệu") && !strings.Contains(banner, "Incomplete data") {
		t.Errorf("the verdict banner reads %q", banner)
	}
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %v", errs)
	}
}
