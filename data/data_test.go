package data

import (
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
	"github.com/paulmach/orb/planar"
	"github.com/tidwall/geodesic"

	"github.com/zoneplan/zoneplan/internal/zone"
)

func geodesicLength(ls orb.LineString) float64 {
	var sum float64
	for i := 1; i < len(ls); i++ {
		var d float64
		geodesic.WGS84.Inverse(ls[i-1][1], ls[i-1][0], ls[i][1], ls[i][0], &d, nil, nil)
		sum += d
	}
	return sum
}

// TestBorderLines checks the derived border lines against what is known of
// the real borders. world-atlas simplifies Natural Earth 1:10m (toposimplify)
// and quantizes it to a grid of about 370 x 190 m, so its lines are shorter
// than the surveyed borders (about 1,450 km with China, 2,340 km with Laos
// and 1,140 km with Cambodia, as usually cited): the bands below are those
// of the shipped source, 70-100% of the surveyed length.
func TestBorderLines(t *testing.T) {
	lines, err := BorderLines()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][2]float64{ // km
		"CN": {1_000, 1_450},
		"LA": {1_650, 2_300},
		"KH": {900, 1_300},
	}
	ends := map[string]orb.LineString{}
	for _, c := range lines {
		nb, _ := c.Properties["neighbour"].(string)
		ls, ok := c.Geometry.(orb.LineString)
		if !ok {
			t.Fatalf("border with %s is a %s, want one LineString", nb, c.Geometry.GeoJSONType())
		}
		ends[nb] = ls
		km := geodesicLength(ls) / 1000
		r, known := want[nb]
		if !known {
			t.Errorf("unexpected neighbour %q", nb)
			continue
		}
		if km < r[0] || km > r[1] {
			t.Errorf("border with %s is %.0f km long, want %.0f-%.0f km", nb, km, r[0], r[1])
		}
		t.Logf("VN-%s: %d vertices, %.1f km", nb, len(ls), km)
		if c.Synthetic || c.Classification != zone.Public || c.Properties["source"] == nil || c.Properties["name_en"] == nil {
			t.Errorf("border with %s: want synthetic false, public, source and name_en", nb)
		}
		if probs := c.Validate(); len(probs) > 0 {
			t.Errorf("border with %s invalid: %v", nb, probs)
		}
	}
	if len(ends) != 3 {
		t.Fatalf("got %d border lines, want 3", len(ends))
	}
	// The three lines meet at the two tripoints: China-Laos in the north
	// west, Laos-Cambodia in the Central Highlands.
	shares := func(a, b orb.LineString) bool {
		for _, p := range []orb.Point{a[0], a[len(a)-1]} {
			if p == b[0] || p == b[len(b)-1] {
				return true
			}
		}
		return false
	}
	if !shares(ends["CN"], ends["LA"]) || !shares(ends["LA"], ends["KH"]) || shares(ends["CN"], ends["KH"]) {
		t.Error("border lines do not meet at the CN-LA and LA-KH tripoints")
	}
	// The China border runs between 21°N and 23.5°N, the Cambodia border
	// south of 15°N.
	if b := ends["CN"].Bound(); b.Min[1] < 21 || b.Max[1] > 23.5 {
		t.Errorf("China border spans latitudes %.2f-%.2f", b.Min[1], b.Max[1])
	}
	if b := ends["KH"].Bound(); b.Max[1] > 15 {
		t.Errorf("Cambodia border reaches latitude %.2f", b.Max[1])
	}
}

// TestBasemap: Vietnam and its neighbours are there, and the border lines lie on its
// outline (every border vertex is a Vietnam vertex).
func TestBasemap(t *testing.T) {
	fc, err := geojson.UnmarshalFeatureCollection(BasemapGeoJSON())
	if err != nil {
		t.Fatal(err)
	}
	if len(BasemapGeoJSON()) > 400_000 {
		t.Errorf("base map is %d bytes, want a few hundred KB at most", len(BasemapGeoJSON()))
	}
	iso := map[string]bool{}
	for _, f := range fc.Features {
		iso[f.Properties.MustString("iso_a3", "")] = true
		// The source's quantization leaves a few coast vertices touching
		// other edges, so rings are not OGC-simple: fine for drawing and
		// point-in-polygon, which is all the base map is for. Everything
		// else must hold.
		for _, d := range zone.ValidateGeometry(f.Geometry) {
			if !strings.HasPrefix(d.Reason, "ring intersects itself") && !strings.HasPrefix(d.Reason, "invalid geometry") {
				t.Errorf("%s: %s: %s", f.Properties.MustString("name_en", ""), d.Pointer, d.Reason)
			}
		}
	}
	// Hoàng Sa and Trường Sa are Vietnam's, with islands in their areas,
	// and no other country holds an island there.
	archipelagos := map[string]orb.Bound{
		"VNM-HS": {Min: orb.Point{111, 15.5}, Max: orb.Point{113.5, 17.5}},
		"VNM-TS": {Min: orb.Point{111, 4}, Max: orb.Point{118, 12}},
	}
	for _, f := range fc.Features {
		id, _ := f.ID.(string)
		if box, ok := archipelagos[id]; ok {
			b := f.Geometry.Bound()
			if f.Properties.MustString("role", "") != "vietnam" || f.Properties.MustString("iso_a3", "") != "VNM" || !box.Contains(b.Min) || !box.Contains(b.Max) {
				t.Errorf("%s: role %q, iso_a3 %q, islands in %v; want Vietnam's, in %v", id, f.Properties.MustString("role", ""), f.Properties.MustString("iso_a3", ""), b, box)
			}
			delete(archipelagos, id)
			continue
		}
		if f.Properties.MustString("iso_a3", "") == "VNM" {
			continue
		}
		for _, box := range []orb.Bound{{Min: orb.Point{111, 15.5}, Max: orb.Point{113.5, 17.5}}, {Min: orb.Point{111, 4}, Max: orb.Point{118, 12}}} {
			mp, _ := f.Geometry.(orb.MultiPolygon)
			for _, p := range mp {
				if pb := p.Bound(); box.Contains(pb.Min) && box.Contains(pb.Max) {
					t.Errorf("%s holds an island at %v, in the archipelago area %v", f.Properties.MustString("name_en", ""), pb, box)
				}
			}
		}
	}
	for id := range archipelagos {
		t.Errorf("base map lacks the archipelago %s", id)
	}
	for _, want := range []string{"VNM", "CHN", "LAO", "KHM"} {
		if !iso[want] {
			t.Errorf("base map lacks %s", want)
		}
	}
	land, err := VietnamLand()
	if err != nil {
		t.Fatal(err)
	}
	vertices := map[orb.Point]bool{}
	for _, p := range land {
		for _, r := range p {
			for _, v := range r {
				vertices[v] = true
			}
		}
	}
	lines, _ := BorderLines()
	for _, c := range lines {
		for _, v := range c.Geometry.(orb.LineString) {
			if !vertices[v] {
				t.Errorf("border %s vertex %v is not on Vietnam's outline", c.Code, v)
				break
			}
		}
	}
	hanoi, hcmc, bangkok := orb.Point{105.85, 21.03}, orb.Point{106.7, 10.78}, orb.Point{100.5, 13.75}
	if !planar.MultiPolygonContains(land, hanoi) || !planar.MultiPolygonContains(land, hcmc) || planar.MultiPolygonContains(land, bangkok) {
		t.Error("VietnamLand does not hold Hà Nội and Hồ Chí Minh City but not Bangkok")
	}
}

func TestDemoDecodes(t *testing.T) {
	byLayer, err := Demo()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range zone.Layers() {
		if len(byLayer[l.ID]) == 0 {
			t.Errorf("demo has no %s", l.ID)
		}
	}
	flat, err := DemoComponents()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, cs := range byLayer {
		n += len(cs)
	}
	if len(flat) != n {
		t.Errorf("DemoComponents has %d, Demo %d", len(flat), n)
	}
}

func TestDecodeLayerReportsEveryBadFeature(t *testing.T) {
	bad := []byte(`{"type":"FeatureCollection","features":[
{"type":"Feature","geometry":{"type":"Point","coordinates":[105,21]},"properties":{"name":"ok"}},
{"type":"Feature","geometry":{"type":"Point","coordinates":[105,21]},"properties":{}},
{"type":"Feature","geometry":{"type":"LineString","coordinates":[[105,21],[106,22]]},"properties":{"name":"line"}}
]}`)
	_, err := DecodeLayer(zone.LayerCommuneHQs, bad)
	if zone.ErrorCode(err) != zone.CodeInvalid {
		t.Fatalf("got %v, want an invalid error", err)
	}
	idx := map[int]bool{}
	for _, d := range zone.ErrorDetails(err) {
		idx[d.Index] = true
	}
	if idx[0] || !idx[1] || !idx[2] {
		t.Errorf("details name features %v, want 1 and 2", idx)
	}
}

// TestProvinceCentres: the 34 provinces and cities after 2025, each named
// once, each centre on Vietnam's land.
func TestProvinceCentres(t *testing.T) {
	fc, err := geojson.UnmarshalFeatureCollection(BasemapPlacesGeoJSON())
	if err != nil {
		t.Fatal(err)
	}
	if len(fc.Features) != 34 {
		t.Errorf("%d provincial centres, want 34", len(fc.Features))
	}
	land, err := VietnamLand()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range fc.Features {
		name := f.Properties.MustString("name", "")
		if names[name] || name == "" {
			t.Errorf("province %q named twice or unnamed", name)
		}
		names[name] = true
		// On land, or (a coastal city such as Hạ Long) within 0.03° (about
		// 3 km) of the 1:10m coastline.
		p, ok := f.Geometry.(orb.Point)
		if !ok || !planar.MultiPolygonContains(land, p) && planar.DistanceFrom(land, p) > 0.03 {
			t.Errorf("%s: centre %v is not on Vietnam's land", name, f.Geometry)
		}
	}
	for _, want := range []string{"Hà Nội", "Lạng Sơn", "Cao Bằng", "Quảng Ninh", "Lào Cai", "Tuyên Quang", "Điện Biên", "Lai Châu", "Hải Phòng", "Thành phố Hồ Chí Minh", "An Giang"} {
		if !names[want] {
			t.Errorf("no centre of %s", want)
		}
	}
	for _, gone := range []string{"Hà Giang", "Yên Bái", "Hải Dương", "Bắc Kạn", "Kiên Giang"} {
		if names[gone] {
			t.Errorf("%s is a province again: it was merged in 2025", gone)
		}
	}
}

// TestBorderLinesAreVietnamsEdges: every edge of the border lines is an
// edge of Vietnam's land polygon (the arcs the topology shares), so the
// checker's border belt, cut by that polygon, is cut along the line
// itself.
func TestBorderLinesAreVietnamsEdges(t *testing.T) {
	land, err := VietnamLand()
	if err != nil {
		t.Fatal(err)
	}
	type edge struct{ a, b orb.Point }
	edges := map[edge]bool{}
	for _, p := range land {
		for _, r := range p {
			for i := 1; i < len(r); i++ {
				edges[edge{r[i-1], r[i]}] = true
				edges[edge{r[i], r[i-1]}] = true
			}
		}
	}
	lines, err := BorderLines()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range lines {
		ls := c.Geometry.(orb.LineString)
		for i := 1; i < len(ls); i++ {
			if !edges[edge{ls[i-1], ls[i]}] {
				t.Errorf("%s: edge %v-%v is no edge of Vietnam's polygon", c.Code, ls[i-1], ls[i])
			}
			n++
		}
	}
	if n < 1000 {
		t.Fatalf("only %d border edges", n)
	}
}
