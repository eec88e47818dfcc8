package web_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// An approved appraisal whose verdict a change of the defence data made
// worse is put before the reviewer: an admin adds a public depot 300 m
// from an approved factory; zoneplan serve marks the appraisal stale and
// re-checks it in the background; the reviewer's appraisals tab shows the
// notice naming it, and its record says what changed and why.
func TestWorseAppraisalNotice(t *testing.T) {
	chromium := requireChromium(t)
	srv := startServer(t)
	api := func(method, path, token, body string) []byte {
		t.Helper()
		req, _ := http.NewRequest(method, srv.url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
		}
		return b
	}
	// Near Hà Nội, far from the demo's border data: first clear.
	const lon, lat = 105.80, 21.00
	d := 0.0004
	footprint := fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]]}`,
		lon-d, lat-d, lon+d, lat-d, lon+d, lat+d, lon-d, lat+d, lon-d, lat-d)
	// An admin declares the data complete around the site (the demo's
	// coverage leaves Hà Nội out, where a check can only be incomplete).
	for _, layer := range []string{"border_lines", "border_markers", "patrol_routes", "combat_bases", "commune_hqs", "defence_works"} {
		api(http.MethodPost, "/api/coverage", srv.tokens["admin"], fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Polygon",
			"coordinates":[[[%f,%f],[%f,%f],[%f,%f],[%f,%f],[%f,%f]]]},"properties":{"layer":%q,"area":"Hà Nội (thử)","status":"reviewed","as_of":"2026-12-01"}}`,
			lon-0.1, lat-0.1, lon+0.1, lat-0.1, lon+0.1, lat+0.1, lon-0.1, lat+0.1, lon-0.1, lat-0.1, layer))
	}
	var a struct {
		ID      string `json:"id"`
		Verdict string `json:"verdict"`
	}
	if err := json.Unmarshal(api(http.MethodPost, "/api/appraisals", srv.tokens["appraiser"],
		`{"name":"Nhà máy gạch Thanh Trì","footprint":`+footprint+`}`), &a); err != nil {
		t.Fatal(err)
	}
	if a.Verdict != "clear" {
		t.Fatalf("the appraisal is %s at first; the test needs clear", a.Verdict)
	}
	api(http.MethodPost, "/api/appraisals/"+a.ID+"/decision", srv.tokens["reviewer"], `{"outcome":"approved","note":"đạt"}`)
	depot := fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Point","coordinates":[%f,%f]},"properties":{
		"kind":"depot","name":"Kho thử nghiệm","classification":"public","function_type":"C","group":"I","synthetic":true,
		"zones":[{"kind":"safety_belt","width_m":500}]}}`, lon+0.003, lat)
	api(http.MethodPost, "/ogc/collections/defence_works/items", srv.tokens["admin"], depot)

	// The background re-check: the API lists it, approved and worse, first.
	deadline := time.Now().Add(stepTimeout)
	for {
		body := api(http.MethodGet, "/api/appraisals?stale=true&worse=true", srv.tokens["reviewer"], "")
		if bytes.Contains(body, []byte(`"worse":true`)) && bytes.Contains(body, []byte(a.ID)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the appraisal was not re-checked worse: %s", body)
		}
		time.Sleep(100 * time.Millisecond)
	}

	b := newBrowser(t, chromium)
	b.do(chromedp.Navigate(srv.url + "/"))
	b.signIn(srv.tokens["reviewer"])
	b.do(chromedp.Click(chromedp.ID("tab-appraisals")))
	b.waitJS(fmt.Sprintf(`!document.getElementById('appr-worse-notice').hidden && !!document.querySelector('#appr-worse-notice li[data-id=%q]')`, a.ID))
	notice := evalJS[string](b, `document.getElementById('appr-worse-notice').innerText`)
	if !strings.Contains(notice, "Nhà máy gạch Thanh Trì") || !strings.Contains(notice, "xấu đi") {
		t.Errorf("the notice reads %q; want the appraisal named and its verdict said worse", notice)
	}
	b.do(chromedp.Click(chromedp.CSS(fmt.Sprintf(`#appr-worse-notice li[data-id=%q] button`, a.ID))))
	b.waitJS(`!!document.getElementById('appr-stale-mark')`)
	stale := evalJS[string](b, `document.getElementById('appr-stale-mark').innerText`)
	if !strings.Contains(stale, "Dữ liệu thay đổi") || !strings.Contains(stale, "được thêm") || !strings.Contains(stale, "Kết luận xấu đi") {
		t.Errorf("the record's stale mark reads %q", stale)
	}
	history := evalJS[string](b, `document.querySelector('.checks-history').innerText`)
	if !strings.Contains(history, "Tự động kiểm tra lại") || !strings.Contains(history, "Cần xem xét") {
		t.Errorf("the history reads %q; want the re-check's diff (to review)", history)
	}
	if errs := b.consoleErrors(); len(errs) > 0 {
		t.Errorf("the page threw:\n%s", strings.Join(errs, "\n"))
	}
}
