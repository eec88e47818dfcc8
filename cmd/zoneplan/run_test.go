package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/internal/pgtest"
	"github.com/zoneplan/zoneplan/internal/postgis"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// running is a server started by run() in this process.
type running struct {
	URL    string
	Admin  string // the first-start admin token, if printed
	Stdout *syncBuffer
	Stderr *syncBuffer
	stop   func() error
}

var servingRe = regexp.MustCompile(`zoneplan serving on (http://\S+)`)
var tokenRe = regexp.MustCompile(`(?m)^\s+(zp_[A-Za-z0-9_-]{20,})\s*$`)

// startServer runs `zoneplan serve` with the given extra arguments and
// environment on 127.0.0.1:0 and waits until /readyz answers.
func startServer(t *testing.T, env map[string]string, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	getenv := func(k string) string { return env[k] }
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), getenv, strings.NewReader(""), stdout, stderr)
	}()
	r := &running{Stdout: stdout, Stderr: stderr}
	var stopOnce sync.Once
	var stopErr error
	r.stop = func() error { // once: a test may stop it before the cleanup does
		stopOnce.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(20 * time.Second):
				stopErr = fmt.Errorf("server did not stop within 20 s")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { _ = r.stop() })
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			t.Fatalf("server exited early: %v\nstderr:\n%s", err, stderr.String())
		default:
		}
		if m := servingRe.FindStringSubmatch(stdout.String()); m != nil {
			r.URL = m[1]
			resp, err := http.Get(r.URL + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					if m := tokenRe.FindStringSubmatch(stderr.String()); m != nil {
						r.Admin = m[1]
					}
					return r
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server not ready within 60 s\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	return nil
}

func getJSON(t *testing.T, url, token string, v any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if v != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v\n%s", url, err, b)
		}
	}
	return resp.StatusCode
}

type layerCount struct {
	ID    string `json:"id"`
	Count int    `json:"count"`
}

func counts(t *testing.T, url, token string) map[string]int {
	t.Helper()
	var ls []layerCount
	if status := getJSON(t, url+"/api/layers", token, &ls); status != http.StatusOK {
		t.Fatalf("/api/layers: %d", status)
	}
	m := map[string]int{}
	for _, l := range ls {
		m[l.ID] = l.Count
	}
	return m
}

// TestNewcomerFirstRun is the README's first command: serve with no flags and
// no database creates the embedded store with the demo data, prints an admin
// token once, and serves the layers.
func TestNewcomerFirstRun(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "zoneplan.db")
	srv := startServer(t, map[string]string{"ZONEPLAN_DB": db})
	if srv.Admin == "" {
		t.Fatalf("no admin token printed on first start:\n%s", srv.Stderr.String())
	}
	c := counts(t, srv.URL, srv.Admin)
	total := 0
	for _, l := range zone.Layers() {
		if c[l.ID] == 0 {
			t.Errorf("demo layer %s is empty", l.ID)
		}
		total += c[l.ID]
	}
	if total < 300 {
		t.Errorf("demo has %d components, want at least 300", total)
	}
	if err := srv.stop(); err != nil {
		t.Fatalf("graceful shutdown: %v", err)
	}
	// A second start finds tokens and prints none.
	srv2 := startServer(t, map[string]string{"ZONEPLAN_DB": db})
	if srv2.Admin != "" || strings.Contains(srv2.Stderr.String(), "admin token was created") {
		t.Fatalf("second start printed another admin token")
	}
}

// TestCLITokenAndLockedFile: token create prints the token alone on stdout
// and keeps the holder's name and title; while a server holds the embedded
// file, a CLI command fails at once saying so.
func TestCLITokenAndLockedFile(t *testing.T) {
	db := filepath.Join(t.TempDir(), "zoneplan.db")
	env := func(k string) string {
		if k == "ZONEPLAN_DB" {
			return db
		}
		return ""
	}
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"token", "create", "--name", "Lê Văn C", "--role", "viewer", "--clearance", "internal",
		"--person", "Lê Văn Cường", "--title", "Trợ lý Tác chiến"}, env, nil, &out, &errb)
	if err != nil {
		t.Fatalf("token create: %v\n%s", err, errb.String())
	}
	var list bytes.Buffer
	if err := run(context.Background(), []string{"token", "list"}, env, nil, &list, io.Discard); err != nil ||
		!strings.Contains(list.String(), "Lê Văn Cường") || !strings.Contains(list.String(), "Trợ lý Tác chiến") {
		t.Fatalf("token list does not show the holder and title (%v):\n%s", err, list.String())
	}
	errb.Reset()
	if err := run(context.Background(), []string{"token", "create", "--name", "x", "--role", "viewer", "--title", "Trưởng phòng"}, env, nil, io.Discard, &errb); err == nil ||
		!strings.Contains(describe(err)+errb.String(), "title needs the person") {
		t.Fatalf("a title without a person was accepted: %v %s", err, errb.String())
	}
	if !regexp.MustCompile(`^zp_[A-Za-z0-9_-]{43}\n$`).MatchString(out.String()) {
		t.Fatalf("stdout must be the token alone, got %q", out.String())
	}
	srv := startServer(t, map[string]string{"ZONEPLAN_DB": db})
	var me zone.Principal
	if status := getJSON(t, srv.URL+"/api/me", strings.TrimSpace(out.String()), &me); status != http.StatusOK || me.Name != "Lê Văn C" {
		t.Fatalf("token from the CLI does not work: %d %+v", status, me)
	}
	start := time.Now()
	errb.Reset()
	err = run(context.Background(), []string{"token", "list"}, env, nil, io.Discard, &errb)
	if err == nil || !strings.Contains(describe(err), "in use") {
		t.Fatalf("token list on a locked file: %v", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("a locked file made the CLI wait %s", el)
	}
}

// TestImportAllOrNothing: 3 bad features among 100 import nothing and are
// each named; the good file imports.
func TestImportAllOrNothing(t *testing.T) {
	db := filepath.Join(t.TempDir(), "z.db")
	env := func(k string) string {
		if k == "ZONEPLAN_DB" {
			return db
		}
		return ""
	}
	feature := func(i int, geom string) string {
		return fmt.Sprintf(`{"type":"Feature","geometry":%s,"properties":{"name":"Trụ sở BCHQS xã số %d","code":"X%d"}}`, geom, i, i)
	}
	var good, bad []string
	for i := 0; i < 100; i++ {
		pt := fmt.Sprintf(`{"type":"Point","coordinates":[%f,22.5]}`, 104+float64(i)*0.01)
		good = append(good, feature(i, pt))
		switch i {
		case 7:
			bad = append(bad, feature(i, `{"type":"Point","coordinates":[304,22.5]}`))
		case 42:
			bad = append(bad, `{"type":"Feature","geometry":{"type":"Point","coordinates":[105,22]},"properties":{"code":"X42"}}`)
		case 93:
			bad = append(bad, feature(i, `{"type":"LineString","coordinates":[[105,22],[105.1,22]]}`))
		default:
			bad = append(bad, feature(i, pt))
		}
	}
	dir := t.TempDir()
	badFile, goodFile := filepath.Join(dir, "bad.geojson"), filepath.Join(dir, "good.geojson")
	os.WriteFile(badFile, []byte(`{"type":"FeatureCollection","features":[`+strings.Join(bad, ",")+`]}`), 0o644)
	os.WriteFile(goodFile, []byte(`{"type":"FeatureCollection","features":[`+strings.Join(good, ",")+`]}`), 0o644)

	err := run(context.Background(), []string{"import", "--no-demo", "commune_hqs", badFile}, env, nil, io.Discard, io.Discard)
	msg := describe(err)
	for _, want := range []string{"3 of 100 features are invalid", "feature #7:", "feature #42:", "feature #93:", "name is required", "outside longitude", "geometry.type"} {
		if !strings.Contains(msg, want) {
			t.Errorf("import error does not say %q:\n%s", want, msg)
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"export", "--no-demo", "commune_hqs"}, env, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "xã số") {
		t.Fatalf("a failed import stored features")
	}
	if err := run(context.Background(), []string{"import", "commune_hqs", goodFile}, env, nil, io.Discard, io.Discard); err != nil {
		t.Fatalf("good import: %v", describe(err))
	}
	out.Reset()
	if err := run(context.Background(), []string{"export", "commune_hqs"}, env, nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out.String(), `"type":"Feature"`); n != 100 {
		t.Fatalf("export has %d features, want 100", n)
	}
	if !strings.Contains(out.String(), "Trụ sở BCHQS xã số 42") {
		t.Fatalf("Vietnamese name did not round-trip through import/export")
	}
}

// TestTwoInstancesFollowEachOther: two servers on one PostGIS; a change made
// through one store connection shows in the other server's index within 1 s.
func TestTwoInstancesFollowEachOther(t *testing.T) {
	dsn := pgtest.New(t)
	env := map[string]string{"DATABASE_URL": dsn}
	a := startServer(t, env, "--no-demo")
	b := startServer(t, env, "--no-demo")
	admin := a.Admin
	if admin == "" {
		admin = b.Admin
	}
	if admin == "" {
		t.Fatalf("neither instance printed the first admin token")
	}
	ctx := context.Background()
	st, err := postgis.Open(ctx, dsn, postgis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	before := counts(t, b.URL, admin)[zone.LayerCombatBases]
	start := time.Now()
	if _, err := st.CreateComponent(ctx, &zone.Component{Layer: zone.LayerCombatBases, Name: "Căn cứ chiến đấu CB-01",
		Geometry: orb.Point{106.2, 22.6}, Synthetic: true}, "test"); err != nil {
		t.Fatal(err)
	}
	for {
		if counts(t, b.URL, admin)[zone.LayerCombatBases] == before+1 && counts(t, a.URL, admin)[zone.LayerCombatBases] == before+1 {
			t.Logf("both instances saw the change after %s", time.Since(start).Round(time.Millisecond))
			break
		}
		if time.Since(start) > time.Second {
			t.Fatalf("the change was not visible in both instances within 1 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
