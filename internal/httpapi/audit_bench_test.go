package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/audit"
	"github.com/zoneplan/zoneplan/internal/auth"
	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/embedded"
	"github.com/zoneplan/zoneplan/internal/httpapi"
	"github.com/zoneplan/zoneplan/internal/index"
	"github.com/zoneplan/zoneplan/internal/pgtest"
	"github.com/zoneplan/zoneplan/internal/postgis"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// BenchmarkCheckAuditTrail measures what the audit trail costs a check:
// POST /api/check through the real handler (routing, authentication from
// the token cache, decoding, the check, encoding), with and without the
// recorder, on each store, in one run. Two workloads:
//
//	parcel  10,000 synthetic components (demo.Scale); 300 m squares 500 m
//	        from a component: a small check, where the trail weighs most
//	1km     100,000 components; 200-vertex polygons about 1 km across
//	        within 5 km of a component (the check benchmark's footprint,
//	        internal/check BenchmarkCheck)
//
// 256 footprints each, checked by an uncleared appraiser, so consultation
// cells are looked up too. Quotas and probing detection are off in both,
// so the difference is the trail's alone (building and queueing the
// entry, and the background appends, which take the same cores); the
// recorder's queue is flushed inside the timed part. Besides checks/s
// (wall clock, which a busy shared machine blurs) it reports cpu-us/check:
// the CPU time of this process and, on PostGIS, of the store's database
// backends (db-cpu-us/check), over the checks. ZONEPLAN_BENCH_ROUNDS
// (default 1) repeats off and on alternately on the same data.
// docs/performance.md has the figures:
//
//	ZONEPLAN_BENCH_ROUNDS=3 CI=true go test -run '^$' -bench CheckAuditTrail -benchtime 3s -timeout 60m ./internal/httpapi/
func BenchmarkCheckAuditTrail(b *testing.B) {
	rounds := 1
	if n, err := strconv.Atoi(os.Getenv("ZONEPLAN_BENCH_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	for _, w := range []struct {
		name       string
		components int
		footprint  func(rng *rand.Rand, near orb.Point) orb.Geometry
	}{
		{"parcel", 10_000, func(_ *rand.Rand, c orb.Point) orb.Geometry { return box(c[0]+0.005, c[1], 0.0015) }},
		{"1km", 100_000, func(rng *rand.Rand, c orb.Point) orb.Geometry {
			at := orb.Point{c[0] + (rng.Float64()-0.5)*0.1, c[1] + (rng.Float64()-0.5)*0.1}
			return starPolygon(rng, at, 200, 300, 600)
		}},
	} {
		for _, s := range []struct {
			name string
			open func(testing.TB) zone.Store
		}{{"embedded", benchEmbedded}, {"postgis", benchPostGIS}} {
			// Set up inside b.Run, so that -bench filters skip the setup too.
			b.Run(w.name+"/"+s.name, func(b *testing.B) { benchTrail(b, s.open(b), w.components, w.footprint, rounds) })
		}
	}
}

func benchTrail(b *testing.B, st zone.Store, components int, footprint func(*rand.Rand, orb.Point) orb.Geometry, rounds int) {
	all := seedScale(b, st, components, 0)
	ix := index.New()
	if err := ix.Load(context.Background(), st); err != nil {
		b.Fatal(err)
	}
	active, err := check.NewActive(context.Background(), st)
	if err != nil {
		b.Fatal(err)
	}
	secret, _, err := auth.Issue(context.Background(), st, "bench", zone.RoleAppraiser, zone.Public, 0, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	var bodies [][]byte
	rng := rand.New(rand.NewPCG(42, 200))
	for _, c := range all {
		if len(bodies) == 256 {
			break
		}
		bodies = append(bodies, []byte(geomJSON(footprint(rng, c.Geometry.Bound().Center()))))
	}
	var backends []int // the store pool's database backends, all opened now
	if pg, ok := st.(*postgis.Store); ok {
		backends = pgtest.BackendPIDs(b, pg.Pool())
	}
	dbCPU := func() time.Duration {
		t, ok := processCPU(backends)
		if !ok {
			b.Fatal("cannot read the backends' CPU time")
		}
		return t
	}
	for range rounds {
		for _, on := range []bool{false, true} {
			b.Run(fmt.Sprintf("trail=%v", on), func(b *testing.B) {
				var trail *audit.Recorder
				if on {
					trail = audit.NewRecorder(st, audit.Options{})
				}
				h := httpapi.NewServer(httpapi.Deps{Store: st, Index: ix, Rules: active, Audit: trail,
					Auth: &auth.Authenticator{Tokens: st, CacheTTL: time.Hour}})
				var i, failed atomic.Int64
				b.SetParallelism(4)
				b.ReportAllocs()
				runtime.GC()
				b.ResetTimer()
				start, self0, db0 := time.Now(), selfCPU(), dbCPU()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						req := httptest.NewRequest(http.MethodPost, "/api/check", bytes.NewReader(bodies[i.Add(1)%int64(len(bodies))]))
						req.Header.Set("Authorization", "Bearer "+secret)
						w := httptest.NewRecorder()
						h.ServeHTTP(w, req)
						if w.Code != http.StatusOK {
							failed.Add(1)
						}
					}
				})
				if trail != nil {
					ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
					if err := trail.Close(ctx); err != nil {
						b.Fatal(err)
					}
					cancel()
				}
				el, self, db := time.Since(start), selfCPU()-self0, dbCPU()-db0
				b.StopTimer()
				if n := failed.Load(); n > 0 {
					b.Fatalf("%d checks failed", n)
				}
				b.ReportMetric(math.Round(float64(b.N)/el.Seconds()), "checks/s")
				b.ReportMetric(float64((self+db).Microseconds())/float64(b.N), "cpu-us/check")
				b.ReportMetric(float64(db.Microseconds())/float64(b.N), "db-cpu-us/check")
			})
		}
	}
}

func benchEmbedded(tb testing.TB) zone.Store {
	st, err := embedded.Open(filepath.Join(tb.TempDir(), "bench.db"), embedded.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

func benchPostGIS(tb testing.TB) zone.Store {
	dsn := pgtest.New(tb)
	if err := postgis.Migrate(context.Background(), dsn, nil); err != nil {
		tb.Fatal(err)
	}
	st, err := postgis.Open(context.Background(), dsn, postgis.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// starPolygon is a simple polygon of n vertices at increasing angles
// around c, each at a random radius between rMin and rMax metres (flat
// earth: fine for a kilometre).
func starPolygon(rng *rand.Rand, c orb.Point, n int, rMin, rMax float64) orb.Polygon {
	ring := make(orb.Ring, 0, n+1)
	mLat := 111_320.0
	mLon := mLat * math.Cos(c[1]*math.Pi/180)
	for i := range n {
		az := (float64(i) + 0.2 + 0.6*rng.Float64()) * 2 * math.Pi / float64(n)
		r := rMin + rng.Float64()*(rMax-rMin)
		ring = append(ring, orb.Point{c[0] + r*math.Sin(az)/mLon, c[1] + r*math.Cos(az)/mLat})
	}
	ring = append(ring, ring[0])
	return orb.Polygon{ring}
}
