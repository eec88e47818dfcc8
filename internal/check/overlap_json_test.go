package check

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
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

// A coordinate is written rounded as orb.Round rounds it, in strconv's
// shortest decimal, whether it takes the fast way (under 1000) or not.
func TestAppendRoundedMatchesOrbRoundAndStrconv(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	vals := []float64{0, math.Copysign(0, -1), -1e-9, 1, -1, 1e-7, -1e-7, 5e-8, 4.9e-8, 0.1, 179.9999999, 179.99999995, -180,
		1e-320, 999.99999994, 999.99999996, 1000, -1000.00000004, math.MaxFloat64, 1 << 53, 9007199254.7400991, 105.0000001,
		21.1000000001, 833406746.213, math.Inf(1), math.Inf(-1)}
	for i := 0; i < 300_000; i++ {
		v := (rng.Float64()*2 - 1) * []float64{1, 180, 1e3, 1e6, 1e9}[i%5]
		vals = append(vals, v, math.Round(v*1e7)/1e7, math.Round(v*1e3)/1e3)
	}
	for _, v := range vals {
		rounded := orb.Round(orb.Point{v, 0}, 1e7).(orb.Point)[0]
		want := strconv.FormatFloat(rounded, 'f', -1, 64)
		if got := string(appendRounded(nil, v)); got != want {
			t.Fatalf("appendRounded(%v) = %s, orb.Round and strconv give %s", v, got, want)
		}
	}
}

// An overlap rounds as it writes and leaves the checker's geometry as it
// was (it may be the footprint itself).
func TestOverlapRoundsWithoutChangingItsGeometry(t *testing.T) {
	g := orb.Polygon{{{105.123456789, 21.5}, {105.2, 21.5000000449}, {105.2, 21.6}, {105.123456789, 21.5}}}
	o := &Overlap{g: g}
	b, _ := o.MarshalJSON()
	if want := `{"type":"Polygon","coordinates":[[[105.1234568,21.5],[105.2,21.5],[105.2,21.6],[105.1234568,21.5]]]}`; string(b) != want {
		t.Fatalf("wrote %s, want %s", b, want)
	}
	if g[0][0][0] != 105.123456789 {
		t.Fatalf("writing changed the geometry: %v", g[0][0])
	}
	if got := o.Geometry().(orb.Polygon)[0][0][0]; got != 105.1234568 {
		t.Fatalf("Geometry() = %v, want it rounded as written", got)
	}
}
