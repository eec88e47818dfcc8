package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/zoneplan/zoneplan/internal/admission"
	"github.com/zoneplan/zoneplan/internal/audit"
	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/connlimit"
	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/index"
	"github.com/zoneplan/zoneplan/internal/metrics"
	"github.com/zoneplan/zoneplan/internal/postgis"
	"github.com/zoneplan/zoneplan/internal/probing"
	"github.com/zoneplan/zoneplan/internal/quota"
	"github.com/zoneplan/zoneplan/internal/tiles"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// served is what serve's metrics read at each scrape.
type served struct {
	store      zone.Store
	index      *index.Index
	gates      httpapi.Admission
	tileBuilds *admission.Gate
	tiles      *tiles.Service
	conns      *connlimit.Listener
	trail      *audit.Recorder
	quota      *quota.Limiter
	probing    *probing.Detector
	rules      *check.Active
	replica    httpapi.Replica // a read instance's replica; nil on a write instance
}

// scrapeTimeout bounds the store calls a scrape makes (readiness, the
// store's data version), so a stalled database never stalls a scrape.
const scrapeTimeout = time.Second

// registerMetrics adds to m the gauges and counters read from the parts
// of a running server.
func registerMetrics(m *metrics.Metrics, s served) {
	gates := []*admission.Gate{s.gates.HeavyPages, s.gates.Uploads, s.gates.Checks, s.tileBuilds}
	perGate := func(v func(*admission.Gate) float64) func() []metrics.Sample {
		return func() []metrics.Sample {
			out := make([]metrics.Sample, 0, len(gates))
			for _, g := range gates {
				out = append(out, metrics.Sample{Labels: []string{g.Name()}, Value: v(g)})
			}
			return out
		}
	}
	m.GaugeVecFunc("admission_in_flight", "Requests of each class of heavy work running now.", []string{"class"},
		perGate(func(g *admission.Gate) float64 { return float64(g.InFlight()) }))
	m.GaugeVecFunc("admission_queued", "Requests of each class of heavy work waiting for a slot now.", []string{"class"},
		perGate(func(g *admission.Gate) float64 { return float64(g.Queued()) }))
	m.GaugeVecFunc("admission_slots", "Slots of each class of heavy work.", []string{"class"},
		perGate(func(g *admission.Gate) float64 { return float64(g.Limit().Concurrent) }))
	m.CounterVecFunc("admission_refused_total", "Requests of each class refused with 503 (queue full or waited too long).", []string{"class"},
		perGate(func(g *admission.Gate) float64 { return float64(g.Refused()) }))
	m.GaugeFunc("request_body_memory_bytes", "Bytes of admitted request bodies held in memory now.",
		func() float64 { return float64(s.gates.Bodies.InUse()) })
	m.CounterFunc("request_body_memory_refused_total", "Requests refused because request bodies held in memory were at the budget.",
		func() float64 { return float64(s.gates.Bodies.Refused()) })

	m.GaugeFunc("connections_open", "Client connections open now.", func() float64 { return float64(s.conns.Open()) })
	m.GaugeFunc("connections_idle", "Keep-alive connections idle between requests now.", func() float64 { return float64(s.conns.Idle()) })
	m.CounterFunc("connections_refused_total", "Connections refused at --max-conns.", func() float64 { return float64(s.conns.Refused()) })

	m.CounterVecFunc("tile_requests_total", "Tiles asked for, by result: hit (from the cache), miss, not_modified (304).", []string{"result"},
		func() []metrics.Sample {
			st := s.tiles.Stats()
			return []metrics.Sample{{Labels: []string{"hit"}, Value: float64(st.Hits)},
				{Labels: []string{"miss"}, Value: float64(st.Misses)}, {Labels: []string{"not_modified"}, Value: float64(st.NotModified)}}
		})
	m.CounterFunc("tile_builds_total", "Tiles built (one build serves every request for the tile while it runs).",
		func() float64 { return float64(s.tiles.Stats().Builds) })
	m.CounterVecFunc("check_outline_cache_requests_total", "Zone outlines a check asked the outline cache for, by result: hit or miss (built).", []string{"result"},
		func() []metrics.Sample {
			hits, misses, _, _ := s.rules.Engine().Outlines().Stats()
			return []metrics.Sample{{Labels: []string{"hit"}, Value: float64(hits)}, {Labels: []string{"miss"}, Value: float64(misses)}}
		})
	m.GaugeFunc("check_outline_cache_bytes", "Bytes of zone outlines kept for checks.",
		func() float64 { _, _, _, b := s.rules.Engine().Outlines().Stats(); return float64(b) })
	m.GaugeFunc("tile_cache_bytes", "Bytes of gzipped tiles in the cache.", func() float64 { _, b := s.tiles.CacheStats(); return float64(b) })
	m.GaugeFunc("tile_cache_entries", "Tiles in the cache.", func() float64 { n, _ := s.tiles.CacheStats(); return float64(n) })

	m.GaugeFunc("index_components", "Components in the in-memory index.", func() float64 { return float64(s.index.Snapshot().Len()) })
	m.GaugeFunc("index_data_version", "The store data version the index has applied.", func() float64 { return float64(s.index.Version()) })
	m.GaugeFunc("index_lag_versions", "Store changes committed that the index has not applied yet (the change feed's lag); NaN while the store cannot say.",
		func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
			defer cancel()
			v, err := s.store.DataVersion(ctx)
			if err != nil {
				return math.NaN()
			}
			return float64(max(0, v-s.index.Version()))
		})
	if s.replica != nil {
		m.GaugeFunc("replica_lag_seconds", "A read instance's replica: how long the oldest WAL it has not replayed (received, or written by the primary) has waited; NaN while the replica cannot be asked.",
			func() float64 {
				lag, known := s.replica.ReplicaLag()
				if !known {
					return math.NaN()
				}
				return lag.Seconds()
			})
	}
	m.GaugeVecFunc("store_state", "1 for the store's state now: ready, degraded (unreachable: reads from memory), storage_full or failing.", []string{"state"},
		func() []metrics.Sample {
			ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
			defer cancel()
			state := zone.StoreStateOf(s.store.Ping(ctx))
			out := make([]metrics.Sample, 0, 4)
			for _, st := range zone.StoreStates() {
				v := 0.0
				if st == state {
					v = 1
				}
				out = append(out, metrics.Sample{Labels: []string{string(st)}, Value: v})
			}
			return out
		})

	if pg, ok := s.store.(*postgis.Store); ok {
		pool := pg.Pool()
		m.GaugeVecFunc("db_pool_connections", "Database pool connections by state; max is the pool's size.", []string{"state"},
			func() []metrics.Sample {
				st := pool.Stat()
				return []metrics.Sample{{Labels: []string{"acquired"}, Value: float64(st.AcquiredConns())},
					{Labels: []string{"idle"}, Value: float64(st.IdleConns())},
					{Labels: []string{"constructing"}, Value: float64(st.ConstructingConns())},
					{Labels: []string{"max"}, Value: float64(st.MaxConns())}}
			})
		m.CounterFunc("db_pool_acquires_total", "Connections taken from the pool.", func() float64 { return float64(pool.Stat().AcquireCount()) })
		m.CounterFunc("db_pool_acquire_waits_total", "Acquires that had to wait for a connection.", func() float64 { return float64(pool.Stat().EmptyAcquireCount()) })
		m.CounterFunc("db_pool_acquires_canceled_total", "Acquires given up (their request's context ended) before a connection was free.",
			func() float64 { return float64(pool.Stat().CanceledAcquireCount()) })
		m.CounterFunc("db_pool_acquire_seconds_total", "Time spent acquiring connections.", func() float64 { return pool.Stat().AcquireDuration().Seconds() })
	}

	m.GaugeFunc("audit_queued_entries", "Audit entries waiting to be appended to the trail.", func() float64 { return float64(s.trail.Stats().Queued) })
	m.CounterFunc("audit_appended_entries_total", "Audit entries appended to the trail.", func() float64 { return float64(s.trail.Stats().Appended) })
	m.CounterFunc("audit_append_failures_total", "Audit append transactions that failed (retried).", func() float64 { return float64(s.trail.Stats().Failures) })
	m.CounterFunc("audit_refused_total", "Auditable requests refused because the trail's backlog was full.", func() float64 { return float64(s.trail.Stats().Refused) })
	m.CounterVecFunc("quota_refused_total", "Requests of tokens below secret refused by their quota, by kind and limit.", []string{"kind", "limit"},
		func() []metrics.Sample {
			st := s.quota.Stats()
			var out []metrics.Sample
			for k, n := range st.RefusedRate {
				out = append(out, metrics.Sample{Labels: []string{k, "rate"}, Value: float64(n)})
			}
			for k, n := range st.RefusedDaily {
				out = append(out, metrics.Sample{Labels: []string{k, "daily"}, Value: float64(n)})
			}
			return out
		})
	m.CounterFunc("probing_alerts_total", "Tokens flagged for probing consultation areas.", func() float64 { return float64(s.probing.Alerts()) })
	m.GaugeFunc("probing_suspended_tokens", "Tokens suspended for probing now.", func() float64 { return float64(len(s.probing.Suspensions())) })
}

// serveMetrics serves m at http://addr/metrics, and Go's profiler under
// /debug/pprof/, on a listener of its own until the returned stop is called.
func serveMetrics(ctx context.Context, e *env, m *metrics.Metrics, addr string) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	// The Go profiler beside the metrics, for the operator only (the
	// metrics listener is never the API's): where a busy server's time goes.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, IdleTimeout: time.Minute,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error("metrics listener stopped", "err", err)
		}
	}()
	e.log.Info("metrics listening", "addr", ln.Addr().String())
	fmt.Fprintf(e.stdout, "zoneplan metrics on http://%s/metrics\n", displayAddr(ln.Addr()))
	return func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}, nil
}
