package ogcquery

import (
	"errors"
	"net/url"
	"testing"

	"github.com/zoneplan/zoneplan/internal/cql"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// FuzzParseQuery: Parse never panics on any raw query string; every error
// is a zone.Error with CodeInvalid; an accepted query translates to SQL
// and a predicate without error, and its limit and offset are in range.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"", "limit=10&offset=20", "bbox=102,8,110,23.5", "bbox=1,2,3,4,5,6", "sortby=+name,-updated_at",
		"properties=name,kind", "kind=mine&group=I", "classification=secret", "height_m=12",
		"datetime=2024-01-01/..", "datetime=../2024-01-01T00:00:00Z", "datetime=2024-01-01",
		"filter=name%20LIKE%20%27Kho%25%27&filter-lang=cql2-text",
		"filter=S_INTERSECTS(geometry,BBOX(102,8,110,23))", "filter-lang=cql2-json", "colour=red", "limit=1&limit=2",
		"f=json&token=x", "filter=%ff", "bbox=NaN,1,2,3", "offset=9223372036854775807", "offset=2147483648&limit=10000",
	} {
		f.Add(s)
	}
	l, _ := zone.GetLayer(zone.LayerProjectSites)
	s := ComponentSchema(l)
	f.Fuzz(func(t *testing.T, raw string) {
		values, err := url.ParseQuery(raw)
		if err != nil {
			return // the HTTP layer answers 400 before Parse
		}
		q, err := Parse(values, s, testOptions)
		if err != nil {
			var ze *zone.Error
			if !errors.As(err, &ze) || ze.Code != zone.CodeInvalid {
				t.Fatalf("Parse(%q): %T %v", raw, err, err)
			}
			return
		}
		if q.Limit < 1 || q.Limit > DefaultMaxLimit || q.Offset < 0 || q.Offset > MaxOffset || q.Offset+q.Limit < q.Offset {
			t.Fatalf("Parse(%q): limit %d offset %d", raw, q.Limit, q.Offset)
		}
		if _, _, err := q.SQL(s, 1); err != nil {
			t.Fatalf("Parse(%q) accepted a query whose SQL fails: %v", raw, err)
		}
		if _, err := q.Predicate(s); err != nil {
			t.Fatalf("Parse(%q) accepted a query whose predicate fails: %v", raw, err)
		}
		if _, err := cql.OrderBySQL(s, q.SortBy); err != nil {
			t.Fatalf("Parse(%q) accepted a sortby that fails: %v", raw, err)
		}
	})
}
