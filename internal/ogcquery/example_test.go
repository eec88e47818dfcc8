package ogcquery_test

import (
	"fmt"
	"net/url"

	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/internal/cql"
	"github.com/zoneplan/zoneplan/internal/ogcquery"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// An items request on the project_sites collection, translated for
// PostGIS and for the in-memory index.
func Example() {
	layer, _ := zone.GetLayer(zone.LayerProjectSites)
	schema := ogcquery.ComponentSchema(layer)
	values, _ := url.ParseQuery("limit=20&kind=mine&sortby=-height_m" +
		"&filter=" + url.QueryEscape("height_m > 30 AND S_INTERSECTS(geometry, BBOX(104, 20, 106, 22))"))
	q, err := ogcquery.Parse(values, schema, ogcquery.Options{DatetimeProperty: zone.FieldUpdatedAt})
	if err != nil {
		fmt.Println(zone.ErrorMessage(err)) // a 400 with this message
		return
	}
	// PostGIS: $1 is the layer, the filter's parameters follow.
	where, args, _ := q.SQL(schema, 2)
	order, _ := cql.OrderBySQL(schema, q.SortBy)
	fmt.Println("WHERE c.layer = $1 AND " + where)
	fmt.Println("ORDER BY "+order+", c.id LIMIT", q.Limit, "OFFSET", q.Offset)
	fmt.Println(len(args), "parameters")

	// In memory: the same selection as a Go predicate.
	match, _ := q.Predicate(schema)
	site := &zone.Component{Layer: zone.LayerProjectSites, Kind: "mine", Name: "Mỏ đá Hòa Bình",
		Properties: map[string]any{"height_m": 45.0}, Geometry: orb.Point{105.3, 20.8}}
	fmt.Println("matches:", match(ogcquery.ComponentGetter(site)))
	// Output:
	// WHERE c.layer = $1 AND ((((CASE WHEN jsonb_typeof(c.properties->'height_m') = 'number' THEN (c.properties->>'height_m')::float8 END) > $2::float8) AND ST_Intersects(c.geom, ST_GeomFromWKB($3, 4326))) AND (c.kind = $4::text))
	// ORDER BY (CASE WHEN jsonb_typeof(c.properties->'height_m') = 'number' THEN (c.properties->>'height_m')::float8 END) DESC, c.id LIMIT 20 OFFSET 0
	// 3 parameters
	// matches: true
}

// A malformed filter is a 400 whose message names the parameter and the
// position.
func ExampleParse_error() {
	values := url.Values{"filter": {"name = 'Kho' AND (kind = 'depot'"}}
	_, err := ogcquery.Parse(values, ogcquery.ComponentSchema(nil), ogcquery.Options{})
	fmt.Println(zone.ErrorCode(err), "-", zone.ErrorMessage(err))
	// Output:
	// invalid - filter: cql2: at position 33: expected ')' but found end of input
}
