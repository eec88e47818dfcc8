package check

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// An overlap writes the GeoJSON orb's geojson writes, and reads back as
// the same geometry.
func TestOverlapJSONMatchesGeoJSON(t *testing.T) {
	sq := orb.Ring{{105.1234567, 21.1}, {105.2, 21.1}, {105.2, 21.2}, {105.1, 21.2}, {105.1234567, 21.1}}
	for _, g := range []orb.Geometry{
		orb.Point{105.8318371, -21.0000001},
		orb.MultiPoint{{1, 2}, {3.5, 4.25}},
		orb.LineString{{1, 2}, {3, 4}},
		orb.MultiLineString{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}},
		orb.Polygon{sq},
		orb.MultiPolygon{{sq}, {sq, sq}},
		orb.Ring(sq),
		orb.Collection{orb.Point{1, 2}, orb.LineString{{1, 2}, {3, 4}}},
	} {
		got, err := json.Marshal(&Overlap{g: g})
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(geojson.NewGeometry(g))
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("%s: invalid JSON %s: %v", g.GeoJSONType(), got, err)
		}
		_ = json.Unmarshal(want, &b)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%s: wrote %s, orb's geojson writes %s", g.GeoJSONType(), got, want)
		}
		var back Overlap
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatal(err)
		}
		if again, _ := json.Marshal(&back); string(again) != string(got) {
			t.Fatalf("%s: read back as %s, wrote %s", g.GeoJSONType(), again, got)
		}
	}
	if b, _ := json.Marshal(struct {
		O *Overlap `json:"overlap"`
	}{}); string(b) != `{"overlap":null}` {
		t.Fatalf("no overlap: %s", b)
	}
}
