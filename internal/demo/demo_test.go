package demo

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/zoneplan/zoneplan/data"
	"github.com/zoneplan/zoneplan/internal/zone"
)

var update = flag.Bool("update", false, "rewrite data/demo/*.geojson from DefaultSeed")

// demoDir is the committed demo folder, relative to this package.
const demoDir = "../../data/demo"

func inputs(tb testing.TB) (orb.MultiPolygon, []*zone.Component) {
	tb.Helper()
	land, err := data.VietnamLand()
	if err != nil {
		tb.Fatal(err)
	}
	borders, err := data.BorderLines()
	if err != nil {
		tb.Fatal(err)
	}
	return land, borders
}

// encodeLayers renders a demo set as the committed files: name -> bytes.
func encodeLayers(tb testing.TB, cs []*zone.Component) map[string][]byte {
	tb.Helper()
	byLayer := map[string][]*zone.Component{}
	for _, c := range cs {
		byLayer[c.Layer] = append(byLayer[c.Layer], c)
	}
	out := map[string][]byte{}
	for layer, list := range byLayer {
		var buf bytes.Buffer
		if err := WriteFeatureCollection(&buf, layer, list); err != nil {
			tb.Fatal(err)
		}
		out[layer+".geojson"] = buf.Bytes()
	}
	return out
}

// TestDemoReproducesCommittedFiles regenerates the demo from DefaultSeed and
// compares it byte for byte with data/demo (go test -run TestDemoReproduces
// -update rewrites them).
func TestDemoReproducesCommittedFiles(t *testing.T) {
	land, borders := inputs(t)
	cs, err := Demo(DefaultSeed, land, borders)
	if err != nil {
		t.Fatal(err)
	}
	files := encodeLayers(t, cs)
	if *update {
		old, _ := filepath.Glob(filepath.Join(demoDir, "*.geojson"))
		for _, f := range old {
			if _, keep := files[filepath.Base(f)]; !keep {
				os.Remove(f)
			}
		}
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(demoDir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("rewrote %d files in %s", len(files), demoDir)
	}
	onDisk, err := filepath.Glob(filepath.Join(demoDir, "*.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	if len(onDisk) != len(files) {
		t.Errorf("%s holds %d files, the generator makes %d", demoDir, len(onDisk), len(files))
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(demoDir, name))
		if err != nil {
			t.Errorf("%s: %v (run go test ./internal/demo -run TestDemoReproduces -update)", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what seed %d generates (run with -update if the change is intended)", name, int64(DefaultSeed))
		}
	}
}

// TestDemoOtherSeed: another seed also yields a complete demo, different
// from the committed one. (The same seed reproducing the same bytes is
// TestDemoReproducesCommittedFiles, across processes.)
func TestDemoOtherSeed(t *testing.T) {
	land, borders := inputs(t)
	cs, err := Demo(8, land, borders)
	if err != nil {
		t.Fatal(err)
	}
	files := encodeLayers(t, cs)
	committed, err := os.ReadFile(filepath.Join(demoDir, "combat_bases.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(files["combat_bases.geojson"], committed) {
		t.Error("seed 8 gave the committed combat bases")
	}
	var sites []*zone.Component
	all := append([]*zone.Component(nil), borders...)
	for _, c := range cs {
		all = append(all, c)
		if c.Layer == zone.LayerProjectSites {
			sites = append(sites, c)
		}
	}
	checkSites(t, sites, all)
}

// TestCommittedDemo checks the embedded demo as the server will load it.
func TestCommittedDemo(t *testing.T) {
	byLayer, err := data.Demo() // decodes with zone.FromFeature: every feature validated
	if err != nil {
		t.Fatal(err)
	}
	land, _ := inputs(t)
	for _, l := range zone.Layers() {
		if len(byLayer[l.ID]) == 0 {
			t.Errorf("layer %s is empty", l.ID)
		}
	}
	minimum := map[string]int{
		zone.LayerBorderLines: 3, zone.LayerBorderMarkers: 80, zone.LayerPatrolRoutes: 20, zone.LayerCombatBases: 30,
		zone.LayerCommuneHQs: 50, zone.LayerDefenceWorks: 100, zone.LayerProjectSites: 30,
	}
	for layer, n := range minimum {
		if got := len(byLayer[layer]); got < n {
			t.Errorf("layer %s has %d features, want at least %d", layer, got, n)
		}
	}
	var all, defence []*zone.Component
	for _, id := range zone.LayerIDs() {
		all = append(all, byLayer[id]...)
		if id != zone.LayerProjectSites && id != zone.LayerBorderLines {
			defence = append(defence, byLayer[id]...)
		}
	}
	if len(defence) < 300 {
		t.Errorf("%d synthetic defence components, want at least 300", len(defence))
	}
	perClass := map[zone.Classification]int{}
	for _, c := range defence {
		perClass[c.Classification]++
	}
	for _, cl := range zone.Classifications() {
		if perClass[cl] < 20 {
			t.Errorf("%d defence components are %s, want at least 20", perClass[cl], cl)
		}
	}
	kinds := map[string]int{}
	for _, c := range byLayer[zone.LayerDefenceWorks] {
		kinds[c.Kind]++
	}
	dw, _ := zone.LookupLayer(zone.LayerDefenceWorks)
	for _, k := range dw.Kinds {
		if kinds[k] < 5 {
			t.Errorf("defence_works has %d of kind %s, want at least 5", kinds[k], k)
		}
	}
	codes := map[string]bool{}
	for _, c := range all {
		key := c.Layer + "/" + c.Code
		if c.Code == "" || codes[key] {
			t.Errorf("%s %q: code %q missing or repeated", c.Layer, c.Name, c.Code)
		}
		codes[key] = true
		if c.Layer == zone.LayerBorderLines {
			if c.Synthetic {
				t.Errorf("border line %s is marked synthetic", c.Code)
			}
			continue
		}
		if !c.Synthetic || c.Properties[PropNote] != Note {
			t.Errorf("%s %q is not marked synthetic with the note", c.Layer, c.Name)
		}
		checkOnLand(t, land, byLayer[zone.LayerBorderLines], c)
		checkZones(t, c)
	}
	checkPatrolRoutes(t, byLayer[zone.LayerPatrolRoutes], byLayer[zone.LayerBorderLines])
	checkSites(t, byLayer[zone.LayerProjectSites], all)
}

// checkOnLand: every vertex of a synthetic work is in Vietnam; a border
// marker lies on the border line. Markers are interpolated linearly in
// lon/lat along source segments kilometres long, and DistanceM measures in
// a local projection where such a segment bows slightly: allow 5 m.
func checkOnLand(t *testing.T, land orb.MultiPolygon, borders []*zone.Component, c *zone.Component) {
	t.Helper()
	if c.Layer == zone.LayerBorderMarkers {
		best := 1e18
		for _, b := range borders {
			best = min(best, componentDistance(c.Geometry, b.Geometry))
		}
		if best > 5 {
			t.Errorf("marker %s is %.1f m off the border line", c.Code, best)
		}
		return
	}
	_, _, verts := parts(c.Geometry)
	for _, v := range verts {
		if !planar.MultiPolygonContains(land, v) {
			// A vertex of a border restricted zone lies on the border line.
			if c.Kind == zone.KindBorderRestrictedZone {
				continue
			}
			t.Errorf("%s %s: vertex %v is outside Vietnam", c.Layer, c.Code, v)
			return
		}
	}
}

// checkZones: a restricted area reaches at most 55 m beyond the work on
// land, whether approved (every ring vertex within 55 m of the work) or
// provisional.
func checkZones(t *testing.T, c *zone.Component) {
	t.Helper()
	z, ok := c.Zone(zone.RestrictedArea)
	if !ok {
		return
	}
	if !z.Approved() {
		if z.WidthM > 55 {
			t.Errorf("%s %s: provisional restricted area %v m wide, law allows 55 m on land", c.Layer, c.Code, z.WidthM)
		}
		return
	}
	if z.Decision == "" || !strings.Contains(z.Decision, "/QĐ-") || z.DecisionDate == "" {
		t.Errorf("%s %s: approved zone without decision number and date", c.Layer, c.Code)
	}
	for _, v := range z.Geometry.(orb.Polygon)[0] {
		if d := DistanceM(v, c.Geometry); d > 55.5 {
			t.Errorf("%s %s: restricted area vertex %.1f m from the work, want at most 55 m", c.Layer, c.Code, d)
			return
		}
	}
	if DistanceM(c.Geometry, z.Geometry) != 0 {
		t.Errorf("%s %s: restricted area does not cover the work", c.Layer, c.Code)
	}
}

// checkPatrolRoutes: each route runs 150 m to 2.1 km inside the border.
func checkPatrolRoutes(t *testing.T, routes, borders []*zone.Component) {
	t.Helper()
	var lines []orb.LineString
	for _, b := range borders {
		lines = append(lines, b.Geometry.(orb.LineString))
	}
	idx := newLineIndex(lines)
	for _, r := range routes {
		for _, v := range r.Geometry.(orb.LineString) {
			d := idx.distanceWithin(v, 5_000)
			if d < 150 || d > 2_100 {
				t.Errorf("patrol route %s: vertex %v is %.0f m from the border, want 150-2,100 m", r.Code, v, d)
				break
			}
		}
	}
}

// checkSites: each project site's intended verdict is what Assess finds,
// with certainty, and the demo shows every verdict several times.
func checkSites(t *testing.T, sites, all []*zone.Component) {
	t.Helper()
	counts := map[string]int{}
	kinds := map[string]bool{}
	for _, s := range sites {
		want, _ := s.Properties[PropDemoExpected].(string)
		reason, _ := s.Properties[PropDemoReason].(string)
		counts[want]++
		kinds[s.Kind] = true
		if reason == "" || s.Properties[zone.PropStatus] != "pending" || s.Properties[zone.PropInvestor] == nil {
			t.Errorf("site %s lacks demo_reason, status pending or investor", s.Code)
		}
		a := Assess(s, all)
		if a.Verdict != want || !a.Certain {
			t.Errorf("site %s %q: demo_expected %s, Assess finds %s (certain %v): %v", s.Code, s.Name, want, a.Verdict, a.Certain, a.Reasons)
		}
	}
	for _, v := range []string{Clear, Review, Conflict} {
		if counts[v] < 8 {
			t.Errorf("%d sites expect %s, want at least 8", counts[v], v)
		}
	}
	var missing []string
	pl, _ := zone.LookupLayer(zone.LayerProjectSites)
	for _, k := range pl.Kinds {
		if !kinds[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("no project site of kinds %v", missing)
	}
}

func TestAssessFindsEachVerdict(t *testing.T) {
	depot := &zone.Component{Layer: zone.LayerDefenceWorks, Kind: zone.KindDepot, Name: "d",
		Geometry: orb.Polygon{circle(orb.Point{106, 21.5}, 100, 16)},
		Zones: []zone.ProtectionZone{
			{Kind: zone.RestrictedArea, Geometry: orb.Polygon{circle(orb.Point{106, 21.5}, 150, 16)}},
			{Kind: zone.SafetyBelt, WidthM: 500},
		}}
	site := func(distM float64, props map[string]any) *zone.Component {
		c := orb.Point{106, 21.5}
		p := destination(c, 90, distM)
		if props == nil {
			props = map[string]any{}
		}
		return &zone.Component{Layer: zone.LayerProjectSites, Kind: "factory", Name: "s", Geometry: p, Properties: props}
	}
	cases := []struct {
		name    string
		site    *zone.Component
		verdict string
		certain bool
	}{
		{"inside the approved restricted area", site(130, nil), Conflict, true},
		{"inside the provisional belt", site(400, nil), Review, true},
		{"blasting in a provisional belt stays review", site(400, map[string]any{zone.PropActivities: []any{"blasting"}}), Review, true},
		{"far away", site(8_000, nil), Clear, true},
		{"3 km away: a rule distance could apply", site(3_000, nil), Clear, false},
		{"at the belt's edge", site(610, nil), Clear, false},
	}
	for _, tc := range cases {
		a := Assess(tc.site, []*zone.Component{depot})
		if a.Verdict != tc.verdict || a.Certain != tc.certain {
			t.Errorf("%s: got %s certain %v (%v), want %s certain %v", tc.name, a.Verdict, a.Certain, a.Reasons, tc.verdict, tc.certain)
		}
	}
}

func TestDistanceM(t *testing.T) {
	a := orb.Point{105.8, 21.0}
	b := destination(a, 45, 1_234.5)
	if d := DistanceM(a, b); d < 1_234.4 || d > 1_234.6 {
		t.Errorf("point to point: %.3f m, want 1234.5", d)
	}
	sq := orb.Polygon{circle(a, 1_000, 64)}
	if d := DistanceM(sq, a); d != 0 {
		t.Errorf("a polygon's centre is %v m from it, want 0", d)
	}
	out := destination(a, 0, 1_500)
	if d := DistanceM(out, sq); d < 490 || d > 510 {
		t.Errorf("point 1,500 m from the centre of a 1,000 m circle: %.1f m, want about 500", d)
	}
	line := orb.LineString{destination(a, 270, 2_000), destination(a, 90, 2_000)}
	if d := DistanceM(line, sq); d != 0 {
		t.Errorf("a line through a polygon is %v m from it", d)
	}
}
