package formats

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// wholeTextCoords is how KML coordinates were read before they streamed,
// from the whole text: the reference coordParser must agree with.
func wholeTextCoords(s string) ([]orb.Point, error) {
	s = strings.Join(strings.Fields(strings.ReplaceAll(strings.ReplaceAll(s, ", ", ","), " ,", ",")), " ")
	var ps []orb.Point
	for i, tuple := range strings.Fields(s) {
		parts := strings.Split(tuple, ",")
		if len(parts) < 2 || len(parts) > 3 {
			return nil, fmt.Errorf("coordinate %d %q is not lon,lat[,alt]", i+1, tuple)
		}
		lon, err1 := strconv.ParseFloat(parts[0], 64)
		lat, err2 := strconv.ParseFloat(parts[1], 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("coordinate %d %q is not a number pair lon,lat", i+1, tuple)
		}
		ps = append(ps, orb.Point{lon, lat})
	}
	return ps, nil
}

// TestCoordParserAgreesWithWholeText: random coordinate texts, cut into
// random chunks as encoding/xml may hand them over, give the points and
// errors the whole text gave.
func TestCoordParserAgreesWithWholeText(t *testing.T) {
	rng := rand.New(rand.NewPCG(12, 12))
	pieces := []string{"1", "2.5", "-106.75", "21.85", ",", ",", " ", " ", "  ", "\t", "\n", "\r\n", "x", "1e3", "\u00a0", "\u2003", "é", ", ", " ,", ",,", "\xff", "\xe2\x80"}
	for n := 0; n < 20000; n++ {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		text := b.String()
		want, wantErr := wholeTextCoords(text)
		cp := coordParser{limit: func(int) error { return nil }}
		rest := []byte(text)
		for len(rest) > 0 {
			k := 1 + rng.IntN(len(rest))
			if err := cp.write(rest[:k]); err != nil {
				t.Fatal(err)
			}
			rest = rest[k:]
		}
		if err := cp.close(); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(cp.err) != fmt.Sprint(wantErr) || (wantErr == nil && !reflect.DeepEqual(cp.pts, want)) {
			t.Fatalf("%q: got %v %v, want %v %v", text, cp.pts, cp.err, want, wantErr)
		}
	}
}

// TestCountJSONAgreesWithDecoding: the positions countJSON finds in a
// feature are the vertices package geojson decodes from it, and its
// attribute values are those of the properties and foreign members.
func TestCountJSONAgreesWithDecoding(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	pt := func() orb.Point { return orb.Point{100 + rng.Float64(), 20 + rng.Float64()} }
	ring := func() orb.Ring {
		r := orb.Ring{}
		for range 3 + rng.IntN(5) {
			r = append(r, pt())
		}
		return append(r, r[0])
	}
	geoms := []func() orb.Geometry{
		func() orb.Geometry { return pt() },
		func() orb.Geometry { return orb.MultiPoint{pt(), pt(), pt()} },
		func() orb.Geometry { return orb.LineString{pt(), pt()} },
		func() orb.Geometry { return orb.MultiLineString{{pt(), pt()}, {pt(), pt(), pt()}} },
		func() orb.Geometry { return orb.Polygon{ring(), ring()} },
		func() orb.Geometry { return orb.MultiPolygon{{ring()}, {ring(), ring()}} },
		func() orb.Geometry { return orb.Collection{pt(), orb.Polygon{ring()}} },
	}
	for n := 0; n < 2000; n++ {
		g := geoms[rng.IntN(len(geoms))]()
		f := geojson.NewFeature(g)
		f.ID = n
		f.BBox = geojson.NewBBox(g.Bound())
		f.Properties["name"] = "x"
		f.Properties["nested"] = map[string]any{"a": []any{1.0, "two", nil, []any{3.0}}, "coordinates": []any{1.0, 2.0}}
		b, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		// A foreign member, and keys in another case where geojson matches
		// them so (a geometry's) and where it does not (a feature's).
		raw := strings.Replace(string(b), `{`, `{"foreign":[true,false],"Geometry":{"type":"Point","coordinates":[1,2]},`, 1)
		raw = strings.ReplaceAll(raw, `"coordinates":[[`, `"Coordinates":[[`)
		back, err := geojson.UnmarshalFeature([]byte(raw))
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		positions, values := countJSON([]byte(raw), true)
		if vc := vertexCount(back.Geometry); positions != vc {
			t.Fatalf("%s: %d positions counted, %d decoded", raw, positions, vc)
		}
		// properties: {} 1, name 1, nested {} 1, a [1,"two",null,[3]] 1+4+1,
		// coordinates [1,2] 1+2; foreign [true,false] 1+2; Geometry
		// {"type":"Point","coordinates":[1,2]} 1+1+1+2. Not id, type, bbox.
		if values != (1+1+1+6+3)+3+5 {
			t.Fatalf("%s: %d values", raw, values)
		}
	}
}

// vertexCount counts as zone.VertexCount does, collections included.
func vertexCount(g orb.Geometry) int {
	if c, ok := g.(orb.Collection); ok {
		n := 0
		for _, g := range c {
			n += vertexCount(g)
		}
		return n
	}
	return zone.VertexCount(g)
}
