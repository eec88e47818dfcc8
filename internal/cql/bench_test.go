package cql

import (
	"math"
	"testing"

	"github.com/paulmach/orb"
)

const benchFilter = "(kind IN ('depot', 'rear_base') OR name LIKE 'Kho vũ khí%') AND classification <= 'restricted' AND height_m > 20 AND S_INTERSECTS(geometry, POLYGON((104 20, 108 20, 108 23, 104 23, 104 20), (105 21, 107 21, 107 22, 105 22, 105 21)))"

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		if _, err := Parse(benchFilter); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkToSQL(b *testing.B) {
	e, err := Parse(benchFilter)
	if err != nil {
		b.Fatal(err)
	}
	s := testSchema()
	for b.Loop() {
		if _, _, err := ToSQL(e, s, 1); err != nil {
			b.Fatal(err)
		}
	}
}

// benchPredicate reports the cost of evaluating one record.
func benchPredicate(b *testing.B, filter string) {
	e, err := Parse(filter)
	if err != nil {
		b.Fatal(err)
	}
	p, err := Compile(e, testSchema())
	if err != nil {
		b.Fatal(err)
	}
	rows := crossRows()
	getters := make([]Getter, len(rows))
	for i, r := range rows {
		getters[i] = mapGetter(r)
	}
	matched := 0
	i := 0
	for b.Loop() {
		if p(getters[i%len(getters)]) {
			matched++
		}
		i++
	}
	b.ReportMetric(float64(matched)/float64(i), "matched/op")
}

func BenchmarkPredicateAttributes(b *testing.B) {
	benchPredicate(b, "(kind IN ('depot', 'rear_base') OR name LIKE 'Kho vũ khí%') AND classification <= 'restricted' AND height_m > 20")
}

func BenchmarkPredicateSpatialBBox(b *testing.B) {
	benchPredicate(b, "S_INTERSECTS(geometry, BBOX(105, 21, 106, 22))")
}

func BenchmarkPredicateFull(b *testing.B) {
	benchPredicate(b, benchFilter)
}

// circle is a polygon of n vertices around (x, y), radius r degrees.
func circle(x, y, r float64, n int) orb.Polygon {
	ring := make(orb.Ring, n+1)
	for i := 0; i < n; i++ {
		a := 2 * math.Pi * float64(i) / float64(n)
		ring[i] = orb.Point{x + r*math.Cos(a), y + r*math.Sin(a)}
	}
	ring[n] = ring[0]
	return orb.Polygon{ring}
}

// benchSpatial reports S_INTERSECTS with a box against one large polygon
// record.
func benchSpatial(b *testing.B, record orb.Geometry, want bool) {
	e, err := Parse("S_INTERSECTS(geometry, BBOX(105, 21, 106, 22))")
	if err != nil {
		b.Fatal(err)
	}
	p, err := Compile(e, testSchema())
	if err != nil {
		b.Fatal(err)
	}
	get := mapGetter(map[string]any{"geometry": record})
	for b.Loop() {
		if p(get) != want {
			b.Fatal("wrong answer")
		}
	}
}

func BenchmarkSpatialPolygon1000Inside(b *testing.B) {
	benchSpatial(b, circle(105.5, 21.5, 0.2, 1000), true)
}

func BenchmarkSpatialPolygon1000Across(b *testing.B) {
	benchSpatial(b, circle(106, 21.5, 0.2, 1000), true)
}
