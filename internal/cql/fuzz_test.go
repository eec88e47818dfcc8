package cql

import (
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// FuzzParse: Parse never panics; a syntax error points inside the input
// (or just past its end); a parsed tree prints as text that parses back to
// the same tree; translating it never panics either.
func FuzzParse(f *testing.F) {
	for _, s := range crossFilters() {
		f.Add(s)
	}
	for _, s := range []string{
		"name = 'x' AND (a AND b = 1)", `"a""b" = 'c''d'`, "x = -1.5e-3", "S_INTERSECTS(geometry, POINT Z (1 2 3))",
		"NOT NOT NOT TRUE", "CASEI(CASEI(name)) = 'a'", "name LIKE 'a\\'", "x IN (1,2,", "1e", "a=1e+",
	} {
		f.Add(s)
	}
	schema := testSchema()
	f.Fuzz(func(t *testing.T, in string) {
		e, err := Parse(in)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q): error is %T, not *SyntaxError: %v", in, err, err)
			}
			if n := utf8.RuneCountInString(in); se.Pos < 1 || se.Pos > n+1 {
				t.Fatalf("Parse(%q): position %d outside 1..%d", in, se.Pos, n+1)
			}
			if zone.ErrorCode(err) != zone.CodeInvalid {
				t.Fatalf("Parse(%q): code %s", in, zone.ErrorCode(err))
			}
			return
		}
		text := e.String()
		again, err := Parse(text)
		if err != nil {
			t.Fatalf("Parse(%q) printed %q, which does not parse: %v", in, text, err)
		}
		if again.String() != text {
			t.Fatalf("round trip: %q -> %q -> %q", in, text, again.String())
		}
		sqlErr := Check(e, schema)
		_, _, err = ToSQL(e, schema, 1)
		if (err == nil) != (sqlErr == nil) {
			t.Fatalf("Check and ToSQL disagree on %q: %v / %v", in, sqlErr, err)
		}
		if err != nil && zone.ErrorCode(err) != zone.CodeInvalid {
			t.Fatalf("ToSQL(%q): code %s: %v", in, zone.ErrorCode(err), err)
		}
		if p, err := Compile(e, schema); err == nil {
			p(mapGetter(map[string]any{"name": "Kho", "height_m": 3.0}))
		}
	})
}
