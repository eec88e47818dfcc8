package tiles

import (
	"testing"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/maptile"

	"github.com/zoneplan/zoneplan/internal/demo"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// TestEveryComponentIsRepresented: over dense synthetic data and a tile
// budget small enough to thin at every zoom from 6 to 11, every tile from
// zoom 6 to 14 over a region draws each component or counts it in the
// omitted layer. Per tile and layer, the omitted counts are exactly the
// components centred in the tile and not drawn (less, at most, those whose
// shape misses the tile); what is drawn is never less important than what
// is left out; and the tile stays within its budget.
func TestEveryComponentIsRepresented(t *testing.T) {
	w := newWorld()
	var all []*zone.Component
	err := demo.Scale(7, 20_000, 2_000, func(c *zone.Component) error {
		all = append(all, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	w.put(all...)
	opt := Options{MaxTileBytes: 60_000, MaxFeatures: 1500}
	s := New(w.ix, opt)
	region := orb.Bound{Min: orb.Point{105.55, 20.75}, Max: orb.Point{106.15, 21.35}}
	byID := map[uuid.UUID]*zone.Component{}
	for _, c := range all {
		byID[c.ID] = c
	}
	// Where the tiles place a component: the centre of its box in the index.
	centre := map[uuid.UUID]orb.Point{}
	w.ix.Snapshot().Candidates(orb.Bound{Min: orb.Point{-180, -90}, Max: orb.Point{180, 90}}, zone.FullScope(), func(c *zone.Component, b orb.Bound) bool {
		centre[c.ID] = b.Center()
		return true
	})
	thinnedZooms := 0
	for z := maptile.Zoom(6); z <= 14; z++ {
		centred := map[maptile.Tile][]*zone.Component{}
		for _, c := range all {
			tl := maptile.At(centre[c.ID], z)
			centred[tl] = append(centred[tl], c)
		}
		lo, hi := maptile.At(orb.Point{region.Min[0], region.Max[1]}, z), maptile.At(orb.Point{region.Max[0], region.Min[1]}, z)
		omittedAtZoom := uint64(0)
		for x := lo.X; x <= hi.X; x++ {
			for y := lo.Y; y <= hi.Y; y++ {
				tl := maptile.New(x, y, z)
				tile, layers := getTile(t, s, AllLayers, tl, zone.Secret)
				if len(tile.Data) > opt.MaxTileBytes {
					t.Fatalf("z%d/%d/%d: %d bytes, over the budget of %d", z, x, y, len(tile.Data), opt.MaxTileBytes)
				}
				counts := map[string]uint64{}
				for _, f := range featuresOf(layers[OmittedLayer]) {
					n, ok := f.Properties["count"].(float64)
					layer, _ := f.Properties["layer"].(string)
					if !ok || n < 1 || layer == "" {
						t.Fatalf("z%d/%d/%d: omitted feature without a layer and a count: %v", z, x, y, f.Properties)
					}
					counts[layer] += uint64(n)
				}
				frame := newTileFrame(uint32(z), x, y, 4096, 64, 4096/256/2) // as build draws them
				for _, l := range zone.Layers() {
					drawn := map[uuid.UUID]bool{}
					maxDrawnRank := -1
					for _, f := range featuresOf(layers[l.ID]) {
						id := uuid.MustParse(f.Properties["id"].(string))
						drawn[id] = true
						maxDrawnRank = max(maxDrawnRank, groupRank(byID[id].Group))
					}
					// Components of the layer centred in the tile, not drawn:
					// all of them may be counted; those whose shape reaches
					// the tile must be.
					var mayCount, mustCount uint64
					minOmittedRank := 99
					for _, c := range centred[tl] {
						if c.Layer != l.ID || drawn[c.ID] {
							continue
						}
						p := frame.point(centre[c.ID])
						if p[0] < 0 || p[1] < 0 || p[0] >= 4096 || p[1] >= 4096 {
							continue
						}
						mayCount++
						if frame.shape(c.Geometry) != nil {
							mustCount++
							minOmittedRank = min(minOmittedRank, groupRank(c.Group))
						}
					}
					got := counts[l.ID]
					if got < mustCount || got > mayCount {
						t.Errorf("z%d/%d/%d %s: %d drawn, omitted counts %d; want between %d and %d (the undrawn centred here)",
							z, x, y, l.ID, len(drawn), got, mustCount, mayCount)
					}
					if got > 0 && maxDrawnRank > minOmittedRank {
						t.Errorf("z%d/%d/%d %s: a component of group rank %d drawn while one of rank %d was left out",
							z, x, y, l.ID, maxDrawnRank, minOmittedRank)
					}
					omittedAtZoom += got
				}
			}
		}
		if omittedAtZoom > 0 {
			thinnedZooms++
		}
		t.Logf("zoom %d: %d features counted as omitted", z, omittedAtZoom)
	}
	if thinnedZooms < 3 {
		t.Fatalf("thinning happened at %d zooms; the test needs the budget to bite at several", thinnedZooms)
	}
}

// TestOmittedLayerAdvertised: TileJSON lists the omitted layer and its fields.
func TestOmittedLayerAdvertised(t *testing.T) {
	s := New(newWorld().ix, Options{})
	ls, err := s.Layers(AllLayers)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		if l.ID == OmittedLayer {
			if l.Fields["count"] == "" || l.Fields["layer"] == "" {
				t.Fatalf("omitted layer fields %v, want count and layer", l.Fields)
			}
			return
		}
	}
	t.Fatalf("TileJSON layers %v lack %s", ls, OmittedLayer)
}
