package cql

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// checkParse parses in and compares the canonical text of the tree.
func checkParse(t *testing.T, in, want string) {
	t.Helper()
	e, err := Parse(in)
	if err != nil {
		t.Fatalf("Parse(%q): %v", in, err)
	}
	if got := e.String(); got != want {
		t.Errorf("Parse(%q)\n got  %s\n want %s", in, got, want)
	}
	again, err := Parse(e.String())
	if err != nil {
		t.Fatalf("reparse %q: %v", e.String(), err)
	}
	if again.String() != e.String() {
		t.Errorf("round trip of %q changed it to %q", e.String(), again.String())
	}
}

func TestParse(t *testing.T) {
	cases := []struct{ in, want string }{
		{"name = 'Kho'", "name = 'Kho'"},
		{"name='Kho'", "name = 'Kho'"},
		{`"group" = 'I'`, `group = 'I'`},
		{`"and" = 1`, `"and" = 1`},
		{`"tên có dấu" = 1`, `"tên có dấu" = 1`},
		{"height_m >= 12.5", "height_m >= 12.5"},
		{"height_m <> -3", "height_m <> -3"},
		{"height_m < 1e3", "height_m < 1000"},
		{"height_m<=.5", "height_m <= 0.5"},
		{"synthetic = true", "synthetic = TRUE"},
		{"a = 1 and b = 2 or c = 3", "((a = 1 AND b = 2) OR c = 3)"},
		{"a = 1 or b = 2 and c = 3", "(a = 1 OR (b = 2 AND c = 3))"},
		{"(a = 1 or b = 2) and c = 3", "((a = 1 OR b = 2) AND c = 3)"},
		{"not a = 1 and b = 2", "(NOT (a = 1) AND b = 2)"},
		{"NOT NOT a = 1", "NOT (NOT (a = 1))"},
		{"name like 'Kho vũ khí%'", "name LIKE 'Kho vũ khí%'"},
		{"name NOT LIKE '_x'", "name NOT LIKE '_x'"},
		{"CASEI(name) LIKE casei('kho%')", "CASEI(name) LIKE CASEI('kho%')"},
		{"casei(accenti(name)) LIKE accenti(CASEI('kho vu khi%'))", "CASEI(ACCENTI(name)) LIKE ACCENTI(CASEI('kho vu khi%'))"},
		{"kind IN ('depot', 'rear_base')", "kind IN ('depot', 'rear_base')"},
		{"kind not in ('depot')", "kind NOT IN ('depot')"},
		{"height_m BETWEEN 1 AND 10 AND a = 1", "(height_m BETWEEN 1 AND 10 AND a = 1)"},
		{"height_m NOT BETWEEN 1 AND 10", "height_m NOT BETWEEN 1 AND 10"},
		{"code IS NULL", "code IS NULL"},
		{"code is not null", "code IS NOT NULL"},
		{"name = 'it''s'", "name = 'it''s'"},
		{"updated_at > TIMESTAMP('2024-05-01T08:00:00+07:00')", "updated_at > TIMESTAMP('2024-05-01T01:00:00Z')"},
		{"updated_at < date('2024-05-01')", "updated_at < DATE('2024-05-01')"},
		{"S_INTERSECTS(geometry, POINT(105.8 21.0))", "S_INTERSECTS(geometry, POINT(105.8 21))"},
		{"s_intersects(geometry, point z (105.8 21.0 7))", "S_INTERSECTS(geometry, POINT(105.8 21))"},
		{"S_INTERSECTS(geometry, BBOX(102, 8, 110, 23.5))", "S_INTERSECTS(geometry, BBOX(102, 8, 110, 23.5))"},
		{"S_INTERSECTS(geometry, ENVELOPE(102, 110, 23.5, 8))", "S_INTERSECTS(geometry, BBOX(102, 8, 110, 23.5))"},
		{"S_DISJOINT(geom, LINESTRING(1 2, 3 4))", "S_DISJOINT(geom, LINESTRING(1 2, 3 4))"},
		{"S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1, 0 1, 0 0)))", "S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1, 0 1, 0 0)))"},
		{"S_INTERSECTS(geometry, MULTIPOINT(1 2, 3 4))", "S_INTERSECTS(geometry, MULTIPOINT((1 2), (3 4)))"},
		{"S_INTERSECTS(geometry, MULTIPOINT((1 2), (3 4)))", "S_INTERSECTS(geometry, MULTIPOINT((1 2), (3 4)))"},
		{"S_INTERSECTS(geometry, MULTILINESTRING((1 2, 3 4), (5 6, 7 8)))", "S_INTERSECTS(geometry, MULTILINESTRING((1 2, 3 4), (5 6, 7 8)))"},
		{"S_INTERSECTS(geometry, MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5))))", "S_INTERSECTS(geometry, MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5))))"},
		{"S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(1 2), LINESTRING(0 0, 1 1)))", "S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(1 2), LINESTRING(0 0, 1 1)))"},
		{"S_INTERSECTS(geometry, POINT(105.123456789012 21.000000001))", "S_INTERSECTS(geometry, POINT(105.123456789012 21.000000001))"},
		{"intersects(geometry, POINT(1 2))", "S_INTERSECTS(geometry, POINT(1 2))"},
		{"s_within(geometry, BBOX(1, 2, 3, 4)) OR contains(geometry, POINT(1 2))", "(S_WITHIN(geometry, BBOX(1, 2, 3, 4)) OR S_CONTAINS(geometry, POINT(1 2)))"},
		{"S_TOUCHES(a, b) AND S_CROSSES(a, b) AND S_OVERLAPS(a, b) AND S_EQUALS(a, b)", "(((S_TOUCHES(a, b) AND S_CROSSES(a, b)) AND S_OVERLAPS(a, b)) AND S_EQUALS(a, b))"},
		{"TRUE", "TRUE"},
		{"false or a = 1", "(FALSE OR a = 1)"},
		{"point = 1", "point = 1"},
		{"date = 1", "date = 1"},
	}
	for _, c := range cases {
		checkParse(t, c.in, c.want)
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		in   string
		pos  int
		want string
	}{
		{"name = 'x' AND (kind = 'a' AND", 31, "expected a property name or a literal but found end of input"},
		{"(name = 'x' AND kind = 'a'", 27, "expected ')' but found end of input"},
		{"name = 'x' kind = 'a'", 12, "expected AND, OR or end of input but found 'kind'"},
		{"S_INTERSECTS(geometry POINT(1 2))", 23, "expected ',' but found 'POINT'"},
		{"name = 'unterminated", 8, "unterminated string"},
		{"tên = 'vũ' AND )", 16, "expected a property name or a literal but found ')'"},
		{"name ~ 'x'", 6, "unexpected character '~'"},
		{"name", 5, "expected a comparison operator, LIKE, IN, BETWEEN or IS but found end of input"},
		{"name NOT = 'x'", 10, "expected LIKE, IN or BETWEEN after NOT but found '='"},
		{"name IS NOT 'x'", 13, "expected NULL but found string 'x'"},
		{"updated_at > TIMESTAMP('yesterday')", 24, "TIMESTAMP needs an RFC 3339 time"},
		{"updated_at > DATE('2024-13-01')", 19, "DATE needs YYYY-MM-DD"},
		{"x = 1e999", 5, "out of range"},
		{"x = -", 5, "malformed number"},
		{"FOO(name) = 'x'", 1, "unknown function 'FOO'"},
		{"S_RELATE(geometry, POINT(1 2))", 1, "S_RELATE is not supported"},
		{"S_INTERSECTS(geometry, BBOX(110, 8, 102, 23))", 28, "minimum longitude 110 is greater than maximum 102"},
		{"S_INTERSECTS(geometry, BBOX(1, 2, 3))", 28, "BBOX needs 4 numbers"},
		{"S_INTERSECTS(geometry, ENVELOPE(102, 8, 110, 23))", 32, "minimum longitude 102 is greater than maximum 8"},
		{"S_INTERSECTS(geometry, POINT(200 21))", 24, "outside longitude"},
		{"S_INTERSECTS(geometry, POLYGON((0 0, 1 0, 1 1, 0 1)))", 24, "not closed"},
		{"S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))", 24, "invalid geometry"},
		{"S_INTERSECTS(geometry, POINT EMPTY)", 30, "EMPTY"},
		{"S_INTERSECTS(geometry, LINESTRING(1 2))", 24, "at least 2 points"},
		{"kind IN ()", 10, "expected a property name or a literal but found ')'"},
		{"a = 1 AND", 10, "expected a property name or a literal but found end of input"},
		{"", 1, "expected a property name or a literal but found end of input"},
		{"name = 'x\xff'", 10, "not valid UTF-8"},
		{"\"\" = 1", 1, "empty property name"},
		{strings.Repeat("(", 200) + "a = 1" + strings.Repeat(")", 200), 101, "nested more than 100 levels"},
	}
	for _, c := range cases {
		_, err := Parse(c.in)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q): want a *SyntaxError, got %v", c.in, err)
			continue
		}
		if se.Pos != c.pos || !strings.Contains(se.Msg, c.want) {
			t.Errorf("Parse(%q):\n got  %v\n want at position %d: …%s…", c.in, err, c.pos, c.want)
		}
		if zone.ErrorCode(err) != zone.CodeInvalid {
			t.Errorf("Parse(%q): code %q, want invalid", c.in, zone.ErrorCode(err))
		}
	}
}

// The message format the brief promises to API users.
func TestSyntaxErrorMessage(t *testing.T) {
	_, err := Parse("name = 'x' AND (a AND b = 1)")
	want := "cql2: at position 19: expected a comparison operator, LIKE, IN, BETWEEN or IS but found 'AND'"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
	if zone.ErrorMessage(err) != want {
		t.Fatalf("zone.ErrorMessage = %q", zone.ErrorMessage(err))
	}
}

// Positions count characters, not bytes: a Vietnamese literal before the
// error must not push the reported position past what the user sees.
func TestErrorPositionCountsCharactersNotBytes(t *testing.T) {
	in := "name = 'Kho vũ khí' AND"
	_, err := Parse(in)
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Fatal(err)
	}
	if want := utf8.RuneCountInString(in) + 1; se.Pos != want {
		t.Fatalf("position %d, want %d (bytes would give %d)", se.Pos, want, len(in)+1)
	}
}

func TestParseGeometryValues(t *testing.T) {
	e, err := Parse("S_INTERSECTS(geometry, BBOX(102, 8, 110, 23.5))")
	if err != nil {
		t.Fatal(err)
	}
	g := e.(*Spatial).Right.(*GeometryLit)
	want := orb.Bound{Min: orb.Point{102, 8}, Max: orb.Point{110, 23.5}}
	if !g.BBox || g.Bound != want || !g.Geom.Bound().Equal(want) {
		t.Fatalf("got %+v", g)
	}
	e, err = Parse("S_INTERSECTS(geometry, POLYGON((0 0, 2 0, 2 2, 0 2, 0 0), (0.5 0.5, 1 0.5, 1 1, 0.5 0.5)))")
	if err != nil {
		t.Fatal(err)
	}
	pg := e.(*Spatial).Right.(*GeometryLit).Geom.(orb.Polygon)
	if len(pg) != 2 || len(pg[1]) != 4 || pg[1][1] != (orb.Point{1, 0.5}) {
		t.Fatalf("polygon with hole parsed as %v", pg)
	}
}

// The forms the CQL2 standard's own examples use: line breaks and
// indentation, namespaced property names with ':' and '.', operators
// without spaces, lower-case function names, signed numbers with a
// leading or trailing point ("+12." and "-.5"); and the clear refusals of
// the conformance classes zoneplan does not offer (temporal, array,
// arithmetic).
func TestParseStandardForms(t *testing.T) {
	checkParse(t, "  eo:cloud_cover BETWEEN 0.1 AND 0.2\n\tAND sat:orbit_row=28\r\nAND ns.a_2<>-.5 AND b < +12.",
		"(((eo:cloud_cover BETWEEN 0.1 AND 0.2 AND sat:orbit_row = 28) AND ns.a_2 <> -0.5) AND b < 12)")
	checkParse(t, "updated >= date('1970-01-01') and s_intersects(footprint,POLYGON((43.5 -79.5,\n  43.6 -79.4,\n  43.8 -79.1,\n  43.5 -79.5)))",
		"(updated >= DATE('1970-01-01') AND S_INTERSECTS(footprint, POLYGON((43.5 -79.5, 43.6 -79.4, 43.8 -79.1, 43.5 -79.5))))")
	for in, want := range map[string]string{
		"T_BEFORE(built, DATE('2015-01-01'))":                              "T_BEFORE is not supported",
		"A_CONTAINS(layer:ids, ('a', 'b'))":                                "A_CONTAINS is not supported",
		"built < INTERVAL('2017-06-10T07:30:00Z', '2017-06-11T10:30:00Z')": "unknown function 'INTERVAL'",
		"height * 2 > 10": "cql2: at position 8: unexpected character '*'",
	} {
		_, err := Parse(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v, want …%s…", in, err, want)
		}
	}
}
