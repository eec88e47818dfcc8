package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/pgtest"
	"github.com/zoneplan/zoneplan/internal/postgis"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Two write instances share a PostGIS; a depot is moved next to a stored
// appraisal by an edit made straight on the table (as QGIS does). The
// appraisal is marked stale and re-checked once, by the one instance
// holding the impact lock: one new record, not two.
func TestOneInstanceRechecksADirectEdit(t *testing.T) {
	dsn := pgtest.New(t)
	env := map[string]string{"DATABASE_URL": dsn}
	a := startServer(t, env, "--no-demo")
	b := startServer(t, env, "--no-demo")
	admin := a.Admin + b.Admin
	if admin == "" {
		t.Fatal("neither instance printed the first admin token")
	}
	ctx := context.Background()
	st, err := postgis.Open(ctx, dsn, postgis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	depot := &zone.Component{Layer: zone.LayerDefenceWorks, Kind: zone.KindDepot, Name: "Kho K9", Code: "K9",
		Classification: zone.Public, FunctionType: zone.FunctionC, Group: zone.GroupI, Synthetic: true,
		Geometry: orb.Point{105.85, 21.0}, Zones: []zone.ProtectionZone{{Kind: zone.SafetyBelt, WidthM: 500}}}
	depot, err = st.CreateComponent(ctx, depot, "test")
	if err != nil {
		t.Fatal(err)
	}
	// The data is declared complete around the site, so that its first
	// check can be clear (without coverage it would be incomplete).
	around := orb.MultiPolygon{{{{105.7, 20.9}, {105.95, 20.9}, {105.95, 21.1}, {105.7, 21.1}, {105.7, 20.9}}}}
	for _, l := range zone.Layers() {
		if l.Group == "projects" {
			continue
		}
		c := &zone.Coverage{Layer: l.ID, Area: "Hà Nội (thử)", Status: zone.CoverageReviewed,
			AsOf: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Geometry: around}
		if _, err := st.PutCoverage(ctx, c, 0, zone.Secret, "test"); err != nil {
			t.Fatal(err)
		}
	}
	site := `{"type":"Polygon","coordinates":[[[105.8,21.0],[105.8004,21.0],[105.8004,21.0004],[105.8,21.0004],[105.8,21.0]]]}`
	for deadline := time.Now().Add(10 * time.Second); ; { // both instances follow the coverage through the change feed
		clear := true
		for _, r := range []*running{a, b} {
			req, _ := http.NewRequest(http.MethodPost, r.URL+"/api/check", strings.NewReader(site))
			req.Header.Set("Authorization", "Bearer "+admin)
			req.Header.Set("Content-Type", "application/geo+json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var res struct {
				Verdict string `json:"verdict"`
			}
			err = json.NewDecoder(resp.Body).Decode(&res)
			resp.Body.Close()
			if err != nil || res.Verdict != "clear" {
				clear = false
			}
		}
		if clear {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the instances did not follow the coverage within 10 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	body := `{"name":"Nhà máy","footprint":{"type":"Polygon","coordinates":[[[105.8,21.0],[105.8004,21.0],[105.8004,21.0004],[105.8,21.0004],[105.8,21.0]]]}}`
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/api/appraisals", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	created, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var ap struct {
		ID      string `json:"id"`
		Verdict string `json:"verdict"`
	}
	if err := json.Unmarshal(created, &ap); err != nil || resp.StatusCode != http.StatusCreated || ap.Verdict != "clear" {
		t.Fatalf("create: %d %s (%v); want a clear appraisal", resp.StatusCode, created, err)
	}

	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE components SET geom = ST_SetSRID(ST_MakePoint(105.803, 21.0002), 4326) WHERE id = $1`, depot.ID); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Stale  *zone.StaleMark `json:"stale"`
		Checks []struct {
			Recheck bool `json:"recheck"`
		} `json:"checks"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if status := getJSON(t, b.URL+"/api/appraisals/"+ap.ID, admin, &got); status != http.StatusOK {
			t.Fatalf("get: %d", status)
		}
		if len(got.Checks) >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the appraisal was not re-checked after the direct edit: %+v", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // room for a second instance's re-check, were there one
	if status := getJSON(t, a.URL+"/api/appraisals/"+ap.ID, admin, &got); status != http.StatusOK {
		t.Fatalf("get: %d", status)
	}
	if len(got.Checks) != 2 || !got.Checks[0].Recheck || got.Stale == nil || !strings.Contains(got.Stale.Reason, depot.ID.String()) {
		t.Errorf("records %+v, stale %+v; want one re-check naming the depot", got.Checks, got.Stale)
	}
	leaders := 0
	for _, r := range []*running{a, b} {
		if bytes.Contains([]byte(r.Stderr.String()), []byte("this instance marks and re-checks")) {
			leaders++
		}
	}
	if leaders != 1 {
		t.Errorf("%d instances took the impact lock, want 1", leaders)
	}
}
