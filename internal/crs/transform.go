package crs

import (
	"fmt"
	"math"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// webMercatorRadius is the sphere radius of EPSG:3857 (metres).
const webMercatorRadius = 6378137.0

// toGeographic converts c's coordinates to longitude, latitude on c's own
// datum, without checks.
func (c *CRS) toGeographic(p orb.Point) orb.Point {
	switch c.method {
	case methodTransverseMercator:
		lon, lat := c.tm.Inverse(p[0], p[1])
		return orb.Point{lon, lat}
	case methodWebMercator:
		return orb.Point{p[0] / webMercatorRadius * 180 / math.Pi,
			(2*math.Atan(math.Exp(p[1]/webMercatorRadius)) - math.Pi/2) * 180 / math.Pi}
	}
	return p
}

// fromGeographic converts longitude, latitude on c's own datum to c's
// coordinates, without checks.
func (c *CRS) fromGeographic(p orb.Point) orb.Point {
	switch c.method {
	case methodTransverseMercator:
		x, y := c.tm.Forward(p[0], p[1])
		return orb.Point{x, y}
	case methodWebMercator:
		return orb.Point{p[0] * math.Pi / 180 * webMercatorRadius,
			webMercatorRadius * math.Log(math.Tan(math.Pi/4+p[1]*math.Pi/360))}
	}
	return p
}

// toWGS84 converts without checks.
func (c *CRS) toWGS84(p orb.Point) orb.Point {
	g := c.toGeographic(p)
	if c.vn2000 {
		lon, lat := vn2000ToWGS84().geographicForward(g[0], g[1])
		g = orb.Point{lon, lat}
	}
	return g
}

// ToWGS84 converts one point in c (east first: lon/lat degrees or
// easting/northing metres) to WGS84 longitude, latitude (degrees).
//
// It refuses, with a zone.Error CodeInvalid, a point that is plainly not in
// c: not a number, outside the CRS's valid range, or landing more than
// PlausibilityMargin degrees outside c's area of use. The message guesses
// the likely mistake: degrees given as metres (or metres as degrees),
// northing and easting swapped (Vietnamese surveys write X for northing), or
// latitude and longitude swapped.
func (c *CRS) ToWGS84(p orb.Point) (orb.Point, error) {
	w, reason := c.check(p)
	if reason != "" {
		return orb.Point{}, zone.Errorf(zone.CodeInvalid, "%s", reason)
	}
	return w, nil
}

// FromWGS84 converts WGS84 longitude, latitude (degrees) to c (east first).
// It refuses coordinates that are not a valid longitude and latitude, and,
// for a transverse Mercator CRS, points more than 30 degrees of longitude
// from the central meridian, where the projection is meaningless. Points
// outside c's area of use but within that are converted: exports of a whole
// layer in one zone are legitimate, if distorted.
func (c *CRS) FromWGS84(p orb.Point) (orb.Point, error) {
	if !finite(p) || p[0] < -180 || p[0] > 180 || p[1] < -90 || p[1] > 90 {
		return orb.Point{}, zone.Errorf(zone.CodeInvalid, "[%g, %g] is not a WGS84 longitude, latitude", p[0], p[1])
	}
	if lon0, _, ok := c.CentralMeridian(); ok && math.Abs(p[0]-lon0) > 30 {
		return orb.Point{}, zone.Errorf(zone.CodeInvalid, "[%g, %g] is %.0f degrees of longitude from the central meridian of %s: too far to project", p[0], p[1], math.Abs(p[0]-lon0), c.Code)
	}
	if c.method == methodWebMercator && math.Abs(p[1]) > 89.5 {
		return orb.Point{}, zone.Errorf(zone.CodeInvalid, "latitude %g is too close to a pole for Web Mercator", p[1])
	}
	g := p
	if c.vn2000 {
		lon, lat := vn2000ToWGS84().geographicInverse(p[0], p[1])
		g = orb.Point{lon, lat}
	}
	return c.fromGeographic(g), nil
}

func finite(p orb.Point) bool {
	return !math.IsNaN(p[0]) && !math.IsNaN(p[1]) && !math.IsInf(p[0], 0) && !math.IsInf(p[1], 0)
}

// plausibleBounds is the area of use widened by PlausibilityMargin.
func (c *CRS) plausibleBounds() orb.Bound {
	b := c.Bounds.Pad(PlausibilityMargin)
	b.Min[0], b.Min[1] = math.Max(b.Min[0], -180), math.Max(b.Min[1], -90)
	b.Max[0], b.Max[1] = math.Min(b.Max[0], 180), math.Min(b.Max[1], 90)
	return b
}

// Plausible reports why p, given in c, is plainly not a coordinate of c, or
// "" when it may be. See ToWGS84.
func (c *CRS) Plausible(p orb.Point) string {
	_, reason := c.check(p)
	return reason
}

// check converts p to WGS84 and says why p is not plausibly in c, or "".
func (c *CRS) check(p orb.Point) (orb.Point, string) {
	w, reason := c.checkReason(p)
	if reason != "" {
		return orb.Point{}, reason
	}
	return w, ""
}

func (c *CRS) checkReason(p orb.Point) (orb.Point, string) {
	if !finite(p) {
		return p, fmt.Sprintf("coordinate [%g, %g] is not a number", p[0], p[1])
	}
	inDegreeRange := math.Abs(p[0]) <= 180 && math.Abs(p[1]) <= 90
	area := c.plausibleBounds()
	if c.Kind == Geographic {
		if !inDegreeRange {
			if math.Abs(p[1]) <= 180 && math.Abs(p[0]) <= 90 {
				return p, fmt.Sprintf("[%g, %g] is not a longitude, latitude in %s: latitude and longitude look swapped (GeoJSON and this API write longitude first)", p[0], p[1], c.Code)
			}
			return p, fmt.Sprintf("[%g, %g] is not a longitude, latitude in %s: it looks like projected metres (a VN-2000 TM-3 or UTM zone?), not degrees", p[0], p[1], c.Code)
		}
		w := c.toWGS84(p)
		if !area.Contains(w) {
			if area.Contains(orb.Point{p[1], p[0]}) {
				return p, fmt.Sprintf("[%g, %g] is outside the area of use of %s (%s): latitude and longitude look swapped (longitude comes first)", p[0], p[1], c.Code, c.Area)
			}
			return p, fmt.Sprintf("[%g, %g] is outside the area of use of %s (%s)", p[0], p[1], c.Code, c.Area)
		}
		return w, ""
	}
	// Projected, metres. Degrees read as metres land within 200 m of the
	// equator, far outside any area of use here (for Web Mercator, in the
	// Gulf of Guinea): name the mistake rather than the place.
	if inDegreeRange {
		return p, fmt.Sprintf("[%g, %g] looks like longitude, latitude degrees, not %s metres", p[0], p[1], c.Code)
	}
	w := c.toWGS84(p)
	if area.Contains(w) {
		return w, ""
	}
	what := fmt.Sprintf("[%g, %g] (easting, northing in metres) is outside the area of use of %s (%s)", p[0], p[1], c.Code, c.Area)
	if c.method == methodTransverseMercator && area.Contains(c.toWGS84(orb.Point{p[1], p[0]})) {
		return p, what + ": X and Y look swapped: Vietnamese surveys write X as the northing and Y as the easting"
	}
	if c.vn2000 && c.method == methodTransverseMercator {
		if finite(w) && vietnamBounds().Pad(PlausibilityMargin).Contains(w) {
			return p, what + fmt.Sprintf(": it lands at %.4f, %.4f in Vietnam, so the zone (central meridian) may be wrong", w[1], w[0])
		}
	}
	return p, what
}
