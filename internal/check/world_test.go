package check

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// A synthetic world for the oracle test and the benchmarks: components of
// every defence layer scattered over a box in northern Vietnam, with fixed
// seeds. Every component is marked synthetic; none is a real location.

// worldBox returns a box of about side km centred on 104.5E 22.0N.
func worldBox(sideKm float64) orb.Bound {
	c := orb.Point{104.5, 22.0}
	half := sideKm * 500
	return orb.Bound{Min: orb.Point{move(c, 270, half)[0], move(c, 180, half)[1]}, Max: orb.Point{move(c, 90, half)[0], move(c, 0, half)[1]}}
}

func randomIn(rng *rand.Rand, b orb.Bound) orb.Point {
	return orb.Point{b.Min[0] + rng.Float64()*(b.Max[0]-b.Min[0]), b.Min[1] + rng.Float64()*(b.Max[1]-b.Min[1])}
}

// starPolygon is a simple polygon: n vertices at increasing angles around
// c, each at a random radius between rMin and rMax metres.
func starPolygon(rng *rand.Rand, c orb.Point, n int, rMin, rMax float64) orb.Polygon {
	ring := make(orb.Ring, 0, n+1)
	for i := 0; i < n; i++ {
		az := (float64(i) + 0.2 + 0.6*rng.Float64()) * 360 / float64(n)
		ring = append(ring, move(c, az, rMin+rng.Float64()*(rMax-rMin)))
	}
	ring = append(ring, ring[0])
	// GeoJSON outer rings are counter-clockwise; azimuths turn clockwise.
	for i, j := 0, len(ring)-1; i < j; i, j = i+1, j-1 {
		ring[i], ring[j] = ring[j], ring[i]
	}
	return orb.Polygon{ring}
}

// roundPolygon is a regular 24-gon of radius r around c (a convex zone).
func roundPolygon(c orb.Point, r float64) orb.Polygon {
	ring := orb.Ring{}
	for i := 24; i > 0; i-- {
		ring = append(ring, move(c, float64(i)*15, r))
	}
	ring = append(ring, ring[0])
	return orb.Polygon{ring}
}

func randomWalk(rng *rand.Rand, start orb.Point, n int, step float64) orb.LineString {
	ls := orb.LineString{start}
	az := rng.Float64() * 360
	for i := 1; i < n; i++ {
		az += rng.NormFloat64() * 30
		ls = append(ls, move(ls[len(ls)-1], az, step*(0.5+rng.Float64())))
	}
	return ls
}

var defenceKinds = []string{zone.KindCommandPost, zone.KindRearBase, zone.KindLogisticsBase, zone.KindArtilleryPosition,
	zone.KindObservationPost, zone.KindDepot, zone.KindAntennaField, zone.KindShootingRange, zone.KindMilitaryZone, zone.KindBorderRestrictedZone}

// genWorld makes n synthetic components in box b.
func genWorld(seed uint64, n int, b orb.Bound) []*zone.Component {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	out := make([]*zone.Component, 0, n)
	id := func(i int) uuid.UUID {
		return uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "zoneplan-check-world-%d-%d", seed, i))
	}
	for i := 0; i < n; i++ {
		c := &zone.Component{ID: id(i), Synthetic: true, Version: 1, Classification: zone.Classification(rng.IntN(4))}
		at := randomIn(rng, b)
		// a few long border lines, as in the real data (three lines for the
		// whole country); the rest a mix of the other layers
		nBorder := 2 + n/50_000
		x := rng.Float64()
		if i < nBorder {
			x = 1
		}
		switch {
		case x < 0.30:
			c.Layer, c.Kind = zone.LayerDefenceWorks, defenceKinds[rng.IntN(len(defenceKinds))]
			c.FunctionType = []zone.FunctionType{zone.FunctionA, zone.FunctionB, zone.FunctionC, zone.FunctionD}[rng.IntN(4)]
			c.Group = []zone.Group{zone.GroupSpecial, zone.GroupI, zone.GroupII, zone.GroupIII}[rng.IntN(4)]
			r := 20 + rng.Float64()*150
			if rng.IntN(3) == 0 {
				c.Geometry = at
				r = 0
			} else {
				c.Geometry = starPolygon(rng, at, 5+rng.IntN(10), r/2, r)
			}
			// zones: approved polygons for some works, provisional widths for others
			kinds := zone.ZoneKinds()
			width := r
			for _, k := range kinds {
				width += 30 + rng.Float64()*300
				switch rng.IntN(3) {
				case 0:
					c.Zones = append(c.Zones, zone.ProtectionZone{Kind: k, Geometry: roundPolygon(at, width), Decision: "QĐ-SYN"})
				case 1:
					c.Zones = append(c.Zones, zone.ProtectionZone{Kind: k, WidthM: math.Round(width - r)})
				}
			}
		case x < 0.50:
			c.Layer, c.Kind = zone.LayerCombatBases, "combat_base"
			if rng.IntN(2) == 0 {
				c.Geometry = at
			} else {
				c.Geometry = starPolygon(rng, at, 6+rng.IntN(12), 100, 400)
			}
			if rng.IntN(2) == 0 {
				c.Zones = []zone.ProtectionZone{{Kind: zone.RestrictedArea, WidthM: 55}, {Kind: zone.SafetyBelt, WidthM: 300}}
			}
		case x < 0.70:
			c.Layer, c.Kind, c.Geometry = zone.LayerCommuneHQs, "commune_hq", at
		case x < 0.82:
			c.Layer, c.Kind, c.Geometry = zone.LayerBorderMarkers, "border_marker", at
		case x < 0.9999:
			c.Layer, c.Kind = zone.LayerPatrolRoutes, "patrol_route"
			c.Geometry = randomWalk(rng, at, 5+rng.IntN(25), 200)
		default:
			c.Layer, c.Kind = zone.LayerBorderLines, "land_border"
			c.Geometry = randomWalk(rng, at, 100+rng.IntN(200), 300)
			c.Properties = map[string]any{"province": []string{"Lào Cai", "Hà Giang", "Lai Châu"}[rng.IntN(3)]}
		}
		if l, ok := zone.LookupLayer(c.Layer); ok && c.Classification > l.Ceiling {
			c.Classification = l.Ceiling // the border line is published
		}
		c.Name = fmt.Sprintf("SYN %s %d", c.Kind, i)
		out = append(out, c)
	}
	return out
}

// genFootprints makes n random footprints in b: polygons, points and lines,
// some with project attributes that escalate.
func genFootprints(seed uint64, n int, b orb.Bound) []Footprint {
	rng := rand.New(rand.NewPCG(seed, 0xf00d))
	out := make([]Footprint, 0, n)
	for i := 0; i < n; i++ {
		at := randomIn(rng, b)
		fp := Footprint{Index: -1}
		switch x := rng.Float64(); {
		case x < 0.55:
			fp.Geometry = starPolygon(rng, at, 4+rng.IntN(40), 20+rng.Float64()*80, 100+rng.Float64()*300)
		case x < 0.75:
			fp.Geometry = at
		default:
			fp.Geometry = randomWalk(rng, at, 2+rng.IntN(10), 50+rng.Float64()*150)
		}
		if rng.IntN(4) == 0 {
			fp.HeightM = math.Round(rng.Float64() * 80)
		}
		if rng.IntN(5) == 0 {
			fp.Activities = []string{[]string{zone.ActivityBlasting, zone.ActivityMining, zone.ActivityResidential, zone.ActivityCrowd}[rng.IntN(4)]}
		}
		out = append(out, fp)
	}
	return out
}

// polygon200 is the benchmark's footprint: a 200-vertex polygon about
// 1 km across.
func polygon200(seed uint64, c orb.Point) Footprint {
	rng := rand.New(rand.NewPCG(seed, 200))
	return Footprint{Index: -1, Geometry: starPolygon(rng, c, 200, 300, 600)}
}

// A check shares its candidates out among workers (Engine.findings): the
// result must not depend on how many there are, findings in the same
// order, and a FeatureCollection's too.
func TestWorkersGiveTheSameResult(t *testing.T) {
	box := worldBox(40)
	src := newTreeSource(genWorld(7, 3000, box)...)
	e := New(rules.Default())
	fps := genFootprints(13, 150, box)
	render := func(procs int) []string {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		var out []string
		for i := range fps {
			res := e.Check(src, fps[i], cleared)
			res.TookMS = 0
			b, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, string(b))
		}
		all := e.CheckAll(src, slices.Clone(fps[:20]), cleared)
		all.TookMS = 0
		b, _ := json.Marshal(all)
		return append(out, string(b))
	}
	one, four := render(1), render(4)
	findings := 0
	for i := range one {
		if one[i] != four[i] {
			t.Fatalf("footprint %d: one worker\n%s\nfour workers\n%s", i, one[i], four[i])
		}
		findings += strings.Count(one[i], `"rule":`)
	}
	if findings < 100 {
		t.Fatalf("only %d findings: the world exercises too little", findings)
	}
}
