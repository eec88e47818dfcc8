package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/pgtest"
	"github.com/zoneplan/zoneplan/internal/postgis"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// A check record written before records kept a view per clearance (a
// database migrated from an older zoneplan) holds only the full check; the
// store gives it to readers as it is, for the server to redact. Every
// response that shows such a record to a reader below secret (the
// appraisal, its printable report and its history table) shows the
// referral and its review, never the conflict nor the work behind it.
func TestOldRecordsAreRedacted(t *testing.T) {
	dsn := pgtest.New(t)
	if err := postgis.Migrate(context.Background(), dsn, nil); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	st := openPostGIS(t, dsn)
	depot := depotAt(at(area, 300, -200))
	if _, err := st.CreateComponent(t.Context(), depot.Clone(), "hidden"); err != nil {
		t.Fatal(err)
	}
	w := serve(t, st, httpapi.Config{})
	low := tokenOn(t, w, zone.RoleAppraiser, zone.Public)
	reviewer := tokenOn(t, w, zone.RoleReviewer, zone.Internal)
	on := geomJSON(square(depot.Geometry.(orb.Point), 40))
	status, _, body := send(t, http.MethodPost, w.url+"/api/appraisals", low, []byte(`{"name":"Nhà máy trên kho","footprint":`+on+`}`))
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	id := jsonField(t, body, "id")
	if status, _, body := send(t, http.MethodPost, w.url+"/api/appraisals/"+id+"/recheck", low, nil); status != http.StatusOK {
		t.Fatalf("recheck: %d %s", status, body)
	}

	// Make the records what an older zoneplan wrote: no views, no verdicts
	// by clearance; the full check (a conflict with the depot) only.
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	// Records are immutable (a trigger); as the superuser a migration
	// would be, this session skips triggers.
	if _, err := conn.Exec(t.Context(), `SET session_replication_role = replica`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(t.Context(), `UPDATE check_records SET verdicts = NULL, view_public = NULL, view_internal = NULL, view_restricted = NULL`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(t.Context(), `UPDATE appraisals SET verdicts = NULL`); err != nil {
		t.Fatal(err)
	}
	var full string
	if err := conn.QueryRow(t.Context(), `SELECT verdict FROM check_records LIMIT 1`).Scan(&full); err != nil || full != "conflict" {
		t.Fatalf("the full check is %q (%v), want the conflict with the depot", full, err)
	}

	for _, who := range []struct{ name, token string }{{"the creator (public)", low}, {"a reviewer (internal)", reviewer}} {
		for _, path := range []string{"/api/appraisals/" + id, "/api/appraisals/" + id + "/report", "/api/appraisals?limit=10"} {
			status, _, body := send(t, http.MethodGet, w.url+path, who.token, nil)
			if status != http.StatusOK {
				t.Fatalf("%s, %s: %d %s", who.name, path, status, body)
			}
			for _, leak := range []string{`"conflict"`, ">conflict<", "XUNG ĐỘT", depot.Name, depot.Code, depot.ID.String(), "defence-land", "depot-safety-belt"} {
				if strings.Contains(string(body), leak) {
					t.Errorf("LEAK: %s reads %q in %s of an old record:\n%s", who.name, leak, path, excerpt(string(body), leak))
				}
			}
			if !strings.Contains(string(body), "review") {
				t.Errorf("%s, %s: no referral (review) for the old record", who.name, path)
			}
		}
	}
}

// A project site stored before verdicts were kept by clearance holds the
// full verdict and no published flag (sites were public then): to readers
// below secret, anonymous ones included, its conflict is a review, in the
// feature, a CQL filter on it, and the appraisal's record; a secret
// reader sees the conflict.
func TestOldSitesAreRedacted(t *testing.T) {
	dsn := pgtest.New(t)
	if err := postgis.Migrate(context.Background(), dsn, nil); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	st := openPostGIS(t, dsn)
	depot := depotAt(at(area, 300, -200))
	if _, err := st.CreateComponent(t.Context(), depot.Clone(), "hidden"); err != nil {
		t.Fatal(err)
	}
	w := serve(t, st, httpapi.Config{})
	low := tokenOn(t, w, zone.RoleAppraiser, zone.Public)
	high := tokenOn(t, w, zone.RoleViewer, zone.Secret)
	on := geomJSON(square(depot.Geometry.(orb.Point), 40))
	status, _, body := send(t, http.MethodPost, w.url+"/api/appraisals", low, []byte(`{"name":"Nhà máy trên kho","footprint":`+on+`}`))
	if status != http.StatusCreated {
		t.Fatalf("create: %d %s", status, body)
	}
	id, site := jsonField(t, body, "id"), jsonField(t, body, "site_id")

	// What an older zoneplan stored: the full verdict, nothing else. The
	// edit goes through the change log (external edits), so the server's
	// index follows it.
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(t.Context(), `UPDATE components SET properties = (properties - 'verdicts' - 'published') || '{"verdict":"conflict"}' WHERE id = $1`, site); err != nil {
		t.Fatal(err)
	}
	item := w.url + "/ogc/collections/project_sites/items/" + site
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, _, body := send(t, http.MethodGet, item, "", nil)
		if status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the aged site never reached the index: %d %s", status, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	filter := w.url + "/ogc/collections/project_sites/items?filter=" + url.QueryEscape("verdict='conflict'")
	for _, who := range []struct{ name, token string }{{"anonymous", ""}, {"a public appraiser", low}} {
		for _, path := range []string{item, filter, w.url + "/api/appraisals/" + id} {
			if who.token == "" && strings.Contains(path, "/api/") {
				continue
			}
			status, _, body := send(t, http.MethodGet, path, who.token, nil)
			if status != http.StatusOK {
				t.Fatalf("%s, %s: %d %s", who.name, path, status, body)
			}
			if strings.Contains(string(body), `"conflict"`) {
				t.Errorf("LEAK: %s reads the old site's conflict in %s:\n%s", who.name, path, excerpt(string(body), `"conflict"`))
			}
		}
		if _, _, body := send(t, http.MethodGet, filter, who.token, nil); !strings.Contains(string(body), `"numberMatched":0`) {
			t.Errorf("LEAK: %s's filter verdict='conflict' matches the old site: %s", who.name, body)
		}
	}
	if _, _, body := send(t, http.MethodGet, item, high, nil); !strings.Contains(string(body), `"verdict":"conflict"`) {
		t.Errorf("the secret reader does not see the old site's conflict: %s", body)
	}
}

func excerpt(s, around string) string {
	i := strings.Index(s, around)
	return s[max(0, i-150):min(len(s), i+150)]
}

// An uncleared appraisal whose store write fails after the stored check
// (the database gone, the disk full) is answered no sooner than one that
// succeeds: the failure's timing would otherwise be the full-clearance
// check's, which reads the works hidden from the caller.
func TestFailedUnclearedWritesAreHeld(t *testing.T) {
	const floor = time.Second
	st := openEmbedded(t, t.TempDir()+"/held.db")
	depot := depotAt(at(area, 300, -200))
	if _, err := st.CreateComponent(t.Context(), depot.Clone(), "hidden"); err != nil {
		t.Fatal(err)
	}
	w := serve(t, st, httpapi.Config{UnclearedWriteFloor: floor})
	low := tokenOn(t, w, zone.RoleAppraiser, zone.Public)
	if status, _, body := send(t, http.MethodGet, w.url+"/api/me", low, nil); status != http.StatusOK {
		t.Fatalf("me: %d %s", status, body) // the token is now in the server's cache
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	on := geomJSON(square(depot.Geometry.(orb.Point), 40))
	start := time.Now()
	status, _, body := send(t, http.MethodPost, w.url+"/api/appraisals", low, []byte(`{"name":"Nhà máy","footprint":`+on+`}`))
	took := time.Since(start)
	if status < 500 {
		t.Fatalf("create on a closed store: %d %s, want a failure", status, body)
	}
	if took < floor {
		t.Errorf("a failed uncleared appraisal answered after %v, before the %v floor", took, floor)
	}
}
