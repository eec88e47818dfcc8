package check

import (
	"fmt"
	"math"
	"testing"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// TestArcsWithinTrueCircle holds the zones drawn from a width against the
// true circle: a commune HQ (a point) with a rule distance w, a footprint
// rectangle whose north edge cuts the circle at d metres from its centre.
// The footprint's part within w is a circular segment,
// A = w²·acos(d/w) - d·sqrt(w² - d²) (d < 0: the centre is inside), whose
// area the engine must give within 0.05%; the distance stays the exact
// one. (At the former 16 chords a quarter circle a 100 m circle came out
// 0.16% small.)
func TestArcsWithinTrueCircle(t *testing.T) {
	worst := 0.0
	for _, w := range []float64{10, 20, 55, 100, 200, 300, 500, 1000, 2000} {
		doc := fmt.Sprintf(`version: "arcs"
edge_tolerance_m: 0
contact: {vi: "Liên hệ", en: "Contact"}
rules:
  - id: near-hq
    applies_to: {layers: [commune_hqs]}
    zone: distance
    distance_m: %g
    verdict: review
    basis: "test"
    message: {vi: "gần", en: "near"}
`, w)
		rs, err := rules.Parse([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		e := New(rs).WithOutlines(NewOutlines(DefaultOutlineBytes))
		for _, d := range []float64{-0.9 * w, -0.5 * w, -0.05 * w, 0, 0.3 * w, 0.8 * w} {
			// in a plane round the footprint: the rectangle spans
			// x in [-1.5w, 1.5w], y in [-2w, 0]; the HQ is at (0, d)
			plane := newLocalTM(orb.Point{origin[0], origin[1]})
			rect := orb.Ring{plane.Inverse(orb.Point{-1.5 * w, -2 * w}), plane.Inverse(orb.Point{1.5 * w, -2 * w}),
				plane.Inverse(orb.Point{1.5 * w, 0}), plane.Inverse(orb.Point{-1.5 * w, 0})}
			rect = append(rect, rect[0])
			hq := newComponent(zone.LayerCommuneHQs, "commune_hq", plane.Inverse(orb.Point{0, d}))
			res := e.Check(newTreeSource(hq), Footprint{Index: -1, Geometry: orb.Polygon{rect}}, cleared)
			if len(res.Findings) != 1 {
				t.Fatalf("w %g, d %g: %d findings", w, d, len(res.Findings))
			}
			f := res.Findings[0]
			want := w*w*math.Acos(d/w) - d*math.Sqrt(w*w-d*d)
			rel := math.Abs(*f.OverlapAreaM2-want) / want
			worst = max(worst, rel)
			if rel > 5e-4 {
				t.Errorf("w %g, d %g: overlap %.2f m², the true circular segment %.2f m² (%.3f%%)", w, d, *f.OverlapAreaM2, want, 100*rel)
			}
			wantD := max(d, 0)
			if math.Abs(*f.DistanceM-wantD) > 0.01 {
				t.Errorf("w %g, d %g: distance %.3f m, want %.3f", w, d, *f.DistanceM, wantD)
			}
		}
	}
	t.Logf("zones from a width of 10 m to 2 km: overlap areas within %.2e of the true circle's", worst)
}

// quadSegments keeps every chord's sagitta within 1.5 arcRimM (the
// area-keeping chords then stray at most arcRimM either side of the rim),
// with no more chords than that needs.
func TestQuadSegmentsSagitta(t *testing.T) {
	for _, w := range []float64{1, 10, 55, 100, 166, 500, 1000, 5000} {
		n := quadSegments(w)
		sagitta := func(n int) float64 { return w * (1 - math.Cos(math.Pi/float64(4*n))) }
		if sagitta(n) > 1.5*arcRimM*(1+1e-9) || n < minQuadSegments {
			t.Errorf("w %g m: %d chords a quarter, sagitta %.4f m", w, n, sagitta(n))
		}
		if n > minQuadSegments && sagitta(n-1) <= 1.5*arcRimM {
			t.Errorf("w %g m: %d chords a quarter where %d would do", w, n, n-1)
		}
		// a full circle's vertices stray outside it by under arcRimM
		q := math.Pi / float64(2*n)
		if out := w*math.Sqrt(q/math.Sin(q)) - w; out > arcRimM {
			t.Errorf("w %g m: circle vertices %.4f m outside", w, out)
		}
	}
}
