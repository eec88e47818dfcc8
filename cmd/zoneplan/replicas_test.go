package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/pgtest"
)

// Read instances on a streaming replica: a primary and a hot standby of
// the test's own (pgtest.StartCluster, StartReplica: pg_basebackup -R), a
// write instance on the primary and a read instance on the standby.

// editVisibleBound is the promise: an edit through the write
// instance is in the read instance's items, tiles and checks within it.
const editVisibleBound = time.Second

// revocationBound: a token revoked through the write instance is refused
// by a read instance within it, whatever its replica's lag.
const revocationBound = 2 * time.Second

// replicaWorld is a write instance on a primary and a read instance on its
// streaming replica, with tokens.
type replicaWorld struct {
	primary, replica *pgtest.Cluster
	dsn, replicaDSN  string
	writer, reader   *running
	admin, editor    string
	appraiser        string
	appraiserID      string
}

func startReplicaWorld(t *testing.T) *replicaWorld {
	t.Helper()
	w := &replicaWorld{primary: pgtest.StartCluster(t, pgtest.ClusterOptions{})}
	w.dsn = w.primary.NewDatabase(t)
	env := map[string]string{"DATABASE_URL": w.dsn}
	var stderr bytes.Buffer
	if err := run(t.Context(), []string{"gen", "--components", "500", "--projects", "20"},
		func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, &stderr); err != nil {
		t.Fatalf("gen: %v\n%s", err, stderr.String())
	}
	w.replica = w.primary.StartReplica(t)
	w.replicaDSN = w.replica.URL(pgtest.DBName(w.dsn))
	noQuotas := []string{"--check-rate", "0", "--check-daily", "0", "--appraisal-rate", "0", "--appraisal-daily", "0"}
	w.writer = startServer(t, env, noQuotas...)
	if w.writer.Admin == "" {
		t.Fatalf("no admin token printed:\n%s", w.writer.Stderr.String())
	}
	w.admin = w.writer.Admin
	w.reader = startServer(t, map[string]string{"DATABASE_URL": w.replicaDSN, "PRIMARY_DATABASE_URL": w.dsn},
		append([]string{"--read-only", "--primary-url", w.writer.URL, "--max-replica-lag", "1s", "--position-wait", "1s", "--max-position-waiters", "1"}, noQuotas...)...)
	return w
}

// tokenVia creates a token through the write instance and returns it with
// the log position of its answer.
func (w *replicaWorld) tokenVia(t *testing.T, name, role, clearance string) (secret, id, position string) {
	t.Helper()
	a := call(t, http.MethodPost, w.writer.URL+"/api/tokens", w.admin,
		[]byte(fmt.Sprintf(`{"name":%q,"role":%q,"clearance":%q}`, name, role, clearance)))
	var tok struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	if a.status != http.StatusCreated || json.Unmarshal(a.body, &tok) != nil || tok.Token == "" {
		t.Fatalf("create token %s: %d %s", name, a.status, a.body)
	}
	position = a.header.Get(httpapi.PositionHeader)
	if position == "" {
		t.Fatalf("the write instance's answer to a token creation has no %s header", httpapi.PositionHeader)
	}
	return tok.Token, tok.ID, position
}

// waitToken waits until the read instance takes token (a token made
// through the write instance), for 5 s at most.
func (w *replicaWorld) waitToken(t *testing.T, token string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		a := call(t, http.MethodGet, w.reader.URL+"/api/me", token, nil)
		if a.status == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a token made through the write instance, on the read instance after 5 s: %d %s", a.status, a.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// revokeAndWaitRefused revokes token (id) through the write instance and
// returns how soon the read instance refused it; it fails the test past
// bound.
func (w *replicaWorld) revokeAndWaitRefused(t *testing.T, token, id string, bound time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	if a := call(t, http.MethodDelete, w.writer.URL+"/api/tokens/"+id, w.admin, nil); a.status != http.StatusNoContent {
		t.Fatalf("revoke through the write instance: %d %s", a.status, a.body)
	}
	for {
		a := call(t, http.MethodGet, w.reader.URL+"/api/me", token, nil)
		if a.status == http.StatusUnauthorized {
			return time.Since(start)
		}
		if time.Since(start) > bound {
			t.Fatalf("the read instance still takes a token revoked through the write instance %s later: %d", time.Since(start), a.status)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// createBase creates a combat base (a small square at lon, lat) through the
// write instance and returns its id, name and the answer's position.
func (w *replicaWorld) createBase(t *testing.T, lon, lat float64, name string) (id, position string) {
	t.Helper()
	const d = 0.002
	f := fmt.Sprintf(`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[[[%[1]f,%[2]f],[%[3]f,%[2]f],[%[3]f,%[4]f],[%[1]f,%[4]f],[%[1]f,%[2]f]]]},"properties":{"name":%[5]q,"classification":"internal","synthetic":true}}`,
		lon-d, lat-d, lon+d, lat+d, name)
	a := call(t, http.MethodPost, w.writer.URL+"/ogc/collections/combat_bases/items", w.editor, []byte(f))
	var created struct {
		ID string `json:"id"`
	}
	if a.status != http.StatusCreated || json.Unmarshal(a.body, &created) != nil || created.ID == "" {
		t.Fatalf("create a combat base through the write instance: %d %s", a.status, a.body)
	}
	return created.ID, a.header.Get(httpapi.PositionHeader)
}

// readyz reads an instance's /readyz: its status code, and the status
// and reason (for 503, the problem's detail).
func readyz(t *testing.T, base string) (status int, ready struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}, body []byte) {
	t.Helper()
	a := call(t, http.MethodGet, base+"/readyz", "", nil)
	_ = json.Unmarshal(a.body, &ready)
	if a.status == http.StatusServiceUnavailable {
		ready.Status, ready.Reason = "not ready", ready.Detail
	}
	return a.status, ready, a.body
}

// waitReady waits until base's /readyz says want ("ready", "degraded",
// "not ready": 503), with a reason holding reason; it fails the test after
// limit. The answer never holds a number (no lag, count or time): it
// returns the body.
func waitReady(t *testing.T, base, want, reason string, limit time.Duration) (time.Duration, []byte) {
	t.Helper()
	start := time.Now()
	for {
		status, rd, body := readyz(t, base)
		if rd.Status == want && strings.Contains(rd.Reason, reason) && (status == http.StatusOK) == (want != "not ready") {
			if strings.ContainsAny(rd.Status+rd.Reason, "0123456789") || bytes.Contains(body, []byte("lag_seconds")) {
				t.Errorf("/readyz of %s gives a number: %s", base, body)
			}
			return time.Since(start), body
		}
		if time.Since(start) > limit {
			t.Fatalf("/readyz of %s: %d %s after %s, want %s (%s)", base, status, body, limit, want, reason)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// visibleWithin polls the read instance until the component id (named
// name, at lon, lat) is in its items, its tile and its checks, and returns
// when each showed, counted from start.
func (w *replicaWorld) visibleWithin(t *testing.T, start time.Time, id, name string, lon, lat float64, limit time.Duration) (items, tile, checks time.Duration) {
	t.Helper()
	tilePath := "/tiles/combat_bases/" + tileAt(14, lon, lat) + ".mvt"
	footprint := fmt.Sprintf(`{"type":"Point","coordinates":[%f,%f]}`, lon, lat)
	for items == 0 || tile == 0 || checks == 0 {
		if items == 0 {
			if a := call(t, http.MethodGet, w.reader.URL+"/ogc/collections/combat_bases/items/"+id, w.appraiser, nil); a.status == http.StatusOK {
				items = time.Since(start)
			}
		}
		if tile == 0 {
			if a := call(t, http.MethodGet, w.reader.URL+tilePath, w.appraiser, nil); a.status == http.StatusOK && bytes.Contains(a.body, []byte(name)) {
				tile = time.Since(start)
			}
		}
		if checks == 0 {
			a := call(t, http.MethodPost, w.reader.URL+"/api/check", w.appraiser, []byte(footprint))
			if a.status != http.StatusOK {
				t.Fatalf("a check on the read instance: %d %s", a.status, a.body)
			}
			if bytes.Contains(a.body, []byte(id)) {
				checks = time.Since(start)
			}
		}
		if time.Since(start) > limit {
			t.Fatalf("the edit %s is not in the read instance's items (%s), tiles (%s) and checks (%s) %s after the write\nread instance log (end):\n%s",
				id, items, tile, checks, limit, tail(w.reader.Stderr.String(), 4000))
		}
		time.Sleep(10 * time.Millisecond)
	}
	return items, tile, checks
}

// TestReadInstanceOnStreamingReplica: a write instance on a primary and a
// read instance on its hot standby. Edits through the write instance are
// in the read instance's items, tiles and checks within a second; the read
// instance refuses writes with 503 problem+json naming the write instance;
// its checks are audited on the primary; a write's position makes the read
// instance wait for it (read-your-writes), and a replica that falls behind
// (replay paused) makes it degraded; the replica stopped and started
// again: degraded, then ready and following again, without a restart.
// Revocations reach it from the primary whatever its replica's lag, its
// audit listing is the primary's, and its /readyz gives no figure: not
// ready past the lag limit or with neither database answering, degraded
// with one.
func TestReadInstanceOnStreamingReplica(t *testing.T) {
	w := startReplicaWorld(t)
	// Ready once its replica's first poll answered; no figure given.
	waitReady(t, w.reader.URL, "ready", "", 5*time.Second)

	w.editor, _, _ = w.tokenVia(t, "Biên tập viên", "editor", "secret")
	w.appraiser, w.appraiserID, _ = w.tokenVia(t, "Thẩm định viên (bản đọc)", "appraiser", "secret")
	w.waitToken(t, w.appraiser)
	if a := callWith(t, http.MethodGet, w.reader.URL+"/api/me", w.appraiser, nil, map[string]string{httpapi.PositionHeader: "not-a-position"}); a.status != http.StatusBadRequest ||
		!bytes.Contains(a.body, []byte(httpapi.PositionHeader)) {
		t.Fatalf("a malformed position: %d %s, want 400 naming the header", a.status, a.body)
	}

	t.Run("EditVisibleWithinOneSecond", func(t *testing.T) {
		const lon, lat = 105.91, 22.41
		name := "Căn cứ qua bản sao"
		start := time.Now()
		id, _ := w.createBase(t, lon, lat, name)
		items, tile, checks := w.visibleWithin(t, start, id, name, lon, lat, 5*time.Second)
		t.Logf("an edit through the write instance reached the read instance's items in %s, tiles in %s, checks in %s",
			items.Round(time.Millisecond), tile.Round(time.Millisecond), checks.Round(time.Millisecond))
		for what, took := range map[string]time.Duration{"items": items, "tiles": tile, "checks": checks} {
			if took > editVisibleBound {
				t.Errorf("the edit reached the read instance's %s after %s, over %s", what, took, editVisibleBound)
			}
		}
	})

	t.Run("WritesRefused", func(t *testing.T) {
		for _, wr := range []struct{ method, path, body string }{
			{http.MethodPost, "/ogc/collections/combat_bases/items", `{"type":"Feature","geometry":{"type":"Point","coordinates":[105.5,21.5]},"properties":{"name":"Không được ghi","classification":"internal"}}`},
			{http.MethodPost, "/api/appraisals", `{"name":"Nhà máy","footprint":{"type":"Point","coordinates":[105.7,21.7]}}`},
			{http.MethodDelete, "/api/tokens/" + w.appraiserID, ""},
			{http.MethodPost, "/api/tokens", `{"name":"x","role":"viewer","clearance":"public"}`},
		} {
			var body []byte
			if wr.body != "" {
				body = []byte(wr.body)
			}
			a := call(t, wr.method, w.reader.URL+wr.path, w.admin, body)
			var p struct {
				Code     string `json:"code"`
				Detail   string `json:"detail"`
				WriteURL string `json:"write_url"`
			}
			if a.status != http.StatusServiceUnavailable || a.header.Get("Content-Type") != "application/problem+json" ||
				json.Unmarshal(a.body, &p) != nil || p.Code != "read_only" || p.WriteURL != w.writer.URL+wr.path ||
				!strings.Contains(p.Detail, w.writer.URL) {
				t.Errorf("%s %s on the read instance: %d %s, want 503 problem+json read_only naming %s", wr.method, wr.path, a.status, a.body, w.writer.URL+wr.path)
			}
		}
		// Nothing was written: the token still works.
		if a := call(t, http.MethodGet, w.writer.URL+"/api/me", w.appraiser, nil); a.status != http.StatusOK {
			t.Errorf("the token the read instance refused to revoke: %d %s", a.status, a.body)
		}
	})

	t.Run("ChecksAuditedOnPrimary", func(t *testing.T) {
		// The check above was answered by the read instance; its entry is
		// in the primary's trail (read through the write instance).
		deadline := time.Now().Add(5 * time.Second)
		for {
			var entries struct {
				Items []struct {
					Action string `json:"action"`
				} `json:"items"`
			}
			a := call(t, http.MethodGet, w.writer.URL+"/api/audit?action=check&actor="+w.appraiserID, w.admin, nil)
			if a.status != http.StatusOK || json.Unmarshal(a.body, &entries) != nil {
				t.Fatalf("audit on the write instance: %d %s", a.status, a.body)
			}
			if len(entries.Items) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no check entry of the read instance's appraiser in the primary's audit trail: %s", a.body)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	t.Run("AppraisalsReadFromReplica", func(t *testing.T) {
		// An appraisal made through the write instance is read, with its
		// report, from the read instance at once with its position.
		a := call(t, http.MethodPost, w.writer.URL+"/api/appraisals", w.appraiser,
			[]byte(`{"name":"Khu du lịch Bản Giốc (thử)","footprint":{"type":"Polygon","coordinates":[[[105.905,22.405],[105.915,22.405],[105.915,22.415],[105.905,22.415],[105.905,22.405]]]}}`))
		var created struct {
			ID      string `json:"id"`
			Verdict string `json:"verdict"`
		}
		if a.status != http.StatusCreated || json.Unmarshal(a.body, &created) != nil || created.ID == "" {
			t.Fatalf("an appraisal through the write instance: %d %s", a.status, a.body)
		}
		header := map[string]string{httpapi.PositionHeader: a.header.Get(httpapi.PositionHeader)}
		got := callWith(t, http.MethodGet, w.reader.URL+"/api/appraisals/"+created.ID, w.appraiser, nil, header)
		if got.status != http.StatusOK || !bytes.Contains(got.body, []byte(created.ID)) || !bytes.Contains(got.body, []byte(`"verdict":"`+created.Verdict+`"`)) {
			t.Fatalf("the appraisal on the read instance: %d %s", got.status, got.body)
		}
		if got := callWith(t, http.MethodGet, w.reader.URL+"/api/appraisals/"+created.ID+"/report", w.appraiser, nil, header); got.status != http.StatusOK ||
			!bytes.Contains(got.body, []byte("Bản Giốc")) {
			t.Fatalf("the appraisal's report on the read instance: %d %.300s", got.status, got.body)
		}
	})

	t.Run("ReadYourWritesAndLag", func(t *testing.T) {
		conn, err := pgx.Connect(t.Context(), w.replicaDSN)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		resumed := false
		defer func() {
			if !resumed {
				_, _ = conn.Exec(context.Background(), `SELECT pg_wal_replay_resume()`)
			}
		}()
		viewer, viewerID, _ := w.tokenVia(t, "Người xem (thu hồi khi chậm)", "viewer", "public")
		w.waitToken(t, viewer)
		if _, err := conn.Exec(t.Context(), `SELECT pg_wal_replay_pause()`); err != nil {
			t.Fatal(err)
		}
		id, pos := w.createBase(t, 105.95, 22.45, "Căn cứ chờ phát lại")
		if pos == "" {
			t.Fatalf("the write instance's answer to a write has no %s header", httpapi.PositionHeader)
		}
		item := w.reader.URL + "/ogc/collections/combat_bases/items/" + id
		header := map[string]string{httpapi.PositionHeader: pos}
		// The position is the editor's: nobody else can make the read
		// instance wait with it, and nothing waits before authentication.
		if a := callWith(t, http.MethodGet, w.reader.URL+"/healthz", "", nil, header); a.status != http.StatusOK {
			t.Errorf("/healthz with a position, replay paused: %d %s, want 200 (no wait)", a.status, a.body)
		}
		for _, token := range []string{"", "zp_unknown"} {
			if a := callWith(t, http.MethodGet, item, token, nil, header); a.status != http.StatusUnauthorized {
				t.Errorf("a read with the editor's position and token %q, replay paused: %d %s, want 401 (authentication first, no wait)", token, a.status, a.body)
			}
		}
		tampered := []byte(pos)
		tampered[10] ^= 1
		for who, c := range map[string]struct{ token, pos string }{
			"another caller's position": {w.appraiser, pos},
			"a tampered position":       {w.editor, string(tampered)},
			"a raw log position":        {w.editor, "0/16B3748"},
		} {
			a := callWith(t, http.MethodGet, item, c.token, nil, map[string]string{httpapi.PositionHeader: c.pos})
			if a.status != http.StatusBadRequest || a.header.Get("Content-Type") != "application/problem+json" || !bytes.Contains(a.body, []byte(httpapi.PositionHeader)) {
				t.Errorf("%s, replay paused: %d %s, want 400 problem+json naming the header", who, a.status, a.body)
			}
		}
		// Replay paused: the read instance waits --position-wait (1 s),
		// then says it has not reached the position, naming the primary.
		// Meanwhile a second waiter is past --max-position-waiters (1):
		// 503 at once.
		var overCap, waited answer
		for try := 0; try < 5 && overCap.status == 0; try++ {
			both := make(chan answer, 2)
			for range 2 {
				go func() { both <- callWith(t, http.MethodGet, item, w.editor, nil, header) }()
			}
			for range 2 {
				if a := <-both; bytes.Contains(a.body, []byte("too many")) {
					overCap = a
				} else {
					waited = a
				}
			}
		}
		if overCap.status != http.StatusServiceUnavailable || overCap.header.Get("Retry-After") == "" {
			t.Errorf("a second read waiting for a position with one waiter allowed: %d %s, want 503 too many with Retry-After", overCap.status, overCap.body)
		}
		if a := waited; a.status != http.StatusServiceUnavailable ||
			a.header.Get("Retry-After") == "" || bytes.Contains(a.body, []byte(pos)) || !bytes.Contains(a.body, []byte(w.writer.URL)) {
			t.Fatalf("a read for its position with replay paused: %d %s, want 503 with Retry-After naming the write instance", a.status, a.body)
		}
		// And past --max-replica-lag (1 s) it is not ready, saying so
		// without a figure (the lag is in the metrics only).
		waitReady(t, w.reader.URL, "not ready", "lag", 5*time.Second)

		// Replay paused: a token revoked through the write instance is
		// refused at once all the same (tokens are checked, and
		// revocations followed, on the primary).
		took := w.revokeAndWaitRefused(t, viewer, viewerID, revocationBound)
		t.Logf("replay paused: the read instance refused a revoked token %s after the revocation", took.Round(time.Millisecond))

		// Replay paused: the audit trail listed on the read instance is
		// the primary's, with the check it just answered.
		audited := func() int {
			var entries struct {
				Items []json.RawMessage `json:"items"`
			}
			a := call(t, http.MethodGet, w.reader.URL+"/api/audit?action=check&actor="+w.appraiserID, w.admin, nil)
			if a.status != http.StatusOK || json.Unmarshal(a.body, &entries) != nil {
				t.Fatalf("audit on the read instance: %d %s", a.status, a.body)
			}
			return len(entries.Items)
		}
		before := audited()
		if a := call(t, http.MethodPost, w.reader.URL+"/api/check", w.appraiser, []byte(`{"type":"Point","coordinates":[105.93,22.43]}`)); a.status != http.StatusOK {
			t.Fatalf("a check on the read instance: %d %s", a.status, a.body)
		}
		for deadline := time.Now().Add(5 * time.Second); audited() == before; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("with replay paused, the read instance's /api/audit does not list the check it answered (not the primary's trail?)")
			}
		}
		if _, err := conn.Exec(t.Context(), `SELECT pg_wal_replay_resume()`); err != nil {
			t.Fatal(err)
		}
		resumed = true
		// With its position, the very first read has the write.
		if a := callWith(t, http.MethodGet, item, w.editor, nil, header); a.status != http.StatusOK {
			t.Fatalf("a read for position %s once replay resumed: %d %s", pos, a.status, a.body)
		}
		took, _ = waitReady(t, w.reader.URL, "ready", "", 5*time.Second)
		t.Logf("ready again %s after replay resumed", took.Round(time.Millisecond))
	})

	t.Run("ReplicaStoppedAndRestarted", func(t *testing.T) {
		tilePath := w.reader.URL + "/tiles/all/" + tileAt(9, 105.8, 21.0) + ".mvt"
		if a := call(t, http.MethodGet, tilePath, w.appraiser, nil); a.status != http.StatusOK {
			t.Fatalf("tile: %d %s", a.status, a.body)
		}
		w.replica.Stop(t)
		took, _ := waitReady(t, w.reader.URL, "degraded", "database unreachable", 10*time.Second)
		t.Logf("degraded %s after the replica stopped", took.Round(time.Millisecond))
		// Reads from memory go on.
		if a := call(t, http.MethodGet, tilePath, w.appraiser, nil); a.status != http.StatusOK {
			t.Errorf("a tile with the replica stopped: %d %s", a.status, a.body)
		}
		if a := call(t, http.MethodPost, w.reader.URL+"/api/check", w.appraiser, []byte(`{"type":"Point","coordinates":[105.91,22.41]}`)); a.status != http.StatusOK {
			t.Errorf("a check with the replica stopped: %d %s", a.status, a.body)
		}
		w.replica.Start(t)
		took, _ = waitReady(t, w.reader.URL, "ready", "", 15*time.Second)
		t.Logf("ready again %s after the replica started", took.Round(time.Millisecond))
		// It follows the primary again: a new edit, and a revocation.
		const lon, lat = 105.99, 22.49
		name := "Căn cứ sau khởi động lại"
		start := time.Now()
		id, _ := w.createBase(t, lon, lat, name)
		items, tile, checks := w.visibleWithin(t, start, id, name, lon, lat, 5*time.Second)
		t.Logf("after the restart, an edit reached items in %s, tiles in %s, checks in %s",
			items.Round(time.Millisecond), tile.Round(time.Millisecond), checks.Round(time.Millisecond))
		if max(items, tile, checks) > editVisibleBound {
			t.Errorf("after the replica's restart an edit took %s/%s/%s to reach items/tiles/checks, over %s", items, tile, checks, editVisibleBound)
		}
		viewer, viewerID, _ := w.tokenVia(t, "Người xem (thu hồi)", "viewer", "public")
		w.waitToken(t, viewer)
		took = w.revokeAndWaitRefused(t, viewer, viewerID, editVisibleBound)
		t.Logf("the read instance refused a revoked token %s after the revocation", took.Round(time.Millisecond))
	})

	t.Run("PrimaryThenReplicaDown", func(t *testing.T) {
		// The primary (tokens, revocations, the audit trail) gone: the
		// read instance says degraded; with its replica gone too, not
		// ready.
		unseen, _, _ := w.tokenVia(t, "Người xem (chưa dùng)", "viewer", "public")
		w.primary.Stop(t)
		took, _ := waitReady(t, w.reader.URL, "degraded", "primary", 10*time.Second)
		t.Logf("degraded %s after the primary stopped", took.Round(time.Millisecond))
		// The degraded mode's token rule: a token the primary confirmed
		// recently still reads; one it never confirmed here does not.
		if a := call(t, http.MethodGet, w.reader.URL+"/api/me", w.appraiser, nil); a.status != http.StatusOK {
			t.Errorf("a token confirmed recently, with the primary down: %d %s, want 200", a.status, a.body)
		}
		if a := call(t, http.MethodGet, w.reader.URL+"/api/me", unseen, nil); a.status != http.StatusServiceUnavailable {
			t.Errorf("a token never confirmed here, with the primary down: %d %s, want 503", a.status, a.body)
		}
		w.replica.Stop(t)
		took, _ = waitReady(t, w.reader.URL, "not ready", "neither", 10*time.Second)
		t.Logf("not ready %s after the replica stopped too", took.Round(time.Millisecond))
	})
}

// TestReadOnlyNeedsItsFlags: serve --read-only without what a read
// instance needs stops at once with exit 2 naming the missing flag, before
// touching any database.
func TestReadOnlyNeedsItsFlags(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{}, nil, "--database-url"},
		{map[string]string{"DATABASE_URL": "postgres://127.0.0.1:1/x"}, nil, "--primary-url"},
		{map[string]string{"DATABASE_URL": "postgres://127.0.0.1:1/x"}, []string{"--primary-url", "https://w.example.vn"}, "--primary-database-url"},
		{map[string]string{"DATABASE_URL": "postgres://127.0.0.1:1/x", "PRIMARY_DATABASE_URL": "postgres://127.0.0.1:1/y"},
			[]string{"--primary-url", "ftp://w.example.vn"}, "--primary-url"},
		{map[string]string{"DATABASE_URL": "postgres://127.0.0.1:1/x", "PRIMARY_DATABASE_URL": "postgres://127.0.0.1:1/y"},
			[]string{"--primary-url", "https://w.example.vn", "--position-wait", "0s"}, "--position-wait"},
		{map[string]string{"DATABASE_URL": "postgres://127.0.0.1:1/x", "PRIMARY_DATABASE_URL": "postgres://127.0.0.1:1/y"},
			[]string{"--primary-url", "https://w.example.vn", "--position-wait", "11s"}, "--position-wait"},
		{map[string]string{"DATABASE_URL": "postgres://127.0.0.1:1/x", "PRIMARY_DATABASE_URL": "postgres://127.0.0.1:1/y"},
			[]string{"--primary-url", "https://w.example.vn", "--max-position-waiters", "0"}, "--max-position-waiters"},
	} {
		_, _, err := runCLI(c.env, append([]string{"serve", "--read-only"}, c.args...)...)
		var ex exitError
		if !errors.As(err, &ex) || ex.code != 2 || !strings.Contains(ex.msg, c.want) {
			t.Errorf("serve --read-only %v with %v: %v, want exit 2 naming %s", c.args, c.env, err, c.want)
		}
	}
}
