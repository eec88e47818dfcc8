package check

import (
	"encoding/json"
	"sync"
	"testing"

	"github.com/zoneplan/zoneplan/internal/rules"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// An engine without overlap geometry answers as the engine with it, field
// for field, but for every finding's overlap geometry, which it leaves out
// (null); overlap areas stay, to the same rounding. Gen's dense footprints
// (tens of findings each, polygons, roads and points), every clearance.
func TestWithoutOverlapGeometryKeepsEverythingElse(t *testing.T) {
	src, fps := sharedDenseWorld(t)
	fps = fps[:30]
	with := New(rules.Default()).WithOutlines(NewOutlines(DefaultOutlineBytes))
	without := with.WithoutOverlapGeometry()
	if with.areasOnly {
		t.Fatal("WithoutOverlapGeometry changed the engine it was called on")
	}
	geometries := 0
	for i, fp := range fps {
		for _, p := range []zone.Principal{cleared, callerAt(zone.Restricted), callerAt(zone.Public)} {
			a, b := with.Check(src, fp, p), without.Check(src, fp, p)
			a.TookMS, b.TookMS = 0, 0
			if len(a.Findings) != len(b.Findings) {
				t.Fatalf("footprint %d, %s: %d findings with geometry, %d without", i, p.Clearance, len(a.Findings), len(b.Findings))
			}
			for k := range b.Findings {
				if b.Findings[k].Overlap != nil {
					t.Fatalf("footprint %d, finding %d (%s): an overlap geometry although none was asked for", i, k, b.Findings[k].Rule)
				}
				if a.Findings[k].Overlap != nil {
					geometries++
				}
				a.Findings[k].Overlap = nil
			}
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			if string(ja) != string(jb) {
				t.Fatalf("footprint %d, %s: answers differ beyond the geometry:\nwith:    %s\nwithout: %s", i, p.Clearance, ja, jb)
			}
		}
	}
	if geometries < 500 {
		t.Fatalf("only %d overlap geometries in the answers with geometry: the test compares too little", geometries)
	}
}

// sharedDenseWorld is denseWorld(60,000 components, 100 footprints), built
// once for the tests that read it (the engine never changes its source).
var sharedDenseWorld = func() func(testing.TB) (*treeSource, []Footprint) {
	var once sync.Once
	var src *treeSource
	var fps []Footprint
	return func(t testing.TB) (*treeSource, []Footprint) {
		once.Do(func() { src, fps = denseWorld(t, 60_000, 100) })
		return src, fps
	}
}()

// A check names each rule of each component once, and each zone of each
// component once: no two findings share a component and a rule, or a
// component and the zone they test (its own geometry, an approved or
// provisional zone of one kind, the belt, a distance) with the same width.
func TestFindingsNeverRepeatAZone(t *testing.T) {
	src, fps := sharedDenseWorld(t)
	e := New(rules.Default()).WithOutlines(NewOutlines(DefaultOutlineBytes))
	findings := 0
	for i, fp := range fps {
		res := e.Check(src, fp, cleared)
		byRule := map[string]bool{}
		byZone := map[string]string{}
		for _, f := range res.Findings {
			findings++
			k := f.Component.ID + " " + f.Rule
			if byRule[k] {
				t.Fatalf("footprint %d: component %s has rule %s twice", i, f.Component.ID, f.Rule)
			}
			byRule[k] = true
			z := f.Component.ID + " " + string(f.Zone) + " " + f.Band
			if other, ok := byZone[z]; ok {
				t.Fatalf("footprint %d: component %s's zone %q (%s) found twice, by %s and %s", i, f.Component.ID, f.Zone, f.Band, other, f.Rule)
			}
			byZone[z] = f.Rule
		}
	}
	if findings < 20*len(fps) {
		t.Fatalf("%d findings for %d footprints: not the dense case", findings, len(fps))
	}
}
