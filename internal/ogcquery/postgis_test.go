package ogcquery

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/zoneplan/zoneplan/internal/cql"
	"github.com/zoneplan/zoneplan/internal/pgtest"
	"github.com/zoneplan/zoneplan/internal/postgis"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// siteComponents makes deterministic project sites exercising every
// queryable: empty and set codes, missing layer properties, all
// classifications, and geometries on a 0.5 degree grid (some touch the
// query boxes exactly).
func siteComponents() []*zone.Component {
	rng := rand.New(rand.NewPCG(7, 2025))
	l, _ := zone.LookupLayer(zone.LayerProjectSites)
	names := []string{"Khu công nghiệp ", "Mỏ đá ", "Resort biển ", "Đường tỉnh ", "Nhà máy điện gió ", "khu dân cư ", "100% Vốn_"}
	investors := []string{"Tập đoàn A", "Công ty B", "công ty b"}
	status := []string{"pending", "approved", "approved_with_conditions", "rejected"}
	groups := []zone.Group{"", "", zone.GroupI, zone.GroupII}
	var cs []*zone.Component
	for i := 0; i < 160; i++ {
		c := &zone.Component{
			Layer:          zone.LayerProjectSites,
			Kind:           l.Kinds[rng.IntN(len(l.Kinds))],
			Name:           names[rng.IntN(len(names))] + fmt.Sprint(rng.IntN(40)),
			Group:          groups[rng.IntN(len(groups))],
			Classification: zone.Classification(rng.IntN(4)),
			Synthetic:      rng.IntN(2) == 0,
			Properties:     map[string]any{},
		}
		if rng.IntN(3) == 0 {
			c.Code = fmt.Sprintf("DA-%03d", i)
		}
		if rng.IntN(5) != 0 {
			c.Properties[zone.PropHeightM] = float64(rng.IntN(2000)) / 10
		}
		if rng.IntN(4) != 0 {
			c.Properties[zone.PropInvestor] = investors[rng.IntN(len(investors))]
		}
		if rng.IntN(2) == 0 {
			c.Properties[zone.PropStatus] = status[rng.IntN(len(status))]
		}
		if i%3 == 0 {
			c.Zones = []zone.ProtectionZone{{Kind: zone.SafetyBelt, WidthM: 50}}
		}
		if i%4 == 1 {
			c.Properties["note"] = fmt.Sprint("ghi chú ", i%3)
		}
		switch i % 5 {
		case 0:
			c.Properties[zone.PropActivities] = []any{"blasting"}
		case 1:
			c.Properties[zone.PropActivities] = []any{}
		}
		x, y := 104+float64(rng.IntN(9))*0.5, 20+float64(rng.IntN(7))*0.5
		switch rng.IntN(3) {
		case 0:
			c.Geometry = orb.Point{x, y}
		case 1:
			d := 0.1 + float64(rng.IntN(4))*0.1
			c.Geometry = orb.Polygon{{{x, y}, {x + d, y}, {x + d, y + d}, {x, y + d}, {x, y}}}
		default:
			c.Geometry = orb.LineString{{x, y}, {x + 0.3, y + 0.2}, {x + 0.6, y - 0.1}}
		}
		cs = append(cs, c)
	}
	return cs
}

// TestComponentSchemaAgreesWithPostGIS writes components through the
// PostGIS store, then runs items queries both as SQL over the real table
// and as Go predicates and comparators over the components read back, and
// requires the same ids in the same order.
func TestComponentSchemaAgreesWithPostGIS(t *testing.T) {
	dsn := pgtest.New(t)
	ctx := context.Background()
	if err := postgis.Migrate(ctx, dsn, nil); err != nil {
		t.Fatal(err)
	}
	st, err := postgis.Open(ctx, dsn, postgis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.ImportComponents(ctx, zone.LayerProjectSites, siteComponents(), zone.ImportOptions{By: "tester"}); err != nil {
		t.Fatal(err)
	}
	var stored []*zone.Component
	err = st.ListComponents(ctx, zone.Query{Layers: []string{zone.LayerProjectSites}, Clearance: zone.Secret}, func(c *zone.Component) error {
		stored = append(stored, c)
		return nil
	})
	if err != nil || len(stored) != 160 {
		t.Fatalf("read back %d components: %v", len(stored), err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)

	s := projectSchema(t)
	queries := []string{
		"",
		"kind=mine", "kind=mine&group=I", "group=II&classification=public", "classification=Secret",
		"code=DA-007", "synthetic=false", "height_m=0",
		"filter=code IS NULL", `filter="group" IS NULL`, "filter=function_type IS NULL",
		"filter=height_m > 100", "filter=NOT height_m > 100", "filter=height_m IS NULL OR height_m < 5",
		"filter=height_m BETWEEN 50 AND 60",
		"filter=investor = 'Công ty B'", "filter=CASEI(investor) = CASEI('CÔNG TY B')", "filter=investor IS NULL",
		"filter=status IN ('approved', 'rejected')", "filter=status NOT IN ('approved', 'rejected')",
		"filter=verdict IS NULL", "filter=sector IS NOT NULL",
		"filter=name LIKE 'Mỏ đá%'", "filter=name LIKE 'khu%'", "filter=CASEI(name) LIKE 'khu%'", "filter=CASEI(ACCENTI(name)) LIKE 'mo da%'", "filter=ACCENTI(investor) = 'Cong ty B'",
		`filter=name LIKE '100\% V_n\_%'`, "filter=name < 'Mỏ'",
		"filter=classification >= 'restricted'", "filter=classification BETWEEN 'internal' AND 'restricted'",
		"filter=classification <> 'public' AND kind IN ('mine', 'resort', 'road')",
		"filter=S_INTERSECTS(geometry, BBOX(105, 21, 106, 22))",
		"filter=S_INTERSECTS(geometry, POINT(105 21))",
		"filter=S_INTERSECTS(geometry, LINESTRING(104 20, 108 23))",
		"filter=S_DISJOINT(geometry, POLYGON((104 20, 106 20, 105 22, 104 20)))",
		"filter=layer = 'project_sites' AND version = 1",
		"filter=created_by = 'tester' AND updated_by IS NOT NULL",
		"filter=updated_at > TIMESTAMP('2000-01-01T00:00:00Z')",
		"filter=id > '8'",
		"filter=zones IS NULL", "filter=zones IS NOT NULL AND note IS NULL", "filter=note = 'ghi chú 1' OR zones IS NOT NULL",
		"filter=activities IS NOT NULL", "filter=activities IS NULL AND source IS NULL",
		"sortby=name", "sortby=-name", "sortby=height_m", "sortby=-height_m", "sortby=classification,-code",
		"sortby=+group,-investor,name", "sortby=-synthetic,kind", "sortby=status,-updated_at",
		"kind=mine&sortby=-height_m&filter=height_m IS NOT NULL",
		"filter=S_INTERSECTS(geometry, BBOX(104, 20, 106, 22)) AND classification <= 'internal'&sortby=-classification,name",
	}
	informative := 0
	for _, raw := range queries {
		values := url.Values{}
		if raw != "" {
			for _, kv := range strings.Split(raw, "&") {
				k, v, _ := strings.Cut(kv, "=")
				values.Set(k, v)
			}
		}
		q, err := Parse(values, s, testOptions)
		if err != nil {
			t.Fatalf("Parse(%q): %v", raw, err)
		}
		where, args, err := q.SQL(s, 2)
		if err != nil {
			t.Fatalf("%q: %v", raw, err)
		}
		order, err := cql.OrderBySQL(s, q.SortBy)
		if err != nil {
			t.Fatal(err)
		}
		if order != "" {
			order += ", "
		}
		sql := "SELECT c.id::text FROM components AS c WHERE c.layer = $1 AND " + where + " ORDER BY " + order + "c.id"
		rows, err := conn.Query(ctx, sql, append([]any{zone.LayerProjectSites}, args...)...)
		if err != nil {
			t.Fatalf("%q: %s: %v", raw, sql, err)
		}
		fromSQL, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("%q: %s: %v", raw, sql, err)
		}

		pred, err := q.Predicate(s)
		if err != nil {
			t.Fatal(err)
		}
		cmp, err := cql.Comparator(s, q.SortBy)
		if err != nil {
			t.Fatal(err)
		}
		var matched []*zone.Component
		for _, c := range stored {
			if pred(ComponentGetter(c)) {
				matched = append(matched, c)
			}
		}
		slices.SortFunc(matched, func(a, b *zone.Component) int {
			if c := cmp(ComponentGetter(a), ComponentGetter(b)); c != 0 {
				return c
			}
			return strings.Compare(a.ID.String(), b.ID.String())
		})
		fromGo := make([]string, len(matched))
		for i, c := range matched {
			fromGo[i] = c.ID.String()
		}
		// The same order through a Sorter's keys, read once per component.
		so, err := cql.NewSorter(s, q.SortBy)
		if err != nil {
			t.Fatal(err)
		}
		type keyed struct {
			id   string
			keys []any
		}
		byKeys := make([]keyed, len(matched))
		for i, c := range matched {
			byKeys[i] = keyed{c.ID.String(), so.Keys(ComponentGetter(c))}
		}
		slices.SortFunc(byKeys, func(a, b keyed) int {
			if c := so.Compare(a.keys, b.keys); c != 0 {
				return c
			}
			return strings.Compare(a.id, b.id)
		})
		for i := range byKeys {
			if byKeys[i].id != fromGo[i] {
				t.Errorf("%q: Sorter order differs from Comparator order at %d", raw, i)
				break
			}
		}
		if !slices.Equal(fromSQL, fromGo) {
			t.Errorf("%q disagrees:\n SQL %s\n SQL gave %d, Go gave %d", raw, sql, len(fromSQL), len(fromGo))
		}
		if n := len(fromSQL); n > 0 && n < len(stored) || len(q.SortBy) > 0 {
			informative++
		}
	}
	t.Logf("%d queries, %d informative (a proper subset, or an ordering)", len(queries), informative)
	if informative < len(queries)*3/4 {
		t.Errorf("only %d of %d queries are informative: the data does not exercise them", informative, len(queries))
	}
}
