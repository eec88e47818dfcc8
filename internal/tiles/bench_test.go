package tiles

import (
	"bytes"
	stdgzip "compress/gzip"
	"context"
	"fmt"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/zoneplan/zoneplan/internal/demo"
	"github.com/zoneplan/zoneplan/internal/index"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// BenchTileCentres are the points whose tiles the benchmarks draw: the
// centres of the synthetic data's densest regions (internal/demo), so every
// tile holds data. .ci/bench-tiles uses the same list.
var benchTileCentres = []orb.Point{
	{105.85, 21.03}, {106.20, 21.30}, {105.80, 21.60}, {106.60, 21.80}, {106.20, 22.55},
	{105.20, 21.80}, {104.60, 21.70}, {104.00, 21.30}, {105.30, 20.80}, {105.50, 19.95},
}

// BenchZooms are the zooms the benchmarks cover.
var benchZooms = []maptile.Zoom{8, 10, 12, 14}

func benchTiles(z maptile.Zoom) []maptile.Tile {
	seen := map[maptile.Tile]bool{}
	var out []maptile.Tile
	for _, c := range benchTileCentres {
		if t := maptile.At(c, z); !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

func scaleIndex(b testing.TB, components, projects int) *index.Index {
	b.Helper()
	var changes []zone.Change
	err := demo.Scale(1, components, projects, func(c *zone.Component) error {
		c.Version = 1
		changes = append(changes, zone.Change{ID: c.ID, Layer: c.Layer, Component: c})
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	ix := index.New()
	ix.Apply(changes, 1)
	return ix
}

// BenchmarkTileCold builds the benchmark tiles of every layer (layer=all,
// secret clearance) from 100,000 synthetic components and 10,000 project
// sites with the cache off: what a cold request costs the server's CPU.
// Run: go test -run '^$' -bench TileCold ./internal/tiles
func BenchmarkTileCold(b *testing.B) {
	ix := scaleIndex(b, 100_000, 10_000)
	s := New(ix, Options{})
	for _, z := range benchZooms {
		tl := benchTiles(z)
		b.Run(fmt.Sprintf("z%d", z), func(b *testing.B) {
			// Warm the zone-buffer cache, as a running server has.
			maxBytes, total := 0, 0
			for _, t := range tl {
				tile, err := s.Tile(context.Background(), Request{Layer: AllLayers, Coord: Coord{uint32(t.Z), t.X, t.Y}, Scope: zone.ScopeOf(zone.Secret)}, false, nil)
				if err != nil {
					b.Fatal(err)
				}
				maxBytes = max(maxBytes, len(tile.Data))
				total += len(tile.Data)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t := tl[i%len(tl)]
				if _, err := s.Tile(context.Background(), Request{Layer: AllLayers, Coord: Coord{uint32(t.Z), t.X, t.Y}, Scope: zone.ScopeOf(zone.Secret)}, false, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(maxBytes), "max-bytes")
			b.ReportMetric(float64(total/len(tl)), "mean-bytes")
		})
	}
}

// BenchmarkTileGzip compresses the benchmark tiles of every layer (as
// BenchmarkTileCold builds them) three ways: "stdlib-bestspeed", what
// every tile was compressed with before (compress/gzip at BestSpeed), the
// baseline; "fast", what a tile gets with the cache off; "small", what a
// cached tile gets (compress.go). bytes/raw is
// the compressed size over the plain tiles'.
// Run: go test -run '^$' -bench TileGzip ./internal/tiles
func BenchmarkTileGzip(b *testing.B) {
	ix := scaleIndex(b, 100_000, 10_000)
	s := New(ix, Options{})
	var raws [][]byte
	rawBytes := 0
	for _, z := range benchZooms {
		for _, t := range benchTiles(z) {
			tile, err := s.Tile(context.Background(), Request{Layer: AllLayers, Coord: Coord{uint32(t.Z), t.X, t.Y}, Scope: zone.ScopeOf(zone.Secret)}, false, nil)
			if err != nil {
				b.Fatal(err)
			}
			raws = append(raws, tile.Data)
			rawBytes += len(tile.Data)
		}
	}
	run := func(b *testing.B, compress func([]byte) []byte) {
		b.SetBytes(int64(rawBytes))
		out := 0
		for i := 0; i < b.N; i++ {
			out = 0
			for _, raw := range raws {
				out += len(compress(raw))
			}
		}
		b.ReportMetric(float64(out)/float64(rawBytes), "bytes/raw")
	}
	b.Run("stdlib-bestspeed", func(b *testing.B) {
		run(b, func(raw []byte) []byte {
			var buf bytes.Buffer
			zw, _ := stdgzip.NewWriterLevel(&buf, stdgzip.BestSpeed)
			_, _ = zw.Write(raw)
			_ = zw.Close()
			return buf.Bytes()
		})
	})
	b.Run("fast", func(b *testing.B) { run(b, fastGzip) })
	b.Run("small", func(b *testing.B) { run(b, smallGzip) })
}
