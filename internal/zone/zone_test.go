package zone

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"unsafe"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

func TestClassificationOrderAndText(t *testing.T) {
	for i, c := range Classifications() {
		b, err := c.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Classification
		if err := back.UnmarshalText(b); err != nil || back != c {
			t.Fatalf("%v did not round-trip: %v %v", c, back, err)
		}
		for j, o := range Classifications() {
			if c.Allows(o) != (i >= j) {
				t.Errorf("%v.Allows(%v) = %v", c, o, c.Allows(o))
			}
		}
	}
	if _, err := ParseClassification("top-secret"); ErrorCode(err) != CodeInvalid {
		t.Fatalf("unknown classification accepted: %v", err)
	}
}

func TestRolePermissionTable(t *testing.T) {
	want := map[Role][]Permission{
		RoleViewer:    {PermRead},
		RoleAppraiser: {PermRead, PermCheck, PermAppraise},
		RoleReviewer:  {PermRead, PermCheck, PermReadAllAppr, PermDecide},
		RoleEditor:    {PermRead, PermCheck, PermEdit},
		RoleAuditor:   {PermRead, PermReadAudit},
	}
	all := []Permission{PermRead, PermCheck, PermAppraise, PermReadAllAppr, PermDecide, PermEdit, PermManageTokens, PermManageRules, PermReadAudit, PermManageCover}
	for role, perms := range want {
		for _, p := range all {
			has := false
			for _, q := range perms {
				has = has || q == p
			}
			if role.Can(p) != has {
				t.Errorf("%s.Can(%s) = %v, want %v", role, p, role.Can(p), has)
			}
		}
	}
	for _, p := range all {
		if !RoleAdmin.Can(p) {
			t.Errorf("admin cannot %s", p)
		}
	}
	if err := (Principal{Role: RoleViewer}).Require(PermEdit); ErrorCode(err) != CodeForbidden {
		t.Errorf("viewer may edit: %v", err)
	}
}

func TestLayerRegistry(t *testing.T) {
	seen := map[string]bool{}
	for _, l := range Layers() {
		if seen[l.ID] {
			t.Fatalf("layer %s twice", l.ID)
		}
		seen[l.ID] = true
		if l.TitleVI == "" || l.TitleEN == "" || len(l.Geometries) == 0 || len(l.Kinds) == 0 || l.Style.Color == "" {
			t.Errorf("layer %s is incomplete: %+v", l.ID, l)
		}
	}
	for _, id := range []string{LayerBorderLines, LayerBorderMarkers, LayerPatrolRoutes, LayerCombatBases, LayerCommuneHQs, LayerDefenceWorks, LayerProjectSites} {
		if _, ok := LookupLayer(id); !ok {
			t.Errorf("layer %s missing", id)
		}
	}
	if _, err := GetLayer("nope"); ErrorCode(err) != CodeNotFound || !strings.Contains(err.Error(), "border_lines") {
		t.Errorf("GetLayer(nope) = %v; want not found naming the known layers", err)
	}
}

func square(lon, lat, d float64) orb.Polygon {
	return orb.Polygon{{{lon, lat}, {lon + d, lat}, {lon + d, lat + d}, {lon, lat + d}, {lon, lat}}}
}

func TestValidateGeometryNamesWhere(t *testing.T) {
	cases := []struct {
		name    string
		g       orb.Geometry
		pointer string
		reason  string
	}{
		{"nil", nil, "", "missing"},
		{"NaN", orb.Point{math.NaN(), 21}, "coordinates[0]", "not a number"},
		{"out of range", orb.LineString{{105, 21}, {205, 21}}, "coordinates[1]", "outside longitude"},
		{"short line", orb.LineString{{105, 21}}, "coordinates", "at least 2"},
		{"unclosed ring", orb.Polygon{{{105, 21}, {105.1, 21}, {105.1, 21.1}, {105, 21.1}}}, "coordinates[0]", "not closed"},
		{"too few ring points", orb.Polygon{{{105, 21}, {105.1, 21}, {105, 21}}}, "coordinates[0]", "at least 4"},
		{"bow tie", orb.Polygon{{{105, 21}, {105.1, 21.1}, {105.1, 21}, {105, 21.1}, {105, 21}}}, "coordinates[0]", "intersects itself"},
		{"empty multipolygon", orb.MultiPolygon{}, "coordinates", "empty"},
		{"collection", orb.Collection{orb.Point{1, 2}}, "type", "not supported"},
		{"hole vertex NaN", orb.Polygon{square(105, 21, 1)[0], {{105.2, 21.2}, {105.3, 21.2}, {105.3, math.NaN()}, {105.2, 21.2}}}, "coordinates[1][2]", "not a number"},
	}
	for _, c := range cases {
		probs := ValidateGeometry(c.g)
		if len(probs) == 0 {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if probs[0].Pointer != c.pointer || !strings.Contains(probs[0].Reason, c.reason) {
			t.Errorf("%s: got %q %q; want pointer %q and reason containing %q", c.name, probs[0].Pointer, probs[0].Reason, c.pointer, c.reason)
		}
	}
	if probs := ValidateGeometry(square(105, 21, 0.01)); len(probs) != 0 {
		t.Errorf("valid square rejected: %v", probs)
	}
	big := make(orb.LineString, MaxVertices+1)
	for i := range big {
		big[i] = orb.Point{100 + float64(i)*1e-5, 21}
	}
	if probs := ValidateGeometry(big); len(probs) == 0 || !strings.Contains(probs[0].Reason, "vertices") {
		t.Errorf("oversized geometry: %v", probs)
	}
}

func TestFromFeatureRoundTrip(t *testing.T) {
	src := `{"type":"Feature","id":"6f1c2b1e-8f3e-4c1a-9d6e-0a1b2c3d4e5f","geometry":{"type":"Point","coordinates":[106.7619,21.8537]},
	"properties":{"kind":"depot","name":"Kho đạn K3 – Lạng Sơn","code":"K3","function_type":"C","group":"I","classification":"secret",
	"zones":[{"kind":"restricted_area","width_m":55},{"kind":"safety_belt","geometry":{"type":"Polygon","coordinates":[[[106.75,21.84],[106.78,21.84],[106.78,21.87],[106.75,21.87],[106.75,21.84]]]},"decision":"123/QĐ-BQP","decision_date":"2024-05-06"}],
	"synthetic":true,"note":"synthetic demo data"}}`
	f, err := geojson.UnmarshalFeature([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	c, probs := FromFeature(LayerDefenceWorks, f)
	if len(probs) != 0 {
		t.Fatalf("valid feature rejected: %v", probs)
	}
	if c.Name != "Kho đạn K3 – Lạng Sơn" || c.Classification != Secret || c.Group != GroupI || len(c.Zones) != 2 || !c.Zones[1].Approved() || c.Properties["note"] != "synthetic demo data" {
		t.Fatalf("decoded %+v", c)
	}
	b, err := json.Marshal(c.Feature())
	if err != nil {
		t.Fatal(err)
	}
	f2, err := geojson.UnmarshalFeature(b)
	if err != nil {
		t.Fatal(err)
	}
	c2, probs := FromFeature(LayerDefenceWorks, f2)
	if len(probs) != 0 || c2.Name != c.Name || c2.ID != c.ID || c2.Zones[1].Decision != "123/QĐ-BQP" || !orb.Equal(c2.Geometry, c.Geometry) {
		t.Fatalf("round trip changed the component: %+v %v", c2, probs)
	}
}

func TestFromFeatureReportsEveryProblem(t *testing.T) {
	f := geojson.NewFeature(orb.LineString{{105, 21}, {105.1, 21}})
	f.Properties = geojson.Properties{"kind": "bunker", "classification": "cosmic", "zones": []any{map[string]any{"kind": "moat", "width_m": -3}}}
	_, probs := FromFeature(LayerDefenceWorks, f)
	want := []string{"properties.classification"}
	if len(probs) < len(want) {
		t.Fatalf("got %v", probs)
	}
	f.Properties["classification"] = "public"
	_, probs = FromFeature(LayerDefenceWorks, f)
	pointers := map[string]bool{}
	for _, p := range probs {
		pointers[p.Pointer] = true
	}
	for _, p := range []string{"properties.kind", "properties.name", "geometry.type", "properties.zones[0].kind", "properties.zones[0].width_m"} {
		if !pointers[p] {
			t.Errorf("no problem reported at %s; got %v", p, probs)
		}
	}
}

func TestProjectSitePropertiesTyped(t *testing.T) {
	c := &Component{Layer: LayerProjectSites, Name: "Nhà máy xi măng", Geometry: square(106, 21, 0.01),
		Properties: map[string]any{PropHeightM: "tall", PropActivities: []any{"blasting", "karaoke"}}}
	probs := c.Validate()
	if len(probs) != 2 {
		t.Fatalf("want 2 problems (height_m not a number, unknown activity), got %v", probs)
	}
	c.Properties = map[string]any{PropHeightM: 45.0, PropActivities: []any{"blasting"}}
	if probs := c.Validate(); len(probs) != 0 {
		t.Fatalf("valid project site rejected: %v", probs)
	}
	if c.Kind != "project" {
		t.Fatalf("default kind not applied: %q", c.Kind)
	}
}

func TestDecisionDateCheckedOnEveryZone(t *testing.T) {
	c := &Component{Layer: LayerDefenceWorks, Kind: KindDepot, Name: "Kho K1", Geometry: orb.Point{106, 21},
		Zones: []ProtectionZone{{Kind: SafetyBelt, WidthM: 300, DecisionDate: "2024-13-45"}}}
	probs := c.Validate()
	if len(probs) != 1 || probs[0].Pointer != "properties.zones[0].decision_date" {
		t.Fatalf("bad date on a provisional zone: %v", probs)
	}
}

// TestForClearance: a reader sees a project site's verdict as their own
// check gives it, and never the verdicts by clearance; the component is
// copied only when that verdict differs from the stored one, and is
// otherwise the stored component itself (the same pointer), as is every
// other component.
func TestForClearance(t *testing.T) {
	site := func(verdict string, byClearance map[string]any) *Component {
		props := map[string]any{PropVerdict: verdict, PropStatus: StatusPending}
		if byClearance != nil {
			props[PropVerdicts] = byClearance
		}
		return &Component{Layer: LayerProjectSites, Name: "Dự án", Classification: Public, Properties: props, Geometry: orb.Point{106, 21}}
	}
	// Stored as the store writes it: the public verdict, and one a clearance.
	kept := site("review", map[string]any{"public": "review", "internal": "review", "restricted": "conflict", "secret": "conflict"})
	legacy := site("conflict", nil) // the full verdict only
	clear := site("clear", nil)
	work := &Component{Layer: LayerDefenceWorks, Kind: KindDepot, Name: "Kho", Classification: Secret, Geometry: orb.Point{106, 21}}
	for _, c := range []struct {
		name string
		c    *Component
		cl   Classification
		want string // verdict seen; "" for no site
		same bool   // the stored component itself
	}{
		{"a work", work, Public, "", true},
		{"kept, public", kept, Public, "review", true},
		{"kept, internal", kept, Internal, "review", true},
		{"kept, restricted", kept, Restricted, "conflict", false},
		{"kept, secret", kept, Secret, "conflict", false},
		{"legacy, public", legacy, Public, "review", false},
		{"legacy, restricted", legacy, Restricted, "review", false},
		{"legacy, secret", legacy, Secret, "conflict", true},
		{"clear, public", clear, Public, "clear", true},
		{"clear, secret", clear, Secret, "clear", true},
	} {
		before, _ := json.Marshal(c.c.Properties)
		got := c.c.ForClearance(c.cl)
		if (got == c.c) != c.same {
			t.Errorf("%s: same pointer %v, want %v", c.name, got == c.c, c.same)
		}
		if after, _ := json.Marshal(c.c.Properties); string(after) != string(before) {
			t.Errorf("%s: the stored component changed: %s, was %s", c.name, after, before)
		}
		f := got.Feature()
		if _, ok := f.Properties[PropVerdicts]; ok {
			t.Errorf("%s: the feature shows the verdicts by clearance", c.name)
		}
		if c.want != "" && f.Properties[PropVerdict] != c.want {
			t.Errorf("%s: verdict %v, want %s", c.name, f.Properties[PropVerdict], c.want)
		}
	}
}

func TestStoreStateOf(t *testing.T) {
	for err, want := range map[error]StoreState{
		nil:                                    StoreReady,
		Errorf(CodeUnavailable, "unreachable"): StoreDegraded,
		Errorf(CodeStorageFull, "disk full"):   StoreStorageFull,
		Errorf(CodeInternal, "broken"):         StoreFailing,
		fmt.Errorf("wrapped: %w", Errorf(CodeStorageFull, "disk full")): StoreStorageFull,
	} {
		if got := StoreStateOf(err); got != want {
			t.Errorf("StoreStateOf(%v) = %s, want %s", err, got, want)
		}
	}
}

// Components decoded one by one share one copy of each registry name, and
// keep a name the registry does not know as it is.
func TestShareNamesSharesTheRegistrysCopies(t *testing.T) {
	decoded := func() *Component {
		return &Component{Layer: strings.Clone(LayerDefenceWorks), Kind: strings.Clone(KindCommandPost),
			FunctionType: FunctionType(strings.Clone("B")), Group: Group(strings.Clone("I")),
			Zones: []ProtectionZone{{Kind: ZoneKind(strings.Clone("safety_belt"))}, {Kind: "unheard_of"}}}
	}
	a, b := decoded(), decoded()
	if unsafe.StringData(a.Layer) == unsafe.StringData(b.Layer) {
		t.Fatal("the test's components share their layer before ShareNames")
	}
	a.ShareNames()
	b.ShareNames()
	same := func(what, x, y string) {
		if x != y || unsafe.StringData(x) != unsafe.StringData(y) {
			t.Errorf("%s: %q and %q are not one copy", what, x, y)
		}
	}
	same("layer", a.Layer, b.Layer)
	same("kind", a.Kind, b.Kind)
	same("function type", string(a.FunctionType), string(b.FunctionType))
	same("group", string(a.Group), string(b.Group))
	same("zone kind", string(a.Zones[0].Kind), string(b.Zones[0].Kind))
	if a.Layer != LayerDefenceWorks || a.Kind != KindCommandPost || a.FunctionType != FunctionB || a.Group != GroupI ||
		a.Zones[0].Kind != SafetyBelt || a.Zones[1].Kind != "unheard_of" {
		t.Fatalf("ShareNames changed a name: %+v", a)
	}
}

// Every layer holding several geometry classes has one part per class,
// named after it, and no part's id is a layer's.
func TestLayerPartsCoverMixedLayers(t *testing.T) {
	mixed := 0
	for _, l := range Layers() {
		if len(l.Geometries) > 1 {
			mixed++
		}
		for _, g := range l.Geometries {
			found := false
			for _, p := range LayerParts() {
				if p.Layer.ID == l.ID && p.Class == g {
					found = true
				}
			}
			if found != (len(l.Geometries) > 1) {
				t.Errorf("layer %s, %s: part found %v", l.ID, g, found)
			}
		}
	}
	if mixed == 0 {
		t.Fatal("no mixed layer: the parts test nothing")
	}
	for _, p := range LayerParts() {
		if _, ok := LookupLayer(p.ID); ok {
			t.Errorf("part %s has a layer's id", p.ID)
		}
		if got, ok := LookupLayerPart(p.ID); !ok || got.Class != p.Class {
			t.Errorf("LookupLayerPart(%s) = %v %v", p.ID, got, ok)
		}
		pt := &Component{Geometry: orb.Point{1, 2}}
		if p.Holds(pt) != (p.Class == GeomPoint) {
			t.Errorf("part %s holds a point: %v", p.ID, p.Holds(pt))
		}
	}
}
