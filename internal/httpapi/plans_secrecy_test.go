package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// TestPlanResultsAreTheSameWithAndWithoutHiddenWorks is the attacker's
// differential test for master-plan jobs: the same plan (a district grid
// of 24 x 24 parcels of about 500 m over the hidden works) uploaded in
// three worlds that differ only in secret works (world a has them, b has
// them moved within their consultation cells, c has other works with the
// same cells). An uncleared appraiser's view of the results (progress
// counts, every parcel's verdict and findings, the summary, both
// downloads) must be byte for byte the same in all three, and name none
// of the hidden works; a secret appraiser's, the control, must differ.
func TestPlanResultsAreTheSameWithAndWithoutHiddenWorks(t *testing.T) {
	e := defaultEngine()
	hs := worldsOf(t, e)
	callers := []caller{
		{name: "appraiser-public", role: zone.RoleAppraiser, clearance: zone.Public},
		{name: "appraiser-restricted", role: zone.RoleAppraiser, clearance: zone.Restricted},
		{name: "appraiser-secret", role: zone.RoleAppraiser, clearance: zone.Secret}, // the control, last
	}
	const size = 0.005
	file := planFile(area[0]-12*size, area[1]-12*size, size, 24, 24)
	secrets := secretStrings(hs[0], hs[1], hs[2])
	for _, k := range storeKinds() {
		t.Run(k.name, func(t *testing.T) {
			b, ws := openWorlds(t, k, callers, [][]*zone.Component{hs[0][:], hs[1][:], hs[2][:]}, httpapi.Config{}, nil)
			// Each caller submits the plan in each world, as itself.
			views := make([][]map[string][]byte, len(b.callers)) // caller -> world -> what -> body
			for ci, c := range b.callers {
				for _, w := range ws {
					id := submitPlan(t, w.url, c.token, file, map[string]string{"name": "Quy hoạch phân khu", "map": "name=TEN,land_use=LOAI_DAT,height=CAO"})
					st := waitPlan(t, w.url, id, c.token, zone.PlanDone)
					got := map[string][]byte{}
					counts, _ := json.Marshal(st.Counts)
					got["counts"] = counts
					for what, path := range map[string]string{
						"parcels": "/parcels?limit=10000", "summary": "/summary", "geojson": "/results.geojson", "csv": "/results.csv",
						"conflicts": "/parcels?verdict=conflict", "parcel": "/parcels/300", "shapefile": "/results.zip", "items": "/items?limit=10000",
					} {
						status, _, body := get(t, w.url+"/api/plans/"+id+path, c.token)
						if status != http.StatusOK {
							t.Fatalf("%s %s in world %s: %d %s", c.name, path, w.name, status, body)
						}
						if what == "summary" {
							body = withoutPlan(t, body)
						}
						got[what] = body
					}
					views[ci] = append(views[ci], got)
				}
			}
			for ci, c := range b.callers {
				control := ci == len(b.callers)-1
				differs := false
				for what, body := range views[ci][0] {
					for wi := 1; wi < len(ws); wi++ {
						if !bytes.Equal(body, views[ci][wi][what]) {
							differs = true
							if !control {
								t.Errorf("%s: %s differs between world a and world %s:\n%.600s\n---\n%.600s", c.name, what, ws[wi].name, body, views[ci][wi][what])
							}
						}
					}
					if !control {
						for _, s := range secrets {
							if s != "" && bytes.Contains(body, []byte(s)) {
								t.Errorf("%s: %s names hidden work %q", c.name, what, s)
							}
						}
					}
				}
				if control && !differs {
					t.Error("the secret appraiser's results are the same in every world: the test cannot tell the worlds apart")
				}
			}
			// The uncleared caller was referred somewhere: the hidden works were in reach.
			if !strings.Contains(string(views[0][0]["summary"]), "defence-consultation") {
				t.Errorf("no referral in the public summary: %.400s", views[0][0]["summary"])
			}
		})
	}
}

// withoutPlan drops a summary's plan member (its id and times differ
// between worlds, being another job) and keeps the rest as it came.
func withoutPlan(t *testing.T, body []byte) []byte {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	var counts struct {
		Counts json.RawMessage `json:"counts"`
	}
	_ = json.Unmarshal(m["plan"], &counts)
	m["plan"] = counts.Counts
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
