package crs

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The Clenshaw sums of TransverseMercator give Krüger's series as written
// term by term (Karney 2011, eqs. 9-11; the latitude found from the
// conformal latitude by bisection), to 10 nanometres, with and without an
// origin latitude.
func TestTransverseMercatorClenshawMatchesSeries(t *testing.T) {
	forward := func(tr TransverseMercator, lon, lat float64) (float64, float64) {
		lam := (lon - tr.lon0) * math.Pi / 180
		tauP := conformalTau(math.Tan(lat * math.Pi / 180))
		xiP := math.Atan2(tauP, math.Cos(lam))
		etaP := math.Asinh(math.Sin(lam) / math.Hypot(tauP, math.Cos(lam)))
		xi, eta := xiP, etaP
		for j := 1; j <= 6; j++ {
			f := float64(2 * j)
			xi += tm.alpha[j] * math.Sin(f*xiP) * math.Cosh(f*etaP)
			eta += tm.alpha[j] * math.Cos(f*xiP) * math.Sinh(f*etaP)
		}
		return tr.fe + tr.k0*tm.a1*eta, tr.fn + tr.k0*(tm.a1*xi-tr.y0)
	}
	inverse := func(tr TransverseMercator, x, y float64) (float64, float64) {
		xi := ((y-tr.fn)/tr.k0 + tr.y0) / tm.a1
		eta := (x - tr.fe) / tr.k0 / tm.a1
		xiP, etaP := xi, eta
		for j := 1; j <= 6; j++ {
			f := float64(2 * j)
			xiP -= tm.beta[j] * math.Sin(f*xi) * math.Cosh(f*eta)
			etaP -= tm.beta[j] * math.Cos(f*xi) * math.Sinh(f*eta)
		}
		tauP := math.Sin(xiP) / math.Hypot(math.Sinh(etaP), math.Cos(xiP))
		// bisection on the conformal tau, slow and sure
		lo, hi := math.Atan(tauP)-0.01, math.Atan(tauP)+0.01
		for range 200 {
			mid := (lo + hi) / 2
			if conformalTau(math.Tan(mid)) < tauP {
				lo = mid
			} else {
				hi = mid
			}
		}
		return tr.lon0 + math.Atan2(math.Sinh(etaP), math.Cos(xiP))*180/math.Pi, (lo + hi) / 2 * 180 / math.Pi
	}
	rng := rand.New(rand.NewPCG(9, 9))
	worst := 0.0
	for i := 0; i < 5000; i++ {
		lon0, lat0 := 102+rng.Float64()*7.5, 8.5+rng.Float64()*15
		tr := NewTransverseMercator(lon0, lat0, 1, 0, 0)
		if i%2 == 0 {
			tr = NewTransverseMercator(lon0, 0, 0.9999, 500000, 0)
		}
		lon, lat := lon0+rng.Float64()*4-2, lat0+rng.Float64()*4-2
		x, y := tr.Forward(lon, lat)
		if wx, wy := forward(tr, lon, lat); math.Hypot(x-wx, y-wy) > 1e-8 {
			t.Fatalf("forward (%v, %v): (%v, %v), series (%v, %v)", lon, lat, x, y, wx, wy)
		}
		gl, ga := tr.Inverse(x, y)
		wl, wa := inverse(tr, x, y)
		worst = max(worst, math.Abs(gl-wl)*111e3, math.Abs(ga-wa)*111e3)
		if math.Abs(gl-wl)*111e3 > 1e-8 || math.Abs(ga-wa)*111e3 > 1e-8 || math.Abs(gl-lon)*111e3 > 1e-8 || math.Abs(ga-lat)*111e3 > 1e-8 {
			t.Fatalf("inverse (%v, %v): (%v, %v), series (%v, %v), started from (%v, %v)", x, y, gl, ga, wl, wa, lon, lat)
		}
	}
	t.Logf("inverse within %.1e m of the series summed term by term", worst)
	// the origin maps to the false easting and northing
	tr := NewTransverseMercator(105.5, 21, 0.9999, 500000, 100)
	if x, y := tr.Forward(105.5, 21); math.Abs(x-500000) > 1e-9 || math.Abs(y-100) > 1e-9 {
		t.Fatalf("origin projects to (%v, %v)", x, y)
	}
}

// conformalTau returns tan of the conformal latitude for tau = tan(latitude),
// as Karney writes it (eq. 7), for the term-by-term series.
func conformalTau(tau float64) float64 {
	sigma := math.Sinh(tm.e * math.Atanh(tm.e*tau/math.Hypot(1, tau)))
	return tau*math.Hypot(1, sigma) - sigma*math.Hypot(1, tau)
}
