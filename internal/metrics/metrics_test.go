package metrics

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads the exposition the handler serves, as Prometheus would.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("exposition does not parse: %v\n%s", err, b)
	}
	return fams
}

// value finds the sample of family name whose labels include want.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f, ok := fams[name]
	if !ok {
		return 0, false
	}
	for _, m := range f.GetMetric() {
		match := true
		for k, v := range want {
			found := false
			for _, l := range m.GetLabel() {
				if l.GetName() == k && l.GetValue() == v {
					found = true
				}
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

func TestInstrumentCountsByRoutePattern(t *testing.T) {
	m := New()
	r := chi.NewRouter()
	r.Use(m.Instrument)
	r.Get("/items/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotFound) })
	r.Get("/ok", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	srv := httptest.NewServer(r)
	defer srv.Close()
	for _, p := range []string{"/items/a", "/items/b", "/items/c", "/ok", "/nowhere"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for i := range 3 { // made-up methods share one label
		req, _ := http.NewRequest("X"+strconv.Itoa(i), srv.URL+"/ok", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	fams := scrape(t, m.Handler())
	for _, tc := range []struct {
		labels map[string]string
		want   float64
	}{
		{map[string]string{"route": "/items/{id}", "method": "GET", "code": "404"}, 3},
		{map[string]string{"route": "/ok", "method": "GET", "code": "200"}, 1},
		{map[string]string{"route": "unmatched", "code": "404"}, 1},
		{map[string]string{"method": "other", "code": "405"}, 3},
	} {
		if got, ok := value(fams, "zoneplan_http_requests_total", tc.labels); !ok || got != tc.want {
			t.Errorf("requests %v = %v (found %v), want %v", tc.labels, got, ok, tc.want)
		}
	}
	if got, _ := value(fams, "zoneplan_http_request_duration_seconds", map[string]string{"route": "/items/{id}"}); got != 3 {
		t.Errorf("latency histogram of /items/{id} has %v samples, want 3", got)
	}
	if got, ok := value(fams, "zoneplan_http_requests_in_flight", nil); !ok || got != 0 {
		t.Errorf("in flight after the requests: %v (found %v)", got, ok)
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics")
	}
	if _, ok := fams["process_resident_memory_bytes"]; !ok {
		t.Error("no process metrics")
	}
}

func TestFuncMetricsAreReadAtScrape(t *testing.T) {
	m := New()
	n := 1.0
	m.GaugeFunc("test_gauge", "a gauge", func() float64 { return n })
	m.CounterVecFunc("test_counter_total", "a counter", []string{"class"}, func() []Sample {
		return []Sample{{Labels: []string{"checks"}, Value: 2 * n}, {Labels: []string{"tiles"}, Value: 3 * n}}
	})
	m.GaugeVecFunc("test_state", "a state", []string{"state"}, func() []Sample {
		return []Sample{{Labels: []string{"ready"}, Value: n}}
	})
	m.ObserveCheck(3*time.Millisecond, 7)
	m.ObserveDBCall("SELECT", time.Millisecond, true)
	n = 5
	fams := scrape(t, m.Handler())
	if got, _ := value(fams, "zoneplan_test_gauge", nil); got != 5 {
		t.Errorf("gauge = %v, want the value at scrape time 5", got)
	}
	if got, _ := value(fams, "zoneplan_test_counter_total", map[string]string{"class": "tiles"}); got != 15 {
		t.Errorf("counter{class=tiles} = %v, want 15", got)
	}
	if got, _ := value(fams, "zoneplan_test_state", map[string]string{"state": "ready"}); got != 5 {
		t.Errorf("gauge{state=ready} = %v, want 5", got)
	}
	for name, want := range map[string]dto.MetricType{"zoneplan_test_counter_total": dto.MetricType_COUNTER, "zoneplan_test_state": dto.MetricType_GAUGE} {
		if f := fams[name]; f == nil || f.GetType() != want {
			t.Errorf("%s is of type %v, want %v", name, f.GetType(), want)
		}
	}
	if got, _ := value(fams, "zoneplan_check_findings", nil); got != 1 {
		t.Errorf("check findings histogram has %v samples, want 1", got)
	}
	if got, _ := value(fams, "zoneplan_db_call_errors_total", map[string]string{"statement": "SELECT"}); got != 1 {
		t.Errorf("db errors = %v, want 1", got)
	}
}

func TestNilMetricsRecordNothing(t *testing.T) {
	var m *Metrics
	h := m.Instrument(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != http.StatusTeapot {
		t.Fatalf("nil metrics changed the answer: %d", rec.Code)
	}
	m.ObserveCheck(time.Second, 1)
	m.ObserveDBCall("SELECT", time.Second, false)
	m.GaugeFunc("x", "x", func() float64 { return 0 })
	m.GaugeVecFunc("y", "y", []string{"l"}, func() []Sample { return nil })
	m.CounterVecFunc("z", "z", []string{"l"}, func() []Sample { return nil })
}
