package demo_test

import (
	"testing"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/data"
	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/consult"
	"github.com/zoneplan/zoneplan/internal/coverage"
	"github.com/zoneplan/zoneplan/internal/demo"
	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// componentList is a check.Source over a plain slice: the demo is small
// enough to scan.
type componentList []*zone.Component

func (l componentList) SearchScope(b orb.Bound, sc zone.Scope, fn func(*zone.Component) bool) {
	for _, c := range l {
		if sc.Sees(c) && c.Bound().Intersects(b) && !fn(c) {
			return
		}
	}
}

func (l componentList) Candidates(b orb.Bound, sc zone.Scope, fn func(*zone.Component, orb.Bound) bool) {
	l.SearchScope(b, sc, func(c *zone.Component) bool { return fn(c, c.Bound()) })
}

func (l componentList) Version() int64         { return 1 }
func (l componentList) View(zone.Scope) string { return "demo" }
func (l componentList) MaxZoneWidthM() float64 { return l.MaxZoneWidthIn(zone.FullScope()) }
func (l componentList) MaxZoneWidthIn(sc zone.Scope) float64 {
	var m float64
	for _, c := range l {
		if sc.Sees(c) {
			m = max(m, c.MaxWidthM())
		}
	}
	return m
}

// No cells kept: the engine computes the consultation of hidden works itself.
func (l componentList) Consulted(orb.Bound, zone.Classification, func(consult.Cell) bool) {}
func (l componentList) Consultation() (consult.Grid, string)                              { return consult.Grid{}, "" }

// No coverage: the demo's expected verdicts are those of the data (the
// demo's own coverage is tested in data/).
func (l componentList) Coverage() *coverage.Set { return nil }

// TestEngineAgreesWithDemoExpected runs the conflict checker with the
// default rule set over every committed demo project site: the verdict
// must be the site's demo_expected for a caller cleared for everything;
// an anonymous caller sees only public works, with one referral for the
// hidden ones, and the verdict those give.
func TestEngineAgreesWithDemoExpected(t *testing.T) {
	rs, err := rules.Parse(data.DefaultRules())
	if err != nil {
		t.Fatal(err)
	}
	engine := check.New(rs)
	byLayer, err := data.Demo()
	if err != nil {
		t.Fatal(err)
	}
	var src componentList
	for layer, cs := range byLayer {
		if layer != zone.LayerProjectSites {
			src = append(src, cs...)
		}
	}
	callers := []zone.Principal{
		{Name: "admin", Role: zone.RoleAdmin, Clearance: zone.Secret},
		zone.AnonymousPrincipal(),
	}
	for _, site := range byLayer[zone.LayerProjectSites] {
		var acts []string
		list, _ := site.Properties[zone.PropActivities].([]any)
		for _, a := range list {
			acts = append(acts, a.(string))
		}
		height, _ := site.Properties[zone.PropHeightM].(float64)
		sector, _ := site.Properties[zone.PropSector].(string)
		fp := check.Footprint{Index: -1, Geometry: site.Geometry, HeightM: height, Activities: acts, Sector: sector, Properties: site.Properties}
		want := site.Properties[demo.PropDemoExpected]
		full := engine.Check(src, fp, callers[0])
		anon := engine.Check(src, fp, callers[1])
		hidden := false
		for _, f := range full.Findings {
			hidden = hidden || *f.Component.Classification > zone.Public
		}
		anonWant, referred := rules.Clear, false
		for _, f := range anon.Findings {
			switch {
			case f.Referral():
				referred = true
				anonWant = anonWant.Worse(rules.Review)
			case f.Component.Classification == nil || *f.Component.Classification != zone.Public:
				t.Errorf("%s: the anonymous caller sees a finding of a classified work: %+v", site.Code, f)
			case f.Verdict != rules.Notice:
				anonWant = anonWant.Worse(f.Verdict)
			}
		}
		if hidden && !referred {
			t.Errorf("%s: hidden works give findings but the anonymous caller gets no referral", site.Code)
		}
		if anon.Verdict != anonWant {
			t.Errorf("%s: anonymous verdict %s, its findings give %s", site.Code, anon.Verdict, anonWant)
		}
		for _, caller := range callers[:1] {
			res := engine.Check(src, fp, caller)
			if string(res.Verdict) != want {
				t.Errorf("%s %q as %s: engine says %s, demo_expected %v (%v)", site.Code, site.Name, caller.Name, res.Verdict, want, site.Properties[demo.PropDemoReason])
				for _, f := range res.Findings {
					t.Logf("    %s %s zone %s provisional %v", f.Verdict, f.Rule, f.Zone, f.Provisional)
				}
			}
		}
	}
}

// coveredList is componentList with a coverage.
type coveredList struct {
	componentList
	cov *coverage.Set
}

func (l coveredList) Coverage() *coverage.Set { return l.cov }

// The demo declares its own coverage (data/coverage.geojson): every demo
// project site lies inside it for every layer the rules test, so each
// keeps its demo_expected verdict with coverage counted, for a cleared and
// an anonymous caller; a footprint outside the demo's provinces (Hà Nội)
// and one straddling a province's edge get incomplete.
func TestDemoCoverage(t *testing.T) {
	rs := rules.Default()
	engine := check.New(rs)
	byLayer, err := data.Demo()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := data.DemoCoverage()
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != len(demo.Coverage()) {
		t.Fatalf("the embedded coverage has %d areas, Coverage makes %d", len(cs), len(demo.Coverage()))
	}
	src := coveredList{cov: coverage.New(cs, 1)}
	for layer, list := range byLayer {
		if layer != zone.LayerProjectSites {
			src.componentList = append(src.componentList, list...)
		}
	}
	admin := zone.Principal{Name: "admin", Role: zone.RoleAdmin, Clearance: zone.Secret}
	for _, site := range byLayer[zone.LayerProjectSites] {
		if missing := src.cov.Missing(rs.Layers(), zone.Public, site.Geometry); len(missing) > 0 {
			t.Errorf("%s %q lies outside the demo's coverage of %v", site.Code, site.Name, missing)
			continue
		}
		fp := check.Footprint{Index: -1, Geometry: site.Geometry}
		if h, ok := site.Properties[zone.PropHeightM].(float64); ok {
			fp.HeightM = h
		}
		for _, a := range site.Properties[zone.PropActivities].([]any) {
			fp.Activities = append(fp.Activities, a.(string))
		}
		with, without := engine.Check(src, fp, admin), engine.Check(src.componentList, fp, admin)
		if with.Verdict != without.Verdict || string(with.Verdict) != site.Properties[demo.PropDemoExpected] {
			t.Errorf("%s: verdict %s with the demo's coverage, %s without, demo_expected %v", site.Code, with.Verdict, without.Verdict, site.Properties[demo.PropDemoExpected])
		}
	}
	hanoi := check.Footprint{Index: -1, Geometry: orb.Point{105.85, 21.03}}
	res := engine.Check(src, hanoi, zone.AnonymousPrincipal())
	if res.Verdict != rules.Incomplete || len(res.Findings) != len(rs.Layers()) {
		t.Errorf("Hà Nội: %s with %d findings, want incomplete with one per layer the rules test (%d)", res.Verdict, len(res.Findings), len(rs.Layers()))
	}
	// Hải Phòng's disc (106.62, 20.86; 25 km, widened twice) ends about
	// 50 km south of its centre, at 20.41° N, far from every other
	// province's: a road across that edge.
	edge := check.Footprint{Index: -1, Geometry: orb.LineString{{106.62, 20.50}, {106.62, 20.30}}}
	if res := engine.Check(src, edge, admin); res.Verdict != rules.Incomplete && res.Verdict != rules.Review && res.Verdict != rules.Conflict {
		t.Errorf("a road across Hải Phòng's edge: %s", res.Verdict)
	} else if !hasIncomplete(res.Findings) {
		t.Errorf("a road across Hải Phòng's edge has no incomplete finding: %+v", res.Findings)
	}
}

func hasIncomplete(fs []check.Finding) bool {
	for i := range fs {
		if fs[i].Incomplete() {
			return true
		}
	}
	return false
}
