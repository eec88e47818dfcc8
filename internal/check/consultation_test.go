package check

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/consult"
	"github.com/zoneplan/zoneplan/internal/index"
	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// indexed is the real index over cs with the engine's consultation cells.
func indexed(e *Engine, cs ...*zone.Component) *index.Snapshot {
	ix := index.New()
	ix.SetConsultation(e)
	changes := make([]zone.Change, len(cs))
	for i, c := range cs {
		changes[i] = zone.Change{ID: c.ID, Layer: c.Layer, Component: c}
	}
	ix.Apply(changes, 1)
	return ix.Snapshot()
}

func callerAt(cl zone.Classification) zone.Principal {
	return zone.Principal{Name: "caller-" + cl.String(), Role: zone.RoleAppraiser, Clearance: cl}
}

func resultJSON(t testing.TB, r Result) string {
	t.Helper()
	r.TookMS = 0
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Over a random world, for every clearance below secret:
//   - soundness: a footprint that gets any finding from a work above the
//     caller's clearance gets a referral (a consultation area never misses
//     a work's zone);
//   - the stored view of a record is exactly what the caller's own check
//     gives;
//   - the index's cells and cells computed from the works agree.
func TestConsultationSoundAndViewsAgree(t *testing.T) {
	e := New(rules.Default())
	b := worldBox(30)
	cs := genWorld(11, 3000, b)
	snap := indexed(e, cs...)
	fps := genFootprints(12, 500, b)
	var referrals, hiddenFindings, referralsWithout int
	for i, fp := range fps {
		views := e.Record(snap, fp)
		full := views[zone.Secret]
		if want := resultJSON(t, e.Check(snap, fp, cleared)); resultJSON(t, full) != want {
			t.Fatalf("footprint %d: the full view differs from a cleared check:\n%s\n%s", i, resultJSON(t, full), want)
		}
		for _, cl := range []zone.Classification{zone.Public, zone.Internal, zone.Restricted} {
			got := e.Check(snap, fp, callerAt(cl))
			if resultJSON(t, got) != resultJSON(t, views[cl]) {
				t.Fatalf("footprint %d, %s: stored view and the caller's check differ:\n%s\n%s", i, cl, resultJSON(t, views[cl]), resultJSON(t, got))
			}
			if views[cl].TookMS != 0 || views[cl].DataVersion != 0 {
				t.Fatalf("footprint %d, %s: the view shows took_ms %v or data_version %d", i, cl, views[cl].TookMS, views[cl].DataVersion)
			}
			hidden := false
			for _, f := range full.Findings {
				if !cl.Allows(*f.Component.Classification) {
					hidden = true
				}
			}
			referred := false
			for _, f := range got.Findings {
				if f.Referral() {
					referred = true
				} else if f.Component.Classification == nil || !cl.Allows(*f.Component.Classification) {
					t.Fatalf("footprint %d, %s: a finding of a hidden work: %+v", i, cl, f)
				}
			}
			if hidden {
				hiddenFindings++
				if !referred {
					t.Fatalf("footprint %d, %s: findings of hidden works but no referral", i, cl)
				}
				if got.Verdict == rules.Clear {
					t.Fatalf("footprint %d, %s: clear despite a referral", i, cl)
				}
			}
			if referred {
				referrals++
				if !hidden {
					referralsWithout++
				}
			}
			direct := e.referredDirect(snap, fp.Geometry, cl)
			if (len(direct) > 0) != referred {
				t.Fatalf("footprint %d, %s: the index refers %v, the works themselves %v", i, cl, referred, direct)
			}
			// The cells the server is told of (never the caller) are the
			// ones the works' reach covers, and the same in a stored view.
			if referred != (len(got.Consulted) == 1) || (referred && (got.Consulted[0].Index != fp.Index || !sameCellSet(got.Consulted[0].Cells, direct))) {
				t.Fatalf("footprint %d, %s: consulted cells %+v, want those of the works %v", i, cl, got.Consulted, direct)
			}
			if fmt.Sprint(views[cl].Consulted) != fmt.Sprint(got.Consulted) {
				t.Fatalf("footprint %d, %s: the stored view's cells %v differ from the check's %v", i, cl, views[cl].Consulted, got.Consulted)
			}
			if referred {
				bare := got
				bare.Consulted = nil
				if resultJSON(t, bare) != resultJSON(t, got) {
					t.Fatalf("footprint %d, %s: the consulted cells change the encoded result", i, cl)
				}
			}
		}
	}
	if hiddenFindings == 0 || referrals == 0 {
		t.Fatalf("the world tests nothing: %d hidden findings, %d referrals", hiddenFindings, referrals)
	}
	t.Logf("%d referrals (%d for a footprint with hidden findings, %d from the cells' coarseness alone)", referrals, referrals-referralsWithout, referralsWithout)
}

// sameCellSet reports whether two lists hold the same cells (up to
// MaxConsultedCells, where the lists are cut at different places).
func sameCellSet(a, b []consult.Cell) bool {
	if len(a) >= MaxConsultedCells || len(b) >= MaxConsultedCells {
		return len(a) == len(b)
	}
	set := map[consult.Cell]bool{}
	for _, c := range a {
		set[c] = true
	}
	for _, c := range b {
		if !set[c] {
			return false
		}
	}
	return len(set) == len(b)
}

// countingSource counts the components and cells a check is given: the
// work it does. For a caller below a work's classification it must not
// depend on where the work is within its cells, nor on which work it is.
type countingSource struct {
	Source
	comps, cells *atomic.Int64
}

func (s countingSource) SearchScope(b orb.Bound, sc zone.Scope, fn func(*zone.Component) bool) {
	s.Source.SearchScope(b, sc, func(c *zone.Component) bool { s.comps.Add(1); return fn(c) })
}

func (s countingSource) Candidates(b orb.Bound, sc zone.Scope, fn func(*zone.Component, orb.Bound) bool) {
	s.Source.Candidates(b, sc, func(c *zone.Component, box orb.Bound) bool { s.comps.Add(1); return fn(c, box) })
}

func (s countingSource) Consulted(b orb.Bound, cl zone.Classification, fn func(consult.Cell) bool) {
	s.Source.Consulted(b, cl, func(c consult.Cell) bool { s.cells.Add(1); return fn(c) })
}

// sameCells reports whether two components have the same consultation cells.
func sameCells(e *Engine, a, b *zone.Component) bool {
	cover := func(c *zone.Component) consult.Area {
		r, _ := e.Reach(c)
		geoms := []orb.Geometry{c.Geometry}
		for _, z := range c.Zones {
			if z.Geometry != nil {
				geoms = append(geoms, z.Geometry)
			}
		}
		return e.Grid().Covering(r, geoms...)
	}
	ca, cb := cover(a), cover(b)
	if len(ca) != len(cb) {
		return false
	}
	for k := range ca {
		if _, ok := cb[k]; !ok {
			return false
		}
	}
	return true
}

// The differential property at the engine: a caller below a hidden work's
// classification gets byte-identical answers, after the same work, whether
// the work is where it is, moved elsewhere within its consultation area,
// or absent with another hidden work (another kind, name and zones) in its
// place, for footprints all over and around the area.
func TestConsultationDifferentialWorlds(t *testing.T) {
	e := New(rules.Default())
	at := orb.Point{104.312, 22.447}
	depot := newComponent(zone.LayerDefenceWorks, zone.KindDepot, at)
	depot.Name, depot.Code, depot.Classification = "Kho K-9 bí mật", "K9", zone.Secret
	depot.Zones = []zone.ProtectionZone{{Kind: zone.SafetyBelt, WidthM: 400}}
	hq := newComponent(zone.LayerCommuneHQs, "commune_hq", move(at, 60, 1500))
	open := newComponent(zone.LayerDefenceWorks, zone.KindObservationPost, move(at, 200, 2500))

	// World B: the depot moved as far as its cells allow.
	var moved *zone.Component
	for _, d := range []float64{1200, 900, 600, 400, 250, 150} {
		for az := 0.0; az < 360 && moved == nil; az += 15 {
			m := depot.Clone()
			m.Geometry = move(at, az, d)
			if sameCells(e, depot, m) {
				moved = m
			}
		}
		if moved != nil {
			t.Logf("world B: the depot moved %g m", d)
			break
		}
	}
	// World C: no depot; a command post with other zones and another id
	// in its place, with the same cells.
	var other *zone.Component
	rng := rand.New(rand.NewPCG(5, 6))
	for range 5000 {
		c := newComponent(zone.LayerDefenceWorks, zone.KindCommandPost, move(at, rng.Float64()*360, rng.Float64()*800))
		c.ID, c.Name, c.Classification = uuid.New(), "Sở chỉ huy X", zone.Secret
		c.Zones = []zone.ProtectionZone{{Kind: zone.ProtectedArea, WidthM: 300 + rng.Float64()*100}}
		if sameCells(e, depot, c) {
			other = c
			break
		}
	}
	if moved == nil || other == nil {
		t.Fatalf("could not build the worlds (moved %v, other %v)", moved != nil, other != nil)
	}
	worlds := []*index.Snapshot{indexed(e, depot, hq, open), indexed(e, moved, hq, open), indexed(e, other, hq, open)}

	var fps []Footprint
	for dx := -5000.0; dx <= 5000; dx += 250 {
		for dy := -5000.0; dy <= 5000; dy += 250 {
			p := move(move(at, 90, dx), 0, dy)
			fps = append(fps, Footprint{Index: -1, Geometry: p})
			if int(dx/250+dy/250)%3 == 0 {
				fps = append(fps, Footprint{Index: -1, Geometry: square(p, 120), HeightM: 60})
			}
		}
	}
	fps = append(fps, Footprint{Index: -1, Geometry: square(at, 9000)}, Footprint{Index: -1, Geometry: orb.LineString{move(at, 270, 4000), move(at, 90, 4000)}})
	referred := 0
	for _, cl := range []zone.Classification{zone.Public, zone.Internal, zone.Restricted} {
		for i, fp := range fps {
			var answers []string
			var work []string
			for _, w := range worlds {
				src := countingSource{Source: w, comps: new(atomic.Int64), cells: new(atomic.Int64)}
				res := e.Check(src, fp, callerAt(cl))
				answers = append(answers, resultJSON(t, res))
				work = append(work, fmt.Sprintf("%d components, %d cells", src.comps.Load(), src.cells.Load()))
				stored := e.Record(w, fp)[cl]
				answers = append(answers, resultJSON(t, stored))
			}
			for j := 1; j < len(answers); j++ {
				if answers[j] != answers[0] {
					t.Fatalf("%s, footprint %d %v: the answers differ between worlds:\n%s\n%s", cl, i, fp.Geometry, answers[0], answers[j])
				}
			}
			for j := 1; j < len(work); j++ {
				if work[j] != work[0] {
					t.Fatalf("%s, footprint %d: the work differs between worlds: %v", cl, i, work)
				}
			}
			if len(answers[0]) > 0 && json.Valid([]byte(answers[0])) && containsReferral(answers[0]) {
				referred++
			}
		}
	}
	if referred == 0 {
		t.Fatal("no footprint was referred: the test tests nothing")
	}
	// The cleared caller does tell the worlds apart (or the test could not fail).
	fp := Footprint{Index: -1, Geometry: at}
	if resultJSON(t, e.Check(worlds[0], fp, cleared)) == resultJSON(t, e.Check(worlds[1], fp, cleared)) {
		t.Fatal("a cleared caller cannot tell the worlds apart")
	}
}

func containsReferral(s string) bool {
	var r Result
	if json.Unmarshal([]byte(s), &r) != nil {
		return false
	}
	for _, f := range r.Findings {
		if f.Referral() {
			return true
		}
	}
	return false
}

// The cells a footprint's referral is counted under are the first by key
// of the set touched, whatever order the works behind them were met in
// (the index lists them tier by tier, so by classification).
func TestFirstCellsDependOnTheSetAlone(t *testing.T) {
	var cells []consult.Cell
	for r := int32(-6); r < 6; r++ {
		for c := int32(-6); c < 6; c++ {
			cells = append(cells, consult.Cell{Row: r, Col: c}, consult.Cell{Row: r, Col: c}) // each twice
		}
	}
	want := firstCells(slices.Clone(cells))
	if len(want) != MaxConsultedCells || want[0] != (consult.Cell{Row: -6, Col: -6}) {
		t.Fatalf("first cells %v", want)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	for range 20 {
		shuffled := slices.Clone(cells)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if got := firstCells(shuffled); !slices.Equal(got, want) {
			t.Fatalf("order changed the cells kept:\n%v\n%v", got, want)
		}
	}
}
