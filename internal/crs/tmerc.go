package crs

import "math"

// WGS84 ellipsoid. VN-2000 uses the same ellipsoid (EPSG:7030), so one set of
// constants serves both datums.
const (
	wgs84A = 6378137.0
	wgs84F = 1 / 298.257223563
)

// transverseMercator is the ellipsoidal transverse Mercator projection by
// Krüger's series carried to order n^6, in the form of Karney (2011),
// "Transverse Mercator with an accuracy of a few nanometers", J. Geodesy 85.
// PROJ's default tmerc ("exact", Poder/Engsager) evaluates the same series to
// the same order, so the two agree to nanometres within a few degrees of the
// central meridian; the oracle test holds this against PROJ.
//
// Coordinates: geographic longitude and latitude in degrees on the WGS84
// ellipsoid in, easting and northing in metres out (lat_0 = 0).
type transverseMercator struct {
	lon0, k0, fe, fn float64
	e, a1            float64    // first eccentricity; rectifying radius A
	alpha, beta      [7]float64 // Krüger coefficients, index 1..6
}

func newTransverseMercator(lon0, k0, fe, fn float64) *transverseMercator {
	f := wgs84F
	n := f / (2 - f)
	n2 := n * n
	n3, n4, n5, n6 := n2*n, n2*n2, n2*n2*n, n2*n2*n2
	t := &transverseMercator{lon0: lon0, k0: k0, fe: fe, fn: fn}
	t.e = math.Sqrt(f * (2 - f))
	t.a1 = wgs84A / (1 + n) * (1 + n2/4 + n4/64 + n6/256)
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
	return t
}

// conformalTau returns tan of the conformal latitude for tau = tan(latitude).
func (t *transverseMercator) conformalTau(tau float64) float64 {
	sigma := math.Sinh(t.e * math.Atanh(t.e*tau/math.Hypot(1, tau)))
	return tau*math.Hypot(1, sigma) - sigma*math.Hypot(1, tau)
}

// forward projects longitude, latitude (degrees) to easting, northing (metres).
func (t *transverseMercator) forward(lon, lat float64) (x, y float64) {
	lam := (lon - t.lon0) * math.Pi / 180
	phi := lat * math.Pi / 180
	tauP := t.conformalTau(math.Tan(phi))
	xiP := math.Atan2(tauP, math.Cos(lam))
	etaP := math.Asinh(math.Sin(lam) / math.Hypot(tauP, math.Cos(lam)))
	xi, eta := xiP, etaP
	for j := 1; j <= 6; j++ {
		fj := float64(2 * j)
		xi += t.alpha[j] * math.Sin(fj*xiP) * math.Cosh(fj*etaP)
		eta += t.alpha[j] * math.Cos(fj*xiP) * math.Sinh(fj*etaP)
	}
	return t.fe + t.k0*t.a1*eta, t.fn + t.k0*t.a1*xi
}

// inverse unprojects easting, northing (metres) to longitude, latitude (degrees).
func (t *transverseMercator) inverse(x, y float64) (lon, lat float64) {
	xi := (y - t.fn) / (t.k0 * t.a1)
	eta := (x - t.fe) / (t.k0 * t.a1)
	xiP, etaP := xi, eta
	for j := 1; j <= 6; j++ {
		fj := float64(2 * j)
		xiP -= t.beta[j] * math.Sin(fj*xi) * math.Cosh(fj*eta)
		etaP -= t.beta[j] * math.Cos(fj*xi) * math.Sinh(fj*eta)
	}
	tauP := math.Sin(xiP) / math.Hypot(math.Sinh(etaP), math.Cos(xiP))
	lam := math.Atan2(math.Sinh(etaP), math.Cos(xiP))
	// Newton's method for tau = tan(latitude) from the conformal tau'
	// (Karney 2011, eqs. 19-21); two or three steps reach machine precision.
	e2 := t.e * t.e
	tau := tauP
	for i := 0; i < 8; i++ {
		tp := t.conformalTau(tau)
		d := (tauP - tp) * (1 + (1-e2)*tau*tau) / ((1 - e2) * math.Hypot(1, tau) * math.Hypot(1, tp))
		tau += d
		if math.Abs(d) < 1e-15*math.Max(1, math.Abs(tau)) {
			break
		}
	}
	return t.lon0 + lam*180/math.Pi, math.Atan(tau) * 180 / math.Pi
}
