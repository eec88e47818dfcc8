package tiles

import (
	"bytes"
	"context"
	"testing"

	"github.com/paulmach/orb/maptile"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// TestTileCompression: with the cache on, every gzipped answer of a tile,
// the first (a build) and the later ones (the cache), is the same small
// form; with it off, every answer is the fast form; both decode to the
// plain tile, and callers without gzip get the plain tile. A tile's bytes
// thus depend on its content alone, as its strong ETag says.
func TestTileCompression(t *testing.T) {
	ix := scaleIndex(t, 5_000, 500)
	tl := maptile.At(benchTileCentres[0], 10)
	req := Request{Layer: AllLayers, Coord: Coord{10, tl.X, tl.Y}, Scope: zone.ScopeOf(zone.Secret)}
	ask := func(s *Service, gz bool) *Tile {
		t.Helper()
		tile, err := s.Tile(context.Background(), req, gz, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tile.Gzipped != gz {
			t.Fatalf("asked gzip %v, got gzipped %v", gz, tile.Gzipped)
		}
		return tile
	}
	uncached := New(ix, Options{})
	plain := ask(uncached, false)
	if len(plain.Data) < 10_000 {
		t.Fatalf("plain tile of %d bytes; want a tile of some size", len(plain.Data))
	}
	fast := ask(uncached, true)
	if !bytes.Equal(fast.Data, fastGzip(plain.Data)) {
		t.Fatal("with the cache off, a gzipped answer is not the fast form")
	}
	if again := ask(uncached, true); !bytes.Equal(again.Data, fast.Data) {
		t.Fatal("with the cache off, two answers differ")
	}

	cached := New(ix, Options{CacheBytes: 64 << 20})
	first := ask(cached, true)
	later := ask(cached, true)
	if st := cached.Stats(); st.Builds != 1 || st.Hits != 1 {
		t.Fatalf("stats %+v: want one build and one hit", st)
	}
	if !bytes.Equal(first.Data, smallGzip(plain.Data)) || !bytes.Equal(later.Data, first.Data) {
		t.Fatal("with the cache on, the first and later answers are not both the small form")
	}
	for name, gz := range map[string][]byte{"fast": fast.Data, "small": first.Data} {
		if raw, err := gunzip(gz); err != nil || !bytes.Equal(raw, plain.Data) {
			t.Fatalf("the %s form does not decode to the plain tile (err %v)", name, err)
		}
	}
	if len(first.Data) >= len(fast.Data) {
		t.Fatalf("small form %d bytes, fast form %d: not smaller", len(first.Data), len(fast.Data))
	}
	if p := ask(cached, false); !bytes.Equal(p.Data, plain.Data) {
		t.Fatal("a caller without gzip does not get the plain tile from the cache")
	}
	t.Logf("plain %d bytes, fast %d (%.3f), small %d (%.3f)", len(plain.Data), len(fast.Data),
		float64(len(fast.Data))/float64(len(plain.Data)), len(first.Data), float64(len(first.Data))/float64(len(plain.Data)))
}
