package cql

import (
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/internal/zone"
)

func mapGetter(m map[string]any) Getter {
	return func(name string) (any, bool) { v, ok := m[name]; return v, ok }
}

func TestEval(t *testing.T) {
	rec := map[string]any{
		"name":           "Kho vũ khí K12",
		"kind":           "depot",
		"group":          zone.GroupI,
		"classification": zone.Secret,
		"synthetic":      true,
		"version":        int64(3),
		"height_m":       42.5,
		"investor":       7.0, // wrong JSON type: NULL, as in SQL
		"updated_at":     time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC),
		"geometry":       orb.Polygon{{{105, 21}, {106, 21}, {106, 22}, {105, 22}, {105, 21}}},
	}
	cases := []struct {
		filter string
		want   bool
	}{
		{"name = 'Kho vũ khí K12'", true},
		{"name LIKE 'Kho vũ khí%'", true},
		{"name LIKE 'kho%'", false},
		{"CASEI(name) LIKE CASEI('KHO VŨ%')", true},
		{"ACCENTI(name) LIKE 'Kho vu khi%'", true},
		{"ACCENTI(name) LIKE 'kho vu khi%'", false},
		{"CASEI(ACCENTI(name)) LIKE 'kho vu khi%'", true},
		{"ACCENTI(CASEI(name)) = ACCENTI('kho vũ khí k12')", true},
		{"ACCENTI(name) = 'Kho vũ khí K12'", false},
		{"name LIKE 'Kho v_ khí K__'", true},
		{"name LIKE 'Kho v_ khí K_'", false},
		{"name LIKE '%K12'", true},
		{"name LIKE '%%%'", true},
		{`name LIKE 'Kho vũ khí K12\%'`, false},
		{`"group" = 'I'`, true},
		{"classification = 'secret'", true},
		{"CASEI(classification) = CASEI('SECRET')", true}, // GDAL writes CASEI on enumerated strings
		{"CASEI(classification) = 'Restricted'", false},
		{"classification = ACCENTI('secret')", true},
		{"classification > 'restricted'", true},
		{"classification BETWEEN 'public' AND 'restricted'", false},
		{"synthetic = TRUE", true},
		{"version = 3 AND version >= 3 AND version < 3.5", true},
		{"height_m BETWEEN 42.5 AND 43", true},
		{"height_m NOT BETWEEN 42.5 AND 43", false},
		{"kind IN ('rear_base', 'depot')", true},
		{"kind NOT IN ('rear_base', 'depot')", false},
		{"updated_at = TIMESTAMP('2024-05-01T15:00:00+07:00')", true},
		{"updated_at < DATE('2024-05-02') AND updated_at > DATE('2024-05-01')", true},
		// NULL: code is missing, investor has the wrong type.
		{"code IS NULL", true},
		{"investor IS NULL", true},
		{"code = 'x'", false},
		{"NOT code = 'x'", false}, // unknown, not true
		{"code <> 'x'", false},
		{"code = 'x' OR TRUE", true},
		{"NOT (code = 'x' AND FALSE)", true},
		{"kind IN ('a', code)", false},
		{"NOT kind IN ('a', code)", false},
		{"kind IN ('depot', code)", true},
		// Spatial: touching counts.
		{"S_INTERSECTS(geometry, POINT(105.5 21.5))", true},
		{"S_INTERSECTS(geometry, POINT(106 21.5))", true},
		{"S_INTERSECTS(geometry, BBOX(106, 22, 107, 23))", true},
		{"S_INTERSECTS(geometry, BBOX(106.000001, 22, 107, 23))", false},
		{"S_DISJOINT(geometry, LINESTRING(100 10, 101 11))", true},
		{"S_INTERSECTS(geometry, LINESTRING(104 20, 107 23))", true},
	}
	for _, c := range cases {
		e, err := Parse(c.filter)
		if err != nil {
			t.Fatalf("Parse(%q): %v", c.filter, err)
		}
		got, err := Eval(e, testSchema(), mapGetter(rec))
		if err != nil {
			t.Fatalf("Eval(%q): %v", c.filter, err)
		}
		if got != c.want {
			t.Errorf("Eval(%q) = %v, want %v", c.filter, got, c.want)
		}
	}
}

func TestAccentFolding(t *testing.T) {
	fold := foldAccents
	for in, want := range map[string]string{
		"Kho vũ khí Đông Hà":                  "Kho vu khi Dong Ha",
		"ĐẮK LẮK, Quảng Trị, Thừa Thiên Huế":  "DAK LAK, Quang Tri, Thua Thien Hue",
		"Kho vu\u0303 khi\u0301 (decomposed)": "Kho vu khi (decomposed)",
		"Ấp Đông ơ ư ỵ":                       "Ap Dong o u y",
	} {
		if got := fold(in); got != want {
			t.Errorf("fold(%q) = %q, want %q", in, got, want)
		}
	}
	if len([]rune(accentLower)) != len([]rune(baseLower)) || len([]rune(accentUpper)) != len([]rune(baseUpper)) {
		t.Fatal("folding tables of different lengths")
	}
}

func TestLikeMatcher(t *testing.T) {
	cases := []struct {
		pat, s string
		want   bool
	}{
		{"", "", true},
		{"", "a", false},
		{"%", "", true},
		{"_", "ũ", true},
		{"__", "ũ", false},
		{"a%b%c", "aXbYc", true},
		{"a%b%c", "aXbY", false},
		{"%a%a%a%", "aaa", true},
		{"%a%a%a%", "aa", false},
		{`\%`, "%", true},
		{`\%`, "x", false},
		{`\_`, "_", true},
		{`\\`, `\`, true},
		{`a\b`, "ab", true},
	}
	for _, c := range cases {
		if got := compileLike(c.pat).match(c.s); got != c.want {
			t.Errorf("%q LIKE %q = %v, want %v", c.s, c.pat, got, c.want)
		}
	}
}

// A compiled predicate is shared by the requests of a collection: it must
// be safe for concurrent use (run with -race).
func TestPredicateConcurrentUse(t *testing.T) {
	e, err := Parse("ACCENTI(name) LIKE 'Kho vu%' OR S_INTERSECTS(geometry, BBOX(105, 21, 106, 22))")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Compile(e, testSchema())
	if err != nil {
		t.Fatal(err)
	}
	rows := crossRows()
	want := 0
	for _, r := range rows {
		if p(mapGetter(r)) {
			want++
		}
	}
	done := make(chan int)
	for w := 0; w < 4; w++ {
		go func() {
			n := 0
			for _, r := range rows {
				if p(mapGetter(r)) {
					n++
				}
			}
			done <- n
		}()
	}
	for w := 0; w < 4; w++ {
		if n := <-done; n != want {
			t.Errorf("goroutine matched %d, want %d", n, want)
		}
	}
	if want == 0 || want == len(rows) {
		t.Fatalf("filter matched %d of %d rows: not a useful test", want, len(rows))
	}
}

// The Go switch and the translate() tables PostgreSQL gets must fold alike.
func TestFoldRuneMatchesTables(t *testing.T) {
	from, to := []rune(accentFrom), []rune(accentTo)
	for i, r := range from {
		want := rune(-1)
		if i < len(to) {
			want = to[i]
		}
		if got := foldRune(r); got != want {
			t.Errorf("foldRune(%q) = %q, want %q", r, got, want)
		}
	}
	for _, r := range "aZ09 ,.%_\\'ñçß€漢" {
		if foldRune(r) != r {
			t.Errorf("foldRune(%q) changed a character outside the tables", r)
		}
	}
	if got := FoldAccents("Đồng Đăng, LẠNG SƠN"); got != "dong dang, lang son" {
		t.Errorf("FoldAccents = %q", got)
	}
}

func TestIsRectangle(t *testing.T) {
	box := orb.Bound{Min: orb.Point{1, 2}, Max: orb.Point{3, 4}}
	cases := []struct {
		g    orb.Geometry
		want bool
	}{
		{box.ToPolygon(), true},
		{orb.Polygon{{{1, 2}, {1, 4}, {3, 4}, {3, 2}, {1, 2}}}, true},
		{orb.Polygon{{{1, 2}, {3, 4}, {1, 4}, {3, 2}, {1, 2}}}, false}, // bow tie through the corners
		{orb.Polygon{{{1, 2}, {3, 2}, {3, 4}, {1, 4}, {1, 2}}, {{1.5, 2.5}, {2, 2.5}, {2, 3}, {1.5, 2.5}}}, false},
		{orb.Polygon{{{1, 2}, {3, 2}, {2, 4}, {1, 4}, {1, 2}}}, false},
		{orb.Point{1, 2}, false},
	}
	for _, c := range cases {
		if got := isRectangle(c.g); got != c.want {
			t.Errorf("isRectangle(%v) = %v", c.g, got)
		}
	}
}
