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
