package demo_test

import (
	"testing"

	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/data"
	"github.com/zoneplan/zoneplan/internal/check"
	"github.com/zoneplan/zoneplan/internal/demo"
	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// componentList is a check.Source over a plain slice: the demo is small
// enough to scan.
type componentList []*zone.Component

func (l componentList) Search(b orb.Bound, fn func(*zone.Component) bool) {
	for _, c := range l {
		if c.Bound().Intersects(b) && !fn(c) {
			return
		}
	}
}

func (l componentList) Version() int64 { return 1 }

func (l componentList) MaxZoneWidthM() float64 {
	var m float64
	for _, c := range l {
		m = max(m, c.MaxWidthM())
	}
	return m
}

// TestEngineAgreesWithDemoExpected runs the conflict checker with the
// default rule set over every committed demo project site: the verdict must
// be the site's demo_expected, whoever asks.
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
		for _, caller := range callers {
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
