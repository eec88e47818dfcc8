package crs

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"

	"github.com/zoneplan/zoneplan/internal/pgtest"
)

// wgs84Proj4 is WGS84 longitude, latitude for PROJ.
const wgs84Proj4 = "+proj=longlat +datum=WGS84 +no_defs"

// oracleTolerance is the most this package may differ from PROJ, in metres.
const oracleTolerance = 0.01

// northernPoints returns n seeded random WGS84 points over northern Vietnam
// (lon 102.1-108.5, lat 20.5-23.4).
func northernPoints(n int) []orb.Point {
	rng := rand.New(rand.NewPCG(2000, 6960))
	ps := make([]orb.Point, n)
	for i := range ps {
		ps[i] = orb.Point{102.1 + rng.Float64()*6.4, 20.5 + rng.Float64()*2.9}
	}
	return ps
}

// oracle is PROJ in a throwaway PostGIS database. ST_Transform(geom, text,
// text) builds a new PROJ pipeline for every row (about 12 ms), so each CRS
// is registered once in spatial_ref_sys under a private SRID, from its
// pinned PROJ string or from an authority code, and PostGIS caches the
// pipeline.
type oracle struct {
	conn *pgx.Conn
	next int
}

func newOracle(t *testing.T) *oracle {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), pgtest.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return &oracle{conn: conn, next: 910000}
}

// register adds a CRS given by a PROJ string, or by authority and code when
// proj4 is "", and returns its SRID.
func (o *oracle) register(t *testing.T, proj4, auth string, code int) int {
	t.Helper()
	o.next++
	var err error
	if proj4 != "" {
		_, err = o.conn.Exec(context.Background(),
			`INSERT INTO spatial_ref_sys (srid, proj4text) VALUES ($1, $2)`, o.next, proj4)
	} else {
		_, err = o.conn.Exec(context.Background(),
			`INSERT INTO spatial_ref_sys (srid, auth_name, auth_srid) VALUES ($1, $2, $3)`, o.next, auth, code)
	}
	if err != nil {
		t.Fatalf("register %s%s:%d: %v", proj4, auth, code, err)
	}
	return o.next
}

// transform runs PROJ through PostGIS ST_Transform on every point, in order.
func (o *oracle) transform(t *testing.T, from, to int, ps []orb.Point) []orb.Point {
	t.Helper()
	xs, ys := make([]float64, len(ps)), make([]float64, len(ps))
	for i, p := range ps {
		xs[i], ys[i] = p[0], p[1]
	}
	rows, err := o.conn.Query(context.Background(), `
		SELECT ST_X(g), ST_Y(g) FROM (
			SELECT i, ST_Transform(ST_SetSRID(ST_MakePoint(x, y), $1), $2::int) AS g
			FROM unnest($3::float8[], $4::float8[]) WITH ORDINALITY AS t(x, y, i)
		) s ORDER BY i`, from, to, xs, ys)
	if err != nil {
		t.Fatalf("ST_Transform %d -> %d: %v", from, to, err)
	}
	defer rows.Close()
	out := make([]orb.Point, 0, len(ps))
	for rows.Next() {
		var x, y float64
		if err := rows.Scan(&x, &y); err != nil {
			t.Fatal(err)
		}
		out = append(out, orb.Point{x, y})
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("ST_Transform %d -> %d: %v", from, to, err)
	}
	if len(out) != len(ps) {
		t.Fatalf("ST_Transform returned %d points for %d", len(out), len(ps))
	}
	return out
}

// metres is the distance between two points of c, in metres: planar for a
// projected CRS, a local equirectangular approximation (good to 1e-6
// relative at these sizes) for a geographic one.
func metres(c *CRS, a, b orb.Point) float64 {
	if c.Kind == Projected {
		return math.Hypot(a[0]-b[0], a[1]-b[1])
	}
	const rad = math.Pi / 180
	dy := (a[1] - b[1]) * rad * WGS84A
	dx := (a[0] - b[0]) * rad * WGS84A * math.Cos(a[1]*rad)
	return math.Hypot(dx, dy)
}

// TestAgreesWithPROJ holds every supported CRS, and a custom TM-3 zone,
// against PROJ with the datum shift pinned to EPSG:6960 by +towgs84, on
// 1,200 seeded points over northern Vietnam, WGS84 -> CRS and CRS -> WGS84.
func TestAgreesWithPROJ(t *testing.T) {
	o := newOracle(t)
	wgs84 := o.register(t, wgs84Proj4, "", 0)
	ps := northernPoints(1200)
	custom, err := Lookup("VN2000:TM3:106-45")
	if err != nil {
		t.Fatal(err)
	}
	all := append(Supported(), custom)
	var worst float64
	for _, c := range all {
		if c.IsWGS84() {
			continue
		}
		t.Run(c.Code, func(t *testing.T) {
			srid := o.register(t, c.Proj4(), "", 0)
			want := o.transform(t, wgs84, srid, ps)
			var fwd, inv float64
			for i, p := range ps {
				got, err := c.FromWGS84(p)
				if err != nil {
					t.Fatalf("FromWGS84(%v): %v", p, err)
				}
				if d := metres(c, got, want[i]); d > fwd || math.IsNaN(d) {
					fwd = d
				}
			}
			back := o.transform(t, srid, wgs84, want)
			for i, q := range want {
				// The unchecked conversion: points of the common set lie
				// outside the area of use of most zones, and the
				// plausibility check would (rightly) refuse them.
				got := c.toWGS84(q)
				if d := metres(WGS84(), got, back[i]); d > inv || math.IsNaN(d) {
					inv = d
				}
			}
			t.Logf("%s (%s): max difference from PROJ over %d points: WGS84->CRS %.2e m, CRS->WGS84 %.2e m", c.Code, c.Name, len(ps), fwd, inv)
			if fwd > oracleTolerance || inv > oracleTolerance || math.IsNaN(fwd+inv) {
				t.Errorf("%s differs from PROJ by %.4f m forward, %.4f m inverse; tolerance %.2f m", c.Code, fwd, inv, oracleTolerance)
			}
			worst = math.Max(worst, math.Max(fwd, inv))
		})
	}
	t.Logf("worst difference from PROJ over all CRSs and both directions: %.2e m", worst)
}

// TestPROJPicksEPSG6960InTheNorth checks that PROJ's own choice of
// transformation for EPSG codes (no +towgs84 given) agrees with this package
// over northern Vietnam, where it uses EPSG:6960; in the Mekong delta it
// would pick EPSG:5194, which is why the oracle above pins +towgs84.
func TestPROJPicksEPSG6960InTheNorth(t *testing.T) {
	o := newOracle(t)
	ps := northernPoints(1000)
	for _, code := range []string{"EPSG:9215", "EPSG:5899", "EPSG:3405", "EPSG:4756"} {
		c, err := Lookup(code)
		if err != nil {
			t.Fatal(err)
		}
		want := o.transform(t, 4326, o.register(t, "", "EPSG", c.EPSG), ps)
		var worst float64
		for i, p := range ps {
			got, err := c.FromWGS84(p)
			if err != nil {
				t.Fatal(err)
			}
			worst = math.Max(worst, metres(c, got, want[i]))
		}
		t.Logf("%s with PROJ's own operation choice: max difference %.2e m", code, worst)
		if worst > oracleTolerance || math.IsNaN(worst) {
			t.Errorf("%s: PROJ's EPSG pipeline differs by %.4f m", code, worst)
		}
	}
}

// TestMekongDeltaStaysOn6960: in the far south PROJ's own choice for EPSG
// codes is EPSG:5194 (Mekong delta parameters); zoneplan uses EPSG:6960
// everywhere, and agrees with PROJ pinned to it there too. The size of the
// difference from PROJ's unpinned choice is logged: it is why the oracle
// pins +towgs84.
func TestMekongDeltaStaysOn6960(t *testing.T) {
	o := newOracle(t)
	wgs84 := o.register(t, wgs84Proj4, "", 0)
	rng := rand.New(rand.NewPCG(5194, 1))
	ps := make([]orb.Point, 300)
	for i := range ps {
		ps[i] = orb.Point{105.3 + rng.Float64()*1.4, 9.3 + rng.Float64()*1.1}
	}
	for _, code := range []string{"EPSG:9207", "EPSG:9208", "EPSG:3405"} {
		c := Must(code)
		pinned := o.transform(t, wgs84, o.register(t, c.Proj4(), "", 0), ps)
		unpinned := o.transform(t, 4326, o.register(t, "", "EPSG", c.EPSG), ps)
		var worst, projChoice float64
		for i, p := range ps {
			got, err := c.FromWGS84(p)
			if err != nil {
				t.Fatal(err)
			}
			worst = math.Max(worst, metres(c, got, pinned[i]))
			projChoice = math.Max(projChoice, metres(c, got, unpinned[i]))
		}
		t.Logf("%s in the Mekong delta: max difference from PROJ pinned to EPSG:6960 %.2e m; from PROJ's own choice %.3f m", code, worst, projChoice)
		if worst > oracleTolerance || math.IsNaN(worst) {
			t.Errorf("%s: differs from pinned PROJ by %.4f m in the south", code, worst)
		}
	}
}

func BenchmarkToWGS84TM3(b *testing.B) {
	c := Must("EPSG:9215")
	p := orb.Point{448124.408, 2417143.848}
	for b.Loop() {
		if _, err := c.ToWGS84(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFromWGS84TM3(b *testing.B) {
	c := Must("EPSG:9215")
	p := orb.Point{106.75, 21.85}
	for b.Loop() {
		if _, err := c.FromWGS84(p); err != nil {
			b.Fatal(err)
		}
	}
}
