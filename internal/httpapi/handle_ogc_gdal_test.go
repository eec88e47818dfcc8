package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/internal/pgtest"
	"github.com/zoneplan/zoneplan/internal/postgis"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// GDAL's OAPIF driver (gdal-bin, installed by make test) as a real client
// of /ogc. Without it the tests skip, or fail under CI=true.

// gdal runs a GDAL program with the token in a header file and returns its
// standard output.
func gdal(t *testing.T, token string, name string, args ...string) string {
	t.Helper()
	return gdalWith(t, token, nil, name, args...)
}

// gdalWith is gdal with more environment; an empty token sends none.
func gdalWith(t *testing.T, token string, env []string, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		pgtest.Unavailable(t, "%s (gdal-bin) is not installed", name)
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "CPL_DEBUG=OFF")
	if token != "" {
		hf := filepath.Join(t.TempDir(), "headers")
		if err := os.WriteFile(hf, []byte("Authorization: Bearer "+token+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd.Env = append(cmd.Env, "GDAL_HTTP_HEADER_FILE="+hf)
	}
	cmd.Env = append(cmd.Env, env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || strings.Contains(stderr.String(), "ERROR") {
		t.Fatalf("%s %v: %v\n%s\n%s", name, args, err, out, stderr.String())
	}
	return string(out)
}

// requestLog is a proxy in front of a server that records the query of
// every items request, to see what GDAL asked the server to do.
type requestLog struct {
	URL     string
	mu      sync.Mutex
	queries []url.Values
}

func newRequestLog(t *testing.T, target string) *requestLog {
	t.Helper()
	u, _ := url.Parse(target)
	rl := &requestLog{}
	proxy := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/items") {
			rl.mu.Lock()
			rl.queries = append(rl.queries, r.URL.Query())
			rl.mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	rl.URL = srv.URL
	return rl
}

func (rl *requestLog) take() []url.Values {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	q := rl.queries
	rl.queries = nil
	return q
}

// countFeatures reads a GeoJSON FeatureCollection file written by ogr2ogr.
func countFeatures(t *testing.T, path string) (n int, ids map[string]bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Features []struct {
			Properties map[string]any `json:"properties"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	ids = map[string]bool{}
	for _, f := range fc.Features {
		ids[fmt.Sprint(f.Properties["id"])] = true
	}
	return len(fc.Features), ids
}

func TestGDALReadsTheOGCAPI(t *testing.T) {
	ts := newTestServer(t, false)
	all := seedScale(t, ts.Store, 3000, 300)
	ts.sync(t)
	clearance := zone.Restricted
	tok := ts.token(t, zone.RoleViewer, clearance)
	rl := newRequestLog(t, ts.URL)
	src := "OAPIF:" + rl.URL + "/ogc"

	// ogrinfo lists every layer the caller may read.
	listing := gdal(t, tok, "ogrinfo", "-ro", "-q", src)
	for _, id := range zone.LayerIDs() {
		if !strings.Contains(listing, ": "+id+" ") && !strings.Contains(listing, ": "+id+"\n") {
			t.Errorf("ogrinfo does not list %s:\n%s", id, listing)
		}
	}

	// ogr2ogr downloads a whole layer through paging.
	layer := zone.LayerDefenceWorks
	want := expected(all, func(c *zone.Component) bool { return c.Layer == layer && clearance.Allows(c.Classification) })
	out := filepath.Join(t.TempDir(), "all.geojson")
	rl.take()
	gdal(t, tok, "ogr2ogr", "-f", "GeoJSON", "-oo", "PAGE_SIZE=500", out, src, layer)
	n, ids := countFeatures(t, out)
	if n != len(want) || len(ids) != len(want) {
		t.Fatalf("ogr2ogr downloaded %d features (%d distinct), want %d", n, len(ids), len(want))
	}
	for _, id := range want {
		if !ids[id] {
			t.Fatalf("ogr2ogr missed %s", id)
		}
	}
	pages := 0
	for _, q := range rl.take() {
		if q.Get("limit") == "500" {
			pages++
		}
	}
	if wantPages := (len(want) + 499) / 500; pages < wantPages {
		t.Fatalf("ogr2ogr made %d page requests, want at least %d", pages, wantPages)
	}

	// An attribute filter reaches the server as CQL2 text, and only the
	// matching features come back (client-side filtering would have to
	// page through the whole layer).
	where := "kind = 'depot' OR code LIKE '%12%'"
	want = expected(all, func(c *zone.Component) bool {
		return c.Layer == layer && clearance.Allows(c.Classification) && (c.Kind == zone.KindDepot || strings.Contains(c.Code, "12"))
	})
	out = filepath.Join(t.TempDir(), "filtered.geojson")
	gdal(t, tok, "ogr2ogr", "-f", "GeoJSON", "-oo", "PAGE_SIZE=100", "-where", where, out, src, layer)
	if n, _ := countFeatures(t, out); n != len(want) || n == 0 {
		t.Fatalf("ogr2ogr -where %q: %d features, want %d", where, n, len(want))
	}
	var filtered, fetched int
	for _, q := range rl.take() {
		if q.Get("filter") != "" {
			filtered++
		}
		fetched++
	}
	if filtered == 0 || fetched > (len(want)+99)/100+2 {
		t.Fatalf("the filter was not evaluated by the server: %d of %d requests carried it for %d features", filtered, fetched, len(want))
	}

	// A spatial filter: GDAL's count equals the store's own bbox query.
	box := orb.Bound{Min: orb.Point{105, 20}, Max: orb.Point{107, 22}}
	stored, err := ts.Store.CountComponents(context.Background(), zone.Query{Layers: []string{layer}, Bound: &box, Clearance: clearance})
	if err != nil {
		t.Fatal(err)
	}
	info := gdal(t, tok, "ogrinfo", "-ro", "-so", "-oo", "PAGE_SIZE=1000", "-spat", "105", "20", "107", "22", src, layer)
	if got := featureCount(t, info); got != stored || stored == 0 {
		t.Fatalf("ogrinfo -spat count %d, store %d", got, stored)
	}
}

// featureCount reads "Feature Count: N" from ogrinfo -so.
func featureCount(t *testing.T, info string) int {
	t.Helper()
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Feature Count:"); ok {
			var n int
			if _, err := fmt.Sscan(v, &n); err == nil {
				return n
			}
		}
	}
	t.Fatalf("no feature count in:\n%s", info)
	return 0
}

// TestGDALBBoxCountsMatchPostGIS serves a PostGIS store and compares, per
// box and clearance, the server's numberMatched and GDAL's count with
// PostGIS's own ST_Intersects count under the same clearance filter.
func TestGDALBBoxCountsMatchPostGIS(t *testing.T) {
	dsn := pgtest.New(t)
	ctx := context.Background()
	if err := postgis.Migrate(ctx, dsn, nil); err != nil {
		t.Fatal(err)
	}
	st, err := postgis.Open(ctx, dsn, postgis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	seedScale(t, st, 4000, 400)
	ts := newTestServerOn(t, st, false)
	ts.sync(t)

	boxes := []orb.Bound{
		{Min: orb.Point{105, 20}, Max: orb.Point{107, 22}},
		{Min: orb.Point{104.2, 9.5}, Max: orb.Point{106.8, 11.3}},
		{Min: orb.Point{102, 8}, Max: orb.Point{110, 24}},
		{Min: orb.Point{106.01, 21.01}, Max: orb.Point{106.09, 21.09}},
	}
	for _, clearance := range []zone.Classification{zone.Public, zone.Secret} {
		tok := ts.token(t, zone.RoleViewer, clearance)
		for _, layer := range []string{zone.LayerDefenceWorks, zone.LayerPatrolRoutes, zone.LayerProjectSites} {
			for i, b := range boxes {
				var want int
				err := st.Pool().QueryRow(ctx, `SELECT count(*) FROM components
					WHERE layer = $1 AND classification <= $2 AND ST_Intersects(geom, ST_MakeEnvelope($3, $4, $5, $6, 4326))`,
					layer, int(clearance), b.Min[0], b.Min[1], b.Max[0], b.Max[1]).Scan(&want)
				if err != nil {
					t.Fatal(err)
				}
				bbox := fmt.Sprintf("%g,%g,%g,%g", b.Min[0], b.Min[1], b.Max[0], b.Max[1])
				p := getPage(t, ts.URL+"/ogc/collections/"+layer+"/items?limit=1&bbox="+bbox, tok)
				if p.NumberMatched != want {
					t.Errorf("%s %s box %d: numberMatched %d, PostGIS ST_Intersects %d", clearance, layer, i, p.NumberMatched, want)
				}
				if i < 2 && layer != zone.LayerProjectSites {
					info := gdal(t, tok, "ogrinfo", "-ro", "-so", "-oo", "PAGE_SIZE=2000", "-spat",
						fmt.Sprint(b.Min[0]), fmt.Sprint(b.Min[1]), fmt.Sprint(b.Max[0]), fmt.Sprint(b.Max[1]),
						"OAPIF:"+ts.URL+"/ogc", layer)
					if got := featureCount(t, info); got != want {
						t.Errorf("%s %s box %d: ogrinfo count %d, PostGIS %d", clearance, layer, i, got, want)
					}
				}
			}
		}
	}
}

// A GIS client that cannot send a bearer header sends the token as an HTTP
// Basic password: GDAL with GDAL_HTTP_AUTH=BASIC and GDAL_HTTP_USERPWD
// reads the collections and counts what the token's clearance sees.
func TestGDALSendsTheTokenWithBasic(t *testing.T) {
	ts := newTestServer(t, false)
	all := seedScale(t, ts.Store, 600, 60)
	ts.sync(t)
	clearance := zone.Internal
	tok := ts.token(t, zone.RoleViewer, clearance)
	src := "OAPIF:" + ts.URL + "/ogc"
	basic := []string{"GDAL_HTTP_AUTH=BASIC", "GDAL_HTTP_USERPWD=qgis:" + tok}
	layer := zone.LayerDefenceWorks
	want := expected(all, func(c *zone.Component) bool { return c.Layer == layer && clearance.Allows(c.Classification) })
	info := gdalWith(t, "", basic, "ogrinfo", "-ro", "-so", "-oo", "PAGE_SIZE=1000", src, layer)
	if got := featureCount(t, info); got != len(want) || got == 0 {
		t.Fatalf("ogrinfo with Basic counts %d features of %s, the token's clearance sees %d", got, layer, len(want))
	}

	// GDAL types the parts of a mixed layer by their one geometry type,
	// and they count the layer between them.
	sum := 0
	for _, p := range zone.LayerParts() {
		if p.Layer.ID != layer {
			continue
		}
		info := gdalWith(t, "", basic, "ogrinfo", "-ro", "-so", "-oo", "PAGE_SIZE=1000", src, p.ID)
		wantType := map[zone.GeometryClass]string{zone.GeomPoint: "Geometry: Point", zone.GeomPolygon: "Geometry: Polygon"}[p.Class]
		if !strings.Contains(info, wantType) {
			t.Errorf("ogrinfo %s: no %q in\n%s", p.ID, wantType, info)
		}
		sum += featureCount(t, info)
	}
	if sum != len(want) {
		t.Errorf("the parts of %s count %d in GDAL, the layer %d", layer, sum, len(want))
	}

	// GDAL 3.6's -where writes the legacy cql-text forms: a boolean as 1
	// or 0, a time as a plain string ('2020-01-01T'); the server reads
	// them as GDAL means them.
	synthetic := expected(all, func(c *zone.Component) bool {
		return c.Layer == layer && clearance.Allows(c.Classification) && c.Synthetic
	})
	for _, w := range []struct {
		where string
		want  int
	}{
		{"synthetic = 1", len(synthetic)},
		{"synthetic = 0", len(want) - len(synthetic)},
		{"updated_at > '2020-01-01'", len(want)},
		{"updated_at > '2999-01-01'", 0},
		{"note IS NULL", len(expected(all, func(c *zone.Component) bool {
			return c.Layer == layer && clearance.Allows(c.Classification) && c.Properties["note"] == nil
		}))},
		{"note IS NOT NULL", len(expected(all, func(c *zone.Component) bool {
			return c.Layer == layer && clearance.Allows(c.Classification) && c.Properties["note"] != nil
		}))},
	} {
		info := gdalWith(t, "", basic, "ogrinfo", "-ro", "-so", "-oo", "PAGE_SIZE=1000", "-where", w.where, src, layer)
		if got := featureCount(t, info); got != w.want {
			t.Errorf("ogrinfo -where %q counts %d, want %d", w.where, got, w.want)
		}
	}

	// A wrong password is refused, and challenged for Basic as well.
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/ogc/collections", nil)
	req.SetBasicAuth("qgis", tok+"x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Values("WWW-Authenticate"); resp.StatusCode != http.StatusUnauthorized || len(got) != 2 || !strings.HasPrefix(got[1], "Basic ") {
		t.Fatalf("wrong Basic password: %d, WWW-Authenticate %q", resp.StatusCode, got)
	}
	// Without credentials, no Basic challenge (a browser would open a
	// login dialog for it).
	status, h, _ := get(t, ts.URL+"/ogc/collections", "")
	if got := h.Values("WWW-Authenticate"); status != http.StatusUnauthorized || len(got) != 1 || !strings.HasPrefix(got[0], "Bearer ") {
		t.Fatalf("no credentials: %d, WWW-Authenticate %q", status, got)
	}
}
