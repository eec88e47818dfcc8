package tiles

import (
	"bytes"
	"context"
	"testing"

	"github.com/paulmach/orb/maptile"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// TestCachedTilesAreRecompressedSmall: the first answer of a tile comes
// compressed fast; once the background work is done the cache holds the
// small form, which later answers get; every form decodes to the same MVT
// as the plain tile, and callers without gzip still get it plain.
func TestCachedTilesAreRecompressedSmall(t *testing.T) {
	ix := scaleIndex(t, 5_000, 500)
	s := New(ix, Options{CacheBytes: 64 << 20})
	req := Request{Layer: AllLayers, Coord: Coord{10, maptile.At(benchTileCentres[0], 10).X, maptile.At(benchTileCentres[0], 10).Y}, Scope: zone.ScopeOf(zone.Secret)}
	ask := func(gz bool) *Tile {
		t.Helper()
		tile, err := s.Tile(context.Background(), req, gz, nil)
		if err != nil {
			t.Fatal(err)
		}
		return tile
	}
	plain := ask(false) // builds and caches; queues the small form
	s.recompress.done.Wait()
	if plain.Gzipped || len(plain.Data) < 10_000 {
		t.Fatalf("plain tile: gzipped %v, %d bytes; want a plain tile of some size", plain.Gzipped, len(plain.Data))
	}
	s.cache.Clear()

	first := ask(true) // built again: the fast form
	if !first.Gzipped {
		t.Fatal("first answer to a gzip caller not gzipped")
	}
	if raw, err := gunzip(first.Data); err != nil || !bytes.Equal(raw, plain.Data) {
		t.Fatalf("the fast form does not decode to the plain tile (err %v)", err)
	}
	if fast := fastGzip(plain.Data); !bytes.Equal(first.Data, fast) {
		t.Fatal("the first answer is not the fast form")
	}
	s.recompress.done.Wait()
	later := ask(true)
	if raw, err := gunzip(later.Data); err != nil || !bytes.Equal(raw, plain.Data) {
		t.Fatalf("the cached small form does not decode to the plain tile (err %v)", err)
	}
	if !bytes.Equal(later.Data, smallGzip(plain.Data)) {
		t.Fatalf("a later answer is not the small form (%d bytes; fast %d)", len(later.Data), len(first.Data))
	}
	if len(later.Data) >= len(first.Data) {
		t.Fatalf("small form %d bytes, fast form %d: not smaller", len(later.Data), len(first.Data))
	}
	_, cachedBytes := s.CacheStats()
	if cachedBytes >= int64(len(first.Data)) {
		t.Fatalf("cache holds %d bytes, want the small form's %d (+ overhead)", cachedBytes, len(later.Data))
	}
	if again := ask(false); again.Gzipped || !bytes.Equal(again.Data, plain.Data) {
		t.Fatal("a caller without gzip does not get the plain tile from the recompressed cache")
	}
	t.Logf("plain %d bytes, fast %d (%.3f), small %d (%.3f)", len(plain.Data), len(first.Data),
		float64(len(first.Data))/float64(len(plain.Data)), len(later.Data), float64(len(later.Data))/float64(len(plain.Data)))
}
