package check

import (
	"math"

	"github.com/paulmach/orb"
	"github.com/tidwall/geodesic"
)

// A border line's edges run up to 29 km. Its edges are geodesics on the
// WGS84 ellipsoid (as PostGIS's geography reads them), which bow away from
// the straight line in longitude and latitude by up to 3 m over such a
// length. So a line is never cut in lon/lat: its edges near a footprint are
// split along their geodesics into pieces of at most geodesicPieceM, whose
// ends lie on the geodesic and whose chords, in the footprint's plane, stay
// within millimetres of it; a buffer built from them has its rim within a
// centimetre of the true offset of the geodesic.

// geodesicPieceM is the longest piece a long edge is split into along its
// geodesic: over 1 km the geodesic departs from the chord in lon/lat (and
// in the footprint's plane) by under 4 mm.
const geodesicPieceM = 1000

// edgeBowFactor bounds how far, as a fraction of an edge's extent in
// degrees, its geodesic strays outside the edge's lon/lat box (1e-4 for
// the 29 km edges of the data: 2.9 m), with a margin of twenty times.
const edgeBowFactor = 2e-3

// geodesicNear returns the parts of the WGS84 line geometry g that can
// come within box (lon/lat): every edge whose geodesic may meet it, split
// along that geodesic into pieces of at most geodesicPieceM, keeping the
// pieces that meet box and joining consecutive ones into one line.
func geodesicNear(g orb.Geometry, box orb.Bound) orb.MultiLineString {
	var out orb.MultiLineString
	var run orb.LineString
	flush := func() {
		if len(run) > 1 {
			out = append(out, run)
		}
		run = nil
	}
	add := func(p orb.Point) {
		if len(run) == 0 || run[len(run)-1] != p {
			run = append(run, p)
		}
	}
	line := func(ls orb.LineString) {
		for i := 1; i < len(ls); i++ {
			a, b := ls[i-1], ls[i]
			if !segmentMeets(a, b, bowBox(a, b, box)) {
				flush()
				continue
			}
			pts := splitGeodesic(a, b, box)
			if len(pts) == 0 {
				flush()
				continue
			}
			if pts[0] != a {
				flush() // the kept pieces begin inside the edge
			}
			for _, p := range pts {
				add(p)
			}
			if pts[len(pts)-1] != b {
				flush()
			}
		}
		flush()
	}
	switch g := g.(type) {
	case orb.LineString:
		line(g)
	case orb.MultiLineString:
		for _, l := range g {
			line(l)
		}
	}
	return out
}

// bowBox is box grown by how far the geodesic from a to b may stray out of
// their lon/lat box, so that testing the chord's box against it never
// misses the geodesic.
func bowBox(a, b orb.Point, box orb.Bound) orb.Bound {
	m := edgeBowFactor*max(math.Abs(b[0]-a[0]), math.Abs(b[1]-a[1])) + 1e-9
	return orb.Bound{Min: orb.Point{box.Min[0] - m, box.Min[1] - m}, Max: orb.Point{box.Max[0] + m, box.Max[1] + m}}
}

// splitGeodesic returns the points, along the geodesic from a to b, of its
// pieces (of at most geodesicPieceM) that may meet box, first to last; nil
// when none does. Which pieces is judged on their chords in lon/lat grown
// by their bow; only the points kept are computed on the geodesic.
func splitGeodesic(a, b orb.Point, box orb.Bound) []orb.Point {
	if short(a, b) {
		return []orb.Point{a, b}
	}
	var s12, azi1 float64
	geodesic.WGS84.Inverse(a[1], a[0], b[1], b[0], &s12, &azi1, nil)
	n := int(math.Ceil(s12 / geodesicPieceM))
	if n <= 1 {
		return []orb.Point{a, b}
	}
	// the chord's points stand in for the geodesic's to choose pieces (they
	// differ by less than the bow margin)
	chord := func(k int) orb.Point {
		t := float64(k) / float64(n)
		return orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}
	}
	first, last := -1, -1
	for k := range n {
		p, q := chord(k), chord(k+1)
		if segmentMeets(p, q, bowBox(a, b, box)) {
			if first < 0 {
				first = k
			}
			last = k
		}
	}
	if first < 0 {
		return nil
	}
	out := make([]orb.Point, 0, last-first+2)
	for k := first; k <= last+1; k++ {
		switch k {
		case 0:
			out = append(out, a)
		case n:
			out = append(out, b)
		default:
			var lat, lon float64
			geodesic.WGS84.Direct(a[1], a[0], azi1, s12*float64(k)/float64(n), &lat, &lon, nil)
			out = append(out, orb.Point{lon, lat})
		}
	}
	return out
}

// short reports, without a geodesic, that edge ab is no longer than
// geodesicPieceM: its extent in latitude and in longitude (at the lower
// latitude of the two) each under 0.7 of it (a degree of latitude is at
// most 111,694 m, of longitude at most 111,700·cos(lat) m, longest at the lower
// latitude).
func short(a, b orb.Point) bool {
	const m = 0.7 * geodesicPieceM
	lat := min(math.Abs(a[1]), math.Abs(b[1]))
	return math.Abs(b[1]-a[1])*111694 < m && math.Abs(b[0]-a[0])*111700*math.Cos(lat*math.Pi/180) < m
}

// densifyGeodesic returns ring or line pts with every edge longer than
// geodesicPieceM split along its geodesic into equal pieces of at most
// that length (a new slice; pts is not changed).
func densifyGeodesic(pts []orb.Point) []orb.Point {
	if len(pts) == 0 {
		return nil
	}
	out := make([]orb.Point, 0, len(pts))
	out = append(out, pts[0])
	for i := 1; i < len(pts); i++ {
		a, b := pts[i-1], pts[i]
		if short(a, b) {
			out = append(out, b)
			continue
		}
		var s12, azi1 float64
		geodesic.WGS84.Inverse(a[1], a[0], b[1], b[0], &s12, &azi1, nil)
		n := int(math.Ceil(s12 / geodesicPieceM))
		for k := 1; k < n; k++ {
			var lat, lon float64
			geodesic.WGS84.Direct(a[1], a[0], azi1, s12*float64(k)/float64(n), &lat, &lon, nil)
			out = append(out, orb.Point{lon, lat})
		}
		out = append(out, b)
	}
	return out
}
