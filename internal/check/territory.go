package check

import (
	"math"
	"sync"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	sf "github.com/peterstace/simplefeatures/geom"

	"github.com/zoneplan/zoneplan/data"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// DOMAIN: the border belt is measured inward from the border line, within
// Vietnam's territory (Decree 34/2014/ND-CP art. 5). The engine takes the
// territory to be Vietnam's land polygon from the embedded base map
// (data.VietnamLand, Natural Earth 1:10m through world-atlas): the border
// lines in data/border_lines.geojson are the arcs that polygon shares with
// its neighbours, vertex for vertex, so the polygon's edge is the border
// line itself, and its coast closes the belt where the border meets the
// sea. (Building the territory from the border lines and a coast line
// instead would need a coast line zoneplan does not hold.) A deployment
// that imports an official border line over the demo one keeps this
// polygon, whose edge may then stray from the imported line by the base
// map's resolution (a few hundred metres): see data/rules/default.yaml.
//
// The belt is the part of the footprint inside the territory and within
// the belt's width of the line: a footprint wholly outside Vietnam gets no
// belt finding, and an overlap counts only what lies inside Vietnam.

// territory is the land the border belt lies in: polygons in lon/lat whose
// edges are split along their geodesics into pieces of at most
// geodesicPieceM (so that a cut of a piece in lon/lat stays within
// millimetres of the geodesic), with their boxes.
type territory struct {
	polys orb.MultiPolygon
	boxes []orb.Bound
}

// vietnam is Vietnam's territory, built once from the embedded base map.
var vietnam = sync.OnceValue(func() *territory {
	land, err := data.VietnamLand()
	if err != nil {
		// the base map is embedded at build time; its absence is a build bug
		panic("check: " + err.Error())
	}
	return newTerritory(land)
})

func newTerritory(land orb.MultiPolygon) *territory {
	t := &territory{}
	for _, p := range land {
		dp := make(orb.Polygon, len(p))
		for i, r := range p {
			dp[i] = orb.Ring(densifyGeodesic(r))
		}
		t.polys = append(t.polys, dp)
		t.boxes = append(t.boxes, dp.Bound())
	}
	return t
}

// territory is the land the engine's border belts lie in: Vietnam's,
// unless a test gave another (withTerritory).
func (e *Engine) territory() *territory {
	if e.land != nil {
		return e.land
	}
	return vietnam()
}

// withTerritory returns a copy of the engine whose belts lie in land.
func (e *Engine) withTerritory(land orb.MultiPolygon) *Engine {
	c := *e
	c.land = newTerritory(land)
	return &c
}

// landPatch is the territory near one footprint, in the footprint's plane,
// and how the footprint lies in it.
type landPatch struct {
	relation int          // of the footprint to the land: disjoint, footprintInside, zoneInside or partial
	in       sf.Geometry  // the footprint's part on land (plane); for partial and zoneInside
	inShape  *shape       // the same, for distances
	inXY     orb.Geometry // the same, orb
}

// landMarginM: the territory is cut to the footprint's box grown by this
// much, so that the cut's edges (which run along the box, where Sutherland
// and Hodgman's clipping may fold them onto each other) never reach the
// footprint; JTS's overlay, like OverlayNG's own ring clipper, takes such
// collapsed edges in its stride.
const landMarginM = 50

// land returns the territory near the footprint, computed once per run.
func (r *footprintRun) land() *landPatch {
	if r.landDone {
		return r.landXY
	}
	r.landDone = true
	t := r.e.territory()
	box := widen(r.ll, landMarginM)
	var polys orb.MultiPolygon
	for i, p := range t.polys {
		if !t.boxes[i].Intersects(box) {
			continue
		}
		c := clip.Polygon(box, orb.Clone(p).(orb.Polygon))
		if len(c) == 0 || len(c[0]) < 4 {
			continue
		}
		polys = append(polys, r.proj.project(c).(orb.Polygon))
	}
	lp := &landPatch{relation: disjoint}
	r.landXY = lp
	if len(polys) == 0 {
		return lp
	}
	lp.relation = relate(r.planar(), newPlanarShape(polys))
	if lp.relation != partial && lp.relation != zoneInside {
		return lp
	}
	in, err := sf.Intersection(r.sf(), toSF(polys))
	if err != nil || in.IsEmpty() {
		lp.relation = disjoint
		return lp
	}
	og, err := fromSF(in)
	if err != nil || og == nil {
		lp.relation = disjoint
		return lp
	}
	og = highestDimension(og)
	lp.in, lp.inXY, lp.inShape = toSF(og), og, newPlanarShape(og)
	return lp
}

// highestDimension is g without the parts of a collection below its
// highest dimension (an overlay may leave a point or a line where two
// boundaries touch beside an area); other geometries as they are.
func highestDimension(g orb.Geometry) orb.Geometry {
	c, ok := g.(orb.Collection)
	if !ok {
		return g
	}
	var polys orb.MultiPolygon
	var lines orb.MultiLineString
	var points orb.MultiPoint
	for _, part := range c {
		switch p := highestDimension(part).(type) {
		case orb.Polygon:
			polys = append(polys, p)
		case orb.MultiPolygon:
			polys = append(polys, p...)
		case orb.LineString:
			lines = append(lines, p)
		case orb.MultiLineString:
			lines = append(lines, p...)
		case orb.Point:
			points = append(points, p)
		case orb.MultiPoint:
			points = append(points, p...)
		}
	}
	switch {
	case len(polys) > 0:
		return polys
	case len(lines) > 0:
		return lines
	}
	return points
}

// belt tests the border belt of width w along line c: the footprint's part
// in Vietnam within w of the line (inside), or within the tolerance beyond
// it (nearEdge), and the area and geometry of that part. ok is false when
// the footprint has no part in Vietnam.
func (r *footprintRun) belt(c *zone.Component, w, tol float64, dist0 func() float64) (inside, nearEdge, ok bool, overlap func() (float64, orb.Geometry)) {
	d := dist0()
	if d > w+tol+touchSlackM {
		return false, false, true, nil
	}
	lp := r.land()
	switch lp.relation {
	case disjoint:
		return false, false, false, nil
	case footprintInside:
		// the whole footprint is in Vietnam: the belt there is the buffer
		return d <= w+touchSlackM, d > w+touchSlackM, true, func() (float64, orb.Geometry) {
			return r.bufferOverlap(c, w)
		}
	}
	near := r.image(c, w+tol+1)
	dIn, a, b := shapeDistance(lp.inShape, newPlanarShape(near))
	if dIn > 0 && !math.IsInf(dIn, 1) {
		dIn = r.geodesicM(a, b)
	}
	inside = dIn <= w+touchSlackM
	nearEdge = !inside && dIn <= w+tol+touchSlackM
	return inside, nearEdge, true, func() (float64, orb.Geometry) {
		outline, z, err := r.bufferZone(r.image(c, w+1), w)
		if err != nil {
			return 0, nil
		}
		if outline != nil {
			z = toSF(outline)
		}
		return r.planeOverlay(lp.in, z)
	}
}
