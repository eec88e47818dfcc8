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

// intersects reports whether two float64 boxes share at least one point
// (touching counts).
func intersects(a, b orb.Bound) bool {
	return a.Min[0] <= b.Max[0] && a.Max[0] >= b.Min[0] &&
		a.Min[1] <= b.Max[1] && a.Max[1] >= b.Min[1]
}
