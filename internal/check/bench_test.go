package check

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/coverage"
	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// BenchmarkCheck measures one check against synthetic components, for two
// kinds of footprint:
//
//   - sparse: a 200-vertex polygon (about 1 km across) at 200 random places
//     in a 300 km square of northern Vietnam holding 10,000 and 100,000
//     components (1,000,000 with ZONEPLAN_BENCH_1M=1) of every layer;
//   - dense: the first 200 project sites of `zoneplan gen`'s data at
//     100,000 components (1,000,000 with ZONEPLAN_BENCH_1M=1), which it
//     places in the clusters of the works (the footprints of make
//     bench-load: polygons, roads and points, tens of findings each).
//
// For each, as the server checks (with the zone outline cache):
//
//	engine   per-check latency, p50-µs and p99-µs over every check run
//	         (the engine shares a check's candidates out among the cores)
//	engine-1cpu  the same with GOMAXPROCS=1: one core for the whole check
//	batch    checks/s with every core checking in parallel
//	postgis  the oracle query (oracle_test.go) on the same data in the
//	         same run, one connection, p50-µs and p99-µs; before timing,
//	         every benchmark footprint is checked by both and the findings
//	         (component, rule, verdict) must be identical
//
// The documented command (PostGIS at ZONEPLAN_TEST_PG or 127.0.0.1):
//
//	go test -run '^$' -bench BenchmarkCheck -benchtime 400x -timeout 60m ./internal/check
func BenchmarkCheck(b *testing.B) {
	sizes := []int{10_000, 100_000}
	dense := []int{100_000}
	if os.Getenv("ZONEPLAN_BENCH_1M") != "" {
		sizes = append(sizes, 1_000_000)
		dense = append(dense, 1_000_000)
	}
	rs := rules.Default()
	box := worldBox(300)
	rng := rand.New(rand.NewPCG(42, 42))
	fps := make([]Footprint, 200)
	for i := range fps {
		fps[i] = polygon200(uint64(i), randomIn(rng, box))
	}
	for _, n := range sizes {
		label := "components=" + countLabel(n)
		start := time.Now()
		cs := genWorld(1, n, box)
		b.Logf("%s: world built in %v", label, time.Since(start).Round(time.Millisecond))
		benchmarkCheckWorld(b, label, rs, cs, fps, box)
	}
	for _, n := range dense {
		label := "dense/components=" + countLabel(n)
		start := time.Now()
		cs, sites := denseComponents(b, n, 200)
		b.Logf("%s: gen's data built in %v", label, time.Since(start).Round(time.Millisecond))
		benchmarkCheckWorld(b, label, rs, cs, sites, componentsBound(cs))
	}
}

// componentsBound is the box around cs.
func componentsBound(cs []*zone.Component) orb.Bound {
	b := cs[0].Geometry.Bound()
	for _, c := range cs[1:] {
		b = b.Union(c.Geometry.Bound())
	}
	return b
}

// countLabel writes n as 10k or 1M.
func countLabel(n int) string {
	if n >= 1_000_000 {
		return fmt.Sprintf("%dM", n/1_000_000)
	}
	return fmt.Sprintf("%dk", n/1000)
}

// benchmarkCheckWorld runs BenchmarkCheck's four measures of footprints
// fps against components cs, with a fresh outline cache (its first pass
// builds, as a server's does after a start).
func benchmarkCheckWorld(b *testing.B, label string, rs *rules.RuleSet, cs []*zone.Component, fps []Footprint, box orb.Bound) {
	e := New(rs).WithOutlines(NewOutlines(DefaultOutlineBytes)) // as the server checks
	start := time.Now()
	src := newTreeSource(cs...)
	b.Logf("%s: R-tree built in %v", label, time.Since(start).Round(time.Millisecond))

	latency := func(b *testing.B) { checkLatency(b, e, src, fps) }
	// The same checks with every rule layer's coverage declared over
	// the whole box as 9 provinces of 2,000 vertices each (the checks
	// then test each footprint against their merged outline), run
	// after each baseline in the same process.
	covered := coveredSource{src, benchCoverage(rs, box)}
	withCoverage := func(b *testing.B) { checkLatency(b, e, covered, fps) }
	b.Run(label+"/engine", latency)
	b.Run(label+"/engine+coverage", withCoverage)
	b.Run(label+"/engine-1cpu", func(b *testing.B) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		latency(b)
	})
	b.Run(label+"/engine-1cpu+coverage", func(b *testing.B) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		withCoverage(b)
	})
	b.Run(label+"/batch", func(b *testing.B) {
		var next atomic.Int64
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				e.Check(src, fps[int(next.Add(1))%len(fps)], cleared)
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
	})

	// Loaded on first use: b.Run calls a sub-benchmark more than once. The
	// database lives until the whole benchmark ends.
	var o *oracle
	parent := b
	b.Run(label+"/postgis", func(b *testing.B) {
		if o == nil {
			start := time.Now()
			o = newOracle(parent, cs, rs, src.MaxZoneWidthM())
			b.Logf("%s: PostGIS loaded and indexed in %v", label, time.Since(start).Round(time.Millisecond))
		}
		for i, fp := range fps {
			if diff := compareFindings(e.Check(src, fp, cleared), o.check(b, fp)); diff != "" {
				b.Fatalf("footprint %d: engine and PostGIS differ: %s", i, diff)
			}
		}
		durs := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			o.check(b, fps[i%len(fps)])
			durs = append(durs, time.Since(t0))
		}
		b.StopTimer()
		reportLatency(b, durs)
	})
}

// checkLatency runs b.N checks of fps in turn, one at a time, and reports
// their latency percentiles, the process's CPU time a check (every core,
// the collector's included: the steadier figure on a shared machine),
// findings per check and the bytes of an answer (each footprint's, written
// as the server writes it, after the timing).
func checkLatency(b *testing.B, e *Engine, src Source, fps []Footprint) {
	durs := make([]time.Duration, 0, b.N)
	findings := 0
	runtime.GC() // not the world's building garbage: a server's steady state
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		res := e.Check(src, fps[i%len(fps)], cleared)
		durs = append(durs, time.Since(t0))
		findings += len(res.Findings)
	}
	cpu := processCPU() - cpu0
	b.StopTimer()
	reportLatency(b, durs)
	// CPU time per check (the process's, user and system): on a machine
	// others load, steadier than the latencies.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/check")
	b.ReportMetric(float64(findings)/float64(b.N), "findings/check")
	bytes := 0
	for _, fp := range fps {
		res := e.Check(src, fp, cleared)
		bytes += len(res.AppendJSON(nil))
	}
	b.ReportMetric(float64(bytes)/float64(len(fps)), "answer-B/check")
}

func reportLatency(b *testing.B, durs []time.Duration) {
	if len(durs) == 0 {
		return
	}
	sort.Slice(durs, func(i, j int) bool { return durs[i] < durs[j] })
	pct := func(p float64) float64 {
		i := int(p * float64(len(durs)-1))
		return float64(durs[i].Nanoseconds()) / 1e3
	}
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

// compareFindings says how an engine result and the oracle's findings
// differ in (component, rule, verdict), "" when they are identical.
func compareFindings(res Result, want []oracleFinding) string {
	got := map[string]bool{}
	for _, f := range res.Findings {
		got[f.Component.ID+" "+f.Rule+" "+string(f.Verdict)] = true
	}
	for _, w := range want {
		k := w.comp + " " + w.rule + " " + w.verdict
		if !got[k] {
			return "PostGIS has " + k + ", the engine not"
		}
		delete(got, k)
	}
	for k := range got {
		return "the engine has " + k + ", PostGIS not"
	}
	return ""
}

// benchCoverage declares every rule layer's coverage over box as a 3 × 3
// grid of provinces, each a rectangle whose sides wiggle through 500
// vertices (about a real province outline's count).
func benchCoverage(rs *rules.RuleSet, box orb.Bound) *coverage.Set {
	var cs []zone.Coverage
	w, h := (box.Max[0]-box.Min[0])/3, (box.Max[1]-box.Min[1])/3
	for i := range 3 {
		for j := range 3 {
			x0, y0 := box.Min[0]+float64(i)*w, box.Min[1]+float64(j)*h
			var ring orb.Ring
			side := func(ax, ay, bx, by float64) {
				for k := range 500 {
					t := float64(k) / 500
					ring = append(ring, orb.Point{ax + t*(bx-ax), ay + t*(by-ay)})
				}
			}
			side(x0, y0, x0+w, y0)
			side(x0+w, y0, x0+w, y0+h)
			side(x0+w, y0+h, x0, y0+h)
			side(x0, y0+h, x0, y0)
			ring = append(ring, ring[0])
			for _, l := range rs.Layers() {
				cs = append(cs, zone.Coverage{Layer: l, Area: fmt.Sprintf("p%d%d", i, j), Status: zone.CoverageLoaded,
					AsOf: time.Now(), Geometry: orb.MultiPolygon{{ring}}})
			}
		}
	}
	return coverage.New(cs, 1)
}

// coveredSource is a tree source with a coverage of its own.
type coveredSource struct {
	*treeSource
	cov *coverage.Set
}

func (s coveredSource) Coverage() *coverage.Set { return s.cov }
