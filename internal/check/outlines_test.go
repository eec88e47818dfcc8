package check

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/demo"
	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// The map between a component's plane and a footprint's stays within the
// touch slack of the exact one (each vertex through lon/lat) wherever a
// check can use it: components up to 10 km across, up to 40 km from the
// footprint, from the far south to the far north of Vietnam.
func TestPlaneMapAgreesWithExactProjection(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	worst, affine := 0.0, 0
	for i := 0; i < 3000; i++ {
		c := orb.Point{102 + rng.Float64()*7, 8.5 + rng.Float64()*15}
		f := move(c, rng.Float64()*360, rng.Float64()*40_000)
		from, to := newLocalTM(c), newLocalTM(f)
		radius := 10 + rng.Float64()*rng.Float64()*7_000
		centre := orb.Point{rng.Float64()*200 - 100, rng.Float64()*200 - 100}
		m := planeMap(from, to, centre, radius)
		if m(orb.Point{}) != to.Forward(from.Inverse(orb.Point{})) {
			affine++
		}
		for k := 0; k < 20; k++ {
			az, d := rng.Float64()*2*math.Pi, radius*math.Sqrt(rng.Float64())
			q := orb.Point{centre[0] + d*math.Cos(az), centre[1] + d*math.Sin(az)}
			got, want := m(q), to.Forward(from.Inverse(q))
			worst = max(worst, math.Hypot(got[0]-want[0], got[1]-want[1]))
		}
	}
	if worst > affineLimitM {
		t.Fatalf("the plane map strays %.6f m from the exact projection, more than the %.4f m it allows itself (the touch slack is %.3f m)", worst, affineLimitM, touchSlackM)
	}
	if affine < 1500 {
		t.Fatalf("the affine map served %d of 3000 cases; it should serve most", affine)
	}
	t.Logf("affine in %d of 3000 cases; at most %.6f m from the exact projection", affine, worst)
}

// denseWorld is `zoneplan gen`'s data (n components) and its first m
// project sites as footprints.
func denseWorld(t testing.TB, n, m int) (*treeSource, []Footprint) {
	cs, fps := denseComponents(t, n, m)
	return newTreeSource(cs...), fps
}

// denseComponents is denseWorld's components and footprints, the
// components as a list (to load into PostGIS too).
func denseComponents(t testing.TB, n, m int) ([]*zone.Component, []Footprint) {
	cs := make([]*zone.Component, 0, n)
	var fps []Footprint
	if err := demo.Scale(3, n, m, func(c *zone.Component) error {
		if c.Layer == zone.LayerProjectSites {
			fps = append(fps, Footprint{Index: -1, Geometry: c.Geometry})
		} else {
			cs = append(cs, c)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return cs, fps
}

// A check's answer does not depend on the outline cache: the same with no
// cache, with a cold one, with a warm one, and with one too small to keep
// anything for long.
func TestOutlineCacheDoesNotChangeAnswers(t *testing.T) {
	src, fps := denseWorld(t, 60_000, 30)
	base := New(rules.Default())
	engines := map[string]*Engine{
		"none":  base.WithOutlines(nil),
		"large": base.WithOutlines(NewOutlines(64 << 20)),
		"tiny":  base.WithOutlines(NewOutlines(64 << 10)),
	}
	callers := []zone.Principal{cleared, callerAt(zone.Restricted), callerAt(zone.Public)}
	answer := func(e *Engine, fp Footprint, p zone.Principal) string {
		res := e.Check(src, fp, p)
		res.TookMS = 0
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	findings := 0
	for pass := 0; pass < 2; pass++ { // cold, then warm
		for i, fp := range fps {
			for _, p := range callers {
				want := answer(engines["none"], fp, p)
				for name, e := range engines {
					if got := answer(e, fp, p); got != want {
						t.Fatalf("pass %d footprint %d caller %s: the %s cache changes the answer\ngot  %s\nwant %s", pass, i, p.Clearance, name, got, want)
					}
				}
				if pass == 0 && p.Clearance == zone.Secret {
					findings += len(engines["none"].Check(src, fp, p).Findings)
				}
			}
		}
	}
	hits, misses, entries, bytes := engines["large"].Outlines().Stats()
	if findings < 10*len(fps) || hits == 0 || misses == 0 {
		t.Fatalf("%d findings over %d footprints, %d hits, %d misses: the test does not exercise the cache", findings, len(fps), hits, misses)
	}
	_, _, _, tiny := engines["tiny"].Outlines().Stats()
	if tiny > 4*(64<<10) {
		t.Fatalf("the tiny cache holds %d bytes, over its bound", tiny)
	}
	t.Logf("%d findings; large cache: %d hits, %d misses, %d entries, %d bytes", findings, hits, misses, entries, bytes)
}

// Each clearance has its own part of the cache: checks by a caller cleared
// for more (whose checks meet works others cannot see) neither fill nor
// evict what an uncleared caller's checks find kept.
func TestOutlineCacheIsPartitionedByClearance(t *testing.T) {
	src, fps := denseWorld(t, 20_000, 60)
	e := New(rules.Default()).WithOutlines(NewOutlines(256 << 10))
	public := callerAt(zone.Public)
	for _, fp := range fps[:20] {
		e.Check(src, fp, public)
	}
	o := e.Outlines()
	before, _ := o.parts[zone.Public].Stats()
	if before == 0 {
		t.Fatal("public checks kept nothing")
	}
	snapshot := func() map[shapeKey]bool {
		keys := map[shapeKey]bool{}
		for _, k := range o.parts[zone.Public].Keys() {
			keys[k] = true
		}
		return keys
	}
	kept := snapshot()
	for _, fp := range fps { // enough secret work to evict everything many times over
		e.Check(src, fp, cleared)
	}
	if secret, _ := o.parts[zone.Secret].Stats(); secret == 0 {
		t.Fatal("secret checks kept nothing")
	}
	after := snapshot()
	if len(after) != len(kept) {
		t.Fatalf("secret checks changed the public part: %d entries before, %d after", len(kept), len(after))
	}
	for k := range kept {
		if !after[k] {
			t.Fatalf("secret checks evicted a public entry")
		}
	}
	for _, cl := range []zone.Classification{zone.Internal, zone.Restricted} {
		if n, _ := o.parts[cl].Stats(); n != 0 {
			t.Fatalf("the %s part holds %d entries, though no caller of that clearance checked", cl, n)
		}
	}
}
