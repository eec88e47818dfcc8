package check

import (
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/coverage"
	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// coverageOf declares, for every layer the rule set tests, the area a
// (classification cl); except gives some layers another area.
func coverageOf(rs *rules.RuleSet, a orb.Polygon, cl zone.Classification, except map[string]orb.Polygon) *coverage.Set {
	var cs []zone.Coverage
	for _, l := range rs.Layers() {
		g := a
		if e, ok := except[l]; ok {
			g = e
		}
		cs = append(cs, zone.Coverage{Layer: l, Area: "test", Status: zone.CoverageLoaded, AsOf: time.Now(),
			Classification: cl, Geometry: orb.MultiPolygon{g}})
	}
	return coverage.New(cs, 1)
}

func rectLL(x0, y0, x1, y1 float64) orb.Polygon {
	return orb.Polygon{{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}
}

// incompleteLayers lists the layers of a result's incomplete findings,
// checking each says what an incomplete finding must: the rule, the
// contact line, the layer and nothing of any component.
func incompleteLayers(t *testing.T, fs []Finding) []string {
	t.Helper()
	var out []string
	for _, f := range fs {
		if !f.Incomplete() {
			continue
		}
		if f.Zone != rules.ZoneCoverage || f.Contact == nil || f.Contact.VI == "" || f.Contact.EN == "" ||
			f.Message == "" || f.MessageVI == "" || f.Basis == "" || f.BasisVI == "" || f.BandVI == "" {
			t.Errorf("incomplete finding lacks its texts or contact: %+v", f)
		}
		c := f.Component
		if c.ID != "" || c.Name != "" || c.Kind != "" || c.Classification != nil || f.DistanceM != nil || f.OverlapAreaM2 != nil || f.Overlap != nil {
			t.Errorf("incomplete finding says something of a component: %+v", f)
		}
		out = append(out, c.Layer)
	}
	return out
}

// Coverage verdicts at the edge of a covered area: a footprint wholly
// inside (touching the edge included) is judged on the data alone; one
// straddling the edge or outside gets incomplete, with one finding per
// layer not covering it; review and conflict keep their verdict and gain
// the finding; points, lines and polygons alike.
func TestCoverageVerdictsAtTheEdge(t *testing.T) {
	rs := rules.Default()
	e := New(rs)
	l, _ := zone.LookupLayer(zone.LayerCombatBases)
	base := newComponent(zone.LayerCombatBases, l.DefaultKind(), testGeometry(zone.LayerCombatBases, origin))
	src := newTreeSource(base)
	east := move(origin, 90, 300).X() // the combat bases' coverage ends 300 m east of the base
	src.cov = coverageOf(rs, rectLL(105.70, 20.90, 106.00, 21.20), zone.Public,
		map[string]orb.Polygon{zone.LayerCombatBases: rectLL(105.70, 20.90, east, 21.20)})
	all := rs.Layers()
	p200, p400 := move(origin, 90, 200), move(origin, 90, 400)
	far := orb.Point{105.75, 20.95} // inside every coverage, far from the base
	cases := []struct {
		name    string
		g       orb.Geometry
		verdict rules.Verdict
		missing []string
	}{
		{"point inside", far, rules.Clear, nil},
		{"point on the edge", orb.Point{105.70, 20.95}, rules.Clear, nil},
		{"point outside every coverage", orb.Point{106.5, 21.5}, rules.Incomplete, all},
		{"line inside", orb.LineString{far, {105.76, 20.96}}, rules.Clear, nil},
		{"line straddling the edge", orb.LineString{{105.75, 21.19}, {105.75, 21.21}}, rules.Incomplete, all},
		{"line outside", orb.LineString{{106.5, 21.5}, {106.6, 21.5}}, rules.Incomplete, all},
		{"polygon inside, touching the edge", rectLL(105.70, 20.95, 105.72, 20.97), rules.Clear, nil},
		{"polygon straddling the edge", rectLL(105.69, 20.95, 105.71, 20.97), rules.Incomplete, all},
		{"polygon outside", rectLL(106.5, 21.5, 106.6, 21.6), rules.Incomplete, all},
		{"review inside the coverage", p200, rules.Review, nil},
		{"review straddling the combat bases' edge", orb.LineString{p200, p400}, rules.Review, []string{zone.LayerCombatBases}},
		{"review outside the combat bases' coverage", p400, rules.Review, []string{zone.LayerCombatBases}},
		{"conflict inside", diamondWestOf(move(origin, 90, 5), 20), rules.Conflict, nil},
		{"conflict straddling", rectLL(origin.X()-0.0003, origin.Y()-0.0002, p400.X(), origin.Y()+0.0002), rules.Conflict, []string{zone.LayerCombatBases}},
	}
	for _, c := range cases {
		res := e.Check(src, Footprint{Index: -1, Geometry: c.g}, cleared)
		if res.Verdict != c.verdict {
			t.Errorf("%s: verdict %s, want %s (%+v)", c.name, res.Verdict, c.verdict, res.Findings)
		}
		got := incompleteLayers(t, res.Findings)
		if len(got) != len(c.missing) {
			t.Errorf("%s: incomplete layers %v, want %v", c.name, got, c.missing)
			continue
		}
		for i := range got {
			if got[i] != c.missing[i] {
				t.Errorf("%s: incomplete layers %v, want %v", c.name, got, c.missing)
				break
			}
		}
		if c.verdict == rules.Review || c.verdict == rules.Conflict {
			if res.Findings[0].Verdict != c.verdict || res.Findings[0].Incomplete() {
				t.Errorf("%s: the data's finding is not first: %+v", c.name, res.Findings)
			}
		}
	}

	// Without coverage known (nil), nothing is said of it.
	src.cov = nil
	if res := e.Check(src, Footprint{Index: -1, Geometry: orb.Point{106.5, 21.5}}, cleared); res.Verdict != rules.Clear || len(res.Findings) != 0 {
		t.Errorf("no coverage known: %s %+v", res.Verdict, res.Findings)
	}
}

// A collection: each feature's verdict on its own coverage, the whole's
// findings once per missing layer.
func TestCoverageCollection(t *testing.T) {
	rs := rules.Default()
	e := New(rs)
	src := newTreeSource()
	src.cov = coverageOf(rs, rectLL(105.70, 20.90, 106.00, 21.20), zone.Public, nil)
	fps := []Footprint{
		{Index: 0, Geometry: orb.Point{105.75, 20.95}},
		{Index: 1, Geometry: orb.Point{106.5, 21.5}},
		{Index: 2, Geometry: orb.Point{106.6, 21.5}},
	}
	res := e.CheckAll(src, fps, cleared)
	if res.Verdict != rules.Incomplete || res.Features[0].Verdict != rules.Clear || res.Features[1].Verdict != rules.Incomplete {
		t.Fatalf("verdicts: %s; %s %s", res.Verdict, res.Features[0].Verdict, res.Features[1].Verdict)
	}
	if got := incompleteLayers(t, res.Findings); len(got) != len(rs.Layers()) {
		t.Errorf("whole: incomplete layers %v, want each of %v once", got, rs.Layers())
	}
}

// A classified coverage counts only for callers cleared for it: the
// stored views of a record say incomplete below it and clear at it, each
// exactly what that caller's own check says.
func TestCoverageByClearance(t *testing.T) {
	rs := rules.Default()
	e := New(rs)
	src := newTreeSource()
	src.cov = coverageOf(rs, rectLL(105.70, 20.90, 106.00, 21.20), zone.Restricted, nil)
	fp := Footprint{Index: -1, Geometry: rectLL(105.75, 20.95, 105.76, 20.96)}
	views := e.Record(src, fp)
	for _, cl := range zone.Classifications() {
		want := rules.Clear
		if cl < zone.Restricted {
			want = rules.Incomplete
		}
		if views[cl].Verdict != want {
			t.Errorf("%s view: %s, want %s", cl, views[cl].Verdict, want)
		}
		live := e.Check(src, fp, callerAt(cl))
		if cl < zone.Secret && resultJSON(t, live) != resultJSON(t, views[cl]) {
			t.Errorf("%s: the stored view differs from the caller's check:\n%s\n%s", cl, resultJSON(t, views[cl]), resultJSON(t, live))
		}
	}
}
