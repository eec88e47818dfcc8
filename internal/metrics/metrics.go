// Package metrics is the server's Prometheus instrumentation: one registry
// holding the HTTP request counters and latency histograms, check latency
// and findings, database call latency, and gauges and counters read from
// the other parts (admission queues, the pool, the tile cache, the index,
// the audit trail, quotas) when scraped. `serve --metrics-addr` serves it
// on a listener of its own, so that the metrics are never exposed on the
// API's address and scraping never competes with the API's admission.
//
// A nil *Metrics is valid and records nothing, so tests and commands that
// do not serve metrics need no registry.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every zoneplan metric.
const Namespace = "zoneplan"

// Metrics holds the registry and the metrics the server observes directly.
type Metrics struct {
	reg           *prometheus.Registry
	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	inFlight      prometheus.Gauge
	checkLatency  prometheus.Histogram
	checkFindings prometheus.Histogram
	dbCalls       *prometheus.HistogramVec
	dbErrors      *prometheus.CounterVec
}

// latencyBuckets span a cached tile (well under a millisecond) to a
// request held by a stalled dependency (seconds), in seconds.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// New returns a registry with the Go runtime and process collectors and
// the server's own metrics.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "http_requests_total",
		Help: "HTTP requests answered, by route pattern, method and status code.",
	}, []string{"route", "method", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "http_request_duration_seconds",
		Help:    "Time from receiving a request to the end of its answer, by route pattern and method.",
		Buckets: latencyBuckets,
	}, []string{"route", "method"})
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "http_requests_in_flight", Help: "HTTP requests being answered now.",
	})
	m.checkLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "check_duration_seconds",
		Help:    "Time the checker took per check (all footprints of a request), without decoding the input.",
		Buckets: latencyBuckets,
	})
	m.checkFindings = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "check_findings",
		Help:    "Findings returned per check.",
		Buckets: []float64{0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000},
	})
	m.dbCalls = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Name: "db_call_duration_seconds",
		Help:    "Database statements by kind (the SQL command: SELECT, INSERT, ...), from send to the last row.",
		Buckets: latencyBuckets,
	}, []string{"statement"})
	m.dbErrors = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Name: "db_call_errors_total",
		Help: "Database statements that failed, by kind.",
	}, []string{"statement"})
	m.reg.MustRegister(m.requests, m.latency, m.inFlight, m.checkLatency, m.checkFindings, m.dbCalls, m.dbErrors)
	return m
}

// Registry is where other parts register collectors of their own.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Instrument counts and times every request by its chi route pattern (a
// fixed set, so labels stay few whatever paths callers send; a path that
// matched no route counts as "unmatched"). It must run inside the chi
// router (Router.Use) for the pattern to be known when the request ends.
func (m *Metrics) Instrument(next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.inFlight.Inc()
		rec := &codeRecorder{ResponseWriter: w}
		defer func() {
			m.inFlight.Dec()
			route := "unmatched"
			if rc := chi.RouteContext(r.Context()); rc != nil {
				if p := rc.RoutePattern(); p != "" {
					route = p
				}
			}
			code := rec.code
			if code == 0 {
				code = http.StatusOK
			}
			method := methodLabel(r.Method)
			m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
			m.latency.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(rec, r)
	})
}

// methodLabel is a request's method as a label: the methods the API
// answers, else "other". Go accepts any token as a method, so using it
// as it came would let anyone create a series per request.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

// codeRecorder remembers the status code written.
type codeRecorder struct {
	http.ResponseWriter
	code int
}

func (c *codeRecorder) WriteHeader(code int) {
	if c.code == 0 {
		c.code = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *codeRecorder) Write(b []byte) (int, error) {
	if c.code == 0 {
		c.code = http.StatusOK
	}
	return c.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach Flush and deadlines on the real writer.
func (c *codeRecorder) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// ObserveCheck records one check: the checker's time and its findings.
func (m *Metrics) ObserveCheck(d time.Duration, findings int) {
	if m == nil {
		return
	}
	m.checkLatency.Observe(d.Seconds())
	m.checkFindings.Observe(float64(findings))
}

// ObserveDBCall records one database statement of kind statement (its SQL
// command word) and whether it failed.
func (m *Metrics) ObserveDBCall(statement string, d time.Duration, failed bool) {
	if m == nil {
		return
	}
	m.dbCalls.WithLabelValues(statement).Observe(d.Seconds())
	if failed {
		m.dbErrors.WithLabelValues(statement).Inc()
	}
}

// GaugeFunc registers a gauge read from fn at each scrape.
func (m *Metrics) GaugeFunc(name, help string, fn func() float64) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: Namespace, Name: name, Help: help}, fn))
}

// CounterFunc registers a counter read from fn (which must only grow) at
// each scrape.
func (m *Metrics) CounterFunc(name, help string, fn func() float64) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: Namespace, Name: name, Help: help}, fn))
}

// Sample is one value of a labelled metric read at scrape time.
type Sample struct {
	Labels []string // values, in the order of the metric's label names
	Value  float64
}

// GaugeVecFunc registers a gauge with labels whose values fn lists at each
// scrape (per admission class, per pool state...).
func (m *Metrics) GaugeVecFunc(name, help string, labels []string, fn func() []Sample) {
	m.vecFunc(prometheus.GaugeValue, name, help, labels, fn)
}

// CounterVecFunc is GaugeVecFunc for counters.
func (m *Metrics) CounterVecFunc(name, help string, labels []string, fn func() []Sample) {
	m.vecFunc(prometheus.CounterValue, name, help, labels, fn)
}

// vecFunc registers a metric of kind with labels whose values fn lists at
// each scrape.
func (m *Metrics) vecFunc(kind prometheus.ValueType, name, help string, labels []string, fn func() []Sample) {
	if m == nil {
		return
	}
	m.reg.MustRegister(&funcCollector{
		desc: prometheus.NewDesc(prometheus.BuildFQName(Namespace, "", name), help, labels, nil),
		kind: kind, fn: fn,
	})
}

// funcCollector turns a function listing samples into one metric family.
type funcCollector struct {
	desc *prometheus.Desc
	kind prometheus.ValueType
	fn   func() []Sample
}

func (c *funcCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *funcCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.fn() {
		ch <- prometheus.MustNewConstMetric(c.desc, c.kind, s.Value, s.Labels...)
	}
}
