package main

import (
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/zoneplan/zoneplan/internal/pgtest"
)

var metricsRe = regexp.MustCompile(`zoneplan metrics on (http://\S+)`)

// scrapeMetrics reads srv's metrics listener as Prometheus would.
func scrapeMetrics(t *testing.T, srv *running) map[string]*dto.MetricFamily {
	t.Helper()
	m := metricsRe.FindStringSubmatch(srv.Stdout.String())
	if m == nil {
		t.Fatalf("serve printed no metrics address:\n%s", srv.Stdout.String())
	}
	resp, err := http.Get(m[1])
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("metrics: %d %s", resp.StatusCode, b)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("metrics do not parse: %v", err)
	}
	return fams
}

// sample is the value of the sample of family name whose labels include
// want (a histogram's count), and whether there is one.
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f, ok := fams[name]
	if !ok {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		match := true
		for k, v := range want {
			found := false
			for _, l := range m.GetLabel() {
				found = found || l.GetName() == k && l.GetValue() == v
			}
			match = match && found
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount()), true
		}
	}
	return 0, false
}

// TestMetrics: serve --metrics-addr exposes, on its own listener, what an
// operator watches: requests by route and status, latency, checks, the
// tile cache, admission, connections, the index, the store's state, the
// audit trail, and (on PostGIS) the pool and statement latency; the API's
// address does not serve them.
func TestMetrics(t *testing.T) {
	for _, store := range []string{"embedded", "postgis"} {
		t.Run(store, func(t *testing.T) {
			env := map[string]string{"ZONEPLAN_DB": filepath.Join(t.TempDir(), "z.db")}
			args := []string{"--metrics-addr", "127.0.0.1:0", "--max-checks", "3"}
			if store == "postgis" {
				env["DATABASE_URL"] = pgtest.New(t)
				args = append(args, "--no-demo")
			}
			srv := startServer(t, env, args...)
			if srv.Admin == "" {
				t.Fatalf("no admin token:\n%s", srv.Stderr.String())
			}
			tile := srv.URL + "/tiles/all/8/203/111.mvt"
			for range 2 { // a miss, then a hit
				if status := getJSON(t, tile, srv.Admin, nil); status != http.StatusOK && status != http.StatusNoContent {
					t.Fatalf("tile: %d", status)
				}
			}
			if status := getJSON(t, srv.URL+"/ogc/collections/no_such_layer/items", srv.Admin, nil); status != http.StatusNotFound {
				t.Fatalf("unknown collection: %d", status)
			}
			if status, b := postJSON(t, srv.URL+"/api/check", srv.Admin, map[string]any{"type": "Point", "coordinates": []float64{104.5, 20.5}}); status != http.StatusOK {
				t.Fatalf("check: %d %s", status, b)
			}
			if store == "embedded" { // twice round a demo work: its zones' outlines built, then kept
				var page struct {
					Features []struct {
						Geometry struct {
							Coordinates []float64 `json:"coordinates"`
						} `json:"geometry"`
					} `json:"features"`
				}
				if status := getJSON(t, srv.URL+"/ogc/collections/commune_hqs/items?limit=1&f=json", srv.Admin, &page); status != http.StatusOK || len(page.Features) == 0 {
					t.Fatalf("commune_hqs items: %d, %d features", status, len(page.Features))
				}
				at, d := page.Features[0].Geometry.Coordinates, 0.003
				square := map[string]any{"type": "Polygon", "coordinates": [][][]float64{{{at[0] - d, at[1] - d}, {at[0] + d, at[1] - d}, {at[0] + d, at[1] + d}, {at[0] - d, at[1] + d}, {at[0] - d, at[1] - d}}}}
				for range 2 {
					if status, b := postJSON(t, srv.URL+"/api/check", srv.Admin, square); status != http.StatusOK {
						t.Fatalf("check: %d %s", status, b)
					}
				}
			}
			if status := getJSON(t, srv.URL+"/metrics", "", nil); status != http.StatusNotFound {
				t.Errorf("the API's address serves /metrics: %d", status)
			}

			fams := scrapeMetrics(t, srv)
			atLeast := func(name string, labels map[string]string, min float64) {
				t.Helper()
				if v, ok := sample(fams, name, labels); !ok || v < min {
					t.Errorf("%s%v = %v (present %v), want at least %v", name, labels, v, ok, min)
				}
			}
			equal := func(name string, labels map[string]string, want float64) {
				t.Helper()
				if v, ok := sample(fams, name, labels); !ok || v != want {
					t.Errorf("%s%v = %v (present %v), want %v", name, labels, v, ok, want)
				}
			}
			atLeast("zoneplan_http_requests_total", map[string]string{"route": "/tiles/{layer}/{z}/{x}/{y}.mvt", "method": "GET", "code": "200"}, 2)
			atLeast("zoneplan_http_requests_total", map[string]string{"route": "/ogc/collections/{layer}/items", "code": "404"}, 1)
			atLeast("zoneplan_http_request_duration_seconds", map[string]string{"route": "/api/check", "method": "POST"}, 1)
			atLeast("zoneplan_check_duration_seconds", nil, 1)
			atLeast("zoneplan_check_findings", nil, 1)
			equal("zoneplan_tile_requests_total", map[string]string{"result": "hit"}, 1)
			atLeast("zoneplan_tile_requests_total", map[string]string{"result": "miss"}, 1)
			atLeast("zoneplan_tile_builds_total", nil, 1)
			equal("zoneplan_admission_slots", map[string]string{"class": "checks"}, 3)
			equal("zoneplan_admission_in_flight", map[string]string{"class": "checks"}, 0)
			equal("zoneplan_admission_refused_total", map[string]string{"class": "uploads"}, 0)
			atLeast("zoneplan_connections_open", nil, 0)
			equal("zoneplan_store_state", map[string]string{"state": "ready"}, 1)
			equal("zoneplan_store_state", map[string]string{"state": "degraded"}, 0)
			equal("zoneplan_index_lag_versions", nil, 0)
			appended, _ := sample(fams, "zoneplan_audit_appended_entries_total", nil)
			queued, _ := sample(fams, "zoneplan_audit_queued_entries", nil)
			if appended+queued < 1 {
				t.Errorf("the check's audit entry is neither appended (%v) nor queued (%v)", appended, queued)
			}
			atLeast("go_goroutines", nil, 1)
			atLeast("process_resident_memory_bytes", nil, 1)
			if store == "embedded" {
				atLeast("zoneplan_index_components", nil, 300) // the demo data
				atLeast("zoneplan_check_outline_cache_requests_total", map[string]string{"result": "miss"}, 1)
				atLeast("zoneplan_check_outline_cache_requests_total", map[string]string{"result": "hit"}, 1)
				atLeast("zoneplan_check_outline_cache_bytes", nil, 1)
			} else {
				atLeast("zoneplan_db_call_duration_seconds", map[string]string{"statement": "SELECT"}, 1)
				atLeast("zoneplan_db_pool_connections", map[string]string{"state": "max"}, 1)
				atLeast("zoneplan_db_pool_acquires_total", nil, 1)
			}
		})
	}
}
