package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/embedded"
	"github.com/zoneplan/zoneplan/internal/pgtest"
	"github.com/zoneplan/zoneplan/internal/postgis"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// Chaos tests: a real server (`zoneplan serve` through run, on :0) on a
// PostgreSQL of the test's own (pgtest.StartCluster, never the machine's
// server) or on an embedded store on a small tmpfs, loaded with generated
// components, while the database is frozen, stopped or out of disk.

// answerBound is the issue's promise: with the database frozen or stopped,
// every request is answered within it.
const answerBound = 3 * time.Second

// chaosClient gives up well after answerBound, so that a request that hangs
// shows as a slow answer instead of hanging the test.
var chaosClient = &http.Client{Timeout: 10 * time.Second}

type answer struct {
	status int
	header http.Header
	body   []byte
	took   time.Duration
}

// call sends one request; body is JSON (or nil). A request that gets no
// answer has status 0.
func call(t *testing.T, method, url, token string, body []byte) answer {
	t.Helper()
	return callWith(t, method, url, token, body, nil)
}

// callWith is call with extra request headers.
func callWith(t *testing.T, method, url, token string, body []byte, header map[string]string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := chaosClient.Do(req)
	if err != nil {
		return answer{took: time.Since(start)}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b, took: time.Since(start)}
}

// issueToken creates a token through the API as admin.
func issueToken(t *testing.T, base, admin, name, role, clearance string) (secret string, id uuid.UUID) {
	t.Helper()
	a := call(t, http.MethodPost, base+"/api/tokens", admin,
		[]byte(fmt.Sprintf(`{"name":%q,"role":%q,"clearance":%q}`, name, role, clearance)))
	var tok struct {
		ID    uuid.UUID `json:"id"`
		Token string    `json:"token"`
	}
	if a.status != http.StatusCreated || json.Unmarshal(a.body, &tok) != nil || tok.Token == "" {
		t.Fatalf("create token %s: %d %s", name, a.status, a.body)
	}
	return tok.Token, tok.ID
}

// tileAt is the z/x/y path of the WebMercator tile holding lon, lat.
func tileAt(z int, lon, lat float64) string {
	n := math.Exp2(float64(z))
	x := int((lon + 180) / 360 * n)
	s := math.Log(math.Tan(lat*math.Pi/180) + 1/math.Cos(lat*math.Pi/180))
	y := int((1 - s/math.Pi) / 2 * n)
	return fmt.Sprintf("%d/%d/%d", z, x, y)
}

// bigFeature is a combat base whose outline has 2,000 vertices (about 32 KB
// of WKB), as a GeoJSON Feature for POST .../items.
func bigFeature(i int) []byte {
	ring := make([][2]float64, 0, 2001)
	cx, cy := 104.2+float64(i%40)*0.02, 21.1+float64(i/40)*0.02
	for k := range 2000 {
		a := 2 * math.Pi * float64(k) / 2000
		r := 0.004 * (1 + 0.1*math.Sin(7*a+float64(k%13)))
		ring = append(ring, [2]float64{cx + r*math.Cos(a), cy + r*math.Sin(a)})
	}
	ring = append(ring, ring[0])
	f := map[string]any{"type": "Feature",
		"geometry":   map[string]any{"type": "Polygon", "coordinates": [][][2]float64{ring}},
		"properties": map[string]any{"name": fmt.Sprintf("Căn cứ thử %d", i), "code": fmt.Sprintf("CHAOS-%d", i), "classification": "internal", "synthetic": true}}
	b, _ := json.Marshal(f)
	return b
}

// chaosWorld is a server on a cluster of the test's own, with tokens of
// every kind used once (so the server has validated them), a tile in its
// cache and a feature id.
type chaosWorld struct {
	cluster    *pgtest.Cluster
	dsn        string
	srv        *running
	admin      string
	viewer     string
	appraiser  string
	editor     string
	itemID     string
	cachedTile string
}

// startChaosWorld starts a cluster, generates components into a database of
// it with `zoneplan gen`, and serves it.
func startChaosWorld(t *testing.T, opt pgtest.ClusterOptions, components int) *chaosWorld {
	t.Helper()
	w := &chaosWorld{cluster: pgtest.StartCluster(t, opt)}
	w.dsn = w.cluster.NewDatabase(t)
	env := map[string]string{"DATABASE_URL": w.dsn}
	var stderr bytes.Buffer
	if err := run(t.Context(), []string{"gen", "--components", fmt.Sprint(components), "--projects", "100"},
		func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, &stderr); err != nil {
		t.Fatalf("gen: %v\n%s", err, stderr.String())
	}
	// Quotas off: the clients here ask far more than one appraiser's day,
	// and what is measured is the database's faults.
	w.srv = startServer(t, env, "--check-rate", "0", "--check-daily", "0", "--appraisal-rate", "0", "--appraisal-daily", "0")
	if w.srv.Admin == "" {
		t.Fatalf("no admin token printed:\n%s", w.srv.Stderr.String())
	}
	base := w.srv.URL
	w.admin = w.srv.Admin
	w.viewer, _ = issueToken(t, base, w.admin, "Người xem", "viewer", "restricted")
	w.appraiser, _ = issueToken(t, base, w.admin, "Thẩm định viên", "appraiser", "internal")
	w.editor, _ = issueToken(t, base, w.admin, "Biên tập viên", "editor", "secret")
	items := call(t, http.MethodGet, base+"/ogc/collections/defence_works/items?limit=1", w.viewer, nil)
	var page struct {
		Features []struct {
			ID string `json:"id"`
		} `json:"features"`
	}
	if items.status != http.StatusOK || json.Unmarshal(items.body, &page) != nil || len(page.Features) == 0 {
		t.Fatalf("items: %d %s", items.status, items.body)
	}
	w.itemID = page.Features[0].ID
	w.cachedTile = "/tiles/all/" + tileAt(9, 105.8, 21.0) + ".mvt"
	for _, tok := range []string{w.viewer, w.appraiser, w.editor} {
		if a := call(t, http.MethodGet, base+w.cachedTile, tok, nil); a.status != http.StatusOK {
			t.Fatalf("tile: %d %s", a.status, a.body)
		}
	}
	return w
}

// probe is one kind of request of the mixed set, with the statuses it may
// get while the database is out.
type probe struct {
	name   string
	method string
	path   func(i int) string
	token  string
	body   []byte
	want   []int
	// retry: a refusal must carry Retry-After.
	retry bool
}

// mixed is the mixed request set: in-memory reads with recently used
// tokens (cached and new tiles, items, a feature, a check, /api/me), reads
// and writes that need the database, an unknown token, health and
// readiness.
func (w *chaosWorld) mixed() []probe {
	footprint := `{"type":"Polygon","coordinates":[[[105.80,21.00],[105.82,21.00],[105.82,21.02],[105.80,21.02],[105.80,21.00]]]}`
	unavailable := []int{http.StatusServiceUnavailable}
	ok := []int{http.StatusOK}
	return []probe{
		{name: "cached tile", method: http.MethodGet, path: func(int) string { return w.cachedTile }, token: w.viewer, want: ok},
		{name: "new tile", method: http.MethodGet, path: func(i int) string {
			// A tile never asked for before: built from the index.
			return "/tiles/all/" + tileAt(13, 104.0+float64(i%400)*0.05, 21.5+float64(i/400)*0.05) + ".mvt"
		}, token: w.appraiser, want: ok},
		{name: "items", method: http.MethodGet, path: func(int) string { return "/ogc/collections/defence_works/items?limit=200" }, token: w.viewer, want: ok},
		{name: "item", method: http.MethodGet, path: func(int) string { return "/ogc/collections/defence_works/items/" + w.itemID }, token: w.editor, want: ok},
		{name: "check", method: http.MethodPost, path: func(int) string { return "/api/check" }, token: w.appraiser, body: []byte(footprint), want: ok},
		{name: "me", method: http.MethodGet, path: func(int) string { return "/api/me" }, token: w.editor, want: ok},
		{name: "unknown token", method: http.MethodGet, path: func(int) string { return "/api/me" }, token: "zp_nobodyhasthistokenxxxxxxxxxxxxxxxxxxxxxxxx", want: unavailable, retry: true},
		{name: "appraisal list", method: http.MethodGet, path: func(int) string { return "/api/appraisals" }, token: w.appraiser, want: unavailable, retry: true},
		{name: "appraisal create", method: http.MethodPost, path: func(int) string { return "/api/appraisals" }, token: w.appraiser,
			body: []byte(`{"name":"Nhà máy thử","footprint":` + footprint + `}`), want: unavailable, retry: true},
		{name: "component create", method: http.MethodPost, path: func(int) string { return "/ogc/collections/combat_bases/items" }, token: w.editor,
			body: []byte(`{"type":"Feature","geometry":{"type":"Point","coordinates":[105.5,21.5]},"properties":{"name":"Căn cứ trong sự cố","classification":"internal"}}`),
			want: unavailable, retry: true},
		{name: "readyz", method: http.MethodGet, path: func(int) string { return "/readyz" }, want: ok},
		{name: "healthz", method: http.MethodGet, path: func(int) string { return "/healthz" }, want: ok},
	}
}

// storm sends the mixed set from several clients at once until stop is
// closed, and checks every answer: within answerBound, with the status the
// outage allows. It returns the answer times.
func (w *chaosWorld) storm(t *testing.T, stop <-chan struct{}) []time.Duration {
	set := w.mixed()
	var mu sync.Mutex
	var times []time.Duration
	var wg sync.WaitGroup
	for worker := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := worker; ; i += 4 {
				select {
				case <-stop:
					return
				default:
				}
				time.Sleep(5 * time.Millisecond) // a steady stream, not a load test
				p := set[i%len(set)]
				a := call(t, p.method, w.srv.URL+p.path(i), p.token, p.body)
				mu.Lock()
				times = append(times, a.took)
				mu.Unlock()
				switch {
				case a.status == 0 || a.took > answerBound:
					t.Errorf("%s: answered %d after %s, over %s", p.name, a.status, a.took, answerBound)
				case !slices.Contains(p.want, a.status):
					t.Errorf("%s: %d %s, want %v", p.name, a.status, a.body, p.want)
				case p.retry && a.header.Get("Retry-After") == "":
					t.Errorf("%s: %d without Retry-After", p.name, a.status)
				case a.status >= 400 && a.header.Get("Content-Type") != "application/problem+json":
					t.Errorf("%s: %d is not problem+json", p.name, a.status)
				case p.name == "readyz" && !bytes.Contains(a.body, []byte(`"degraded"`)):
					t.Errorf("readyz during the outage: %s, want degraded", a.body)
				}
			}
		}()
	}
	wg.Wait()
	return times
}

// percentile returns the q-quantile of ds (nearest rank; ds is left as it is).
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[max(0, min(len(s)-1, int(math.Ceil(q*float64(len(s))))-1))]
}

// recovered checks that, without a restart, the server is ready again,
// takes writes, and that a change made through another connection reaches
// its index.
func (w *chaosWorld) recovered(t *testing.T, label string) {
	t.Helper()
	start := time.Now()
	for {
		a := call(t, http.MethodGet, w.srv.URL+"/readyz", "", nil)
		if a.status == http.StatusOK && bytes.Contains(a.body, []byte(`"ready"`)) {
			break
		}
		if time.Since(start) > 15*time.Second {
			t.Fatalf("%s: not ready 15 s after the database came back: %d %s", label, a.status, a.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("%s: ready again %s after the database came back", label, time.Since(start).Round(time.Millisecond))
	if a := call(t, http.MethodPost, w.srv.URL+"/ogc/collections/combat_bases/items", w.editor,
		[]byte(`{"type":"Feature","geometry":{"type":"Point","coordinates":[105.6,21.6]},"properties":{"name":"Căn cứ sau sự cố","classification":"internal"}}`)); a.status != http.StatusCreated {
		t.Fatalf("%s: a write after recovery: %d %s", label, a.status, a.body)
	}
	if a := call(t, http.MethodPost, w.srv.URL+"/api/appraisals", w.appraiser,
		[]byte(`{"name":"Nhà máy sau sự cố","footprint":{"type":"Point","coordinates":[105.7,21.7]}}`)); a.status != http.StatusCreated {
		t.Fatalf("%s: an appraisal after recovery: %d %s", label, a.status, a.body)
	}
	// A change made elsewhere (another instance, a GIS tool) reaches the
	// index through the change feed.
	other, err := postgis.Open(t.Context(), w.dsn, postgis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	c, err := other.CreateComponent(t.Context(), &zone.Component{Layer: zone.LayerCommuneHQs, Name: "Trụ sở BCHQS xã " + label,
		Geometry: orb.Point{105.9, 21.9}, Synthetic: true}, "test")
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	for {
		a := call(t, http.MethodGet, w.srv.URL+"/ogc/collections/commune_hqs/items/"+c.ID.String(), w.viewer, nil)
		if a.status == http.StatusOK {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("%s: a change made after recovery is not in the index after 10 s: %d\nserver log (end):\n%s", label, a.status, tail(w.srv.Stderr.String(), 6000))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%s: a change made elsewhere reached the index in %s", label, time.Since(start).Round(time.Millisecond))
}

// tail is the end of s, at most n bytes.
func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// TestChaosDatabaseOutages: the database frozen (SIGSTOP) for longer than
// every deadline, then thawed; then stopped and started again. During each
// outage every request of a mixed set is answered within 3 s: in-memory
// reads succeed for recently used tokens, writes and database reads get 503
// with Retry-After, an unknown token gets 503, /readyz says degraded.
// Afterwards everything works again without a restart.
func TestChaosDatabaseOutages(t *testing.T) {
	w := startChaosWorld(t, pgtest.ClusterOptions{}, 3000)
	outage := func(t *testing.T, label string, down, up func(testing.TB), hold time.Duration) {
		down(t)
		stop := make(chan struct{})
		go func() { time.Sleep(hold); close(stop) }()
		times := w.storm(t, stop)
		up(t)
		t.Logf("%s for %s: %d requests, p50 %s, p99 %s, max %s", label, hold, len(times),
			percentile(times, 0.5).Round(time.Millisecond), percentile(times, 0.99).Round(time.Millisecond),
			percentile(times, 1).Round(time.Millisecond))
		w.recovered(t, label)
	}
	t.Run("Freeze", func(t *testing.T) { outage(t, "frozen", w.cluster.Freeze, w.cluster.Thaw, 6*time.Second) })
	t.Run("Stop", func(t *testing.T) { outage(t, "stopped", w.cluster.Stop, w.cluster.Start, 5*time.Second) })
}

// TestRevocationReachesEveryInstance: two servers on one PostGIS; a token
// revoked through A is refused by B within a fraction of a second, not
// after B's token cache lifetime.
func TestRevocationReachesEveryInstance(t *testing.T) {
	dsn := pgtest.New(t)
	env := map[string]string{"DATABASE_URL": dsn}
	a := startServer(t, env, "--no-demo")
	b := startServer(t, env, "--no-demo")
	admin := a.Admin // the instance that created the store's first token printed it
	if admin == "" {
		admin = b.Admin
	}
	secret, id := issueToken(t, a.URL, admin, "Nguyễn Thị Hoa", "viewer", "public")
	if got := call(t, http.MethodGet, b.URL+"/api/me", secret, nil); got.status != http.StatusOK {
		t.Fatalf("B with the new token: %d %s", got.status, got.body)
	}
	start := time.Now()
	if got := call(t, http.MethodDelete, a.URL+"/api/tokens/"+id.String(), admin, nil); got.status != http.StatusNoContent {
		t.Fatalf("revoke through A: %d %s", got.status, got.body)
	}
	for {
		got := call(t, http.MethodGet, b.URL+"/api/me", secret, nil)
		if got.status == http.StatusUnauthorized {
			break
		}
		if got.status != http.StatusOK {
			t.Fatalf("B: %d %s", got.status, got.body)
		}
		if time.Since(start) > 500*time.Millisecond {
			t.Fatalf("B still accepts the token revoked through A after %s", time.Since(start))
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("B refused the token %s after the revocation through A began", time.Since(start).Round(time.Millisecond))
}

// diskFull drives a server whose store's disk is made full by fill and
// freed by free: writes until one is refused with 507 problem+json
// (storage_full); /readyz not ready; reads still served and every feature
// written before still there; ready again and writing once the disk has
// room. It returns the ids written.
func diskFull(t *testing.T, base, editor, viewer string, fill, free func()) []string {
	t.Helper()
	fill()
	var ids []string
	var refused answer
	for i := range 100 {
		a := call(t, http.MethodPost, base+"/ogc/collections/combat_bases/items", editor, bigFeature(i))
		if a.status != http.StatusCreated {
			refused = a
			break
		}
		var f struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(a.body, &f)
		ids = append(ids, f.ID)
	}
	var p struct {
		Code string `json:"code"`
	}
	if refused.status != http.StatusInsufficientStorage || refused.header.Get("Content-Type") != "application/problem+json" ||
		json.Unmarshal(refused.body, &p) != nil || p.Code != string(zone.CodeStorageFull) {
		t.Fatalf("a write on a full disk: %d %s, want 507 problem+json storage_full", refused.status, refused.body)
	}
	t.Logf("%d large features written before the disk was full", len(ids))
	if a := call(t, http.MethodGet, base+"/readyz", "", nil); a.status != http.StatusServiceUnavailable || !bytes.Contains(a.body, []byte("storage full")) {
		t.Fatalf("/readyz with the disk full: %d %s, want 503 storage full", a.status, a.body)
	}
	if a := call(t, http.MethodGet, base+"/ogc/collections/defence_works/items?limit=50", viewer, nil); a.status != http.StatusOK {
		t.Fatalf("a read with the disk full: %d %s", a.status, a.body)
	}
	for _, id := range ids {
		if a := call(t, http.MethodGet, base+"/ogc/collections/combat_bases/items/"+id, viewer, nil); a.status != http.StatusOK {
			t.Fatalf("a feature written before the disk filled: %d %s", a.status, a.body)
		}
	}
	free()
	start := time.Now()
	for {
		a := call(t, http.MethodGet, base+"/readyz", "", nil)
		if a.status == http.StatusOK && bytes.Contains(a.body, []byte(`"ready"`)) {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("/readyz 10 s after the disk has room: %d %s", a.status, a.body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("ready again %s after the disk had room", time.Since(start).Round(time.Millisecond))
	a := call(t, http.MethodPost, base+"/ogc/collections/combat_bases/items", editor, bigFeature(999))
	if a.status != http.StatusCreated {
		t.Fatalf("a write once the disk has room: %d %s", a.status, a.body)
	}
	var f struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(a.body, &f)
	return append(ids, f.ID)
}

// TestChaosDiskFullEmbedded: the embedded store on a small tmpfs.
func TestChaosDiskFullEmbedded(t *testing.T) {
	dir := pgtest.SmallDisk(t, 32)
	db := filepath.Join(dir, "zoneplan.db")
	env := map[string]string{"ZONEPLAN_DB": db}
	var stderr bytes.Buffer
	if err := run(t.Context(), []string{"gen", "--components", "2000", "--projects", "100"},
		func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, &stderr); err != nil {
		t.Fatalf("gen: %v\n%s", err, stderr.String())
	}
	srv := startServer(t, env, "--no-demo")
	editor, _ := issueToken(t, srv.URL, srv.Admin, "Biên tập viên", "editor", "secret")
	viewer, _ := issueToken(t, srv.URL, srv.Admin, "Người xem", "viewer", "secret")
	var filler string
	ids := diskFull(t, srv.URL, editor, viewer,
		func() { filler = pgtest.FillDisk(t, dir, 512<<10) },
		func() {
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
		})
	if err := srv.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	st, err := embedded.Open(db, embedded.Options{})
	if err != nil {
		t.Fatalf("reopen the store: %v", err)
	}
	defer st.Close()
	for _, id := range ids {
		if _, err := st.GetComponent(t.Context(), uuid.MustParse(id), zone.Secret); err != nil {
			t.Fatalf("after a restart, a feature written around the full disk: %v", err)
		}
	}
}

// TestChaosDiskFullPostGIS: PostGIS with its tables on a small tmpfs
// (SQLSTATE 53100).
func TestChaosDiskFullPostGIS(t *testing.T) {
	w := startChaosWorld(t, pgtest.ClusterOptions{DiskMB: 48}, 2000)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, w.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	diskFull(t, w.srv.URL, w.editor, w.viewer,
		func() {
			// Fill the tablespace up, then give back what margin held, so
			// that a few writes fit before the disk is full.
			if _, err := conn.Exec(ctx, `CREATE TABLE margin (b bytea); ALTER TABLE margin ALTER b SET STORAGE EXTERNAL;
				INSERT INTO margin SELECT convert_to(repeat('x', 256 << 10), 'UTF8') FROM generate_series(1, 2);
				CREATE TABLE filler (b bytea); ALTER TABLE filler ALTER b SET STORAGE EXTERNAL`); err != nil {
				t.Fatal(err)
			}
			for i := 0; ; i++ {
				_, err := conn.Exec(ctx, `INSERT INTO filler SELECT convert_to(repeat('x', 256 << 10), 'UTF8')`)
				var pe *pgconn.PgError
				if errors.As(err, &pe) && pe.Code == "53100" {
					break
				}
				if err != nil || i > 1000 {
					t.Fatalf("filling the disk: %v after %d chunks", err, i)
				}
			}
			if _, err := conn.Exec(ctx, `DROP TABLE margin`); err != nil {
				t.Fatal(err)
			}
		},
		func() {
			if _, err := conn.Exec(ctx, `DROP TABLE filler`); err != nil {
				t.Fatal(err)
			}
		})
}
