package check

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/internal/crs"
	"github.com/zoneplan/zoneplan/internal/formats"
	"github.com/zoneplan/zoneplan/internal/zone"
)

func TestDecodeFootprintsPlainAndTransformed(t *testing.T) {
	wgs := `{"type":"Polygon","coordinates":[[[106.75,21.84],[106.76,21.84],[106.76,21.85],[106.75,21.84]]]}`
	plain := Input{Name: "body", Data: []byte(wgs), Format: formats.GeoJSON}
	if !plain.Plain() {
		t.Fatal("WGS84 GeoJSON without crs is not plain")
	}
	d, err := DecodeFootprints(plain)
	if err != nil || len(d.Footprints) != 1 || d.Footprints[0].Index != -1 {
		t.Fatalf("plain: %+v %v", d, err)
	}
	// The same place given in VN-2000 TM-3 (Lạng Sơn, EPSG:9215) metres.
	c := crs.Must("EPSG:9215")
	ring := d.Footprints[0].Geometry
	projected, err := crs.TransformFromWGS84(ring, c)
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(geomJSONForTest(t, projected), "{", `{"crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::9215"}},`, 1)
	in := Input{Name: "body", Data: []byte(body), Format: formats.GeoJSON}
	if in.Plain() {
		t.Fatal("GeoJSON with a crs member counted as plain")
	}
	d2, err := DecodeFootprints(in)
	if err != nil || len(d2.Footprints) != 1 || d2.Footprints[0].Index != -1 || d2.CRS.Code != c.Code {
		t.Fatalf("transformed: %+v %v", d2, err)
	}
	if a, b := measure(d.Footprints[0].Geometry).AreaM2, measure(d2.Footprints[0].Geometry).AreaM2; a-b > 0.01 || b-a > 0.01 {
		t.Fatalf("areas differ: %f vs %f", a, b)
	}
	// Degrees stated as VN-2000 metres are refused, naming the vertex.
	_, err = DecodeFootprints(Input{Name: "body", Data: []byte(wgs), CRS: c})
	if zone.ErrorCode(err) != zone.CodeInvalid || !strings.Contains(err.Error(), "degrees") {
		t.Fatalf("degrees as metres: %v", err)
	}
}

func geomJSONForTest(t *testing.T, g orb.Geometry) string {
	t.Helper()
	b, err := json.Marshal(geojson.NewGeometry(g))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
