package crs

import "math"

// helmert is a 7-parameter similarity transformation between geocentric
// frames, stored in the coordinate-frame convention (EPSG method 9607) as
// Decision 05/2007/QĐ-BTNMT publishes it (EPSG:6960):
//
//	X_wgs84 = T + (1 + s) · R · X_vn2000
//	R = | 1   rz -ry |
//	    |-rz  1   rx |
//	    | ry -rx  1  |
//
// with rx, ry, rz in radians (small-angle form, as PROJ's helmert without
// +exact). The same matrix in the position-vector convention (EPSG 1033, and
// proj4's +towgs84) is written with the three rotation signs flipped, which
// is why DOMAIN.md's +towgs84 reads +0.00928836, -0.01975479, +0.00427372.
// The inverse multiplies by the transpose, as PROJ does; the difference from
// the exact inverse is below a nanometre for rotations of 1e-7 rad.
type helmert struct {
	tx, ty, tz float64       // metres
	r          [3][3]float64 // rotation matrix as above
	scale      float64       // 1 + s
}

const arcsec = math.Pi / (180 * 3600)

// vn2000ToWGS84 is EPSG:6960, VN-2000 to WGS 84 (2), used for all of Vietnam.
// Coordinate frame: dX -191.90441429 m, dY -39.30318279 m, dZ -111.45032835 m,
// rX -0.00928836", rY +0.01975479", rZ -0.00427372", dS +0.252906278 ppm.
func vn2000ToWGS84() *helmert {
	rx, ry, rz := -0.00928836*arcsec, 0.01975479*arcsec, -0.00427372*arcsec
	return &helmert{
		tx: -191.90441429, ty: -39.30318279, tz: -111.45032835,
		r: [3][3]float64{
			{1, rz, -ry},
			{-rz, 1, rx},
			{ry, -rx, 1},
		},
		scale: 1 + 0.252906278e-6,
	}
}

// forward maps geocentric VN-2000 to geocentric WGS84 (metres).
func (h *helmert) forward(x, y, z float64) (float64, float64, float64) {
	r, s := &h.r, h.scale
	return h.tx + s*(r[0][0]*x+r[0][1]*y+r[0][2]*z),
		h.ty + s*(r[1][0]*x+r[1][1]*y+r[1][2]*z),
		h.tz + s*(r[2][0]*x+r[2][1]*y+r[2][2]*z)
}

// inverse maps geocentric WGS84 to geocentric VN-2000 (metres).
func (h *helmert) inverse(x, y, z float64) (float64, float64, float64) {
	r, s := &h.r, h.scale
	x, y, z = (x-h.tx)/s, (y-h.ty)/s, (z-h.tz)/s
	return r[0][0]*x + r[1][0]*y + r[2][0]*z,
		r[0][1]*x + r[1][1]*y + r[2][1]*z,
		r[0][2]*x + r[1][2]*y + r[2][2]*z
}

// geocentric converts longitude, latitude (degrees) and ellipsoidal height
// (metres) on the WGS84 ellipsoid to geocentric X, Y, Z (metres).
func geocentric(lon, lat, h float64) (x, y, z float64) {
	e2 := WGS84F * (2 - WGS84F)
	lam, phi := lon*math.Pi/180, lat*math.Pi/180
	sinPhi, cosPhi := math.Sincos(phi)
	n := WGS84A / math.Sqrt(1-e2*sinPhi*sinPhi)
	sinLam, cosLam := math.Sincos(lam)
	return (n + h) * cosPhi * cosLam, (n + h) * cosPhi * sinLam, (n*(1-e2) + h) * sinPhi
}

// geodetic converts geocentric X, Y, Z (metres) to longitude, latitude
// (degrees) and height (metres) on the WGS84 ellipsoid, by fixed-point
// iteration on the latitude; near the Earth's surface it converges to below
// 1e-14 rad in four or five steps.
func geodetic(x, y, z float64) (lon, lat, h float64) {
	e2 := WGS84F * (2 - WGS84F)
	p := math.Hypot(x, y)
	lam := math.Atan2(y, x)
	phi := math.Atan2(z, p*(1-e2))
	for i := 0; i < 10; i++ {
		sinPhi := math.Sin(phi)
		n := WGS84A / math.Sqrt(1-e2*sinPhi*sinPhi)
		h = p/math.Cos(phi) - n
		next := math.Atan2(z, p*(1-e2*n/(n+h)))
		if math.Abs(next-phi) < 1e-15 {
			phi = next
			break
		}
		phi = next
	}
	sinPhi := math.Sin(phi)
	n := WGS84A / math.Sqrt(1-e2*sinPhi*sinPhi)
	h = p/math.Cos(phi) - n
	return lam * 180 / math.Pi, phi * 180 / math.Pi, h
}

// geographicForward shifts a VN-2000 longitude, latitude (degrees, on
// the ellipsoid, height taken as 0 as PROJ does for 2D points) to WGS84.
func (h *helmert) geographicForward(lon, lat float64) (float64, float64) {
	x, y, z := geocentric(lon, lat, 0)
	x, y, z = h.forward(x, y, z)
	lon, lat, _ = geodetic(x, y, z)
	return lon, lat
}

// geographicInverse shifts a WGS84 longitude, latitude (degrees, height 0)
// to VN-2000.
func (h *helmert) geographicInverse(lon, lat float64) (float64, float64) {
	x, y, z := geocentric(lon, lat, 0)
	x, y, z = h.inverse(x, y, z)
	lon, lat, _ = geodetic(x, y, z)
	return lon, lat
}
