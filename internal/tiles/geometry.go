package tiles

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/clip"
	"github.com/paulmach/orb/simplify"
)

// tileFrame maps WGS84 longitude/latitude (degrees) to the integer
// coordinates of one tile: Web Mercator (EPSG:3857) scaled so the tile spans
// 0..extent, x to the east, y to the south (the MVT convention). Vertices
// are rounded to the nearest unit, not floored, so a vertex moves at most
// half a unit.
type tileFrame struct {
	z      uint32
	n      float64 // extent << z: the world's width in units
	x0, y0 float64 // the tile's top-left corner in world units
	extent float64
	clip   orb.Bound // the tile grown by the buffer, in tile units
	tol    float64   // Douglas-Peucker tolerance, in tile units
	pixel  float64   // one screen pixel of a 256-pixel tile, in tile units
}

// maxLat is the latitude where Web Mercator's square world ends.
const maxLat = 85.05112877980659

func newTileFrame(z, x, y uint32, extent, buffer int, tol float64) tileFrame {
	n := math.Ldexp(float64(extent), int(z))
	e := float64(extent)
	return tileFrame{
		z: z, n: n, x0: float64(x) * e, y0: float64(y) * e, extent: e,
		clip:  orb.Bound{Min: orb.Point{-float64(buffer), -float64(buffer)}, Max: orb.Point{e + float64(buffer), e + float64(buffer)}},
		tol:   tol,
		pixel: e / 256,
	}
}

// point projects one WGS84 point into tile units, unrounded.
func (f *tileFrame) point(p orb.Point) orb.Point {
	lat := math.Max(-maxLat, math.Min(maxLat, p[1]))
	s := math.Sin(lat * math.Pi / 180)
	return orb.Point{
		(p[0]+180)/360*f.n - f.x0,
		(0.5-math.Log((1+s)/(1-s))/(4*math.Pi))*f.n - f.y0,
	}
}

// wgs84Bound is the WGS84 box a box of tile units covers.
func (f *tileFrame) wgs84Bound(b orb.Bound) orb.Bound {
	lon := func(x float64) float64 { return (x+f.x0)/f.n*360 - 180 }
	lat := func(y float64) float64 {
		m := math.Pi * (1 - 2*(y+f.y0)/f.n)
		return math.Atan(math.Sinh(m)) * 180 / math.Pi
	}
	return orb.Bound{Min: orb.Point{lon(b.Min[0]), lat(b.Max[1])}, Max: orb.Point{lon(b.Max[0]), lat(b.Min[1])}}
}

// project returns a new geometry in tile units (the input is not changed).
func (f *tileFrame) project(g orb.Geometry) orb.Geometry {
	pts := func(ps []orb.Point) []orb.Point {
		out := make([]orb.Point, len(ps))
		for i, p := range ps {
			out[i] = f.point(p)
		}
		return out
	}
	switch g := g.(type) {
	case orb.Point:
		return f.point(g)
	case orb.MultiPoint:
		return orb.MultiPoint(pts(g))
	case orb.LineString:
		return orb.LineString(pts(g))
	case orb.MultiLineString:
		out := make(orb.MultiLineString, len(g))
		for i, l := range g {
			out[i] = pts(l)
		}
		return out
	case orb.Ring:
		return orb.Polygon{pts(g)}
	case orb.Polygon:
		return f.polygon(g, pts)
	case orb.MultiPolygon:
		out := make(orb.MultiPolygon, len(g))
		for i, p := range g {
			out[i] = f.polygon(p, pts)
		}
		return out
	}
	return nil
}

func (f *tileFrame) polygon(p orb.Polygon, pts func([]orb.Point) []orb.Point) orb.Polygon {
	out := make(orb.Polygon, len(p))
	for i, r := range p {
		out[i] = pts(r)
	}
	return out
}

// shape turns a WGS84 geometry into what one tile draws of it: projected,
// a line or polygon under a pixel across reduced to a point at its centre
// (so small works stay visible at low zoom), clipped to the tile plus its
// buffer, simplified with Douglas-Peucker at the frame's tolerance, rounded
// to integers, rings of polygons oriented as the MVT spec requires. It
// returns nil when nothing of g is left in the tile.
func (f *tileFrame) shape(g orb.Geometry) orb.Geometry {
	g = f.project(g)
	if g == nil {
		return nil
	}
	if g.Dimensions() > 0 {
		b := g.Bound()
		if b.Max[0]-b.Min[0] < f.pixel && b.Max[1]-b.Min[1] < f.pixel {
			g = b.Center()
		}
	}
	g = clip.Geometry(f.clip, g)
	if g == nil {
		return nil
	}
	if g.Dimensions() > 0 && f.tol > 0 {
		g = simplify.DouglasPeucker(f.tol).Simplify(g)
		if g == nil {
			return nil
		}
	}
	return finish(g)
}

// finish rounds to integer tile units, drops repeated vertices and what
// rounding collapsed (lines of one vertex, rings of fewer than three
// distinct vertices or of no area), and orients polygon rings: exterior
// rings with positive area by the surveyor's formula in tile coordinates (y
// down, so clockwise on screen), holes negative (MVT spec 4.3.4.4).
func finish(g orb.Geometry) orb.Geometry {
	switch g := g.(type) {
	case orb.Point:
		return orb.Point{math.Round(g[0]), math.Round(g[1])}
	case orb.MultiPoint:
		out := make(orb.MultiPoint, len(g))
		for i, p := range g {
			out[i] = orb.Point{math.Round(p[0]), math.Round(p[1])}
		}
		return out
	case orb.LineString:
		if l := roundLine(g); len(l) >= 2 {
			return l
		}
	case orb.MultiLineString:
		var out orb.MultiLineString
		for _, l := range g {
			if l := roundLine(l); len(l) >= 2 {
				out = append(out, l)
			}
		}
		return single(out)
	case orb.Ring:
		if p := roundPolygon(orb.Polygon{g}); p != nil {
			return p
		}
	case orb.Polygon:
		if p := roundPolygon(g); p != nil {
			return p
		}
	case orb.MultiPolygon:
		var out orb.MultiPolygon
		for _, p := range g {
			if p := roundPolygon(p); p != nil {
				out = append(out, p)
			}
		}
		return singlePolygon(out)
	}
	return nil
}

func single(m orb.MultiLineString) orb.Geometry {
	switch len(m) {
	case 0:
		return nil
	case 1:
		return m[0]
	}
	return m
}

func singlePolygon(m orb.MultiPolygon) orb.Geometry {
	switch len(m) {
	case 0:
		return nil
	case 1:
		return m[0]
	}
	return m
}

// roundLine rounds the vertices and drops consecutive repeats.
func roundLine(l []orb.Point) orb.LineString {
	out := make(orb.LineString, 0, len(l))
	for _, p := range l {
		q := orb.Point{math.Round(p[0]), math.Round(p[1])}
		if len(out) == 0 || out[len(out)-1] != q {
			out = append(out, q)
		}
	}
	return out
}

// roundPolygon rounds and orients a polygon; nil when its exterior ring
// collapsed. Holes that collapsed are dropped.
func roundPolygon(p orb.Polygon) orb.Polygon {
	var out orb.Polygon
	for i, r := range p {
		ring := orb.Ring(roundLine(r))
		if len(ring) > 1 && ring[0] == ring[len(ring)-1] {
			ring = ring[:len(ring)-1]
		}
		if len(ring) < 3 {
			if i == 0 {
				return nil
			}
			continue
		}
		ring = append(ring, ring[0])
		a := surveyorArea(ring)
		if a == 0 {
			if i == 0 {
				return nil
			}
			continue
		}
		if (i == 0) != (a > 0) {
			reverse(ring)
		}
		out = append(out, ring)
	}
	return out
}

// surveyorArea is twice the signed area of a closed ring by the surveyor's
// (shoelace) formula, in the ring's own coordinates.
func surveyorArea(r orb.Ring) float64 {
	var s float64
	for i := 0; i+1 < len(r); i++ {
		s += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return s
}

func reverse(r orb.Ring) {
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
}
