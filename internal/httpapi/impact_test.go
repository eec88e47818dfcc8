package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/audit"
	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/impact"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// startImpact runs what zoneplan serve runs beside a write instance: the
// watcher and the background re-check, on w's store and index.
func startImpact(t *testing.T, w *worldServer, auditTo zone.AuditStore) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	active, err := check.NewActive(ctx, w.store)
	if err != nil {
		t.Fatal(err)
	}
	cfg := impact.Config{Store: w.store, Rules: active, Index: w.index}
	if auditTo != nil {
		rec := audit.NewRecorder(auditTo, audit.Options{})
		cfg.Audit = rec.RecordNow
		t.Cleanup(func() { _ = rec.Close(context.Background()) })
	}
	wt, _, wait := impact.Start(ctx, cfg)
	t.Cleanup(func() { cancel(); wait() })
	select {
	case <-wt.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("the impact watcher did not load")
	}
}

// pollUntil polls cond (a generous bound: this asserts what happens, not
// how fast).
func pollUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// A depot moved next to two appraisals through the API (PATCH) makes them
// stale; the background re-check records the worse verdict and its diff;
// GET /api/appraisals?stale=true&worse=true lists the approved one first,
// the audit trail has its appraisal.worse entry, and the far appraisal
// is left alone.
func TestStaleAppraisalsAPI(t *testing.T) {
	st := openEmbedded(t, t.TempDir()+"/z.db")
	d := depotAt(at(area, 6000, 0))
	d.Classification = zone.Public
	if _, err := st.CreateComponent(t.Context(), d, "editor"); err != nil {
		t.Fatal(err)
	}
	w := serve(t, st, httpapi.Config{})
	startImpact(t, w, st)
	appraiser := tokenOn(t, w, zone.RoleAppraiser, zone.Public)
	reviewer := tokenOn(t, w, zone.RoleReviewer, zone.Secret)
	editor := tokenOn(t, w, zone.RoleEditor, zone.Secret)
	admin := tokenOn(t, w, zone.RoleAdmin, zone.Secret)
	create := func(name string, p orb.Point) string {
		t.Helper()
		status, _, body := send(t, http.MethodPost, w.url+"/api/appraisals", appraiser,
			[]byte(`{"name":"`+name+`","footprint":`+geomJSON(square(p, 40))+`}`))
		if status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", name, status, body)
		}
		return jsonField(t, body, "id")
	}
	approved := create("Nhà máy đã duyệt", area)
	if status, _, body := send(t, http.MethodPost, w.url+"/api/appraisals/"+approved+"/decision", reviewer,
		[]byte(`{"outcome":"approved","note":"đạt"}`)); status != http.StatusOK {
		t.Fatalf("decide: %d %s", status, body)
	}
	pending := create("Nhà máy chờ", at(area, 0, 150))
	far := create("Nhà máy xa", at(area, -25000, 0))

	// The editor moves the depot 300 m from the two.
	status, _, body := do(t, http.MethodPatch, w.url+"/ogc/collections/"+zone.LayerDefenceWorks+"/items/"+d.ID.String(), editor,
		map[string]string{"If-Match": `"1"`, "Content-Type": "application/merge-patch+json"},
		`{"geometry":`+geomJSON(at(area, 300, 0))+`}`)
	if status != http.StatusOK {
		t.Fatalf("PATCH the depot: %d %s", status, body)
	}

	type listed struct {
		Items []struct {
			ID    string          `json:"id"`
			Stale *zone.StaleMark `json:"stale"`
		} `json:"items"`
	}
	list := func(query string) listed {
		t.Helper()
		status, _, body := send(t, http.MethodGet, w.url+"/api/appraisals?"+query, reviewer, nil)
		if status != http.StatusOK {
			t.Fatalf("list %s: %d %s", query, status, body)
		}
		var l listed
		if err := json.Unmarshal(body, &l); err != nil {
			t.Fatal(err)
		}
		return l
	}
	pollUntil(t, "both near appraisals re-checked", func() bool {
		l := list("stale=true")
		done := 0
		for _, it := range l.Items {
			if it.Stale != nil && it.Stale.Rechecked {
				done++
			}
		}
		return done == 2
	})
	l := list("stale=true&worse=true")
	if len(l.Items) != 2 || l.Items[0].ID != approved || l.Items[1].ID != pending || !l.Items[0].Stale.Worse ||
		!strings.Contains(l.Items[0].Stale.Reason, d.ID.String()) {
		t.Errorf("stale=true&worse=true = %+v; want the approved one (worse, naming the depot) first, then the pending one", l.Items)
	}
	if l := list("stale=true"); len(l.Items) != 2 || l.Items[0].ID != pending {
		t.Errorf("stale=true = %+v; want newest first without worse", l.Items)
	}
	for _, it := range list("").Items {
		if it.ID == far && it.Stale != nil {
			t.Errorf("the far appraisal is stale: %+v", it.Stale)
		}
	}

	status, _, body = send(t, http.MethodGet, w.url+"/api/appraisals/"+approved, reviewer, nil)
	if status != http.StatusOK {
		t.Fatalf("get: %d %s", status, body)
	}
	var a struct {
		Checks []struct {
			Verdict string          `json:"verdict"`
			Recheck bool            `json:"recheck"`
			Reason  string          `json:"reason"`
			Diff    *zone.CheckDiff `json:"diff"`
		} `json:"checks"`
		History []struct {
			Action string `json:"action"`
		} `json:"history"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatal(err)
	}
	if len(a.Checks) != 2 || !a.Checks[0].Recheck || a.Checks[0].Diff == nil || a.Checks[0].Diff.VerdictFrom != "clear" ||
		a.Checks[0].Diff.VerdictTo != "review" || len(a.Checks[0].Diff.Added) == 0 || a.Checks[1].Recheck {
		t.Errorf("records %+v; want the re-check (clear -> review, the depot's finding added) over the first", a.Checks)
	}
	pollUntil(t, "the appraisal.worse audit entry", func() bool {
		status, _, body := send(t, http.MethodGet, w.url+"/api/audit?action=appraisal.worse", admin, nil)
		return status == http.StatusOK && strings.Contains(string(body), approved) && !strings.Contains(string(body), pending)
	})

	status, h, body := send(t, http.MethodGet, w.url+"/api/appraisals?stale=maybe", reviewer, nil)
	mustProblem(t, status, h, body, http.StatusBadRequest)
}

// The attacker's differential: two worlds copied from one base (the same
// appraisals, one approved, near a secret depot) differ only in that, in
// one, an editor moved the depot (through the API) within its
// consultation cells. A reader below secret (the appraiser who made them,
// a reviewer cleared for restricted) gets byte-identical answers in both
// to the appraisal, the lists (stale, worse first) and the audit listing,
// however long after the edit it asks: no stale flag, no record, no
// reason, no time. The secret reviewer's re-check is the witness that the
// edit was seen.
func TestHiddenEditLeavesUnclearedAnswersAlone(t *testing.T) {
	for _, k := range storeKinds() {
		t.Run(k.name, func(t *testing.T) {
			e := defaultEngine()
			depot := depotAt(at(area, 450, 0))
			moved, dist := farthestMove(t, e, depot, 600)
			t.Logf("the depot moves %.0f m within its cells", dist)
			if dist < 100 || cellsOf(e, moved) != cellsOf(e, depot) {
				t.Fatal("the moved depot's cells differ: the test would not isolate a hidden edit")
			}
			st, handle := k.fresh(t)
			if _, err := st.CreateComponent(t.Context(), depot.Clone(), "hidden"); err != nil {
				t.Fatal(err)
			}
			base := serve(t, st, httpapi.Config{})
			appraiser := tokenOn(t, base, zone.RoleAppraiser, zone.Public)
			reviewer := tokenOn(t, base, zone.RoleReviewer, zone.Restricted)
			secretReviewer := tokenOn(t, base, zone.RoleReviewer, zone.Secret)
			editor := tokenOn(t, base, zone.RoleEditor, zone.Secret)
			var ids []string
			for i, p := range []orb.Point{area, at(area, -200, 300)} {
				status, _, body := send(t, http.MethodPost, base.url+"/api/appraisals", appraiser,
					[]byte(fmt.Sprintf(`{"name":"Dự án %d","footprint":%s}`, i, geomJSON(square(p, 40)))))
				if status != http.StatusCreated {
					t.Fatalf("create: %d %s", status, body)
				}
				ids = append(ids, jsonField(t, body, "id"))
			}
			if status, _, body := send(t, http.MethodPost, base.url+"/api/appraisals/"+ids[0]+"/decision", reviewer,
				[]byte(`{"outcome":"approved","note":"đạt"}`)); status != http.StatusOK {
				t.Fatalf("decide: %d %s", status, body)
			}
			base.stop()
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}

			var answers [2][]string
			for i, edit := range []bool{false, true} {
				w := serve(t, k.copyOf(t, handle), httpapi.Config{})
				startImpact(t, w, w.store)
				if edit {
					status, _, body := do(t, http.MethodPatch, w.url+"/ogc/collections/"+zone.LayerDefenceWorks+"/items/"+depot.ID.String(), editor,
						map[string]string{"If-Match": `"1"`, "Content-Type": "application/merge-patch+json"},
						`{"geometry":`+geomJSON(moved.Geometry)+`}`)
					if status != http.StatusOK {
						t.Fatalf("PATCH the hidden depot: %d %s", status, body)
					}
					pollUntil(t, "the secret reviewer's re-check", func() bool {
						status, _, body := send(t, http.MethodGet, w.url+"/api/appraisals/"+ids[0], secretReviewer, nil)
						return status == http.StatusOK && strings.Contains(string(body), `"recheck":true`)
					})
				} else {
					time.Sleep(3 * time.Second) // a watcher poll and more: nothing happens
				}
				for _, who := range []string{appraiser, reviewer} {
					for _, path := range []string{"/api/appraisals/" + ids[0], "/api/appraisals/" + ids[1],
						"/api/appraisals?stale=true&worse=true", "/api/appraisals?worse=true", "/api/appraisals"} {
						status, _, body := send(t, http.MethodGet, w.url+path, who, nil)
						answers[i] = append(answers[i], fmt.Sprintf("%s %d %s", path, status, body))
					}
				}
			}
			for j := range answers[0] {
				if answers[0][j] != answers[1][j] {
					t.Errorf("LEAK: an uncleared reader's answer differs after a hidden edit:\nwithout: %s\n   with: %s", answers[0][j], answers[1][j])
				}
			}
		})
	}
}
