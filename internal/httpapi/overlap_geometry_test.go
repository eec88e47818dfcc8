package httpapi_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// overlapMember matches a finding's overlap member with a geometry.
var overlapMember = regexp.MustCompile(`"overlap":\{[^}]*\}`)

// ?geometry=none answers a check, and an appraisal created, rechecked or
// read, without the findings' overlap geometries and otherwise byte for
// byte as without it (took_ms and times aside); the stored records keep
// them. Any other value is 400 before any work.
func TestGeometryNone(t *testing.T) {
	ts := newTestServer(t, false)
	sc := newScene(t, ts)
	high := ts.token(t, zone.RoleAppraiser, zone.Secret)
	tookMS := regexp.MustCompile(`"took_ms":[0-9.e+-]+,?`)
	post := func(url, body string) string {
		t.Helper()
		status, _, b := send(t, http.MethodPost, url, high, []byte(body))
		if status/100 != 2 {
			t.Fatalf("POST %s: %d %s", url, status, b)
		}
		return string(b)
	}
	full := post(ts.URL+"/api/check", sc.conflict)
	none := post(ts.URL+"/api/check?geometry=none", sc.conflict)
	if n := len(overlapMember.FindAllString(full, -1)); n < 2 {
		t.Fatalf("the full answer has %d overlap geometries; the scene should give several: %s", n, full)
	}
	if overlapMember.MatchString(none) {
		t.Fatalf("geometry=none still gives an overlap geometry: %s", none)
	}
	stripped := overlapMember.ReplaceAllString(full, `"overlap":null`)
	if tookMS.ReplaceAllString(stripped, "") != tookMS.ReplaceAllString(none, "") {
		t.Fatalf("geometry=none changes more than the overlap geometries:\nfull: %s\nnone: %s", stripped, none)
	}
	if again := post(ts.URL+"/api/check?geometry=full", sc.conflict); tookMS.ReplaceAllString(again, "") != tookMS.ReplaceAllString(full, "") {
		t.Fatalf("geometry=full differs from the default:\n%s\n%s", again, full)
	}

	// Appraisals: the answer leaves the geometry out, the record keeps it.
	created := post(ts.URL+"/api/appraisals?geometry=none", `{"name":"Khu nghỉ dưỡng","footprint":`+sc.conflict+`}`)
	if overlapMember.MatchString(created) || !strings.Contains(created, `"overlap":null`) {
		t.Fatalf("appraisal created with geometry=none: %s", created)
	}
	var a struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal([]byte(created), &a); err != nil || a.ID == "" {
		t.Fatalf("no appraisal id: %v %s", err, created)
	}
	_, _, kept := get(t, ts.URL+"/api/appraisals/"+a.ID, high)
	if !overlapMember.Match(kept) {
		t.Fatalf("the stored appraisal lost its overlap geometries: %s", kept)
	}
	_, _, read := get(t, ts.URL+"/api/appraisals/"+a.ID+"?geometry=none", high)
	if overlapMember.Match(read) {
		t.Fatalf("an appraisal read with geometry=none: %s", read)
	}
	rechecked := post(ts.URL+"/api/appraisals/"+a.ID+"/recheck?geometry=none", "")
	if overlapMember.MatchString(rechecked) || strings.Count(rechecked, `"ruleset_version"`) < 2 {
		t.Fatalf("a recheck with geometry=none: %s", rechecked)
	}

	// Anything else is refused before any work: no check, no appraisal.
	for _, url := range []string{"/api/check?geometry=simplified", "/api/appraisals?geometry=None", "/api/appraisals/" + a.ID + "/recheck?geometry="} {
		status, h, b := send(t, http.MethodPost, ts.URL+url, high, []byte(`{"name":"x","footprint":`+sc.conflict+`}`))
		if strings.HasSuffix(url, "geometry=") { // empty is the default
			if status/100 != 2 {
				t.Fatalf("POST %s: %d %s", url, status, b)
			}
			continue
		}
		mustProblem(t, status, h, b, http.StatusBadRequest)
		if !strings.Contains(string(b), `want none`) {
			t.Fatalf("POST %s: the problem does not say what geometry takes: %s", url, b)
		}
	}
	_, _, list := get(t, ts.URL+"/api/appraisals", high)
	if n := strings.Count(string(list), `"site_id"`); n != 1 {
		t.Fatalf("%d appraisals listed after one create and a refused one: %s", n, list)
	}
}
