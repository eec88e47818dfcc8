package check

import (
	"math"
	"strconv"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/project"
)

// localTM is a transverse Mercator projection of the WGS84 ellipsoid with
// scale 1 on its central meridian, which runs through the footprint's
// centre, and its origin at that centre: x east, y north, in metres.
//
// Why this projection: distances and areas are needed in metres near one
// footprint. The scale error of a TM grows with the square of the distance
// from the central meridian, k-1 ≈ x²/2R²: 1.2e-6 at 10 km, 3e-5 at 50 km,
// far inside the 0.1% the checker promises (plain UTM is up to 4e-4 off;
// spherical formulas 4e-3). Straight lines in this plane stay within
// millimetres of geodesics over the lengths compared here.
//
// The series are Krüger's to the fourth order in n (Karney 2011), accurate
// to well under a millimetre within a few degrees of the central meridian.
type localTM struct {
	lon0, lat0 float64 // centre, degrees
	y0         float64 // northing of the centre on the central meridian
}

// WGS84 ellipsoid.
const (
	wgs84A = 6378137.0
	wgs84F = 1 / 298.257223563
)

// tmConst are the series constants of the WGS84 transverse Mercator.
type tmConst struct {
	e, a        float64 // eccentricity; rectifying radius A
	alpha, beta [5]float64
	delta       [5]float64
}

var tm = func() tmConst {
	n := wgs84F / (2 - wgs84F)
	n2, n3, n4 := n*n, n*n*n, n*n*n*n
	var c tmConst
	c.e = math.Sqrt(wgs84F * (2 - wgs84F))
	c.a = wgs84A / (1 + n) * (1 + n2/4 + n4/64)
	c.alpha = [5]float64{0,
		n/2 - 2*n2/3 + 5*n3/16 + 41*n4/180,
		13*n2/48 - 3*n3/5 + 557*n4/1440,
		61*n3/240 - 103*n4/140,
		49561 * n4 / 161280}
	c.beta = [5]float64{0,
		n/2 - 2*n2/3 + 37*n3/96 - n4/360,
		n2/48 + n3/15 - 437*n4/1440,
		17*n3/480 - 37*n4/840,
		4397 * n4 / 161280}
	c.delta = [5]float64{0,
		2*n - 2*n2/3 - 2*n3 + 116*n4/45,
		7*n2/3 - 8*n3/5 - 227*n4/45,
		56*n3/15 - 136*n4/35,
		4279 * n4 / 630}
	return c
}()

func newLocalTM(center orb.Point) localTM {
	p := localTM{lon0: center[0], lat0: center[1]}
	_, p.y0 = p.raw(center)
	return p
}

// raw projects without the false northing. Krüger's series in ζ = ξ + iη
// are summed by Clenshaw's recurrence in complex numbers (as GeographicLib
// does): one sine and one hyperbolic pair, not one per term; and those
// come from the conformal coordinates' own terms rather than new
// transcendental calls (this runs for every vertex a check looks at).
func (p localTM) raw(pt orb.Point) (x, y float64) {
	phi := pt[1] * math.Pi / 180
	lam := (pt[0] - p.lon0) * math.Pi / 180
	s := math.Sin(phi)
	// t = sinh(atanh(s) - e·atanh(e·s)), tan of the conformal latitude
	ex := math.Sqrt((1+s)/(1-s)) * math.Exp(-tm.e*math.Atanh(tm.e*s))
	t := (ex - 1/ex) / 2
	sl, cl := math.Sincos(lam)
	h := math.Hypot(t, cl)
	xi := math.Atan2(t, cl)
	u := sl / math.Sqrt(1+t*t) // tanh η
	e2eta := (1 + u) / (1 - u) // exp(2η)
	eta := math.Log(e2eta) / 2
	s1, c1 := t/h, cl/h // sin ξ, cos ξ
	z := krueger(&tm.alpha, xi, eta, 2*s1*c1, c1*c1-s1*s1, e2eta, 1)
	return tm.a * imag(z), tm.a * real(z)
}

// krueger is ζ + sign·Σ c[j]·sin(2jζ), ζ = xi + i·eta, by Clenshaw's
// recurrence: b_j = c[j] + 2cos(2ζ)·b_{j+1} - b_{j+2}, the sum b_1·sin(2ζ).
// s2, c2 are sin 2ξ and cos 2ξ, e2 is exp(2η).
func krueger(c *[5]float64, xi, eta, s2, c2, e2, sign float64) complex128 {
	sh, ch := (e2-1/e2)/2, (e2+1/e2)/2
	sin2 := complex(s2*ch, c2*sh)
	cos2x2 := complex(2*c2*ch, -2*s2*sh)
	var b1, b2 complex128
	for j := 4; j >= 1; j-- {
		b1, b2 = complex(c[j], 0)+cos2x2*b1-b2, b1
	}
	return complex(xi, eta) + complex(sign, 0)*b1*sin2
}

// Forward projects a WGS84 lon/lat point to the plane, metres.
func (p localTM) Forward(pt orb.Point) orb.Point {
	x, y := p.raw(pt)
	return orb.Point{x, y - p.y0}
}

// Inverse returns the WGS84 lon/lat of a point of the plane.
func (p localTM) Inverse(q orb.Point) orb.Point {
	xi, eta := (q[1]+p.y0)/tm.a, q[0]/tm.a
	s2, c2 := math.Sincos(2 * xi)
	z := krueger(&tm.beta, xi, eta, s2, c2, math.Exp(2*eta), -1)
	xp, ep := real(z), imag(z)
	sxp, cxp := math.Sincos(xp)
	eep := math.Exp(ep)
	shp, chp := (eep-1/eep)/2, (eep+1/eep)/2
	chi := math.Asin(sxp / chp)
	// φ = χ + Σ δ_j sin(2jχ), by the real Clenshaw recurrence
	s2, c2 = math.Sincos(2 * chi)
	var b1, b2 float64
	for j := 4; j >= 1; j-- {
		b1, b2 = tm.delta[j]+2*c2*b1-b2, b1
	}
	phi := chi + b1*s2
	lam := math.Atan2(shp, cxp)
	return orb.Point{p.lon0 + lam*180/math.Pi, phi * 180 / math.Pi}
}

// measure is the area and length on the ellipsoid of a geometry given by
// its image xy in the plane. The projection's point scale is
// k = 1 + x²/2R² + O(x⁴/R⁴), x the distance from the central meridian and
// R² = ρν at the centre; lengths on the ellipsoid are ∫ ds/k and areas
// ∬ dA/k², so per edge (x1,y1)-(x2,y2), with s = x1² + x1·x2 + x2²:
//
//	length = |edge| (1 - s/6R²)
//	area   = Σ (x1·y2 - x2·y1)/2 · (1 - s/6R²)   (the shoelace, weighted)
//
// exact for straight edges in the plane; geodesics bend from them by
// millimetres over the lengths of a footprint, so this agrees with
// Karney's geodesic polygon area and perimeter to 1e-6 or better within 50 km
// of the centre (TestMeasureAgainstGeodesics), at a tenth of the cost.
func (p localTM) measure(xy orb.Geometry) FootprintStats {
	sin := math.Sin(p.lat0 * math.Pi / 180)
	w2 := 1 - tm.e*tm.e*sin*sin
	r2 := wgs84A * wgs84A * (1 - tm.e*tm.e) / (w2 * w2) // ρν
	var st FootprintStats
	path := func(pts []orb.Point) (area, length float64) {
		for i := 1; i < len(pts); i++ {
			a, b := pts[i-1], pts[i]
			corr := 1 - (a[0]*a[0]+a[0]*b[0]+b[0]*b[0])/(6*r2)
			length += dist(a, b) * corr
			area += (a[0]*b[1] - b[0]*a[1]) / 2 * corr
		}
		return area, length
	}
	poly := func(pg orb.Polygon) {
		for i, r := range pg {
			a, l := path(r)
			if i == 0 {
				st.AreaM2 += math.Abs(a)
			} else {
				st.AreaM2 -= math.Abs(a)
			}
			st.LengthM += l
		}
	}
	switch g := xy.(type) {
	case orb.LineString:
		_, st.LengthM = path(g)
	case orb.MultiLineString:
		for _, l := range g {
			_, n := path(l)
			st.LengthM += n
		}
	case orb.Polygon:
		poly(g)
	case orb.MultiPolygon:
		for _, pg := range g {
			poly(pg)
		}
	}
	st.AreaM2 = round2(st.AreaM2)
	st.LengthM = round2(st.LengthM)
	return st
}

// Proj4 is the PROJ definition of the same projection, for comparing with
// PostGIS (ST_Transform(geom, text)).
func (p localTM) Proj4() string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	return "+proj=tmerc +lat_0=" + f(p.lat0) + " +lon_0=" + f(p.lon0) + " +k=1 +x_0=0 +y_0=0 +ellps=WGS84 +units=m +no_defs"
}

// project maps every vertex of a WGS84 geometry to the plane (a new
// geometry; g is not changed).
func (p localTM) project(g orb.Geometry) orb.Geometry {
	return project.Geometry(orb.Clone(g), p.Forward)
}

// unproject maps a planar geometry back to WGS84 lon/lat (a new geometry).
func (p localTM) unproject(g orb.Geometry) orb.Geometry {
	return project.Geometry(orb.Clone(g), p.Inverse)
}
