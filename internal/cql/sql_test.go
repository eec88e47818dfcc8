package cql

import (
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/zoneplan/zoneplan/internal/zone"
)

var levels = []string{"public", "internal", "restricted", "secret"}

// testSchema mirrors the shape of the component schema: plain columns, a
// reserved word column, a level column, and typed JSON properties.
func testSchema() Properties {
	return Properties{
		{Name: "id", Type: TypeNumber, SQL: "c.id"},
		{Name: "name", Type: TypeString, SQL: "c.name"},
		{Name: "kind", Type: TypeString, SQL: "c.kind"},
		{Name: "group", Type: TypeString, SQL: `c."group"`},
		{Name: "code", Type: TypeString, SQL: "c.code"},
		{Name: "classification", Type: TypeString, SQL: "c.classification", Levels: levels},
		{Name: "synthetic", Type: TypeBool, SQL: "c.synthetic"},
		{Name: "version", Type: TypeNumber, SQL: "c.version"},
		{Name: "height_m", Type: TypeNumber, SQL: `CASE WHEN jsonb_typeof(c.properties->'height_m') = 'number' THEN (c.properties->>'height_m')::float8 END`},
		{Name: "investor", Type: TypeString, SQL: `CASE WHEN jsonb_typeof(c.properties->'investor') = 'string' THEN c.properties->>'investor' END`},
		{Name: "updated_at", Type: TypeTime, SQL: "c.updated_at"},
		{Name: "geometry", Type: TypeGeometry, SQL: "c.geom"},
	}
}

func mustSQL(t *testing.T, filter string, first int) (string, []any) {
	t.Helper()
	e, err := Parse(filter)
	if err != nil {
		t.Fatalf("Parse(%q): %v", filter, err)
	}
	sql, args, err := ToSQL(e, testSchema(), first)
	if err != nil {
		t.Fatalf("ToSQL(%q): %v", filter, err)
	}
	return sql, args
}

func TestToSQL(t *testing.T) {
	cases := []struct {
		filter string
		sql    string
		args   []any
	}{
		{"name = 'Kho vũ khí'", "(c.name = $3::text)", []any{"Kho vũ khí"}},
		{`"group" = 'I' AND kind <> 'depot'`, `((c."group" = $3::text) AND (c.kind <> $4::text))`, []any{"I", "depot"}},
		{"name < 'M'", `(c.name < $3::text COLLATE "C")`, []any{"M"}},
		{"classification >= 'Restricted'", "(c.classification >= $3::int)", []any{2}},
		{"classification IN ('public', 'secret')", "(c.classification IN ($3::int, $4::int))", []any{0, 3}},
		{"height_m > 30", `((CASE WHEN jsonb_typeof(c.properties->'height_m') = 'number' THEN (c.properties->>'height_m')::float8 END) > $3::float8)`, []any{30.0}},
		{"name LIKE 'Kho%'", "(c.name LIKE $3::text)", []any{"Kho%"}},
		{"CASEI(name) NOT LIKE CASEI('kho%')", "(lower(c.name) NOT LIKE lower($3::text))", []any{"kho%"}},
		{"code IS NOT NULL OR NOT synthetic = FALSE", "((c.code IS NOT NULL) OR (NOT (c.synthetic = $3::boolean)))", []any{false}},
		{"version NOT BETWEEN 2 AND 5", "(NOT ((c.version >= $3::float8) AND (c.version <= $4::float8)))", []any{2.0, 5.0}},
		{"updated_at >= TIMESTAMP('2024-05-01T08:00:00.1234567Z')", "(c.updated_at >= $3::timestamptz)", []any{time.Date(2024, 5, 1, 8, 0, 0, 123457000, time.UTC)}},
		{"TRUE", "TRUE", nil},
		{"CASEI(ACCENTI(name)) = 'kho'", "(lower(translate(c.name, $3::text, $4::text)) = $5::text)", []any{accentFrom, accentTo, "kho"}},
	}
	for _, c := range cases {
		sql, args := mustSQL(t, c.filter, 3)
		if sql != c.sql {
			t.Errorf("ToSQL(%q)\n got  %s\n want %s", c.filter, sql, c.sql)
		}
		if len(args) != len(c.args) {
			t.Errorf("ToSQL(%q) args %#v, want %#v", c.filter, args, c.args)
			continue
		}
		for i := range args {
			if args[i] != c.args[i] {
				t.Errorf("ToSQL(%q) arg %d = %#v, want %#v", c.filter, i, args[i], c.args[i])
			}
		}
	}
}

func TestToSQLSpatialPassesWKB(t *testing.T) {
	sql, args := mustSQL(t, "S_INTERSECTS(geometry, BBOX(102, 8, 110, 23.5)) AND S_DISJOINT(POINT(1 2), geometry)", 1)
	want := "(ST_Intersects(c.geom, ST_GeomFromWKB($1, 4326)) AND (NOT ST_Intersects(ST_GeomFromWKB($2, 4326), c.geom)))"
	if sql != want {
		t.Fatalf("got  %s\nwant %s", sql, want)
	}
	g, err := wkb.Unmarshal(args[0].([]byte))
	if err != nil {
		t.Fatal(err)
	}
	if !g.Bound().Equal(orb.Bound{Min: orb.Point{102, 8}, Max: orb.Point{110, 23.5}}) {
		t.Fatalf("WKB holds %v", g)
	}
}

// A quote-escaping injection attempt must reach the database only as a
// parameter value.
func TestToSQLInjectionEndsUpOnlyInArgs(t *testing.T) {
	attack := "x'; DROP TABLE components; --"
	for _, filter := range []string{
		"name = 'x''; DROP TABLE components; --'",
		"name LIKE 'x''; DROP TABLE components; --'",
		"name IN ('a', 'x''; DROP TABLE components; --')",
		"CASEI(name) = CASEI('x''; DROP TABLE components; --')",
	} {
		sql, args := mustSQL(t, filter, 1)
		if strings.Contains(sql, "DROP") || strings.Contains(sql, "'") {
			t.Errorf("%q: user text reached the SQL: %s", filter, sql)
		}
		found := false
		for _, a := range args {
			found = found || a == attack
		}
		if !found {
			t.Errorf("%q: attack string not passed as a parameter: %#v", filter, args)
		}
	}
	// A property name is never copied into SQL either: unknown names fail.
	e, err := Parse(`"name; DROP TABLE components" = 'x'`)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ToSQL(e, testSchema(), 1); err == nil {
		t.Fatal("an unknown quoted property name was accepted")
	}
}

func TestCheckErrors(t *testing.T) {
	cases := []struct{ filter, want string }{
		{"nme = 'x'", `cql2: at position 1: unknown property "nme" (known: id, name, kind, group, code, classification, synthetic, version, height_m, investor, updated_at, geometry)`},
		{"name > 5", "cql2: at position 6: cannot compare name (string) with 5 (number)"},
		{"height_m = 'tall'", "cannot compare height_m (number) with 'tall' (string)"},
		{"updated_at > '2024-01-01'", "write times as TIMESTAMP("},
		{"classification = 'top secret'", "'top secret' is not a level of classification (levels: public, internal, restricted, secret)"},
		{"classification = 3", "cannot compare classification (level) with 3 (number) (levels: public"},
		{"classification LIKE 'sec%'", "LIKE needs a string property, but classification is a level"},
		{"ACCENTI(height_m) = 'x'", "ACCENTI needs a string, but height_m is a number"},
		{"height_m LIKE '1%'", "LIKE needs a string property"},
		{"name LIKE kind", "the LIKE pattern must be a string literal"},
		{`name LIKE 'abc\'`, `ends with the escape character`},
		{"synthetic > FALSE", "booleans are compared only with = and <>"},
		{"geometry = POINT(1 2)", "use S_INTERSECTS"},
		{"S_INTERSECTS(name, POINT(1 2))", "S_INTERSECTS needs geometries, but name is a string"},
		{"S_WITHIN(geometry, GEOMETRYCOLLECTION(POINT(1 2)))", "S_WITHIN does not take a GEOMETRYCOLLECTION"},
		{"kind IN ('a', 1)", "cannot compare kind (string) with 1 (number)"},
		{"synthetic BETWEEN FALSE AND TRUE", "BETWEEN needs an ordered value"},
		{"a = 1 OR unknown_prop IS NULL", `unknown property "a"`},
	}
	for _, c := range cases {
		e, err := Parse(c.filter)
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.filter, err)
		}
		err = Check(e, testSchema())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Check(%q) = %v\n want …%s…", c.filter, err, c.want)
			continue
		}
		if zone.ErrorCode(err) != zone.CodeInvalid {
			t.Errorf("Check(%q): code %s", c.filter, zone.ErrorCode(err))
		}
		if _, _, err2 := ToSQL(e, testSchema(), 1); err2 == nil || err2.Error() != err.Error() {
			t.Errorf("ToSQL(%q) error %v differs from Check's", c.filter, err2)
		}
		if _, err2 := Compile(e, testSchema()); err2 == nil || err2.Error() != err.Error() {
			t.Errorf("Compile(%q) error %v differs from Check's", c.filter, err2)
		}
	}
}
