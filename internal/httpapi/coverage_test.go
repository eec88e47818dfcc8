package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/coverage"
	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// coverageBody is a coverage Feature for POST and PUT.
func coverageBody(layer, area, class string, p orb.Polygon) string {
	return fmt.Sprintf(`{"type":"Feature","geometry":%s,"properties":{"layer":%q,"area":%q,"status":"reviewed","as_of":"2026-12-01","classification":%q}}`,
		geomJSON(p), layer, area, class)
}

func rectPoly(x0, y0, x1, y1 float64) orb.Polygon {
	return orb.Polygon{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}
}

func verdictOf(t *testing.T, body []byte) string {
	t.Helper()
	var res struct {
		Verdict string `json:"verdict"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return res.Verdict
}

// The coverage API's round trip: an admin declares every rule layer's
// coverage, replaces one with and without a fresh If-Match, deletes one;
// checks say clear inside and incomplete outside at once (read your
// writes); a viewer reads but may not write; an admin may not classify
// above their clearance; a coverage above a reader's clearance is not
// found, with the body of one that never existed; bad input is 422 with
// every problem, in Vietnamese when asked.
func TestCoverageAPI(t *testing.T) {
	ts := newTestServer(t, false)
	admin := ts.token(t, zone.RoleAdmin, zone.Secret)
	adminRestricted := ts.token(t, zone.RoleAdmin, zone.Restricted)
	viewer := ts.token(t, zone.RoleViewer, zone.Public)
	appraiser := ts.token(t, zone.RoleAppraiser, zone.Public)
	area := rectPoly(106.0, 21.0, 107.0, 22.0)
	inside, outside := geomJSON(orb.Point{106.5, 21.5}), geomJSON(orb.Point{107.5, 21.5})

	ids := map[string]string{}
	for _, l := range rules.Default().Layers() {
		status, h, body := send(t, http.MethodPost, ts.URL+"/api/coverage", admin, []byte(coverageBody(l, "Lạng Sơn", "public", area)))
		if status != http.StatusCreated || h.Get("ETag") != `"1"` || !strings.HasPrefix(h.Get("Location"), "/api/coverage/") {
			t.Fatalf("create %s: %d %v %s", l, status, h, body)
		}
		ids[l] = jsonField(t, body, "id")
	}
	if status, _, body := send(t, http.MethodPost, ts.URL+"/api/check", appraiser, []byte(inside)); status != http.StatusOK || verdictOf(t, body) != "clear" {
		t.Errorf("inside: %d %s", status, body)
	}
	status, _, body := send(t, http.MethodPost, ts.URL+"/api/check", appraiser, []byte(outside))
	if status != http.StatusOK || verdictOf(t, body) != "incomplete" || strings.Count(string(body), `"rule":"data-coverage"`) != len(ids) ||
		!strings.Contains(string(body), `"contact":{"vi":`) {
		t.Errorf("outside: %d %s", status, body)
	}

	// Replace: a stale If-Match is 412, a fresh one replaces.
	loc := ts.URL + "/api/coverage/" + ids[zone.LayerCombatBases]
	small := coverageBody(zone.LayerCombatBases, "Lạng Sơn", "public", rectPoly(106.0, 21.0, 106.4, 22.0))
	if status, h, body := do(t, http.MethodPut, loc, admin, map[string]string{"If-Match": `"7"`}, small); status != http.StatusPreconditionFailed {
		t.Errorf("stale If-Match: %d %v %s", status, h, body)
	}
	if status, h, body := do(t, http.MethodPut, loc, admin, map[string]string{"If-Match": `"1"`}, small); status != http.StatusOK || h.Get("ETag") != `"2"` {
		t.Errorf("replace: %d %v %s", status, h, body)
	}
	status, _, body = send(t, http.MethodPost, ts.URL+"/api/check", appraiser, []byte(inside))
	if verdictOf(t, body) != "incomplete" || strings.Count(string(body), `"rule":"data-coverage"`) != 1 || !strings.Contains(string(body), `"layer":"combat_bases"`) {
		t.Errorf("after shrinking the combat bases' coverage: %d %s", status, body)
	}

	// Reading, by role and clearance.
	status, h, body := get(t, ts.URL+"/api/coverage?layer=combat_bases", viewer)
	if status != http.StatusOK || h.Get("Content-Type") != "application/geo+json" || strings.Count(string(body), `"Feature"`) != 1 ||
		strings.Contains(string(body), "updated_by") || !strings.Contains(string(body), `"as_of":"2026-12-01"`) {
		t.Errorf("viewer's list: %d %v %s", status, h, body)
	}
	if _, _, body := get(t, ts.URL+"/api/coverage", admin); !strings.Contains(string(body), `"updated_by":"admin-secret"`) {
		t.Errorf("admin's list lacks who set it: %s", body)
	}
	if status, _, body := send(t, http.MethodPost, ts.URL+"/api/coverage", viewer, []byte(small)); status != http.StatusForbidden {
		t.Errorf("viewer's create: %d %s", status, body)
	}
	if status, _, body := send(t, http.MethodPost, ts.URL+"/api/coverage", adminRestricted, []byte(coverageBody(zone.LayerDefenceWorks, "Cao Bằng", "secret", area))); status != http.StatusForbidden {
		t.Errorf("a restricted admin classified a coverage secret: %d %s", status, body)
	}
	status, _, body = send(t, http.MethodPost, ts.URL+"/api/coverage", admin, []byte(coverageBody(zone.LayerDefenceWorks, "Cao Bằng", "secret", rectPoly(106.0, 22.5, 106.3, 22.8))))
	if status != http.StatusCreated {
		t.Fatalf("secret coverage: %d %s", status, body)
	}
	secretID := jsonField(t, body, "id")
	s1, _, hidden := get(t, ts.URL+"/api/coverage/"+secretID, viewer)
	s2, _, missing := get(t, ts.URL+"/api/coverage/"+secretID[:len(secretID)-4]+"0000", viewer)
	if s1 != http.StatusNotFound || s2 != http.StatusNotFound ||
		strip(hidden, secretID) != strip(missing, secretID[:len(secretID)-4]+"0000") {
		t.Errorf("a secret coverage is told apart from a missing one: %d %s / %d %s", s1, hidden, s2, missing)
	}
	if _, _, body := get(t, ts.URL+"/api/coverage", viewer); strings.Contains(string(body), secretID) || strings.Contains(string(body), "Cao Bằng") {
		t.Errorf("the viewer's list shows the secret coverage: %s", body)
	}
	if status, _, body := get(t, ts.URL+"/api/coverage/"+secretID, admin); status != http.StatusOK {
		t.Errorf("admin's read of the secret coverage: %d %s", status, body)
	}

	// Bad input: every problem, in Vietnamese when asked.
	status, h, body = send(t, http.MethodPost, ts.URL+"/api/coverage?lang=vi", admin,
		[]byte(`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[106,21],[106.001,21],[106.001,21.001],[106,21]]]},"properties":{"layer":"nope","status":"done","as_of":"hôm qua"}}`))
	mustProblem(t, status, h, body, http.StatusUnprocessableEntity)
	for _, want := range []string{"không phải ngày", "phạm vi dữ liệu không hợp lệ"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the Vietnamese problem lacks %q: %s", want, body)
		}
	}
	status, h, body = send(t, http.MethodPost, ts.URL+"/api/coverage", admin,
		[]byte(`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[106,21],[106.001,21],[106.001,21.001],[106,21]]]},"properties":{"layer":"nope","status":"done","as_of":"2026-12-01"}}`))
	mustProblem(t, status, h, body, http.StatusUnprocessableEntity)
	for _, want := range []string{`"layer"`, `"status"`, `"area"`, "1 km²"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the problem does not name %s: %s", want, body)
		}
	}

	// Delete: stale If-Match 412, then 204, then 404; the check follows.
	if status, _, body := do(t, http.MethodDelete, loc, admin, map[string]string{"If-Match": `"1"`}, ""); status != http.StatusPreconditionFailed {
		t.Errorf("stale delete: %d %s", status, body)
	}
	if status, _, body := do(t, http.MethodDelete, loc, admin, nil, ""); status != http.StatusNoContent {
		t.Errorf("delete: %d %s", status, body)
	}
	if status, _, _ := get(t, loc, admin); status != http.StatusNotFound {
		t.Errorf("deleted coverage read: %d", status)
	}
	if _, _, body := send(t, http.MethodPost, ts.URL+"/api/check", appraiser, []byte(geomJSON(orb.Point{106.2, 21.5}))); verdictOf(t, body) != "incomplete" {
		t.Errorf("after deleting the combat bases' coverage: %s", body)
	}
}

var requestIDs = regexp.MustCompile(`"request_id":"[0-9a-f]+"`)

// coverageWorld holds the coverage every world shares, with fixed ids
// and times: for every rule layer a public coverage over the west half of
// the test area; for defence works (whose hidden works are all secret)
// also a secret coverage over the east half, which an uncleared caller
// must neither see nor have counted.
func coverageWorld(t *testing.T, st zone.Store) {
	t.Helper()
	ctx := context.Background()
	west := rectPoly(area.X()-0.15, area.Y()-0.15, area.X()+0.01, area.Y()+0.15)
	east := rectPoly(area.X()+0.01, area.Y()-0.15, area.X()+0.15, area.Y()+0.15)
	for i, l := range rules.Default().Layers() {
		c := &zone.Coverage{ID: uuid.MustParse(fmt.Sprintf("c0fe0000-0000-4000-8000-%012d", i+1)), Layer: l, Area: "Lạng Sơn (tây)",
			Status: zone.CoverageReviewed, AsOf: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Geometry: orb.MultiPolygon{west}}
		if _, err := st.PutCoverage(ctx, c, 0, zone.Secret, "base"); err != nil {
			t.Fatal(err)
		}
	}
	c := &zone.Coverage{ID: uuid.MustParse("c0fe0000-0000-4000-8000-0000000000ff"), Layer: zone.LayerDefenceWorks, Area: "Lạng Sơn (đông, mật)",
		Status: zone.CoverageReviewed, AsOf: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Classification: zone.Secret, Geometry: orb.MultiPolygon{east}}
	if _, err := st.PutCoverage(ctx, c, 0, zone.Secret, "base"); err != nil {
		t.Fatal(err)
	}
}

// The attacker's differential for coverage: an uncleared caller's
// answers about coverage (the list, one coverage by id, the map's GeoJSON
// by layer) and the incomplete findings of their checks (points, lines and
// polygons inside, straddling and outside the coverage, on and near every
// world's hidden works, one at a time and as a collection) are byte for
// byte the same whether the hidden works are there (world a), moved
// within their cells (b) or replaced by others of the same cells (c), on
// both stores. A secret caller, the control, sees the worlds differ, and
// sees the secret coverage count where the others do not.
func TestCoverageDifferential(t *testing.T) {
	e := defaultEngine()
	hs := worldsOf(t, e)
	callers := []caller{
		{name: "appraiser-public", role: zone.RoleAppraiser, clearance: zone.Public},
		{name: "reviewer-internal", role: zone.RoleReviewer, clearance: zone.Internal},
		{name: "editor-restricted", role: zone.RoleEditor, clearance: zone.Restricted},
		{name: "anonymous"},
		{name: "appraiser-secret", role: zone.RoleAppraiser, clearance: zone.Secret}, // the control, last
	}
	var footprints []string
	for _, w := range hs {
		for _, c := range w {
			p := c.Geometry.Bound().Center()
			footprints = append(footprints, geomJSON(p), geomJSON(square(at(p, 300, 0), 200)),
				geomJSON(orb.LineString{at(p, -3000, 0), at(p, 3000, 0)}))
		}
	}
	edgeX := area.X() + 0.01
	footprints = append(footprints,
		geomJSON(orb.Point{edgeX, area.Y()}),                                           // on the public edge
		geomJSON(orb.LineString{{edgeX - 0.02, area.Y()}, {edgeX + 0.02, area.Y()}}),   // straddling it
		geomJSON(rectPoly(edgeX-0.005, area.Y()-0.005, edgeX+0.005, area.Y()+0.005)),   // a polygon across it
		geomJSON(rectPoly(area.X()+0.05, area.Y()-0.01, area.X()+0.07, area.Y()+0.01)), // inside the secret coverage only
		geomJSON(rectPoly(area.X()-0.10, area.Y()-0.01, area.X()-0.08, area.Y()+0.01)), // inside the public coverage
		geomJSON(rectPoly(area.X()+0.20, area.Y()+0.20, area.X()+0.21, area.Y()+0.21)), // outside all
		`{"type":"FeatureCollection","features":[`+
			`{"type":"Feature","properties":{},"geometry":`+geomJSON(orb.Point{area.X() - 0.1, area.Y()})+`},`+
			`{"type":"Feature","properties":{},"geometry":`+geomJSON(orb.Point{area.X() + 0.1, area.Y()})+`}]}`)
	for _, k := range storeKinds() {
		t.Run(k.name, func(t *testing.T) {
			st, handle := k.fresh(t)
			b := buildBase(t, st, callers)
			coverageWorld(t, st)
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			var ws []*world
			for i, h := range hs {
				wst := k.copyOf(t, handle)
				addHidden(t, wst, h[:])
				w := &world{worldServer: serveDeps(t, wst, httpapi.Config{}, nil), name: string(rune('a' + i))}
				set, err := coverage.Load(context.Background(), wst)
				if err != nil {
					t.Fatal(err)
				}
				w.index.SetCoverage(set)
				ws = append(ws, w)
			}
			for _, c := range b.callers {
				var answers [3][]string
				for i, w := range ws {
					ask := func(method, path, body string) {
						status, h, resp := send(t, method, w.url+path, c.token, []byte(body))
						answers[i] = append(answers[i], fmt.Sprintf("%s %s %s -> %d %s %s", method, path, body, status, h.Get("Content-Type"), requestIDs.ReplaceAllString(withoutTook(string(resp)), `"request_id":"-"`)))
					}
					ask(http.MethodGet, "/api/coverage", "")
					ask(http.MethodGet, "/api/coverage?layer=defence_works", "")
					ask(http.MethodGet, "/api/coverage/c0fe0000-0000-4000-8000-0000000000ff", "")
					ask(http.MethodGet, "/api/coverage/c0fe0000-0000-4000-8000-000000000001", "")
					for _, fp := range footprints {
						ask(http.MethodPost, "/api/check", fp)
					}
				}
				control := c.clearance == zone.Secret
				differ := false
				for i := range answers[0] {
					for w := 1; w < 3; w++ {
						if answers[w][i] != answers[0][i] {
							differ = true
							if !control {
								t.Errorf("%s: world %c answers otherwise than world a:\n a: %s\n %c: %s", c.name, 'a'+w, answers[0][i], 'a'+w, answers[w][i])
							}
						}
					}
				}
				if control && !differ {
					t.Errorf("the secret caller sees no difference between the worlds: the test cannot tell them apart")
				}
				secretArea := strings.Contains(answers[0][0], "Lạng Sơn (đông, mật)")
				insideSecretOnly := answers[0][4+len(footprints)-4]
				if control != secretArea {
					t.Errorf("%s: the secret coverage listed: %v", c.name, secretArea)
				}
				if !control && strings.Contains(insideSecretOnly, "-> 200") && !strings.Contains(insideSecretOnly, `"component":{"layer":"defence_works"}`) {
					t.Errorf("%s: a footprint covered for defence works only by the secret coverage is not incomplete for defence works: %s", c.name, insideSecretOnly)
				}
				if control && strings.Contains(insideSecretOnly, `"component":{"layer":"defence_works"}`) {
					t.Errorf("the secret caller does not count the secret coverage: %s", insideSecretOnly)
				}
			}
		})
	}
}
