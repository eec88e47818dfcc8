package tiles_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/paulmach/orb/maptile"

	"github.com/zoneplan/zoneplan/internal/demo"
	"github.com/zoneplan/zoneplan/internal/embedded"
	"github.com/zoneplan/zoneplan/internal/index"
	"github.com/zoneplan/zoneplan/internal/pgtest"
	"github.com/zoneplan/zoneplan/internal/postgis"
	"github.com/zoneplan/zoneplan/internal/tiles"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// TestModesServeTheSameTiles: the same components imported into the
// PostGIS store and the embedded store give byte-identical tiles, at every
// clearance, at low and high zoom (with protection zones).
func TestModesServeTheSameTiles(t *testing.T) {
	dsn := pgtest.New(t)
	ctx := context.Background()
	if err := postgis.Migrate(ctx, dsn, nil); err != nil {
		t.Fatal(err)
	}
	pg, err := postgis.Open(ctx, dsn, postgis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	emb, err := embedded.Open(filepath.Join(t.TempDir(), "z.db"), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emb.Close() })

	byLayer := map[string][]*zone.Component{}
	if err := demo.Scale(7, 2000, 300, func(c *zone.Component) error {
		byLayer[c.Layer] = append(byLayer[c.Layer], c)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	services := map[string]*tiles.Service{}
	for name, st := range map[string]zone.Store{"postgis": pg, "embedded": emb} {
		for layer, cs := range byLayer {
			clones := make([]*zone.Component, len(cs))
			for i, c := range cs {
				clones[i] = c.Clone()
			}
			if _, err := st.ImportComponents(ctx, layer, clones, zone.ImportOptions{By: "test"}); err != nil {
				t.Fatalf("%s: import %s: %v", name, layer, err)
			}
		}
		ix := index.New()
		if err := ix.Load(ctx, st); err != nil {
			t.Fatal(err)
		}
		services[name] = tiles.New(ix, tiles.Options{})
	}

	centre := byLayer[zone.LayerDefenceWorks][0].Geometry.Bound().Center()
	compared := 0
	for _, z := range []maptile.Zoom{6, 9, 12, 14} {
		tl := maptile.At(centre, z)
		for _, cl := range zone.Classifications() {
			req := tiles.Request{Layer: tiles.AllLayers, Coord: tiles.Coord{Z: uint32(z), X: tl.X, Y: tl.Y}, Scope: zone.ScopeOf(cl)}
			a, err := services["postgis"].Tile(ctx, req, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			b, err := services["embedded"].Tile(ctx, req, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Data) == 0 {
				t.Fatalf("z%d %s: empty tile; the test needs data there", z, cl)
			}
			if !bytes.Equal(a.Data, b.Data) {
				t.Errorf("z%d %s: PostGIS mode's tile (%d bytes) differs from the embedded mode's (%d bytes)", z, cl, len(a.Data), len(b.Data))
			}
			compared++
		}
	}
	t.Logf("%d tiles compared", compared)
}
