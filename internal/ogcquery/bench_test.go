package ogcquery

import (
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/zoneplan/zoneplan/internal/cql"
	"github.com/zoneplan/zoneplan/internal/zone"
)

func BenchmarkParseQuery(b *testing.B) {
	s := projectSchema(b)
	values, err := url.ParseQuery("limit=50&offset=100&bbox=102,8,110,23.5&sortby=-height_m,name&kind=mine&datetime=2024-01-01T00:00:00Z/..&filter=" +
		url.QueryEscape("CASEI(ACCENTI(name)) LIKE 'mo da%' AND classification <= 'restricted' AND S_INTERSECTS(geometry, BBOX(104, 20, 106, 22))"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Parse(values, s, testOptions); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSortComponents sorts 10,000 components by two keys through
// ComponentGetter and cql.Comparator, as an items request with sortby does.
func BenchmarkSortComponents(b *testing.B) {
	s := projectSchema(b)
	cmp, err := cql.Comparator(s, []cql.SortKey{{Property: "height_m", Desc: true}, {Property: "name"}})
	if err != nil {
		b.Fatal(err)
	}
	base := siteComponents()
	cs := make([]*zone.Component, 10_000)
	for i := range cs {
		c := base[i%len(base)].Clone()
		c.UpdatedAt = time.Unix(int64(i), 0)
		cs[i] = c
	}
	type item struct {
		c   *zone.Component
		get cql.Getter
	}
	items := make([]item, len(cs))
	for b.Loop() {
		for i, c := range cs {
			items[i] = item{c, ComponentGetter(c)}
		}
		slices.SortFunc(items, func(x, y item) int { return cmp(x.get, y.get) })
	}
}

// BenchmarkSortComponentsKeys sorts the same way with keys read once per
// component (cql.Sorter).
func BenchmarkSortComponentsKeys(b *testing.B) {
	s := projectSchema(b)
	so, err := cql.NewSorter(s, []cql.SortKey{{Property: "height_m", Desc: true}, {Property: "name"}})
	if err != nil {
		b.Fatal(err)
	}
	base := siteComponents()
	cs := make([]*zone.Component, 10_000)
	for i := range cs {
		cs[i] = base[i%len(base)]
	}
	type item struct {
		c    *zone.Component
		keys []any
	}
	items := make([]item, len(cs))
	for b.Loop() {
		for i, c := range cs {
			items[i] = item{c, so.Keys(ComponentGetter(c))}
		}
		slices.SortFunc(items, func(x, y item) int { return so.Compare(x.keys, y.keys) })
	}
}
