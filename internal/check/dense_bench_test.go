package check

import (
	"os"
	"runtime"
	"testing"

	"github.com/zoneplan/zoneplan/internal/rules"
)

// BenchmarkCheckDense measures checks of the project sites that `zoneplan
// gen` places among the generated works (the footprints of make
// bench-load: about 37 findings each), against 100,000 generated
// components (1,000,000 with ZONEPLAN_BENCH_1M=1): per-check latency
// p50/p99 on all cores and on one, with the zone outline cache (the
// server's default) and without it, in the same run. Each footprint comes
// round five times in 2000 checks: the cache's first pass builds.
//
//	go test -run '^$' -bench BenchmarkCheckDense -benchtime 2000x ./internal/check
func BenchmarkCheckDense(b *testing.B) {
	n := 100_000
	if os.Getenv("ZONEPLAN_BENCH_1M") != "" {
		n = 1_000_000
	}
	src, fps := denseWorld(b, n, 400)
	base := New(rules.Default())
	for _, c := range []struct {
		name string
		e    *Engine
	}{{"no-cache", base.WithOutlines(nil)}, {"outline-cache", base.WithOutlines(NewOutlines(DefaultOutlineBytes))}} {
		b.Run(c.name+"/engine", func(b *testing.B) { checkLatency(b, c.e, src, fps) })
		b.Run(c.name+"/engine-1cpu", func(b *testing.B) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			checkLatency(b, c.e, src, fps)
		})
	}
}
