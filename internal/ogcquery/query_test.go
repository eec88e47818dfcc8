package ogcquery

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/internal/cql"
	"github.com/zoneplan/zoneplan/internal/zone"
)

func projectSchema(t testing.TB) cql.Properties {
	t.Helper()
	l, err := zone.GetLayer(zone.LayerProjectSites)
	if err != nil {
		t.Fatal(err)
	}
	return ComponentSchema(l)
}

var testOptions = Options{DatetimeProperty: zone.FieldUpdatedAt, Allow: []string{"token"},
	CRS: []string{"http://www.opengis.net/def/crs/EPSG/0/3405"}}

func mustParse(t *testing.T, raw string) *Query {
	t.Helper()
	values, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	q, err := Parse(values, projectSchema(t), testOptions)
	if err != nil {
		t.Fatalf("Parse(%q): %v", raw, err)
	}
	return q
}

func where(q *Query) string {
	if q.Where() == nil {
		return ""
	}
	return q.Where().String()
}

func TestParseDefaults(t *testing.T) {
	q := mustParse(t, "f=json&token=abc")
	if q.Limit != 100 || q.Offset != 0 || q.BBox != nil || q.Properties != nil || q.SortBy != nil || q.Where() != nil {
		t.Fatalf("defaults: %+v", q)
	}
	sql, args, err := q.SQL(projectSchema(t), 1)
	if err != nil || sql != "TRUE" || args != nil {
		t.Fatalf("SQL of an empty query: %q %v %v", sql, args, err)
	}
}

func TestParse(t *testing.T) {
	cases := []struct {
		name, raw string
		check     func(t *testing.T, q *Query)
	}{
		{"limit and offset are read", "limit=10&offset=20", func(t *testing.T, q *Query) {
			if q.Limit != 10 || q.Offset != 20 {
				t.Errorf("limit %d offset %d", q.Limit, q.Offset)
			}
		}},
		{"limit at the maximum is allowed", "limit=10000", func(t *testing.T, q *Query) {
			if q.Limit != 10000 {
				t.Errorf("limit %d", q.Limit)
			}
		}},
		{"bbox of four numbers", "bbox=102,8.5,110,23.4", func(t *testing.T, q *Query) {
			want := orb.Bound{Min: orb.Point{102, 8.5}, Max: orb.Point{110, 23.4}}
			if q.BBox == nil || *q.BBox != want {
				t.Errorf("bbox %v", q.BBox)
			}
		}},
		{"bbox of six numbers drops z", "bbox=102,8.5,-10,110,23.4,100", func(t *testing.T, q *Query) {
			want := orb.Bound{Min: orb.Point{102, 8.5}, Max: orb.Point{110, 23.4}}
			if q.BBox == nil || *q.BBox != want {
				t.Errorf("bbox %v", q.BBox)
			}
		}},
		{"bbox with spaces after commas", "bbox=102,%208.5,%20110,%2023.4", func(t *testing.T, q *Query) {
			if q.BBox == nil || q.BBox.Min[1] != 8.5 {
				t.Errorf("bbox %v", q.BBox)
			}
		}},
		{"bbox-crs CRS84 as a safe CURIE is range-checked CRS84", "bbox=102,8,110,23&bbox-crs=[OGC:CRS84]", func(t *testing.T, q *Query) {
			if q.BBox == nil || !IsCRS84(q.BBoxCRS) {
				t.Errorf("bbox %v crs %q", q.BBox, q.BBoxCRS)
			}
		}},
		{"filter-crs CRS84 over https with version 0 is accepted", "filter-crs=https://www.opengis.net/def/crs/OGC/0/CRS84", func(t *testing.T, q *Query) {}},
		{"bbox in another crs is not range-checked", "bbox=500000,2300000,600000,2400000&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3405", func(t *testing.T, q *Query) {
			if q.BBox == nil || q.BBoxCRS != "http://www.opengis.net/def/crs/EPSG/0/3405" {
				t.Errorf("bbox %v crs %q", q.BBox, q.BBoxCRS)
			}
		}},
		{"sortby plus decoded as a space is ascending", "sortby=+name,-updated_at", func(t *testing.T, q *Query) {
			want := []cql.SortKey{{Property: "name"}, {Property: "updated_at", Desc: true}}
			if len(q.SortBy) != 2 || q.SortBy[0] != want[0] || q.SortBy[1] != want[1] {
				t.Errorf("sortby %+v", q.SortBy)
			}
		}},
		{"sortby encoded plus is ascending", "sortby=%2Bheight_m", func(t *testing.T, q *Query) {
			if len(q.SortBy) != 1 || q.SortBy[0] != (cql.SortKey{Property: "height_m"}) {
				t.Errorf("sortby %+v", q.SortBy)
			}
		}},
		{"properties are listed once each", "properties=name,%20kind,name", func(t *testing.T, q *Query) {
			if strings.Join(q.Properties, ",") != "name,kind" {
				t.Errorf("properties %v", q.Properties)
			}
		}},
		{"empty properties means none", "properties=", func(t *testing.T, q *Query) {
			if q.Properties == nil || len(q.Properties) != 0 {
				t.Errorf("properties %#v", q.Properties)
			}
		}},
		{"equality parameters become a filter", "kind=mine&group=I", func(t *testing.T, q *Query) {
			if got := where(q); got != "(group = 'I' AND kind = 'mine')" {
				t.Errorf("where %s", got)
			}
		}},
		{"equality on a number property is numeric", "height_m=12.50", func(t *testing.T, q *Query) {
			if got := where(q); got != "height_m = 12.5" {
				t.Errorf("where %s", got)
			}
		}},
		{"equality on classification takes a level name in any case", "classification=SECRET", func(t *testing.T, q *Query) {
			sql, args, err := q.SQL(projectSchema(t), 1)
			if err != nil || sql != "(c.classification = $1::int)" || args[0] != 3 {
				t.Errorf("sql %s %v %v", sql, args, err)
			}
		}},
		{"equality on a boolean", "synthetic=true", func(t *testing.T, q *Query) {
			if got := where(q); got != "synthetic = TRUE" {
				t.Errorf("where %s", got)
			}
		}},
		{"filter and equalities are joined with AND", "filter=name%20LIKE%20%27Kho%20v%C5%A9%20kh%C3%AD%25%27&kind=mine", func(t *testing.T, q *Query) {
			if got := where(q); got != "(name LIKE 'Kho vũ khí%' AND kind = 'mine')" {
				t.Errorf("where %s", got)
			}
			if q.Filter == nil || q.Filter.String() != "name LIKE 'Kho vũ khí%'" {
				t.Errorf("filter %v", q.Filter)
			}
		}},
		{"filter-lang cql2-text and filter-crs CRS84 are accepted", "filter=kind%3D%27mine%27&filter-lang=cql2-text&filter-crs=http://www.opengis.net/def/crs/OGC/1.3/CRS84", func(t *testing.T, q *Query) {
			if where(q) != "kind = 'mine'" {
				t.Errorf("where %s", where(q))
			}
		}},
		{"datetime instant is equality", "datetime=2024-05-01T15:00:00%2B07:00", func(t *testing.T, q *Query) {
			if got := where(q); got != "updated_at = TIMESTAMP('2024-05-01T08:00:00Z')" {
				t.Errorf("where %s", got)
			}
		}},
		{"datetime closed interval includes both ends", "datetime=2024-01-01T00:00:00Z/2024-02-01T00:00:00Z", func(t *testing.T, q *Query) {
			if got := where(q); got != "(updated_at >= TIMESTAMP('2024-01-01T00:00:00Z') AND updated_at <= TIMESTAMP('2024-02-01T00:00:00Z'))" {
				t.Errorf("where %s", got)
			}
		}},
		{"datetime open start", "datetime=../2024-02-01T00:00:00Z", func(t *testing.T, q *Query) {
			if got := where(q); got != "updated_at <= TIMESTAMP('2024-02-01T00:00:00Z')" {
				t.Errorf("where %s", got)
			}
		}},
		{"datetime open end written empty", "datetime=2024-02-01T00:00:00Z/", func(t *testing.T, q *Query) {
			if got := where(q); got != "updated_at >= TIMESTAMP('2024-02-01T00:00:00Z')" {
				t.Errorf("where %s", got)
			}
		}},
		{"datetime date end covers its whole day", "datetime=2024-01-01/2024-01-31", func(t *testing.T, q *Query) {
			if got := where(q); got != "(updated_at >= DATE('2024-01-01') AND updated_at < DATE('2024-02-01'))" {
				t.Errorf("where %s", got)
			}
		}},
		{"datetime date instant is that day", "datetime=2024-01-31", func(t *testing.T, q *Query) {
			if got := where(q); got != "(updated_at >= DATE('2024-01-31') AND updated_at < DATE('2024-02-01'))" {
				t.Errorf("where %s", got)
			}
		}},
		{"limit above the maximum is the maximum", "limit=10001", func(t *testing.T, q *Query) {
			if q.Limit != DefaultMaxLimit {
				t.Errorf("limit %d, want %d", q.Limit, DefaultMaxLimit)
			}
		}},
		{"bbox across the antimeridian is two boxes", "bbox=170,0,-170,10", func(t *testing.T, q *Query) {
			if q.BBox == nil || q.BBoxWrap == nil || *q.BBox != (orb.Bound{Min: orb.Point{170, 0}, Max: orb.Point{180, 10}}) ||
				*q.BBoxWrap != (orb.Bound{Min: orb.Point{-180, 0}, Max: orb.Point{-170, 10}}) {
				t.Errorf("bbox %v and %v", q.BBox, q.BBoxWrap)
			}
		}},
		{"datetime start and a duration", "datetime=2026-12-03/P2D", func(t *testing.T, q *Query) {
			if q.Datetime.Start.Format(time.RFC3339) != "2026-12-03T00:00:00Z" || q.Datetime.End.Format(time.RFC3339) != "2026-12-05T00:00:00Z" {
				t.Errorf("interval %v .. %v", q.Datetime.Start, q.Datetime.End)
			}
		}},
		{"datetime a duration and an end", "datetime=P1Y2M1W1DT1H30M0.5S/2026-12-03T12:00:00Z", func(t *testing.T, q *Query) {
			if got := q.Datetime.Start.Format(time.RFC3339Nano); got != "2025-09-25T10:29:59.5Z" || q.Datetime.End.Format(time.RFC3339) != "2026-12-03T12:00:00Z" {
				t.Errorf("interval %s .. %v", got, q.Datetime.End)
			}
		}},
		{"datetime fully open selects everything", "datetime=../..", func(t *testing.T, q *Query) {
			if got := where(q); got != "TRUE" {
				t.Errorf("where %s", got)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.check(t, mustParse(t, c.raw)) })
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ name, raw, want string }{
		{"limit zero is refused", "limit=0", "limit: must be a whole number from 1 to 10000"},
		{"limit not a number", "limit=ten", `limit: must be a whole number from 1 to 10000, got "ten"`},
		{"negative offset", "offset=-1", "offset: must be a whole number from 0 to 2147483647"},
		{"offset past MaxOffset (offset+limit would overflow)", "offset=9223372036854775807", "offset: must be a whole number from 0 to 2147483647"},
		{"offset past int64", "offset=9223372036854775808", "offset: must be a whole number from 0 to 2147483647"},
		{"limit past int64", "limit=99999999999999999999", "limit: must be a whole number from 1 to"},
		{"repeated parameter", "limit=1&limit=2", "limit: given 2 times"},
		{"a list compared", "filter=zones = 'x'", "filter: cql2: at position 7: zones is a list: a filter can only ask whether it IS NULL"},
		{"a list sorted", "sortby=zones", "sortby: cannot sort by zones: it is a array"},
		{"two durations", "datetime=P1D/P2D", "datetime: \"P1D/P2D\" is not an interval (a duration needs a time"},
		{"duration to an open end", "datetime=P1D/..", "datetime: \"P1D/..\" is not an interval (a duration needs a time"},
		{"duration of nothing", "datetime=2026-12-03/P", "datetime: \"2026-12-03/P\" is not an interval with a valid duration"},
		{"duration units out of order", "datetime=2026-12-03/P1D2Y", "datetime: \"2026-12-03/P1D2Y\" is not an interval with a valid duration"},
		{"duration with an empty clock", "datetime=2026-12-03/P1DT", "datetime: \"2026-12-03/P1DT\" is not an interval with a valid duration"},
		{"duration too long to hold", "datetime=2026-12-03/PT999999999H", "datetime: \"2026-12-03/PT999999999H\" is not an interval with a valid duration"},
		{"fractional days", "datetime=2026-12-03/P1.5D", "datetime: \"2026-12-03/P1.5D\" is not an interval with a valid duration"},
		{"bbox of three numbers", "bbox=1,2,3", "bbox: needs 4 numbers"},
		{"bbox with a word", "bbox=1,2,x,4", `bbox: value 3, "x", is not a number`},
		{"bbox NaN", "bbox=NaN,2,3,4", "bbox: value 1"},
		{"bbox reversed y", "bbox=102,23,110,8", "bbox: minimum y 23 is greater than maximum y 8"},
		{"reversed x outside CRS84", "bbox=600000,2300000,500000,2400000&bbox-crs=http://www.opengis.net/def/crs/EPSG/0/3405", "bbox: minimum x 600000 is greater than maximum x 500000 (only a box in CRS84"},
		{"bbox outside WGS84 without bbox-crs", "bbox=500000,2300000,600000,2400000", `bbox: "500000,2300000,600000,2400000" is outside longitude -180..180`},
		{"bbox reversed z", "bbox=1,2,30,3,4,10", "bbox: minimum z 30"},
		{"unsupported bbox-crs", "bbox=1,2,3,4&bbox-crs=EPSG:9999", `bbox-crs: unsupported CRS "EPSG:9999"`},
		{"bbox out of range with a CRS84 CURIE", "bbox=500000,2300000,600000,2400000&bbox-crs=[OGC:CRS84]", "bbox: \"500000,2300000,600000,2400000\" is outside"},
		{"bbox-crs without bbox", "bbox-crs=http://www.opengis.net/def/crs/OGC/1.3/CRS84", "bbox-crs: given without bbox"},
		{"unsupported crs", "crs=EPSG:4326", `crs: unsupported CRS "EPSG:4326"`},
		{"unknown parameter names itself", "colour=red", "colour: unknown parameter"},
		{"parameter without a name", "=5", `query: a parameter has no name ("=5")`},
		{"unknown parameter lists the queryables", "colour=red", "colour: unknown parameter (parameters: bbox, bbox-crs, crs, datetime, filter, filter-crs, filter-lang, limit, offset, properties, sortby, f; queryable properties: id, layer, kind, name"},
		{"misspelt limit is not ignored", "limt=5", "limt: unknown parameter"},
		{"unknown property in properties", "properties=name,colour", `properties: unknown property "colour"`},
		{"empty name in properties", "properties=name,,kind", "properties: empty name"},
		{"unknown sortby property", "sortby=-colour", `sortby: unknown property "colour"`},
		{"sortby geometry", "sortby=geometry", "sortby: cannot sort by geometry"},
		{"sortby twice", "sortby=name,-name", "sortby: name given twice"},
		{"sortby empty item", "sortby=name,", "sortby: empty property name"},
		{"cql2-json is not supported", "filter-lang=cql2-json&filter=%7B%7D", "filter-lang: cql2-json is not supported"},
		{"other filter-lang", "filter-lang=ecql", `filter-lang: "ecql" is not supported`},
		{"filter-crs other than CRS84", "filter-crs=http://www.opengis.net/def/crs/EPSG/0/4326", "filter-crs:"},
		{"filter syntax error keeps its position", "filter=name%20%3D%20%27x%27%20AND", "filter: cql2: at position 15: expected a property name or a literal but found end of input"},
		{"filter unknown property", "filter=colour%3D%27red%27", `filter: cql2: at position 1: unknown property "colour"`},
		{"filter type mismatch", "filter=name%20%3E%205", "filter: cql2: at position 6: cannot compare name (string) with 5 (number)"},
		{"a list property compared", "filter=activities = 'x'", "filter: cql2: at position 12: activities is a list: a filter can only ask whether it IS NULL"},
		{"equality on a number with a word", "height_m=tall", `height_m: "tall" is not a number`},
		{"equality on classification with an unknown level", "classification=top", `classification: "top" is not one of public, internal, restricted, secret`},
		{"equality on a boolean with a word", "synthetic=maybe", "synthetic: \"maybe\" is not true or false"},
		{"equality on geometry", "geometry=POINT(1%202)", "geometry: a geometry cannot be matched by value"},
		{"equality with no value", "kind=", "kind: give a value"},
		{"datetime garbage", "datetime=yesterday", `datetime: "yesterday" is not a time`},
		{"datetime reversed interval", "datetime=2024-02-01T00:00:00Z/2024-01-01T00:00:00Z", "datetime: interval"},
		{"datetime three parts", "datetime=2024-01-01/2024-01-02/2024-01-03", "datetime: \"2024-01-01/2024-01-02/2024-01-03\" is not an interval"},
		{"filter too long", "filter=" + strings.Repeat("a", DefaultMaxFilter+1), "filter: is 16385 characters long"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			values, err := url.ParseQuery(c.raw)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(values, projectSchema(t), testOptions)
			var ze *zone.Error
			if !errors.As(err, &ze) || ze.Code != zone.CodeInvalid {
				t.Fatalf("Parse(%q): want a zone.Error invalid, got %v", c.raw, err)
			}
			if !strings.Contains(ze.Message, c.want) {
				t.Fatalf("Parse(%q):\n got  %s\n want …%s…", c.raw, ze.Message, c.want)
			}
			param, _, _ := strings.Cut(c.want, ":")
			if !strings.HasPrefix(ze.Message, param+": ") {
				t.Fatalf("message %q does not start with its parameter %q", ze.Message, param)
			}
			if len(ze.Details) != 1 || ze.Details[0].Pointer != param {
				t.Fatalf("details %+v", ze.Details)
			}
		})
	}
}

func TestDatetimeWithoutTimeProperty(t *testing.T) {
	values := url.Values{"datetime": {"2024-01-01T00:00:00Z"}}
	_, err := Parse(values, projectSchema(t), Options{})
	if err == nil || !strings.Contains(err.Error(), "datetime: this collection has no time") {
		t.Fatalf("got %v", err)
	}
}

func TestDefaultLimitOption(t *testing.T) {
	q, err := Parse(url.Values{}, projectSchema(t), Options{DefaultLimit: 50, MaxLimit: 500})
	if err != nil || q.Limit != 50 {
		t.Fatalf("limit %v %v", q, err)
	}
	q, err = Parse(url.Values{"limit": {"501"}}, projectSchema(t), Options{DefaultLimit: 50, MaxLimit: 500})
	if err != nil || q.Limit != 500 {
		t.Fatalf("limit 501 with a maximum of 500: %v %v", q, err)
	}
}

func TestWithOffset(t *testing.T) {
	v := url.Values{"limit": {"10"}, "offset": {"10"}, "filter": {"kind = 'x'"}}
	next := WithOffset(v, 20)
	if next.Get("offset") != "20" || v.Get("offset") != "10" || next.Get("filter") != "kind = 'x'" {
		t.Fatalf("next %v, original %v", next, v)
	}
	if first := WithOffset(v, 0); first.Has("offset") {
		t.Fatalf("offset 0 kept: %v", first)
	}
}

func TestComponentSchemaFields(t *testing.T) {
	s := ComponentSchema(nil)
	for _, name := range []string{"id", "layer", "kind", "name", "code", "function_type", "group", "classification",
		"synthetic", "version", "created_at", "updated_at", "geometry"} {
		if _, ok := s.Lookup(name); !ok {
			t.Errorf("common field %s missing", name)
		}
	}
	if _, ok := s.Lookup("height_m"); ok {
		t.Error("layer property present without a layer")
	}
	p, ok := projectSchema(t).Lookup("height_m")
	if !ok || p.Type != cql.TypeNumber || !strings.Contains(p.SQL, "'height_m'") {
		t.Errorf("height_m: %+v", p)
	}
	doc := Queryables(projectSchema(t), "https://example.test/collections/project_sites/queryables", "Project sites")
	props := doc["properties"].(map[string]any)
	if props["updated_at"].(map[string]any)["format"] != "date-time" || props["geometry"].(map[string]any)["format"] != "geometry-any" {
		t.Errorf("queryables %v", props)
	}
}

func TestComponentGetter(t *testing.T) {
	c := &zone.Component{Layer: zone.LayerProjectSites, Kind: "mine", Name: "Mỏ đá", Classification: zone.Restricted,
		Properties: map[string]any{"height_m": 40.0}, Geometry: orb.Point{105, 21},
		UpdatedAt: time.Date(2024, 5, 1, 8, 0, 0, 1500, time.UTC)}
	s := projectSchema(t)
	for filter, want := range map[string]bool{
		"classification = 'restricted' AND height_m > 30":       true,
		"code IS NULL AND \"group\" IS NULL":                    true,
		"name LIKE 'Mỏ%'":                                       true,
		"S_INTERSECTS(geometry, BBOX(105, 21, 106, 22))":        true,
		"updated_at = TIMESTAMP('2024-05-01T08:00:00.000002Z')": true,
		"investor IS NOT NULL":                                  false,
	} {
		e, err := cql.Parse(filter)
		if err != nil {
			t.Fatal(err)
		}
		got, err := cql.Eval(e, s, ComponentGetter(c))
		if err != nil || got != want {
			t.Errorf("%s = %v (%v), want %v", filter, got, err, want)
		}
	}
}

// A queryable named like a standard parameter (limit, f, ...) could never
// be used as ?name=value: the registry must not introduce one.
func TestNoQueryableShadowsAStandardParameter(t *testing.T) {
	for _, l := range zone.Layers() {
		for _, name := range ComponentSchema(&l).Names() {
			if standard(name) {
				t.Errorf("layer %s: queryable %q is also a query parameter", l.ID, name)
			}
		}
	}
}

// With filter-lang=cql-text (GDAL up to 3.6) a boolean may be 1 or 0 and a
// time a plain string, as GDAL writes them; cql2-text stays strict.
func TestLegacyCQLTextForms(t *testing.T) {
	s := projectSchema(t)
	rec := map[string]any{"synthetic": true, "updated_at": time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)}
	get := func(name string) (any, bool) { v, ok := rec[name]; return v, ok }
	for _, c := range []struct {
		filter string
		want   bool
	}{
		{"synthetic = 1", true},
		{"synthetic = 0", false},
		{"synthetic IN (0, 1)", true},
		{"updated_at > '2020-01-01T'", true},
		{"updated_at > '2024-05-01'", true}, // a date is its day's start
		{"updated_at = '2024-05-01T08:00:00'", true},
		{"updated_at BETWEEN '2024-05-01 07:00:00' AND '2024/05/02'", true},
		{"updated_at < '2024-05-01T08:00:00Z'", false},
	} {
		q, err := Parse(url.Values{"filter": {c.filter}, "filter-lang": {"cql-text"}}, s, Options{DatetimeProperty: "updated_at"})
		if err != nil {
			t.Fatalf("%s: %v", c.filter, err)
		}
		pred, err := q.Predicate(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := pred(get); got != c.want {
			t.Errorf("%s = %v, want %v", c.filter, got, c.want)
		}
		if _, err := Parse(url.Values{"filter": {c.filter}}, s, Options{}); err == nil {
			t.Errorf("cql2-text accepts %q", c.filter)
		}
	}
}
