// Package demo generates zoneplan's synthetic data: the fixed-seed demo set
// of defence components and project sites placed around Vietnam's real
// northern border (Demo), and streams of synthetic components at scale for
// load tests and benchmarks (Scale). Every generated component is marked
// Synthetic and carries the property note = Note: none is a real location.
//
// Positions are WGS84 lon/lat; every distance is in metres on the WGS84
// ellipsoid (tidwall/geodesic), never in degrees.
package demo

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/google/uuid"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// Note is the note property every synthetic feature carries.
const Note = "synthetic demo data, not a real location"

// Property names the demo adds beside zone's own.
const (
	PropNote         = "note"
	PropProvince     = "province"
	PropNeighbour    = "neighbour"
	PropDemoExpected = "demo_expected"
	PropDemoReason   = "demo_reason"
)

// roundFactor rounds generated coordinates to 1e-7 degree (about 1 cm), so
// the committed files are compact and decode to the same geometry.
const roundFactor = 1e7

// DefaultSeed is the seed of the committed demo set (data/demo).
const DefaultSeed = 20260701

// Demo generates the demo set from seed: synthetic border markers, patrol
// routes, combat bases, commune HQs, defence works of every kind and project
// sites in the northern border provinces and around Hải Phòng, each on land
// inside Vietnam. land is Vietnam's territory (WGS84; data.VietnamLand) and
// borders the real border_lines components (data.BorderLines); the border
// lines themselves are not returned.
//
// The result is ordered by layer (registry order), then by generation
// order, and is identical for the same seed and inputs. Project sites carry
// demo_expected ("clear", "review" or "conflict") and demo_reason: the
// verdict the appraisal should reach and why, as checked by Assess.
func Demo(seed int64, land orb.MultiPolygon, borders []*zone.Component) ([]*zone.Component, error) {
	g, err := newGenerator(seed, land, borders)
	if err != nil {
		return nil, err
	}
	steps := []func() error{g.markers, g.patrolRoutes, g.borderRestrictedZones, g.provinceWorks, g.projectSites}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	order := map[string]int{}
	for i, id := range zone.LayerIDs() {
		order[id] = i
	}
	out := make([]*zone.Component, len(g.out))
	copy(out, g.out)
	sort.SliceStable(out, func(i, j int) bool { return order[out[i].Layer] < order[out[j].Layer] })
	return out, nil
}

// generator holds the state of one Demo run.
type generator struct {
	rng       *rand.Rand
	land      orb.MultiPolygon
	landBound orb.Bound
	borders   []*zone.Component
	borderIdx *lineIndex
	lines     map[string]orb.LineString // border line by neighbour ISO code
	used      map[string][][2]float64   // stretches of each border line (metres along it) already used

	out    []*zone.Component
	placed []*placed // point and polygon components, for spacing and as project targets
	linear []*zone.Component
	serial map[string]int
}

// placed is a point or star-shaped polygon component with the shape it was
// built from: vertex i lies at distance r[i] along azimuth az[i] from centre
// (no vertices for a point).
type placed struct {
	c        *zone.Component
	prov     *province
	centre   orb.Point
	az, r    []float64
	extentM  float64 // farthest reach of the work and its zones from centre
	targeted bool    // already used by a project scenario
}

func newGenerator(seed int64, land orb.MultiPolygon, borders []*zone.Component) (*generator, error) {
	if len(land) == 0 {
		return nil, zone.Errorf(zone.CodeInvalid, "demo: no land polygon given")
	}
	g := &generator{
		rng:       rand.New(rand.NewPCG(uint64(seed), 0x7a6f6e65706c616e)),
		land:      land,
		landBound: land.Bound(),
		borders:   borders,
		lines:     map[string]orb.LineString{},
		used:      map[string][][2]float64{},
		serial:    map[string]int{},
	}
	var all []orb.LineString
	for _, b := range borders {
		nb, _ := b.Properties[PropNeighbour].(string)
		switch geom := b.Geometry.(type) {
		case orb.LineString:
			g.lines[nb] = geom
			all = append(all, geom)
		case orb.MultiLineString:
			for _, ls := range geom {
				all = append(all, ls)
			}
			g.lines[nb] = geom[0]
		}
	}
	if g.lines["CN"] == nil || g.lines["LA"] == nil {
		return nil, zone.Errorf(zone.CodeInvalid, "demo: border lines with CN and LA are required")
	}
	g.borderIdx = newLineIndex(all)
	return g, nil
}

// newID draws a random (version 4) UUID from the seeded generator.
func (g *generator) newID() uuid.UUID {
	return randomUUID(g.rng)
}

func randomUUID(rng *rand.Rand) uuid.UUID {
	var u uuid.UUID
	binary.LittleEndian.PutUint64(u[:8], rng.Uint64())
	binary.LittleEndian.PutUint64(u[8:], rng.Uint64())
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}

// next returns the next serial number of a counter.
func (g *generator) next(key string) int {
	g.serial[key]++
	return g.serial[key]
}

func (g *generator) between(lo, hi float64) float64 { return lo + g.rng.Float64()*(hi-lo) }

func (g *generator) pick(list []string) string { return list[g.rng.IntN(len(list))] }

func (g *generator) onLand(p orb.Point) bool {
	return g.landBound.Contains(p) && planar.MultiPolygonContains(g.land, p)
}

func (g *generator) allOnLand(ps []orb.Point) bool {
	for _, p := range ps {
		if !g.onLand(p) {
			return false
		}
	}
	return true
}

// component builds a synthetic component with the demo's common properties.
func (g *generator) component(layer, kind, name, code string, cls zone.Classification, geom orb.Geometry, prov *province) *zone.Component {
	c := &zone.Component{
		ID: g.newID(), Layer: layer, Kind: kind, Name: name, Code: code,
		Classification: cls, Geometry: orb.Round(geom, roundFactor), Synthetic: true,
		Properties: map[string]any{PropNote: Note},
	}
	if prov != nil {
		c.Properties[PropProvince] = prov.name
	}
	return c
}

// add validates c and appends it to the output.
func (g *generator) add(c *zone.Component) error {
	if probs := c.Validate(); len(probs) > 0 {
		return &zone.Error{Code: zone.CodeInternal, Message: fmt.Sprintf("demo generated an invalid %s %q", c.Layer, c.Name), Details: probs}
	}
	g.out = append(g.out, c)
	return nil
}

// decision returns a synthetic decision number and date for an approved zone.
func (g *generator) decision() (string, string) {
	num := fmt.Sprintf("%d/QĐ-BQP", 100+g.rng.IntN(4900))
	date := fmt.Sprintf("%d-%02d-%02d", 2012+g.rng.IntN(14), 1+g.rng.IntN(12), 1+g.rng.IntN(28))
	return num, date
}

// nearestProvince is the border province whose centre is closest to p.
func nearestProvince(provs []province, p orb.Point) *province {
	var best *province
	bestD := math.Inf(1)
	for i := range provs {
		if !provs[i].border {
			continue
		}
		if d := distance(provs[i].centre, p); d < bestD {
			best, bestD = &provs[i], d
		}
	}
	return best
}

// star returns a star-shaped ring around centre: n vertices at jittered
// azimuths, in decreasing azimuth so the exterior ring is counter-clockwise
// (RFC 7946), at distances drawn around a base radius in [rMin, rMax].
func (g *generator) star(centre orb.Point, n int, rMin, rMax float64) (az, r []float64) {
	base := g.between(rMin, rMax)
	step := 360.0 / float64(n)
	start := g.between(0, 360)
	for i := 0; i < n; i++ {
		az = append(az, math.Mod(start-float64(i)*step-g.between(0, step*0.5)+720, 360))
		r = append(r, base*g.between(0.7, 1.25))
	}
	return az, r
}

// radialRing is the closed ring whose vertex i lies r[i]+plus metres from
// centre along az[i]. Growing every radius of a star-shaped ring by plus
// gives a ring that contains it and lies within plus metres of it.
func radialRing(centre orb.Point, az, r []float64, plus float64) orb.Ring {
	ring := make(orb.Ring, 0, len(az)+1)
	for i := range az {
		ring = append(ring, destination(centre, az[i], r[i]+plus))
	}
	return append(ring, ring[0])
}

// circle is a radial ring of constant radius with n vertices.
func circle(centre orb.Point, radiusM float64, n int) orb.Ring {
	az := make([]float64, n)
	r := make([]float64, n)
	for i := range az {
		az[i] = 360 - float64(i)*360/float64(n)
		r[i] = radiusM
	}
	return radialRing(centre, az, r, 0)
}

// alongLine returns the part of ls between fromM and toM metres along it,
// with a vertex at least every stepM metres (linear in lon/lat between
// source vertices, which are at most a few kilometres apart).
func alongLine(ls orb.LineString, fromM, toM, stepM float64) orb.LineString {
	var out orb.LineString
	pos := 0.0
	for i := 1; i < len(ls); i++ {
		a, b := ls[i-1], ls[i]
		seg := distance(a, b)
		if pos+seg < fromM {
			pos += seg
			continue
		}
		if pos > toM {
			break
		}
		n := max(1, int(math.Ceil(seg/stepM)))
		for k := 0; k <= n; k++ {
			t := float64(k) / float64(n)
			at := pos + t*seg
			if at < fromM-1e-9 || at > toM+1e-9 {
				continue
			}
			p := orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}
			if len(out) == 0 || out[len(out)-1] != p {
				out = append(out, p)
			}
		}
		pos += seg
	}
	return out
}

// pointAlong is the point atM metres along ls.
func pointAlong(ls orb.LineString, atM float64) orb.Point {
	pos := 0.0
	for i := 1; i < len(ls); i++ {
		seg := distance(ls[i-1], ls[i])
		if pos+seg >= atM {
			t := (atM - pos) / seg
			a, b := ls[i-1], ls[i]
			return orb.Point{a[0] + t*(b[0]-a[0]), a[1] + t*(b[1]-a[1])}
		}
		pos += seg
	}
	return ls[len(ls)-1]
}

// reserve marks [from, to] metres along the border with nb as used when it
// does not overlap a stretch already used (with gap metres between).
func (g *generator) reserve(nb string, from, to, gap float64) bool {
	for _, u := range g.used[nb] {
		if from < u[1]+gap && to > u[0]-gap {
			return false
		}
	}
	g.used[nb] = append(g.used[nb], [2]float64{from, to})
	return true
}

// inward offsets each vertex of a border stretch offM metres into Vietnam,
// perpendicular to the local direction of the border. Vertices whose offset
// would come back closer than 60% of offM to the border (at tight bends) or
// fall off land are dropped.
func (g *generator) inward(stretch orb.LineString, offM float64) orb.LineString {
	var out orb.LineString
	for i := range stretch {
		a, b := stretch[max(0, i-1)], stretch[min(len(stretch)-1, i+1)]
		az := azimuth(a, b)
		for _, side := range []float64{90, -90} {
			p := destination(stretch[i], az+side, offM)
			if !g.onLand(p) {
				continue
			}
			if d := g.borderIdx.distanceWithin(p, offM); !math.IsInf(d, 1) && d < 0.6*offM {
				continue
			}
			out = append(out, p)
			break
		}
	}
	return out
}
