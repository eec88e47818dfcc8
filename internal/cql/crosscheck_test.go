package cql

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/zoneplan/zoneplan/internal/pgtest"
)

// crossRows makes a deterministic table of components-like rows with
// NULLs, Vietnamese text, wildcard characters in names, JSON properties of
// the wrong type, and geometries on a 0.5 degree grid so that some touch
// the filters' boxes exactly.
func crossRows() []map[string]any {
	rng := rand.New(rand.NewPCG(21, 105))
	names := []string{"Kho vũ khí K", "KHO VŨ KHÍ ", "kho xăng dầu ", "Sở chỉ huy ", "Trận địa pháo ", "Đài quan sát ",
		"Căn cứ hậu cần ", "100% test_", "O'Brien ", "Ấp Đông ", "Zeta ", "ánh ",
		"Kho vu\u0303 khi\u0301 ", "ĐẮK LẮK "}
	kinds := []string{"depot", "command_post", "rear_base", "artillery_position", "observation_post"}
	groups := []any{nil, "", "special", "I", "II", "III"}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	rows := make([]map[string]any, 200)
	for i := range rows {
		r := map[string]any{"id": float64(i + 1)}
		if rng.IntN(15) != 0 {
			r["name"] = names[rng.IntN(len(names))] + fmt.Sprint(rng.IntN(30))
		}
		r["kind"] = kinds[rng.IntN(len(kinds))]
		if g := groups[rng.IntN(len(groups))]; g != nil {
			r["group"] = g
		}
		if rng.IntN(3) != 0 {
			r["code"] = fmt.Sprintf("K-%02d", rng.IntN(40))
		}
		r["classification"] = rng.IntN(4)
		r["synthetic"] = rng.IntN(2) == 0
		r["version"] = int64(1 + rng.IntN(5))
		props := map[string]any{}
		switch rng.IntN(6) {
		case 0:
			props["height_m"] = "tall"
		case 1:
		default:
			props["height_m"] = float64(rng.IntN(1000)) / 10
		}
		switch rng.IntN(4) {
		case 0:
			props["investor"] = 12.0
		case 1:
		default:
			props["investor"] = []string{"Tập đoàn A", "Công ty B", "công ty b"}[rng.IntN(3)]
		}
		raw, _ := json.Marshal(props)
		r["properties"] = raw
		var decoded map[string]any
		_ = json.Unmarshal(raw, &decoded)
		for k, v := range decoded {
			r[k] = v
		}
		r["updated_at"] = base.Add(time.Duration(rng.Int64N(int64(365 * 24 * time.Hour)))).Round(time.Microsecond)
		x, y := 104+float64(rng.IntN(9))*0.5, 20+float64(rng.IntN(7))*0.5
		switch rng.IntN(3) {
		case 0:
			r["geometry"] = orb.Point{x, y}
		case 1:
			d := 0.1 + float64(rng.IntN(5))*0.1
			r["geometry"] = orb.Polygon{{{x, y}, {x + d, y}, {x + d, y + d}, {x, y + d}, {x, y}}}
		default:
			r["geometry"] = orb.LineString{{x, y}, {x + 0.3, y + 0.2}, {x + 0.6, y - 0.1}}
		}
		rows[i] = r
	}
	return rows
}

func crossFilters() []string {
	fs := []string{
		"TRUE", "FALSE",
		"name = 'Kho vũ khí K3'",
		"name LIKE 'Kho vũ khí%'",
		"name LIKE 'kho%'",
		"ACCENTI(name) LIKE 'Kho vu khi%'",
		"CASEI(ACCENTI(name)) LIKE 'kho vu khi%'",
		"ACCENTI(CASEI(name)) LIKE ACCENTI(CASEI('KHO VŨ%'))",
		"ACCENTI(name) LIKE 'DAK LAK%' OR ACCENTI(name) LIKE 'Ap Dong%'",
		"ACCENTI(name) = ACCENTI(name)",
		"CASEI(ACCENTI(investor)) = 'cong ty b'",
		"CASEI(name) LIKE CASEI('kho%')",
		"CASEI(name) LIKE 'kho vũ%'",
		"name NOT LIKE '%1%'",
		"name LIKE '%\\%%'",
		"name LIKE '%\\_%'",
		"name LIKE '___ %'",
		"name LIKE 'O''Brien%'",
		"name < 'Kho'", "name >= 'kho'", "name > 'Đ'", "name BETWEEN 'A' AND 'Z'", "name NOT BETWEEN 'A' AND 'Z'",
		"name IS NULL", "name IS NOT NULL", "NOT name IS NULL",
		"kind = 'depot'", "kind <> 'depot'", "kind IN ('depot', 'rear_base')", "kind NOT IN ('depot', 'rear_base')",
		"NOT kind IN ('depot', 'rear_base')",
		`"group" = 'I'`, `"group" = ''`, `"group" IS NULL`, `"group" <> 'I'`, `NOT "group" = 'I'`,
		`"group" IN ('I', 'II') OR "group" IS NULL`,
		"code = 'K-07'", "code IS NULL", "code > 'K-20'", "code NOT IN ('K-01', 'K-02')", "code LIKE 'K-1_'",
		"kind IN ('depot', code)", "NOT kind IN ('depot', code)",
		"classification = 'secret'", "classification = 'PUBLIC'", "classification >= 'restricted'",
		"classification < 'internal'", "classification IN ('internal', 'secret')",
		"classification BETWEEN 'internal' AND 'restricted'", "classification NOT BETWEEN 'internal' AND 'restricted'",
		"synthetic = TRUE", "synthetic <> TRUE", "NOT synthetic = FALSE",
		"version = 3", "version > 2.5", "version BETWEEN 2 AND 4", "version IN (1, 5)",
		"height_m > 50", "height_m <= 10.5", "height_m = 0", "height_m IS NULL", "height_m IS NOT NULL",
		"height_m BETWEEN 20 AND 30", "NOT height_m BETWEEN 20 AND 30", "height_m NOT BETWEEN 20 AND 30",
		"investor = 'Công ty B'", "CASEI(investor) = CASEI('CÔNG TY B')", "investor IS NULL", "investor LIKE 'Công%'",
		"updated_at > TIMESTAMP('2024-07-01T00:00:00Z')",
		"updated_at <= TIMESTAMP('2024-03-15T12:30:00+07:00')",
		"updated_at BETWEEN DATE('2024-02-01') AND DATE('2024-04-01')",
		"updated_at < DATE('2024-01-01')",
		"S_INTERSECTS(geometry, BBOX(105, 21, 106, 22))",
		"S_INTERSECTS(geometry, BBOX(105.0001, 21.0001, 105.9999, 21.9999))",
		"S_INTERSECTS(geometry, POINT(105 21))",
		"S_INTERSECTS(geometry, POINT(105.05 21.05))",
		"S_INTERSECTS(geometry, LINESTRING(104 20, 108 23))",
		"S_INTERSECTS(geometry, LINESTRING(104 21, 108 21))",
		"S_INTERSECTS(geometry, POLYGON((104 20, 106 20, 105 22, 104 20)))",
		"S_INTERSECTS(geometry, POLYGON((104 20, 108 20, 108 23, 104 23, 104 20), (105 21, 107 21, 107 22, 105 22, 105 21)))",
		"S_INTERSECTS(geometry, MULTIPOINT((104.5 20.5), (106 22)))",
		"S_INTERSECTS(geometry, MULTILINESTRING((104 22, 108 22), (106 20, 106 23)))",
		"S_INTERSECTS(geometry, MULTIPOLYGON(((104 20, 105 20, 105 21, 104 20)), ((107 22, 108 22, 108 23, 107 22))))",
		"S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(106 21), LINESTRING(104 22.5, 108 22.5)))",
		"S_DISJOINT(geometry, BBOX(105, 21, 106, 22))",
		"S_WITHIN(geometry, BBOX(105, 21, 106, 22))",
		"S_WITHIN(geometry, POLYGON((104 20, 108 20, 108 23, 104 23, 104 20), (105 21, 107 21, 107 22, 105 22, 105 21)))",
		"S_CONTAINS(geometry, POINT(105.05 21.05))",
		"S_CONTAINS(geometry, POINT(105 21))",
		"S_CONTAINS(BBOX(105, 21, 106, 22), geometry)",
		"S_TOUCHES(geometry, BBOX(105, 21, 106, 22))",
		"S_TOUCHES(geometry, POINT(105 21))",
		"S_CROSSES(geometry, LINESTRING(104 21.25, 108 21.25))",
		"S_CROSSES(LINESTRING(104.2 20, 104.2 23), geometry)",
		"S_OVERLAPS(geometry, BBOX(105.05, 21.05, 106, 22))",
		"S_OVERLAPS(geometry, LINESTRING(104 20, 104.3 20.2, 105 21))",
		"S_EQUALS(geometry, POINT(105 21)) OR S_EQUALS(geometry, POINT(104.5 20.5)) OR S_EQUALS(geometry, POINT(106 22)) OR S_EQUALS(geometry, POINT(107 21.5))",
		"S_EQUALS(geometry, LINESTRING(104 20, 104.3 20.2, 104.6 19.9))",
		"NOT S_WITHIN(geometry, BBOX(105, 21, 106, 22))",
		"S_INTERSECTS(BBOX(105, 21, 106, 22), geometry) AND kind = 'depot'",
		"S_INTERSECTS(POINT(1 1), POINT(1 1))",
		"(kind = 'depot' OR kind = 'rear_base') AND classification <= 'internal'",
		"kind = 'depot' OR kind = 'rear_base' AND classification <= 'internal'",
		"NOT (code = 'K-07' OR height_m > 50)",
		"NOT (code IS NULL AND height_m IS NULL)",
		"(name LIKE 'Kho%' OR investor = 'Tập đoàn A') AND NOT synthetic = TRUE",
		"NOT (NOT (version > 2 AND height_m < 40))",
		"code = 'K-07' OR TRUE", "code = 'K-07' AND FALSE", "NOT (code = 'K-07' AND FALSE)",
		"id BETWEEN 50 AND 60 OR id IN (1, 2, 3)",
		"1 = 1", "'a' < 'b'",
	}
	for _, h := range []int{5, 25, 60, 95} {
		fs = append(fs, fmt.Sprintf("height_m >= %d AND S_INTERSECTS(geometry, BBOX(104, 20, %d, 22.5))", h, 104+h/20))
	}
	for _, v := range []int{1, 2, 3, 4, 5} {
		fs = append(fs, fmt.Sprintf("version <> %d OR code IS NULL", v))
	}
	return fs
}

// TestToSQLAgreesWithCompile runs every filter through PostGIS and through
// the Go predicate and requires the same rows.
func TestToSQLAgreesWithCompile(t *testing.T) {
	dsn := pgtest.New(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, `CREATE TABLE components (
		id int PRIMARY KEY, name text, kind text NOT NULL, "group" text, code text,
		classification smallint NOT NULL, synthetic boolean NOT NULL, version bigint NOT NULL,
		properties jsonb NOT NULL, updated_at timestamptz NOT NULL, geom geometry(Geometry, 4326) NOT NULL)`)
	if err != nil {
		t.Fatal(err)
	}
	// CASEI is lower() in SQL and strings.ToLower in Go: they agree only
	// when the database's LC_CTYPE is UTF-8 aware (C.UTF-8, vi_VN.UTF-8).
	probe := accentUpper + "ABCDEFGHIJKLMNOPQRSTUVWXYZ ÀÉÎÕÜ"
	var lowered string
	if err := conn.QueryRow(ctx, "SELECT lower($1::text)", probe).Scan(&lowered); err != nil {
		t.Fatal(err)
	}
	if lowered != strings.ToLower(probe) {
		t.Fatalf("PostgreSQL lower() differs from Go's (is LC_CTYPE a UTF-8 locale?):\n pg %s\n go %s", lowered, strings.ToLower(probe))
	}
	rows := crossRows()
	for _, r := range rows {
		g, err := wkb.Marshal(r["geometry"].(orb.Geometry))
		if err != nil {
			t.Fatal(err)
		}
		_, err = conn.Exec(ctx, `INSERT INTO components VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, ST_GeomFromWKB($11, 4326))`,
			int(r["id"].(float64)), r["name"], r["kind"], r["group"], r["code"], r["classification"], r["synthetic"],
			r["version"], r["properties"], r["updated_at"], g)
		if err != nil {
			t.Fatal(err)
		}
	}
	schema := testSchema()
	informative := 0
	filters := crossFilters()
	handwritten := len(filters)
	filters = append(filters, randomFilters(300)...)
	for i, f := range filters {
		e, err := Parse(f)
		if err != nil {
			t.Fatalf("Parse(%q): %v", f, err)
		}
		where, args, err := ToSQL(e, schema, 1)
		if err != nil {
			t.Fatalf("ToSQL(%q): %v", f, err)
		}
		var fromSQL []int
		res, err := conn.Query(ctx, "SELECT c.id FROM components AS c WHERE "+where+" ORDER BY c.id", args...)
		if err != nil {
			t.Fatalf("%q: query %s: %v", f, where, err)
		}
		for res.Next() {
			var id int
			if err := res.Scan(&id); err != nil {
				t.Fatal(err)
			}
			fromSQL = append(fromSQL, id)
		}
		if err := res.Err(); err != nil {
			t.Fatalf("%q: %s: %v", f, where, err)
		}
		pred, err := Compile(e, schema)
		if err != nil {
			t.Fatalf("Compile(%q): %v", f, err)
		}
		var fromGo []int
		for _, r := range rows {
			if pred(mapGetter(r)) {
				fromGo = append(fromGo, int(r["id"].(float64)))
			}
		}
		if !slices.Equal(fromSQL, fromGo) {
			t.Errorf("%q disagrees:\n SQL %s selected %d: %v\n Go selected %d: %v", f, where, len(fromSQL), fromSQL, len(fromGo), fromGo)
		}
		if testing.Verbose() {
			t.Logf("%3d rows: %s", len(fromSQL), f)
		}
		if n := len(fromSQL); i < handwritten && n > 0 && n < len(rows) {
			informative++
		}
	}
	t.Logf("%d filters (%d random), %d of the %d written by hand selecting some but not all of %d rows",
		len(filters), len(filters)-handwritten, informative, handwritten, len(rows))
	if informative < handwritten*3/4 {
		t.Errorf("only %d of %d filters select some but not all rows: the data does not exercise them", informative, handwritten)
	}
}

// randomFilters nests random predicates over every property kind in AND,
// OR and NOT, to find disagreements (three-valued logic above all) that
// hand-written filters miss. Deterministic: the seed is fixed.
func randomFilters(n int) []string {
	rng := rand.New(rand.NewPCG(3, 4))
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	op := func() string { return pick("=", "<>", "<", "<=", ">", ">=") }
	maybe := func(s string) string { return pick(s, "") }
	coord := func(lo float64, steps int) float64 { return lo + float64(rng.IntN(steps))*0.5 }
	atoms := []func() string{
		func() string { return fmt.Sprintf("height_m %s %d", op(), rng.IntN(100)) },
		func() string { return fmt.Sprintf("version %s %d", op(), 1+rng.IntN(5)) },
		func() string {
			return fmt.Sprintf("name %s '%s'", op(), pick("Kho", "kho", "Sở", "Zeta 3", "Đ", "ánh 7"))
		},
		func() string { return fmt.Sprintf("code %s 'K-%02d'", op(), rng.IntN(40)) },
		func() string { return fmt.Sprintf("classification %s '%s'", op(), pick(levels...)) },
		func() string { return fmt.Sprintf(`"group" %sIN ('I', 'II', '')`, maybe("NOT ")) },
		func() string {
			return fmt.Sprintf("%s IS %sNULL", pick("name", "code", `"group"`, "height_m", "investor"), maybe("NOT "))
		},
		func() string {
			return fmt.Sprintf("%s %sLIKE '%s'", pick("name", "CASEI(name)", "ACCENTI(name)", "investor", "code"),
				maybe("NOT "), pick("Kho%", "kho%", "%1%", "K-1_", "%Đông%", "%b", "Kho vu khi%", "%\\%%"))
		},
		func() string { return fmt.Sprintf("synthetic = %s", pick("TRUE", "FALSE")) },
		func() string {
			return fmt.Sprintf("updated_at %s TIMESTAMP('2024-%02d-15T00:00:00Z')", op(), 1+rng.IntN(12))
		},
		func() string {
			a := rng.IntN(80)
			return fmt.Sprintf("height_m %sBETWEEN %d AND %d", maybe("NOT "), a, a+20)
		},
		func() string {
			x, y := coord(104, 8), coord(20, 6)
			return fmt.Sprintf("%s(geometry, BBOX(%g, %g, %g, %g))", pick("S_INTERSECTS", "S_DISJOINT", "S_WITHIN", "S_TOUCHES"),
				x, y, x+coord(0.5, 3), y+coord(0.5, 3))
		},
		func() string { return fmt.Sprintf("kind %sIN ('depot', code)", maybe("NOT ")) },
	}
	var expr func(depth int) string
	expr = func(depth int) string {
		if depth == 0 || rng.IntN(3) == 0 {
			return atoms[rng.IntN(len(atoms))]()
		}
		switch rng.IntN(3) {
		case 0:
			return "(" + expr(depth-1) + " AND " + expr(depth-1) + ")"
		case 1:
			return "(" + expr(depth-1) + " OR " + expr(depth-1) + ")"
		}
		return "NOT (" + expr(depth-1) + ")"
	}
	out := make([]string, n)
	for i := range out {
		out[i] = expr(3)
	}
	return out
}
