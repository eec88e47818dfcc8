package crs

import "math"

// WGS84 ellipsoid. VN-2000 uses the same ellipsoid (EPSG:7030), so one set of
// constants serves both datums.
const (
	WGS84A = 6378137.0         // semi-major axis, metres
	WGS84F = 1 / 298.257223563 // flattening
)

// TransverseMercator is the ellipsoidal transverse Mercator projection of
// the WGS84 ellipsoid by Krüger's series carried to order n^6, in the form
// of Karney (2011), "Transverse Mercator with an accuracy of a few
// nanometers", J. Geodesy 85. PROJ's default tmerc ("exact",
// Poder/Engsager) evaluates the same series to the same order, so the two
// agree to nanometres within a few degrees of the central meridian; the
// oracle tests hold this against PROJ. It is zoneplan's one transverse
// Mercator: the VN-2000 and UTM CRSs of this package and the checker's
// local planes (package check) are all this type.
//
// Coordinates: geographic longitude and latitude in degrees on the WGS84
// ellipsoid in, easting and northing in metres out. The series are summed
// by Clenshaw's recurrence in complex numbers (as GeographicLib does); the
// inverse's last step, the latitude from the conformal latitude, is its
// series to order n^6 (Karney 2011, eq. 36 carried further), summed the
// same way.
type TransverseMercator struct {
	lon0, lat0, k0, fe, fn float64
	y0                     float64 // northing of (lon0, lat0) before k0 and fn: the origin's
}

// tmSeries are the constants of the WGS84 transverse Mercator.
type tmSeries struct {
	e, a1       float64    // first eccentricity; rectifying radius A
	alpha, beta [7]float64 // Krüger coefficients, index 1..6
	delta       [7]float64 // latitude from conformal latitude, index 1..6
}

// tm is computed once: the series of one ellipsoid.
var tm = func() tmSeries {
	f := WGS84F
	n := f / (2 - f)
	n2 := n * n
	n3, n4, n5, n6 := n2*n, n2*n2, n2*n2*n, n2*n2*n2
	var t tmSeries
	t.e = math.Sqrt(f * (2 - f))
	t.a1 = WGS84A / (1 + n) * (1 + n2/4 + n4/64 + n6/256)
	t.alpha = [7]float64{0,
		n/2 - 2*n2/3 + 5*n3/16 + 41*n4/180 - 127*n5/288 + 7891*n6/37800,
		13*n2/48 - 3*n3/5 + 557*n4/1440 + 281*n5/630 - 1983433*n6/1935360,
		61*n3/240 - 103*n4/140 + 15061*n5/26880 + 167603*n6/181440,
		49561*n4/161280 - 179*n5/168 + 6601661*n6/7257600,
		34729*n5/80640 - 3418889*n6/1995840,
		212378941 * n6 / 319334400,
	}
	t.beta = [7]float64{0,
		n/2 - 2*n2/3 + 37*n3/96 - n4/360 - 81*n5/512 + 96199*n6/604800,
		n2/48 + n3/15 - 437*n4/1440 + 46*n5/105 - 1118711*n6/3870720,
		17*n3/480 - 37*n4/840 - 209*n5/4480 + 5569*n6/90720,
		4397*n4/161280 - 11*n5/504 - 830251*n6/7257600,
		4583*n5/161280 - 108847*n6/3991680,
		20648693 * n6 / 638668800,
	}
	t.delta = [7]float64{0,
		2*n - 2*n2/3 - 2*n3 + 116*n4/45 + 26*n5/45 - 2854*n6/675,
		7*n2/3 - 8*n3/5 - 227*n4/45 + 2704*n5/315 + 2323*n6/945,
		56*n3/15 - 136*n4/35 - 1262*n5/105 + 73814*n6/2835,
		4279*n4/630 - 332*n5/35 - 399572*n6/14175,
		4174*n5/315 - 144838*n6/6237,
		601676 * n6 / 22275,
	}
	return t
}()

// NewTransverseMercator returns the projection with central meridian lon0
// and origin latitude lat0 (degrees), scale k0 on the central meridian and
// false easting and northing fe, fn (metres): PROJ's +proj=tmerc +lon_0
// +lat_0 +k +x_0 +y_0 on the WGS84 ellipsoid.
func NewTransverseMercator(lon0, lat0, k0, fe, fn float64) TransverseMercator {
	t := TransverseMercator{lon0: lon0, lat0: lat0, k0: k0, fe: fe, fn: fn}
	if lat0 != 0 {
		_, t.y0 = t.raw(lon0, lat0)
	}
	return t
}

// EccentricitySquared is e² of the WGS84 ellipsoid.
func EccentricitySquared() float64 { return tm.e * tm.e }

// CentralMeridian returns lon0 and k0.
func (t TransverseMercator) CentralMeridian() (lon0, k0 float64) { return t.lon0, t.k0 }

// Origin returns lat0, the false easting and the false northing.
func (t TransverseMercator) Origin() (lat0, fe, fn float64) { return t.lat0, t.fe, t.fn }

// raw is the projection on the unit of A (x = η, y = ξ after Krüger's
// sums), times A: no scale, no false origin. The conformal latitude's
// tangent and the hyperbolic terms come from one exp and one sqrt each,
// and the series by one complex sine (Clenshaw), not one per term: this
// runs for every vertex a check looks at.
func (t TransverseMercator) raw(lon, lat float64) (x, y float64) {
	phi := lat * math.Pi / 180
	lam := (lon - t.lon0) * math.Pi / 180
	s := math.Sin(phi)
	// tan of the conformal latitude: sinh(atanh(s) - e·atanh(e·s))
	ex := math.Sqrt((1+s)/(1-s)) * math.Exp(-tm.e*math.Atanh(tm.e*s))
	tau := (ex - 1/ex) / 2
	sl, cl := math.Sincos(lam)
	h := math.Hypot(tau, cl)
	xi := math.Atan2(tau, cl)
	u := sl / math.Sqrt(1+tau*tau) // tanh η
	e2eta := (1 + u) / (1 - u)     // exp(2η)
	eta := math.Log(e2eta) / 2
	s1, c1 := tau/h, cl/h // sin ξ, cos ξ
	z := krueger(&tm.alpha, xi, eta, 2*s1*c1, c1*c1-s1*s1, e2eta, 1)
	return tm.a1 * imag(z), tm.a1 * real(z)
}

// krueger is ζ + sign·Σ c[j]·sin(2jζ), ζ = xi + i·eta, by Clenshaw's
// recurrence: b_j = c[j] + 2cos(2ζ)·b_{j+1} - b_{j+2}, the sum b_1·sin(2ζ).
// s2, c2 are sin 2ξ and cos 2ξ, e2 is exp(2η).
func krueger(c *[7]float64, xi, eta, s2, c2, e2, sign float64) complex128 {
	sh, ch := (e2-1/e2)/2, (e2+1/e2)/2
	sin2 := complex(s2*ch, c2*sh)
	cos2x2 := complex(2*c2*ch, -2*s2*sh)
	var b1, b2 complex128
	for j := 6; j >= 1; j-- {
		b1, b2 = complex(c[j], 0)+cos2x2*b1-b2, b1
	}
	return complex(xi, eta) + complex(sign, 0)*b1*sin2
}

// Forward projects longitude, latitude (degrees) to easting, northing
// (metres).
func (t TransverseMercator) Forward(lon, lat float64) (x, y float64) {
	x, y = t.raw(lon, lat)
	return t.fe + t.k0*x, t.fn + t.k0*(y-t.y0)
}

// Inverse unprojects easting, northing (metres) to longitude, latitude
// (degrees).
func (t TransverseMercator) Inverse(x, y float64) (lon, lat float64) {
	xi := ((y-t.fn)/t.k0 + t.y0) / tm.a1
	eta := (x - t.fe) / t.k0 / tm.a1
	s2, c2 := math.Sincos(2 * xi)
	z := krueger(&tm.beta, xi, eta, s2, c2, math.Exp(2*eta), -1)
	xiP, etaP := real(z), imag(z)
	sxp, cxp := math.Sincos(xiP)
	shp := math.Sinh(etaP)
	lam := math.Atan2(shp, cxp)
	// the conformal latitude χ, then φ = χ + Σ δ_j sin(2jχ) by the real
	// Clenshaw recurrence (to order n^6 the series' error is under 1e-19)
	chi := math.Atan(sxp / math.Hypot(shp, cxp))
	s2, c2 = math.Sincos(2 * chi)
	var b1, b2 float64
	for j := 6; j >= 1; j-- {
		b1, b2 = tm.delta[j]+2*c2*b1-b2, b1
	}
	return t.lon0 + lam*180/math.Pi, (chi + b1*s2) * 180 / math.Pi
}
