package tiles

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"math"
	"slices"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// Thinning. A tile holds at most Options.MaxTileBytes and, per layer,
// Options.MaxFeatures; at low zoom over dense data it cannot hold every
// feature. It keeps the most important ones (byImportance) and counts the
// rest in OmittedLayer: per layer, per cell of an eighth of the tile's
// side, one point at the mean position of the features left out there
// with their count. A planner looking at a province at low zoom thus sees
// "37 more defence works here" instead of a gap that is not there.
//
// Counts are of what the caller may see (the candidates are searched in
// the caller's scope), so they tell nothing a lower clearance may not know.
// A feature left out is counted in the tile that holds the centre of its
// box (in the index), so across neighbouring tiles it is counted once.

// layerGroup is one MVT layer's candidate components for a tile, with
// their boxes in the index (snapshot.SearchLayerBoxes).
type layerGroup struct {
	name  string
	comps []*zone.Component
	boxes []orb.Bound
}

// candidate is one component in the order of importance: its sort key
// (byImportance) and where it is in the tile's groups.
type candidate struct {
	key        uint64
	group, idx int32
}

// groupRank orders a defence work's group by importance: special first,
// then I, II, III; components without a group last.
func groupRank(g zone.Group) int {
	switch g {
	case zone.GroupSpecial:
		return 0
	case zone.GroupI:
		return 1
	case zone.GroupII:
		return 2
	case zone.GroupIII:
		return 3
	}
	return 4
}

// sizeOf is the extent of a component's box b: its longer side in steps
// of 1e-4 degrees (about 11 m), so that points (whose float32 boxes in the
// index are not quite empty) and other works of about the same size tie
// and keep a stable order. (Degrees of longitude are 0.92-0.99 of those of
// latitude across Vietnam: close enough for an order of importance.)
func sizeOf(b orb.Bound) float64 {
	return math.Floor(math.Max(b.Max[0]-b.Min[0], b.Max[1]-b.Min[1]) / 1e-4)
}

// byImportance lists the candidates of every group in the order thinning
// keeps them: by group (special, I, II, III, none), then larger before
// smaller, then by layer and id, so the same tile always keeps the same
// features. The order is packed into one integer per candidate (rank 3
// bits, size 20, layer 4, the id's first 37 bits), so sorting a low-zoom
// tile's tens of thousands of candidates compares integers; equal keys
// (ids alike in 37 bits) fall back to the whole id.
func byImportance(groups []layerGroup) []candidate {
	n := 0
	for _, g := range groups {
		n += len(g.comps)
	}
	out := make([]candidate, 0, n)
	for gi, g := range groups {
		for i, c := range g.comps {
			size := uint64(min(sizeOf(g.boxes[i]), 1<<20-1))
			id := binary.BigEndian.Uint64(c.ID[:8])
			key := uint64(groupRank(c.Group))<<61 | (1<<20-1-size)<<41 | uint64(min(gi, 15))<<37 | id>>27
			out = append(out, candidate{key: key, group: int32(gi), idx: int32(i)})
		}
	}
	slices.SortFunc(out, func(a, b candidate) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		if c := cmp.Compare(a.group, b.group); c != 0 {
			return c
		}
		return bytes.Compare(groups[a.group].comps[a.idx].ID[:], groups[b.group].comps[b.idx].ID[:])
	})
	return out
}

// omittedGrid is the number of cells along each side of a tile in
// OmittedLayer.
const omittedGrid = 8

// omittedFeatureBytes bounds one OmittedLayer feature with its share of
// the value table: feature header, id, tags, type and a point (about 20
// bytes), and its count's value (up to 7).
const omittedFeatureBytes = 28

// omittedReserve is the room kept in a tile's budget for OmittedLayer with
// groups layers: every cell of every layer, the layer names and the keys.
func omittedReserve(groups int) int {
	return groups*(omittedGrid*omittedGrid*omittedFeatureBytes+40) + 64
}

// omittedCells accumulates the features left out of a tile, per layer and
// cell.
type omittedCells struct {
	f     *tileFrame
	cells [][omittedGrid * omittedGrid]omittedCell // per group
}

type omittedCell struct {
	count  uint64
	sx, sy float64 // sum of the counted centres, in tile units
}

func newOmittedCells(f *tileFrame, groups int) *omittedCells {
	return &omittedCells{f: f, cells: make([][omittedGrid * omittedGrid]omittedCell, groups)}
}

// add counts cd, left out of the tile, in the cell of its layer holding
// the centre of its box; a component centred outside the tile is left
// to the tile that holds its centre.
func (o *omittedCells) add(g int, box orb.Bound) {
	p := o.f.point(box.Center())
	if p[0] < 0 || p[1] < 0 || p[0] >= o.f.extent || p[1] >= o.f.extent {
		return
	}
	side := o.f.extent / omittedGrid
	cx, cy := int(p[0]/side), int(p[1]/side)
	cell := &o.cells[g][cy*omittedGrid+cx]
	cell.count++
	cell.sx += p[0]
	cell.sy += p[1]
}

// encode returns OmittedLayer, or nil when nothing was left out. Its
// features carry "layer" (the layer's MVT name) and "count".
func (o *omittedCells) encode(groups []layerGroup, extent int) *layerEncoder {
	var enc *layerEncoder
	for g := range o.cells {
		for i, cell := range o.cells[g] {
			if cell.count == 0 {
				continue
			}
			if enc == nil {
				enc = newLayerEncoder(OmittedLayer, extent)
			}
			n := float64(cell.count)
			p := orb.Point{math.Round(cell.sx / n), math.Round(cell.sy / n)}
			id := uint64(g*omittedGrid*omittedGrid + i + 1)
			enc.add(id, p, []attr{{key: "layer", str: groups[g].name}, {key: "count", isUint: true, u: cell.count}})
		}
	}
	return enc
}
