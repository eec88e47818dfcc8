package index

import (
	"math"

	"github.com/paulmach/orb"
)

// box32 is a WGS84 box (degrees) in float32, rounded outward so it always
// contains the float64 box it came from. Near longitude 105 a float32 step
// is about 7.6e-6 degrees (under a metre).
type box32 struct{ min, max [2]float32 }

// outward returns the smallest float32 box containing b.
func outward(b orb.Bound) box32 {
	return box32{
		min: [2]float32{down32(b.Min[0]), down32(b.Min[1])},
		max: [2]float32{up32(b.Max[0]), up32(b.Max[1])},
	}
}

// down32 is the largest float32 not above x.
func down32(x float64) float32 {
	f := float32(x)
	if float64(f) > x {
		f = math.Nextafter32(f, float32(math.Inf(-1)))
	}
	return f
}

// up32 is the smallest float32 not below x.
func up32(x float64) float32 {
	f := float32(x)
	if float64(f) < x {
		f = math.Nextafter32(f, float32(math.Inf(1)))
	}
	return f
}

// surelyIntersects reports whether the float64 box a stored box r was
// rounded from certainly intersects q (touching counts). The true maximum
// lies in (prev(r.max), r.max] and the true minimum in [r.min, next(r.min)),
// so only a query edge within one float32 step of the item's edge leaves
// doubt; the caller then tests the exact box.
func surelyIntersects(r box32, q orb.Bound) bool {
	for i := 0; i < 2; i++ {
		if float64(math.Nextafter32(r.max[i], float32(math.Inf(-1)))) < q.Min[i] {
			return false
		}
		if float64(math.Nextafter32(r.min[i], float32(math.Inf(1)))) > q.Max[i] {
			return false
		}
	}
	return true
}

// within reports whether r lies inside q (its edges may touch q's). r is
// rounded outward from the true box, so the true box is inside too.
func within(r box32, q orb.Bound) bool {
	return float64(r.min[0]) >= q.Min[0] && float64(r.min[1]) >= q.Min[1] &&
		float64(r.max[0]) <= q.Max[0] && float64(r.max[1]) <= q.Max[1]
}

// intersects reports whether two float64 boxes share at least one point
// (touching counts).
func intersects(a, b orb.Bound) bool {
	return a.Min[0] <= b.Max[0] && a.Max[0] >= b.Min[0] &&
		a.Min[1] <= b.Max[1] && a.Max[1] >= b.Min[1]
}

// hilbert is the position of the centre of r along a Hilbert curve over the
// whole WGS84 range, on a 65,536 x 65,536 grid (cells of about 0.005
// degrees); boxes close on the curve are close on the ground.
func hilbert(r box32) uint32 {
	const side = 1 << 16
	cell := func(v, lo, span float64) uint32 {
		f := (v - lo) / span * side
		return uint32(min(max(f, 0), side-1))
	}
	x := cell((float64(r.min[0])+float64(r.max[0]))/2, -180, 360)
	y := cell((float64(r.min[1])+float64(r.max[1]))/2, -90, 180)
	var d uint32
	for s := uint32(side / 2); s > 0; s /= 2 {
		var rx, ry uint32
		if x&s != 0 {
			rx = 1
		}
		if y&s != 0 {
			ry = 1
		}
		d += s * s * ((3 * rx) ^ ry)
		// Rotate the quadrant so the curve stays continuous.
		if ry == 0 {
			if rx == 1 {
				x = side - 1 - x
				y = side - 1 - y
			}
			x, y = y, x
		}
	}
	return d
}

// bound is the box in float64, exactly.
func (r box32) bound() orb.Bound {
	return orb.Bound{
		Min: orb.Point{float64(r.min[0]), float64(r.min[1])},
		Max: orb.Point{float64(r.max[0]), float64(r.max[1])},
	}
}
