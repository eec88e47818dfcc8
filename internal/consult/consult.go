// Package consult is the geometry of consultation areas: what a caller
// below a defence component's classification is checked against instead
// of the component itself.
//
// Mature defence safeguarding publishes consultation zones of approximate
// extent that trigger a referral, never the asset's position or shape.
// zoneplan does the same with a fixed grid of cells of at least CellM
// metres a side. A hidden component is replaced by the cells of its
// consultation area (Covering), built so that it depends on where the
// component is only through one cell, its anchor cell: the cell holding
// the centre of the box of its geometry and approved zones. Each part of
// the component (a point, a segment of a line, a polygon's box) is placed
// relative to the anchor cell rather than to the anchor itself: the
// anchor cell's rectangle is grown by the part's offsets from the anchor,
// which holds the part wherever in the cell the anchor lies, then widened
// by the component's reach (its geometry and approved zones widened by
// the farthest any rule tests it); the area is every cell those boxes
// touch. The construction is deterministic and depends only on the anchor
// cell, the component's shape relative to its anchor, the rule set and the
// cell size.
//
// The bound this gives: moving the component anywhere that keeps its
// anchor in the same cell changes no cell, so no number of questions
// tells an uncleared caller more about its position than its anchor cell:
// every position in that cell, at least CellM across in each direction,
// stays consistent with every answer, and no estimate is sure to be
// closer than CellM/√2 to the component. (Covering the cells the reach
// itself touches, which this replaces, pinned a component down far more
// finely when its reach's edges lay just inside a cell's: the number of
// cells it spans says where those edges are, to within the difference
// between the reach's width and a whole number of cells, tens of metres.)
// The price is reach: a point work's area is its anchor cell widened by
// its reach, 3 × 3 cells for any reach under a cell.
//
// The grid is in WGS84 degrees, so it is the same on every server and needs
// no projection: rows are CellM / 110,574 degrees of latitude tall (a
// degree of latitude is at least 110,574 m, at the equator), so each is at
// least CellM tall; each row's columns are CellM over the length of a
// degree of longitude at the row's poleward edge (on the sphere of the
// equatorial radius, which is shorter than on the ellipsoid), so every cell
// is at least CellM wide. In Vietnam (8-23.5°N) a 2 km cell is 2.0 km tall
// and 2.0-2.2 km wide. Cells are closed rectangles: touching one counts.
//
// Hand-written because the alternatives do not fit: H3's Go binding needs
// cgo (the binary is static), and a fixed rectangular grid is the simplest
// construction whose bound is easy to state and check.
package consult

import (
	"math"

	"github.com/paulmach/orb"
)

// DefaultCellM is the default cell size, metres.
const DefaultCellM = 2000

const (
	// minMetresPerDegreeLat is a lower bound of a degree of latitude on
	// WGS84 (a(1-e²)·π/180 = 110,574.27 m at the equator).
	minMetresPerDegreeLat = 110574.0
	// metresPerDegreeLonAtEquator is a lower bound of a degree of
	// longitude at the equator on WGS84 (a·π/180 = 111,319.49 m); at
	// latitude φ it is at least this times cos φ.
	metresPerDegreeLonAtEquator = 111319.0
	// maxLat keeps rows' widths finite near the poles.
	maxLat = 89.0
)

// Cell is one cell of a Grid: its row (latitude band, counted from the
// equator northwards, negative in the south) and column (longitude band in
// that row, counted from the prime meridian eastwards).
type Cell struct{ Row, Col int32 }

// Key packs a cell into one integer that sorts as (row, column) do: the
// row in the high half, each half with its sign bit flipped so that
// negative rows and columns sort before positive ones.
func (c Cell) Key() uint64 {
	return uint64(uint32(c.Row)^signBit)<<32 | uint64(uint32(c.Col)^signBit)
}

const signBit = 1 << 31

// CellOf unpacks a Key.
func CellOf(key uint64) Cell {
	return Cell{Row: int32(uint32(key>>32) ^ signBit), Col: int32(uint32(key) ^ signBit)}
}

// Grid is the fixed grid of cells of at least CellM metres a side.
type Grid struct {
	CellM float64
	dLat  float64
}

// NewGrid returns the grid of cells of at least cellM metres (DefaultCellM
// when cellM is not positive).
func NewGrid(cellM float64) Grid {
	if !(cellM > 0) {
		cellM = DefaultCellM
	}
	return Grid{CellM: cellM, dLat: cellM / minMetresPerDegreeLat}
}

// row returns the row holding latitude lat (half-open bands, north edge excluded).
func (g Grid) row(lat float64) int32 { return int32(math.Floor(lat / g.dLat)) }

// dLon is the width in degrees of the cells of row r.
func (g Grid) dLon(r int32) float64 {
	south, north := float64(r)*g.dLat, float64(r+1)*g.dLat
	edge := math.Min(maxLat, math.Max(math.Abs(south), math.Abs(north)))
	return g.CellM / (metresPerDegreeLonAtEquator * math.Cos(edge*math.Pi/180))
}

// Bound is the cell's rectangle in WGS84 degrees.
func (g Grid) Bound(c Cell) orb.Bound {
	w := g.dLon(c.Row)
	return orb.Bound{
		Min: orb.Point{float64(c.Col) * w, float64(c.Row) * g.dLat},
		Max: orb.Point{float64(c.Col+1) * w, float64(c.Row+1) * g.dLat},
	}
}

// Polygon is the cell as a closed ring, counter-clockwise.
func (g Grid) Polygon(c Cell) orb.Polygon {
	b := g.Bound(c)
	return orb.Polygon{{b.Min, {b.Max[0], b.Min[1]}, b.Max, {b.Min[0], b.Max[1]}, b.Min}}
}

// Rows calls fn for every row whose closed band meets latitudes
// [south, north], with the columns of that row whose closed rectangles
// meet longitudes [west, east]. A box edge lying exactly on a cell edge
// meets the cells on both sides.
func (g Grid) Rows(b orb.Bound, fn func(row, col0, col1 int32) bool) {
	south, north := clampLat(b.Min[1]), clampLat(b.Max[1])
	r0, r1 := g.row(south), g.row(north)
	if float64(r0)*g.dLat == south {
		r0-- // on the edge: the band below touches it too
	}
	for r := r0; r <= r1; r++ {
		w := g.dLon(r)
		c0, c1 := int32(math.Floor(b.Min[0]/w)), int32(math.Floor(b.Max[0]/w))
		if float64(c0)*w == b.Min[0] {
			c0--
		}
		if !fn(r, c0, c1) {
			return
		}
	}
}

// Cover calls fn for every cell meeting box b; the same cell may be given
// more than once only across calls.
func (g Grid) Cover(b orb.Bound, fn func(Cell)) {
	g.Rows(b, func(r, c0, c1 int32) bool {
		for c := c0; c <= c1; c++ {
			fn(Cell{r, c})
		}
		return true
	})
}

func clampLat(lat float64) float64 { return math.Max(-maxLat, math.Min(maxLat, lat)) }

// Widen grows a lon/lat box by m metres on every side, conservatively: a
// degree of latitude is at least 110,574 m, a degree of longitude at least
// 111,319·cos(lat) m at the box's poleward edge.
func Widen(b orb.Bound, m float64) orb.Bound {
	m = m*1.001 + 1
	dLat := m / minMetresPerDegreeLat
	lat := math.Min(maxLat, math.Max(math.Abs(b.Min[1]-dLat), math.Abs(b.Max[1]+dLat)))
	dLon := m / (metresPerDegreeLonAtEquator * math.Cos(lat*math.Pi/180))
	return orb.Bound{
		Min: orb.Point{math.Max(-180, b.Min[0]-dLon), math.Max(-90, b.Min[1]-dLat)},
		Max: orb.Point{math.Min(180, b.Max[0]+dLon), math.Min(90, b.Max[1]+dLat)},
	}
}

// Parts calls fn with boxes whose union contains geometry g: one per
// point, one per segment of a line (a long line's box would cover far more
// than the line), one per polygon (its box: works are small next to a
// cell; a polygon the size of a province covers its box, an over-reach
// that errs on the safe side).
func Parts(g orb.Geometry, fn func(orb.Bound)) {
	switch g := g.(type) {
	case orb.Point:
		fn(g.Bound())
	case orb.MultiPoint:
		for _, p := range g {
			fn(p.Bound())
		}
	case orb.LineString:
		path(g, fn)
	case orb.MultiLineString:
		for _, l := range g {
			path(l, fn)
		}
	case orb.Ring:
		fn(g.Bound())
	case orb.Polygon:
		fn(g.Bound())
	case orb.MultiPolygon:
		for _, p := range g {
			fn(p.Bound())
		}
	case orb.Collection:
		for _, x := range g {
			Parts(x, fn)
		}
	case orb.Bound:
		fn(g)
	}
}

func path(l orb.LineString, fn func(orb.Bound)) {
	if len(l) == 1 {
		fn(l[0].Bound())
	}
	for i := 0; i+1 < len(l); i++ {
		fn(orb.Bound{Min: l[i], Max: l[i]}.Extend(l[i+1]))
	}
}

// Area is a set of cells.
type Area map[uint64]struct{}

// CellAt is the cell holding p: the one whose rectangle holds it, the
// cell to the north and east where p lies on an edge.
func (g Grid) CellAt(p orb.Point) Cell {
	r := g.row(clampLat(p[1]))
	return Cell{Row: r, Col: int32(math.Floor(p[0] / g.dLon(r)))}
}

// Covering returns the consultation area of a component made of geoms (its
// geometry and approved zones) that rules reach reachM metres beyond: a
// superset of every point within reachM of the geometries that depends on
// their position only through the anchor cell (see the package doc).
//
// Each part box p (Parts) becomes the anchor cell's rectangle grown by p's
// offsets from the anchor, which contains p because the anchor lies in
// the cell; the offsets are rounded outward to 1e-7° (about a centimetre),
// so that two copies of a component that differ only by a move give
// exactly the same offsets despite floating-point rounding.
func (g Grid) Covering(reachM float64, geoms ...orb.Geometry) Area {
	var parts []orb.Bound
	for _, geom := range geoms {
		Parts(geom, func(b orb.Bound) { parts = append(parts, b) })
	}
	a := Area{}
	if len(parts) == 0 {
		return a
	}
	all := parts[0]
	for _, p := range parts[1:] {
		all = all.Union(p)
	}
	anchor := all.Center()
	home := g.Bound(g.CellAt(anchor))
	for _, p := range parts {
		q := orb.Bound{
			Min: orb.Point{home.Min[0] + roundDown(p.Min[0]-anchor[0]), home.Min[1] + roundDown(p.Min[1]-anchor[1])},
			Max: orb.Point{home.Max[0] + roundUp(p.Max[0]-anchor[0]), home.Max[1] + roundUp(p.Max[1]-anchor[1])},
		}
		g.Cover(Widen(q, reachM), func(c Cell) { a[c.Key()] = struct{}{} })
	}
	return a
}

// offsetStep is the resolution of a part's offsets from its anchor, degrees.
const offsetStep = 1e-7

func roundDown(d float64) float64 { return math.Floor(d/offsetStep) * offsetStep }
func roundUp(d float64) float64   { return math.Ceil(d/offsetStep) * offsetStep }

// Keys lists the area's cells, in no particular order.
func (a Area) Keys() []uint64 {
	out := make([]uint64, 0, len(a))
	for k := range a {
		out = append(out, k)
	}
	return out
}
