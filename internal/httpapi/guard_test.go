package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/zoneplan/zoneplan/internal/admission"
	"github.com/zoneplan/zoneplan/internal/auth"
	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/embedded"
	"github.com/zoneplan/zoneplan/internal/formats"
	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/index"
	"github.com/zoneplan/zoneplan/internal/tiles"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// guarded is a real server on an embedded store whose admission gates,
// tile build gate, body timeout and log the test chooses.
type guarded struct {
	*testServer
	gates httpapi.Admission
	tiles *admission.Gate
	log   *syncLog
}

type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newGuarded serves a store holding a depot and a commune HQ near
// Lạng Sơn. Every gate has one slot and no queue unless lim says
// otherwise, so a test holding a slot sees the next request refused.
func newGuarded(t *testing.T, lim admission.Limit, bodyTimeout time.Duration) *guarded {
	t.Helper()
	return newGuardedBodies(t, lim, bodyTimeout, httpapi.DefaultBodyMemory)
}

// newGuardedBodies is newGuarded with a body memory budget of bodies bytes.
func newGuardedBodies(t *testing.T, lim admission.Limit, bodyTimeout time.Duration, bodies int64) *guarded {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "z.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for _, c := range []*zone.Component{
		{Layer: zone.LayerDefenceWorks, Kind: zone.KindDepot, Name: "Kho K1", Classification: zone.Public, Synthetic: true,
			Geometry: orb.Point{106.76, 21.85}, Zones: []zone.ProtectionZone{{Kind: zone.SafetyBelt, WidthM: 300}}},
		{Layer: zone.LayerCommuneHQs, Name: "Trụ sở BCHQS xã Tân Thanh", Classification: zone.Public, Synthetic: true,
			Geometry: orb.Point{106.70, 21.80}},
	} {
		if _, err := st.CreateComponent(ctx, c, "test"); err != nil {
			t.Fatal(err)
		}
	}
	ix := index.New()
	if err := ix.Load(ctx, st); err != nil {
		t.Fatal(err)
	}
	go ix.Follow(ctx, st, nil)
	active, err := check.NewActive(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	g := &guarded{log: &syncLog{},
		gates: httpapi.Admission{HeavyPages: admission.New("heavy pages", lim), Uploads: admission.New("uploads", lim),
			Checks: admission.New("checks", lim), Bodies: admission.NewBudget("request body memory", bodies)},
		tiles: admission.New("tile builds", lim)}
	h := httpapi.NewServer(httpapi.Deps{Store: st, Index: ix, Rules: active, Auth: &auth.Authenticator{Tokens: st},
		Log: slog.New(slog.NewTextHandler(g.log, nil)), Config: httpapi.Config{Version: "test", BodyReadTimeout: bodyTimeout},
		Tiles: tiles.New(ix, tiles.Options{CacheBytes: 1 << 20, Builds: g.tiles}), Admission: g.gates})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	g.testServer = &testServer{URL: srv.URL, Store: st, Index: ix}
	return g
}

// footprint is a small WGS84 polygon near the depot, as a check body.
const footprint = `{"type":"Polygon","coordinates":[[[106.761,21.851],[106.762,21.851],[106.762,21.852],[106.761,21.852],[106.761,21.851]]]}`

// multipartBody is an upload of file (as fileName) and fields.
func problemCode(t *testing.T, body []byte) string {
	t.Helper()
	var p struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("not a problem document: %s", body)
	}
	return p.Code
}

// TestOddQueryStrings: a query string Go would read only in part (a ';'
// separator, a bad escape), a parameter given twice, and a number out of
// range are each a 400 problem, on every kind of endpoint; none is read as
// if the bad part were not there, and none panics.
func TestOddQueryStrings(t *testing.T) {
	g := newGuarded(t, admission.Limit{Concurrent: 4, Queue: 16, Wait: time.Second}, 0)
	tok := g.token(t, zone.RoleAdmin, zone.Secret)
	items := "/ogc/collections/defence_works/items"
	tl := maptile.At(orb.Point{106.76, 21.85}, 12)
	tile := fmt.Sprintf("/tiles/all/12/%d/%d.mvt", tl.X, tl.Y)
	cases := []struct {
		method, path string
		body         string
		detail       string // in the problem's detail
	}{
		// Go's parser drops "crs=EPSG:5899;x": the footprint would be
		// checked as WGS84 (it is valid there, so this was a 200).
		{"POST", "/api/check?crs=EPSG:5899;x", footprint, "semicolon"},
		{"POST", "/api/check?crs=EPSG:5899&crs=EPSG:4326", footprint, "crs: given 2 times"},
		{"POST", "/api/convert?crs=EPSG:4326;", footprint, "semicolon"},
		{"GET", items + "?limit=1;offset=2", "", "semicolon"},
		{"GET", items + "?limit=1&limit=2", "", "limit: given 2 times"},
		{"GET", items + "?name=%zz", "", "malformed query string"},
		{"GET", items + "?offset=9223372036854775807", "", "offset: must be a whole number from 0 to 2147483647"},
		{"GET", items + "?offset=9223372036854775808", "", "offset"},
		{"GET", items + "?limit=99999999999999999999", "", "limit"},
		{"GET", items + "?bbox=1e999,20,107,22", "", "bbox"},
		{"GET", "/ogc/collections/project_sites/items?height_m=1e400", "", "height_m"},
		{"GET", items + "?f=html&f=json", "", "f: given 2 times"},
		{"GET", items + "/00000000-0000-0000-0000-000000000000?crs=a;b", "", "semicolon"},
		{"GET", "/api/search?q=kho;x", "", "semicolon"},
		{"GET", "/api/search?q=kho&q=tru", "", "q: given 2 times"},
		{"GET", "/api/search?q=kho&limit=9223372036854775808", "", "limit"},
		{"GET", "/api/appraisals?offset=9223372036854775807", "", "offset"},
		{"GET", "/api/appraisals?limit=1&limit=2", "", "limit: given 2 times"},
		{"GET", tile + "?v=1;2", "", "semicolon"},
		{"GET", "/tiles/all/99999999999999999999/0/0.mvt", "", "zoom"},
		{"GET", "/healthz?a=1&a=2", "", "a: given 2 times"},
		{"GET", "/api/layers?x=%", "", "malformed query string"},
	}
	for _, c := range cases {
		status, h, body := do(t, c.method, g.URL+c.path, tok, map[string]string{"Content-Type": "application/json"}, c.body)
		if status != http.StatusBadRequest || h.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s %s: %d %s, want a 400 problem", c.method, c.path, status, body)
			continue
		}
		if d := problemDetail(t, body); !strings.Contains(d, c.detail) {
			t.Errorf("%s %s: detail %q lacks %q", c.method, c.path, d, c.detail)
		}
	}
	// The same requests written properly are answered.
	for _, path := range []string{items + "?limit=1&offset=2", "/api/search?q=kho", tile + "?v=1%3B2", items + "?offset=2147483647"} {
		if status, _, body := do(t, "GET", g.URL+path, tok, nil, ""); status != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, status, body)
		}
	}
	if status, _, body := do(t, "POST", g.URL+"/api/check?crs=EPSG:4326", tok, nil, footprint); status != http.StatusOK {
		t.Errorf("check with one crs: %d %s", status, body)
	}
	if strings.Contains(g.log.String(), "panic") {
		t.Errorf("a request panicked:\n%s", g.log.String())
	}
}

// rawRequest writes head (request line and headers, without the blank
// line) on a new connection, then body from a goroutine (it may be cut
// off), and returns the response read with a deadline.
func rawRequest(t *testing.T, base, head string, body func(w io.Writer)) (*http.Response, []byte, time.Duration) {
	t.Helper()
	u, _ := url.Parse(base)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, head+"\r\nHost: "+u.Host+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if body != nil {
		go body(conn)
	}
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s: %v", head, err)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp, b, time.Since(start)
}

// TestBodiesOverTheirLimitAre413: every endpoint that takes a body answers
// 413 problem+json for one over its limit: at once, without reading it,
// when Content-Length says so; when the length is not declared (chunked),
// as soon as reading passes the limit; and for an uploaded file over the
// file limit inside a body under the body limit.
func TestBodiesOverTheirLimitAre413(t *testing.T) {
	g := newGuarded(t, admission.Limit{Concurrent: 4, Queue: 16, Wait: time.Second}, 0)
	tok := g.token(t, zone.RoleAdmin, zone.Secret)
	const id = "00000000-0000-0000-0000-000000000001"
	endpoints := []struct{ method, path, ctype string }{
		{"POST", "/api/check", "application/json"},
		{"POST", "/api/check", "multipart/form-data; boundary=x"},
		{"POST", "/api/convert", "multipart/form-data; boundary=x"},
		{"POST", "/api/appraisals", "application/json"},
		{"POST", "/api/appraisals/" + id + "/recheck", "application/json"},
		{"POST", "/api/appraisals/" + id + "/decision", "application/json"},
		{"POST", "/api/appraisals/" + id + "/publish", "application/json"},
		{"POST", "/ogc/collections/defence_works/items", "application/geo+json"},
		{"PUT", "/ogc/collections/defence_works/items/" + id, "application/geo+json"},
		{"PATCH", "/ogc/collections/defence_works/items/" + id, "application/merge-patch+json"},
		{"DELETE", "/ogc/collections/defence_works/items/" + id, "application/json"},
		{"POST", "/api/rules", "application/yaml"},
		{"POST", "/api/tokens", "application/json"},
		{"DELETE", "/api/tokens/" + id, "application/json"},
	}
	for _, e := range endpoints {
		head := fmt.Sprintf("%s %s HTTP/1.1\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d",
			e.method, e.path, tok, e.ctype, 100<<20)
		resp, body, el := rawRequest(t, g.URL, head, nil) // the 100 MB never come
		if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Header.Get("Content-Type") != "application/problem+json" ||
			problemCode(t, body) != "too_large" {
			t.Errorf("%s %s declaring 100 MB: %d %s", e.method, e.path, resp.StatusCode, body)
		}
		if el > 2*time.Second {
			t.Errorf("%s %s: the 413 took %s", e.method, e.path, el)
		}
	}
	// Undeclared lengths: the body is read until it passes the limit.
	filePart := "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"site.kml\"\r\n\r\n"
	for _, e := range []struct{ method, path, ctype, start string }{
		{"POST", "/api/check", "application/json", ""},
		{"POST", "/api/check", "multipart/form-data; boundary=x", filePart},
		{"POST", "/api/convert", "multipart/form-data; boundary=x", filePart},
		{"POST", "/ogc/collections/defence_works/items", "application/geo+json", ""},
		{"POST", "/api/tokens", "application/json", ""},
	} {
		head := fmt.Sprintf("%s %s HTTP/1.1\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nTransfer-Encoding: chunked",
			e.method, e.path, tok, e.ctype)
		resp, body, _ := rawRequest(t, g.URL, head, func(w io.Writer) {
			if e.start != "" {
				fmt.Fprintf(w, "%x\r\n%s\r\n", len(e.start), e.start)
			}
			chunk := fmt.Appendf(nil, "%x\r\n%s\r\n", 1<<20, bytes.Repeat([]byte(" "), 1<<20))
			for i := 0; i < 100; i++ {
				if _, err := w.Write(chunk); err != nil {
					return // the server has answered and closed
				}
			}
		})
		if resp.StatusCode != http.StatusRequestEntityTooLarge || problemCode(t, body) != "too_large" {
			t.Errorf("%s %s with 100 MB chunked: %d %s", e.method, e.path, resp.StatusCode, body)
		}
	}
	// A file over the file limit in a body under the body limit.
	big := bytes.Repeat([]byte(" "), formats.MaxFileBytes+1)
	for _, path := range []string{"/api/check", "/api/convert", "/api/appraisals"} {
		body, ctype := multipartFile("site.geojson", big, nil)
		status, h, resp := do(t, "POST", g.URL+path, tok, map[string]string{"Content-Type": ctype}, string(body))
		if status != http.StatusRequestEntityTooLarge || h.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s with a %d MiB file: %d %s", path, len(big)>>20, status, resp)
		}
	}
}

// TestMultipartIsBounded: an upload of many parts or long fields is refused
// before it is all read.
func TestMultipartIsBounded(t *testing.T) {
	g := newGuarded(t, admission.Limit{Concurrent: 4, Queue: 16, Wait: time.Second}, 0)
	tok := g.token(t, zone.RoleAdmin, zone.Secret)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for i := 0; i < 40; i++ {
		mw.WriteField("height_m", "1")
	}
	mw.Close()
	status, _, body := do(t, "POST", g.URL+"/api/check", tok, map[string]string{"Content-Type": mw.FormDataContentType()}, buf.String())
	if status != http.StatusBadRequest || !strings.Contains(problemDetail(t, body), "more than 32 parts") {
		t.Errorf("40 parts: %d %s", status, body)
	}
	buf.Reset()
	mw = multipart.NewWriter(&buf)
	for i := 0; i < 5; i++ {
		mw.WriteField(fmt.Sprintf("f%d", i), strings.Repeat("x", 60<<10))
	}
	mw.Close()
	status, _, body = do(t, "POST", g.URL+"/api/appraisals", tok, map[string]string{"Content-Type": mw.FormDataContentType()}, buf.String())
	if status != http.StatusBadRequest || !strings.Contains(problemDetail(t, body), "longer than 256 KiB in all") {
		t.Errorf("300 KiB of fields: %d %s", status, body)
	}
}

// TestSlowBodies: a body trickling in is cut off once it falls behind
// (400 saying so, within the timeout and a little), while the server
// answers others; a body that keeps up is read whole and answered.
func TestSlowBodies(t *testing.T) {
	g := newGuarded(t, admission.Limit{Concurrent: 4, Queue: 16, Wait: time.Second}, 300*time.Millisecond)
	tok := g.token(t, zone.RoleAdmin, zone.Secret)
	head := fmt.Sprintf("POST /api/check HTTP/1.1\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d", tok, len(footprint))
	done := make(chan struct{})
	defer close(done)
	resp, body, el := rawRequest(t, g.URL, head, func(w io.Writer) {
		for i := 0; i < len(footprint); i++ {
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
			}
			if _, err := w.Write([]byte{footprint[i]}); err != nil {
				return
			}
			if i == 2 {
				// Others are served meanwhile.
				if status, _, _ := get(t, g.URL+"/healthz", ""); status != http.StatusOK {
					t.Errorf("healthz during a slow body: %d", status)
				}
			}
		}
	})
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(problemDetail(t, body), "arrived too slowly") {
		t.Fatalf("slow body: %d %s", resp.StatusCode, body)
	}
	if el > 2*time.Second {
		t.Fatalf("slow body cut after %s, want about 300 ms", el)
	}

	// 200 KB of GeoJSON in 8 KiB pieces every 50 ms (160 KiB/s): kept.
	var fc strings.Builder
	fc.WriteString(`{"type":"FeatureCollection","features":[`)
	for i := 0; fc.Len() < 200_000; i++ {
		if i > 0 {
			fc.WriteString(",")
		}
		fmt.Fprintf(&fc, `{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[106.%04d,21.8]}}`, i)
	}
	fc.WriteString("]}")
	steady := fc.String()
	head = fmt.Sprintf("POST /api/convert HTTP/1.1\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d", tok, len(steady))
	resp, body, el = rawRequest(t, g.URL, head, func(w io.Writer) {
		for i := 0; i < len(steady); i += 8 << 10 {
			if _, err := io.WriteString(w, steady[i:min(i+8<<10, len(steady))]); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("steady body over %s: %d %.300s", el, resp.StatusCode, body)
	}
}

// TestAdmissionClasses: each class of work is refused with 503, a
// Retry-After and problem+json, at once, while its one slot is taken (the
// test holds it), and only that class: light requests and other classes
// are answered. This is the route-to-class mapping of classes.go.
func TestAdmissionClasses(t *testing.T) {
	g := newGuarded(t, admission.Limit{Concurrent: 1}, 0)
	tok := g.token(t, zone.RoleAdmin, zone.Secret)
	kml := []byte(`<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><Polygon><outerBoundaryIs><LinearRing><coordinates>` +
		`106.761,21.851 106.762,21.851 106.762,21.852 106.761,21.852 106.761,21.851</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></kml>`)
	upBody, upCT := multipartFile("site.kml", kml, nil)
	appraisal := `{"name":"Nhà máy","investor":"Công ty A","sector":"industry","kind":"factory","footprint":` + footprint + `}`
	tl := maptile.At(orb.Point{106.76, 21.85}, 13)
	type req struct{ method, path, ctype, body string }
	status, _, created := do(t, "POST", g.URL+"/api/appraisals", tok, map[string]string{"Content-Type": "application/json"}, appraisal)
	if status != http.StatusCreated {
		t.Fatalf("an appraisal to report: %d %s", status, created)
	}
	reportURL := "/api/appraisals/" + jsonField(t, created, "id") + "/report"
	// A tile warmed before each round, and one never asked for: an
	// appraisal adds a project site, which changes the cached tiles' keys.
	cached := req{"GET", fmt.Sprintf("/tiles/defence_works/13/%d/%d.mvt", tl.X, tl.Y), "", ""}
	cold := req{"GET", "", "", ""}
	var (
		heavyPage = req{"GET", "/ogc/collections/defence_works/items?limit=5000", "", ""}
		smallPage = req{"GET", "/ogc/collections/defence_works/items?limit=1000", "", ""}
		jsonCheck = req{"POST", "/api/check", "application/json", footprint}
		fileCheck = req{"POST", "/api/check", upCT, string(upBody)}
		convert   = req{"POST", "/api/convert", upCT, string(upBody)}
		appraise  = req{"POST", "/api/appraisals", "application/json", appraisal}
		bigCheck  = req{"POST", "/api/check", "application/json", footprint + strings.Repeat(" ", 2<<20)}
		layers    = req{"GET", "/api/layers", "", ""}
		health    = req{"GET", "/healthz", "", ""}
		reportPDF = req{"GET", reportURL + ".pdf", "", ""}
		report    = req{"GET", reportURL + "?lang=en", "", ""}
	)
	for round, c := range []struct {
		gate    *admission.Gate
		refused []req
	}{
		{g.gates.HeavyPages, []req{heavyPage, reportPDF, report}},
		{g.gates.Checks, []req{jsonCheck, appraise}},
		{g.gates.Uploads, []req{fileCheck, convert, bigCheck}},
		{g.tiles, []req{cold}},
	} {
		if status, _, body := do(t, "GET", g.URL+cached.path, tok, nil, ""); status != http.StatusOK {
			t.Fatalf("warming a tile: %d %s", status, body)
		}
		cold.path = fmt.Sprintf("/tiles/all/13/%d/%d.mvt", tl.X+uint32(round)+1, tl.Y)
		if c.gate == g.tiles {
			c.refused = []req{cold}
		}
		everything := []req{heavyPage, smallPage, jsonCheck, fileCheck, convert, appraise, bigCheck, layers, health, cached, cold, reportPDF, report}
		release, err := c.gate.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range everything {
			start := time.Now()
			status, h, body := do(t, r.method, g.URL+r.path, tok, map[string]string{"Content-Type": r.ctype}, r.body)
			el := time.Since(start)
			refused := false
			for _, x := range c.refused {
				refused = refused || x == r
			}
			name := fmt.Sprintf("%s taken: %s %s", c.gate.Name(), r.method, r.path)
			if !refused {
				if status != http.StatusOK && status != http.StatusCreated {
					t.Errorf("%s: %d %.200s, want it answered", name, status, body)
				}
				continue
			}
			if status != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || problemCode(t, body) != "unavailable" {
				t.Errorf("%s: %d Retry-After %q %.200s, want 503 with Retry-After", name, status, h.Get("Retry-After"), body)
			}
			if el > time.Second {
				t.Errorf("%s: refused after %s", name, el)
			}
		}
		release()
		if c.gate.InFlight() != 0 {
			t.Errorf("%s: %d in flight after the requests", c.gate.Name(), c.gate.InFlight())
		}
	}
}

// TestRequestLogRedactsTokens: the request log line has the query string,
// with any token-like value replaced, malformed query strings included.
func TestRequestLogRedactsTokens(t *testing.T) {
	g := newGuarded(t, admission.Limit{Concurrent: 4}, 0)
	secrets := []string{"zp_TopSecretValue1", "hunter2", "zp_TopSecretValue3", "zp_TopSecretValue4", "s3cr3t"}
	for _, q := range []string{
		"token=" + secrets[0] + "&f=json",
		"access_token=" + secrets[1],
		"q=" + url.QueryEscape("kho "+secrets[2]),
		secrets[3] + ";x=1",
		"api_key=" + secrets[4] + ";bad",
	} {
		get(t, g.URL+"/healthz?"+q, "")
	}
	get(t, g.URL+"/healthz?f=json&v=2", "")
	out := g.log.String()
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("the log holds %q:\n%s", s, out)
		}
	}
	for _, want := range []string{`query="token=REDACTED&f=json"`, `query="access_token=REDACTED"`, `query="q=REDACTED"`, `query="f=json&v=2"`, `query="REDACTED;x=1"`} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %s:\n%s", want, out)
		}
	}
}

// TestBodyMemoryIsBounded: the bodies of admitted work are received before
// they take a slot, into memory taken from one budget: a body that would
// pass it is refused with 503 and Retry-After at once, one within it is
// answered, a slow one holds no slot (a check from another client is
// answered meanwhile), and everything is given back afterwards.
func TestBodyMemoryIsBounded(t *testing.T) {
	g := newGuardedBodies(t, admission.Limit{Concurrent: 1}, time.Second, 1<<20)
	tok := g.token(t, zone.RoleAdmin, zone.Secret)
	kml := `<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><Point><coordinates>106.76,21.85</coordinates></Point></Placemark></kml>`
	body, ctype := multipartFile("site.kml", []byte(kml+strings.Repeat(" ", 2<<20)), nil)
	start := time.Now()
	status, h, resp := do(t, "POST", g.URL+"/api/convert", tok, map[string]string{"Content-Type": ctype}, string(body))
	if status != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || !strings.Contains(problemDetail(t, resp), "request body memory") {
		t.Fatalf("a 2 MiB upload on a 1 MiB budget: %d %s", status, resp)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Fatalf("refused after %s", el)
	}
	body, ctype = multipartFile("site.kml", []byte(kml+strings.Repeat(" ", 300<<10)), nil)
	if status, _, resp := do(t, "POST", g.URL+"/api/convert", tok, map[string]string{"Content-Type": ctype}, string(body)); status != http.StatusOK {
		t.Fatalf("a 300 KiB upload on a 1 MiB budget: %d %s", status, resp)
	}
	// An upload's file is copied out of its body, and the copy counts: 600
	// KiB fits the budget once, not twice.
	body, ctype = multipartFile("site.kml", []byte(kml+strings.Repeat(" ", 600<<10)), nil)
	if status, _, resp := do(t, "POST", g.URL+"/api/convert", tok, map[string]string{"Content-Type": ctype}, string(body)); status != http.StatusServiceUnavailable {
		t.Fatalf("a 600 KiB upload (body and file: 1.2 MiB) on a 1 MiB budget: %d %s", status, resp)
	}
	// A slow check body (one slot for checks) does not hold the slot.
	head := fmt.Sprintf("POST /api/check HTTP/1.1\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d", tok, len(footprint))
	slow := make(chan int, 1)
	go func() {
		resp, _, _ := rawRequest(t, g.URL, head, func(w io.Writer) {
			for i := 0; i < len(footprint); i++ {
				time.Sleep(50 * time.Millisecond)
				if _, err := w.Write([]byte{footprint[i]}); err != nil {
					return
				}
			}
		})
		slow <- resp.StatusCode
	}()
	time.Sleep(200 * time.Millisecond)
	if status, _, resp := do(t, "POST", g.URL+"/api/check", tok, nil, footprint); status != http.StatusOK {
		t.Fatalf("a check while another's body trickles in: %d %s", status, resp)
	}
	if s := <-slow; s != http.StatusBadRequest {
		t.Fatalf("the slow body: %d, want 400 (cut off)", s)
	}
	if n := g.gates.Bodies.InUse(); n != 0 {
		t.Fatalf("%d bytes of the budget still taken", n)
	}
}
