package cql

import (
	"testing"
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
