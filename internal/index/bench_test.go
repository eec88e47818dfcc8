package index

import (
	"math/rand"
	"runtime"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"
	"github.com/tidwall/rtree"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// syntheticComponents returns n synthetic components in northern Vietnam,
// the same ones every run.
func syntheticComponents(n int) []*zone.Component {
	syn := newSynthesizer(42)
	cs := make([]*zone.Component, n)
	for i := range cs {
		cs[i] = syn.component()
	}
	return cs
}

// builtIndex returns an index of cs at version 1, built as Load builds it.
func builtIndex(cs []*zone.Component) *Index {
	ix := New()
	ix.writeMu.Lock()
	defer ix.writeMu.Unlock()
	ix.replace(cs, 1)
	return ix
}

// heapInUse returns the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

const mib = 1 << 20

// benchmarkBuild measures what Load does once the store has listed the
// components.
func benchmarkBuild(b *testing.B, n int) {
	cs := syntheticComponents(n)
	var heap uint64
	var cpu time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		before := heapInUse()
		cpuBefore := processCPU()
		b.StartTimer()
		ix := builtIndex(cs)
		b.StopTimer()
		cpu += processCPU() - cpuBefore
		heap += heapInUse() - before
		if ix.Snapshot().Len() != n {
			b.Fatalf("built %d components, want %d", ix.Snapshot().Len(), n)
		}
		runtime.KeepAlive(ix)
		b.StartTimer()
	}
	b.ReportMetric(float64(heap)/float64(b.N)/mib, "MiB")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
}

// BenchmarkBuild100k builds the index of 100,000 components (the components
// themselves are not counted in MiB: only what the index adds).
func BenchmarkBuild100k(b *testing.B) { benchmarkBuild(b, 100_000) }

// BenchmarkBuild1M builds the index of 1,000,000 components.
func BenchmarkBuild1M(b *testing.B) { benchmarkBuild(b, 1_000_000) }

// BenchmarkSearchTile queries tile-sized windows of a 1M-component index:
// one layer as the tile service does, and every layer as the checker does.
func BenchmarkSearchTile(b *testing.B) {
	s := builtIndex(syntheticComponents(1_000_000)).Snapshot()
	rng := rand.New(rand.NewSource(7))
	for _, z := range []maptile.Zoom{12, 10} {
		tiles := make([]orb.Bound, 1024)
		for i := range tiles {
			p := orb.Point{
				northVietnam.Min[0] + rng.Float64()*(northVietnam.Max[0]-northVietnam.Min[0]),
				northVietnam.Min[1] + rng.Float64()*(northVietnam.Max[1]-northVietnam.Min[1]),
			}
			tiles[i] = maptile.At(p, z).Bound()
		}
		name := map[maptile.Zoom]string{12: "z12", 10: "z10"}[z]
		b.Run(name+"/layer", func(b *testing.B) {
			found := 0
			cpuBefore := processCPU()
			for i := 0; i < b.N; i++ {
				s.SearchLayer(zone.LayerCombatBases, tiles[i%len(tiles)], zone.ScopeOf(zone.Public), func(*zone.Component) bool { found++; return true })
			}
			b.ReportMetric(float64((processCPU()-cpuBefore).Nanoseconds())/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(found)/float64(b.N), "items/op")
		})
		b.Run(name+"/all", func(b *testing.B) {
			found := 0
			cpuBefore := processCPU()
			for i := 0; i < b.N; i++ {
				s.Search(tiles[i%len(tiles)], func(*zone.Component) bool { found++; return true })
			}
			b.ReportMetric(float64((processCPU()-cpuBefore).Nanoseconds())/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(found)/float64(b.N), "items/op")
		})
	}
}

// BenchmarkApplyOne applies and publishes one change (a move) on a
// 1M-component index: copy-on-write keeps it to a few node copies.
func BenchmarkApplyOne(b *testing.B) {
	cs := syntheticComponents(1_000_000)
	ix := builtIndex(cs)
	rng := rand.New(rand.NewSource(8))
	moves := make([]*zone.Component, 4096)
	for i := range moves {
		c := cs[rng.Intn(len(cs))].Clone()
		c.Geometry = orb.Point{
			northVietnam.Min[0] + rng.Float64()*(northVietnam.Max[0]-northVietnam.Min[0]),
			northVietnam.Min[1] + rng.Float64()*(northVietnam.Max[1]-northVietnam.Min[1]),
		}
		moves[i] = c
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpuBefore := processCPU()
	for i := 0; i < b.N; i++ {
		c := moves[i%len(moves)]
		ix.Apply([]zone.Change{{ID: c.ID, Layer: c.Layer, Component: c}}, int64(i+2))
	}
	b.StopTimer()
	b.ReportMetric(float64((processCPU()-cpuBefore).Nanoseconds())/float64(b.N), "cpu-ns/op")
	if ix.Snapshot().Len() != len(cs) {
		b.Fatalf("len %d after moves, want %d", ix.Snapshot().Len(), len(cs))
	}
}

// BenchmarkTreeBoxes compares the memory of the R-tree alone for 1M
// component boxes stored as float64 and as float32: the measurement behind
// the choice of float32 boxes.
func BenchmarkTreeBoxes(b *testing.B) {
	cs := syntheticComponents(1_000_000)
	bounds := make([]orb.Bound, len(cs))
	for i, c := range cs {
		bounds[i] = c.Bound()
	}
	b.Run("float64", func(b *testing.B) {
		var heap uint64
		for i := 0; i < b.N; i++ {
			before := heapInUse()
			var tr rtree.RTreeGN[float64, *zone.Component]
			for j, c := range cs {
				tr.Insert(bounds[j].Min, bounds[j].Max, c)
			}
			heap += heapInUse() - before
			runtime.KeepAlive(&tr)
		}
		b.ReportMetric(float64(heap)/float64(b.N)/mib, "MiB")
	})
	b.Run("float32", func(b *testing.B) {
		var heap uint64
		for i := 0; i < b.N; i++ {
			before := heapInUse()
			var tr rtree.RTreeGN[float32, *zone.Component]
			for j, c := range cs {
				r := outward(bounds[j])
				tr.Insert(r.min, r.max, c)
			}
			heap += heapInUse() - before
			runtime.KeepAlive(&tr)
		}
		b.ReportMetric(float64(heap)/float64(b.N)/mib, "MiB")
	})
}
